// The group coordinator's deletions, all written to __consumer_offsets as tombstones:
// offset expiration (offsets.retention.minutes, KIP-211), DeleteGroups and OffsetDelete
// (KIP-496), following Kafka 3.x's GroupMetadata.removeExpiredOffsets and
// GroupMetadataManager.cleanupGroupMetadata.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/coordinator/group_coordinator.h"
#include "engine/log/record_batch.h"
#include "engine/runtime/check.h"

namespace ksim {
namespace {

const char* RemovalName(OffsetRemoval why) {
  switch (why) {
    case OffsetRemoval::kExpired: return "expired";
    case OffsetRemoval::kGroupDeleted: return "group deleted";
    case OffsetRemoval::kOffsetsDeleted: return "offsets deleted";
    case OffsetRemoval::kTopicDeleted: return "topic deleted";
  }
  return "?";
}

}  // namespace

void GroupCoordinator::ExpirationLoop() {
  // Kafka schedules the first pass one interval after startup, then one every interval.
  for (;;) {
    rt_.Sleep(retention_check_interval_ns_);
    ExpireOffsets();
  }
}

int64_t GroupCoordinator::RemoveOffsetsFromGroups(
    const std::function<std::vector<TopicPartition>(const Group&)>& pick, OffsetRemoval why) {
  // Every group is settled in memory first; the appends (which block) come after.
  std::vector<Tombstones> writes;
  int64_t removed = 0;
  std::vector<std::string> ids;
  for (const auto& [id, g] : groups_) ids.push_back(id);
  for (const std::string& id : ids) {
    auto it = groups_.find(id);
    if (it == groups_.end() || CheckCoordinator(id) != Error::kNone) continue;
    Tombstones t = RemoveOffsets(it->second, pick(it->second), why);
    removed += static_cast<int64_t>(t.offsets.size());
    if (!t.offsets.empty() || t.group_metadata) writes.push_back(std::move(t));
  }
  for (const Tombstones& t : writes) AppendTombstones(t);
  return removed;
}

int64_t GroupCoordinator::ExpireOffsets() {
  const int64_t now_ms = rt_.Now() / kMillisecond;
  return RemoveOffsetsFromGroups(
      [this, now_ms](const Group& g) { return ExpiredOffsets(g, now_ms); },
      OffsetRemoval::kExpired);
}

void GroupCoordinator::OnTopicsDeleted(const std::vector<std::string>& topics) {
  std::set<std::string> gone(topics.begin(), topics.end());
  rt_.Spawn("offsets-of-deleted-topics", [this, gone] { RemoveOffsetsOfTopics(gone); });
}

int64_t GroupCoordinator::RemoveOffsetsOfTopics(const std::set<std::string>& topics) {
  return RemoveOffsetsFromGroups(
      [&topics](const Group& g) {
        std::vector<TopicPartition> of_deleted;
        for (const auto& [tp, c] : g.offsets) {
          if (topics.count(tp.topic) > 0) of_deleted.push_back(tp);
        }
        return of_deleted;
      },
      OffsetRemoval::kTopicDeleted);
}

std::vector<TopicPartition> GroupCoordinator::ExpiredOffsets(const Group& g,
                                                             int64_t now_ms) const {
  // Empty group of some protocol: all offsets, counting from when the group became Empty.
  const bool empty = !g.protocol_type.empty() && g.state == State::kEmpty;
  // Stable consumer group: offsets of topics no member subscribes to, from their commit.
  const bool stable = g.protocol_type == "consumer" && g.subscribed_topics.has_value() &&
                      g.state == State::kStable;
  // Standalone group (offset storage only): every offset, from its commit.
  const bool standalone = g.protocol_type.empty();
  std::vector<TopicPartition> expired;
  if (!empty && !stable && !standalone) return expired;
  for (const auto& [tp, c] : g.offsets) {
    if (g.pending_commits.count(tp) > 0) continue;
    if (stable && g.subscribed_topics->count(tp.topic) > 0) continue;
    const int64_t since_ms = empty ? g.state_timestamp_ms : c.commit_timestamp_ms;
    if (now_ms - since_ms >= offsets_retention_ms_) expired.push_back(tp);
  }
  return expired;
}

GroupCoordinator::Tombstones GroupCoordinator::RemoveOffsets(
    Group& g, const std::vector<TopicPartition>& removed, OffsetRemoval why) {
  Tombstones t;
  t.group = g.id;
  t.why = why;
  for (const TopicPartition& tp : removed) {
    g.pending_commits.erase(tp);
    if (g.offsets.erase(tp) > 0) t.offsets.push_back(tp);
  }
  if (g.state == State::kEmpty && !HasOffsets(g)) SetState(g, State::kDead);
  if (g.state == State::kDead) {
    // Kafka writes no metadata tombstone for a group of generation 0: it only stored offsets.
    t.group_metadata = g.generation > 0;
    rt_.Trace("group-dead", absl::StrCat("group ", g.id, " generation ", g.generation, " (",
                                         RemovalName(why), ")"));
    ForgetGroup(t.group);  // `g` is gone
  }
  return t;
}

void GroupCoordinator::ForgetGroup(const std::string& id) {
  auto it = groups_.find(id);
  if (it == groups_.end()) return;
  if (it->second.join_done) it->second.join_done->Set();
  if (it->second.sync_done) it->second.sync_done->Set();
  groups_.erase(it);
}

void GroupCoordinator::AppendTombstones(const Tombstones& t) {
  if (t.offsets.empty() && !t.group_metadata) return;
  const TopicPartition otp{kOffsetsTopic, PartitionFor(t.group)};
  Partition* p = broker_.FindPartition(otp);
  if (p == nullptr || !p->is_leader()) return;  // a later coordinator deletes them again
  const int64_t now_ms = rt_.Now() / kMillisecond;
  auto value = std::make_shared<TombstonesValue>();
  value->group = t.group;
  value->offsets = t.offsets;
  value->group_metadata = t.group_metadata;
  RecordBatchBuilder builder;
  for (const TopicPartition& tp : t.offsets) {
    builder.Add(0, OffsetKeyHash(t.group, tp), OffsetKeyBytes(t.group, tp),
                kTombstoneValueBytes, now_ms);
  }
  if (t.group_metadata) {
    builder.Add(0, GroupKeyHash(t.group), GroupKeyBytes(t.group), kTombstoneValueBytes, now_ms);
  }
  builder.set_payload(value);
  ProducePartitionResponse pr =
      p->Produce(builder.Build(1.0), /*acks=*/1, DeadlineAfter(rt_.Now(), 5 * kSecond));
  rt_.Trace("tombstones", absl::StrCat("group ", t.group, " (", RemovalName(t.why), "): ",
                                       t.offsets.size(), " offsets",
                                       t.group_metadata ? " and its metadata" : "", ": ",
                                       ErrorName(pr.error)));
}

std::shared_ptr<Response> GroupCoordinator::DeleteGroups(const DeleteGroupsRequest& r) {
  auto resp = std::make_shared<DeleteGroupsResponse>();
  std::vector<std::string> eligible;
  // A set of groups, as Kafka's handler takes it.
  for (const std::string& id : std::set<std::string>(r.groups.begin(), r.groups.end())) {
    Error e = id.empty() ? Error::kInvalidGroupId : CheckCoordinator(id);
    if (e == Error::kNone) {
      auto it = groups_.find(id);
      if (it == groups_.end() || it->second.state == State::kDead) {
        e = Error::kGroupIdNotFound;
      } else if (it->second.state == State::kEmpty) {
        SetState(it->second, State::kDead);
        eligible.push_back(id);
      } else {
        e = Error::kNonEmptyGroup;
      }
    }
    resp->results[id] = e;
  }
  std::vector<Tombstones> writes;
  for (const std::string& id : eligible) {
    auto it = groups_.find(id);
    KSIM_CHECK(it != groups_.end() && it->second.state == State::kDead);
    std::vector<TopicPartition> all;
    for (const auto& [tp, c] : it->second.offsets) all.push_back(tp);
    writes.push_back(RemoveOffsets(it->second, all, OffsetRemoval::kGroupDeleted));
    KSIM_CHECK(groups_.count(id) == 0);
  }
  for (const Tombstones& t : writes) AppendTombstones(t);
  return resp;
}

std::shared_ptr<Response> GroupCoordinator::OffsetDelete(const OffsetDeleteRequest& r) {
  auto resp = std::make_shared<OffsetDeleteResponse>();
  resp->error = r.group_id.empty() ? Error::kInvalidGroupId : CheckCoordinator(r.group_id);
  if (resp->error != Error::kNone) return resp;
  auto it = groups_.find(r.group_id);
  if (it == groups_.end() || it->second.state == State::kDead) {
    resp->error = Error::kGroupIdNotFound;
    return resp;
  }
  Group& g = it->second;
  std::vector<TopicPartition> eligible;
  if (g.state == State::kEmpty) {
    eligible = r.partitions;
  } else if (g.protocol_type == "consumer") {
    // Offsets of topics the members consume stay; unknown subscriptions count as consumed.
    for (const TopicPartition& tp : r.partitions) {
      if (!g.subscribed_topics || g.subscribed_topics->count(tp.topic) > 0) {
        resp->partitions[tp] = Error::kGroupSubscribedToTopic;
      } else {
        eligible.push_back(tp);
      }
    }
  } else {
    resp->error = Error::kNonEmptyGroup;
    return resp;
  }
  if (eligible.empty()) return resp;
  for (const TopicPartition& tp : eligible) resp->partitions[tp] = Error::kNone;
  AppendTombstones(RemoveOffsets(g, eligible, OffsetRemoval::kOffsetsDeleted));
  return resp;
}

}  // namespace ksim
