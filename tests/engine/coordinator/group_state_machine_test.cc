// Protocol state-machine tests for the broker-side GroupCoordinator: one test per (request,
// group state) pair that matters, against Apache Kafka 3.x's classic group coordinator
// (kafka.coordinator.group.GroupCoordinator / GroupMetadata / DelayedJoin).
//
// The coordinator runs on a real (simulated) single-broker cluster (coordinator_world.h).
//
// Tests named DISABLED_ describe Kafka's behaviour where ksim currently differs; the comment on
// each says what ksim does instead. The other tests carrying a "Kafka (...)" comment pin down
// behaviour ksim once lacked.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/engine/coordinator/coordinator_world.h"

namespace ksim::coordinator_test {
namespace {

// ================================================================================================
// Coordinator status: NOT_COORDINATOR before this broker leads the group's offsets partition.
// ================================================================================================

TEST(GroupStateMachineTest, EveryGroupApiAnswersNotCoordinatorBeforeOffsetsPartitionIsLed) {
  World w;
  w.Run(
      [&] {
        // Nothing has asked for a coordinator yet: __consumer_offsets does not exist.
        EXPECT_EQ(w.Join("", "a")->error, Error::kNotCoordinator);
        EXPECT_EQ(w.Sync("m", 1)->error, Error::kNotCoordinator);
        EXPECT_EQ(w.Heartbeat("m", 1), Error::kNotCoordinator);
        EXPECT_EQ(w.Leave("m"), Error::kNotCoordinator);
        EXPECT_EQ(w.CommitOne("", -1, 5), Error::kNotCoordinator);
        auto of = std::make_shared<OffsetFetchRequest>();
        of->group_id = kGroup;
        EXPECT_EQ(w.Call<OffsetFetchResponse>(of)->error, Error::kNotCoordinator);
        EXPECT_EQ(w.Describe().error, Error::kNotCoordinator);
        // Once it leads the partition, the same requests are served.
        ASSERT_TRUE(w.WaitReady());
        EXPECT_EQ(w.Join("", "a")->error, Error::kMemberIdRequired);
      },
      /*wait_ready=*/false);
}

// ================================================================================================
// JoinGroup
// ================================================================================================

TEST(GroupStateMachineTest, JoinWithEmptyMemberIdReturnsMemberIdRequired) {
  World w;
  w.Run([&] {
    auto r = w.Join("", "a");
    EXPECT_EQ(r->error, Error::kMemberIdRequired);  // KIP-394
    EXPECT_FALSE(r->member_id.empty());
    EXPECT_EQ(r->generation_id, -1);
    // Only a pending member: the group did not start rebalancing.
    EXPECT_EQ(w.State(), "Empty");
    // Each such join hands out a fresh id.
    EXPECT_NE(w.Join("", "a")->member_id, r->member_id);
  });
}

TEST(GroupStateMachineTest, JoinWithUnknownMemberIdIsRejected) {
  World w;
  w.Run([&] {
    EXPECT_EQ(w.Join("never-handed-out", "a")->error, Error::kUnknownMemberId);
    Stable s = w.MakeStable({"a"});
    EXPECT_EQ(w.Join("never-handed-out", "a")->error, Error::kUnknownMemberId);
    EXPECT_EQ(w.State(), "Stable");  // no rebalance for it
    EXPECT_EQ(w.Describe().generation_id, s.generation);
  });
}

TEST(GroupStateMachineTest, JoinWithSessionTimeoutOutsideBrokerBoundsIsRejected) {
  World w;
  w.Run([&] {
    MemberOptions o;
    o.session_timeout_ms = 5999;  // group.min.session.timeout.ms = 6000
    EXPECT_EQ(w.Join("", "a", o)->error, Error::kInvalidSessionTimeout);
    o.session_timeout_ms = 1800001;  // group.max.session.timeout.ms = 1800000
    EXPECT_EQ(w.Join("", "a", o)->error, Error::kInvalidSessionTimeout);
  });
}

TEST(GroupStateMachineTest, FirstJoinOfEmptyGroupWaitsInitialRebalanceDelay) {
  World w;
  w.Run([&] {
    const std::string a = w.NewMemberId("a");
    AsyncJoin j = w.JoinAsync(a, "a");
    Sleep(kSecond);
    EXPECT_FALSE(j->done());
    EXPECT_EQ(w.State(), "PreparingRebalance");
    ASSERT_TRUE(w.Await(j));
    EXPECT_EQ(j->resp->error, Error::kNone);
    // group.initial.rebalance.delay.ms = 3000.
    EXPECT_GE(j->finished - j->started, 3 * kSecond);
    EXPECT_LE(j->finished - j->started, 3 * kSecond + kSlack);
    EXPECT_EQ(j->resp->generation_id, 1);
    EXPECT_EQ(j->resp->leader, a);
    EXPECT_EQ(j->resp->member_id, a);
    EXPECT_EQ(j->resp->protocol_name, "range");
    ASSERT_EQ(j->resp->members.size(), 1u);  // the leader gets the members' subscriptions
    EXPECT_EQ(j->resp->members[0].member_id, a);
    EXPECT_EQ(j->resp->members[0].subscription.topics, std::vector<std::string>{"orders"});
    EXPECT_EQ(w.State(), "CompletingRebalance");
  });
}

TEST(GroupStateMachineTest, MembersJoiningDuringInitialDelayShareOneGeneration) {
  World w;
  w.Run([&] {
    const std::string a = w.NewMemberId("a");
    const std::string b = w.NewMemberId("b");
    AsyncJoin ja = w.JoinAsync(a, "a");
    Sleep(kSecond);
    AsyncJoin jb = w.JoinAsync(b, "b");
    ASSERT_TRUE(w.Await(ja));
    ASSERT_TRUE(w.Await(jb));
    EXPECT_EQ(ja->resp->error, Error::kNone);
    EXPECT_EQ(jb->resp->error, Error::kNone);
    EXPECT_EQ(ja->resp->generation_id, 1);
    EXPECT_EQ(jb->resp->generation_id, 1);
    EXPECT_EQ(ja->resp->leader, a);
    EXPECT_EQ(jb->resp->leader, a);
    EXPECT_EQ(ja->resp->members.size(), 2u);  // leader
    EXPECT_TRUE(jb->resp->members.empty());   // follower
  });
}

// Kafka's InitialDelayedJoin: when a new member joins during the delay, the delay is extended
// by another group.initial.rebalance.delay.ms (bounded by the rebalance timeout). A joins at 0,
// B at 2 s: the first delay expires at 3 s, sees B, and waits until 6 s.
TEST(GroupStateMachineTest, InitialDelayIsExtendedWhenAMemberJoinsDuringIt) {
  World w;
  w.Run([&] {
    const std::string a = w.NewMemberId("a");
    const std::string b = w.NewMemberId("b");
    AsyncJoin ja = w.JoinAsync(a, "a");
    Sleep(2 * kSecond);
    AsyncJoin jb = w.JoinAsync(b, "b");
    ASSERT_TRUE(w.Await(ja));
    ASSERT_TRUE(w.Await(jb));
    EXPECT_GE(ja->finished - ja->started, 6 * kSecond);
    EXPECT_EQ(ja->resp->generation_id, 1);
    EXPECT_EQ(jb->resp->generation_id, 1);
  });
}

// Kafka applies InitialDelayedJoin whenever a rebalance starts from Empty (prepareRebalance:
// `if (group.is(Empty)) new InitialDelayedJoin(...)`), not only for generation 0.
TEST(GroupStateMachineTest, InitialDelayAppliesWhenAnEmptiedGroupRebalancesAgain) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    ASSERT_EQ(w.Leave(s.ids[0]), Error::kNone);
    ASSERT_EQ(w.State(), "Empty");
    const std::string b = w.NewMemberId("b");
    AsyncJoin jb = w.JoinAsync(b, "b");
    ASSERT_TRUE(w.Await(jb));
    EXPECT_EQ(jb->resp->error, Error::kNone);
    EXPECT_GE(jb->finished - jb->started, 3 * kSecond);
  });
}

// Kafka: with group.initial.rebalance.delay.ms = 0 the InitialDelayedJoin expires at once, so
// the first member's join completes without waiting for the session loop or other members.
TEST(GroupStateMachineTest, ZeroInitialDelayCompletesFirstJoinAtOnce) {
  World w(WorldOptions{.initial_rebalance_delay_ns = 0});
  w.Run([&] {
    const std::string a = w.NewMemberId("a");
    auto r = w.Join(a, "a");
    EXPECT_EQ(r->error, Error::kNone);
    EXPECT_EQ(r->generation_id, 1);
    EXPECT_EQ(r->leader, a);
    EXPECT_EQ(w.State(), "CompletingRebalance");
  });
}

TEST(GroupStateMachineTest, StableFollowerRejoiningWithSameMetadataGetsCurrentGeneration) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    auto r = w.Join(s.ids[1], "b");  // answered at once: no rebalance
    EXPECT_EQ(r->error, Error::kNone);
    EXPECT_EQ(r->generation_id, s.generation);
    EXPECT_EQ(r->leader, s.leader);
    EXPECT_TRUE(r->members.empty());
    EXPECT_EQ(w.State(), "Stable");
    EXPECT_EQ(w.Heartbeat(s.ids[0], s.generation), Error::kNone);
    // It may sync again and gets its assignment.
    auto sync = w.Sync(s.ids[1], s.generation);
    EXPECT_EQ(sync->error, Error::kNone);
    EXPECT_EQ(sync->assignment.partitions, std::vector<TopicPartition>{kTp1});
  });
}

TEST(GroupStateMachineTest, StableLeaderRejoiningTriggersRebalance) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    AsyncJoin ja = w.JoinAsync(s.leader, "a");
    Sleep(100 * kMillisecond);
    EXPECT_FALSE(ja->done());  // waits for b
    EXPECT_EQ(w.State(), "PreparingRebalance");
    EXPECT_EQ(w.Heartbeat(s.ids[1], s.generation), Error::kRebalanceInProgress);
    AsyncJoin jb = w.JoinAsync(s.ids[1], "b");
    ASSERT_TRUE(w.Await(ja));
    ASSERT_TRUE(w.Await(jb));
    EXPECT_EQ(ja->resp->error, Error::kNone);
    EXPECT_EQ(jb->resp->error, Error::kNone);
    EXPECT_EQ(ja->resp->generation_id, s.generation + 1);
    EXPECT_EQ(jb->resp->generation_id, s.generation + 1);
    // Not a first rebalance: completes as soon as everyone rejoined, without the initial delay.
    EXPECT_LT(jb->finished - jb->started, kSlack);
    EXPECT_EQ(w.State(), "CompletingRebalance");
  });
}

TEST(GroupStateMachineTest, StableFollowerWithChangedSubscriptionTriggersRebalance) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    MemberOptions changed;
    changed.protocols = Range({"orders", "payments"});
    AsyncJoin jb = w.JoinAsync(s.ids[1], "b", changed);
    Sleep(100 * kMillisecond);
    EXPECT_FALSE(jb->done());
    EXPECT_EQ(w.State(), "PreparingRebalance");
    EXPECT_EQ(w.Heartbeat(s.leader, s.generation), Error::kRebalanceInProgress);
    AsyncJoin ja = w.JoinAsync(s.leader, "a");
    ASSERT_TRUE(w.Await(jb));
    ASSERT_TRUE(w.Await(ja));
    EXPECT_EQ(jb->resp->generation_id, s.generation + 1);
    // The leader sees b's new subscription.
    ASSERT_EQ(ja->resp->members.size(), 2u);
    for (const JoinGroupMember& m : ja->resp->members) {
      if (m.member_id == s.ids[1]) {
        EXPECT_EQ(m.subscription.topics, (std::vector<std::string>{"orders", "payments"}));
      }
    }
  });
}

TEST(GroupStateMachineTest, NewMemberJoiningStableGroupTriggersRebalance) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    const std::string c = w.NewMemberId("c");
    EXPECT_EQ(w.State(), "Stable");  // a pending member alone does not rebalance
    AsyncJoin jc = w.JoinAsync(c, "c");
    Sleep(100 * kMillisecond);
    EXPECT_FALSE(jc->done());
    EXPECT_EQ(w.State(), "PreparingRebalance");
    EXPECT_EQ(w.Heartbeat(s.ids[0], s.generation), Error::kRebalanceInProgress);
    EXPECT_EQ(w.Heartbeat(s.ids[1], s.generation), Error::kRebalanceInProgress);
    AsyncJoin ja = w.JoinAsync(s.ids[0], "a");
    AsyncJoin jb = w.JoinAsync(s.ids[1], "b");
    for (const AsyncJoin& j : {ja, jb, jc}) {
      ASSERT_TRUE(w.Await(j));
      EXPECT_EQ(j->resp->error, Error::kNone);
      EXPECT_EQ(j->resp->generation_id, s.generation + 1);
      EXPECT_EQ(j->resp->leader, s.leader);  // the leader stays
    }
    EXPECT_EQ(ja->resp->members.size(), 3u);
  });
}

// Kafka (doCurrentMemberJoinGroup, CompletingRebalance): a member rejoining with unchanged
// metadata (it may have missed the JoinGroup response) gets the current generation back and
// the group stays in CompletingRebalance.
TEST(GroupStateMachineTest, CompletingRebalanceRejoinWithSameMetadataGetsCurrentGeneration) {
  World w;
  w.Run([&] {
    const std::string a = w.NewMemberId("a");
    const std::string b = w.NewMemberId("b");
    AsyncJoin ja = w.JoinAsync(a, "a");
    AsyncJoin jb = w.JoinAsync(b, "b");
    ASSERT_TRUE(w.Await(ja));
    ASSERT_TRUE(w.Await(jb));
    ASSERT_EQ(w.State(), "CompletingRebalance");
    AsyncJoin again = w.JoinAsync(b, "b");
    Sleep(100 * kMillisecond);
    ASSERT_TRUE(again->done());
    EXPECT_EQ(again->resp->error, Error::kNone);
    EXPECT_EQ(again->resp->generation_id, jb->resp->generation_id);
    EXPECT_EQ(w.State(), "CompletingRebalance");
  });
}

// Kafka (doCurrentMemberJoinGroup): supportsProtocols is checked for a pending member's second
// JoinGroup too. (Its first JoinGroup is checked as well, below, so the id is handed out to a
// compatible first JoinGroup here.)
TEST(GroupStateMachineTest, PendingMemberWithNoCommonProtocolGetsInconsistentGroupProtocol) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    MemberOptions rr;
    rr.protocols = {{"roundrobin", Sub()}};
    const std::string c = w.NewMemberId("c");
    EXPECT_EQ(w.Join(c, "c", rr)->error, Error::kInconsistentGroupProtocol);
    EXPECT_EQ(w.State(), "Stable");
    EXPECT_EQ(w.Describe().generation_id, s.generation);
    // A member that also supports the group's protocol is accepted.
    MemberOptions both;
    both.protocols = {{"roundrobin", Sub()}, {"range", Sub()}};
    AsyncJoin jc = w.JoinAsync(c, "c", both);
    AsyncJoin ja = w.JoinAsync(s.leader, "a");
    ASSERT_TRUE(w.Await(jc));
    EXPECT_EQ(jc->resp->error, Error::kNone);
    EXPECT_EQ(jc->resp->protocol_name, "range");
  });
}

// Kafka (doNewMemberJoinGroup): supportsProtocols is checked before a member id is handed out,
// so a new member with no protocol in common gets INCONSISTENT_GROUP_PROTOCOL at once.
TEST(GroupStateMachineTest, NewMemberWithNoCommonProtocolIsRejectedBeforeGettingAnId) {
  World w;
  w.Run([&] {
    w.MakeStable({"a"});
    MemberOptions rr;
    rr.protocols = {{"roundrobin", Sub()}};
    EXPECT_EQ(w.Join("", "c", rr)->error, Error::kInconsistentGroupProtocol);
  });
}

// Kafka (GroupMetadata.supportsProtocols): a non-empty group also requires the same
// protocol_type ("consumer" vs "connect"), both before a member id is handed out and when a
// pending member joins with its id.
TEST(GroupStateMachineTest, MemberWithDifferentProtocolTypeIsRejected) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    MemberOptions connect;
    connect.protocol_type = "connect";
    auto first = w.Join("", "c", connect);
    EXPECT_EQ(first->error, Error::kInconsistentGroupProtocol);
    EXPECT_TRUE(first->member_id.empty());
    const std::string c = w.NewMemberId("c");
    EXPECT_EQ(w.Join(c, "c", connect)->error, Error::kInconsistentGroupProtocol);
    EXPECT_EQ(w.State(), "Stable");
    EXPECT_EQ(w.Describe().generation_id, s.generation);
  });
}

// Kafka (supportsProtocols on an Empty group): a member must name a protocol type and at least
// one protocol, else INCONSISTENT_GROUP_PROTOCOL (so no member without protocols ever reaches the
// protocol vote).
TEST(GroupStateMachineTest, JoinWithoutProtocolsIsRejected) {
  World w;
  w.Run([&] {
    MemberOptions none;
    none.protocols = {};
    EXPECT_EQ(w.Join("", "a", none)->error, Error::kInconsistentGroupProtocol);
  });
}

// Kafka (GroupMetadata.hasAllMembersJoined requires pendingMembers.isEmpty): a rebalance does
// not complete while a member that was handed an id (MEMBER_ID_REQUIRED) has not joined yet.
TEST(GroupStateMachineTest, RebalanceWaitsForPendingMembers) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    const std::string c = w.NewMemberId("c");
    AsyncJoin ja = w.JoinAsync(s.leader, "a");
    Sleep(kSecond);
    EXPECT_FALSE(ja->done());
    AsyncJoin jc = w.JoinAsync(c, "c");
    ASSERT_TRUE(w.Await(ja));
    ASSERT_TRUE(w.Await(jc));
    EXPECT_EQ(ja->resp->generation_id, s.generation + 1);
    EXPECT_EQ(jc->resp->generation_id, s.generation + 1);
    EXPECT_EQ(ja->resp->members.size(), 2u);
  });
}

// Kafka (addPendingMemberExpiration): a pending member that does not rejoin within its session
// timeout is forgotten; joining later with that id gives UNKNOWN_MEMBER_ID.
TEST(GroupStateMachineTest, PendingMemberIdExpiresAfterSessionTimeout) {
  World w;
  w.Run([&] {
    MemberOptions o;
    o.session_timeout_ms = 10000;
    const std::string a = w.NewMemberId("a", o);
    Sleep(11 * kSecond);
    EXPECT_EQ(w.Join(a, "a", o)->error, Error::kUnknownMemberId);
  });
}

// ================================================================================================
// Rebalance timeout and session timeout
// ================================================================================================

TEST(GroupStateMachineTest, RebalanceTimeoutRemovesMembersThatDidNotRejoin) {
  World w;
  w.Run([&] {
    MemberOptions o;
    o.session_timeout_ms = 10000;
    o.rebalance_timeout_ms = 20000;
    Stable s = w.MakeStable({"a", "b"}, o);
    AsyncJoin ja = w.JoinAsync(s.leader, "a", o);
    const TimeNs start = w.Now();
    Sleep(100 * kMillisecond);  // a's JoinGroup starts the rebalance
    // b keeps heartbeating (so its session stays alive) but never rejoins.
    Error hb = Error::kNone;
    while (!ja->done() && w.Now() - start < kMinute) {
      hb = w.Heartbeat(s.ids[1], s.generation);
      if (hb != Error::kRebalanceInProgress) break;
      Sleep(kSecond);
    }
    ASSERT_TRUE(w.Await(ja));
    EXPECT_EQ(ja->resp->error, Error::kNone);
    EXPECT_GE(ja->finished - start, 20 * kSecond);
    EXPECT_LE(ja->finished - start, 20 * kSecond + kSlack);
    EXPECT_EQ(ja->resp->generation_id, s.generation + 1);
    ASSERT_EQ(ja->resp->members.size(), 1u);
    EXPECT_EQ(ja->resp->members[0].member_id, s.leader);
    EXPECT_EQ(w.Heartbeat(s.ids[1], s.generation), Error::kUnknownMemberId);
  });
}

TEST(GroupStateMachineTest, SessionTimeoutRemovesSilentMemberAndRebalances) {
  World w;
  w.Run([&] {
    MemberOptions o;
    o.session_timeout_ms = 10000;
    Stable s = w.MakeStable({"a", "b"}, o);
    // a heartbeats every 2 s; b is silent.
    const TimeNs start = w.Now();
    Error hb = Error::kNone;
    while (hb == Error::kNone && w.Now() - start < kMinute) {
      Sleep(2 * kSecond);
      hb = w.Heartbeat(s.leader, s.generation);
    }
    EXPECT_EQ(hb, Error::kRebalanceInProgress);
    EXPECT_GE(w.Now() - start, 10 * kSecond);
    EXPECT_LE(w.Now() - start, 12 * kSecond + kSlack);
    EXPECT_EQ(w.State(), "PreparingRebalance");
    EXPECT_EQ(w.Heartbeat(s.ids[1], s.generation), Error::kUnknownMemberId);
    auto r = w.Join(s.leader, "a", o);  // the only member left: completes at once
    EXPECT_EQ(r->error, Error::kNone);
    EXPECT_EQ(r->generation_id, s.generation + 1);
    EXPECT_EQ(r->members.size(), 1u);
  });
}

TEST(GroupStateMachineTest, SessionTimeoutOfLastMemberEmptiesGroup) {
  World w;
  w.Run([&] {
    MemberOptions o;
    o.session_timeout_ms = 10000;
    Stable s = w.MakeStable({"a"}, o);
    Sleep(9 * kSecond);
    EXPECT_EQ(w.State(), "Stable");
    Sleep(2 * kSecond);
    auto d = w.Describe();
    EXPECT_EQ(d.state, "Empty");
    EXPECT_TRUE(d.members.empty());
    EXPECT_EQ(d.generation_id, s.generation + 1);  // the empty generation
    EXPECT_EQ(w.Heartbeat(s.leader, s.generation), Error::kUnknownMemberId);
  });
}

TEST(GroupStateMachineTest, MembersAwaitingJoinDoNotExpire) {
  World w;
  w.Run([&] {
    MemberOptions o;
    o.session_timeout_ms = 10000;
    o.rebalance_timeout_ms = 40000;
    Stable s = w.MakeStable({"a", "b"}, o);
    // a rejoins and waits longer than its session timeout for b, which keeps heartbeating.
    AsyncJoin ja = w.JoinAsync(s.leader, "a", o);
    Sleep(100 * kMillisecond);  // a's JoinGroup starts the rebalance
    for (int i = 0; i < 15; ++i) {
      EXPECT_EQ(w.Heartbeat(s.ids[1], s.generation), Error::kRebalanceInProgress);
      Sleep(kSecond);
    }
    EXPECT_FALSE(ja->done());
    AsyncJoin jb = w.JoinAsync(s.ids[1], "b", o);
    ASSERT_TRUE(w.Await(ja));
    ASSERT_TRUE(w.Await(jb));
    EXPECT_EQ(ja->resp->error, Error::kNone);
    EXPECT_EQ(ja->resp->members.size(), 2u);
  });
}

// Kafka 3.x (DelayedSync, KAFKA-13111): after the join phase, members that do not send
// SyncGroup within the rebalance timeout are removed and the group rebalances, even if they
// keep heartbeating. A member parked in SyncGroup counts as heartbeating (it is not expired
// by its shorter session timeout).
TEST(GroupStateMachineTest, MembersThatNeverSyncAreRemovedAfterRebalanceTimeout) {
  World w;
  w.Run([&] {
    MemberOptions o;
    o.session_timeout_ms = 10000;
    o.rebalance_timeout_ms = 15000;
    Stable s = w.MakeStable({"a", "b"}, o);
    AsyncJoin ja = w.JoinAsync(s.leader, "a", o);
    AsyncJoin jb = w.JoinAsync(s.ids[1], "b", o);
    ASSERT_TRUE(w.Await(ja));
    ASSERT_TRUE(w.Await(jb));
    const int32_t gen = ja->resp->generation_id;
    // b syncs and waits; a never syncs but heartbeats.
    AsyncSync sb = w.SyncAsync(s.ids[1], gen);
    for (int i = 0; i < 20 && !sb->done(); ++i) {
      w.Heartbeat(s.leader, gen);
      Sleep(kSecond);
    }
    ASSERT_TRUE(sb->done());
    EXPECT_EQ(sb->resp->error, Error::kRebalanceInProgress);
    EXPECT_EQ(w.Heartbeat(s.leader, gen), Error::kUnknownMemberId);
    EXPECT_EQ(w.State(), "PreparingRebalance");
  });
}

// ================================================================================================
// SyncGroup
// ================================================================================================

TEST(GroupStateMachineTest, FollowerSyncWaitsForLeaderAssignment) {
  World w;
  w.Run([&] {
    const std::string a = w.NewMemberId("a");
    const std::string b = w.NewMemberId("b");
    const std::string c = w.NewMemberId("c");
    AsyncJoin ja = w.JoinAsync(a, "a");
    AsyncJoin jb = w.JoinAsync(b, "b");
    AsyncJoin jc = w.JoinAsync(c, "c");
    ASSERT_TRUE(w.Await(ja));
    ASSERT_TRUE(w.Await(jb));
    ASSERT_TRUE(w.Await(jc));
    const int32_t gen = ja->resp->generation_id;
    ASSERT_EQ(ja->resp->leader, a);
    AsyncSync sb = w.SyncAsync(b, gen);
    Sleep(kSecond);
    EXPECT_FALSE(sb->done());  // parked until the leader's assignment arrives
    EXPECT_EQ(w.State(), "CompletingRebalance");
    std::map<std::string, GroupAssignment> assignment;
    assignment[a].partitions = {kTp0};
    assignment[b].partitions = {kTp1};  // c is left out: it gets an empty assignment
    auto sa = w.Sync(a, gen, assignment);
    EXPECT_EQ(sa->error, Error::kNone);
    EXPECT_EQ(sa->assignment.partitions, std::vector<TopicPartition>{kTp0});
    ASSERT_TRUE(w.Await(sb));
    EXPECT_EQ(sb->resp->error, Error::kNone);
    EXPECT_EQ(sb->resp->assignment.partitions, std::vector<TopicPartition>{kTp1});
    EXPECT_EQ(w.State(), "Stable");
    auto sc = w.Sync(c, gen);  // Stable: the stored assignment at once
    EXPECT_EQ(sc->error, Error::kNone);
    EXPECT_TRUE(sc->assignment.partitions.empty());
  });
}

TEST(GroupStateMachineTest, SyncFromUnknownMemberOrGroupGetsUnknownMemberId) {
  World w;
  w.Run([&] {
    EXPECT_EQ(w.Sync("nobody", 1)->error, Error::kUnknownMemberId);  // no such group
    Stable s = w.MakeStable({"a"});
    EXPECT_EQ(w.Sync("nobody", s.generation)->error, Error::kUnknownMemberId);
  });
}

TEST(GroupStateMachineTest, SyncWithWrongGenerationGetsIllegalGeneration) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    EXPECT_EQ(w.Sync(s.ids[1], s.generation - 1)->error, Error::kIllegalGeneration);
    EXPECT_EQ(w.Sync(s.ids[1], s.generation + 1)->error, Error::kIllegalGeneration);
    EXPECT_EQ(w.State(), "Stable");
  });
}

TEST(GroupStateMachineTest, SyncDuringPreparingRebalanceGetsRebalanceInProgress) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    AsyncJoin ja = w.JoinAsync(s.leader, "a");
    Sleep(100 * kMillisecond);
    ASSERT_EQ(w.State(), "PreparingRebalance");
    EXPECT_EQ(w.Sync(s.ids[1], s.generation)->error, Error::kRebalanceInProgress);
  });
}

TEST(GroupStateMachineTest, WaitingFollowerSyncFailsWhenRebalanceStartsBeforeLeaderSyncs) {
  World w;
  w.Run([&] {
    const std::string a = w.NewMemberId("a");
    const std::string b = w.NewMemberId("b");
    const std::string c = w.NewMemberId("c");
    AsyncJoin ja = w.JoinAsync(a, "a");
    AsyncJoin jb = w.JoinAsync(b, "b");
    AsyncJoin jc = w.JoinAsync(c, "c");
    ASSERT_TRUE(w.Await(ja));
    ASSERT_TRUE(w.Await(jb));
    ASSERT_TRUE(w.Await(jc));
    const int32_t gen = ja->resp->generation_id;
    AsyncSync sb = w.SyncAsync(b, gen);
    Sleep(100 * kMillisecond);
    ASSERT_FALSE(sb->done());
    // c leaves while the group awaits the leader's assignment.
    EXPECT_EQ(w.Leave(c), Error::kNone);
    ASSERT_TRUE(w.Await(sb, kSecond));
    EXPECT_EQ(sb->resp->error, Error::kRebalanceInProgress);
    EXPECT_EQ(w.State(), "PreparingRebalance");
    // The leader's late assignment is refused too.
    EXPECT_EQ(w.Sync(a, gen)->error, Error::kRebalanceInProgress);
  });
}

// ================================================================================================
// Heartbeat
// ================================================================================================

TEST(GroupStateMachineTest, HeartbeatInStableAndCompletingRebalanceIsAccepted) {
  World w;
  w.Run([&] {
    const std::string a = w.NewMemberId("a");
    const std::string b = w.NewMemberId("b");
    AsyncJoin ja = w.JoinAsync(a, "a");
    AsyncJoin jb = w.JoinAsync(b, "b");
    ASSERT_TRUE(w.Await(ja));
    ASSERT_TRUE(w.Await(jb));
    const int32_t gen = ja->resp->generation_id;
    ASSERT_EQ(w.State(), "CompletingRebalance");
    // Kafka 3.x: heartbeats between JoinGroup and SyncGroup are normal heartbeats.
    EXPECT_EQ(w.Heartbeat(b, gen), Error::kNone);
    ASSERT_EQ(w.Sync(a, gen)->error, Error::kNone);
    ASSERT_EQ(w.State(), "Stable");
    EXPECT_EQ(w.Heartbeat(a, gen), Error::kNone);
    EXPECT_EQ(w.Heartbeat(b, gen), Error::kNone);
  });
}

TEST(GroupStateMachineTest, HeartbeatDuringPreparingRebalanceGetsRebalanceInProgress) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    AsyncJoin ja = w.JoinAsync(s.leader, "a");
    Sleep(100 * kMillisecond);
    ASSERT_EQ(w.State(), "PreparingRebalance");
    // The generation is still the old one until the join phase completes.
    EXPECT_EQ(w.Describe().generation_id, s.generation);
    EXPECT_EQ(w.Heartbeat(s.ids[1], s.generation), Error::kRebalanceInProgress);
  });
}

TEST(GroupStateMachineTest, HeartbeatFencing) {
  World w;
  w.Run([&] {
    EXPECT_EQ(w.Heartbeat("nobody", 1), Error::kUnknownMemberId);  // no such group
    Stable s = w.MakeStable({"a", "b"});
    EXPECT_EQ(w.Heartbeat("nobody", s.generation), Error::kUnknownMemberId);
    EXPECT_EQ(w.Heartbeat(s.ids[1], s.generation - 1), Error::kIllegalGeneration);
    EXPECT_EQ(w.Heartbeat(s.ids[1], s.generation + 1), Error::kIllegalGeneration);
    EXPECT_EQ(w.Heartbeat(s.ids[1], s.generation), Error::kNone);
  });
}

TEST(GroupStateMachineTest, HeartbeatAfterLeavingGetsUnknownMemberId) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    ASSERT_EQ(w.Leave(s.leader), Error::kNone);
    ASSERT_EQ(w.State(), "Empty");
    EXPECT_EQ(w.Heartbeat(s.leader, s.generation), Error::kUnknownMemberId);
  });
}

// ================================================================================================
// LeaveGroup
// ================================================================================================

TEST(GroupStateMachineTest, LastMemberLeavingEmptiesGroupAndBumpsGeneration) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    EXPECT_EQ(w.Leave(s.leader), Error::kNone);
    auto d = w.Describe();
    EXPECT_EQ(d.state, "Empty");
    EXPECT_TRUE(d.members.empty());
    EXPECT_EQ(d.generation_id, s.generation + 1);
    EXPECT_EQ(d.protocol, "");
  });
}

TEST(GroupStateMachineTest, MemberLeavingStableGroupTriggersRebalance) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    EXPECT_EQ(w.Leave(s.ids[1]), Error::kNone);
    EXPECT_EQ(w.State(), "PreparingRebalance");
    EXPECT_EQ(w.Heartbeat(s.leader, s.generation), Error::kRebalanceInProgress);
    auto r = w.Join(s.leader, "a");
    EXPECT_EQ(r->error, Error::kNone);
    EXPECT_EQ(r->generation_id, s.generation + 1);
    EXPECT_EQ(r->members.size(), 1u);
  });
}

TEST(GroupStateMachineTest, LeaveDuringPreparingRebalanceCompletesTheJoinPhase) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    AsyncJoin ja = w.JoinAsync(s.leader, "a");
    Sleep(kSecond);
    ASSERT_FALSE(ja->done());
    EXPECT_EQ(w.Leave(s.ids[1]), Error::kNone);  // the only member a was waiting for
    ASSERT_TRUE(w.Await(ja, kSecond));
    EXPECT_EQ(ja->resp->error, Error::kNone);
    EXPECT_EQ(ja->resp->generation_id, s.generation + 1);
    EXPECT_EQ(ja->resp->members.size(), 1u);
    EXPECT_EQ(w.State(), "CompletingRebalance");
  });
}

TEST(GroupStateMachineTest, LeaveOfUnknownGroupGetsUnknownMemberId) {
  World w;
  w.Run([&] { EXPECT_EQ(w.Leave("nobody", "never-used"), Error::kUnknownMemberId); });
}

// Kafka (handleLeaveGroup): a member id that is neither a member nor pending gets
// UNKNOWN_MEMBER_ID (per member since v3; LeaveGroup v0-2, which ksim's single error field
// mirrors, reports it as the response error).
TEST(GroupStateMachineTest, LeaveOfUnknownMemberOfExistingGroupGetsUnknownMemberId) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    EXPECT_EQ(w.Leave("nobody"), Error::kUnknownMemberId);
    EXPECT_EQ(w.State(), "Stable");
    EXPECT_EQ(w.Describe().generation_id, s.generation);
  });
}

// Kafka (handleLeaveGroup -> removePendingMemberAndUpdateGroup): a pending member (handed an id
// with MEMBER_ID_REQUIRED) that leaves is forgotten; a later JoinGroup with that id gets
// UNKNOWN_MEMBER_ID.
TEST(GroupStateMachineTest, PendingMemberThatLeavesIsForgotten) {
  World w;
  w.Run([&] {
    const std::string a = w.NewMemberId("a");
    EXPECT_EQ(w.Leave(a), Error::kNone);
    EXPECT_EQ(w.Join(a, "a")->error, Error::kUnknownMemberId);
  });
}

// ================================================================================================
// OffsetCommit: generation fencing
// ================================================================================================

TEST(GroupStateMachineTest, CommitWithCurrentGenerationInStableGroupIsStored) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    auto errors = w.Commit(s.ids[1], s.generation, {{kTp0, 42}, {kTp1, 7}});
    EXPECT_EQ(errors.at(kTp0), Error::kNone);
    EXPECT_EQ(errors.at(kTp1), Error::kNone);
    EXPECT_EQ(w.Fetched(), 42);
    auto of = std::make_shared<OffsetFetchRequest>();  // all partitions
    of->group_id = kGroup;
    auto all = w.Call<OffsetFetchResponse>(of);
    EXPECT_EQ(all->error, Error::kNone);
    EXPECT_EQ(all->offsets, (std::map<TopicPartition, int64_t>{{kTp0, 42}, {kTp1, 7}}));
  });
}

TEST(GroupStateMachineTest, CommitFromPreviousGenerationIsFenced) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    ASSERT_EQ(w.CommitOne(s.ids[1], s.generation, 10), Error::kNone);
    // Rebalance to the next generation.
    AsyncJoin ja = w.JoinAsync(s.leader, "a");
    AsyncJoin jb = w.JoinAsync(s.ids[1], "b");
    ASSERT_TRUE(w.Await(ja));
    ASSERT_TRUE(w.Await(jb));
    const int32_t gen = ja->resp->generation_id;
    ASSERT_EQ(gen, s.generation + 1);
    ASSERT_EQ(w.Sync(s.leader, gen)->error, Error::kNone);
    // A zombie still on the old generation cannot overwrite progress.
    EXPECT_EQ(w.CommitOne(s.ids[1], s.generation, 5), Error::kIllegalGeneration);
    EXPECT_EQ(w.CommitOne(s.ids[1], gen + 1, 5), Error::kIllegalGeneration);
    EXPECT_EQ(w.Fetched(), 10);
    EXPECT_EQ(w.CommitOne(s.ids[1], gen, 20), Error::kNone);
    EXPECT_EQ(w.Fetched(), 20);
  });
}

TEST(GroupStateMachineTest, CommitFromUnknownMemberIsRejected) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    EXPECT_EQ(w.CommitOne("nobody", s.generation, 5), Error::kUnknownMemberId);
    // A member that left is unknown too.
    ASSERT_EQ(w.Leave(s.leader), Error::kNone);
    EXPECT_EQ(w.CommitOne(s.leader, s.generation, 5), Error::kUnknownMemberId);
    EXPECT_EQ(w.Fetched(), -1);
  });
}

TEST(GroupStateMachineTest, CommitDuringCompletingRebalanceGetsRebalanceInProgress) {
  World w;
  w.Run([&] {
    const std::string a = w.NewMemberId("a");
    AsyncJoin ja = w.JoinAsync(a, "a");
    ASSERT_TRUE(w.Await(ja));
    ASSERT_EQ(w.State(), "CompletingRebalance");
    EXPECT_EQ(w.CommitOne(a, ja->resp->generation_id, 5), Error::kRebalanceInProgress);
    EXPECT_EQ(w.Fetched(), -1);
  });
}

TEST(GroupStateMachineTest, CommitDuringPreparingRebalanceWithOldGenerationIsAccepted) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    AsyncJoin ja = w.JoinAsync(s.leader, "a");
    Sleep(100 * kMillisecond);
    ASSERT_EQ(w.State(), "PreparingRebalance");
    // Members commit before rejoining (onJoinPrepare); the generation is still current.
    EXPECT_EQ(w.CommitOne(s.ids[1], s.generation, 33), Error::kNone);
    EXPECT_EQ(w.Fetched(), 33);
  });
}

TEST(GroupStateMachineTest, StandaloneCommitAllowedOnlyWhileGroupHasNoMembers) {
  World w;
  w.Run([&] {
    // generation -1 and no member id: a consumer using assign(); creates the group.
    EXPECT_EQ(w.CommitOne("", -1, 3), Error::kNone);
    EXPECT_EQ(w.Fetched(), 3);
    EXPECT_EQ(w.State(), "Empty");
    Stable s = w.MakeStable({"a"});
    EXPECT_EQ(w.CommitOne("", -1, 4), Error::kUnknownMemberId);
    EXPECT_EQ(w.Fetched(), 3);
    ASSERT_EQ(w.Leave(s.leader), Error::kNone);
    EXPECT_EQ(w.CommitOne("", -1, 5), Error::kNone);
    EXPECT_EQ(w.Fetched(), 5);
  });
}

// Kafka (handleCommitOffsets): a commit with generation >= 0 for a group the coordinator does
// not know is "a request coming from an older generation": ILLEGAL_GENERATION.
TEST(GroupStateMachineTest, CommitWithGenerationToUnknownGroupGetsIllegalGeneration) {
  World w;
  w.Run([&] { EXPECT_EQ(w.CommitOne("m", 3, 5), Error::kIllegalGeneration); });
}

// ================================================================================================
// OffsetFetch and DescribeGroups
// ================================================================================================

TEST(GroupStateMachineTest, FetchOfUnknownGroupReturnsNoOffsets) {
  World w;
  w.Run([&] {
    EXPECT_EQ(w.Fetched(), -1);
    auto of = std::make_shared<OffsetFetchRequest>();
    of->group_id = "other";
    auto r = w.Call<OffsetFetchResponse>(of);
    EXPECT_EQ(r->error, Error::kNone);
    EXPECT_TRUE(r->offsets.empty());
  });
}

TEST(GroupStateMachineTest, DescribeUnknownGroupIsDead) {
  World w;
  w.Run([&] {
    auto d = w.Describe("never-used");
    EXPECT_EQ(d.error, Error::kNone);
    EXPECT_EQ(d.state, "Dead");
    EXPECT_TRUE(d.members.empty());
  });
}

// Kafka: OffsetFetch (and a JoinGroup with an unknown non-empty member id) do not create the
// group, so DescribeGroups still reports Dead.
TEST(GroupStateMachineTest, FetchOrRejectedJoinDoesNotCreateTheGroup) {
  World w;
  w.Run([&] {
    auto of = std::make_shared<OffsetFetchRequest>();
    of->group_id = "fetched-only";
    ASSERT_EQ(w.Call<OffsetFetchResponse>(of)->error, Error::kNone);
    EXPECT_EQ(w.Describe("fetched-only").state, "Dead");
    auto join = w.JoinReq("unknown-member", "a");
    join->group_id = "joined-only";
    ASSERT_EQ(w.Call<JoinGroupResponse>(join)->error, Error::kUnknownMemberId);
    EXPECT_EQ(w.Describe("joined-only").state, "Dead");
  });
}

TEST(GroupStateMachineTest, DescribeStableGroupShowsProtocolMembersAndAssignments) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a", "b"});
    auto d = w.Describe();
    EXPECT_EQ(d.error, Error::kNone);
    EXPECT_EQ(d.state, "Stable");
    EXPECT_EQ(d.protocol, "range");
    EXPECT_EQ(d.generation_id, s.generation);
    ASSERT_EQ(d.members.size(), 2u);
    std::map<std::string, std::vector<TopicPartition>> got;
    for (const DescribedMember& m : d.members) got[m.member_id] = m.assignment.partitions;
    EXPECT_EQ(got[s.ids[0]], std::vector<TopicPartition>{kTp0});
    EXPECT_EQ(got[s.ids[1]], std::vector<TopicPartition>{kTp1});
  });
}

// Kafka (GroupMetadata.summary): outside Stable the protocol is reported as "" and members
// carry no metadata or assignment.
TEST(GroupStateMachineTest, DescribeOutsideStableReportsNoProtocol) {
  World w;
  w.Run([&] {
    const std::string a = w.NewMemberId("a");
    AsyncJoin ja = w.JoinAsync(a, "a");
    ASSERT_TRUE(w.Await(ja));
    auto d = w.Describe();
    ASSERT_EQ(d.state, "CompletingRebalance");
    EXPECT_EQ(d.protocol, "");
    EXPECT_EQ(d.members.size(), 1u);
  });
}

// ================================================================================================
// Coordinator restart: COORDINATOR_LOAD_IN_PROGRESS and reloaded offsets
// ================================================================================================

TEST(GroupStateMachineTest, CommittedOffsetsAndGenerationSurviveCoordinatorRestart) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    ASSERT_EQ(w.CommitOne(s.leader, s.generation, 77), Error::kNone);
    w.CrashAndRestartBroker(kSecond);
    ASSERT_TRUE(w.WaitReady());
    EXPECT_EQ(w.Fetched(), 77);
    // As in Kafka, the new coordinator restores the Stable group from its group metadata
    // record: the member carries on heartbeating in the same generation, no rebalance.
    EXPECT_EQ(w.Heartbeat(s.leader, s.generation), Error::kNone);
    EXPECT_EQ(w.State(), "Stable");
    EXPECT_EQ(w.Describe().members.size(), 1u);
    // A stale generation is still fenced, and a new member's id never repeats a known one.
    EXPECT_EQ(w.Heartbeat(s.leader, s.generation - 1), Error::kIllegalGeneration);
    EXPECT_NE(w.NewMemberId("a"), s.leader);
  });
}

TEST(GroupStateMachineTest, AnEmptiedGroupIsReloadedEmptyWithItsGeneration) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    ASSERT_EQ(w.Leave(s.leader), Error::kNone);
    Sleep(kSecond);  // the group metadata record is written in the background
    w.CrashAndRestartBroker(kSecond);
    ASSERT_TRUE(w.WaitReady());
    EXPECT_EQ(w.State(), "Empty");
    EXPECT_EQ(w.Heartbeat(s.leader, s.generation), Error::kUnknownMemberId);
    const std::string a = w.NewMemberId("a");
    auto r = w.Join(a, "a");
    EXPECT_EQ(r->error, Error::kNone);
    EXPECT_GT(r->generation_id, s.generation);  // generations never repeat
  });
}

// Kafka (validateGroupStatus and the handlers): while a new coordinator loads the group's
// __consumer_offsets partition, OffsetFetch, OffsetCommit, JoinGroup and DescribeGroups get
// COORDINATOR_LOAD_IN_PROGRESS; Heartbeat is answered NONE ("respond just blindly"); SyncGroup
// gets REBALANCE_IN_PROGRESS (older clients do not expect the load error).
// ksim: the load window is not observable here: Load() reads the log without taking virtual
// time (the broker's log recovery has just read it into the page cache), even after a power
// loss with 200 commits. Heartbeat and SyncGroup do map COORDINATOR_LOAD_IN_PROGRESS to NONE and
// REBALANCE_IN_PROGRESS, but the window this test needs never opens.
TEST(GroupStateMachineTest, DISABLED_DuringOffsetsLoadHeartbeatIsNoneAndSyncIsRebalanceInProgress) {
  World w;
  w.Run([&] {
    for (int i = 0; i < 200; ++i) ASSERT_EQ(w.CommitOne("", -1, i), Error::kNone);
    Sleep(2 * kMinute);  // written back to the device
    w.CrashAndRestartBroker(kSecond, /*power_loss=*/true);
    std::set<Error> fetch, heartbeat, sync;
    const TimeNs start = w.Now();
    while (w.Now() - start < kMinute) {
      if (w.coordinator_ready()) {
        auto of = std::make_shared<OffsetFetchRequest>();
        of->group_id = kGroup;
        const Error e = w.Call<OffsetFetchResponse>(of)->error;
        fetch.insert(e);
        heartbeat.insert(w.Heartbeat("m", 1));
        sync.insert(w.Sync("m", 1)->error);
        if (e == Error::kNone) break;
      }
      Sleep(100 * kMicrosecond);
    }
    EXPECT_EQ(fetch.count(Error::kCoordinatorLoadInProgress), 1u);
    EXPECT_EQ(heartbeat.count(Error::kCoordinatorLoadInProgress), 0u);
    EXPECT_EQ(sync.count(Error::kCoordinatorLoadInProgress), 0u);
    EXPECT_EQ(w.Fetched(), 199);
  });
}

}  // namespace
}  // namespace ksim::coordinator_test
