// The ksim binary's contract: exit codes (0 checks hold, 1 a check failed, 2 bad input),
// one-line errors with file:line:key and suggestions, and the helper commands' output.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "gtest/gtest.h"

namespace {

struct Result {
  int code = -1;
  std::string out;
};

Result Ksim(const std::string& args) {
  const std::string cmd = std::string(std::getenv("KSIM_BIN")) + " " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  while (fgets(buf.data(), buf.size(), p) != nullptr) r.out += buf.data();
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Scenario(const std::string& name) {
  return std::string(std::getenv("KSIM_SOURCE_DIR")) + "/scenarios/" + name + ".yaml";
}

TEST(CliTest, HelpAndUnknownCommand) {
  EXPECT_EQ(Ksim("--help").code, 0);
  for (const char* c : {"run", "sweep", "validate", "partition-for", "coordinator-for", "assign",
                        "demo"}) {
    EXPECT_EQ(Ksim(std::string(c) + " --help").code, 0) << c;
  }
  Result r = Ksim("rnu");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("did you mean 'run'"), std::string::npos) << r.out;
}

TEST(CliTest, ValidateReportsFileLineAndKey) {
  EXPECT_EQ(Ksim("validate " + Scenario("quickstart")).code, 0);
  const std::string bad = "/tmp/ksim_cli_test_bad.yaml";
  std::ofstream(bad) << "name: x\ncluster:\n  brokers: 3\n  broker-config:\n"
                        "    min.insync.replica: 2\n";
  Result r = Ksim("validate " + bad);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find(bad + ":5:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("did you mean 'min.insync.replicas'"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  EXPECT_EQ(Ksim("run /nonexistent.yaml").code, 2);
  EXPECT_EQ(Ksim("run " + Scenario("quickstart") + " --sed 3").code, 2);
  EXPECT_EQ(Ksim("run " + Scenario("quickstart") + " --set producers.app.config.acks=2").code, 2);
}

TEST(CliTest, RunExitCodesAndReplayLine) {
  Result ok = Ksim("run " + Scenario("kip-101-high-watermark-truncation") + " --seed 1");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("trace hash"), std::string::npos);
  EXPECT_NE(ok.out.find("replay      ksim run"), std::string::npos);
  // (unclean-election-loss loses on some seeds: seed 2 is one.)
  Result bad = Ksim("run " + Scenario("unclean-election-loss") + " --seed 2");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("✗ no-lost-acked-writes"), std::string::npos) << bad.out;
}

TEST(CliTest, DescribeAtShowsTheIsrShrinkingAfterACrash) {
  // quickstart: broker-2 crashes at 8 s; replica.lag.time.max.ms=4000 takes it out of the ISR.
  const std::string json = "/tmp/ksim_cli_test_describe.json";
  Result r = Ksim("run " + Scenario("quickstart") + " --describe-at 5s --describe-at 16s --json " +
                  json);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("describe    at 5.000000s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Topic: orders\tPartitionCount: 6\tReplicationFactor: 3\tConfigs: "
                       "min.insync.replicas=2"),
            std::string::npos)
      << r.out;
  std::ifstream f(json);
  nlohmann::json j = nlohmann::json::parse(f);
  ASSERT_EQ(j["describe"].size(), 2u);
  for (const auto& p : j["describe"][0]["topics"][0]["partitions"]) {
    EXPECT_EQ(p["isr"].size(), 3u) << p.dump();
  }
  for (const auto& p : j["describe"][1]["topics"][0]["partitions"]) {
    EXPECT_EQ(p["isr"].size(), 2u) << p.dump();  // broker 2 is out
    for (const auto& b : p["isr"]) EXPECT_NE(b.get<int>(), 2);
    EXPECT_NE(p["leader"].get<int>(), 2);
  }
  EXPECT_EQ(Ksim("run " + Scenario("quickstart") + " --describe-at soon").code, 2);
}

TEST(CliTest, PartitionForMatchesJava) {
  Result r = Ksim("partition-for --partitions 10 --json -- 21 foobar \"\" -dash");
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j[0]["key"], "21");
  EXPECT_EQ(j[0]["murmur2"], -973932308);
  EXPECT_EQ(j[0]["partition"], 1173551340 % 10);
  EXPECT_EQ(j[1]["murmur2"], -790332482);
  EXPECT_EQ(j[2]["key"], "");
  EXPECT_EQ(j[3]["key"], "-dash");
  EXPECT_EQ(Ksim("partition-for --partitions 0 x").code, 2);
  EXPECT_EQ(Ksim("partition-for x").code, 2);
}

TEST(CliTest, CoordinatorForAndAssign) {
  Result c = Ksim("coordinator-for --json a my-group");
  ASSERT_EQ(c.code, 0) << c.out;
  auto j = nlohmann::json::parse(c.out);
  EXPECT_EQ(j[0]["hash"], 97);
  EXPECT_EQ(j[0]["partition"], 47);
  EXPECT_EQ(j[1]["partition"], 1906497762 % 50);
  Result a = Ksim("assign --strategy range --topic t=3 --member c1=t --member c2=t --member c3=u "
                  "--topic u=1 --json");
  ASSERT_EQ(a.code, 0) << a.out;
  auto as = nlohmann::json::parse(a.out);
  EXPECT_EQ(as["c1"]["t"], nlohmann::json({0, 1}));
  EXPECT_EQ(as["c2"]["t"], nlohmann::json({2}));
  EXPECT_EQ(as["c3"]["u"], nlohmann::json({0}));
  Result bad = Ksim("assign --strategy rang --topic t=1 --member c=t");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("did you mean 'range'"), std::string::npos) << bad.out;
}

}  // namespace
