// The records the group coordinator keeps in the compacted topic __consumer_offsets, as
// in-memory payloads (Kafka's OffsetCommitKey/Value and GroupMetadataKey/Value schemas).
//
// A record's key is identified by a stable hash (FNV-1a, identical across runs), which is what
// the log cleaner compacts by. A batch carries one payload for all its records; after cleaning,
// only the records still in the batch apply (a reader checks each key hash against the batch's
// surviving records). A tombstone is a record with a null value (value_size -1): the cleaner
// drops the records it supersedes and, after delete.retention.ms, the tombstone itself.
#ifndef KSIM_ENGINE_COORDINATOR_OFFSETS_RECORDS_H_
#define KSIM_ENGINE_COORDINATOR_OFFSETS_RECORDS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/protocol/group_messages.h"

namespace ksim {

// The value of commit records: one batch per OffsetCommit request.
struct OffsetCommitValue : Payload {
  std::string group;
  int32_t generation = 0;  // lets a new coordinator continue the generation sequence
  // Kafka's commit_timestamp: when the coordinator accepted the commit. Offsets of standalone
  // groups (and unsubscribed topics of Stable groups) expire offsets.retention.minutes after it.
  int64_t commit_timestamp_ms = 0;
  std::map<TopicPartition, int64_t> offsets;
};

// The value of a group metadata record (Kafka's GroupMetadataValue, version 3).
struct GroupMetadataValue : Payload {
  std::string group;
  int32_t generation = 0;
  std::string protocol_type;
  std::string protocol;
  std::string leader;
  // Kafka's current_state_timestamp: when the group entered its current state. The offsets of
  // an Empty group expire offsets.retention.minutes after it, also after a failover.
  int64_t current_state_timestamp_ms = 0;
  struct MemberValue {
    std::string id, instance_id, client_id;
    DurationNs session_timeout_ns = 0;
    DurationNs rebalance_timeout_ns = 0;
    std::vector<std::pair<std::string, GroupSubscription>> protocols;
    GroupAssignment assignment;
  };
  std::vector<MemberValue> members;
};

// What a batch of tombstones deletes: the commit keys of `offsets` and, with `group_metadata`,
// the group's metadata key (which Kafka writes only for a group that had a generation).
struct TombstonesValue : Payload {
  std::string group;
  std::vector<TopicPartition> offsets;
  bool group_metadata = false;
};

namespace offsets_records_internal {
inline uint64_t Fnv1a(uint64_t h, const std::string& s) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}
inline constexpr uint64_t kFnvOffsetBasis = 14695981039346656037ull;
}  // namespace offsets_records_internal

// The key of a commit record: (group, topic, partition), as Kafka's OffsetCommitKey.
inline int64_t OffsetKeyHash(const std::string& group, const TopicPartition& tp) {
  using offsets_records_internal::Fnv1a;
  uint64_t h = offsets_records_internal::kFnvOffsetBasis;
  for (const std::string& part : {group, tp.topic, std::to_string(tp.partition)}) {
    h = Fnv1a(h, part);
    h = (h ^ 0xff) * 1099511628211ull;  // separator
  }
  return static_cast<int64_t>(h);
}

// The key of a group metadata record (Kafka's GroupMetadataKey).
inline int64_t GroupKeyHash(const std::string& group) {
  using offsets_records_internal::Fnv1a;
  return static_cast<int64_t>(Fnv1a(offsets_records_internal::kFnvOffsetBasis,
                                    std::string("group-metadata\xff") + group));
}

// Bytes of the serialised keys and values, for the log's size accounting.
inline int32_t OffsetKeyBytes(const std::string& group, const TopicPartition& tp) {
  return static_cast<int32_t>(group.size() + tp.topic.size() + 8);
}
inline int32_t GroupKeyBytes(const std::string& group) {
  return static_cast<int32_t>(group.size() + 4);
}
inline constexpr int32_t kOffsetValueBytes = 24;
inline constexpr int32_t kTombstoneValueBytes = -1;  // a null value

}  // namespace ksim

#endif  // KSIM_ENGINE_COORDINATOR_OFFSETS_RECORDS_H_
