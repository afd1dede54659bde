#include "sim/report/report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace ksim {
namespace {

double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

std::string Thousands(int64_t v) {
  const std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out = v < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

const char* StatusMark(CheckStatus s, bool color) {
  switch (s) {
    case CheckStatus::kPass: return color ? "\033[32m✓\033[0m" : "✓";
    case CheckStatus::kFail: return color ? "\033[31m✗\033[0m" : "✗";
    case CheckStatus::kSkipped: return "-";
  }
  return "?";
}

const char* StatusName(CheckStatus s) {
  switch (s) {
    case CheckStatus::kPass: return "pass";
    case CheckStatus::kFail: return "fail";
    case CheckStatus::kSkipped: return "skipped";
  }
  return "?";
}

nlohmann::json LatencyJson(const Histogram& h) {
  return {{"count", h.count()},       {"avg_ms", Ms(static_cast<int64_t>(h.mean()))},
          {"p50_ms", Ms(h.Percentile(50))}, {"p95_ms", Ms(h.Percentile(95))},
          {"p99_ms", Ms(h.Percentile(99))}, {"p99_9_ms", Ms(h.Percentile(99.9))},
          {"max_ms", Ms(h.max())}};
}

}  // namespace

std::string DescribeText(const ClusterDescription& d) {
  std::string out;
  if (!d.error.empty()) return absl::StrCat("  ", d.error, "\n");
  auto ids = [](const std::vector<int32_t>& v) { return v.empty() ? std::string("-") : absl::StrJoin(v, ","); };
  for (const TopicDescription& t : d.topics) {
    std::vector<std::string> cfg;
    for (const auto& [k, v] : t.configs) cfg.push_back(k + "=" + v);
    const size_t rf = t.partitions.empty() ? 0 : t.partitions[0].replicas.size();
    absl::StrAppend(&out, "Topic: ", t.topic, "\tPartitionCount: ", t.partitions.size(),
                    "\tReplicationFactor: ", rf, "\tConfigs: ", absl::StrJoin(cfg, ","), "\n");
    for (const PartitionDescription& p : t.partitions) {
      absl::StrAppend(&out, "\tTopic: ", t.topic, "\tPartition: ", p.partition, "\tLeader: ",
                      p.leader < 0 ? std::string("none") : absl::StrCat(p.leader),
                      "\tReplicas: ", ids(p.replicas), "\tIsr: ", ids(p.isr));
      if (!p.offline.empty()) absl::StrAppend(&out, "\tOffline: ", ids(p.offline));
      out += "\n";
    }
  }
  return out;
}

std::string ConsoleSummary(const RunResult& r, const ReportContext& ctx, bool color) {
  std::string out;
  const double secs = static_cast<double>(r.workload_ns) / 1e9;
  absl::StrAppendFormat(&out, "scenario    %s (seed %d)\n", r.scenario, r.seed);
  absl::StrAppendFormat(&out, "simulated   %.1fs workload, %.1fs in total\n", secs,
                        static_cast<double>(r.simulated_ns) / 1e9);
  absl::StrAppendFormat(&out, "throughput  %s records/s, %.2f MB/s acknowledged\n",
                        Thousands(static_cast<int64_t>(r.records_acked / std::max(secs, 1e-9))),
                        static_cast<double>(r.bytes_acked) / 1e6 / std::max(secs, 1e-9));
  const Histogram& h = r.produce_latency_ns;
  absl::StrAppendFormat(&out,
                        "produce     %s records acked, latency avg %.2f ms, p50 %.2f, p95 %.2f, "
                        "p99 %.2f, p99.9 %.2f, max %.2f ms\n",
                        Thousands(h.count()), Ms(static_cast<int64_t>(h.mean())),
                        Ms(h.Percentile(50)), Ms(h.Percentile(95)), Ms(h.Percentile(99)),
                        Ms(h.Percentile(99.9)), Ms(h.max()));
  if (r.end_to_end_latency_ns.count() > 0) {
    const Histogram& e = r.end_to_end_latency_ns;
    absl::StrAppendFormat(&out, "end-to-end  p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                          Ms(e.Percentile(50)), Ms(e.Percentile(99)), Ms(e.max()));
  }
  absl::StrAppendFormat(&out, "records     sent %s, acked %s, failed %s, consumed %s\n",
                        Thousands(r.records_sent), Thousands(r.records_acked),
                        Thousands(r.records_failed), Thousands(r.records_consumed));
  for (const auto& [reason, n] : r.errors) {
    absl::StrAppendFormat(&out, "            %s x %s\n", Thousands(n), reason);
  }
  absl::StrAppendFormat(&out, "faults      %d applied\n", r.faults.size());
  for (const AppliedFault& f : r.faults) {
    absl::StrAppendFormat(&out, "  %10s  %s\n", FormatTime(f.time), f.description);
  }
  for (const ClusterDescription& d : r.describes) {
    absl::StrAppendFormat(&out, "describe    at %s (controller %d)\n", FormatTime(d.time), d.controller);
    out += DescribeText(d);
  }
  if (!r.rebalances.empty()) {
    out += "rebalances\n";
    for (const RebalanceReport& rb : r.rebalances) {
      if (rb.completed < 0) {
        absl::StrAppendFormat(&out, "  %-12s %s at %s: the group did not form a new generation\n",
                              rb.group, rb.cause, FormatTime(rb.started));
      } else {
        absl::StrAppendFormat(&out, "  %-12s %s at %s, stable at %s (generation %d): %.0f ms\n",
                              rb.group, rb.cause, FormatTime(rb.started), FormatTime(rb.completed),
                              rb.generation, Ms(rb.completed - rb.started));
      }
    }
  }
  if (!r.interceptor_reports.empty()) {
    out += "interceptors\n";
    for (const std::string& line : r.interceptor_reports) absl::StrAppend(&out, "  ", line, "\n");
  }
  out += "checks\n";
  for (const CheckResult& c : r.checks) {
    absl::StrAppendFormat(&out, "  %s %-22s %s\n", StatusMark(c.status, color), c.name, c.summary);
    size_t shown = 0;
    for (const Anomaly& a : c.anomalies) {
      if (++shown > 5) {
        absl::StrAppendFormat(&out, "      ... and %d more\n", c.anomalies.size() - 5);
        break;
      }
      absl::StrAppendFormat(&out, "      %s\n", a.message);
      if (shown == 1 && a.time > 0) {
        // The trace window: timeline events within a second before the anomaly.
        for (const TraceEvent& e : r.timeline) {
          if (e.time >= a.time - kSecond && e.time <= a.time + 100 * kMillisecond) {
            absl::StrAppendFormat(&out, "        %10s %-16s %s\n", FormatTime(e.time), e.kind,
                                  e.detail);
          }
        }
      }
    }
  }
  if (ctx.wall_seconds > 0) {
    absl::StrAppendFormat(&out, "speed       %.1f simulated s per wall s (%s events in %.2f s)\n",
                          static_cast<double>(r.simulated_ns) / 1e9 / ctx.wall_seconds,
                          Thousands(static_cast<int64_t>(r.events)), ctx.wall_seconds);
  }
  absl::StrAppendFormat(&out, "trace hash  %s\n", r.trace_hash);
  absl::StrAppendFormat(&out, "replay      %s\n", ctx.replay_command);
  absl::StrAppendFormat(&out, "result      %s\n",
                        r.all_checks_passed() ? "all checks hold" : "A CHECK FAILED");
  return out;
}

nlohmann::json ToJson(const RunResult& r, const ReportContext& ctx, bool include_wall) {
  nlohmann::json j;
  j["schema"] = "ksim-run/1";
  j["scenario"] = r.scenario;
  j["file"] = r.file;
  j["seed"] = r.seed;
  j["workload_s"] = static_cast<double>(r.workload_ns) / 1e9;
  j["simulated_s"] = static_cast<double>(r.simulated_ns) / 1e9;
  const double secs = std::max(static_cast<double>(r.workload_ns) / 1e9, 1e-9);
  j["throughput"] = {{"records_per_s", r.records_acked / secs},
                     {"mb_per_s", static_cast<double>(r.bytes_acked) / 1e6 / secs}};
  j["records"] = {{"sent", r.records_sent},
                  {"acked", r.records_acked},
                  {"failed", r.records_failed},
                  {"consumed", r.records_consumed}};
  j["errors"] = r.errors;
  j["produce_latency"] = LatencyJson(r.produce_latency_ns);
  j["end_to_end_latency"] = LatencyJson(r.end_to_end_latency_ns);
  j["faults"] = nlohmann::json::array();
  for (const AppliedFault& f : r.faults) {
    j["faults"].push_back({{"time_s", static_cast<double>(f.time) / 1e9},
                           {"description", f.description}});
  }
  j["rebalances"] = nlohmann::json::array();
  for (const RebalanceReport& rb : r.rebalances) {
    const bool done = rb.completed >= 0;
    j["rebalances"].push_back(
        {{"group", rb.group},
         {"cause", rb.cause},
         {"started_s", static_cast<double>(rb.started) / 1e9},
         {"completed_s", done ? nlohmann::json(static_cast<double>(rb.completed) / 1e9) : nlohmann::json()},
         {"duration_ms", done ? nlohmann::json(Ms(rb.completed - rb.started)) : nlohmann::json()},
         {"generation", done ? nlohmann::json(rb.generation) : nlohmann::json()}});
  }
  j["interceptors"] = r.interceptor_reports;
  j["describe"] = nlohmann::json::array();
  for (const ClusterDescription& d : r.describes) {
    nlohmann::json topics = nlohmann::json::array();
    for (const TopicDescription& t : d.topics) {
      nlohmann::json parts = nlohmann::json::array();
      for (const PartitionDescription& p : t.partitions) {
        parts.push_back({{"partition", p.partition}, {"leader", p.leader},
                         {"leader_epoch", p.leader_epoch}, {"replicas", p.replicas},
                         {"isr", p.isr}, {"offline", p.offline}});
      }
      topics.push_back({{"topic", t.topic}, {"configs", t.configs}, {"partitions", parts}});
    }
    nlohmann::json e = {{"time_s", static_cast<double>(d.time) / 1e9},
                        {"controller", d.controller}, {"topics", topics}};
    if (!d.error.empty()) e["error"] = d.error;
    j["describe"].push_back(e);
  }
  j["checks"] = nlohmann::json::array();
  for (const CheckResult& c : r.checks) {
    nlohmann::json a = nlohmann::json::array();
    for (const Anomaly& an : c.anomalies) {
      a.push_back({{"time_s", static_cast<double>(an.time) / 1e9},
                   {"topic", an.tp.topic},
                   {"partition", an.tp.partition},
                   {"offset", an.offset},
                   {"record", an.record},
                   {"message", an.message}});
    }
    j["checks"].push_back({{"name", c.name},
                           {"status", StatusName(c.status)},
                           {"summary", c.summary},
                           {"anomalies", a}});
  }
  j["passed"] = r.all_checks_passed();
  j["trace_hash"] = r.trace_hash;
  j["events"] = r.events;
  j["replay"] = ctx.replay_command;
  if (include_wall) {
    j["wall_s"] = ctx.wall_seconds;
    j["simulated_s_per_wall_s"] =
        ctx.wall_seconds > 0 ? static_cast<double>(r.simulated_ns) / 1e9 / ctx.wall_seconds : 0;
  }
  return j;
}

std::string ToCsv(const RunResult& r) {
  std::string out =
      "second,sent,acked,failed,consumed,acked_mb,produce_p50_ms,produce_p99_ms,produce_max_ms\n";
  for (const SecondStats& s : r.per_second) {
    absl::StrAppendFormat(&out, "%d,%d,%d,%d,%d,%.6f,%.3f,%.3f,%.3f\n", s.second, s.sent, s.acked,
                          s.failed, s.consumed, static_cast<double>(s.acked_bytes) / 1e6,
                          Ms(s.produce_latency_ns.p50_ns()), Ms(s.produce_latency_ns.p99_ns()),
                          Ms(s.produce_latency_ns.max_ns()));
  }
  return out;
}

std::string ToTraceEvents(const RunResult& r) {
  nlohmann::json events = nlohmann::json::array();
  std::map<int, bool> named;
  for (const TraceEvent& e : r.timeline) {
    const int tid = e.node < 0 ? 0 : e.node + 1;
    if (!named[tid]) {
      named[tid] = true;
      events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", tid},
                        {"args", {{"name", e.node < 0 ? std::string("simulator")
                                                       : absl::StrCat("node ", e.node)}}}});
    }
    events.push_back({{"name", e.kind},
                      {"cat", e.kind},
                      {"ph", "i"},
                      {"s", "t"},
                      {"ts", static_cast<double>(e.time) / 1e3},
                      {"pid", 1},
                      {"tid", tid},
                      {"args", {{"detail", e.detail}}}});
  }
  nlohmann::json doc = {{"traceEvents", events}, {"displayTimeUnit", "ms"}};
  return doc.dump(1);
}

}  // namespace ksim
