// Each checker is fed a hand-made history: it must catch the anomaly and pass the clean case.
#include "sim/check/checkers.h"

#include "gtest/gtest.h"

namespace ksim {
namespace {

const TopicPartition kTp{"orders", 0};

AckOp Ack(RecordId r, int64_t offset, std::string producer = "p1", TimeNs t = 0) {
  AckOp a;
  a.time = t;
  a.producer = std::move(producer);
  a.record = r;
  a.tp = kTp;
  a.offset = offset;
  return a;
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
History CleanHistory() {
  History h;
  for (RecordId r = 1; r <= 3; ++r) h.sends.push_back(SendOp{0, "p1", r, "orders"});
  for (RecordId r = 1; r <= 3; ++r) h.acks.push_back(Ack(r, static_cast<int64_t>(r - 1)));
  h.final_reads[kTp] = {{0, 1}, {1, 2}, {2, 3}};
  h.final_read_complete[kTp] = true;
  h.replicas[kTp] = {Replica(1, {{0, 1}, {1, 2}, {2, 3}}, 3),
                     Replica(2, {{0, 1}, {1, 2}, {2, 3}}, 3)};
  h.polls.push_back(PollOp{0, "c1", "g", 1, kTp, 0, 1});
  h.polls.push_back(PollOp{0, "c1", "g", 1, kTp, 1, 2});
  h.polls.push_back(PollOp{0, "c1", "g", 1, kTp, 2, 3});
  h.assignments.push_back(AssignmentOp{0, "g", 1, "c1", {kTp}});
  h.commits.push_back(CommitOp{0, "c1", "g", 1, kTp, 2, true});
  h.commits.push_back(CommitOp{0, "c1", "g", 1, kTp, 3, true});
  return h;
}

TEST(CheckersTest, CleanHistoryPassesEveryCheck) {
  History h = CleanHistory();
  for (const std::string& name : AllCheckNames()) {
    CheckResult r = RunCheck(name, h);
    EXPECT_EQ(r.status, CheckStatus::kPass) << name << ": " << r.summary;
  }
}

TEST(CheckersTest, LostAcknowledgedWriteIsCaught) {
  History h = CleanHistory();
  h.final_reads[kTp].erase(1);
  for (auto& rep : h.replicas[kTp]) rep.records.erase(1);
  CheckResult r = CheckNoLostAckedWrites(h);
  ASSERT_EQ(r.status, CheckStatus::kFail);
  ASSERT_EQ(r.anomalies.size(), 1u);
  EXPECT_EQ(r.anomalies[0].record, 2u);
  EXPECT_EQ(r.anomalies[0].offset, 1);
}

TEST(CheckersTest, RecordOnlyOnACrashedReplicaIsLost) {
  History h = CleanHistory();
  h.final_reads[kTp].erase(2);
  h.replicas[kTp][0].records.erase(2);
  h.replicas[kTp][1].alive = false;  // still has it, but is down
  EXPECT_EQ(CheckNoLostAckedWrites(h).status, CheckStatus::kFail);
}

TEST(CheckersTest, FailedAndAcksZeroRecordsPromiseNothing) {
  History h = CleanHistory();
  AckOp failed = Ack(9, -1);
  failed.error = Error::kRequestTimedOut;
  AckOp fire_and_forget = Ack(10, -1);
  fire_and_forget.acks_zero = true;
  h.acks.push_back(failed);
  h.acks.push_back(fire_and_forget);
  EXPECT_EQ(CheckNoLostAckedWrites(h).status, CheckStatus::kPass);
}

TEST(CheckersTest, DuplicateInFinalLogIsCaught) {
  History h = CleanHistory();
  h.final_reads[kTp][3] = 2;
  CheckResult r = CheckNoDuplicates(h);
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].record, 2u);
  EXPECT_EQ(r.anomalies[0].offset, 3);
}

TEST(CheckersTest, ReorderedAcknowledgementsAreCaught) {
  History h = CleanHistory();
  h.acks[1].offset = 5;  // record 2 stored after record 3
  h.acks[2].offset = 4;
  CheckResult r = CheckPartitionOrder(h);
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].record, 3u);
}

TEST(CheckersTest, NonmonotonicAndSkippingPollsAreCaught) {
  History h = CleanHistory();
  h.polls.push_back(PollOp{0, "c1", "g", 1, kTp, 1, 2});  // back to offset 1
  EXPECT_EQ(CheckPartitionOrder(h).status, CheckStatus::kFail);
  History s = CleanHistory();
  s.polls.erase(s.polls.begin() + 1);  // offset 0 then 2: offset 1 skipped
  CheckResult r = CheckPartitionOrder(s);
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].offset, 1);
  // A new generation may legitimately start over.
  History g = CleanHistory();
  g.polls.push_back(PollOp{0, "c1", "g", 2, kTp, 0, 1});
  EXPECT_EQ(CheckPartitionOrder(g).status, CheckStatus::kPass);
}

TEST(CheckersTest, TwoRecordsAtOneOffsetAreCaught) {
  History h = CleanHistory();
  h.polls.push_back(PollOp{0, "c2", "g2", 1, kTp, 1, 7});
  CheckResult r = CheckConsistentOffsets(h);
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].offset, 1);
}

TEST(CheckersTest, DivergingReplicasBelowHighWatermarkAreCaught) {
  History h = CleanHistory();
  h.replicas[kTp][1].records[1] = 8;
  EXPECT_EQ(CheckReplicasAgree(h).status, CheckStatus::kFail);
  // Divergence above the high watermark is allowed (not committed yet).
  History a = CleanHistory();
  a.replicas[kTp][0].high_watermark = 1;
  a.replicas[kTp][1].records[2] = 8;
  EXPECT_EQ(CheckReplicasAgree(a).status, CheckStatus::kPass);
}

TEST(CheckersTest, HeldButUnreadableRecordIsALivenessFailure) {
  History h = CleanHistory();
  h.final_reads[kTp].erase(2);
  h.final_read_complete[kTp] = false;
  CheckResult r = CheckLiveness(h);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies.size(), 2u);
  EXPECT_EQ(CheckNoLostAckedWrites(h).status, CheckStatus::kPass);  // a replica still has it
}

TEST(CheckersTest, UnconsumedRecordIsCaught) {
  History h = CleanHistory();
  h.polls.pop_back();
  CheckResult r = CheckAllAckedConsumed(h);
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].record, 3u);
  History none;
  EXPECT_EQ(CheckAllAckedConsumed(none).status, CheckStatus::kSkipped);
}

TEST(CheckersTest, PartitionOwnedTwiceInAGenerationIsCaught) {
  History h = CleanHistory();
  h.assignments.push_back(AssignmentOp{0, "g", 1, "c2", {kTp}});
  EXPECT_EQ(CheckGroupSafety(h).status, CheckStatus::kFail);
  History next = CleanHistory();
  next.assignments.push_back(AssignmentOp{0, "g", 2, "c2", {kTp}});
  EXPECT_EQ(CheckGroupSafety(next).status, CheckStatus::kPass);
}

TEST(CheckersTest, BackwardCommitIsCaught) {
  History h = CleanHistory();
  h.commits.push_back(CommitOp{0, "c1", "g", 1, kTp, 1, true});
  EXPECT_EQ(CheckCommitsMonotonic(h).status, CheckStatus::kFail);
  History failed = CleanHistory();
  failed.commits.push_back(CommitOp{0, "c1", "g", 1, kTp, 1, false});
  EXPECT_EQ(CheckCommitsMonotonic(failed).status, CheckStatus::kPass);
}

// A compacted topic: record 1 (key "a" at offset 0) is superseded by record 3 (key "a" at
// offset 2), and the log cleaner removed it from the final read and from one replica.
History CompactedHistory(bool compacted) {
  History h = CleanHistory();
  const char* keys[] = {"a", "b", "a"};
  for (size_t i = 0; i < h.acks.size(); ++i) {
    h.acks[i].compacted = compacted;
    if (compacted) h.acks[i].key = keys[i];
  }
  h.final_reads[kTp].erase(0);
  h.replicas[kTp][1].records.erase(0);
  h.polls.erase(h.polls.begin());  // consumed after the clean
  return h;
}

TEST(CheckersTest, SupersededRecordsOfCompactedTopicsAreNotLost) {
  History h = CompactedHistory(true);
  for (const std::string& name : AllCheckNames()) {
    CheckResult r = RunCheck(name, h);
    EXPECT_EQ(r.status, CheckStatus::kPass) << name << ": " << r.summary;
  }
  // Gone from every replica: still not a loss, a later record with its key is there.
  h.replicas[kTp][0].records.erase(0);
  EXPECT_EQ(CheckNoLostAckedWrites(h).status, CheckStatus::kPass);
  // The latest record of a key is never allowed to go.
  History latest = CompactedHistory(true);
  latest.final_reads[kTp].erase(2);
  for (auto& rep : latest.replicas[kTp]) rep.records.erase(2);
  CheckResult r = CheckNoLostAckedWrites(latest);
  ASSERT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.anomalies[0].record, 3u);
  // Without compaction the same history is a loss and a divergence.
  History plain = CompactedHistory(false);
  for (auto& rep : plain.replicas[kTp]) rep.records.erase(0);
  EXPECT_EQ(CheckNoLostAckedWrites(plain).status, CheckStatus::kFail);
  EXPECT_EQ(CheckAllAckedConsumed(plain).status, CheckStatus::kFail);
  History diverged = CompactedHistory(false);
  EXPECT_EQ(CheckReplicasAgree(diverged).status, CheckStatus::kFail);
}

}  // namespace
}  // namespace ksim
