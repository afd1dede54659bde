// `ksim run` and `ksim validate`.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/config/config_def.h"
#include "sim/cli/commands.h"
#include "sim/cluster/cluster.h"
#include "sim/report/report.h"
#include "sim/scenario/scenario.h"

namespace ksim::cli {
namespace {

constexpr const char* kRunUsage =
    "usage: ksim run FILE [--seed N] [--set PATH=VALUE]... [--json OUT] [--csv OUT]\n"
    "                [--trace OUT] [--describe-at TIME]... [--quiet]\n\n"
    "Runs a scenario and checks it. PATH names a scenario key, e.g.\n"
    "  --set producers.app.config.linger.ms=20 --set cluster.brokers=5\n"
    "--json writes the full result (schema: docs/RUN_JSON.md), --csv a per-second time\n"
    "series, --trace a Chrome/Perfetto trace of elections, ISR changes and faults.\n"
    "--describe-at 12s prints what kafka-topics --describe would show at that virtual time\n"
    "(leader, replicas, ISR per partition); repeat it for several moments.\n"
    "Exit: 0 all checks hold, 1 a check failed, 2 bad input.\n";

struct RunArgs {
  std::string file;
  std::optional<uint64_t> seed;
  std::vector<std::string> sets;
  std::string json, csv, trace;
  std::vector<TimeNs> describe_at;
  bool quiet = false;
};

int ParseRunArgs(const Args& args, RunArgs* out, const char* usage) {
  const std::vector<std::string> options = {"--seed",  "--set",   "--json",       "--csv",
                                            "--trace", "--quiet", "--describe-at", "--help"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* v) -> bool {
      if (i + 1 >= args.size()) return false;
      *v = args[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      std::printf("%s", usage);
      return 0;
    } else if (a == "--seed") {
      uint64_t s;
      if (!value(&v) || !absl::SimpleAtoi(v, &s)) return UsageError("--seed needs a number");
      out->seed = s;
    } else if (a == "--set") {
      if (!value(&v) || v.find('=') == std::string::npos) {
        return UsageError("--set needs PATH=VALUE, e.g. --set producers.app.config.linger.ms=20");
      }
      out->sets.push_back(v);
    } else if (a == "--json" || a == "--csv" || a == "--trace") {
      if (!value(&v)) return UsageError(a + " needs a file name");
      (a == "--json" ? out->json : a == "--csv" ? out->csv : out->trace) = v;
    } else if (a == "--describe-at") {
      if (!value(&v)) return UsageError("--describe-at needs a virtual time, e.g. --describe-at 12s");
      auto t = ParseDuration(v);
      if (!t.ok()) {
        return UsageError("--describe-at '" + v + "': " + std::string(t.status().message()));
      }
      out->describe_at.push_back(*t);
    } else if (a == "--quiet" || a == "-q") {
      out->quiet = true;
    } else if (a.rfind("-", 0) == 0) {
      auto s = ClosestMatch(a, options);
      return UsageError("unknown option '" + a + "'" +
                        (s ? "; did you mean '" + *s + "'?" : std::string()));
    } else if (out->file.empty()) {
      out->file = a;
    } else {
      return UsageError("only one scenario file, got '" + out->file + "' and '" + a + "'");
    }
  }
  if (out->file.empty()) return UsageError("missing scenario FILE (see ksim run --help)");
  return -1;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  return static_cast<bool>(f);
}

}  // namespace

int RunMain(const Args& args) {
  RunArgs ra;
  if (int rc = ParseRunArgs(args, &ra, kRunUsage); rc >= 0) return rc;
  std::vector<std::string> sets = ra.sets;
  if (ra.seed) sets.push_back(absl::StrCat("seed=", *ra.seed));
  auto sc = LoadScenario(ra.file, sets);
  if (!sc.ok()) return UsageError(std::string(sc.status().message()));
  for (const std::string& n : sc->notes) std::fprintf(stderr, "ksim: note: %s\n", n.c_str());
  std::string replay = absl::StrCat("ksim run ", ra.file, " --seed ", sc->seed);
  for (const std::string& s : ra.sets) absl::StrAppend(&replay, " --set ", s);

  const auto wall_start = std::chrono::steady_clock::now();  // wall-clock ok: progress, speed
  const bool tty = !ra.quiet && isatty(STDERR_FILENO);
  auto last_draw = wall_start;
  bool drew = false;
  Cluster cluster(*sc);
  cluster.DescribeAt(ra.describe_at);
  RunResult r = cluster.Run([&](TimeNs now, TimeNs end) {
    if (!tty) return;
    auto t = std::chrono::steady_clock::now();  // wall-clock ok: progress display
    if (t - wall_start < std::chrono::seconds(2) || t - last_draw < std::chrono::milliseconds(200)) {
      return;
    }
    last_draw = t;
    drew = true;
    const int width = 30;
    const int filled = static_cast<int>(width * std::min(1.0, static_cast<double>(now) / end));
    std::fprintf(stderr, "\r[%s%s] %6.1fs / %.1fs simulated", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), static_cast<double>(now) / 1e9,
                 static_cast<double>(end) / 1e9);
    std::fflush(stderr);
  });
  if (drew) std::fprintf(stderr, "\r%60s\r", "");
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() -  // wall-clock ok
                                                    wall_start).count();
  ReportContext ctx{replay, wall, ""};
  if (!ra.quiet) std::printf("%s", ConsoleSummary(r, ctx, isatty(STDOUT_FILENO)).c_str());
  if (!ra.json.empty() && !WriteFile(ra.json, ToJson(r, ctx, false).dump(2) + "\n")) {
    return UsageError("cannot write " + ra.json);
  }
  if (!ra.csv.empty() && !WriteFile(ra.csv, ToCsv(r))) return UsageError("cannot write " + ra.csv);
  if (!ra.trace.empty() && !WriteFile(ra.trace, ToTraceEvents(r))) {
    return UsageError("cannot write " + ra.trace);
  }
  return r.all_checks_passed() ? 0 : 1;
}

int ValidateMain(const Args& args) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::printf("usage: ksim validate FILE [--set PATH=VALUE]...\n\nChecks a scenario file "
                "without running it. Exit 0 if valid, 2 with a one-line error otherwise.\n");
    return 0;
  }
  RunArgs ra;
  if (int rc = ParseRunArgs(args, &ra, ""); rc >= 0) return rc;
  auto sc = LoadScenario(ra.file, ra.sets);
  if (!sc.ok()) return UsageError(std::string(sc.status().message()));
  for (const std::string& n : sc->notes) std::fprintf(stderr, "ksim: note: %s\n", n.c_str());
  std::printf("%s: ok: %s, %d brokers (%s), %zu topics, %zu producer and %zu consumer "
              "workloads, %zu faults%s, %s of workload, checks: %s\n",
              ra.file.c_str(), sc->name.c_str(), sc->brokers, sc->hardware.name.c_str(),
              sc->topics.size(), sc->producers.size(), sc->consumers.size(), sc->faults.size(),
              sc->nemesis.enabled ? " + nemesis" : "", FormatDuration(sc->duration_ns).c_str(),
              sc->expect.empty() ? "defaults" : absl::StrJoin(sc->expect, ", ").c_str());
  return 0;
}

}  // namespace ksim::cli
