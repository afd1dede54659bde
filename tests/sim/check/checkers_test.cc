// Each checker is fed a hand-made history: it must catch the anomaly and pass the clean case.
#include "sim/check/checkers.h"

#include <functional>

#include "gtest/gtest.h"

namespace ksim {
namespace {

const TopicPartition kTp{"orders", 0};

// A history as plain data (what the tests edit), replayed into a History.
struct TAck {
  RecordId record = 0;
  int64_t offset = -1;
  std::string producer = "p1";
  TimeNs time = 0;
  Error error = Error::kNone;
  bool acks_zero = false;
  bool compacted = false;
  std::optional<std::string> key;
  TopicPartition tp = kTp;
};
struct TPoll {
  std::string consumer;
  std::string group;
  int32_t generation = -1;
  int64_t offset = -1;
  RecordId record = 0;
  TopicPartition tp = kTp;
};
struct TCommit {
  std::string group;
  int32_t generation = -1;
  int64_t offset = -1;
  bool ok = true;
};
struct TAssignment {
  std::string group;
  int32_t generation = -1;
  std::string member;
};
struct Spec {
  std::vector<std::pair<std::string, RecordId>> sends;
  std::vector<TAck> acks;
  std::vector<TPoll> polls;
  std::vector<TCommit> commits;
  std::vector<TAssignment> assignments;
  std::map<TopicPartition, std::map<int64_t, RecordId>> final_reads;
  std::map<TopicPartition, bool> final_read_complete;
  std::map<TopicPartition, std::vector<ReplicaLog>> replicas;
};

AckEvent ToEvent(const TAck& a) {
  return AckEvent{a.time,  a.producer, a.record,    a.tp,   a.offset,
                  a.error, a.acks_zero, a.compacted, a.key};
}

History Build(const Spec& s) {
  History h;
  for (const auto& [producer, record] : s.sends) h.RecordSend(producer, record);
  for (const TAck& a : s.acks) h.RecordAck(ToEvent(a));
  for (const TPoll& p : s.polls) {
    h.RecordPoll(PollEvent{0, p.consumer, p.group, p.generation, p.tp, p.offset, p.record});
  }
  for (const TCommit& c : s.commits) {
    h.RecordCommit(0, "c1", c.group, c.generation, kTp, c.offset, c.ok);
  }
  for (const TAssignment& a : s.assignments) {
    h.RecordAssignment(0, a.group, a.generation, a.member, {kTp});
  }
  h.final_reads = s.final_reads;
  h.final_read_complete = s.final_read_complete;
  h.replicas = s.replicas;
  return h;
}

ReplicaLog Replica(int32_t broker, std::map<int64_t, RecordId> records, int64_t hw,
                   bool alive = true) {
  ReplicaLog r;
  r.broker = broker;
  r.records = std::move(records);
  r.high_watermark = hw;
  r.alive = alive;
  return r;
}

// A clean run: three records sent, acknowledged in order, read back, replicas agree.
Spec CleanSpec() {
  Spec s;
  for (RecordId r = 1; r <= 3; ++r) s.sends.emplace_back("p1", r);
  for (RecordId r = 1; r <= 3; ++r) s.acks.push_back(TAck{r, static_cast<int64_t>(r - 1)});
  s.final_reads[kTp] = {{0, 1}, {1, 2}, {2, 3}};
  s.final_read_complete[kTp] = true;
  s.replicas[kTp] = {Replica(1, {{0, 1}, {1, 2}, {2, 3}}, 3),
                     Replica(2, {{0, 1}, {1, 2}, {2, 3}}, 3)};
  s.polls = {TPoll{"c1", "g", 1, 0, 1}, TPoll{"c1", "g", 1, 1, 2}, TPoll{"c1", "g", 1, 2, 3}};
  s.assignments = {TAssignment{"g", 1, "c1"}};
  s.commits = {TCommit{"g", 1, 2}, TCommit{"g", 1, 3}};
  return s;
}

TEST(CheckersTest, CleanHistoryPassesEveryCheck) {
  History h = Build(CleanSpec());
  for (const std::string& name : AllCheckNames()) {
    CheckResult r = RunCheck(name, h);
    EXPECT_EQ(r.status, CheckStatus::kPass) << name << ": " << r.summary;
  }
}

TEST(CheckersTest, LostAcknowledgedWriteIsCaught) {
  Spec s = CleanSpec();
  s.final_reads[kTp].erase(1);
  for (auto& rep : s.replicas[kTp]) rep.records.erase(1);
  CheckResult r = CheckNoLostAckedWrites(Build(s));
  ASSERT_EQ(r.status, CheckStatus::kFail);
  ASSERT_EQ(r.anomalies.size(), 1u);
  EXPECT_EQ(r.anomalies[0].record, 2u);
  EXPECT_EQ(r.anomalies[0].offset, 1);
  EXPECT_EQ(r.anomalies[0].message,
            "record 2 from p1 acknowledged at orders-0 offset 1 at 0.000000s is on no live "
            "replica and was not read back");
}

TEST(CheckersTest, RecordBelowTheRetentionFloorIsExpectedAbsent) {
  Spec s = CleanSpec();
  s.final_reads[kTp].erase(0);
  for (auto& rep : s.replicas[kTp]) {
    rep.records.erase(0);
    rep.log_start_offset = 1;
  }
  EXPECT_EQ(CheckNoLostAckedWrites(Build(s)).status, CheckStatus::kFail);  // floor unknown
  History h = Build(s);
  h.ObserveLogStart(kTp, 1, 0);
  CheckResult r = CheckNoLostAckedWrites(h);
  EXPECT_EQ(r.status, CheckStatus::kPass);
  EXPECT_EQ(r.summary, "3 acknowledged records all present");
  EXPECT_EQ(CheckLiveness(h).status, CheckStatus::kPass);
}

TEST(CheckersTest, RecordOnlyOnACrashedReplicaIsLost) {
  Spec s = CleanSpec();
  s.final_reads[kTp].erase(2);
  s.replicas[kTp][0].records.erase(2);
  s.replicas[kTp][1].alive = false;  // still has it, but is down
  EXPECT_EQ(CheckNoLostAckedWrites(Build(s)).status, CheckStatus::kFail);
}

TEST(CheckersTest, FailedAndAcksZeroRecordsPromiseNothing) {
  Spec s = CleanSpec();
  TAck failed{9, -1};
  failed.error = Error::kRequestTimedOut;
  TAck fire_and_forget{10, -1};
  fire_and_forget.acks_zero = true;
  s.acks.push_back(failed);
  s.acks.push_back(fire_and_forget);
  History h = Build(s);
  EXPECT_EQ(CheckNoLostAckedWrites(h).status, CheckStatus::kPass);
  CheckResult w = CheckNoLostWrites(h);  // the acks=0 send believed it stored record 10
  ASSERT_EQ(w.status, CheckStatus::kFail);
  EXPECT_EQ(w.anomalies[0].record, 10u);
}

TEST(CheckersTest, DuplicateInFinalLogIsCaught) {
  Spec s = CleanSpec();
  s.final_reads[kTp][3] = 2;
  CheckResult r = CheckNoDuplicates(Build(s));
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].record, 2u);
  EXPECT_EQ(r.anomalies[0].offset, 3);
}

TEST(CheckersTest, ReorderedAcknowledgementsAreCaught) {
  Spec s = CleanSpec();
  s.acks[1].offset = 5;  // record 2 stored after record 3
  s.acks[2].offset = 4;
  CheckResult r = CheckPartitionOrder(Build(s));
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].record, 3u);
  // Acknowledged in another order than sent: still judged in send order.
  std::swap(s.acks[1], s.acks[2]);
  r = CheckPartitionOrder(Build(s));
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].record, 3u);
  EXPECT_EQ(r.anomalies[0].message,
            "record 3 sent by p1 after record 2 was stored before it in orders-0 (offset 4 <= 5)");
}

TEST(CheckersTest, NonmonotonicAndSkippingPollsAreCaught) {
  Spec s = CleanSpec();
  s.polls.push_back(TPoll{"c1", "g", 1, 1, 2});  // back to offset 1
  EXPECT_EQ(CheckPartitionOrder(Build(s)).status, CheckStatus::kFail);
  Spec skip = CleanSpec();
  skip.polls.erase(skip.polls.begin() + 1);  // offset 0 then 2: offset 1 skipped
  CheckResult r = CheckPartitionOrder(Build(skip));
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].offset, 1);
  // A new generation may legitimately start over.
  Spec g = CleanSpec();
  g.polls.push_back(TPoll{"c1", "g", 2, 0, 1});
  EXPECT_EQ(CheckPartitionOrder(Build(g)).status, CheckStatus::kPass);
}

TEST(CheckersTest, TwoRecordsAtOneOffsetAreCaught) {
  Spec s = CleanSpec();
  s.polls.push_back(TPoll{"c2", "g2", 1, 1, 7});
  CheckResult r = CheckConsistentOffsets(Build(s));
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].offset, 1);
  EXPECT_EQ(r.anomalies[0].message,
            "orders-0 offset 1 holds record 2 for the ack to p1 but record 7 for poll by c2");
}

TEST(CheckersTest, DivergingReplicasBelowHighWatermarkAreCaught) {
  Spec s = CleanSpec();
  s.replicas[kTp][1].records[1] = 8;
  EXPECT_EQ(CheckReplicasAgree(Build(s)).status, CheckStatus::kFail);
  // Divergence above the high watermark is allowed (not committed yet).
  Spec a = CleanSpec();
  a.replicas[kTp][0].high_watermark = 1;
  a.replicas[kTp][1].records[2] = 8;
  EXPECT_EQ(CheckReplicasAgree(Build(a)).status, CheckStatus::kPass);
}

TEST(CheckersTest, HeldButUnreadableRecordIsALivenessFailure) {
  Spec s = CleanSpec();
  s.final_reads[kTp].erase(2);
  s.final_read_complete[kTp] = false;
  History h = Build(s);
  CheckResult r = CheckLiveness(h);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies.size(), 2u);
  EXPECT_EQ(CheckNoLostAckedWrites(h).status, CheckStatus::kPass);  // a replica still has it
}

TEST(CheckersTest, UnconsumedRecordIsCaught) {
  Spec s = CleanSpec();
  s.polls.pop_back();
  CheckResult r = CheckAllAckedConsumed(Build(s));
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].record, 3u);
  EXPECT_EQ(CheckAllAckedConsumed(History()).status, CheckStatus::kSkipped);
}

TEST(CheckersTest, PartitionOwnedTwiceInAGenerationIsCaught) {
  Spec s = CleanSpec();
  s.assignments.push_back(TAssignment{"g", 1, "c2"});
  EXPECT_EQ(CheckGroupSafety(Build(s)).status, CheckStatus::kFail);
  Spec next = CleanSpec();
  next.assignments.push_back(TAssignment{"g", 2, "c2"});
  EXPECT_EQ(CheckGroupSafety(Build(next)).status, CheckStatus::kPass);
}

TEST(CheckersTest, BackwardCommitIsCaught) {
  Spec s = CleanSpec();
  s.commits.push_back(TCommit{"g", 1, 1, true});
  EXPECT_EQ(CheckCommitsMonotonic(Build(s)).status, CheckStatus::kFail);
  Spec failed = CleanSpec();
  failed.commits.push_back(TCommit{"g", 1, 1, false});
  EXPECT_EQ(CheckCommitsMonotonic(Build(failed)).status, CheckStatus::kPass);
}

// A compacted topic: record 1 (key "a" at offset 0) is superseded by record 3 (key "a" at
// offset 2), and the log cleaner removed it from the final read and from one replica.
Spec CompactedSpec(bool compacted) {
  Spec s = CleanSpec();
  const char* keys[] = {"a", "b", "a"};
  for (size_t i = 0; i < s.acks.size(); ++i) {
    s.acks[i].compacted = compacted;
    if (compacted) s.acks[i].key = keys[i];
  }
  s.final_reads[kTp].erase(0);
  s.replicas[kTp][1].records.erase(0);
  s.polls.erase(s.polls.begin());  // consumed after the clean
  return s;
}

TEST(CheckersTest, SupersededRecordsOfCompactedTopicsAreNotLost) {
  Spec s = CompactedSpec(true);
  for (const std::string& name : AllCheckNames()) {
    CheckResult r = RunCheck(name, Build(s));
    EXPECT_EQ(r.status, CheckStatus::kPass) << name << ": " << r.summary;
  }
  // Gone from every replica: still not a loss, a later record with its key is there.
  s.replicas[kTp][0].records.erase(0);
  EXPECT_EQ(CheckNoLostAckedWrites(Build(s)).status, CheckStatus::kPass);
  // The latest record of a key is never allowed to go.
  Spec latest = CompactedSpec(true);
  latest.final_reads[kTp].erase(2);
  for (auto& rep : latest.replicas[kTp]) rep.records.erase(2);
  CheckResult r = CheckNoLostAckedWrites(Build(latest));
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].record, 3u);
  // Without compaction the same history is a loss and a divergence.
  Spec plain = CompactedSpec(false);
  for (auto& rep : plain.replicas[kTp]) rep.records.erase(0);
  EXPECT_EQ(CheckNoLostAckedWrites(Build(plain)).status, CheckStatus::kFail);
  EXPECT_EQ(CheckAllAckedConsumed(Build(plain)).status, CheckStatus::kFail);
  Spec diverged = CompactedSpec(false);
  EXPECT_EQ(CheckReplicasAgree(Build(diverged)).status, CheckStatus::kFail);
}

}  // namespace
}  // namespace ksim
