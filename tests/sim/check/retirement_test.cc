// History packing and retirement: a generated history with anomalies of every kind is
// recorded twice, once retiring buckets below the retention floor as it goes and once keeping
// everything; every checker must report exactly the same (status, summary, each anomaly),
// while the retiring history holds a bounded number of operations.
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/check/checkers.h"

namespace ksim {
namespace {

// Applies every recording call to a retiring and a keeping history alike.
class Twin {
 public:
  explicit Twin(DurationNs lag) {
    retiring_.set_retire_lag(lag);
    keeping_.set_retire_lag(kForever);
    for (History* h : {&retiring_, &keeping_}) {
      h->DeclareGroup("g1", [](const std::string& t) { return t == "t"; });
      h->DeclareGroup("g2", [](const std::string& t) { return t == "t"; });
      h->DeclareGroup("g3", [](const std::string& t) { return t == "u"; });
    }
  }
  void Each(const std::function<void(History&)>& fn) {
    fn(retiring_);
    fn(keeping_);
  }
  void Tick(TimeNs now) {
    retiring_.Retire(now);
    keeping_.Retire(now);
  }
  History& retiring() { return retiring_; }
  History& keeping() { return keeping_; }

 private:
  History retiring_;
  History keeping_;
};

void ExpectSameResults(const History& a, const History& b) {
  int failing = 0;
  for (const std::string& name : AllCheckNames()) {
    CheckResult x = RunCheck(name, a);
    CheckResult y = RunCheck(name, b);
    EXPECT_EQ(x.status, y.status) << name;
    EXPECT_EQ(x.summary, y.summary) << name;
    ASSERT_EQ(x.anomalies.size(), y.anomalies.size()) << name;
    for (size_t i = 0; i < x.anomalies.size(); ++i) {
      EXPECT_EQ(x.anomalies[i].message, y.anomalies[i].message) << name << " #" << i;
      EXPECT_EQ(x.anomalies[i].time, y.anomalies[i].time) << name << " #" << i;
      EXPECT_EQ(x.anomalies[i].tp, y.anomalies[i].tp) << name << " #" << i;
      EXPECT_EQ(x.anomalies[i].offset, y.anomalies[i].offset) << name << " #" << i;
      EXPECT_EQ(x.anomalies[i].record, y.anomalies[i].record) << name << " #" << i;
    }
    failing += x.status == CheckStatus::kFail ? 1 : 0;
  }
  EXPECT_GE(failing, 6);  // the generated anomalies are seen at all
}

// Two partitions of "t" read by groups g1 and g2 and one of "u" read by g3; two producers.
// Each simulated second 40 records per partition are sent and acknowledged, consumers poll
// what was acknowledged the second before, and retention keeps the last 300 offsets. Planted:
// reordered acknowledgements, a poll of a wrong record, records g2 skips, records lost above
// the floor, a record held but unreadable, a backward commit and a partition owned twice.
struct Generated {
  int64_t max_live_ops_first_third = 0;
  int64_t max_live_ops = 0;
  size_t lost = 0;
};

Generated Generate(Twin& twin, int seconds) {
  Generated g;
  const std::vector<TopicPartition> parts = {{"t", 0}, {"t", 1}, {"u", 0}};
  std::vector<int64_t> next_offset(parts.size(), 0);
  std::vector<std::vector<std::pair<int64_t, RecordId>>> acked(parts.size());
  std::vector<size_t> polled_upto(parts.size(), 0);
  RecordId next_record = 1;
  std::set<RecordId> lost;
  for (int s = 0; s < seconds; ++s) {
    const TimeNs now = s * kSecond;
    for (size_t p = 0; p < parts.size(); ++p) {
      const std::string producer = p == 1 ? "p2" : "p1";
      std::vector<RecordId> batch;
      for (int i = 0; i < 40; ++i) {
        const RecordId r = next_record++;
        batch.push_back(r);
        twin.Each([&](History& h) { h.RecordSend(producer, r); });
      }
      // Every 7th second the last two of the batch are stored in the other order.
      if (s % 7 == 3) std::swap(batch[38], batch[39]);
      for (RecordId r : batch) {
        const int64_t offset = next_offset[p]++;
        acked[p].emplace_back(offset, r);
        if (s == seconds - 2 && r % 13 == 0) lost.insert(r);
        twin.Each([&](History& h) {
          h.RecordAck(AckEvent{now + static_cast<TimeNs>(r), producer, r, parts[p], offset});
        });
      }
      // Consumers poll what was acknowledged before this second's batch.
      const size_t upto = acked[p].size() - batch.size();
      for (size_t i = polled_upto[p]; i < upto; ++i) {
        auto [offset, r] = acked[p][i];
        const bool wrong = p == 0 && offset == 517;  // a poll returns another record
        for (const char* group : p == 2 ? std::vector<const char*>{"g3"}
                                        : std::vector<const char*>{"g1", "g2"}) {
          if (std::string(group) == "g2" && r % 50 == 0) continue;  // skipped by g2
          const std::string consumer = std::string(group) + "-c";
          twin.Each([&](History& h) {
            h.RecordPoll(PollEvent{now, consumer, group, 1, parts[p], offset,
                                   wrong && std::string(group) == "g1" ? r + 100000 : r});
          });
        }
      }
      polled_upto[p] = upto;
      // Retention keeps about the last 300 offsets on every replica.
      const int64_t floor = std::max<int64_t>(0, (next_offset[p] - 300) / 100 * 100);
      twin.Each([&](History& h) { h.ObserveLogStart(parts[p], floor, now); });
    }
    if (s % 5 == 0) {
      twin.Each([&](History& h) {
        h.RecordCommit(now, "g1-c", "g1", 1, parts[0], s == 10 ? 5 : 100 * s, true);
      });
    }
    if (s == 4) {
      twin.Each([&](History& h) {
        h.RecordAssignment(now, "g1", 1, "g1-c", {parts[0], parts[1]});
        h.RecordAssignment(now, "g1", 1, "g1-d", {parts[1]});
        h.RecordAssignment(now, "g3", 1, "g3-c", {parts[2]});
      });
    }
    twin.Tick(now);
    const int64_t live = twin.retiring().live_ops();
    g.max_live_ops = std::max(g.max_live_ops, live);
    if (s < seconds / 3) g.max_live_ops_first_third = g.max_live_ops;
  }
  g.lost = lost.size();
  // The end: the final read and two replicas hold everything from the floor on, except the
  // lost records; one record stays on a replica only (held but unreadable).
  for (size_t p = 0; p < parts.size(); ++p) {
    const int64_t floor = twin.keeping().retention_floor(twin.keeping().FindPart(parts[p]));
    std::map<int64_t, RecordId> log;
    for (auto [offset, r] : acked[p]) {
      if (offset >= floor && lost.count(r) == 0) log[offset] = r;
    }
    ReplicaLog rep;
    rep.broker = 1;
    rep.log_start_offset = floor;
    rep.high_watermark = next_offset[p];
    rep.records = log;
    std::map<int64_t, RecordId> read = log;
    if (p == 1) read.erase(read.rbegin()->first);
    twin.Each([&](History& h) {
      h.final_reads[parts[p]] = read;
      h.final_read_complete[parts[p]] = true;
      h.replicas[parts[p]] = {rep, rep};
    });
  }
  return g;
}

TEST(RetirementTest, RetiredRecordsAreJudgedExactlyAsKeptOnes) {
  Twin twin(3 * kSecond);
  Generated g = Generate(twin, 150);
  EXPECT_GT(twin.retiring().retired_ops(), 0);
  EXPECT_EQ(twin.keeping().retired_ops(), 0);
  EXPECT_EQ(twin.retiring().late_ops(), 0);
  EXPECT_LT(twin.retiring().live_ops() * 4, twin.keeping().live_ops());
  EXPECT_LT(twin.retiring().live_bytes() * 3, twin.keeping().live_bytes());
  // Bounded: what is held does not grow with the length of the run.
  EXPECT_LE(g.max_live_ops, g.max_live_ops_first_third + 2 * History::kBucketOffsets * 5);
  ExpectSameResults(twin.retiring(), twin.keeping());
  // The planted anomalies, retired or not, are all reported.
  const History& h = twin.retiring();
  EXPECT_EQ(CheckConsistentOffsets(h).anomalies.size(), 1u);
  EXPECT_EQ(CheckConsistentOffsets(h).anomalies[0].offset, 517);
  EXPECT_EQ(CheckCommitsMonotonic(h).anomalies.size(), 1u);
  EXPECT_EQ(CheckGroupSafety(h).anomalies.size(), 1u);
  EXPECT_EQ(CheckLiveness(h).anomalies.size(), 1u);
  CheckResult consumed = CheckAllAckedConsumed(h);
  EXPECT_GT(consumed.anomalies.size(), 40u);  // g2's skips, most of them retired
  ASSERT_GT(g.lost, 0u);
  EXPECT_EQ(CheckNoLostAckedWrites(h).summary,
            std::to_string(g.lost) + " acknowledged records lost");
  EXPECT_EQ(CheckPartitionOrder(h).status, CheckStatus::kFail);
}

TEST(RetirementTest, AnUnconsumedRetiredRecordPolledLateIsConsumed) {
  Twin twin(0);
  const TopicPartition tp{"t", 0};
  twin.Each([&](History& h) {
    for (RecordId r = 1; r <= 2 * History::kBucketOffsets; ++r) {
      h.RecordSend("p1", r);
      h.RecordAck(AckEvent{0, "p1", r, tp, static_cast<int64_t>(r - 1)});
      if (r != 7) h.RecordPoll(PollEvent{0, "g1-c", "g1", 1, tp, static_cast<int64_t>(r - 1), r});
    }
    h.ObserveLogStart(tp, History::kBucketOffsets, 0);
  });
  twin.Tick(kSecond);
  // g1 missed record 7; g2 (declared for "t") never read it at all: not an anomaly unless it
  // ever does, but held.
  const History& r = twin.retiring();
  EXPECT_EQ(r.unconsumed().at(*r.FindName("g1")).size(), 1u);
  EXPECT_EQ(r.unconsumed().at(*r.FindName("g2")).size(), History::kBucketOffsets);
  EXPECT_EQ(CheckAllAckedConsumed(twin.retiring()).anomalies.size(), 1u);
  twin.Each([&](History& h) { h.RecordPoll(PollEvent{0, "g1-c", "g1", 2, tp, 6, 7}); });
  EXPECT_EQ(twin.retiring().late_ops(), 1);
  EXPECT_EQ(CheckAllAckedConsumed(twin.retiring()).status, CheckStatus::kPass);
  EXPECT_EQ(CheckAllAckedConsumed(twin.keeping()).status, CheckStatus::kPass);
}

TEST(RetirementTest, CompactedPartitionsAreNeverRetired) {
  History h;
  h.set_retire_lag(0);
  const TopicPartition tp{"c", 0};
  for (RecordId r = 1; r <= 2 * History::kBucketOffsets; ++r) {
    AckEvent a{0, "p1", r, tp, static_cast<int64_t>(r - 1)};
    a.compacted = true;
    a.key = "k" + std::to_string(r % 10);
    h.RecordAck(a);
  }
  h.ObserveLogStart(tp, 2 * History::kBucketOffsets, 0);
  h.Retire(kSecond);
  EXPECT_EQ(h.retired_ops(), 0);
  EXPECT_EQ(h.live_ops(), 2 * History::kBucketOffsets);
  EXPECT_EQ(h.key_count(), 11u);  // ten keys, interned once (and kNoKey)
}

TEST(RetirementTest, OperationsArePacked) {
  EXPECT_LE(sizeof(AckOp), 48u);
  EXPECT_LE(sizeof(PollOp), 48u);
  History h;
  const TopicPartition tp{"a-rather-long-topic-name-for-sso", 3};
  for (RecordId r = 1; r <= 1000; ++r) {
    h.RecordSend("a-rather-long-producer-client-id", r);
    h.RecordAck(AckEvent{0, "a-rather-long-producer-client-id", r, tp,
                         static_cast<int64_t>(r - 1)});
    h.RecordPoll(PollEvent{0, "a-rather-long-consumer-client-id", "a-rather-long-group-id", 1,
                           tp, static_cast<int64_t>(r - 1), r});
  }
  EXPECT_EQ(h.live_ops(), 2000);
  // About 48 bytes an operation plus vector slack; the names are held once.
  EXPECT_LT(h.live_bytes(), 2000 * 80);
  EXPECT_EQ(h.name(*h.FindName("a-rather-long-group-id")), "a-rather-long-group-id");
}

}  // namespace
}  // namespace ksim
