// Assignor tests, including scenarios from Kafka's RangeAssignorTest, RoundRobinAssignorTest
// and AbstractStickyAssignorTest.
#include "engine/client/consumer/assignor.h"

#include <algorithm>

#include "engine/runtime/rng.h"
#include "gtest/gtest.h"

namespace ksim {
namespace {

std::vector<TopicPartition> P(std::vector<std::pair<std::string, int>> v) {
  std::vector<TopicPartition> out;
  for (auto& [t, p] : v) out.push_back({t, p});
  std::sort(out.begin(), out.end());
  return out;
}

Subscription Sub(std::vector<std::string> topics, std::vector<TopicPartition> owned = {},
                 int32_t generation = 1) {
  return Subscription{std::move(topics), std::move(owned), generation, ""};
}

TEST(RangeAssignorTest, OneConsumerTwoTopics) {
  auto a = FindAssignor("range")->Assign({{"t1", 3}, {"t2", 3}}, {{"c1", Sub({"t1", "t2"})}});
  EXPECT_EQ(a["c1"].partitions, P({{"t1", 0}, {"t1", 1}, {"t1", 2}, {"t2", 0}, {"t2", 1}, {"t2", 2}}));
}

TEST(RangeAssignorTest, TwoConsumersOneTopicThreePartitions) {
  auto a = FindAssignor("range")->Assign({{"t", 3}}, {{"c1", Sub({"t"})}, {"c2", Sub({"t"})}});
  EXPECT_EQ(a["c1"].partitions, P({{"t", 0}, {"t", 1}}));
  EXPECT_EQ(a["c2"].partitions, P({{"t", 2}}));
}

TEST(RangeAssignorTest, ExtraPartitionsGoToTheFirstMembersOfEachTopic) {
  auto a = FindAssignor("range")->Assign({{"t1", 3}, {"t2", 3}},
                                         {{"c1", Sub({"t1", "t2"})}, {"c2", Sub({"t1", "t2"})}});
  EXPECT_EQ(a["c1"].partitions, P({{"t1", 0}, {"t1", 1}, {"t2", 0}, {"t2", 1}}));
  EXPECT_EQ(a["c2"].partitions, P({{"t1", 2}, {"t2", 2}}));
}

TEST(RangeAssignorTest, MemberWithoutSubscriptionGetsNothing) {
  auto a = FindAssignor("range")->Assign({{"t1", 2}, {"t2", 2}},
                                         {{"c1", Sub({"t1"})}, {"c2", Sub({"t2"})}, {"c3", Sub({})}});
  EXPECT_EQ(a["c1"].partitions, P({{"t1", 0}, {"t1", 1}}));
  EXPECT_EQ(a["c2"].partitions, P({{"t2", 0}, {"t2", 1}}));
  EXPECT_TRUE(a["c3"].partitions.empty());
}

TEST(RoundRobinAssignorTest, TwoConsumersTwoTopics) {
  auto a = FindAssignor("roundrobin")->Assign(
      {{"t1", 3}, {"t2", 3}}, {{"c1", Sub({"t1", "t2"})}, {"c2", Sub({"t1", "t2"})}});
  EXPECT_EQ(a["c1"].partitions, P({{"t1", 0}, {"t1", 2}, {"t2", 1}}));
  EXPECT_EQ(a["c2"].partitions, P({{"t1", 1}, {"t2", 0}, {"t2", 2}}));
}

TEST(RoundRobinAssignorTest, SkipsMembersNotSubscribed) {
  // Kafka's testMultipleConsumersMixedTopics: c0 [t1], c1 [t1,t2], c2 [t1]; t1=3, t2=2.
  auto a = FindAssignor("roundrobin")->Assign(
      {{"t1", 3}, {"t2", 2}},
      {{"c0", Sub({"t1"})}, {"c1", Sub({"t1", "t2"})}, {"c2", Sub({"t1"})}});
  EXPECT_EQ(a["c0"].partitions, P({{"t1", 0}}));
  EXPECT_EQ(a["c1"].partitions, P({{"t1", 1}, {"t2", 0}, {"t2", 1}}));
  EXPECT_EQ(a["c2"].partitions, P({{"t1", 2}}));
}

bool Balanced(const std::map<MemberId, Assignment>& a) {
  size_t lo = SIZE_MAX, hi = 0;
  for (const auto& [m, x] : a) {
    lo = std::min(lo, x.partitions.size());
    hi = std::max(hi, x.partitions.size());
  }
  return hi - lo <= 1;
}

size_t Total(const std::map<MemberId, Assignment>& a) {
  size_t n = 0;
  for (const auto& [m, x] : a) n += x.partitions.size();
  return n;
}

TEST(StickyAssignorTest, KeepsPartitionsWhenAMemberLeaves) {
  const Assignor* s = FindAssignor("sticky");
  auto first = s->Assign({{"t", 9}}, {{"c1", Sub({"t"})}, {"c2", Sub({"t"})}, {"c3", Sub({"t"})}});
  ASSERT_TRUE(Balanced(first));
  // c3 leaves: c1 and c2 keep everything they had and split c3's partitions.
  auto second = s->Assign({{"t", 9}}, {{"c1", Sub({"t"}, first["c1"].partitions)},
                                       {"c2", Sub({"t"}, first["c2"].partitions)}});
  for (const char* m : {"c1", "c2"}) {
    for (const TopicPartition& tp : first[m].partitions) {
      EXPECT_TRUE(std::binary_search(second[m].partitions.begin(), second[m].partitions.end(), tp))
          << m << " lost " << tp.ToString();
    }
  }
  EXPECT_TRUE(Balanced(second));
  EXPECT_EQ(Total(second), 9u);
}

TEST(StickyAssignorTest, BalancedAndCompleteOnRandomInputs) {
  Rng rng(7);
  const Assignor* s = FindAssignor("sticky");
  for (int round = 0; round < 50; ++round) {
    std::map<std::string, int32_t> topics = {{"a", static_cast<int32_t>(rng.Range(1, 20))},
                                             {"b", static_cast<int32_t>(rng.Range(1, 20))}};
    std::map<MemberId, Subscription> subs;
    const int members = static_cast<int>(rng.Range(1, 8));
    for (int m = 0; m < members; ++m) subs["m" + std::to_string(m)] = Sub({"a", "b"});
    auto a = s->Assign(topics, subs);
    EXPECT_TRUE(Balanced(a));
    EXPECT_EQ(Total(a), static_cast<size_t>(topics["a"] + topics["b"]));
  }
}

TEST(StickyAssignorTest, ConflictingClaimsGoToTheHigherGeneration) {
  const Assignor* s = FindAssignor("sticky");
  auto a = s->Assign({{"t", 2}}, {{"c1", Sub({"t"}, P({{"t", 0}}), 3)},
                                  {"c2", Sub({"t"}, P({{"t", 0}}), 2)}});
  EXPECT_EQ(a["c1"].partitions, P({{"t", 0}}));
  EXPECT_EQ(a["c2"].partitions, P({{"t", 1}}));
}

TEST(CooperativeStickyAssignorTest, MovedPartitionsAreRevokedFirst) {
  const Assignor* c = FindAssignor("cooperative-sticky");
  ASSERT_TRUE(c->cooperative());
  // c1 owns everything; c2 joins. This round gives c2 nothing yet: c1 must first revoke.
  auto round1 = c->Assign({{"t", 4}}, {{"c1", Sub({"t"}, P({{"t", 0}, {"t", 1}, {"t", 2}, {"t", 3}}))},
                                       {"c2", Sub({"t"})}});
  EXPECT_EQ(round1["c1"].partitions.size(), 2u);
  EXPECT_TRUE(round1["c2"].partitions.empty());
  // Next round (c1 owns only what it kept): c2 gets the released partitions.
  auto round2 = c->Assign({{"t", 4}}, {{"c1", Sub({"t"}, round1["c1"].partitions)},
                                       {"c2", Sub({"t"})}});
  EXPECT_EQ(round2["c1"].partitions, round1["c1"].partitions);
  EXPECT_EQ(round2["c2"].partitions.size(), 2u);
}

TEST(AssignorRegistryTest, ClassNamesAndShortNames) {
  EXPECT_EQ(AssignorName("org.apache.kafka.clients.consumer.RangeAssignor"), "range");
  EXPECT_EQ(AssignorName("org.apache.kafka.clients.consumer.CooperativeStickyAssignor"),
            "cooperative-sticky");
  EXPECT_TRUE(IsCooperative("cooperative-sticky"));
  EXPECT_FALSE(IsCooperative("range"));
  EXPECT_EQ(FindAssignor("nope"), nullptr);
}

}  // namespace
}  // namespace ksim
