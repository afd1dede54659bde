// `ksim sweep`: many runs of one scenario in parallel processes, over seeds and parameter
// grids. Each run is `ksim run FILE --seed S --set ... --json TMP --quiet` in a child process.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/config/config_def.h"
#include "sim/cli/commands.h"
#include "sim/scenario/scenario.h"

extern char** environ;

namespace ksim::cli {
namespace {

constexpr const char* kSweepUsage =
    "usage: ksim sweep FILE --seeds A..B [-j N] [--set PATH=VALUE]...\n"
    "                  [--grid PATH=V1,V2,...]... [--csv OUT] [--json OUT]\n\n"
    "Runs FILE once per seed (and per point of the --grid cross product) in parallel\n"
    "processes, prints failing seeds with the command that replays each, and a summary\n"
    "table. --csv/--json write one row per run. Exit 1 if any run failed a check.\n";

struct Job {
  uint64_t seed;
  std::vector<std::string> sets;  // grid point
  std::string out;
  pid_t pid = -1;
  int exit_code = -1;
  nlohmann::json result;
};

std::string SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "ksim";
  buf[n] = 0;
  return buf;
}

}  // namespace

int SweepMain(const Args& args) {
  std::string file, seeds, csv, json;
  int jobs = 2;
  std::vector<std::string> sets;
  std::vector<std::pair<std::string, std::vector<std::string>>> grid;
  const std::vector<std::string> options = {"--seeds", "-j", "--set", "--grid", "--csv", "--json",
                                            "--help"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto need = [&](const char* what) -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::printf("%s", kSweepUsage);
      return 0;
    } else if (a == "--seeds") {
      auto v = need("A..B");
      if (!v) return UsageError("--seeds needs A..B, e.g. --seeds 1..100");
      seeds = *v;
    } else if (a == "-j") {
      auto v = need("N");
      if (!v || !absl::SimpleAtoi(*v, &jobs) || jobs < 1) return UsageError("-j needs a positive number");
    } else if (a == "--set") {
      auto v = need("PATH=VALUE");
      if (!v || v->find('=') == std::string::npos) return UsageError("--set needs PATH=VALUE");
      sets.push_back(*v);
    } else if (a == "--grid") {
      auto v = need("PATH=V1,V2");
      size_t eq = v ? v->find('=') : std::string::npos;
      if (!v || eq == std::string::npos) return UsageError("--grid needs PATH=V1,V2,...");
      grid.emplace_back(v->substr(0, eq),
                        std::vector<std::string>(absl::StrSplit(v->substr(eq + 1), ',')));
    } else if (a == "--csv" || a == "--json") {
      auto v = need("OUT");
      if (!v) return UsageError(a + " needs a file name");
      (a == "--csv" ? csv : json) = *v;
    } else if (a.rfind("-", 0) == 0) {
      auto s = ClosestMatch(a, options);
      return UsageError("unknown option '" + a + "'" + (s ? "; did you mean '" + *s + "'?" : ""));
    } else if (file.empty()) {
      file = a;
    } else {
      return UsageError("only one scenario file");
    }
  }
  if (file.empty()) return UsageError("missing scenario FILE (see ksim sweep --help)");
  uint64_t lo = 0, hi = 0;
  std::vector<std::string> range = absl::StrSplit(seeds, "..");
  if (range.size() != 2 || !absl::SimpleAtoi(range[0], &lo) || !absl::SimpleAtoi(range[1], &hi) ||
      lo > hi) {
    return UsageError("--seeds needs A..B with A <= B, e.g. --seeds 1..100");
  }
  // Validate once up front, so a typo is one error and not one per run.
  {
    std::vector<std::string> all = sets;
    for (const auto& [path, values] : grid) all.push_back(path + "=" + values.front());
    auto sc = LoadScenario(file, all);
    if (!sc.ok()) return UsageError(std::string(sc.status().message()));
  }
  std::vector<std::vector<std::string>> points = {{}};
  for (const auto& [path, values] : grid) {
    std::vector<std::vector<std::string>> next;
    for (const auto& p : points) {
      for (const std::string& v : values) {
        auto q = p;
        q.push_back(path + "=" + v);
        next.push_back(q);
      }
    }
    points = next;
  }
  std::vector<Job> all;
  char tmpl[] = "/tmp/ksim-sweep-XXXXXX";
  std::string dir = mkdtemp(tmpl) ? tmpl : "/tmp";
  for (const auto& p : points) {
    for (uint64_t s = lo; s <= hi; ++s) {
      Job j;
      j.seed = s;
      j.sets = p;
      j.out = absl::StrCat(dir, "/run-", all.size(), ".json");
      all.push_back(j);
    }
  }
  const std::string self = SelfPath();
  size_t next = 0, done = 0;
  std::map<pid_t, size_t> running;
  while (done < all.size()) {
    while (running.size() < static_cast<size_t>(jobs) && next < all.size()) {
      Job& j = all[next];
      std::vector<std::string> argv = {self, "run", file, "--seed", std::to_string(j.seed),
                                       "--json", j.out, "--quiet"};
      for (const auto& s : sets) argv.insert(argv.end(), {"--set", s});
      for (const auto& s : j.sets) argv.insert(argv.end(), {"--set", s});
      std::vector<char*> cargv;
      for (auto& s : argv) cargv.push_back(s.data());
      cargv.push_back(nullptr);
      pid_t pid;
      if (posix_spawn(&pid, self.c_str(), nullptr, nullptr, cargv.data(), environ) != 0) {
        return UsageError("cannot start " + self);
      }
      j.pid = pid;
      running[pid] = next++;
    }
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid <= 0) break;
    auto it = running.find(pid);
    if (it == running.end()) continue;
    Job& j = all[it->second];
    running.erase(it);
    j.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::ifstream f(j.out);
    if (f) j.result = nlohmann::json::parse(f, nullptr, false);
    ++done;
    if (isatty(STDERR_FILENO)) {
      std::fprintf(stderr, "\r%zu/%zu runs done", done, all.size());
      std::fflush(stderr);
    }
  }
  if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\r%40s\r", "");
  int failed = 0;
  std::printf("%-6s %-40s %-7s %14s %10s %10s\n", "seed", "settings", "result", "records/s",
              "p99 ms", "max ms");
  nlohmann::json rows = nlohmann::json::array();
  std::string csv_text = "seed,settings,result,records_per_s,mb_per_s,p50_ms,p99_ms,max_ms,acked,failed\n";
  for (const Job& j : all) {
    const bool ok = j.exit_code == 0;
    const bool crashed = j.exit_code != 0 && j.exit_code != 1;
    failed += !ok;
    const auto& r = j.result;
    double rps = r.is_object() ? r["throughput"]["records_per_s"].get<double>() : 0;
    double mbps = r.is_object() ? r["throughput"]["mb_per_s"].get<double>() : 0;
    double p50 = r.is_object() ? r["produce_latency"]["p50_ms"].get<double>() : 0;
    double p99 = r.is_object() ? r["produce_latency"]["p99_ms"].get<double>() : 0;
    double mx = r.is_object() ? r["produce_latency"]["max_ms"].get<double>() : 0;
    std::string settings = j.sets.empty() ? "-" : absl::StrJoin(j.sets, " ");
    const char* verdict = ok ? "ok" : crashed ? "ERROR" : "FAIL";
    std::printf("%-6llu %-40s %-7s %14.0f %10.2f %10.2f\n",
                static_cast<unsigned long long>(j.seed), settings.c_str(), verdict, rps, p99, mx);
    absl::StrAppendFormat(&csv_text, "%d,\"%s\",%s,%.3f,%.6f,%.3f,%.3f,%.3f,%d,%d\n", j.seed,
                          settings, verdict, rps, mbps, p50, p99, mx,
                          r.is_object() ? r["records"]["acked"].get<int64_t>() : 0,
                          r.is_object() ? r["records"]["failed"].get<int64_t>() : 0);
    rows.push_back({{"seed", j.seed}, {"settings", j.sets}, {"exit_code", j.exit_code},
                    {"result", r}});
  }
  if (failed > 0) {
    std::printf("\n%d of %zu runs failed. Replay:\n", failed, all.size());
    for (const Job& j : all) {
      if (j.exit_code == 0) continue;
      std::string cmd = absl::StrCat("ksim run ", file, " --seed ", j.seed);
      for (const auto& s : sets) absl::StrAppend(&cmd, " --set ", s);
      for (const auto& s : j.sets) absl::StrAppend(&cmd, " --set ", s);
      std::printf("  %s\n", cmd.c_str());
    }
  } else {
    std::printf("\nall %zu runs hold every check\n", all.size());
  }
  if (!csv.empty()) std::ofstream(csv) << csv_text;
  if (!json.empty()) std::ofstream(json) << rows.dump(2) << "\n";
  for (const Job& j : all) std::remove(j.out.c_str());
  rmdir(dir.c_str());
  return failed > 0 ? 1 : 0;
}

}  // namespace ksim::cli
