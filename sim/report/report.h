// Turns a RunResult into what people and programs read: the console summary (like
// kafka-producer-perf-test's), a JSON document (schema in docs/RUN_JSON.md), a per-second CSV
// time series, and a Chrome/Perfetto trace-event file of the run's timeline.
#ifndef KSIM_SIM_REPORT_REPORT_H_
#define KSIM_SIM_REPORT_REPORT_H_

#include <string>

#include <nlohmann/json.hpp>

#include "sim/cluster/run_result.h"

namespace ksim {

struct ReportContext {
  std::string replay_command;   // exact command to reproduce the run
  double wall_seconds = 0;      // measured by the caller, outside the simulation
  std::string node_names_json;  // unused placeholder for future per-node data
};

// kafka-topics --describe style text for one description.
std::string DescribeText(const ClusterDescription& d);
std::string ConsoleSummary(const RunResult& r, const ReportContext& ctx, bool color);
// Deterministic for a seed: contains no wall-clock figures unless include_wall is set.
nlohmann::json ToJson(const RunResult& r, const ReportContext& ctx, bool include_wall);
std::string ToCsv(const RunResult& r);
std::string ToTraceEvents(const RunResult& r);

}  // namespace ksim

#endif  // KSIM_SIM_REPORT_REPORT_H_
