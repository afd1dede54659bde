#include "engine/log/log.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/runtime/check.h"
#include "engine/runtime/status_macros.h"

namespace ksim {
namespace {

struct EpochCheckpoint : Payload {
  std::vector<EpochEntry> entries;
};
struct HwCheckpoint : Payload {
  int64_t high_watermark = 0;
};

// The log cleaner's commit record: the generation of the last committed clean, the files it
// replaced, and the cleaned prefix (Kafka's cleaner-offset-checkpoint).
struct CleanerCheckpoint : Payload {
  int64_t generation = 0;
  std::vector<std::string> obsolete;
  int64_t first_dirty_offset = 0;
};

// A closed segment's index file (Kafka's .index and .timeindex, with what this log keeps
// per batch): written when the segment is flushed after a roll.
struct SegmentIndex : Payload {
  struct Entry {
    int64_t base_offset = 0;
    int64_t last_offset = 0;
    int64_t position = 0;
    int64_t size_bytes = 0;
    int32_t leader_epoch = -1;
    int64_t producer_id = -1;
  };
  std::vector<Entry> entries;
  int64_t size_bytes = 0;  // of the segment file it describes
  int64_t next_offset = 0;
  int64_t max_timestamp_ms = -1;
};
struct RecoveryPointCheckpoint : Payload {
  int64_t recovery_point = 0;
};

constexpr int64_t kCheckpointBytes = 64;
// Kafka's sparse indexes: an offset entry (8 bytes) and a time entry (12 bytes) every
// index.interval.bytes (4096) of segment.
int64_t IndexFileBytes(int64_t segment_bytes) { return 20 * (segment_bytes / 4096 + 1); }

}  // namespace

PartitionLog::PartitionLog(FileSystem& fs, std::string dir, LogConfig config)
    : fs_(fs), dir_(std::move(dir)), config_(config) {}

std::string PartitionLog::SegmentPath(int64_t base_offset) const {
  return absl::StrFormat("%s/%020d.log", dir_, base_offset);
}

absl::StatusOr<std::unique_ptr<PartitionLog>> PartitionLog::Open(FileSystem& fs, std::string dir,
                                                                 LogConfig config) {
  std::unique_ptr<PartitionLog> log(new PartitionLog(fs, std::move(dir), config));
  KSIM_RETURN_IF_ERROR(log->Recover());
  return log;
}

PartitionLog::~PartitionLog() { *alive_ = false; }

void PartitionLog::DeleteAllFiles() {
  MutexLock lock(write_mu_);
  *alive_ = false;
  for (const std::string& f : fs_.List(dir_ + "/")) (void)fs_.Delete(f);
}

std::string PartitionLog::CleanedSegmentPath(int64_t base_offset, int64_t generation) const {
  return absl::StrFormat("%s/%020d.c%d.log", dir_, base_offset, generation);
}

static bool ParseSegmentName(const std::string& dir, const std::string& path, int64_t* base,
                      int64_t* generation) {
  if (path.size() < dir.size() + 5 || path.compare(path.size() - 4, 4, ".log") != 0) {
    return false;
  }
  std::string name = path.substr(dir.size() + 1, path.size() - dir.size() - 5);
  *generation = 0;
  if (size_t dot = name.find('.'); dot != std::string::npos) {
    if (dot + 1 >= name.size() || name[dot + 1] != 'c' ||
        !absl::SimpleAtoi(name.substr(dot + 2), generation)) {
      return false;
    }
    name = name.substr(0, dot);
  }
  return absl::SimpleAtoi(name, base);
}

absl::Status PartitionLog::RecoverCleanerState() {
  // Kafka's .cleaned/.swap protocol, with the commit point an atomic checkpoint: cleaned
  // files of a generation above the committed one are leftovers of an interrupted clean; the
  // files a committed clean replaced are deleted if the crash came before their deletion.
  if (auto c = fs_.ReadAll(dir_ + "/cleaner-checkpoint"); c.ok() && !c->empty()) {
    if (auto cp = std::dynamic_pointer_cast<const CleanerCheckpoint>(c->back().content)) {
      cleaner_generation_ = cp->generation;
      first_dirty_offset_ = cp->first_dirty_offset;
      for (const std::string& path : cp->obsolete) {
        if (fs_.Exists(path)) (void)fs_.Delete(path);
      }
      checkpoint_lists_obsolete_ = !cp->obsolete.empty();
    }
  }
  for (const std::string& path : fs_.List(dir_ + "/")) {
    int64_t base, gen;
    if (ParseSegmentName(dir_, path, &base, &gen) && gen > cleaner_generation_) {
      (void)fs_.Delete(path);
    }
  }
  return absl::OkStatus();
}

absl::Status PartitionLog::WriteCleanerCheckpoint(std::vector<std::string> obsolete,
                                                  int64_t first_dirty) {
  if (deleted()) return absl::OkStatus();
  auto cp = std::make_shared<CleanerCheckpoint>();
  cp->generation = cleaner_generation_;
  cp->obsolete = std::move(obsolete);
  cp->first_dirty_offset = first_dirty;
  return fs_.WriteAtomically(
      dir_ + "/cleaner-checkpoint",
      Chunk{kCheckpointBytes + 32 * static_cast<int64_t>(cp->obsolete.size()), cp, false});
}

std::string PartitionLog::IndexPath(const std::string& segment_path) {
  KSIM_CHECK(segment_path.size() > 4);
  return segment_path.substr(0, segment_path.size() - 4) + ".index";
}

void PartitionLog::DeleteSegmentFiles(const std::string& segment_path) {
  (void)fs_.Delete(segment_path);
  const std::string index = IndexPath(segment_path);
  if (fs_.Exists(index)) (void)fs_.Delete(index);
}

bool PartitionLog::LoadFromIndex(int64_t base, const std::string& path, int64_t recovery_point) {
  const std::string index_path = IndexPath(path);
  if (!fs_.Exists(index_path)) return false;
  auto chunks = fs_.ReadAll(index_path);
  if (!chunks.ok() || chunks->empty()) return false;
  auto idx = std::dynamic_pointer_cast<const SegmentIndex>(chunks->back().content);
  auto size = fs_.Size(path);
  const int64_t expected = segments_.empty() ? base : log_end_offset_;
  if (idx == nullptr || !size.ok() || *size != idx->size_bytes || idx->entries.empty() ||
      idx->next_offset > recovery_point || idx->entries.front().base_offset != expected) {
    return false;
  }
  for (const SegmentIndex::Entry& e : idx->entries) {
    index_[e.base_offset] =
        BatchPos{base, e.position, e.size_bytes, e.last_offset, e.producer_id, e.leader_epoch};
    if (e.producer_id >= 0) producer_last_offset_[e.producer_id] = e.last_offset;
    if (e.leader_epoch >= 0) epochs_.Assign(e.leader_epoch, e.base_offset);
  }
  Segment seg{path, idx->size_bytes, 0, idx->max_timestamp_ms, idx->next_offset};
  if (segments_.empty()) log_start_offset_ = base;
  segments_[base] = seg;
  log_end_offset_ = idx->next_offset;
  return true;
}

absl::Status PartitionLog::FlushClosedSegments() {
  if (deleted()) return absl::OkStatus();
  const int64_t target = active_segment_base();
  if (target <= recovery_point_) return absl::OkStatus();
  const int64_t cuts = truncations_;
  struct Closed {
    int64_t base;
    Segment seg;
  };
  std::vector<Closed> todo;
  for (const auto& [base, seg] : segments_) {
    if (base >= target) break;
    // Cleaned segments were fsynced by the cleaner and are rescanned by recovery (small).
    if (seg.next_offset > recovery_point_ && seg.path == SegmentPath(base)) {
      todo.push_back({base, seg});
    }
  }
  const std::shared_ptr<bool> alive = alive_;  // the log may be deleted while we block
  for (const Closed& c : todo) {
    absl::Status s = fs_.Fsync(c.seg.path);
    if (!*alive) return absl::OkStatus();
    if (absl::IsNotFound(s)) continue;  // deleted meanwhile (retention or the cleaner)
    KSIM_RETURN_IF_ERROR(s);
    // Still the same closed segment (not cleaned, truncated or deleted while syncing)?
    auto now = segments_.find(c.base);
    if (now == segments_.end() || now->second.path != c.seg.path ||
        now->second.size_bytes != c.seg.size_bytes || c.base >= active_segment_base()) {
      continue;
    }
    auto idx = std::make_shared<SegmentIndex>();
    idx->size_bytes = c.seg.size_bytes;
    idx->next_offset = c.seg.next_offset;
    idx->max_timestamp_ms = c.seg.max_timestamp_ms;
    for (auto it = index_.lower_bound(c.base); it != index_.end() && it->first < c.seg.next_offset;
         ++it) {
      SegmentIndex::Entry e;
      e.base_offset = it->first;
      e.last_offset = it->second.last_offset;
      e.position = it->second.position;
      e.size_bytes = it->second.size_bytes;
      e.leader_epoch = it->second.leader_epoch;
      e.producer_id = it->second.producer_id;
      idx->entries.push_back(e);
    }
    KSIM_RETURN_IF_ERROR(fs_.WriteAtomically(
        IndexPath(c.seg.path), Chunk{IndexFileBytes(c.seg.size_bytes), idx, false}));
    if (!*alive) return absl::OkStatus();
    now = segments_.find(c.base);
    if (now == segments_.end() || now->second.path != c.seg.path ||
        now->second.size_bytes != c.seg.size_bytes) {
      (void)fs_.Delete(IndexPath(c.seg.path));  // changed while the index was written
    }
  }
  if (truncations_ == cuts) recovery_point_ = std::max(recovery_point_, std::min(target, log_end_offset_));
  return absl::OkStatus();
}

absl::Status PartitionLog::CheckpointRecoveryPoint() {
  if (deleted()) return absl::OkStatus();
  auto cp = std::make_shared<RecoveryPointCheckpoint>();
  cp->recovery_point = recovery_point_;
  return fs_.WriteAtomically(dir_ + "/recovery-point-checkpoint", Chunk{kCheckpointBytes, cp, false});
}

absl::Status PartitionLog::Recover() {
  KSIM_RETURN_IF_ERROR(RecoverCleanerState());
  int64_t recovery_point = 0;
  if (auto c = fs_.ReadAll(dir_ + "/recovery-point-checkpoint"); c.ok() && !c->empty()) {
    if (auto cp = std::dynamic_pointer_cast<const RecoveryPointCheckpoint>(c->back().content)) {
      recovery_point = cp->recovery_point;
    }
  }
  std::map<int64_t, std::pair<int64_t, std::string>> files;  // base -> (generation, path)
  for (const std::string& path : fs_.List(dir_ + "/")) {
    int64_t base, gen;
    if (!ParseSegmentName(dir_, path, &base, &gen)) continue;
    auto [it, inserted] = files.emplace(base, std::make_pair(gen, path));
    if (inserted) continue;
    // Two files for one base: the newer generation replaced the older one.
    if (gen > it->second.first) {
      DeleteSegmentFiles(it->second.second);
      it->second = {gen, path};
    } else {
      DeleteSegmentFiles(path);
    }
  }
  bool broken = false;
  for (const auto& [base, file] : files) {
    const std::string& path = file.second;
    cleaner_generation_ = std::max(cleaner_generation_, file.first);
    if (broken) {
      DeleteSegmentFiles(path);  // after a gap: unreachable
      continue;
    }
    // Below the recovery point a segment is on the device with its index: no rescan.
    if (base < recovery_point && LoadFromIndex(base, path, recovery_point)) {
      ++segments_loaded_from_index_;
      continue;
    }
    ++segments_rescanned_;
    if (const std::string index = IndexPath(path); fs_.Exists(index)) (void)fs_.Delete(index);
    KSIM_ASSIGN_OR_RETURN(std::vector<Chunk> chunks, fs_.ReadAll(path));
    Segment seg{path, 0, 0, -1, base};
    int64_t position = 0;
    for (const Chunk& c : chunks) {
      auto batch = std::dynamic_pointer_cast<const RecordBatch>(c.content);
      const int64_t expected = segments_.empty() && seg.size_bytes == 0 && index_.empty()
                                   ? base
                                   : log_end_offset_;
      if (c.torn || batch == nullptr || batch->base_offset() != expected) {
        // The tail of an interrupted write: cut the segment here and drop what follows.
        KSIM_RETURN_IF_ERROR(fs_.Truncate(path, position));
        broken = true;
        break;
      }
      index_[batch->base_offset()] = BatchPos{base, position, c.size_bytes, batch->last_offset(),
                                              batch->producer_id(), batch->partition_leader_epoch()};
      if (batch->producer_id() >= 0) {
        producer_last_offset_[batch->producer_id()] = batch->last_offset();
      }
      if (batch->partition_leader_epoch() >= 0) {
        epochs_.Assign(batch->partition_leader_epoch(), batch->base_offset());
      }
      position += c.size_bytes;
      seg.size_bytes += c.size_bytes;
      seg.max_timestamp_ms = std::max(seg.max_timestamp_ms, batch->max_timestamp_ms());
      seg.next_offset = batch->last_offset() + 1;
      log_end_offset_ = batch->last_offset() + 1;
    }
    if (segments_.empty()) log_start_offset_ = base;
    if (index_.empty()) log_end_offset_ = std::max(log_end_offset_, base);
    segments_[base] = seg;
  }
  // The epoch checkpoint may know epochs with no batch (a leader that appended nothing).
  if (auto c = fs_.ReadAll(dir_ + "/leader-epoch-checkpoint"); c.ok() && !c->empty()) {
    if (auto cp = std::dynamic_pointer_cast<const EpochCheckpoint>(c->back().content)) {
      LeaderEpochCache restored;
      restored.Restore(cp->entries);
      for (const EpochEntry& e : epochs_.entries()) restored.Assign(e.epoch, e.start_offset);
      epochs_ = restored;
    }
  }
  // Epochs that start past the log's end describe data the disk did not keep.
  epochs_.TruncateFromEnd(log_end_offset_ + 1);
  if (auto c = fs_.ReadAll(dir_ + "/hw-checkpoint"); c.ok() && !c->empty()) {
    if (auto cp = std::dynamic_pointer_cast<const HwCheckpoint>(c->back().content)) {
      high_watermark_ = std::clamp(cp->high_watermark, log_start_offset_, log_end_offset_);
    }
  }
  high_watermark_ = std::clamp(high_watermark_, log_start_offset_, log_end_offset_);
  first_dirty_offset_ = std::clamp(first_dirty_offset_, log_start_offset_, log_end_offset_);
  recovery_point_ = std::clamp(recovery_point, log_start_offset_, log_end_offset_);
  KSIM_CHECK(log_start_offset_ <= high_watermark_ && high_watermark_ <= log_end_offset_);
  return absl::OkStatus();
}

absl::Status PartitionLog::Write(const BatchPtr& batch, int64_t now_ms) {
  if (deleted()) return absl::FailedPreconditionError(absl::StrCat(dir_, ": the log was deleted"));
  if (segments_.empty() ||
      (segments_.rbegin()->second.size_bytes > 0 &&
       (segments_.rbegin()->second.size_bytes + batch->size_bytes() > config_.segment_bytes ||
        now_ms - segments_.rbegin()->second.created_ms >= config_.segment_ms))) {
    // Roll: a new active segment starting at this batch.
    if (!segments_.empty() && config_.flush_interval_messages != INT64_MAX) {
      (void)fs_.Fsync(segments_.rbegin()->second.path);
    }
    Segment s{SegmentPath(batch->base_offset()), 0, now_ms, -1, batch->base_offset()};
    segments_[batch->base_offset()] = s;
  }
  Segment& seg = segments_.rbegin()->second;
  const int64_t position = seg.size_bytes;
  KSIM_RETURN_IF_ERROR(fs_.Append(seg.path, Chunk{batch->size_bytes(), batch, false}));
  index_[batch->base_offset()] =
      BatchPos{segments_.rbegin()->first, position, batch->size_bytes(), batch->last_offset(),
               batch->producer_id(), batch->partition_leader_epoch()};
  seg.size_bytes += batch->size_bytes();
  seg.max_timestamp_ms = std::max(seg.max_timestamp_ms, batch->max_timestamp_ms());
  seg.next_offset = batch->last_offset() + 1;
  KSIM_CHECK_MSG(batch->last_offset() + 1 > log_end_offset_, "offsets strictly increase");
  log_end_offset_ = batch->last_offset() + 1;
  if (batch->producer_id() >= 0) producer_last_offset_[batch->producer_id()] = batch->last_offset();
  unflushed_messages_ += batch->record_count();
  if (unflushed_messages_ >= config_.flush_interval_messages ||
      (config_.flush_interval_ms != INT64_MAX && now_ms - last_flush_ms_ >= config_.flush_interval_ms)) {
    KSIM_RETURN_IF_ERROR(fs_.Fsync(seg.path));
    unflushed_messages_ = 0;
    last_flush_ms_ = now_ms;
  }
  return absl::OkStatus();
}

absl::StatusOr<LogAppendInfo> PartitionLog::AppendAsLeader(const BatchPtr& batch,
                                                           int32_t leader_epoch, int64_t now_ms) {
  KSIM_CHECK(batch->record_count() > 0);
  MutexLock lock(write_mu_);
  const int64_t first = log_end_offset_;
  BatchPtr placed = batch->WithBaseOffset(first, leader_epoch);
  if (leader_epoch >= 0 && leader_epoch > epochs_.LatestEpoch()) AssignEpoch(leader_epoch, first);
  KSIM_RETURN_IF_ERROR(Write(placed, now_ms));
  return LogAppendInfo{first, placed->last_offset()};
}

absl::Status PartitionLog::AppendAsFollower(const BatchPtr& batch) {
  MutexLock lock(write_mu_);
  if (batch->base_offset() > log_end_offset_ || batch->last_offset() < log_end_offset_) {
    return absl::FailedPreconditionError("the log end moved while waiting to append");
  }
  // A batch the leader compacted may start below our end (its first offsets were holes
  // merged into it): append the part from our end on.
  const BatchPtr placed =
      batch->base_offset() == log_end_offset_ ? batch : batch->Suffix(log_end_offset_);
  if (placed->partition_leader_epoch() > epochs_.LatestEpoch()) {
    AssignEpoch(placed->partition_leader_epoch(), placed->base_offset());
  }
  return Write(placed, placed->max_timestamp_ms());
}

absl::StatusOr<std::vector<BatchPtr>> PartitionLog::Read(int64_t start_offset, int32_t max_bytes,
                                                         int64_t max_offset, bool min_one_message) {
  if (start_offset < log_start_offset_ || start_offset > log_end_offset_) {
    return absl::OutOfRangeError(absl::StrCat("offset ", start_offset, " is outside [",
                                              log_start_offset_, ", ", log_end_offset_, "] of ",
                                              dir_));
  }
  std::vector<BatchPtr> out;
  int64_t bytes = 0;
  int64_t next = start_offset;
  int retries = 0;
  // The index is looked up again after every disk read: the read blocks, and meanwhile the
  // log cleaner may swap segments (deleting the file read) or a truncation may cut the log.
  for (;;) {
    auto it = index_.upper_bound(next);
    if (it != index_.begin()) --it;
    if (it != index_.end() && it->second.last_offset < next) ++it;
    if (it == index_.end() || it->first >= max_offset) break;
    const int64_t base = it->first;
    const BatchPos p = it->second;
    if (bytes + p.size_bytes > max_bytes && !(out.empty() && min_one_message)) break;
    auto seg = segments_.find(p.segment);
    KSIM_CHECK(seg != segments_.end());
    const std::string path = seg->second.path;
    auto chunks = fs_.Read(path, p.position, 1);
    BatchPtr batch;
    if (chunks.ok() && !chunks->empty()) {
      batch = std::dynamic_pointer_cast<const RecordBatch>(chunks->front().content);
    }
    if (batch == nullptr || batch->base_offset() != base) {
      // The segment changed under the read (cleaned or truncated): look again.
      auto now = index_.find(base);
      const bool moved = now == index_.end() || now->second.segment != p.segment ||
                         now->second.position != p.position ||
                         segments_.count(p.segment) == 0 ||
                         segments_.at(p.segment).path != path;
      if (moved && ++retries <= 8) continue;
      if (!chunks.ok()) return chunks.status();
      KSIM_CHECK_MSG(moved || chunks->empty(), "index matches disk");
      break;
    }
    out.push_back(batch);
    next = batch->last_offset() + 1;
    bytes += p.size_bytes;
    if (bytes >= max_bytes) break;
  }
  return out;
}

void PartitionLog::UpdateHighWatermark(int64_t hw) {
  KSIM_CHECK_MSG(hw >= log_start_offset_ && hw <= log_end_offset_,
                 absl::StrCat(dir_, ": HW ", hw, " outside [", log_start_offset_, ", ",
                              log_end_offset_, "]"));
  high_watermark_ = hw;
}

absl::Status PartitionLog::CheckpointHighWatermark() {
  if (deleted()) return absl::OkStatus();
  auto cp = std::make_shared<HwCheckpoint>();
  cp->high_watermark = high_watermark_;
  return fs_.WriteAtomically(dir_ + "/hw-checkpoint", Chunk{kCheckpointBytes, cp, false});
}

void PartitionLog::CheckpointEpochs() {
  if (deleted()) return;
  auto cp = std::make_shared<EpochCheckpoint>();
  cp->entries = epochs_.entries();
  (void)fs_.WriteAtomically(dir_ + "/leader-epoch-checkpoint",
                            Chunk{kCheckpointBytes + 12 * static_cast<int64_t>(cp->entries.size()),
                                  cp, false});
}

void PartitionLog::AssignEpoch(int32_t epoch, int64_t start_offset) {
  if (epochs_.Assign(epoch, start_offset)) CheckpointEpochs();
}

void PartitionLog::TruncateTo(int64_t offset) {
  MutexLock lock(write_mu_);
  if (offset >= log_end_offset_) {
    // Nothing to cut; but, as Kafka does, drop epoch entries that start at or after `offset`. An
    // epoch begun at the end of the log (when this replica led it) holds no records, and left
    // in place it keeps a follower reporting an epoch the new leader never had: the leader
    // answers "diverging" again and again.
    const size_t before = epochs_.entries().size();
    epochs_.TruncateFromEnd(offset);
    if (epochs_.entries().size() != before) CheckpointEpochs();
    return;
  }
  KSIM_CHECK(offset >= 0);
  offset = std::max(offset, log_start_offset_);
  if (checkpoint_lists_obsolete_ &&
      WriteCleanerCheckpoint({}, std::min(first_dirty_offset_, offset)).ok()) {
    checkpoint_lists_obsolete_ = false;
  }
  // Drop whole segments above the cut, then cut the segment that contains it.
  ++truncations_;
  while (!segments_.empty() && segments_.rbegin()->first > offset) {
    DeleteSegmentFiles(segments_.rbegin()->second.path);
    segments_.erase(std::prev(segments_.end()));
  }
  auto first_gone = index_.lower_bound(offset);
  if (first_gone != index_.begin()) {
    auto prev = std::prev(first_gone);
    if (prev->second.last_offset >= offset) first_gone = prev;  // the batch holding `offset`
  }
  if (first_gone != index_.end() && !segments_.empty()) {
    Segment& seg = segments_.rbegin()->second;
    if (first_gone->second.segment == segments_.rbegin()->first) {
      // The cut segment is active again: its index file no longer describes it.
      if (const std::string index = IndexPath(seg.path); fs_.Exists(index)) (void)fs_.Delete(index);
      (void)fs_.Truncate(seg.path, first_gone->second.position);
      seg.size_bytes = first_gone->second.position;
    }
  }
  const int64_t new_end = first_gone == index_.end() ? offset : first_gone->first;
  index_.erase(first_gone, index_.end());
  log_end_offset_ = std::max(new_end, log_start_offset_);
  if (!segments_.empty()) segments_.rbegin()->second.next_offset = log_end_offset_;
  if (segments_.empty()) log_start_offset_ = log_end_offset_;
  high_watermark_ = std::min(high_watermark_, log_end_offset_);
  recovery_point_ = std::min(recovery_point_, log_end_offset_);
  first_dirty_offset_ = std::min(first_dirty_offset_, log_end_offset_);
  // A producer whose last batch was cut is no longer known to end anywhere: the cleaner then
  // keeps its batches' headers (the safe side).
  for (auto p = producer_last_offset_.begin(); p != producer_last_offset_.end();) {
    p = p->second >= log_end_offset_ ? producer_last_offset_.erase(p) : std::next(p);
  }
  const size_t before = epochs_.entries().size();
  epochs_.TruncateFromEnd(log_end_offset_);
  if (epochs_.entries().size() != before) CheckpointEpochs();
}

int64_t PartitionLog::BytesBetween(int64_t from, int64_t to) const {
  int64_t bytes = 0;
  auto it = index_.upper_bound(from);
  if (it != index_.begin()) --it;
  for (; it != index_.end() && it->first < to; ++it) {
    if (it->second.last_offset >= from) bytes += it->second.size_bytes;
  }
  return bytes;
}

int64_t PartitionLog::size_bytes() const {
  int64_t n = 0;
  for (const auto& [b, s] : segments_) n += s.size_bytes;
  return n;
}

int PartitionLog::DeleteOldSegments(int64_t now_ms) {
  int deleted = 0;
  if (!config_.delete_retention) return 0;  // cleanup.policy=compact: only the cleaner removes
  int64_t total = size_bytes();
  while (segments_.size() > 1) {
    auto first = segments_.begin();
    const Segment& s = first->second;
    const bool by_time = config_.retention_ms >= 0 && s.max_timestamp_ms >= 0 &&
                         now_ms - s.max_timestamp_ms > config_.retention_ms;
    const bool by_size = config_.retention_bytes >= 0 && total - s.size_bytes >= config_.retention_bytes;
    if ((!by_time && !by_size) || s.next_offset > high_watermark_) break;
    DeleteSegmentFiles(s.path);
    total -= s.size_bytes;
    const int64_t next = std::next(first)->first;
    index_.erase(index_.begin(), index_.lower_bound(next));
    segments_.erase(first);
    log_start_offset_ = next;
    epochs_.TruncateFromStart(next);
    ++deleted;
  }
  return deleted;
}

}  // namespace ksim
