// Kafka's protocol error codes (org.apache.kafka.common.protocol.Errors), with their numeric
// codes and names exactly as Kafka prints them, and whether a client may retry them.
#ifndef KSIM_ENGINE_PROTOCOL_ERRORS_H_
#define KSIM_ENGINE_PROTOCOL_ERRORS_H_

#include <cstdint>
#include <string_view>

namespace ksim {

enum class Error : int16_t {
  kUnknownServerError = -1,
  kNone = 0,
  kOffsetOutOfRange = 1,
  kCorruptMessage = 2,
  kUnknownTopicOrPartition = 3,
  kInvalidFetchSize = 4,
  kLeaderNotAvailable = 5,
  kNotLeaderOrFollower = 6,
  kRequestTimedOut = 7,
  kBrokerNotAvailable = 8,
  kReplicaNotAvailable = 9,
  kMessageTooLarge = 10,
  kStaleControllerEpoch = 11,
  kNetworkException = 13,
  kCoordinatorLoadInProgress = 14,
  kCoordinatorNotAvailable = 15,
  kNotCoordinator = 16,
  kInvalidTopicException = 17,
  kRecordListTooLarge = 18,
  kNotEnoughReplicas = 19,
  kNotEnoughReplicasAfterAppend = 20,
  kInvalidRequiredAcks = 21,
  kIllegalGeneration = 22,
  kInconsistentGroupProtocol = 23,
  kInvalidGroupId = 24,
  kUnknownMemberId = 25,
  kInvalidSessionTimeout = 26,
  kRebalanceInProgress = 27,
  kInvalidCommitOffsetSize = 28,
  kTopicAlreadyExists = 36,
  kInvalidPartitions = 37,
  kInvalidReplicationFactor = 38,
  kInvalidReplicaAssignment = 39,
  kInvalidConfig = 40,
  kNotController = 41,
  kInvalidRequest = 42,
  kOutOfOrderSequenceNumber = 45,
  kDuplicateSequenceNumber = 46,
  kInvalidProducerEpoch = 47,
  kKafkaStorageError = 56,
  kUnknownProducerId = 59,
  kNonEmptyGroup = 68,
  kGroupIdNotFound = 69,
  kTopicDeletionDisabled = 73,
  kFencedLeaderEpoch = 74,
  kUnknownLeaderEpoch = 75,
  kUnsupportedCompressionType = 76,
  kStaleBrokerEpoch = 77,
  kOffsetNotAvailable = 78,
  kMemberIdRequired = 79,
  kPreferredLeaderNotAvailable = 80,
  kGroupMaxSizeReached = 81,
  kEligibleLeadersNotAvailable = 83,
  kElectionNotNeeded = 84,
  kGroupSubscribedToTopic = 86,
};

// Kafka's name, e.g. "NOT_LEADER_OR_FOLLOWER".
const char* ErrorName(Error e);
inline int16_t ErrorCode(Error e) { return static_cast<int16_t>(e); }
// Whether Kafka classifies the error as retriable (a RetriableException subclass).
bool IsRetriable(Error e);
// Errors after which a client should refresh its metadata before retrying.
bool InvalidatesMetadata(Error e);

}  // namespace ksim

#endif  // KSIM_ENGINE_PROTOCOL_ERRORS_H_
