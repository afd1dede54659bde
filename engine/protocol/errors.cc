#include "engine/protocol/errors.h"

namespace ksim {

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kUnknownServerError: return "UNKNOWN_SERVER_ERROR";
    case Error::kNone: return "NONE";
    case Error::kOffsetOutOfRange: return "OFFSET_OUT_OF_RANGE";
    case Error::kCorruptMessage: return "CORRUPT_MESSAGE";
    case Error::kUnknownTopicOrPartition: return "UNKNOWN_TOPIC_OR_PARTITION";
    case Error::kInvalidFetchSize: return "INVALID_FETCH_SIZE";
    case Error::kLeaderNotAvailable: return "LEADER_NOT_AVAILABLE";
    case Error::kNotLeaderOrFollower: return "NOT_LEADER_OR_FOLLOWER";
    case Error::kRequestTimedOut: return "REQUEST_TIMED_OUT";
    case Error::kBrokerNotAvailable: return "BROKER_NOT_AVAILABLE";
    case Error::kReplicaNotAvailable: return "REPLICA_NOT_AVAILABLE";
    case Error::kMessageTooLarge: return "MESSAGE_TOO_LARGE";
    case Error::kStaleControllerEpoch: return "STALE_CONTROLLER_EPOCH";
    case Error::kNetworkException: return "NETWORK_EXCEPTION";
    case Error::kCoordinatorLoadInProgress: return "COORDINATOR_LOAD_IN_PROGRESS";
    case Error::kCoordinatorNotAvailable: return "COORDINATOR_NOT_AVAILABLE";
    case Error::kNotCoordinator: return "NOT_COORDINATOR";
    case Error::kInvalidTopicException: return "INVALID_TOPIC_EXCEPTION";
    case Error::kRecordListTooLarge: return "RECORD_LIST_TOO_LARGE";
    case Error::kNotEnoughReplicas: return "NOT_ENOUGH_REPLICAS";
    case Error::kNotEnoughReplicasAfterAppend: return "NOT_ENOUGH_REPLICAS_AFTER_APPEND";
    case Error::kInvalidRequiredAcks: return "INVALID_REQUIRED_ACKS";
    case Error::kIllegalGeneration: return "ILLEGAL_GENERATION";
    case Error::kInconsistentGroupProtocol: return "INCONSISTENT_GROUP_PROTOCOL";
    case Error::kInvalidGroupId: return "INVALID_GROUP_ID";
    case Error::kUnknownMemberId: return "UNKNOWN_MEMBER_ID";
    case Error::kInvalidSessionTimeout: return "INVALID_SESSION_TIMEOUT";
    case Error::kRebalanceInProgress: return "REBALANCE_IN_PROGRESS";
    case Error::kInvalidCommitOffsetSize: return "INVALID_COMMIT_OFFSET_SIZE";
    case Error::kTopicAlreadyExists: return "TOPIC_ALREADY_EXISTS";
    case Error::kInvalidPartitions: return "INVALID_PARTITIONS";
    case Error::kInvalidReplicationFactor: return "INVALID_REPLICATION_FACTOR";
    case Error::kInvalidReplicaAssignment: return "INVALID_REPLICA_ASSIGNMENT";
    case Error::kInvalidConfig: return "INVALID_CONFIG";
    case Error::kNotController: return "NOT_CONTROLLER";
    case Error::kInvalidRequest: return "INVALID_REQUEST";
    case Error::kOutOfOrderSequenceNumber: return "OUT_OF_ORDER_SEQUENCE_NUMBER";
    case Error::kDuplicateSequenceNumber: return "DUPLICATE_SEQUENCE_NUMBER";
    case Error::kInvalidProducerEpoch: return "INVALID_PRODUCER_EPOCH";
    case Error::kKafkaStorageError: return "KAFKA_STORAGE_ERROR";
    case Error::kUnknownProducerId: return "UNKNOWN_PRODUCER_ID";
    case Error::kNonEmptyGroup: return "NON_EMPTY_GROUP";
    case Error::kGroupIdNotFound: return "GROUP_ID_NOT_FOUND";
    case Error::kTopicDeletionDisabled: return "TOPIC_DELETION_DISABLED";
    case Error::kFencedLeaderEpoch: return "FENCED_LEADER_EPOCH";
    case Error::kUnknownLeaderEpoch: return "UNKNOWN_LEADER_EPOCH";
    case Error::kUnsupportedCompressionType: return "UNSUPPORTED_COMPRESSION_TYPE";
    case Error::kStaleBrokerEpoch: return "STALE_BROKER_EPOCH";
    case Error::kOffsetNotAvailable: return "OFFSET_NOT_AVAILABLE";
    case Error::kMemberIdRequired: return "MEMBER_ID_REQUIRED";
    case Error::kPreferredLeaderNotAvailable: return "PREFERRED_LEADER_NOT_AVAILABLE";
    case Error::kGroupMaxSizeReached: return "GROUP_MAX_SIZE_REACHED";
    case Error::kEligibleLeadersNotAvailable: return "ELIGIBLE_LEADERS_NOT_AVAILABLE";
    case Error::kElectionNotNeeded: return "ELECTION_NOT_NEEDED";
    case Error::kGroupSubscribedToTopic: return "GROUP_SUBSCRIBED_TO_TOPIC";
  }
  return "UNKNOWN_ERROR_CODE";
}

bool IsRetriable(Error e) {
  switch (e) {
    case Error::kCorruptMessage:
    case Error::kUnknownTopicOrPartition:
    case Error::kLeaderNotAvailable:
    case Error::kNotLeaderOrFollower:
    case Error::kRequestTimedOut:
    case Error::kReplicaNotAvailable:
    case Error::kNetworkException:
    case Error::kCoordinatorLoadInProgress:
    case Error::kCoordinatorNotAvailable:
    case Error::kNotCoordinator:
    case Error::kNotEnoughReplicas:
    case Error::kNotEnoughReplicasAfterAppend:
    case Error::kNotController:
    case Error::kKafkaStorageError:
    case Error::kFencedLeaderEpoch:
    case Error::kUnknownLeaderEpoch:
    case Error::kOffsetNotAvailable:
    case Error::kPreferredLeaderNotAvailable:
    case Error::kEligibleLeadersNotAvailable:
      return true;
    default:
      return false;
  }
}

bool InvalidatesMetadata(Error e) {
  switch (e) {
    case Error::kUnknownTopicOrPartition:
    case Error::kLeaderNotAvailable:
    case Error::kNotLeaderOrFollower:
    case Error::kNetworkException:
    case Error::kKafkaStorageError:
    case Error::kFencedLeaderEpoch:
    case Error::kUnknownLeaderEpoch:
    case Error::kNotCoordinator:
    case Error::kCoordinatorNotAvailable:
      return true;
    default:
      return false;
  }
}

}  // namespace ksim
