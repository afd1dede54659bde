// The controller's pure rules: leader election and replica placement (rack-unaware, and
// rack-aware after Kafka's AdminRackAwareTest).
#include <set>
#include <string>

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

using Assignment = std::map<int32_t, std::vector<BrokerId>>;
using RackMap = std::map<BrokerId, std::string>;

struct Distribution {
  std::map<int32_t, std::set<std::string>> partition_racks;
  std::map<BrokerId, int> leaders;
  std::map<BrokerId, int> replicas;
};

Distribution DistributionOf(const Assignment& a, const RackMap& racks) {
  Distribution d;
  for (const auto& [p, replicas] : a) {
    ++d.leaders[replicas.front()];
    for (BrokerId b : replicas) {
      ++d.replicas[b];
      d.partition_racks[p].insert(racks.at(b));
    }
  }
  return d;
}

struct Verify {
  bool rack_aware = true;
  bool leaders = true;
  bool replicas = true;
};

// Kafka's RackAwareTest.checkReplicaDistribution.
void CheckReplicaDistribution(const Assignment& a, const RackMap& racks, int32_t partitions,
                              int32_t rf, Verify v, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(a.size(), static_cast<size_t>(partitions));
  for (const auto& [p, replicas] : a) {
    EXPECT_EQ(replicas.size(), static_cast<size_t>(rf)) << "partition " << p;
    EXPECT_EQ(std::set<BrokerId>(replicas.begin(), replicas.end()).size(), replicas.size())
        << "more than one replica of partition " << p << " on one broker";
  }
  const Distribution d = DistributionOf(a, racks);
  const int n = static_cast<int>(racks.size());
  if (v.rack_aware) {
    for (const auto& [p, r] : d.partition_racks) {
      EXPECT_EQ(r.size(), static_cast<size_t>(rf)) << "two replicas of partition " << p
                                                  << " in one rack";
    }
  }
  for (const auto& [b, rack] : racks) {
    if (v.leaders) {
      EXPECT_EQ(d.leaders.count(b) ? d.leaders.at(b) : 0, partitions / n) << b;
    }
    if (v.replicas) {
      EXPECT_EQ(d.replicas.count(b) ? d.replicas.at(b) : 0, partitions * rf / n) << b;
    }
  }
}

// Kafka draws the start index and shift at random; every pair must satisfy the checks.
void CheckEveryStart(const RackMap& racks, int32_t partitions, int32_t rf, Verify v,
                     int32_t first_partition = 0) {
  const int32_t n = static_cast<int32_t>(racks.size());
  for (int32_t start = 0; start < n; ++start) {
    for (int32_t shift = 0; shift < n; ++shift) {
      CheckReplicaDistribution(
          AssignReplicasRackAware(racks, partitions, rf, start, shift, first_partition), racks,
          partitions, rf, v, "start " + std::to_string(start) + " shift " + std::to_string(shift));
    }
  }
}

const RackMap kSixBrokersThreeRacks = {{0, "rack1"}, {1, "rack2"}, {2, "rack2"},
                                       {3, "rack3"}, {4, "rack3"}, {5, "rack1"}};

TEST(RackAwarePlacementTest, RackAlternatedListAndKafkasExactAssignment) {
  const RackMap racks = {{0, "rack1"}, {1, "rack3"}, {2, "rack3"},
                         {3, "rack2"}, {4, "rack2"}, {5, "rack1"}};
  EXPECT_EQ(RackAlternatedBrokerList(racks), (std::vector<BrokerId>{0, 3, 1, 5, 4, 2}));
  RackMap without5 = racks;
  without5.erase(5);
  EXPECT_EQ(RackAlternatedBrokerList(without5), (std::vector<BrokerId>{0, 3, 1, 4, 2}));
  // Kafka's assignReplicasToBrokers(brokers, 7, 3, fixedStartIndex = 0, startPartitionId = 0).
  const Assignment expected = {{0, {0, 3, 1}}, {1, {3, 1, 5}}, {2, {1, 5, 4}}, {3, {5, 4, 2}},
                               {4, {4, 2, 0}}, {5, {2, 0, 3}}, {6, {0, 4, 2}}};
  EXPECT_EQ(AssignReplicasRackAware(racks, 7, 3, 0, 0), expected);
  auto via_dispatch = AssignReplicasToBrokers(racks, 7, 3, 0, 0);
  ASSERT_TRUE(via_dispatch.ok());
  EXPECT_EQ(*via_dispatch, expected);
}

TEST(RackAwarePlacementTest, AssignmentWithRackAware) {
  // fixedStartIndex = 2 (Kafka then uses 2 for the shift too).
  CheckReplicaDistribution(AssignReplicasRackAware(kSixBrokersThreeRacks, 6, 3, 2, 2),
                           kSixBrokersThreeRacks, 6, 3, {}, "fixed start 2");
}

TEST(RackAwarePlacementTest, AssignmentWithRackAwareWithEveryStartIndexAndShift) {
  CheckEveryStart(kSixBrokersThreeRacks, 6, 3, {});
}

TEST(RackAwarePlacementTest, UnevenReplicasStayOnDistinctRacks) {
  CheckReplicaDistribution(AssignReplicasRackAware(kSixBrokersThreeRacks, 13, 3, 0, 0),
                           kSixBrokersThreeRacks, 13, 3, {true, false, false}, "13 partitions");
}

TEST(RackAwarePlacementTest, UnevenRacks) {
  const RackMap racks = {{0, "rack1"}, {1, "rack1"}, {2, "rack2"},
                         {3, "rack3"}, {4, "rack3"}, {5, "rack1"}};
  CheckEveryStart(racks, 12, 3, {true, true, false});
}

TEST(RackAwarePlacementTest, TwoReplicas) {
  CheckEveryStart(kSixBrokersThreeRacks, 12, 2, {});
  CheckEveryStart(kSixBrokersThreeRacks, 6, 2, {});
  CheckEveryStart({{0, "rack1"}, {1, "rack2"}, {4, "rack3"}}, 3, 2, {});
}

TEST(RackAwarePlacementTest, ExpansionFromPartitionTwelve) {
  const RackMap racks = {{6, "rack1"}, {7, "rack2"}, {8, "rack2"},
                         {9, "rack3"}, {10, "rack3"}, {11, "rack1"}};
  CheckEveryStart(racks, 12, 2, {}, /*first_partition=*/12);
  EXPECT_EQ(AssignReplicasRackAware(racks, 12, 2, 0, 0, 12).begin()->first, 12);
}

TEST(RackAwarePlacementTest, LargeNumberOfPartitions) {
  const RackMap racks = {{0, "rack1"}, {1, "rack2"}, {2, "rack2"},  {3, "rack3"},
                         {4, "rack3"}, {5, "rack1"}, {6, "rack1"},  {7, "rack2"},
                         {8, "rack2"}, {9, "rack3"}, {10, "rack1"}, {11, "rack3"}};
  CheckEveryStart(racks, 96, 3, {});
}

TEST(RackAwarePlacementTest, MoreReplicasThanRacksCoversEveryRack) {
  const RackMap racks = {{0, "rack1"}, {1, "rack2"}, {2, "rack2"},
                         {3, "rack3"}, {4, "rack3"}, {5, "rack2"}};
  for (int32_t start = 0; start < 6; ++start) {
    for (int32_t shift = 0; shift < 6; ++shift) {
      const Assignment a = AssignReplicasRackAware(racks, 6, 5, start, shift);
      CheckReplicaDistribution(a, racks, 6, 5, {false, false, false}, "rf 5");
      for (const auto& [p, r] : DistributionOf(a, racks).partition_racks) {
        EXPECT_EQ(r.size(), 3u) << "partition " << p;
      }
    }
  }
}

TEST(RackAwarePlacementTest, LessReplicasThanRacksGivesOneRackEach) {
  const RackMap racks = {{0, "rack1"}, {1, "rack2"}, {2, "rack2"},
                         {3, "rack3"}, {4, "rack3"}, {5, "rack2"}};
  for (int32_t start = 0; start < 6; ++start) {
    for (int32_t shift = 0; shift < 6; ++shift) {
      const Assignment a = AssignReplicasRackAware(racks, 6, 2, start, shift);
      CheckReplicaDistribution(a, racks, 6, 2, {true, false, false}, "rf 2");
    }
  }
}

TEST(RackAwarePlacementTest, SingleRack) {
  const RackMap racks = {{0, "rack1"}, {1, "rack1"}, {2, "rack1"},
                         {3, "rack1"}, {4, "rack1"}, {5, "rack1"}};
  for (int32_t start = 0; start < 6; ++start) {
    for (int32_t shift = 0; shift < 6; ++shift) {
      const Assignment a = AssignReplicasRackAware(racks, 6, 3, start, shift);
      CheckReplicaDistribution(a, racks, 6, 3, {false, true, false}, "one rack");
      for (const auto& [p, r] : DistributionOf(a, racks).partition_racks) EXPECT_EQ(r.size(), 1u);
    }
  }
}

TEST(RackAwarePlacementTest, SkipsBrokerWithReplicaAlreadyAssigned) {
  // Once every rack holds a replica, the walk must still skip brokers already chosen.
  const RackMap racks = {{0, "a"}, {1, "b"}, {2, "c"}, {3, "a"}, {4, "a"}};
  CheckReplicaDistribution(AssignReplicasRackAware(racks, 6, 4, 2, 2), racks, 6, 4,
                           {false, false, false}, "fixed start 2");
  CheckEveryStart(racks, 6, 4, {false, false, false});
}

TEST(RackAwarePlacementTest, LosingAWholeRackLeavesEveryPartitionLiveReplicas) {
  // 6 brokers in 3 racks, as in scenarios/rack-aware.yaml: with rf 3 every partition keeps
  // two replicas whichever rack goes down.
  const RackMap racks = {{1, "a"}, {2, "b"}, {3, "c"}, {4, "a"}, {5, "b"}, {6, "c"}};
  for (int32_t start = 0; start < 6; ++start) {
    for (int32_t shift = 0; shift < 6; ++shift) {
      const Assignment a = AssignReplicasRackAware(racks, 12, 3, start, shift);
      for (const std::string down : {"a", "b", "c"}) {
        for (const auto& [p, replicas] : a) {
          int live = 0;
          for (BrokerId b : replicas) live += racks.at(b) == down ? 0 : 1;
          EXPECT_EQ(live, 2) << "rack " << down << " partition " << p;
        }
      }
    }
  }
}

TEST(RackAwarePlacementTest, ModeFollowsWhichBrokersHaveRacks) {
  // No racks: exactly the rack-unaware assignment.
  const RackMap none = {{1, ""}, {2, ""}, {3, ""}, {4, ""}, {5, ""}};
  auto unaware = AssignReplicasToBrokers(none, 10, 3, 2, 1);
  ASSERT_TRUE(unaware.ok());
  EXPECT_EQ(*unaware, AssignReplicas({1, 2, 3, 4, 5}, 10, 3, 2, 1));
  // Some racks: Kafka's AdminOperationException unless rack awareness is off.
  const RackMap some = {{1, "a"}, {2, ""}, {3, "b"}};
  auto fails = AssignReplicasToBrokers(some, 3, 2, 0, 0);
  ASSERT_FALSE(fails.ok());
  EXPECT_EQ(fails.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(fails.status().message().find("Not all brokers have rack information"),
            std::string::npos)
      << fails.status().message();
  EXPECT_NE(fails.status().message().find("brokers 2"), std::string::npos);
  for (RackAwareMode mode : {RackAwareMode::kSafe, RackAwareMode::kDisabled}) {
    auto falls_back = AssignReplicasToBrokers(some, 3, 2, 0, 0, 0, mode);
    ASSERT_TRUE(falls_back.ok());
    EXPECT_EQ(*falls_back, AssignReplicas({1, 2, 3}, 3, 2, 0, 0));
  }
  // Every broker with a rack: rack-aware, unless disabled.
  auto aware = AssignReplicasToBrokers(kSixBrokersThreeRacks, 6, 3, 1, 4);
  ASSERT_TRUE(aware.ok());
  EXPECT_EQ(*aware, AssignReplicasRackAware(kSixBrokersThreeRacks, 6, 3, 1, 4));
  auto disabled = AssignReplicasToBrokers(kSixBrokersThreeRacks, 6, 3, 1, 4, 0,
                                          RackAwareMode::kDisabled);
  ASSERT_TRUE(disabled.ok());
  EXPECT_EQ(*disabled, AssignReplicas({0, 1, 2, 3, 4, 5}, 6, 3, 1, 4));
}

}  // namespace
}  // namespace ksim
