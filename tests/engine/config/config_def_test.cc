#include "engine/config/config_def.h"

#include "gtest/gtest.h"

namespace ksim {
namespace {

TEST(ConfigDefTest, KafkaDefaults) {
  Config p(ProducerConfigDef(), {});
  EXPECT_EQ(p.GetString("acks"), "all");
  EXPECT_EQ(p.GetInt("batch.size"), 16384);
  EXPECT_EQ(p.GetLong("buffer.memory"), 33554432);
  EXPECT_EQ(p.GetInt("max.in.flight.requests.per.connection"), 5);
  EXPECT_EQ(p.GetInt("delivery.timeout.ms"), 120000);
  EXPECT_EQ(p.GetInt("request.timeout.ms"), 30000);
  EXPECT_EQ(p.GetLong("retry.backoff.ms"), 100);
  EXPECT_EQ(p.GetLong("linger.ms"), 5);
  EXPECT_TRUE(p.GetBool("enable.idempotence"));
  Config c(ConsumerConfigDef(), {});
  EXPECT_EQ(c.GetInt("session.timeout.ms"), 45000);
  EXPECT_EQ(c.GetInt("heartbeat.interval.ms"), 3000);
  EXPECT_EQ(c.GetString("auto.offset.reset"), "latest");
  EXPECT_EQ(c.GetList("partition.assignment.strategy").size(), 2u);
  Config b(BrokerConfigDef(), {});
  EXPECT_EQ(b.GetInt("min.insync.replicas"), 1);
  EXPECT_FALSE(b.GetBool("unclean.leader.election.enable"));
  EXPECT_EQ(b.GetLong("replica.lag.time.max.ms"), 30000);
  EXPECT_EQ(b.GetInt("offsets.topic.num.partitions"), 50);
  EXPECT_EQ(b.GetLong("log.retention.ms"), -1);  // null
}

TEST(ConfigDefTest, UnknownKeySuggestsTheClosest) {
  absl::Status s = ProducerConfigDef().Validate("linger.mss", "5");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("did you mean 'linger.ms'"), std::string::npos) << s.message();
  EXPECT_FALSE(ProducerConfigDef().Suggest("completely.different.thing").has_value());
}

TEST(ConfigDefTest, BadValuesNameTheKeyAndTheExpectation) {
  absl::Status s = ProducerConfigDef().Validate("acks", "2");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("acks"), std::string::npos);
  EXPECT_FALSE(ProducerConfigDef().Validate("batch.size", "-1").ok());
  EXPECT_FALSE(ProducerConfigDef().Validate("enable.idempotence", "yes").ok());
  absl::Status e = ProducerConfigDef().Validate("compression.type", "lz5");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("did you mean 'lz4'"), std::string::npos) << e.message();
  EXPECT_TRUE(ConsumerConfigDef().Validate("auto.offset.reset", "earliest").ok());
}

TEST(ConfigDefTest, MakeValidatesEveryEntry) {
  EXPECT_TRUE(Config::Make(BrokerConfigDef(), {{"min.insync.replicas", "2"}}).ok());
  EXPECT_FALSE(Config::Make(BrokerConfigDef(), {{"min.insync.replica", "2"}}).ok());
}

TEST(ConfigDefTest, EditDistance) {
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(ClosestMatch("partitons", {"partitions", "topics"}), "partitions");
}

}  // namespace
}  // namespace ksim
