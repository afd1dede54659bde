#include "engine/replication/replica_fetcher.h"

#include "absl/strings/str_cat.h"
#include "engine/protocol/java_hash.h"
#include "engine/runtime/check.h"

namespace ksim {

int32_t FetcherId(const TopicPartition& tp, int32_t fetchers) {
  KSIM_CHECK(fetchers >= 1);
  // Java int arithmetic wraps: compute unsigned, then read it back as an int.
  const uint32_t mixed = 31u * static_cast<uint32_t>(JavaStringHashCode(tp.topic)) +
                         static_cast<uint32_t>(tp.partition);
  return KafkaAbs(static_cast<int32_t>(mixed)) % fetchers;
}

ReplicaFetcher::Shared::Shared(Runtime& r, const BrokerSettings& s, NodeId node,
                               PartitionLookup l)
    : rt(r), settings(s), lookup(std::move(l)),
      client(r, node, absl::StrCat("replica-fetcher-", s.broker_id)) {}

ReplicaFetcher::ReplicaFetcher(Runtime& rt, const BrokerSettings& settings, BrokerId leader,
                               NodeId leader_node, PartitionLookup lookup)
    : leader_(leader),
      state_(std::make_shared<Shared>(rt, settings, leader_node, std::move(lookup))) {
  auto state = state_;
  rt.Spawn(absl::StrCat("fetcher->", leader), [state] { Loop(state); });
}

ReplicaFetcher::~ReplicaFetcher() {
  state_->stopped = true;
  state_->wakeup.Set();
}

void ReplicaFetcher::Add(const TopicPartition& tp) {
  state_->partitions[tp] = FetchState{};
  state_->wakeup.Set();
}

void ReplicaFetcher::Remove(const TopicPartition& tp) { state_->partitions.erase(tp); }

void ReplicaFetcher::Loop(std::shared_ptr<Shared> state) {
  while (!state->stopped) {
    if (state->partitions.empty()) {
      state->wakeup = Event();
      state->wakeup.Wait(kForever);
      continue;
    }
    Truncate(*state);
    if (state->stopped) return;
    if (!FetchOnce(*state) && !state->stopped) {
      state->rt.Sleep(state->settings.replica_fetch_backoff_ns);
    }
  }
}

void ReplicaFetcher::Truncate(Shared& state) {
  auto req = std::make_shared<OffsetsForLeaderEpochRequest>();
  req->replica_id = state.settings.broker_id;
  // Truncation may block (the log's write lock), and the partition set may change meanwhile:
  // walk a copy of the keys and look each one up again.
  std::vector<TopicPartition> tps;
  for (const auto& [tp, fs] : state.partitions) {
    if (fs.needs_truncation) tps.push_back(tp);
  }
  for (const TopicPartition& tp : tps) {
    Partition* p = state.lookup(tp);
    if (p == nullptr || state.partitions.count(tp) == 0) continue;
    if (state.settings.truncation == TruncationRule::kHighWatermark) {
      p->TruncateForNewLeader(std::nullopt);
      auto it = state.partitions.find(tp);
      if (it != state.partitions.end()) it->second.needs_truncation = false;
      continue;
    }
    req->partitions[tp] = {p->leader_epoch(), p->latest_epoch()};
  }
  if (req->partitions.empty()) return;
  auto resp = state.client.Call(req, DeadlineAfter(state.rt.Now(), 30 * kSecond));
  if (state.stopped || !resp.ok()) return;
  const auto& r = static_cast<const OffsetsForLeaderEpochResponse&>(**resp);
  for (const auto& [tp, answer] : r.partitions) {
    Partition* p = state.lookup(tp);
    if (state.partitions.count(tp) == 0 || p == nullptr || answer.error != Error::kNone) continue;
    // An empty epoch cache (a fresh replica) has nothing to truncate by epoch.
    if (p->latest_epoch() >= 0) {
      p->TruncateForNewLeader(EpochEndOffset{answer.leader_epoch, answer.end_offset});
    }
    auto it = state.partitions.find(tp);
    if (it != state.partitions.end()) it->second.needs_truncation = false;
  }
}

bool ReplicaFetcher::FetchOnce(Shared& state) {
  auto req = std::make_shared<FetchRequest>();
  req->replica_id = state.settings.broker_id;
  req->max_wait_ms = state.settings.replica_fetch_wait_max_ms;
  req->min_bytes = state.settings.replica_fetch_min_bytes;
  req->max_bytes = state.settings.replica_fetch_response_max_bytes;
  for (const auto& [tp, fs] : state.partitions) {
    if (fs.needs_truncation) continue;
    Partition* p = state.lookup(tp);
    if (p == nullptr || p->is_leader()) continue;
    FetchPartition fp;
    fp.current_leader_epoch = p->leader_epoch();
    fp.fetch_offset = p->log_end_offset();
    // The old high-watermark rule predates epochs in fetches (KIP-320 / KIP-595): without
    // them the leader cannot tell a follower that its log diverged.
    fp.last_fetched_epoch = state.settings.truncation == TruncationRule::kHighWatermark
                                ? -1
                                : p->latest_epoch();
    fp.partition_max_bytes = state.settings.replica_fetch_max_bytes;
    req->partitions[tp] = fp;
  }
  // Nothing fetchable (all waiting for truncation or for the partition to appear): back off
  // rather than spin.
  if (req->partitions.empty()) return false;
  auto resp = state.client.Call(req, DeadlineAfter(state.rt.Now(), 30 * kSecond));
  if (state.stopped) return true;
  if (!resp.ok()) return false;
  const auto& r = static_cast<const FetchResponse&>(**resp);
  bool all_ok = true;
  for (const auto& [tp, pr] : r.partitions) {
    Partition* p = state.lookup(tp);
    if (p == nullptr || p->is_leader() || state.partitions.count(tp) == 0) continue;
    // A response for a log that changed meanwhile (truncated, or re-followed after a new
    // LeaderAndIsr) is stale: drop it and fetch again from the current end.
    auto sent = req->partitions.find(tp);
    if (sent == req->partitions.end() || sent->second.fetch_offset != p->log_end_offset() ||
        sent->second.current_leader_epoch != p->leader_epoch() ||
        state.partitions[tp].needs_truncation) {
      continue;
    }
    switch (pr.error) {
      case Error::kNone:
        if (!p->ApplyFetchedData(pr).ok()) all_ok = false;
        break;
      case Error::kOffsetOutOfRange:
        // Our log end is past the leader's (an unclean leader) or below its start: truncate
        // to what the leader has.
        state.partitions[tp].needs_truncation = true;
        all_ok = false;
        break;
      default:
        // Not leader / fenced / unknown epoch: wait for the controller's LeaderAndIsr.
        all_ok = false;
        break;
    }
  }
  return all_ok;
}

}  // namespace ksim
