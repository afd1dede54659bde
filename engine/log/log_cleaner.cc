// Log compaction on a PartitionLog: Kafka's Cleaner (LogCleaner.scala) for one log.
//
// A pass builds the offset map (key hash -> latest offset) over the dirty section, then rewrites
// every closed segment below the first uncleanable offset, in groups of at most segment.bytes
// (Kafka's groupSegmentsBySize), keeping for each record only the latest one per key and
// tombstones whose delete horizon has not passed (KIP-534: a batch's horizon is set to
// now + delete.retention.ms the first time it is cleaned with tombstones in it).
//
// Offsets never move. Readers of this code base index a batch's records by base_offset + i, so
// a cleaned batch is stored as pieces whose records sit at consecutive offsets, each covering
// the holes after its records; holes before a batch's first surviving record, and batches left
// empty, are merged into the piece before them (or become an empty header-only batch when
// nothing precedes them in the file or the leader epoch changes). The offsets of a segment stay
// contiguous, so followers and recovery see no gaps. An empty batch is kept when it is its
// producer's last, so the producer's sequence survives a restart (Kafka's rule).
//
// Crash safety: each group is written to a new file <base>.c<generation>.log and fsynced, then a
// cleaner checkpoint naming the generation and the replaced files is written atomically (the
// commit point), then the old files are deleted. Recovery deletes files of uncommitted
// generations and replaced files that outlived a crash.
#include <algorithm>
#include <optional>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/runtime/check.h"

namespace ksim {

CleanableLog PartitionLog::Cleanable(const LogConfig& config, int64_t now_ms) const {
  CleanableLog c;
  c.first_dirty_offset = first_dirty_offset();
  c.first_uncleanable_offset = c.first_dirty_offset;
  if (segments_.size() < 2) return c;
  // The first uncleanable offset: the active segment, the first segment reaching past the HW
  // (Kafka: the last stable offset), or the first one younger than min.compaction.lag.ms.
  int64_t uncleanable = segments_.rbegin()->first;
  for (auto it = segments_.begin(); std::next(it) != segments_.end(); ++it) {
    const Segment& s = it->second;
    const bool too_young = config.min_compaction_lag_ms > 0 && s.max_timestamp_ms >= 0 &&
                           s.max_timestamp_ms > now_ms - config.min_compaction_lag_ms;
    if (s.next_offset > high_watermark_ || too_young) {
      uncleanable = it->first;
      break;
    }
  }
  c.first_uncleanable_offset = std::max(uncleanable, c.first_dirty_offset);
  bool first_dirty_seen = false;
  for (const auto& [base, s] : segments_) {
    if (base >= c.first_uncleanable_offset) break;
    if (s.next_offset <= c.first_dirty_offset) {
      c.clean_bytes += s.size_bytes;
      continue;
    }
    c.dirty_bytes += s.size_bytes;
    if (!first_dirty_seen) {
      first_dirty_seen = true;
      // KIP-354: the dirty section's first record waited longer than max.compaction.lag.ms.
      c.max_lag_exceeded = config.max_compaction_lag_ms != INT64_MAX &&
                           now_ms - s.created_ms > config.max_compaction_lag_ms;
    }
  }
  return c;
}

CleanStats PartitionLog::Clean(const LogConfig& config, int64_t now_ms, const CleanerCpu& cpu) {
  CleanStats st;
  if (cleaning_) return st;
  const CleanableLog c = Cleanable(config, now_ms);
  if (c.dirty_bytes == 0) return st;
  // Blocking calls may outlive this log (the partition deleted meanwhile): `alive` says so,
  // and nothing of the log is touched after it turned false.
  const std::shared_ptr<bool> alive = alive_;
  cleaning_ = true;
  struct Done {
    PartitionLog* log;
    std::shared_ptr<bool> alive;
    ~Done() {
      if (*alive) log->cleaning_ = false;
    }
  } done{this, alive};

  struct Source {
    int64_t base;
    Segment seg;
  };
  std::vector<Source> sources;
  for (const auto& [base, s] : segments_) {
    if (base >= c.first_uncleanable_offset) break;
    sources.push_back({base, s});
  }
  auto read_batches = [&](const Source& src) -> std::optional<std::vector<BatchPtr>> {
    auto chunks = fs_.ReadAll(src.seg.path);
    if (!*alive || !chunks.ok()) return std::nullopt;
    std::vector<BatchPtr> out;
    for (const Chunk& ch : *chunks) {
      auto b = std::dynamic_pointer_cast<const RecordBatch>(ch.content);
      if (ch.torn || b == nullptr) return std::nullopt;
      out.push_back(std::move(b));
      st.bytes_read += ch.size_bytes;
    }
    return out;
  };

  // 1. The offset map over the dirty section (Kafka's SkimpyOffsetMap, here unbounded).
  std::unordered_map<int64_t, int64_t> latest;  // key hash -> offset; looked up, never iterated
  const int64_t map_start = st.bytes_read;
  for (const Source& src : sources) {
    if (src.seg.next_offset <= c.first_dirty_offset) continue;
    auto batches = read_batches(src);
    if (!batches) return st;
    for (const BatchPtr& b : *batches) {
      for (int32_t i = 0; i < b->record_count(); ++i) {
        const int64_t o = b->base_offset() + i;
        if (o >= c.first_dirty_offset && b->record(i).key_size >= 0) latest[b->key_hash(i)] = o;
      }
    }
  }
  cpu(st.bytes_read - map_start, 0);
  if (!*alive) return st;

  // 2. Groups of consecutive segments whose total size fits one segment.
  std::vector<std::vector<Source>> groups;
  int64_t group_bytes = 0;
  for (const Source& src : sources) {
    if (groups.empty() || group_bytes + src.seg.size_bytes > config.segment_bytes) {
      groups.emplace_back();
      group_bytes = 0;
    }
    groups.back().push_back(src);
    group_bytes += src.seg.size_bytes;
  }

  // 3. Clean and swap each group.
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::vector<Source>& group = groups[g];
    const int64_t group_base = group.front().base;
    const int64_t read_before = st.bytes_read;
    std::vector<BatchPtr> out;
    // Offsets [from, to] that hold no record any more, in leader epoch `epoch`.
    auto hole = [&](const RecordBatch& b, int64_t from, int64_t to) {
      if (!out.empty() && out.back()->partition_leader_epoch() == b.partition_leader_epoch() &&
          out.back()->last_offset() + 1 == from) {
        out.back() = out.back()->WithLastOffset(to);
      } else {
        out.push_back(b.CleanedPiece(from, to, {}, /*with_header=*/true,
                                     /*with_producer=*/false, -1));
      }
    };
    for (const Source& src : group) {
      auto batches = read_batches(src);
      if (!batches) return st;
      for (const BatchPtr& bp : *batches) {
        const RecordBatch& b = *bp;
        const int64_t b0 = b.base_offset();
        const int64_t b1 = b.last_offset();
        std::vector<int32_t> kept;
        bool kept_tombstone = false;
        for (int32_t i = 0; i < b.record_count(); ++i) {
          const SyntheticRecord& r = b.record(i);
          ++st.records_read;
          if (r.key_size >= 0) {
            auto it = latest.find(r.key_hash);
            if (it != latest.end() && it->second > b0 + i) {
              ++st.records_removed;
              continue;
            }
          }
          if (r.value_size < 0) {
            if (b.delete_horizon_ms() >= 0 && now_ms >= b.delete_horizon_ms()) {
              ++st.records_removed;
              ++st.tombstones_removed;
              continue;
            }
            kept_tombstone = true;
          }
          kept.push_back(i);
        }
        const int64_t horizon = kept_tombstone && b.delete_horizon_ms() < 0
                                    ? now_ms + config.delete_retention_ms
                                    : b.delete_horizon_ms();
        if (static_cast<int32_t>(kept.size()) == b.record_count() &&
            horizon == b.delete_horizon_ms() &&
            (out.empty() || out.back()->last_offset() + 1 == b0)) {
          out.push_back(bp);  // nothing to remove: the batch stays as it is
          continue;
        }
        if (kept.empty()) {
          auto last = b.producer_id() >= 0 ? producer_last_offset_.find(b.producer_id())
                                           : producer_last_offset_.end();
          const bool producers_last =
              b.producer_id() >= 0 && (last == producer_last_offset_.end() ||
                                       (last->second >= b0 && last->second <= b1));
          if (producers_last) {
            out.push_back(b.CleanedPiece(b0, b1, {}, true, /*with_producer=*/true, horizon));
          } else {
            hole(b, b0, b1);
          }
          continue;
        }
        if (kept.front() > 0) hole(b, b0, b0 + kept.front() - 1);
        // Runs of consecutive surviving records, one piece each.
        size_t run_start = 0;
        for (size_t k = 1; k <= kept.size(); ++k) {
          if (k < kept.size() && kept[k] == kept[k - 1] + 1) continue;
          const int32_t first = kept[run_start];
          const int32_t last_rec = kept[k - 1];
          const int64_t piece_last = k < kept.size() ? b0 + kept[k] - 1 : b1;
          std::vector<SyntheticRecord> recs;
          for (int32_t i = first; i <= last_rec; ++i) recs.push_back(b.record(i));
          out.push_back(b.CleanedPiece(b0 + first, piece_last, std::move(recs),
                                       /*with_header=*/run_start == 0 && b.carries_header(),
                                       /*with_producer=*/k == kept.size(), horizon));
          run_start = k;
        }
      }
    }
    // The pieces tile the group's offsets exactly.
    int64_t expect = group_base;
    for (const BatchPtr& p : out) {
      KSIM_CHECK_MSG(p->base_offset() == expect,
                     absl::StrCat(dir_, ": cleaned piece at ", p->base_offset(), ", expected ",
                                  expect));
      expect = p->last_offset() + 1;
    }
    KSIM_CHECK(expect == group.back().seg.next_offset);

    const int64_t gen = cleaner_generation_ + 1;
    const std::string path = CleanedSegmentPath(group_base, gen);
    if (fs_.Exists(path)) (void)fs_.Delete(path);
    int64_t size = 0;
    std::vector<BatchPos> positions;
    for (const BatchPtr& p : out) {
      absl::Status s = fs_.Append(path, Chunk{p->size_bytes(), p, false});
      if (!*alive) return st;
      if (!s.ok()) {
        (void)fs_.Delete(path);
        return st;
      }
      positions.push_back(BatchPos{group_base, size, p->size_bytes(), p->last_offset()});
      size += p->size_bytes();
    }
    st.bytes_written += size;
    absl::Status synced = fs_.Fsync(path);
    if (!*alive) return st;
    cpu(0, st.bytes_read - read_before);
    if (!*alive) return st;
    if (!synced.ok()) {
      (void)fs_.Delete(path);
      return st;
    }

    // The swap, under the log's lock: only if the group is still what was cleaned (a
    // truncation or retention may have changed it meanwhile; Kafka aborts then too).
    MutexLock lock(write_mu_);
    if (!*alive) return st;
    bool unchanged = segments_.rbegin()->first > group.back().base;
    for (const Source& src : group) {
      auto it = segments_.find(src.base);
      unchanged = unchanged && it != segments_.end() && it->second.path == src.seg.path &&
                  it->second.size_bytes == src.seg.size_bytes;
    }
    if (!unchanged) {
      (void)fs_.Delete(path);
      return st;
    }
    std::vector<std::string> obsolete;
    for (const Source& src : group) obsolete.push_back(src.seg.path);
    const bool last_group = g + 1 == groups.size();
    const int64_t first_dirty = last_group ? c.first_uncleanable_offset : first_dirty_offset_;
    const int64_t committed = cleaner_generation_;
    cleaner_generation_ = gen;
    absl::Status commit = WriteCleanerCheckpoint(obsolete, first_dirty);
    if (!*alive) return st;
    if (!commit.ok()) {
      cleaner_generation_ = committed;
      (void)fs_.Delete(path);
      return st;
    }
    Segment cleaned{path, size, group.front().seg.created_ms, -1, group.back().seg.next_offset};
    for (const Source& src : group) {
      cleaned.max_timestamp_ms = std::max(cleaned.max_timestamp_ms, src.seg.max_timestamp_ms);
      segments_.erase(src.base);
    }
    segments_[group_base] = cleaned;
    index_.erase(index_.lower_bound(group_base), index_.lower_bound(cleaned.next_offset));
    for (size_t i = 0; i < out.size(); ++i) index_[out[i]->base_offset()] = positions[i];
    for (const std::string& old : obsolete) DeleteSegmentFiles(old);
    checkpoint_lists_obsolete_ = true;
    if (last_group) first_dirty_offset_ = first_dirty;
    st.segments_in += static_cast<int>(group.size());
    st.segments_out += 1;
    st.cleaned = true;
  }
  st.end_offset = first_dirty_offset_;
  return st;
}

}  // namespace ksim
