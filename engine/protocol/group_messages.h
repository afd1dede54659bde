// Kafka's consumer-group APIs as in-memory messages: FindCoordinator, JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, DeleteGroups and
// OffsetDelete. The "consumer" protocol's subscription and assignment are carried as structs
// instead of serialised bytes.
#ifndef KSIM_ENGINE_PROTOCOL_GROUP_MESSAGES_H_
#define KSIM_ENGINE_PROTOCOL_GROUP_MESSAGES_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/protocol/messages.h"

namespace ksim {

// ConsumerProtocolSubscription.
struct GroupSubscription {
  std::vector<std::string> topics;
  std::vector<TopicPartition> owned_partitions;  // cooperative / sticky
  int32_t generation = -1;
  std::string rack;
};

// ConsumerProtocolAssignment.
struct GroupAssignment {
  std::vector<TopicPartition> partitions;
};

struct FindCoordinatorRequest : Request {
  FindCoordinatorRequest() : Request(ApiKey::kFindCoordinator) {}
  std::string key;  // group id
};

struct FindCoordinatorResponse : Response {
  FindCoordinatorResponse() : Response(ApiKey::kFindCoordinator) {}
  Error error = Error::kNone;
  BrokerId node_id = kNoBroker;
  NodeId node = kNoNode;
  std::string host;
};

struct JoinGroupRequest : Request {
  JoinGroupRequest() : Request(ApiKey::kJoinGroup) {}
  std::string group_id;
  int32_t session_timeout_ms = 45000;
  int32_t rebalance_timeout_ms = 300000;
  std::string member_id;
  std::string group_instance_id;
  std::string protocol_type = "consumer";
  // Assignor names in preference order, each with the member's subscription.
  std::vector<std::pair<std::string, GroupSubscription>> protocols;
};

struct JoinGroupMember {
  std::string member_id;
  std::string group_instance_id;
  GroupSubscription subscription;
};

struct JoinGroupResponse : Response {
  JoinGroupResponse() : Response(ApiKey::kJoinGroup) {}
  Error error = Error::kNone;
  int32_t generation_id = -1;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  std::vector<JoinGroupMember> members;  // only the leader gets them
};

struct SyncGroupRequest : Request {
  SyncGroupRequest() : Request(ApiKey::kSyncGroup) {}
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::map<std::string, GroupAssignment> assignments;  // leader only
};

struct SyncGroupResponse : Response {
  SyncGroupResponse() : Response(ApiKey::kSyncGroup) {}
  Error error = Error::kNone;
  GroupAssignment assignment;
};

struct HeartbeatRequest : Request {
  HeartbeatRequest() : Request(ApiKey::kHeartbeat) {}
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
};

struct HeartbeatResponse : Response {
  HeartbeatResponse() : Response(ApiKey::kHeartbeat) {}
  Error error = Error::kNone;
};

struct LeaveGroupRequest : Request {
  LeaveGroupRequest() : Request(ApiKey::kLeaveGroup) {}
  std::string group_id;
  std::vector<std::string> members;
};

struct LeaveGroupResponse : Response {
  LeaveGroupResponse() : Response(ApiKey::kLeaveGroup) {}
  Error error = Error::kNone;
};

struct OffsetCommitRequest : Request {
  OffsetCommitRequest() : Request(ApiKey::kOffsetCommit) {}
  int64_t SizeBytes() const override {
    return kRequestHeaderBytes + 24 * static_cast<int64_t>(offsets.size());
  }
  std::string group_id;
  int32_t generation_id = -1;  // -1: a standalone (assign()) consumer
  std::string member_id;
  std::map<TopicPartition, int64_t> offsets;
};

struct OffsetCommitResponse : Response {
  OffsetCommitResponse() : Response(ApiKey::kOffsetCommit) {}
  std::map<TopicPartition, Error> partitions;
};

struct OffsetFetchRequest : Request {
  OffsetFetchRequest() : Request(ApiKey::kOffsetFetch) {}
  std::string group_id;
  std::optional<std::vector<TopicPartition>> partitions;  // nullopt: all
};

struct OffsetFetchResponse : Response {
  OffsetFetchResponse() : Response(ApiKey::kOffsetFetch) {}
  Error error = Error::kNone;
  std::map<TopicPartition, int64_t> offsets;  // -1: no committed offset
};

struct DescribedMember {
  std::string member_id;
  std::string client_id;
  GroupAssignment assignment;
};

struct DescribeGroupsRequest : Request {
  DescribeGroupsRequest() : Request(ApiKey::kDescribeGroups) {}
  std::vector<std::string> groups;
};

struct DescribeGroupsResponse : Response {
  DescribeGroupsResponse() : Response(ApiKey::kDescribeGroups) {}
  struct Group {
    Error error = Error::kNone;
    std::string group_id;
    std::string state;  // Empty, PreparingRebalance, CompletingRebalance, Stable, Dead
    std::string protocol;
    int32_t generation_id = -1;
    std::vector<DescribedMember> members;
  };
  std::vector<Group> groups;
};

// DeleteGroups (kafka-consumer-groups --delete): each group must be Empty (or only hold
// offsets); its offsets and metadata are deleted with tombstones.
struct DeleteGroupsRequest : Request {
  DeleteGroupsRequest() : Request(ApiKey::kDeleteGroups) {}
  std::vector<std::string> groups;
};

struct DeleteGroupsResponse : Response {
  DeleteGroupsResponse() : Response(ApiKey::kDeleteGroups) {}
  // Per group: NONE, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, INVALID_GROUP_ID, NOT_COORDINATOR or
  // COORDINATOR_LOAD_IN_PROGRESS.
  std::map<std::string, Error> results;
};

// OffsetDelete (KIP-496, kafka-consumer-groups --delete-offsets).
struct OffsetDeleteRequest : Request {
  OffsetDeleteRequest() : Request(ApiKey::kOffsetDelete) {}
  std::string group_id;
  std::vector<TopicPartition> partitions;
};

struct OffsetDeleteResponse : Response {
  OffsetDeleteResponse() : Response(ApiKey::kOffsetDelete) {}
  // A group-level error leaves `partitions` empty.
  Error error = Error::kNone;
  // NONE, or GROUP_SUBSCRIBED_TO_TOPIC for a topic the group's members consume.
  std::map<TopicPartition, Error> partitions;
};

}  // namespace ksim

#endif  // KSIM_ENGINE_PROTOCOL_GROUP_MESSAGES_H_
