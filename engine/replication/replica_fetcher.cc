#include "engine/replication/replica_fetcher.h"

#include "absl/strings/str_cat.h"
#include "engine/runtime/check.h"

namespace ksim {

ReplicaFetcher::ReplicaFetcher(Runtime& rt, const BrokerSettings& settings, BrokerId leader,
                               NodeId leader_node, PartitionLookup lookup)
    : rt_(rt), settings_(settings), leader_(leader), lookup_(std::move(lookup)),
      client_(rt, leader_node, absl::StrCat("replica-fetcher-", settings.broker_id)),
      state_(std::make_shared<Shared>()) {
  auto state = state_;
  rt_.Spawn(absl::StrCat("fetcher->", leader), [this, state] { Loop(state); });
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
  // `this` is valid while !state->stopped: the destructor sets it before freeing.
  while (!state->stopped) {
    if (state->partitions.empty()) {
      state->wakeup = Event();
      state->wakeup.Wait(kForever);
      continue;
    }
    Truncate(*state);
    if (state->stopped) return;
    if (!FetchOnce(*state) && !state->stopped) rt_.Sleep(settings_.replica_fetch_backoff_ns);
  }
}

void ReplicaFetcher::Truncate(Shared& state) {
  auto req = std::make_shared<OffsetsForLeaderEpochRequest>();
  req->replica_id = settings_.broker_id;
  for (auto& [tp, fs] : state.partitions) {
    if (!fs.needs_truncation) continue;
    Partition* p = lookup_(tp);
    if (p == nullptr) continue;
    if (settings_.truncation == TruncationRule::kHighWatermark) {
      p->TruncateForNewLeader(std::nullopt);
      fs.needs_truncation = false;
      continue;
    }
    req->partitions[tp] = {p->leader_epoch(), p->latest_epoch()};
  }
  if (req->partitions.empty()) return;
  auto resp = client_.Call(req, DeadlineAfter(rt_.Now(), 30 * kSecond));
  if (state.stopped || !resp.ok()) return;
  const auto& r = static_cast<const OffsetsForLeaderEpochResponse&>(**resp);
  for (const auto& [tp, answer] : r.partitions) {
    auto it = state.partitions.find(tp);
    Partition* p = lookup_(tp);
    if (it == state.partitions.end() || p == nullptr || answer.error != Error::kNone) continue;
    if (p->latest_epoch() < 0) {
      // An empty epoch cache (a fresh replica) has nothing to truncate by epoch.
      it->second.needs_truncation = false;
      continue;
    }
    p->TruncateForNewLeader(EpochEndOffset{answer.leader_epoch, answer.end_offset});
    it->second.needs_truncation = false;
  }
}

bool ReplicaFetcher::FetchOnce(Shared& state) {
  auto req = std::make_shared<FetchRequest>();
  req->replica_id = settings_.broker_id;
  req->max_wait_ms = settings_.replica_fetch_wait_max_ms;
  req->min_bytes = settings_.replica_fetch_min_bytes;
  req->max_bytes = settings_.replica_fetch_response_max_bytes;
  for (const auto& [tp, fs] : state.partitions) {
    if (fs.needs_truncation) continue;
    Partition* p = lookup_(tp);
    if (p == nullptr || p->is_leader()) continue;
    FetchPartition fp;
    fp.current_leader_epoch = p->leader_epoch();
    fp.fetch_offset = p->log_end_offset();
    fp.last_fetched_epoch = p->latest_epoch();
    fp.partition_max_bytes = settings_.replica_fetch_max_bytes;
    req->partitions[tp] = fp;
  }
  if (req->partitions.empty()) return true;
  auto resp = client_.Call(req, DeadlineAfter(rt_.Now(), 30 * kSecond));
  if (state.stopped) return true;
  if (!resp.ok()) return false;
  const auto& r = static_cast<const FetchResponse&>(**resp);
  bool all_ok = true;
  for (const auto& [tp, pr] : r.partitions) {
    Partition* p = lookup_(tp);
    if (p == nullptr || p->is_leader() || state.partitions.count(tp) == 0) continue;
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
