#include "engine/broker/partition.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/log/compression.h"
#include "engine/log/record_batch.h"
#include "engine/runtime/check.h"

namespace ksim {
namespace {

int64_t NowMs(Runtime& rt) { return rt.Now() / kMillisecond; }

std::string IsrString(const std::vector<BrokerId>& isr) {
  return absl::StrCat("[", absl::StrJoin(isr, ","), "]");
}

bool Contains(const std::vector<BrokerId>& v, BrokerId b) {
  return std::find(v.begin(), v.end(), b) != v.end();
}

}  // namespace

Partition::Partition(Runtime& rt, TopicPartition tp, std::unique_ptr<PartitionLog> log,
                     const BrokerSettings& broker)
    : rt_(rt), tp_(std::move(tp)), log_(std::move(log)), broker_(broker) {
  RebuildProducerState();
}

int64_t Partition::high_watermark() const { return log_->high_watermark(); }
int64_t Partition::log_end_offset() const { return log_->log_end_offset(); }
int32_t Partition::latest_epoch() const { return log_->LatestEpoch(); }

void Partition::RebuildProducerState() {
  producers_.Clear();
  int64_t offset = log_->log_start_offset();
  while (offset < log_->log_end_offset()) {
    auto read = log_->Read(offset, 1 << 20, log_->log_end_offset(), /*min_one_message=*/true);
    if (!read.ok() || read->empty()) break;
    for (const BatchPtr& b : *read) {
      producers_.Record(b->producer_id(), b->producer_epoch(),
                        BatchSequence{b->base_sequence(), b->last_sequence(), b->base_offset(),
                                      b->last_offset()});
      offset = b->last_offset() + 1;
    }
  }
}

bool Partition::AcceptEpoch(const PartitionState& state) {
  // A LeaderAndIsr with an older leader epoch is stale (Kafka answers STALE_CONTROLLER_EPOCH or
  // FENCED_LEADER_EPOCH); the same epoch is accepted again (idempotent resend).
  if (state.leader_epoch < leader_epoch_) return false;
  KSIM_CHECK_MSG(state.leader_epoch >= leader_epoch_, "leader epochs never go backwards");
  stopped_ = false;
  leader_ = state.leader;
  leader_epoch_ = state.leader_epoch;
  partition_epoch_ = state.partition_epoch;
  isr_ = state.isr;
  replicas_ = state.replicas;
  return true;
}

bool Partition::BecomeLeader(const PartitionState& state, const TopicSettings& settings) {
  KSIM_CHECK(state.leader == broker_.broker_id);
  const bool new_epoch = state.leader_epoch > leader_epoch_;
  if (!AcceptEpoch(state)) return false;
  settings_ = settings;
  log_->set_config(ToLogConfig(settings));
  if (new_epoch) {
    // The new epoch starts at our log end: the leader-epoch cache is what followers truncate by.
    log_->AssignEpoch(leader_epoch_, log_->log_end_offset());
    leader_epoch_start_offset_ = log_->log_end_offset();
    followers_.clear();
    for (BrokerId r : replicas_) {
      if (r == broker_.broker_id) continue;
      FollowerState f;
      f.last_caught_up = Contains(isr_, r) ? rt_.Now() : 0;
      followers_[r] = f;
    }
  }
  rt_.Trace("become-leader", absl::StrCat(tp_.ToString(), " epoch=", leader_epoch_,
                                          " isr=", IsrString(isr_),
                                          " leo=", log_->log_end_offset(),
                                          " hw=", log_->high_watermark()));
  MaybeAdvanceHighWatermark();
  Notify();
  return true;
}

bool Partition::BecomeFollower(const PartitionState& state, const TopicSettings& settings) {
  KSIM_CHECK(state.leader != broker_.broker_id);
  if (!AcceptEpoch(state)) return false;
  settings_ = settings;
  log_->set_config(ToLogConfig(settings));
  followers_.clear();
  rt_.Trace("become-follower", absl::StrCat(tp_.ToString(), " epoch=", leader_epoch_,
                                            " leader=", leader_, " leo=",
                                            log_->log_end_offset(),
                                            " hw=", log_->high_watermark()));
  Notify();  // delayed produces and fetches re-check leadership
  return true;
}

void Partition::Notify() {
  data_waiters_.NotifyAll();
  fetch_waiters_.NotifyAll();
  if (broker_waiters_ != nullptr) broker_waiters_->NotifyAll();
}

void Partition::Stop() {
  stopped_ = true;
  leader_ = kNoBroker;
  Notify();
}

void Partition::SetHighWatermark(int64_t hw) {
  KSIM_CHECK_MSG(hw <= log_->log_end_offset(), "HW <= LEO");
  if (hw == log_->high_watermark()) return;
  log_->UpdateHighWatermark(hw);
  Notify();
}

void Partition::MaybeAdvanceHighWatermark() {
  if (!is_leader()) return;
  int64_t hw = log_->log_end_offset();
  for (BrokerId r : isr_) {
    if (r == broker_.broker_id) continue;
    auto it = followers_.find(r);
    if (it == followers_.end() || it->second.log_end_offset < 0) return;  // unknown yet
    hw = std::min(hw, it->second.log_end_offset);
  }
  if (hw > log_->high_watermark()) SetHighWatermark(hw);
}

ProducePartitionResponse Partition::Produce(BatchPtr batch, int16_t acks, TimeNs deadline) {
  return AwaitAcks(Append(std::move(batch), acks), deadline);
}

Partition::PendingProduce Partition::Append(BatchPtr batch, int16_t acks) {
  PendingProduce pending;
  ProducePartitionResponse& r = pending.response;
  if (is_leader() && !stopped_) {
    // As Kafka's LogValidator: a compressed batch is decompressed to validate its records, and
    // a topic whose compression.type names another codec gets it recompressed, at this broker's
    // CPU cost. Charged before the checks below, which must see the state after the wait.
    const Codec src = static_cast<Codec>(batch->compression());
    double cpu_ns = static_cast<double>(batch->raw_bytes()) * CostOf(src).decompress_ns_per_byte;
    if (settings_.compression_type != "producer") {
      const Codec dst = CodecFromName(settings_.compression_type);
      if (dst != src) {
        cpu_ns += static_cast<double>(batch->raw_bytes()) * CostOf(dst).compress_ns_per_byte;
        batch = batch->WithCompression(static_cast<int8_t>(dst), CostOf(dst).ratio);
        ++recompressed_batches_;
      }
    }
    if (cpu_ns >= 1) rt_.Compute(static_cast<DurationNs>(cpu_ns));
  }
  if (!is_leader() || stopped_) {
    r.error = Error::kNotLeaderOrFollower;
    return pending;
  }
  if (acks == -1 && static_cast<int32_t>(isr_.size()) < settings_.min_insync_replicas) {
    r.error = Error::kNotEnoughReplicas;
    r.error_message = absl::StrCat("ISR ", IsrString(isr_), " is smaller than min.insync.replicas=",
                                   settings_.min_insync_replicas);
    return pending;
  }
  if (BatchSizeBytes(*batch) > settings_.max_message_bytes) {
    r.error = Error::kMessageTooLarge;
    return pending;
  }
  auto verdict = producers_.Check(batch->producer_id(), batch->producer_epoch(),
                                  batch->base_sequence(), batch->last_sequence());
  if (verdict.error != Error::kNone) {
    r.error = verdict.error;
    return pending;
  }
  int64_t first_offset, last_offset;
  if (verdict.duplicate) {
    // A retried batch that was already appended: answer with the original offsets.
    first_offset = verdict.duplicate_first_offset;
    last_offset = first_offset + batch->record_count() - 1;
  } else {
    auto info = log_->AppendAsLeader(batch, leader_epoch_, NowMs(rt_));
    if (!info.ok()) {
      r.error = Error::kKafkaStorageError;
      r.error_message = std::string(info.status().message());
      return pending;
    }
    first_offset = info->first_offset;
    last_offset = info->last_offset;
    producers_.Record(batch->producer_id(), batch->producer_epoch(),
                      BatchSequence{batch->base_sequence(), batch->last_sequence(), first_offset,
                                    last_offset});
    Notify();
    MaybeAdvanceHighWatermark();
  }
  r.base_offset = first_offset;
  r.log_start_offset = log_->log_start_offset();
  if (acks == -1) {
    pending.await_acks = true;
    pending.last_offset = last_offset;
    pending.epoch = leader_epoch_;
  }
  return pending;
}

ProducePartitionResponse Partition::AwaitAcks(const PendingProduce& pending, TimeNs deadline) {
  ProducePartitionResponse r = pending.response;
  if (!pending.await_acks) return r;
  // acks=all: a delayed produce, completed when the HW passes the batch.
  const int32_t epoch = pending.epoch;
  const int64_t last_offset = pending.last_offset;
  while (log_->high_watermark() <= last_offset) {
    if (!is_leader() || leader_epoch_ != epoch || stopped_) {
      r.error = Error::kNotLeaderOrFollower;
      return r;
    }
    if (data_waiters_.Wait(deadline) == WakeReason::kTimedOut &&
        log_->high_watermark() <= last_offset) {
      r.error = Error::kRequestTimedOut;
      return r;
    }
  }
  if (!is_leader() || leader_epoch_ != epoch) {
    r.error = Error::kNotLeaderOrFollower;
  } else if (static_cast<int32_t>(isr_.size()) < settings_.min_insync_replicas) {
    r.error = Error::kNotEnoughReplicasAfterAppend;
  }
  return r;
}

void Partition::UpdateFollower(BrokerId replica, int64_t fetch_offset, TimeNs now) {
  auto it = followers_.find(replica);
  if (it == followers_.end()) return;  // not a replica of this partition
  FollowerState& f = it->second;
  const int64_t leo = log_->log_end_offset();
  f.log_end_offset = std::min(fetch_offset, leo);
  if (fetch_offset >= leo) {
    f.last_caught_up = now;
  } else if (fetch_offset >= f.leader_leo_at_last_fetch) {
    f.last_caught_up = std::max(f.last_caught_up, f.last_fetch);
  }
  f.last_fetch = now;
  f.leader_leo_at_last_fetch = leo;
  MaybeAdvanceHighWatermark();
}

FetchPartitionResponse Partition::Fetch(int32_t replica_id, const FetchPartition& req,
                                        int32_t max_bytes) {
  FetchPartitionResponse r;
  if (!is_leader() || stopped_) {
    r.error = Error::kNotLeaderOrFollower;
    return r;
  }
  if (req.current_leader_epoch >= 0 && req.current_leader_epoch < leader_epoch_) {
    r.error = Error::kFencedLeaderEpoch;
    return r;
  }
  if (req.current_leader_epoch > leader_epoch_) {
    r.error = Error::kUnknownLeaderEpoch;
    return r;
  }
  const bool follower = replica_id >= 0;
  r.log_start_offset = log_->log_start_offset();
  r.log_end_offset = log_->log_end_offset();
  if (follower && req.last_fetched_epoch >= 0) {
    EpochEndOffset ours = log_->EndOffsetForEpoch(req.last_fetched_epoch);
    if (ours.epoch != req.last_fetched_epoch || ours.end_offset < req.fetch_offset) {
      r.diverging_epoch = ours;
      r.high_watermark = log_->high_watermark();
      return r;
    }
  }
  if (follower) UpdateFollower(replica_id, req.fetch_offset, rt_.Now());
  r.high_watermark = log_->high_watermark();
  const int64_t max_offset = follower ? log_->log_end_offset() : log_->high_watermark();
  if (req.fetch_offset < log_->log_start_offset() || req.fetch_offset > log_->log_end_offset()) {
    r.error = Error::kOffsetOutOfRange;
    return r;
  }
  auto batches = log_->Read(req.fetch_offset, std::min(req.partition_max_bytes, max_bytes),
                            max_offset, /*min_one_message=*/true);
  if (!batches.ok()) {
    r.error = Error::kKafkaStorageError;
    return r;
  }
  r.batches = std::move(*batches);
  for (const BatchPtr& b : r.batches) r.records_size_bytes += BatchSizeBytes(*b);
  return r;
}

int64_t Partition::AvailableBytes(int32_t replica_id, int64_t offset) const {
  if (!is_leader()) return 1;  // an error is ready to return
  const int64_t limit = replica_id >= 0 ? log_->log_end_offset() : log_->high_watermark();
  if (offset >= limit) return 0;
  // The log's size accounting is per batch; an estimate suffices for fetch.min.bytes.
  return log_->BytesBetween(offset, limit);
}

ListOffsetsPartitionResponse Partition::ListOffset(int64_t timestamp, bool from_consumer) const {
  ListOffsetsPartitionResponse r;
  if (!is_leader()) {
    r.error = Error::kNotLeaderOrFollower;
    return r;
  }
  r.leader_epoch = leader_epoch_;
  if (timestamp == kEarliestTimestamp) {
    r.offset = log_->log_start_offset();
  } else if (timestamp == kLatestTimestamp) {
    r.offset = from_consumer ? log_->high_watermark() : log_->log_end_offset();
  } else {
    r.error = Error::kInvalidRequest;  // time-based lookup is not modelled
  }
  return r;
}

OffsetsForLeaderEpochResponse::Partition Partition::EndOffsetForEpoch(int32_t current_epoch,
                                                                      int32_t epoch) const {
  OffsetsForLeaderEpochResponse::Partition r;
  if (!is_leader()) {
    r.error = Error::kNotLeaderOrFollower;
    return r;
  }
  if (current_epoch >= 0 && current_epoch < leader_epoch_) {
    r.error = Error::kFencedLeaderEpoch;
    return r;
  }
  if (current_epoch > leader_epoch_) {
    r.error = Error::kUnknownLeaderEpoch;
    return r;
  }
  EpochEndOffset e = log_->EndOffsetForEpoch(epoch);
  r.leader_epoch = e.epoch;
  r.end_offset = e.end_offset;
  return r;
}

std::optional<std::vector<BrokerId>> Partition::WantedIsr(TimeNs now) const {
  KSIM_CHECK(is_leader());
  std::vector<BrokerId> wanted;
  for (BrokerId r : isr_) {
    if (r == broker_.broker_id) {
      wanted.push_back(r);
      continue;
    }
    auto it = followers_.find(r);
    if (it != followers_.end() && now - it->second.last_caught_up <= broker_.replica_lag_time_max_ns) {
      wanted.push_back(r);
    }
  }
  for (const auto& [r, f] : followers_) {
    if (Contains(wanted, r) || Contains(isr_, r)) continue;
    // Back in sync: caught up to the HW, and past the start of this leader's epoch.
    if (f.log_end_offset >= log_->high_watermark() &&
        f.log_end_offset >= leader_epoch_start_offset_ &&
        now - f.last_caught_up <= broker_.replica_lag_time_max_ns) {
      wanted.push_back(r);
    }
  }
  if (wanted == isr_) return std::nullopt;
  return wanted;
}

void Partition::ApplyCommittedIsr(const PartitionState& state) {
  if (state.leader_epoch != leader_epoch_ || state.partition_epoch < partition_epoch_) return;
  const bool shrink = state.isr.size() < isr_.size();
  rt_.Trace(shrink ? "isr-shrink" : "isr-expand",
            absl::StrCat(tp_.ToString(), " ", IsrString(isr_), " -> ", IsrString(state.isr)));
  isr_ = state.isr;
  partition_epoch_ = state.partition_epoch;
  MaybeAdvanceHighWatermark();
  Notify();
}

absl::Status Partition::ApplyFetchedData(const FetchPartitionResponse& response) {
  KSIM_CHECK(!is_leader());
  if (response.diverging_epoch.has_value()) {
    EpochEndOffset theirs = *response.diverging_epoch;
    EpochEndOffset ours = log_->EndOffsetForEpoch(theirs.epoch);
    int64_t to = std::min(theirs.end_offset, ours.end_offset);
    if (theirs.end_offset < 0) to = log_->high_watermark();
    to = std::min(to, log_->log_end_offset());
    rt_.Trace("truncate", absl::StrCat(tp_.ToString(), " diverging at epoch ", theirs.epoch,
                                       ": ", log_->log_end_offset(), " -> ", to));
    log_->TruncateTo(to);
    producers_.TruncateFrom(to);
    return absl::OkStatus();
  }
  for (const BatchPtr& b : response.batches) {
    if (b->last_offset() < log_->log_end_offset()) continue;  // already have it
    // Only the batch holding our end fits (it starts below it if the leader compacted it);
    // anything else means our log changed under this response (a truncation): drop the rest
    // and fetch again.
    if (b->base_offset() > log_->log_end_offset()) break;
    if (absl::Status s = log_->AppendAsFollower(b); !s.ok()) return s;
    producers_.Record(b->producer_id(), b->producer_epoch(),
                      BatchSequence{b->base_sequence(), b->last_sequence(), b->base_offset(),
                                    b->last_offset()});
  }
  const int64_t hw = std::min(response.high_watermark, log_->log_end_offset());
  if (hw > log_->high_watermark()) SetHighWatermark(hw);
  return absl::OkStatus();
}

void Partition::TruncateForNewLeader(std::optional<EpochEndOffset> leader_end) {
  const int64_t leo = log_->log_end_offset();
  int64_t to = leo;
  if (broker_.truncation == TruncationRule::kHighWatermark || !leader_end.has_value() ||
      leader_end->end_offset < 0) {
    // Pre-KIP-101 behaviour: whatever is above our HW is assumed uncommitted and dropped.
    to = log_->high_watermark();
  } else if (leader_end->epoch == log_->LatestEpoch()) {
    to = std::min(leader_end->end_offset, leo);
  } else {
    // KIP-279: the leader does not know our latest epoch; cut back to where the leader's
    // epoch ends in our log as well.
    EpochEndOffset ours = log_->EndOffsetForEpoch(leader_end->epoch);
    to = std::min({leader_end->end_offset, ours.end_offset, leo});
  }
  if (to < leo) {
    rt_.Trace("truncate", absl::StrCat(tp_.ToString(), " on becoming follower: ", leo, " -> ",
                                       to));
    log_->TruncateTo(to);
    producers_.TruncateFrom(to);
  }
}

}  // namespace ksim
