// Every scenario shipped in scenarios/ loads and validates.
#include <cstdlib>
#include <filesystem>

#include "gtest/gtest.h"
#include "sim/scenario/scenario.h"

namespace ksim {
namespace {

TEST(ShippedScenariosTest, AllLoad) {
  const char* root = std::getenv("KSIM_SOURCE_DIR");
  ASSERT_NE(root, nullptr);
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(root) + "/scenarios")) {
    if (e.path().extension() != ".yaml") continue;
    auto s = LoadScenario(e.path().string());
    EXPECT_TRUE(s.ok()) << s.status();
    ++n;
  }
  EXPECT_GE(n, 7);
}

TEST(ShippedScenariosTest, MissingFileIsAClearError) {
  auto s = LoadScenario("/nonexistent/x.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace ksim
