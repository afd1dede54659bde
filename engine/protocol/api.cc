#include "engine/protocol/api.h"

namespace ksim {

const char* ApiName(ApiKey api) {
  switch (api) {
    case ApiKey::kProduce: return "Produce";
    case ApiKey::kFetch: return "Fetch";
    case ApiKey::kListOffsets: return "ListOffsets";
    case ApiKey::kMetadata: return "Metadata";
    case ApiKey::kLeaderAndIsr: return "LeaderAndIsr";
    case ApiKey::kStopReplica: return "StopReplica";
    case ApiKey::kUpdateMetadata: return "UpdateMetadata";
    case ApiKey::kOffsetCommit: return "OffsetCommit";
    case ApiKey::kOffsetFetch: return "OffsetFetch";
    case ApiKey::kFindCoordinator: return "FindCoordinator";
    case ApiKey::kJoinGroup: return "JoinGroup";
    case ApiKey::kHeartbeat: return "Heartbeat";
    case ApiKey::kLeaveGroup: return "LeaveGroup";
    case ApiKey::kSyncGroup: return "SyncGroup";
    case ApiKey::kDescribeGroups: return "DescribeGroups";
    case ApiKey::kCreateTopics: return "CreateTopics";
    case ApiKey::kDeleteTopics: return "DeleteTopics";
    case ApiKey::kInitProducerId: return "InitProducerId";
    case ApiKey::kOffsetForLeaderEpoch: return "OffsetForLeaderEpoch";
    case ApiKey::kCreatePartitions: return "CreatePartitions";
    case ApiKey::kDeleteGroups: return "DeleteGroups";
    case ApiKey::kElectLeaders: return "ElectLeaders";
    case ApiKey::kOffsetDelete: return "OffsetDelete";
    case ApiKey::kAlterPartition: return "AlterPartition";
    case ApiKey::kBrokerHeartbeat: return "BrokerHeartbeat";
    case ApiKey::kMetaStore: return "MetaStore";
  }
  return "Unknown";
}

}  // namespace ksim
