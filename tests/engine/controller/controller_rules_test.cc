// The controller's pure rules: leader election and replica placement.
#include <set>

#include "engine/controller/controller.h"
#include "gtest/gtest.h"

namespace ksim {
namespace {

TEST(ElectionTest, CleanElectionPicksTheFirstLiveIsrReplicaInAssignmentOrder) {
  bool unclean = true;
  auto alive = [](BrokerId b) { return b != 1; };
  EXPECT_EQ(ElectLeader({1, 2, 3}, {3, 2, 1}, alive, false, &unclean), 2);
  EXPECT_FALSE(unclean);
  EXPECT_EQ(ElectLeader({1, 3, 2}, {2, 3}, alive, false, &unclean), 3);
}

TEST(ElectionTest, NoLiveIsrMemberMeansOfflineUnlessUnclean) {
  bool unclean = false;
  auto alive = [](BrokerId b) { return b == 3; };
  EXPECT_EQ(ElectLeader({1, 2, 3}, {1, 2}, alive, false, &unclean), kNoBroker);
  EXPECT_EQ(ElectLeader({1, 2, 3}, {1, 2}, alive, true, &unclean), 3);
  EXPECT_TRUE(unclean);
}

TEST(PlacementTest, NoTwoReplicasOnOneBrokerAndLeadersSpread) {
  const std::vector<BrokerId> brokers = {1, 2, 3, 4, 5};
  auto a = AssignReplicas(brokers, 10, 3, 2, 1);
  ASSERT_EQ(a.size(), 10u);
  std::map<BrokerId, int> leaders;
  for (const auto& [p, replicas] : a) {
    EXPECT_EQ(std::set<BrokerId>(replicas.begin(), replicas.end()).size(), 3u);
    ++leaders[replicas.front()];
  }
  for (BrokerId b : brokers) EXPECT_EQ(leaders[b], 2);  // 10 partitions, 5 brokers
}

TEST(PlacementTest, FollowsKafkasAssignReplicasToBrokers) {
  // startIndex 0, shift 0 over brokers [0..4]: partition p's leader is p % 5 and its
  // followers are shifted by 1 + (shift + j) % 4.
  auto a = AssignReplicas({0, 1, 2, 3, 4}, 5, 3, 0, 0);
  EXPECT_EQ(a[0], (std::vector<BrokerId>{0, 1, 2}));
  EXPECT_EQ(a[1], (std::vector<BrokerId>{1, 2, 3}));
  EXPECT_EQ(a[4], (std::vector<BrokerId>{4, 0, 1}));
  // After a full round the shift grows, so the follower pattern changes.
  auto b = AssignReplicas({0, 1, 2, 3, 4}, 6, 2, 0, 0);
  EXPECT_EQ(b[5], (std::vector<BrokerId>{0, 2}));
}

}  // namespace
}  // namespace ksim
