// The group coordinator's deletions against Apache Kafka 3.x: offset expiration
// (offsets.retention.minutes with KIP-211's rules, GroupMetadata.removeExpiredOffsets), Empty
// groups turning Dead, DeleteGroups and OffsetDelete (KIP-496), all written to
// __consumer_offsets as tombstones (GroupMetadataManager.cleanupGroupMetadata), what a new
// coordinator loads after them, and the log cleaner removing the records they supersede.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "engine/coordinator/offsets_records.h"
#include "tests/engine/coordinator/coordinator_world.h"

namespace ksim::coordinator_test {
namespace {

const TopicPartition kOther0{"other", 0};  // a topic the test group does not subscribe to
constexpr const char* kSolo = "solo";      // a standalone group (assign() consumers)

// offsets.retention.minutes=1 checked every second.
WorldOptions ShortRetention(std::map<std::string, std::string> extra = {}) {
  WorldOptions o;
  o.broker_config["offsets.retention.minutes"] = "1";
  o.broker_config["offsets.retention.check.interval.ms"] = "1000";
  for (const auto& [k, v] : extra) o.broker_config[k] = v;
  return o;
}

// How many records of `key_hash` the offsets log holds, as values and as tombstones.
struct KeyRecords {
  int values = 0;
  int tombstones = 0;
};
KeyRecords CountKey(const std::vector<SyntheticRecord>& log, int64_t key_hash) {
  KeyRecords k;
  for (const SyntheticRecord& r : log) {
    if (r.key_hash != key_hash) continue;
    (r.value_size < 0 ? k.tombstones : k.values)++;
  }
  return k;
}

// Sleeps until `t` (virtual time).
void SleepUntil(World& w, TimeNs t) {
  if (w.Now() < t) Sleep(t - w.Now());
}

// Sleeps until `t`, the member heartbeating every 5 s (its session timeout is 30 s).
void HeartbeatUntil(World& w, const Stable& s, TimeNs t) {
  while (w.Now() < t) {
    Sleep(std::min<DurationNs>(5 * kSecond, t - w.Now()));
    EXPECT_EQ(w.Heartbeat(s.leader, s.generation), Error::kNone);
  }
}

// A Stable group of one member "a" subscribed to "orders", with kTp0 committed; then the
// member leaves. Returns when the group became Empty.
TimeNs CommitAndEmpty(World& w, int64_t offset) {
  Stable s = w.MakeStable({"a"});
  EXPECT_EQ(w.CommitOne(s.leader, s.generation, offset), Error::kNone);
  EXPECT_EQ(w.Leave(s.leader), Error::kNone);
  EXPECT_EQ(w.State(), "Empty");
  return w.Now();
}

// ================================================================================================
// Expiration (KIP-211)
// ================================================================================================

TEST(GroupCleanupTest, EmptyGroupOffsetsExpireRetentionAfterItEmptiedNotAfterTheCommit) {
  World w(ShortRetention());
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    ASSERT_EQ(w.CommitOne(s.leader, s.generation, 42), Error::kNone);
    // Stable and subscribed to "orders": the commit outlives the retention while the member
    // heartbeats.
    HeartbeatUntil(w, s, w.Now() + 90 * kSecond);
    EXPECT_EQ(w.Fetched(), 42);
    ASSERT_EQ(w.Leave(s.leader), Error::kNone);
    const TimeNs emptied = w.Now();
    // Retention counts from when the group became Empty.
    SleepUntil(w, emptied + 58 * kSecond);
    EXPECT_EQ(w.Fetched(), 42);
    EXPECT_EQ(w.State(), "Empty");
    SleepUntil(w, emptied + 62 * kSecond);
    EXPECT_EQ(w.Fetched(), -1);
    // Without offsets the Empty group turned Dead and was forgotten.
    EXPECT_EQ(w.State(), "Dead");
    EXPECT_EQ(w.Describe().generation_id, -1);
    // Both were deleted with tombstones: the offset's key and the group's metadata key.
    const auto log = w.OffsetsLog();
    EXPECT_EQ(CountKey(log, OffsetKeyHash(kGroup, kTp0)).tombstones, 1);
    EXPECT_EQ(CountKey(log, GroupKeyHash(kGroup)).tombstones, 1);
  });
}

TEST(GroupCleanupTest, StableConsumerGroupExpiresOnlyUnsubscribedTopicsFromTheirCommit) {
  World w(ShortRetention());
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    ASSERT_EQ(w.Commit(s.leader, s.generation, {{kTp0, 5}, {kOther0, 7}}).size(), 2u);
    const TimeNs committed = w.Now();
    HeartbeatUntil(w, s, committed + 58 * kSecond);
    EXPECT_EQ(w.FetchAll(), (std::map<TopicPartition, int64_t>{{kTp0, 5}, {kOther0, 7}}));
    HeartbeatUntil(w, s, committed + 62 * kSecond);
    // "other" is not subscribed: expired; "orders" is: kept.
    EXPECT_EQ(w.FetchAll(), (std::map<TopicPartition, int64_t>{{kTp0, 5}}));
    EXPECT_EQ(w.State(), "Stable");
    EXPECT_EQ(CountKey(w.OffsetsLog(), OffsetKeyHash(kGroup, kOther0)).tombstones, 1);
    EXPECT_EQ(CountKey(w.OffsetsLog(), GroupKeyHash(kGroup)).tombstones, 0);
  });
}

TEST(GroupCleanupTest, StandaloneOffsetsExpireRetentionAfterEachCommit) {
  World w(ShortRetention());
  w.Run([&] {
    ASSERT_EQ(w.Commit("", -1, {{kTp0, 1}}, kSolo).at(kTp0), Error::kNone);
    Sleep(30 * kSecond);
    ASSERT_EQ(w.Commit("", -1, {{kTp1, 2}}, kSolo).at(kTp1), Error::kNone);
    const TimeNs second_commit = w.Now();
    SleepUntil(w, second_commit + 45 * kSecond);  // the first commit is 75 s old
    EXPECT_EQ(w.FetchAll(kSolo), (std::map<TopicPartition, int64_t>{{kTp1, 2}}));
    SleepUntil(w, second_commit + 62 * kSecond);
    EXPECT_TRUE(w.FetchAll(kSolo).empty());
    EXPECT_EQ(w.Describe(kSolo).state, "Dead");
    // Generation 0 (offset storage only): no metadata tombstone, as in Kafka.
    const auto log = w.OffsetsLog();
    EXPECT_EQ(CountKey(log, OffsetKeyHash(kSolo, kTp0)).tombstones, 1);
    EXPECT_EQ(CountKey(log, OffsetKeyHash(kSolo, kTp1)).tombstones, 1);
    EXPECT_EQ(CountKey(log, GroupKeyHash(kSolo)).tombstones, 0);
  });
}

TEST(GroupCleanupTest, ExpiryTimesSurviveCoordinatorFailover) {
  World w(ShortRetention());
  w.Run([&] {
    const TimeNs emptied = CommitAndEmpty(w, 42);
    ASSERT_EQ(w.Commit("", -1, {{kTp0, 9}}, kSolo).at(kTp0), Error::kNone);
    const TimeNs solo_committed = w.Now();
    Sleep(30 * kSecond);
    w.CrashAndRestartBroker(kSecond);
    ASSERT_TRUE(w.WaitReady());
    // Loaded with their timestamps: not expired yet...
    EXPECT_EQ(w.Fetched(), 42);
    EXPECT_EQ(w.State(), "Empty");
    EXPECT_EQ(w.FetchAll(kSolo).at(kTp0), 9);
    // ...and expiring retention after the group emptied and the standalone commit, not
    // retention after the load.
    SleepUntil(w, std::max(emptied, solo_committed) + 62 * kSecond);
    EXPECT_EQ(w.Fetched(), -1);
    EXPECT_EQ(w.State(), "Dead");
    EXPECT_TRUE(w.FetchAll(kSolo).empty());
  });
}

TEST(GroupCleanupTest, ReloadedCoordinatorDoesNotSeeExpiredOffsetsOrDeadGroups) {
  World w(ShortRetention());
  w.Run([&] {
    const TimeNs emptied = CommitAndEmpty(w, 42);
    SleepUntil(w, emptied + 40 * kSecond);
    ASSERT_EQ(w.Commit("", -1, {{kTp1, 3}}, kSolo).at(kTp1), Error::kNone);
    SleepUntil(w, emptied + 62 * kSecond);
    ASSERT_EQ(w.State(), "Dead");
    w.CrashAndRestartBroker(kSecond);
    ASSERT_TRUE(w.WaitReady());
    EXPECT_EQ(w.Fetched(), -1);
    EXPECT_EQ(w.State(), "Dead");
    // A new group of the same id starts over at generation 1.
    const std::string a = w.NewMemberId("a");
    EXPECT_EQ(w.Join(a, "a")->generation_id, 1);
    // The unexpired standalone offset is kept.
    EXPECT_EQ(w.FetchAll(kSolo), (std::map<TopicPartition, int64_t>{{kTp1, 3}}));
  });
}

// ================================================================================================
// DeleteGroups
// ================================================================================================

TEST(GroupCleanupTest, DeleteGroupsErrors) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    auto r = w.DeleteGroups({kGroup, "never-seen", ""});
    EXPECT_EQ(r.at(kGroup), Error::kNonEmptyGroup);
    EXPECT_EQ(r.at("never-seen"), Error::kGroupIdNotFound);
    EXPECT_EQ(r.at(""), Error::kInvalidGroupId);
    EXPECT_EQ(w.State(), "Stable");
    EXPECT_EQ(w.Heartbeat(s.leader, s.generation), Error::kNone);
  });
}

TEST(GroupCleanupTest, DeleteGroupsAnswersNotCoordinatorBeforeTheOffsetsPartitionIsLed) {
  World w;
  w.Run([&] { EXPECT_EQ(w.DeleteGroups({kGroup}).at(kGroup), Error::kNotCoordinator); },
        /*wait_ready=*/false);
}

// Kafka's cleanupGroupMetadata for deleted topics: the UpdateMetadata that deletes a topic has
// every coordinator drop its partitions' offsets, with tombstones; other topics' stay.
TEST(GroupCleanupTest, OffsetsOfADeletedTopicAreTombstoned) {
  World w;
  w.Run([&] {
    const TopicPartition payments{"payments", 0};
    ASSERT_EQ(w.Commit("", -1, {{kTp0, 5}, {kTp1, 6}, {payments, 7}}).at(kTp0), Error::kNone);
    w.coordinator().OnTopicsDeleted({"orders"});
    Sleep(kSecond);
    const std::map<TopicPartition, int64_t> left = {{payments, 7}};
    EXPECT_EQ(w.FetchAll(), left);
    const auto log = w.OffsetsLog();
    EXPECT_EQ(CountKey(log, OffsetKeyHash(kGroup, kTp0)).tombstones, 1);
    EXPECT_EQ(CountKey(log, OffsetKeyHash(kGroup, kTp1)).tombstones, 1);
    EXPECT_EQ(CountKey(log, OffsetKeyHash(kGroup, payments)).tombstones, 0);
    w.CrashAndRestartBroker(kSecond);  // a new coordinator loads the same
    ASSERT_TRUE(w.WaitReady());
    EXPECT_EQ(w.FetchAll(), left);
  });
}

TEST(GroupCleanupTest, DeletingAnEmptyGroupTombstonesItsOffsetsAndMetadata) {
  World w;
  w.Run([&] {
    CommitAndEmpty(w, 42);
    ASSERT_EQ(w.Commit("", -1, {{kTp1, 43}}).at(kTp1), Error::kNone);
    Sleep(kSecond);  // the emptied group's metadata is stored in the background
    EXPECT_EQ(w.DeleteGroups({kGroup}).at(kGroup), Error::kNone);
    EXPECT_TRUE(w.FetchAll().empty());
    EXPECT_EQ(w.State(), "Dead");
    EXPECT_EQ(w.DeleteGroups({kGroup}).at(kGroup), Error::kGroupIdNotFound);
    const auto log = w.OffsetsLog();
    EXPECT_EQ(CountKey(log, OffsetKeyHash(kGroup, kTp0)).tombstones, 1);
    EXPECT_EQ(CountKey(log, OffsetKeyHash(kGroup, kTp1)).tombstones, 1);
    EXPECT_EQ(CountKey(log, GroupKeyHash(kGroup)).tombstones, 1);
    // A new coordinator loads nothing of it.
    w.CrashAndRestartBroker(kSecond);
    ASSERT_TRUE(w.WaitReady());
    EXPECT_TRUE(w.FetchAll().empty());
    EXPECT_EQ(w.State(), "Dead");
    EXPECT_EQ(w.DeleteGroups({kGroup}).at(kGroup), Error::kGroupIdNotFound);
  });
}

TEST(GroupCleanupTest, AGroupRecreatedAfterDeletionReloadsOnlyItsNewLife) {
  World w;
  w.Run([&] {
    CommitAndEmpty(w, 42);
    Sleep(kSecond);
    ASSERT_EQ(w.DeleteGroups({kGroup}).at(kGroup), Error::kNone);
    // The same id again: a new group, from generation 1.
    Stable s = w.MakeStable({"b"});
    EXPECT_EQ(s.generation, 1);
    ASSERT_EQ(w.Commit(s.leader, s.generation, {{kTp1, 7}}).at(kTp1), Error::kNone);
    w.CrashAndRestartBroker(kSecond);
    ASSERT_TRUE(w.WaitReady());
    // Old commit, tombstones, new metadata, new commit: only the new life is loaded.
    EXPECT_EQ(w.FetchAll(), (std::map<TopicPartition, int64_t>{{kTp1, 7}}));
    EXPECT_EQ(w.State(), "Stable");
    EXPECT_EQ(w.Describe().generation_id, 1);
    EXPECT_EQ(w.Heartbeat(s.leader, s.generation), Error::kNone);
  });
}

TEST(GroupCleanupTest, DeletingAStandaloneGroupWritesNoMetadataTombstone) {
  World w;
  w.Run([&] {
    ASSERT_EQ(w.Commit("", -1, {{kTp0, 1}}, kSolo).at(kTp0), Error::kNone);
    EXPECT_EQ(w.DeleteGroups({kSolo}).at(kSolo), Error::kNone);
    EXPECT_TRUE(w.FetchAll(kSolo).empty());
    const auto log = w.OffsetsLog();
    EXPECT_EQ(CountKey(log, OffsetKeyHash(kSolo, kTp0)).tombstones, 1);
    EXPECT_EQ(CountKey(log, GroupKeyHash(kSolo)).tombstones, 0);
  });
}

// ================================================================================================
// OffsetDelete (KIP-496)
// ================================================================================================

TEST(GroupCleanupTest, OffsetDeleteKeepsSubscribedTopicsOfAnActiveGroup) {
  World w;
  w.Run([&] {
    Stable s = w.MakeStable({"a"});
    ASSERT_EQ(w.Commit(s.leader, s.generation, {{kTp0, 5}, {kOther0, 7}}).size(), 2u);
    auto r = w.DeleteOffsets({kTp0, kOther0});
    EXPECT_EQ(r->error, Error::kNone);
    EXPECT_EQ(r->partitions.at(kTp0), Error::kGroupSubscribedToTopic);
    EXPECT_EQ(r->partitions.at(kOther0), Error::kNone);
    EXPECT_EQ(w.FetchAll(), (std::map<TopicPartition, int64_t>{{kTp0, 5}}));
    EXPECT_EQ(CountKey(w.OffsetsLog(), OffsetKeyHash(kGroup, kOther0)).tombstones, 1);
    EXPECT_EQ(w.DeleteOffsets({kTp0}, "never-seen")->error, Error::kGroupIdNotFound);
  });
}

TEST(GroupCleanupTest, OffsetDeleteOfAnEmptyGroupsLastOffsetsDeletesTheGroup) {
  World w;
  w.Run([&] {
    CommitAndEmpty(w, 42);
    auto r = w.DeleteOffsets({kTp0});
    EXPECT_EQ(r->error, Error::kNone);
    EXPECT_EQ(r->partitions.at(kTp0), Error::kNone);
    EXPECT_EQ(w.Fetched(), -1);
    EXPECT_EQ(w.State(), "Dead");
  });
}

// ================================================================================================
// The log cleaner and the tombstones
// ================================================================================================

// Commits supersede each other, expiry tombstones the last one; the cleaner first removes the
// superseded commits (keeping the tombstone), then, delete.retention.ms after the tombstone was
// first cleaned, the tombstone too. Another group keeps committing so segments roll.
TEST(GroupCleanupTest, LogCleanerRemovesSupersededCommitsThenTombstonesAfterDeleteRetention) {
  constexpr int64_t kDeleteRetentionMs = 30000;
  World w(ShortRetention({{"offsets.topic.segment.bytes", "1024"},
                          {"log.cleaner.backoff.ms", "1000"},
                          {"log.cleaner.delete.retention.ms", "30000"}}));
  w.Run([&] {
    const int64_t key = OffsetKeyHash(kSolo, kTp0);
    for (int64_t i = 0; i < 10; ++i) {
      ASSERT_EQ(w.Commit("", -1, {{kTp0, i}}, kSolo).at(kTp0), Error::kNone);
    }
    EXPECT_EQ(CountKey(w.OffsetsLog(), key).values, 10);
    TimeNs expired = -1, superseded_gone = -1, tombstone_gone = -1;
    int64_t filler = 0;
    const TimeNs give_up = w.Now() + 5 * kMinute;
    while (w.Now() < give_up && tombstone_gone < 0) {
      ASSERT_EQ(w.Commit("", -1, {{kTp0, ++filler}}, "filler").at(kTp0), Error::kNone);
      Sleep(kSecond);
      const KeyRecords k = CountKey(w.OffsetsLog(), key);
      if (expired < 0 && k.tombstones > 0) expired = w.Now();
      if (superseded_gone < 0 && expired >= 0 && k.values == 0) {
        EXPECT_EQ(k.tombstones, 1);
        superseded_gone = w.Now();
      }
      if (expired >= 0 && k.tombstones == 0) {
        EXPECT_EQ(k.values, 0);
        tombstone_gone = w.Now();
      }
    }
    ASSERT_GE(expired, 0);
    ASSERT_GE(superseded_gone, 0);
    ASSERT_GE(tombstone_gone, 0);
    EXPECT_LT(superseded_gone, tombstone_gone);
    EXPECT_GE(tombstone_gone - expired, kDeleteRetentionMs * kMillisecond);
    // The cleaned log loads as before: the expired group is gone, the other one is intact.
    w.CrashAndRestartBroker(kSecond);
    ASSERT_TRUE(w.WaitReady());
    EXPECT_TRUE(w.FetchAll(kSolo).empty());
    EXPECT_EQ(w.FetchAll("filler").at(kTp0), filler);
  });
}

}  // namespace
}  // namespace ksim::coordinator_test
