#include "sim/scenario/scenario.h"

#include "gtest/gtest.h"

namespace ksim {
namespace {

const char* kGood = R"(name: acks-all-broker-crash
seed: 42
duration: 60s
cluster:
  brokers: 3
  hardware: commodity-2014
  broker-config: {unclean.leader.election.enable: false}
network: {latency: 0.5ms, jitter: 0.2ms}
topics:
  - {name: orders, partitions: 6, replication.factor: 3, config: {min.insync.replicas: 2}}
producers:
  - {name: app, count: 2, topic: orders, rate: 10000/s, key: uniform(1000), value-size: 100,
     config: {acks: all, linger.ms: 5, batch.size: 16384}}
consumers:
  - {group: billing, count: 3, subscribe: [orders], config: {enable.auto.commit: false}}
faults:
  - {at: 20s, crash: broker-2, mode: power}
  - {at: 35s, restart: broker-2}
  - {from: 10s, to: 50s, jitter: {between: [broker-1], and: [broker-3], extra: 20ms}}
  - {from: 5s, to: 8s, partition: {between: [broker-1], and: [broker-2, broker-3]}}
expect: [no-lost-acked-writes, partition-order, no-duplicates, replicas-agree]
)";

std::string ErrorOf(const std::string& text, std::vector<std::string> overrides = {}) {
  auto s = ParseScenario(text, "test.yaml", overrides);
  EXPECT_FALSE(s.ok()) << "expected an error for:\n" << text;
  return s.ok() ? "" : std::string(s.status().message());
}

TEST(ScenarioTest, ParsesTheDesignSketch) {
  auto s = ParseScenario(kGood, "test.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "acks-all-broker-crash");
  EXPECT_EQ(s->seed, 42u);
  EXPECT_EQ(s->duration_ns, 60 * kSecond);
  EXPECT_EQ(s->brokers, 3);
  EXPECT_EQ(s->hardware.name, "commodity-2014");
  EXPECT_EQ(s->broker_config.at("unclean.leader.election.enable"), "false");
  EXPECT_EQ(s->network.latency_ns, 500 * kMicrosecond);
  ASSERT_EQ(s->topics.size(), 1u);
  EXPECT_EQ(s->topics[0].partitions, 6);
  EXPECT_EQ(s->topics[0].config.at("min.insync.replicas"), "2");
  ASSERT_EQ(s->producers.size(), 1u);
  EXPECT_EQ(s->producers[0].count, 2);
  EXPECT_DOUBLE_EQ(s->producers[0].rate_per_second, 10000);
  EXPECT_EQ(s->producers[0].key.kind, "uniform");
  EXPECT_EQ(s->producers[0].key.n, 1000);
  EXPECT_EQ(s->producers[0].value_size.min_bytes, 100);
  ASSERT_EQ(s->consumers.size(), 1u);
  EXPECT_EQ(s->consumers[0].subscribe, std::vector<std::string>{"orders"});
  ASSERT_EQ(s->faults.size(), 4u);
  EXPECT_EQ(s->faults[0].kind, "crash");
  EXPECT_EQ(s->faults[0].mode, "power");
  EXPECT_EQ(s->faults[0].nodes, std::vector<std::string>{"broker-2"});
  EXPECT_EQ(s->faults[2].kind, "jitter");
  EXPECT_EQ(s->faults[2].extra_latency_ns, 20 * kMillisecond);
  EXPECT_EQ(*s->faults[2].until_ns, 50 * kSecond);
  EXPECT_EQ(s->faults[3].side_b.size(), 2u);
  EXPECT_EQ(s->expect.size(), 4u);
}

TEST(ScenarioTest, UnknownTopLevelKeyNamesLineAndSuggests) {
  std::string e = ErrorOf("name: x\ndurration: 5s\n");
  EXPECT_EQ(e, "test.yaml:2:1: durration: unknown key 'durration'; did you mean 'duration'?");
}

TEST(ScenarioTest, MisspeltKafkaConfigSuggestsTheRealName) {
  std::string text = kGood;
  text.replace(text.find("linger.ms: 5"), 12, "linger.mss: 5");
  std::string e = ErrorOf(text);
  EXPECT_NE(e.find("test.yaml:13:"), std::string::npos) << e;
  EXPECT_NE(e.find("producers.app.config.linger.mss"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'linger.ms'"), std::string::npos) << e;
}

TEST(ScenarioTest, BadConfigValue) {
  std::string text = kGood;
  text.replace(text.find("acks: all"), 9, "acks: two");
  std::string e = ErrorOf(text);
  EXPECT_NE(e.find("producers.app.config.acks"), std::string::npos) << e;
  EXPECT_NE(e.find("invalid value 'two'"), std::string::npos) << e;
}

TEST(ScenarioTest, EveryValidationErrorIsOneLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"duration: 5\n", "needs a unit"},
      {"duration: 5parsecs\n", "unknown time unit"},
      {"cluster: {brokers: 0}\n", "out of range"},
      {"cluster: {brokerz: 3}\n", "did you mean 'brokers'"},
      {"cluster: {hardware: comodity-2014}\n", "did you mean 'commodity-2014'"},
      {"cluster: {brokers: 2}\ntopics: [{name: t, replication.factor: 3}]\n",
       "larger than the cluster"},
      {"topics: [{name: t}, {name: t}]\n", "defined twice"},
      {"topics: [{name: t, partitions: many}]\n", "not an integer"},
      {"topics: [{name: t}]\nproducers: [{topic: orderz}]\n", "unknown topic 'orderz'"},
      {"topics: [{name: t}]\nproducers: [{topic: t, rate: fast}]\n", "not a rate"},
      {"topics: [{name: t}]\nproducers: [{topic: t, key: gaussian(3)}]\n",
       "not a key distribution"},
      {"topics: [{name: t}]\nconsumers: [{group: g}]\n", "subscribe"},
      {"topics: [{name: t}]\nconsumers: [{group: g, subscribe: [t], commit: sometimes}]\n",
       "not one of"},
      {"faults: [{at: 1s, crash: broker-9}]\n", "unknown broker 'broker-9'"},
      {"faults: [{at: 1s, crash: broker-1, mode: powr}]\n", "did you mean 'power'"},
      {"faults: [{at: 1s}]\n", "no fault given"},
      {"cluster: {brokers: 3, racks: [a, b]}\n", "give one rack per broker (3), got 2"},
      {"topics: [{name: t, partitions: 6}]\nfaults: [{at: 1s, add-partitions: {topic: t, count: 4}}]\n",
       "the new count must exceed the topic's 6 partitions"},
      {"topics: [{name: t, partitions: 6}]\nfaults: [{at: 1s, add-partitions: {topic: x, count: 9}}]\n",
       "unknown topic 'x'"},
      {"topics: [{name: events}]\nfaults: [{at: 1s, delete-topic: evnts}]\n",
       "unknown topic 'evnts'; did you mean 'events'?"},
      {"topics: [{name: t}]\nfaults: [{from: 1s, to: 2s, delete-topic: t}]\n",
       "delete-topic takes at: only; it has no end to heal"},
      {"cluster: {brokers: 3, racks: [a, '', c]}\n", "broker-2 has an empty rack name"},
      {"faults: [{from: 5s, to: 1s, isolate: broker-1}]\n", "must be after"},
      {"nemesis: {kinds: [crsh]}\n", "did you mean 'crash'"},
      {"expect: [no-lost-write]\n", "did you mean 'no-lost-writes'"},
      {"name: [unclosed\n", "YAML syntax error"},
      {"topics: [{name: t}]\nproducers: [{topic: t, config: {interceptor.classes: x}}]\n",
       "unknown producer interceptor 'x'"},
      {"topics: [{name: t}]\nproducers: [{topic: t, config: {interceptor.classes: "
       "'ksim.examples.CounterInterceptor,ksim.examples.TimeStampPrependerInterceptr'}}]\n",
       "did you mean 'ksim.examples.TimeStampPrependerInterceptor'"},
      {"topics: [{name: t}]\nproducers: [{topic: t, config: {key.serializer: "
       "org.apache.kafka.common.serialization.LongSerialiser}}]\n",
       "did you mean 'org.apache.kafka.common.serialization.LongSerializer'"},
      {"topics: [{name: t}]\nproducers: [{topic: t, key: 'fixed(abc)', config: {key.serializer: "
       "long}}]\n",
       "is not a number"},
      {"topics: [{name: t}]\nproducers: [{topic: t, config: {partitioner.class: round-robn}}]\n",
       "did you mean 'round-robin'"},
      {"topics: [{name: t}]\nconsumers: [{group: g, subscribe: [t], threading: worker-pol}]\n",
       "did you mean 'worker-pool'"},
      {"topics: [{name: t}]\nconsumers: [{group: g, subscribe: [t]}]\n"
       "faults: [{at: 1s, crash: g-3}]\n",
       "unknown broker or consumer instance 'g-3'"},
      {"topics: [{name: t}]\nproducers: [{name: app, topic: t}]\n"
       "faults: [{at: 1s, crash: app-1}]\n",
       "unknown broker or consumer instance 'app-1'"},
      {"nemesis: {kinds: [consumer-crash]}\n", "consumer-crash needs consumers"},
      {"topics: [{name: t}]\nconsumers: [{group: g, subscribe: [t],"
       " config: {isolation.level: read_committed}}]\n",
       "does not model"},
      {"- just a list\n", "a scenario file is a mapping"},
  };
  for (const auto& [text, needle] : cases) {
    std::string e = ErrorOf(text);
    EXPECT_NE(e.find(needle), std::string::npos) << text << " -> " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_EQ(e.rfind("test.yaml", 0), 0u) << e;
  }
}

TEST(ScenarioTest, OverridesReachNestedConfigsByName) {
  auto s = ParseScenario(kGood, "test.yaml",
                         {"producers.app.config.linger.ms=20", "cluster.brokers=5",
                          "consumers.billing.count=4", "seed=7",
                          "cluster.broker-config.min.insync.replicas=2"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->producers[0].config.at("linger.ms"), "20");
  EXPECT_EQ(s->brokers, 5);
  EXPECT_EQ(s->consumers[0].count, 4);
  EXPECT_EQ(s->seed, 7u);
  EXPECT_EQ(s->broker_config.at("min.insync.replicas"), "2");
  std::string e = ErrorOf(kGood, {"producers.nosuch.count=1"});
  EXPECT_NE(e.find("no entry named 'nosuch'"), std::string::npos) << e;
  e = ErrorOf(kGood, {"producers.app.config.linger.mss=1"});
  EXPECT_NE(e.find("did you mean 'linger.ms'"), std::string::npos) << e;
}

TEST(ScenarioTest, OverridesMatchTheLongestKeyWithDots) {
  // replication.factor is one key: by topic name, by index, with or without brackets.
  for (const char* o : {"topics.orders.replication.factor=2", "topics[0].replication.factor=2",
                        "topics.0.replication.factor=2"}) {
    auto s = ParseScenario(kGood, "test.yaml", {o});
    ASSERT_TRUE(s.ok()) << o << ": " << s.status();
    EXPECT_EQ(s->topics[0].replication_factor, 2) << o;
  }
  // Also where the file does not set it yet.
  auto s = ParseScenario("topics: [{name: t}]\n", "test.yaml", {"topics.t.replication.factor=1"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->topics[0].replication_factor, 1);
  // A list entry whose name has dots.
  s = ParseScenario("topics: [{name: orders.v2, partitions: 1}, {name: orders}]\n", "test.yaml",
                    {"topics.orders.v2.partitions=4", "topics.orders.partitions=2"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->topics[0].partitions, 4);
  EXPECT_EQ(s->topics[1].partitions, 2);
  // Nested keys without dots still create what is missing.
  s = ParseScenario(kGood, "test.yaml", {"nemesis.kinds=[consumer-crash]"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->nemesis.enabled);
  EXPECT_EQ(s->nemesis.consumer_instances,
            (std::vector<std::string>{"billing-1", "billing-2", "billing-3"}));
}

TEST(ScenarioTest, ConsumerCrashFaultsAndWorkerPool) {
  auto s = ParseScenario(kGood, "test.yaml",
                         {"faults=[{at: 10s, crash: billing-2}, {at: 20s, restart: billing-2}]",
                          "consumers.billing.threading=worker-pool", "consumers.billing.workers=8"});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->faults.size(), 2u);
  EXPECT_EQ(s->faults[0].kind, "crash");
  EXPECT_EQ(s->faults[0].nodes, std::vector<std::string>{"billing-2"});
  EXPECT_EQ(s->faults[1].kind, "restart");
  EXPECT_EQ(s->consumers[0].threading, "worker-pool");
  EXPECT_EQ(s->consumers[0].workers, 8);
}

TEST(ScenarioTest, KeysNotModelledYetAreReportedAsNotes) {
  auto s = ParseScenario("cluster: {broker-config: {log.index.interval.bytes: 8192}}\n", "n.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->notes.size(), 1u);
  EXPECT_NE(s->notes[0].find("n.yaml:1: cluster.broker-config.log.index.interval.bytes=8192"),
            std::string::npos)
      << s->notes[0];
  EXPECT_TRUE(ParseScenario(kGood, "test.yaml")->notes.empty());
}

TEST(ScenarioTest, Units) {
  EXPECT_EQ(*ParseDuration("1.5s"), 1500 * kMillisecond);
  EXPECT_EQ(*ParseDuration("20us"), 20 * kMicrosecond);
  EXPECT_EQ(*ParseDuration("2m"), 2 * kMinute);
  EXPECT_EQ(*ParseSize("16KiB"), 16384);
  EXPECT_EQ(*ParseSize("1MB"), 1000000);
  EXPECT_DOUBLE_EQ(*ParseRate("5/ms"), 5000);
  EXPECT_DOUBLE_EQ(*ParseRate("120/m"), 2);
  EXPECT_FALSE(ParseSize("3 parsecs").ok());
}

}  // namespace
}  // namespace ksim
