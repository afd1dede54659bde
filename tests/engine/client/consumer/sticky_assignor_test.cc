// Sticky and cooperative-sticky assignor tests: scenarios from Kafka's AbstractStickyAssignorTest,
// StickyAssignorTest and CooperativeStickyAssignorTest (3.x), restated, plus property checks
// (validity, Java's balance test, stickiness, cooperative hand-over) on seeded random groups.
//
// Kafka's exact expectations depend on the order its HashMap<String, Subscription> iterates; those
// tests pass that order (JavaHashOrder) through StickyOptions::member_order.
#include "engine/client/consumer/sticky_assignor.h"

#include <algorithm>
#include <set>

#include "engine/runtime/rng.h"
#include "gtest/gtest.h"

namespace ksim {
namespace {

using Topics = std::map<std::string, int32_t>;
using Subs = std::map<MemberId, Subscription>;
using Parts = std::vector<TopicPartition>;
using Result = std::map<MemberId, Parts>;

Parts P(std::vector<std::pair<std::string, int32_t>> v) {
  Parts out;
  for (auto& [t, p] : v) out.push_back({t, p});
  std::sort(out.begin(), out.end());
  return out;
}

Subscription Sub(std::vector<std::string> topics, Parts owned = {}, int32_t generation = -1) {
  return Subscription{std::move(topics), std::move(owned), generation, ""};
}

// Java's String.hashCode() and HashMap bucket spreading: the order a HashMap of the given table
// capacity iterates these keys (buckets ascending, insertion order within a bucket).
std::vector<MemberId> JavaHashOrder(const std::vector<MemberId>& inserted, uint32_t capacity = 16) {
  std::vector<std::pair<uint32_t, size_t>> keyed;
  for (size_t i = 0; i < inserted.size(); ++i) {
    uint32_t h = 0;
    for (char c : inserted[i]) h = 31 * h + static_cast<unsigned char>(c);
    keyed.push_back({(h ^ (h >> 16)) & (capacity - 1), i});
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<MemberId> out;
  for (auto& [bucket, i] : keyed) out.push_back(inserted[i]);
  return out;
}

std::vector<MemberId> Ids(const Subs& subs) {
  std::vector<MemberId> ids;
  for (const auto& [m, s] : subs) ids.push_back(m);
  return ids;
}

StickyOutcome RunJava(const Topics& topics, const Subs& subs) {
  return ComputeStickyAssignment(topics, subs, {JavaHashOrder(Ids(subs))});
}

Result Coop(const Topics& topics, const Subs& subs) {
  Result out;
  for (auto& [m, a] : CooperativeStickyAssign(topics, subs, {JavaHashOrder(Ids(subs))})) {
    out[m] = a.partitions;
  }
  return out;
}

bool Subscribed(const Subscription& s, const std::string& topic) {
  return std::find(s.topics.begin(), s.topics.end(), topic) != s.topics.end();
}

// Every member present, every partition exists, goes to a subscriber and at most once; with
// `complete`, every partition of a subscribed topic is assigned.
void ExpectValid(const Topics& topics, const Subs& subs, const Result& a, bool complete = true) {
  ASSERT_EQ(a.size(), subs.size());
  std::set<TopicPartition> seen;
  for (const auto& [m, parts] : a) {
    ASSERT_TRUE(subs.count(m)) << m;
    for (const TopicPartition& tp : parts) {
      ASSERT_TRUE(topics.count(tp.topic) && tp.partition < topics.at(tp.topic)) << tp.ToString();
      EXPECT_TRUE(Subscribed(subs.at(m), tp.topic)) << m << " got " << tp.ToString();
      EXPECT_TRUE(seen.insert(tp).second) << tp.ToString() << " assigned twice";
    }
  }
  if (!complete) return;
  for (const auto& [t, n] : topics) {
    bool wanted = false;
    for (const auto& [m, s] : subs) wanted = wanted || Subscribed(s, t);
    for (int32_t p = 0; p < n && wanted; ++p) {
      EXPECT_TRUE(seen.count({t, p})) << t << "-" << p << " unassigned";
    }
  }
}

// Java's isBalanced(): no member short of everything it could hold sees a partition it could take
// held by a member with two or more partitions more than itself.
bool JavaBalanced(const Topics& topics, const Subs& subs, const Result& a) {
  std::map<TopicPartition, MemberId> owner;
  for (const auto& [m, parts] : a) {
    for (const TopicPartition& tp : parts) owner[tp] = m;
  }
  for (const auto& [m, parts] : a) {
    for (const std::string& t :
         std::set<std::string>(subs.at(m).topics.begin(), subs.at(m).topics.end())) {
      if (!topics.count(t)) continue;
      for (int32_t p = 0; p < topics.at(t); ++p) {
        auto it = owner.find({t, p});
        if (it != owner.end() && a.at(it->second).size() > parts.size() + 1) return false;
      }
    }
  }
  return true;
}

bool FullyBalanced(const Result& a) {
  size_t lo = SIZE_MAX, hi = 0;
  for (const auto& [m, parts] : a) {
    lo = std::min(lo, parts.size());
    hi = std::max(hi, parts.size());
  }
  return a.empty() || hi - lo <= 1;
}

// The owner each partition had going in: the highest-generation claimant still subscribed.
std::map<TopicPartition, MemberId> PreviousOwners(const Subs& subs) {
  std::map<TopicPartition, std::pair<int32_t, MemberId>> best;
  for (const auto& [m, s] : subs) {
    for (const TopicPartition& tp : s.owned_partitions) {
      if (!Subscribed(s, tp.topic)) continue;
      auto it = best.find(tp);
      if (it == best.end() || s.generation > it->second.first) best[tp] = {s.generation, m};
    }
  }
  std::map<TopicPartition, MemberId> out;
  for (auto& [tp, gm] : best) out[tp] = gm.second;
  return out;
}

// Stickiness as Java's isSticky() sees it: within a topic, no two members trade partitions.
void ExpectNoTrades(const Subs& subs, const Result& a) {
  std::map<std::string, std::set<std::pair<MemberId, MemberId>>> moves;
  const auto before = PreviousOwners(subs);
  for (const auto& [m, parts] : a) {
    for (const TopicPartition& tp : parts) {
      auto it = before.find(tp);
      if (it != before.end() && it->second != m) moves[tp.topic].insert({it->second, m});
    }
  }
  for (const auto& [topic, pairs] : moves) {
    for (const auto& [from, to] : pairs) {
      EXPECT_FALSE(pairs.count({to, from})) << topic << ": " << from << " and " << to << " traded";
    }
  }
}

// Cooperative rule: a partition some member owns goes to nobody else in the same rebalance.
void ExpectNoDirectHandOver(const Subs& subs, const Result& a) {
  std::map<TopicPartition, std::set<MemberId>> owners;
  for (const auto& [m, s] : subs) {
    for (const TopicPartition& tp : s.owned_partitions) owners[tp].insert(m);
  }
  for (const auto& [m, parts] : a) {
    for (const TopicPartition& tp : parts) {
      auto it = owners.find(tp);
      EXPECT_TRUE(it == owners.end() || it->second.count(m))
          << tp.ToString() << " handed to " << m << " while still owned";
    }
  }
}

// The next round's subscriptions: same topics, owning what this round assigned.
Subs NextRound(const Subs& subs, const Result& a, int32_t generation) {
  Subs out;
  for (const auto& [m, s] : subs) out[m] = Sub(s.topics, a.at(m), generation);
  return out;
}

bool RevokesSomething(const Subs& subs, const Result& a) {
  for (const auto& [m, s] : subs) {
    for (const TopicPartition& tp : s.owned_partitions) {
      if (!std::binary_search(a.at(m).begin(), a.at(m).end(), tp)) return true;
    }
  }
  return false;
}

// Kafka's cooperative verifyValidityAndBalance(): rebalance until nothing is revoked (at most
// four follow-ups), checking every round for direct hand-overs; returns the settled result.
Result CoopSettle(const Topics& topics, Subs subs, int32_t generation = 1) {
  Result a = Coop(topics, subs);
  for (int round = 0; RevokesSomething(subs, a); ++round) {
    ExpectNoDirectHandOver(subs, a);
    ExpectValid(topics, subs, a, /*complete=*/false);
    if (round == 4) {
      ADD_FAILURE() << "cooperative rebalancing did not settle";
      break;
    }
    subs = NextRound(subs, a, generation);
    a = Coop(topics, subs);
  }
  ExpectValid(topics, subs, a);
  EXPECT_TRUE(JavaBalanced(topics, subs, a));
  return a;
}

// ---- Constrained path: every member subscribes to the same topics ----

TEST(StickyConstrainedTest, SingleMember) {
  EXPECT_TRUE(RunJava({}, {{"consumer", Sub({})}}).partitions.at("consumer").empty());
  EXPECT_TRUE(
      RunJava({{"topic", 0}}, {{"consumer", Sub({"topic"})}}).partitions.at("consumer").empty());
  auto one = RunJava({{"topic", 3}}, {{"consumer", Sub({"topic"})}});
  EXPECT_TRUE(one.constrained);
  EXPECT_EQ(one.partitions.at("consumer"), P({{"topic", 0}, {"topic", 1}, {"topic", 2}}));
  EXPECT_TRUE(one.transferring.empty());
  // testOnlyAssignsPartitionsFromSubscribedTopics: owned partitions of other topics are ignored.
  auto only =
      RunJava({{"topic", 2}, {"other", 3}},
              {{"consumer",
                Sub({"topic"}, P({{"topic", 0}, {"topic", 1}, {"other", 0}, {"other", 1}}), 1)}});
  EXPECT_EQ(only.partitions.at("consumer"), P({{"topic", 0}, {"topic", 1}}));
  auto multi = RunJava({{"topic1", 1}, {"topic2", 2}}, {{"consumer", Sub({"topic1", "topic2"})}});
  EXPECT_EQ(multi.partitions.at("consumer"), P({{"topic1", 0}, {"topic2", 0}, {"topic2", 1}}));
  // testAssignmentUpdatedForDeletedTopic: a subscribed topic that does not exist is skipped.
  auto deleted = RunJava({{"topic1", 1}, {"topic3", 100}},
                         {{"consumer", Sub({"topic1", "topic2", "topic3"})}});
  EXPECT_EQ(deleted.partitions.at("consumer").size(), 101u);
}

TEST(StickyConstrainedTest, TwoMembersRoundRobin) {
  auto one =
      RunJava({{"topic", 1}}, {{"consumer1", Sub({"topic"})}, {"consumer2", Sub({"topic"})}});
  EXPECT_EQ(one.partitions.at("consumer1").size() + one.partitions.at("consumer2").size(), 1u);
  auto two =
      RunJava({{"topic", 2}}, {{"consumer1", Sub({"topic"})}, {"consumer2", Sub({"topic"})}});
  EXPECT_EQ(two.partitions.at("consumer1"), P({{"topic", 0}}));
  EXPECT_EQ(two.partitions.at("consumer2"), P({{"topic", 1}}));
  auto six = RunJava({{"topic1", 3}, {"topic2", 3}}, {{"consumer1", Sub({"topic1", "topic2"})},
                                                      {"consumer2", Sub({"topic1", "topic2"})}});
  EXPECT_EQ(six.partitions.at("consumer1"), P({{"topic1", 0}, {"topic1", 2}, {"topic2", 1}}));
  EXPECT_EQ(six.partitions.at("consumer2"), P({{"topic1", 1}, {"topic2", 0}, {"topic2", 2}}));
  EXPECT_TRUE(six.transferring.empty());
}

TEST(StickyConstrainedTest, QuotasDecideWhoKeepsWhat) {
  const std::vector<std::string> both = {"topic1", "topic2"};
  // testConsumerOwningMinQuotaExpectedMaxQuota.
  auto a = RunJava({{"topic1", 2}, {"topic2", 3}},
                   {{"consumer1", Sub(both, P({{"topic1", 0}, {"topic2", 1}}), 1)},
                    {"consumer2", Sub(both, P({{"topic1", 1}, {"topic2", 2}}), 1)}});
  EXPECT_EQ(a.partitions.at("consumer1"), P({{"topic1", 0}, {"topic2", 0}, {"topic2", 1}}));
  EXPECT_EQ(a.partitions.at("consumer2"), P({{"topic1", 1}, {"topic2", 2}}));
  EXPECT_TRUE(a.transferring.empty());
  // testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers: only one member may keep two.
  const Subs subs = {{"consumer1", Sub(both, P({{"topic1", 0}, {"topic2", 0}}), 1)},
                     {"consumer2", Sub(both, P({{"topic1", 1}, {"topic2", 1}}), 1)},
                     {"consumer3", Sub(both, {}, 1)}};
  auto b = RunJava({{"topic1", 2}, {"topic2", 2}}, subs);
  EXPECT_EQ(b.partitions.at("consumer1"), P({{"topic1", 0}}));
  EXPECT_EQ(b.partitions.at("consumer2"), P({{"topic1", 1}, {"topic2", 1}}));
  EXPECT_EQ(b.partitions.at("consumer3"), P({{"topic2", 0}}));
  EXPECT_EQ(b.transferring, (std::map<TopicPartition, MemberId>{{{"topic2", 0}, "consumer3"}}));
  // Visiting members by id instead, consumer1 comes first and keeps two.
  auto by_id = ComputeStickyAssignment({{"topic1", 2}, {"topic2", 2}}, subs);
  EXPECT_EQ(by_id.partitions.at("consumer1"), P({{"topic1", 0}, {"topic2", 0}}));
  EXPECT_EQ(by_id.partitions.at("consumer3"), P({{"topic2", 1}}));
  // testAllConsumersAreUnderMinQuota.
  auto c = RunJava({{"topic1", 2}, {"topic2", 3}}, {{"consumer1", Sub(both, P({{"topic1", 0}}), 1)},
                                                    {"consumer2", Sub(both, P({{"topic1", 1}}), 1)},
                                                    {"consumer3", Sub(both, {}, 1)}});
  EXPECT_EQ(c.partitions.at("consumer1"), P({{"topic1", 0}, {"topic2", 1}}));
  EXPECT_EQ(c.partitions.at("consumer2"), P({{"topic1", 1}, {"topic2", 2}}));
  EXPECT_EQ(c.partitions.at("consumer3"), P({{"topic2", 0}}));
  EXPECT_TRUE(c.transferring.empty());
  // testAllConsumersReachExpectedQuotaAndAreConsideredFilled.
  auto d =
      RunJava({{"topic", 4}}, {{"consumer1", Sub({"topic"}, P({{"topic", 0}, {"topic", 1}}), 1)},
                               {"consumer2", Sub({"topic"}, P({{"topic", 2}}), 1)},
                               {"consumer3", Sub({"topic"}, {}, 1)}});
  EXPECT_EQ(d.partitions.at("consumer1"), P({{"topic", 0}, {"topic", 1}}));
  EXPECT_EQ(d.partitions.at("consumer3"), P({{"topic", 3}}));
  EXPECT_TRUE(d.transferring.empty());
}

TEST(StickyConstrainedTest, AddRemoveConsumerOneTopic) {
  const Topics topics = {{"topic", 3}};
  auto r1 = RunJava(topics, {{"consumer1", Sub({"topic"})}});
  ASSERT_EQ(r1.partitions.at("consumer1").size(), 3u);
  auto r2 = RunJava(topics, {{"consumer1", Sub({"topic"}, r1.partitions.at("consumer1"), 1)},
                             {"consumer2", Sub({"topic"}, {}, 1)}});
  EXPECT_EQ(r2.partitions.at("consumer1"), P({{"topic", 0}, {"topic", 1}}));
  EXPECT_EQ(r2.partitions.at("consumer2"), P({{"topic", 2}}));
  EXPECT_EQ(r2.transferring, (std::map<TopicPartition, MemberId>{{{"topic", 2}, "consumer2"}}));
  auto r3 = RunJava(topics, {{"consumer2", Sub({"topic"}, r2.partitions.at("consumer2"), 1)}});
  EXPECT_EQ(r3.partitions.at("consumer2").size(), 3u);
  EXPECT_TRUE(r3.transferring.empty());
}

TEST(StickyConstrainedTest, AddRemoveTwoConsumersTwoTopics) {
  const Topics topics = {{"topic1", 3}, {"topic2", 4}};
  const std::vector<std::string> all = {"topic1", "topic2"};
  auto r1 = RunJava(topics, {{"consumer1", Sub(all)}, {"consumer2", Sub(all)}});
  EXPECT_EQ(r1.partitions.at("consumer1"),
            P({{"topic1", 0}, {"topic1", 2}, {"topic2", 1}, {"topic2", 3}}));
  EXPECT_EQ(r1.partitions.at("consumer2"), P({{"topic1", 1}, {"topic2", 0}, {"topic2", 2}}));
  auto r2 = RunJava(topics, {{"consumer1", Sub(all, r1.partitions.at("consumer1"), 1)},
                             {"consumer2", Sub(all, r1.partitions.at("consumer2"), 1)},
                             {"consumer3", Sub(all, {}, 1)},
                             {"consumer4", Sub(all, {}, 1)}});
  EXPECT_EQ(r2.partitions.at("consumer1"), P({{"topic1", 0}, {"topic2", 1}}));
  EXPECT_EQ(r2.partitions.at("consumer2"), P({{"topic1", 1}, {"topic2", 0}}));
  EXPECT_EQ(r2.partitions.at("consumer3"), P({{"topic1", 2}, {"topic2", 3}}));
  EXPECT_EQ(r2.partitions.at("consumer4"), P({{"topic2", 2}}));
  EXPECT_EQ(r2.transferring, (std::map<TopicPartition, MemberId>{{{"topic1", 2}, "consumer3"},
                                                                 {{"topic2", 2}, "consumer4"},
                                                                 {{"topic2", 3}, "consumer3"}}));
  auto r3 = RunJava(topics, {{"consumer3", Sub(all, r2.partitions.at("consumer3"), 1)},
                             {"consumer4", Sub(all, r2.partitions.at("consumer4"), 1)}});
  EXPECT_EQ(r3.partitions.at("consumer3"),
            P({{"topic1", 0}, {"topic1", 2}, {"topic2", 1}, {"topic2", 3}}));
  EXPECT_EQ(r3.partitions.at("consumer4"), P({{"topic1", 1}, {"topic2", 0}, {"topic2", 2}}));
  EXPECT_TRUE(r3.transferring.empty());
}

TEST(StickyConstrainedTest, ConflictingClaimsAndGenerations) {
  // testPartitionsTransferringOwnershipIncludeThePartitionClaimedByMultipleConsumersInSame-
  // Generation: two members claim topic-0 in the same generation, so neither keeps it.
  const Subs same = {{"consumer1", Sub({"topic"}, P({{"topic", 0}, {"topic", 1}}), 1)},
                     {"consumer2", Sub({"topic"}, P({{"topic", 0}, {"topic", 2}}), 1)},
                     {"consumer3", Sub({"topic"}, {}, 1)}};
  auto a = RunJava({{"topic", 3}}, same);
  EXPECT_EQ(a.partitions.at("consumer1"), P({{"topic", 1}}));
  EXPECT_EQ(a.partitions.at("consumer2"), P({{"topic", 2}}));
  EXPECT_EQ(a.partitions.at("consumer3"), P({{"topic", 0}}));
  EXPECT_EQ(a.transferring, (std::map<TopicPartition, MemberId>{{{"topic", 0}, "consumer3"}}));
  auto coop = Coop({{"topic", 3}}, same);  // topic-0 waits until both have revoked it
  EXPECT_TRUE(coop.at("consumer3").empty());
  auto four = RunJava({{"topic", 4}}, same);
  EXPECT_EQ(four.partitions.at("consumer1"), P({{"topic", 1}, {"topic", 3}}));
  EXPECT_EQ(four.partitions.at("consumer3"), P({{"topic", 0}}));
  // testOwnedPartitionsAreInvalidatedForConsumerWithStaleGeneration / ...WithNoGeneration.
  const Parts claimed = P({{"topic", 0}, {"topic", 2}, {"topic2", 1}});
  for (int32_t stale : {9, -1}) {
    auto b = RunJava({{"topic", 3}, {"topic2", 3}},
                     {{"consumer1", Sub({"topic", "topic2"}, claimed, 10)},
                      {"consumer2", Sub({"topic", "topic2"}, claimed, stale)}});
    EXPECT_EQ(b.partitions.at("consumer1"), claimed);
    EXPECT_EQ(b.partitions.at("consumer2"), P({{"topic", 1}, {"topic2", 0}, {"topic2", 2}}));
    EXPECT_TRUE(b.transferring.empty());
  }
  // testEnsurePartitionsAssignedToHighestGeneration.
  const std::vector<std::string> three = {"topic", "topic2", "topic3"};
  auto c =
      RunJava({{"topic", 3}, {"topic2", 3}, {"topic3", 3}},
              {{"consumer1", Sub(three, P({{"topic", 0}, {"topic2", 0}, {"topic3", 0}}), 10)},
               {"consumer2", Sub(three, P({{"topic", 1}, {"topic2", 1}, {"topic3", 1}}), 9)},
               {"consumer3", Sub(three, P({{"topic2", 1}, {"topic3", 0}, {"topic3", 2}}), 8)}});
  EXPECT_EQ(c.partitions.at("consumer1"), P({{"topic", 0}, {"topic2", 0}, {"topic3", 0}}));
  EXPECT_EQ(c.partitions.at("consumer2"), P({{"topic", 1}, {"topic2", 1}, {"topic3", 1}}));
  EXPECT_EQ(c.partitions.at("consumer3"), P({{"topic", 2}, {"topic2", 2}, {"topic3", 2}}));
  EXPECT_TRUE(c.transferring.empty());
  // testNoReassignmentOnCurrentMembers: members of older generations keep what they own.
  const std::vector<std::string> four_topics = {"topic", "topic2", "topic3", "topic1"};
  auto d =
      RunJava({{"topic", 3}, {"topic1", 3}, {"topic2", 3}, {"topic3", 3}},
              {{"consumer1", Sub(four_topics, {}, -1)},
               {"consumer2", Sub(four_topics, P({{"topic", 0}, {"topic2", 0}, {"topic1", 0}}), 9)},
               {"consumer3", Sub(four_topics, P({{"topic3", 2}, {"topic2", 2}, {"topic1", 1}}), 8)},
               {"consumer4", Sub(four_topics, P({{"topic3", 1}, {"topic", 1}, {"topic", 2}}), 7)}});
  EXPECT_EQ(d.partitions.at("consumer1"), P({{"topic1", 2}, {"topic2", 1}, {"topic3", 0}}));
  EXPECT_TRUE(d.transferring.empty());
  // testOwnedPartitionsAreInvalidatedForConsumerWithMultipleGeneration.
  auto e = RunJava(
      {{"topic", 3}, {"topic2", 3}},
      {{"consumer1", Sub({"topic", "topic2"}, P({{"topic", 0}, {"topic2", 1}, {"topic", 1}}), 10)},
       {"consumer2",
        Sub({"topic", "topic2"}, P({{"topic", 0}, {"topic2", 1}, {"topic2", 2}}), 8)}});
  EXPECT_EQ(e.partitions.at("consumer1"), P({{"topic", 0}, {"topic", 1}, {"topic2", 1}}));
  EXPECT_EQ(e.partitions.at("consumer2"), P({{"topic", 2}, {"topic2", 0}, {"topic2", 2}}));
}

TEST(StickyConstrainedTest, AddRemoveTopicKeepsPartitions) {
  // testAddRemoveTopicTwoConsumers.
  Topics topics = {{"topic", 3}};
  auto r1 = RunJava(topics, {{"consumer1", Sub({"topic"})}, {"consumer2", Sub({"topic"})}});
  topics["topic2"] = 3;
  auto r2 =
      RunJava(topics, {{"consumer1", Sub({"topic", "topic2"}, r1.partitions.at("consumer1"), 1)},
                       {"consumer2", Sub({"topic", "topic2"}, r1.partitions.at("consumer2"), 1)}});
  EXPECT_TRUE(r2.transferring.empty());
  topics.erase("topic");
  auto r3 = RunJava(topics, {{"consumer1", Sub({"topic2"}, r2.partitions.at("consumer1"), 1)},
                             {"consumer2", Sub({"topic2"}, r2.partitions.at("consumer2"), 1)}});
  EXPECT_TRUE(r3.transferring.empty());
  for (const char* m : {"consumer1", "consumer2"}) {
    EXPECT_EQ(r2.partitions.at(m).size(), 3u);
    EXPECT_TRUE(std::includes(r2.partitions.at(m).begin(), r2.partitions.at(m).end(),
                              r1.partitions.at(m).begin(), r1.partitions.at(m).end()));
    EXPECT_TRUE(std::includes(r2.partitions.at(m).begin(), r2.partitions.at(m).end(),
                              r3.partitions.at(m).begin(), r3.partitions.at(m).end()));
  }
  EXPECT_TRUE(FullyBalanced(r3.partitions));
}

TEST(StickyConstrainedTest, StickinessWhenTheLeaderLeaves) {
  // testStickiness: four members, three partitions; consumer1 leaves.
  const Topics topics = {{"topic1", 3}};
  Subs subs;
  for (const char* m : {"consumer1", "consumer2", "consumer3", "consumer4"})
    subs[m] = Sub({"topic1"});
  auto r1 = RunJava(topics, subs);
  subs.erase("consumer1");
  subs = NextRound(subs, r1.partitions, 1);
  auto r2 = RunJava(topics, subs);
  EXPECT_TRUE(r2.transferring.empty());
  for (const auto& [m, parts] : r2.partitions) {
    EXPECT_EQ(parts.size(), 1u) << m;
    EXPECT_TRUE(r1.partitions.at(m).empty() || r1.partitions.at(m) == parts) << m;
  }
}

TEST(StickyConstrainedTest, MembersLeaveAndJoinWithoutMovingOthers) {
  // testSameSubscriptions and testReassignmentAfterOneConsumerAdded.
  Topics topics;
  std::vector<std::string> names;
  for (int i = 1; i < 15; ++i) {
    names.push_back("t" + std::string(i < 10 ? "0" : "") + std::to_string(i));
    topics[names.back()] = i;
  }
  Subs subs;
  for (int i = 1; i < 9; ++i) subs["c" + std::to_string(i)] = Sub(names);
  auto r1 = RunJava(topics, subs);
  ExpectValid(topics, subs, r1.partitions);
  subs = NextRound(subs, r1.partitions, 1);
  subs.erase("c5");
  auto r2 = RunJava(topics, subs);
  ExpectValid(topics, subs, r2.partitions);
  EXPECT_TRUE(FullyBalanced(r2.partitions));
  EXPECT_TRUE(r2.transferring.empty());
  subs = NextRound(subs, r2.partitions, 2);
  subs["c9"] = Sub(names, {}, 2);
  auto r3 = RunJava(topics, subs);
  ExpectValid(topics, subs, r3.partitions);
  EXPECT_TRUE(FullyBalanced(r3.partitions));
  for (const auto& [tp, m] : r3.transferring) EXPECT_EQ(m, "c9");
}

// ---- General path: subscriptions differ ----

TEST(StickyGeneralTest, MixedSubscriptions) {
  // testMultipleConsumersMixedTopicSubscriptions.
  auto a = RunJava({{"topic1", 3}, {"topic2", 2}}, {{"consumer1", Sub({"topic1"})},
                                                    {"consumer2", Sub({"topic1", "topic2"})},
                                                    {"consumer3", Sub({"topic1"})}});
  EXPECT_FALSE(a.constrained);
  EXPECT_EQ(a.partitions.at("consumer1"), P({{"topic1", 0}, {"topic1", 2}}));
  EXPECT_EQ(a.partitions.at("consumer2"), P({{"topic2", 0}, {"topic2", 1}}));
  EXPECT_EQ(a.partitions.at("consumer3"), P({{"topic1", 1}}));
  EXPECT_TRUE(a.transferring.empty());
}

TEST(StickyGeneralTest, NonEqualSubscriptionMatchesKafka) {
  // The non-rack-aware expectations of testRackAwareAssignmentWithNonEqualSubscription.
  const Topics topics = {{"t1", 6}, {"t2", 7}, {"t3", 2}};
  Subs subs = {{"consumer0", Sub({"t1", "t2", "t3"})},
               {"consumer1", Sub({"t1", "t2", "t3"})},
               {"consumer2", Sub({"t1", "t3"})}};
  const Result expected = {
      {"consumer0", P({{"t1", 5}, {"t2", 0}, {"t2", 2}, {"t2", 4}, {"t2", 6}})},
      {"consumer1", P({{"t1", 3}, {"t2", 1}, {"t2", 3}, {"t2", 5}, {"t3", 0}})},
      {"consumer2", P({{"t1", 0}, {"t1", 1}, {"t1", 2}, {"t1", 4}, {"t3", 1}})}};
  EXPECT_EQ(ComputeStickyAssignment(topics, subs).partitions, expected);
  EXPECT_EQ(ComputeStickyAssignment(topics, NextRound(subs, expected, -1)).partitions, expected);
  // Cooperative from a misaligned previous assignment: first the members keep only what stays,
  // then the released partitions are handed out.
  subs = NextRound(subs,
                   {{"consumer0", P({{"t1", 0}, {"t1", 1}, {"t1", 2}, {"t1", 3}, {"t1", 4}})},
                    {"consumer1", P({{"t1", 5}, {"t2", 0}, {"t2", 1}, {"t2", 2}, {"t2", 3}})},
                    {"consumer2", P({{"t2", 4}, {"t2", 5}, {"t2", 6}, {"t3", 0}, {"t3", 1}})}},
                   -1);
  const Result intermediate = {{"consumer0", P({{"t1", 2}, {"t1", 3}, {"t1", 4}})},
                               {"consumer1", P({{"t2", 0}, {"t2", 1}, {"t2", 2}, {"t2", 3}})},
                               {"consumer2", P({{"t3", 0}, {"t3", 1}})}};
  EXPECT_EQ(Coop(topics, subs), intermediate);
  const Result settled = {
      {"consumer0", P({{"t1", 2}, {"t1", 3}, {"t1", 4}, {"t2", 4}, {"t2", 5}})},
      {"consumer1", P({{"t2", 0}, {"t2", 1}, {"t2", 2}, {"t2", 3}, {"t2", 6}})},
      {"consumer2", P({{"t1", 0}, {"t1", 1}, {"t1", 5}, {"t3", 0}, {"t3", 1}})}};
  EXPECT_EQ(Coop(topics, NextRound(subs, intermediate, -1)), settled);
}

TEST(StickyGeneralTest, PoorRoundRobinScenario) {
  // testPoorRoundRobinAssignmentScenario: round-robin would leave consumer3 empty.
  Topics topics;
  for (int i = 1; i <= 5; ++i) topics["topic" + std::to_string(i)] = i % 2 + 1;
  const Subs subs = {{"consumer1", Sub({"topic1", "topic2", "topic3", "topic4", "topic5"})},
                     {"consumer2", Sub({"topic1", "topic3", "topic5"})},
                     {"consumer3", Sub({"topic1", "topic3", "topic5"})},
                     {"consumer4", Sub({"topic1", "topic2", "topic3", "topic4", "topic5"})}};
  auto a = RunJava(topics, subs);
  ExpectValid(topics, subs, a.partitions);
  for (const auto& [m, parts] : a.partitions) EXPECT_EQ(parts.size(), 2u) << m;
  CoopSettle(topics, subs);
}

TEST(StickyGeneralTest, OnlySubscribedTopicDeleted) {
  // testNoExceptionThrownWhenOnlySubscribedTopicDeleted, and a general-path variant.
  auto r1 = RunJava({{"topic", 3}}, {{"consumer", Sub({"topic"})}});
  const Subs subs = {{"consumer", Sub({"topic"}, r1.partitions.at("consumer"), 1)}};
  auto r2 = RunJava({}, subs);
  EXPECT_TRUE(r2.partitions.at("consumer").empty());
  EXPECT_TRUE(r2.transferring.empty());
  EXPECT_TRUE(Coop({}, subs).at("consumer").empty());
  auto r3 = RunJava({{"other", 2}}, {{"consumer", Sub({"topic"}, r1.partitions.at("consumer"), 1)},
                                     {"consumer2", Sub({"other"})}});
  EXPECT_TRUE(r3.partitions.at("consumer").empty());
  EXPECT_EQ(r3.partitions.at("consumer2").size(), 2u);
}

TEST(StickyGeneralTest, ReassignmentAfterOneConsumerLeaves) {
  // testReassignmentAfterOneConsumerLeaves: member i subscribes to topics 1..i.
  Topics topics;
  Subs subs;
  auto name = [](const char* p, int i) {
    return p + std::string(i < 10 ? "0" : "") + std::to_string(i);
  };
  for (int i = 1; i < 20; ++i) topics[name("t", i)] = i;
  for (int i = 1; i < 20; ++i) {
    std::vector<std::string> ts;
    for (int j = 1; j <= i; ++j) ts.push_back(name("t", j));
    subs[name("c", i)] = Sub(ts);
  }
  auto r1 = RunJava(topics, subs);
  ExpectValid(topics, subs, r1.partitions);
  EXPECT_TRUE(JavaBalanced(topics, subs, r1.partitions));
  subs = NextRound(subs, r1.partitions, 1);
  subs.erase("c10");
  auto r2 = RunJava(topics, subs);
  ExpectValid(topics, subs, r2.partitions);
  EXPECT_TRUE(JavaBalanced(topics, subs, r2.partitions));
  EXPECT_TRUE(r2.sticky);
  ExpectNoTrades(subs, r2.partitions);
  CoopSettle(topics, subs);
}

TEST(StickyGeneralTest, NewAndMovedSubscriptions) {
  // testNewSubscription: consumer0 starts with no topics, then subscribes to t1.
  const Topics topics = {{"t1", 1}, {"t2", 1}, {"t3", 1}, {"t4", 1}};
  Subs subs = {{"c0", Sub({})}, {"c1", Sub({"t1"})}, {"c2", Sub({"t2", "t3", "t4"})}};
  auto r1 = RunJava(topics, subs);
  ExpectValid(topics, subs, r1.partitions);
  subs = NextRound(subs, r1.partitions, 1);
  subs["c0"].topics = {"t1"};
  auto r2 = RunJava(topics, subs);
  ExpectValid(topics, subs, r2.partitions);
  EXPECT_TRUE(JavaBalanced(topics, subs, r2.partitions));
  EXPECT_TRUE(r2.sticky);
  // testMoveExistingAssignments.
  Topics six;
  for (int i = 1; i <= 6; ++i) six["topic" + std::to_string(i)] = 1;
  const Subs moving = {{"consumer1", Sub({"topic1", "topic2"}, P({{"topic1", 0}}), 1)},
                       {"consumer2", Sub({"topic1", "topic2", "topic3", "topic4"},
                                         P({{"topic2", 0}, {"topic3", 0}}), 1)},
                       {"consumer3", Sub({"topic2", "topic3", "topic4", "topic5", "topic6"},
                                         P({{"topic4", 0}, {"topic5", 0}, {"topic6", 0}}), 1)}};
  auto r3 = RunJava(six, moving);
  ExpectValid(six, moving, r3.partitions);
  EXPECT_TRUE(JavaBalanced(six, moving, r3.partitions));
  CoopSettle(six, moving);
}

TEST(StickyGeneralTest, BalancingMovesAPartitionBackInsteadOfTrading) {
  // m3 first takes b-1 from m1; when m1 later needs a b partition back from m3 it gets b-1
  // again rather than b-0 (Java's getTheActualPartitionToBeMoved), so no two members trade.
  const Topics topics = {{"a", 3}, {"b", 6}};
  const Parts m1_owned = P({{"a", 0}, {"a", 1}, {"b", 1}, {"b", 2}, {"b", 5}});
  const Subs subs = {{"m0", Sub({"a"}, P({{"a", 2}}), 1)},
                     {"m1", Sub({"a", "b"}, m1_owned, 1)},
                     {"m2", Sub({"a"}, {}, 1)},
                     {"m3", Sub({"b"}, P({{"b", 0}, {"b", 4}}), 1)}};
  auto a = ComputeStickyAssignment(topics, subs);
  const Result expected = {{"m0", P({{"a", 1}, {"a", 2}})},
                           {"m1", P({{"b", 1}, {"b", 2}, {"b", 5}})},
                           {"m2", P({{"a", 0}})},
                           {"m3", P({{"b", 0}, {"b", 3}, {"b", 4}})}};
  EXPECT_EQ(a.partitions, expected);
  EXPECT_TRUE(a.sticky);
  ExpectNoTrades(subs, a.partitions);
}

TEST(StickyGeneralTest, NewlyAssignedPartitionsMoveFirst) {
  // The unowned partitions go to the least-loaded members (m3 takes b-1, d-0, d-2; m1 d-3); the
  // first balancing pass moves only those (b-1 to m0, d-3 to m3) and the second then moves
  // one owned partition (c-0 from m1 to m2).
  const Topics topics = {{"a", 1}, {"b", 2}, {"c", 2}, {"d", 4}};
  const Subs subs = {{"m0", Sub({"a", "b"})},
                     {"m1", Sub({"c", "d"}, P({{"c", 0}, {"c", 1}, {"d", 1}}))},
                     {"m2", Sub({"a", "c"}, P({{"a", 0}}))},
                     {"m3", Sub({"b", "d"})}};
  const Result expected = {{"m0", P({{"b", 0}, {"b", 1}})},
                           {"m1", P({{"c", 1}, {"d", 1}})},
                           {"m2", P({{"a", 0}, {"c", 0}})},
                           {"m3", P({{"d", 0}, {"d", 2}, {"d", 3}})}};
  EXPECT_EQ(ComputeStickyAssignment(topics, subs).partitions, expected);
  CoopSettle(topics, subs);
}

TEST(StickyGeneralTest, PreviousGenerationOwnerGetsItsPartitionsBack) {
  // "c" claims t-0 and t-1 from generation 1 while "a" (generation 2) holds all of t. When "a"
  // sheds partitions, those two go back to "c" (Java's prevAssignment) and the rest to the
  // least-loaded member.
  const Topics topics = {{"t", 6}, {"u", 1}};
  const Subs subs = {
      {"a", Sub({"t"}, P({{"t", 0}, {"t", 1}, {"t", 2}, {"t", 3}, {"t", 4}, {"t", 5}}), 2)},
      {"b", Sub({"t"}, {}, 2)},
      {"c", Sub({"t"}, P({{"t", 0}, {"t", 1}}), 1)},
      {"u", Sub({"u"}, P({{"u", 0}}), 2)}};
  auto a = ComputeStickyAssignment(topics, subs);
  EXPECT_EQ(a.partitions.at("a"), P({{"t", 4}, {"t", 5}}));
  EXPECT_EQ(a.partitions.at("b"), P({{"t", 2}, {"t", 3}}));
  EXPECT_EQ(a.partitions.at("c"), P({{"t", 0}, {"t", 1}}));
  EXPECT_EQ(a.partitions.at("u"), P({{"u", 0}}));
}

// testAssignmentWithMultipleGenerations1, both with equal and with unequal subscriptions.
TEST(StickyGeneralTest, MultipleGenerations1) {
  for (bool equal : {true, false}) {
    SCOPED_TRACE(equal ? "equal subscriptions" : "unequal subscriptions");
    const Topics topics = {{"topic", 6}, {"topic2", 6}};
    const std::vector<std::string> all = {"topic", "topic2"};
    const std::vector<std::string> c2_topics = equal ? all : std::vector<std::string>{"topic"};
    auto r1 =
        RunJava(topics,
                {{"consumer1", Sub(all)}, {"consumer2", Sub(c2_topics)}, {"consumer3", Sub(all)}})
            .partitions;
    for (const auto& [m, parts] : r1) EXPECT_EQ(parts.size(), 4u) << m;
    Subs subs = {{"consumer1", Sub(all, r1["consumer1"], 1)},
                 {"consumer2", Sub(c2_topics, r1["consumer2"], 1)}};
    auto r2 = RunJava(topics, subs).partitions;
    ExpectValid(topics, subs, r2);
    EXPECT_EQ(r2["consumer1"].size(), 6u);
    EXPECT_EQ(r2["consumer2"].size(), 6u);
    EXPECT_TRUE(std::includes(r2["consumer2"].begin(), r2["consumer2"].end(),
                              r1["consumer2"].begin(), r1["consumer2"].end()));
    if (equal) {
      EXPECT_TRUE(std::includes(r2["consumer1"].begin(), r2["consumer1"].end(),
                                r1["consumer1"].begin(), r1["consumer1"].end()));
    }
    // consumer3 returns with its generation-1 partitions, consumer2 is at generation 2: the
    // newer claims win and the two end up disjoint.
    subs = {{"consumer2", Sub(c2_topics, r2["consumer2"], 2)},
            {"consumer3", Sub(all, r1["consumer3"], 1)}};
    auto r3 = RunJava(topics, subs).partitions;
    ExpectValid(topics, subs, r3);
    EXPECT_EQ(r3["consumer2"].size(), 6u);
    EXPECT_EQ(r3["consumer3"].size(), 6u);
  }
}

// testAssignmentWithMultipleGenerations2.
TEST(StickyGeneralTest, MultipleGenerations2) {
  for (bool equal : {true, false}) {
    SCOPED_TRACE(equal ? "equal subscriptions" : "unequal subscriptions");
    const Topics topics = {{"topic", 4}, {"topic2", 4}, {"topic3", 4}};
    const std::vector<std::string> all = {"topic", "topic2", "topic3"};
    const auto c1_topics = equal ? all : std::vector<std::string>{"topic"};
    const auto c3_topics = equal ? all : std::vector<std::string>{"topic", "topic2"};
    auto r1 = RunJava(topics, {{"consumer1", Sub(c1_topics)},
                               {"consumer2", Sub(all)},
                               {"consumer3", Sub(c3_topics)}})
                  .partitions;
    for (const auto& [m, parts] : r1) EXPECT_EQ(parts.size(), 4u) << m;
    auto r2 = RunJava(topics, {{"consumer2", Sub(all, r1["consumer2"], 1)}}).partitions;
    EXPECT_EQ(r2["consumer2"].size(), 12u);
    // The others come back claiming their generation-1 partitions; consumer2 is at generation 2.
    const Subs subs = {{"consumer1", Sub(c1_topics, r1["consumer1"], 1)},
                       {"consumer2", Sub(all, r2["consumer2"], 2)},
                       {"consumer3", Sub(c3_topics, r1["consumer3"], 1)}};
    auto r3 = RunJava(topics, subs).partitions;
    ExpectValid(topics, subs, r3);
    for (const auto& [m, parts] : r3) EXPECT_EQ(parts.size(), 4u) << m;
    EXPECT_TRUE(JavaBalanced(topics, subs, r3));
  }
}

// testAssignmentWithConflictingPreviousGenerations.
TEST(StickyGeneralTest, ConflictingPreviousGenerations) {
  for (bool equal : {true, false}) {
    SCOPED_TRACE(equal ? "equal subscriptions" : "unequal subscriptions");
    const Topics topics = {{"topic", 4}, {"topic2", 4}, {"topic3", 4}};
    const std::vector<std::string> all = {"topic", "topic2", "topic3"};
    const auto c1_topics = equal ? all : std::vector<std::string>{"topic"};
    const auto c2_topics = equal ? all : std::vector<std::string>{"topic", "topic2"};
    const Parts c1_owned = equal ? P({{"topic", 0},
                                      {"topic", 1},
                                      {"topic", 2},
                                      {"topic2", 2},
                                      {"topic2", 3},
                                      {"topic3", 0}})
                                 : P({{"topic", 0}, {"topic", 1}, {"topic", 2}, {"topic", 3}});
    const Parts c2_owned =
        P({{"topic", 0}, {"topic", 1}, {"topic2", 0}, {"topic2", 1}, {"topic2", 2}, {"topic2", 3}});
    const Parts c3_owned =
        P({{"topic", 2}, {"topic", 3}, {"topic3", 0}, {"topic3", 1}, {"topic3", 2}, {"topic3", 3}});
    const Subs subs = {{"consumer1", Sub(c1_topics, c1_owned, 1)},
                       {"consumer2", Sub(c2_topics, c2_owned, 2)},
                       {"consumer3", Sub(all, c3_owned, 2)}};
    auto a = RunJava(topics, subs).partitions;
    ExpectValid(topics, subs, a);
    for (const auto& [m, parts] : a) EXPECT_EQ(parts.size(), 4u) << m;
    EXPECT_TRUE(std::includes(c2_owned.begin(), c2_owned.end(), a["consumer2"].begin(),
                              a["consumer2"].end()));
    EXPECT_TRUE(std::includes(c3_owned.begin(), c3_owned.end(), a["consumer3"].begin(),
                              a["consumer3"].end()));
  }
}

TEST(StickyGeneralTest, SamePartitionClaimedInThreeGenerations) {
  // testSubscriptionNotEqualAndAssignSamePartitionWith3Generation: topic-2 is claimed by three
  // members in every order of generations 1..3.
  const Topics topics = {{"topic", 6}, {"topic1", 1}};
  const int gens[6][3] = {{1, 2, 3}, {1, 3, 2}, {2, 1, 3}, {2, 3, 1}, {3, 1, 2}, {3, 2, 1}};
  for (const auto& g : gens) {
    const Subs subs = {
        {"consumer1", Sub({"topic"}, P({{"topic", 0}, {"topic", 2}}), g[0])},
        {"consumer2", Sub({"topic"}, P({{"topic", 1}, {"topic", 2}, {"topic", 3}}), g[1])},
        {"consumer3", Sub({"topic"}, P({{"topic", 2}, {"topic", 4}, {"topic", 5}}), g[2])},
        {"consumer4", Sub({"topic1"}, P({{"topic1", 0}}), 2)}};
    for (const Result& a :
         {RunJava(topics, subs).partitions, ComputeStickyAssignment(topics, subs).partitions}) {
      ExpectValid(topics, subs, a);
      for (const auto& [m, parts] : a) {
        EXPECT_TRUE(parts.size() >= 1 && parts.size() <= 2) << m << " has " << parts.size();
      }
    }
  }
}

// ---- Seeded random groups (testLargeAssignmentWithMultipleConsumersLeavingAndRandomSubscription
// and testReassignmentWithRandomSubscriptionsAndChanges) ----

std::vector<std::string> RandomSubset(Rng& rng, const std::vector<std::string>& all) {
  std::vector<std::string> out = all;
  const int64_t drop = rng.Range(0, static_cast<int64_t>(all.size()) - 1);
  for (int64_t i = 0; i < drop; ++i) out.erase(out.begin() + rng.Range(0, out.size() - 1));
  return out;
}

TEST(StickyRandomTest, ManyMembersLeave) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE("reproduce with seed=" + std::to_string(seed));
    Rng rng(seed);
    Topics topics;
    std::vector<std::string> names;
    for (int i = 0; i < 40; ++i) {
      names.push_back("t" + std::to_string(100 + i));
      topics[names.back()] = static_cast<int32_t>(rng.Range(1, 10));
    }
    Subs subs;
    for (int i = 0; i < 200; ++i) {
      std::vector<std::string> ts;
      for (int64_t j = rng.Range(0, 19); j > 0; --j) ts.push_back(names[rng.Range(0, 39)]);
      subs["c" + std::to_string(1000 + i)] = Sub(ts);
    }
    auto r1 = ComputeStickyAssignment(topics, subs);
    EXPECT_FALSE(r1.constrained);
    ExpectValid(topics, subs, r1.partitions);
    EXPECT_TRUE(JavaBalanced(topics, subs, r1.partitions));
    subs = NextRound(subs, r1.partitions, 1);
    for (int i = 0; i < 50; ++i) subs.erase("c" + std::to_string(1000 + rng.Range(0, 199)));
    auto r2 = ComputeStickyAssignment(topics, subs);
    ExpectValid(topics, subs, r2.partitions);
    EXPECT_TRUE(JavaBalanced(topics, subs, r2.partitions));
    EXPECT_TRUE(r2.sticky);
    ExpectNoTrades(subs, r2.partitions);
    CoopSettle(topics, subs, 2);
  }
}

TEST(StickyRandomTest, SubscriptionsChange) {
  Rng rng(42);
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + " of seed 42");
    std::vector<std::string> names;
    Topics topics;
    const int64_t topic_count = rng.Range(10, 19);
    for (int64_t i = 0; i < topic_count; ++i) {
      names.push_back("t" + std::to_string(10 + i));
      topics[names.back()] = static_cast<int32_t>(i + 1);
    }
    Subs subs;
    const int64_t members = rng.Range(20, 39);
    for (int64_t i = 0; i < members; ++i)
      subs["c" + std::to_string(10 + i)] = Sub(RandomSubset(rng, names));
    auto r1 = ComputeStickyAssignment(topics, subs);
    ExpectValid(topics, subs, r1.partitions);
    EXPECT_TRUE(JavaBalanced(topics, subs, r1.partitions));
    Subs next;
    for (const auto& [m, s] : subs) next[m] = Sub(RandomSubset(rng, names), r1.partitions.at(m), 1);
    auto r2 = ComputeStickyAssignment(topics, next);
    ExpectValid(topics, next, r2.partitions);
    EXPECT_TRUE(JavaBalanced(topics, next, r2.partitions));
    EXPECT_TRUE(r2.sticky);
    ExpectNoTrades(next, r2.partitions);
    CoopSettle(topics, next);
  }
}

TEST(StickyRandomTest, DeterministicAcrossRuns) {
  Rng rng(7);
  Topics topics;
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) {
    names.push_back("t" + std::to_string(10 + i));
    topics[names.back()] = static_cast<int32_t>(rng.Range(1, 30));
  }
  Subs subs;
  for (int i = 0; i < 30; ++i) subs["m" + std::to_string(10 + i)] = Sub(RandomSubset(rng, names));
  const auto first = ComputeStickyAssignment(topics, subs).partitions;
  EXPECT_EQ(ComputeStickyAssignment(topics, subs).partitions, first);
}

TEST(StickyPerformanceTest, UnequalSubscriptionsStayFast) {
  // testAssignmentAndGroupWithNonEqualSubscriptionNotTimeout, scaled down: a quarter of the
  // members subscribe to one half of the topics, the rest to the other half.
  Topics topics;
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) {
    names.push_back("t" + std::to_string(100 + i));
    topics[names.back()] = 100;
  }
  const std::vector<std::string> low(names.begin(), names.begin() + 20);
  const std::vector<std::string> high(names.begin() + 20, names.end());
  Subs subs;
  for (int i = 0; i < 200; ++i) subs["c" + std::to_string(1000 + i)] = Sub(i % 4 == 0 ? low : high);
  auto r1 = ComputeStickyAssignment(topics, subs);
  ExpectValid(topics, subs, r1.partitions);
  subs = NextRound(subs, r1.partitions, 1);
  subs.erase(subs.begin());
  auto r2 = ComputeStickyAssignment(topics, subs);
  ExpectValid(topics, subs, r2.partitions);
  EXPECT_TRUE(JavaBalanced(topics, subs, r2.partitions));
}

}  // namespace
}  // namespace ksim
