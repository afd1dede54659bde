#include "sim/faults/fault_injector.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/runtime/check.h"

namespace ksim {

FaultInjector::FaultInjector(Kernel& kernel, FaultTarget& target,
                             std::vector<AppliedFault>* log)
    : kernel_(kernel), target_(target), log_(log) {}

std::vector<NodeId> FaultInjector::Nodes(const std::vector<std::string>& names) const {
  std::vector<NodeId> out;
  for (const std::string& n : names) {
    for (NodeId id : target_.Resolve(n)) {
      if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    }
  }
  return out;
}

std::vector<NodeId> FaultInjector::Others(const std::vector<NodeId>& side) const {
  std::vector<NodeId> out;
  for (NodeId id : target_.Resolve("all")) {
    if (std::find(side.begin(), side.end(), id) == side.end()) out.push_back(id);
  }
  return out;
}

void FaultInjector::Log(const std::string& what) {
  ++applied_;
  kernel_.Trace(kNoNode, "fault", what);
  if (log_ != nullptr) log_->push_back(AppliedFault{kernel_.Now(), what});
}

void FaultInjector::Schedule(const std::vector<FaultSpec>& faults) {
  kernel_.Spawn(kNoNode, "faults", [this, faults] {
    // Faults and their heals, in time order (stable for equal times: file order).
    struct Step {
      TimeNs at;
      size_t index;
      bool heal;
    };
    std::vector<Step> steps;
    for (size_t i = 0; i < faults.size(); ++i) {
      steps.push_back({faults[i].at_ns, i, false});
      if (faults[i].until_ns) steps.push_back({*faults[i].until_ns, i, true});
    }
    std::stable_sort(steps.begin(), steps.end(),
                     [](const Step& a, const Step& b) { return a.at < b.at; });
    for (const Step& s : steps) {
      if (s.at > kernel_.Now()) SleepUntil(s.at);
      if (stopped_) return;
      const FaultSpec& f = faults[s.index];
      if (!s.heal) {
        Apply(f);
        if (f.kind == "jitter") delay_handles_[s.index] = last_delay_handle_;
      } else {
        auto it = delay_handles_.find(s.index);
        Heal(f, it == delay_handles_.end() ? -1 : it->second);
      }
    }
  });
}

void FaultInjector::Apply(const FaultSpec& f) {
  Network& net = target_.network();
  const std::string range =
      f.until_ns ? absl::StrCat(" until ", FormatTime(*f.until_ns)) : std::string();
  if (f.kind == "add-partitions") {
    target_.AddPartitions(f.topic, f.count);
    Log(absl::StrCat("add partitions: ", f.topic, " to ", f.count));
  } else if (f.kind == "delete-topic") {
    target_.DeleteTopic(f.topic);
    Log(absl::StrCat("delete topic: ", f.topic));
  } else if (f.kind == "crash") {
    for (NodeId n : Nodes(f.nodes)) {
      if (!kernel_.IsUp(n)) continue;
      target_.Crash(n, f.mode == "power");
      crashed_.insert(n);
      Log(absl::StrCat("crash ", kernel_.NodeName(n), " (", f.mode, ")", range));
    }
  } else if (f.kind == "restart") {
    for (NodeId n : Nodes(f.nodes)) {
      if (kernel_.IsUp(n)) continue;
      target_.Restart(n);
      crashed_.erase(n);
      Log(absl::StrCat("restart ", kernel_.NodeName(n)));
    }
  } else if (f.kind == "partition") {
    std::vector<NodeId> a = Nodes(f.side_a);
    std::vector<NodeId> b = f.side_b.empty() ? Others(a) : Nodes(f.side_b);
    for (NodeId x : a) {
      for (NodeId y : b) net.Partition(x, y);
    }
    Log(absl::StrCat("partition [", absl::StrJoin(f.side_a, ","), "] | [",
                     f.side_b.empty() ? "rest" : absl::StrJoin(f.side_b, ","), "]", range));
  } else if (f.kind == "one-way") {
    for (NodeId x : Nodes(f.side_a)) {
      for (NodeId y : Nodes(f.side_b)) net.PartitionOneWay(x, y);
    }
    Log(absl::StrCat("one-way partition ", absl::StrJoin(f.side_a, ","), " -> ",
                     absl::StrJoin(f.side_b, ","), range));
  } else if (f.kind == "isolate") {
    for (NodeId n : Nodes(f.nodes)) net.Isolate(n);
    Log(absl::StrCat("isolate ", absl::StrJoin(f.nodes, ","), range));
  } else if (f.kind == "heal") {
    HealAll();
  } else if (f.kind == "jitter") {
    std::vector<NodeId> a = Nodes(f.side_a);
    std::vector<NodeId> b = f.side_b.empty() ? Others(a) : Nodes(f.side_b);
    last_delay_handle_ = net.AddDelay(a, b, f.extra_latency_ns, f.extra_jitter_ns);
    Log(absl::StrCat("latency +", FormatDuration(f.extra_latency_ns), " jitter ",
                     FormatDuration(f.extra_jitter_ns), " between [",
                     absl::StrJoin(f.side_a, ","), "] and [",
                     f.side_b.empty() ? "rest" : absl::StrJoin(f.side_b, ","), "]", range));
  } else if (f.kind == "slow-disk") {
    for (NodeId n : Nodes(f.nodes)) {
      target_.SlowDisk(n, f.factor);
      slow_.insert(n);
    }
    Log(absl::StrCat("slow disk x", f.factor, " on ", absl::StrJoin(f.nodes, ","), range));
  } else if (f.kind == "nic-throttle") {
    for (NodeId n : Nodes(f.nodes)) {
      net.ThrottleNic(n, f.factor);
      throttled_.insert(n);
    }
    Log(absl::StrCat("NIC throttled to x", f.factor, " on ", absl::StrJoin(f.nodes, ","),
                     range));
  } else {
    KSIM_UNREACHABLE("unknown fault kind " + f.kind);
  }
}

void FaultInjector::Heal(const FaultSpec& f, int64_t delay_handle) {
  Network& net = target_.network();
  if (f.kind == "crash") {
    for (NodeId n : Nodes(f.nodes)) {
      if (kernel_.IsUp(n)) continue;
      target_.Restart(n);
      crashed_.erase(n);
      Log(absl::StrCat("restart ", kernel_.NodeName(n)));
    }
  } else if (f.kind == "partition" || f.kind == "one-way" || f.kind == "isolate") {
    std::vector<NodeId> a = f.kind == "isolate" ? Nodes(f.nodes) : Nodes(f.side_a);
    std::vector<NodeId> b = f.side_b.empty() ? Others(a) : Nodes(f.side_b);
    for (NodeId x : a) {
      for (NodeId y : b) net.Heal(x, y);
    }
    Log(absl::StrCat("heal ", f.kind));
  } else if (f.kind == "jitter") {
    if (delay_handle >= 0) net.RemoveDelay(delay_handle);
    Log("latency back to normal");
  } else if (f.kind == "slow-disk") {
    for (NodeId n : Nodes(f.nodes)) target_.SlowDisk(n, 1.0);
    Log("disk speed back to normal");
  } else if (f.kind == "nic-throttle") {
    for (NodeId n : Nodes(f.nodes)) net.ThrottleNic(n, 1.0);
    Log("NIC back to normal");
  }
}

void FaultInjector::HealAll() {
  Network& net = target_.network();
  net.HealAll();
  for (const auto& [index, handle] : delay_handles_) net.RemoveDelay(handle);
  delay_handles_.clear();
  for (NodeId n : slow_) target_.SlowDisk(n, 1.0);
  slow_.clear();
  for (NodeId n : throttled_) net.ThrottleNic(n, 1.0);
  throttled_.clear();
  std::vector<NodeId> brokers = target_.Brokers();
  for (NodeId n : brokers) {
    if (!kernel_.IsUp(n)) target_.Restart(n);
  }
  // Crashed consumer instances come back too (they rejoin their group).
  bool consumers = false;
  for (NodeId n : crashed_) {
    if (kernel_.IsUp(n) || std::find(brokers.begin(), brokers.end(), n) != brokers.end()) continue;
    target_.Restart(n);
    consumers = true;
  }
  crashed_.clear();
  Log(consumers ? "heal all: network healed, crashed brokers and consumers restarted"
                : "heal all: network healed, crashed brokers restarted");
}

void FaultInjector::StartNemesis(const NemesisSpec& spec, TimeNs stop, Event* ready) {
  kernel_.Spawn(kNoNode, "nemesis", [this, spec, stop, ready] { NemesisLoop(spec, stop, ready); });
}

void FaultInjector::NemesisLoop(NemesisSpec spec, TimeNs stop, Event* ready) {
  Rng rng = kernel_.Stream("nemesis");
  if (ready != nullptr) ready->Wait(kForever);
  if (spec.start_ns > kernel_.Now()) SleepUntil(spec.start_ns);
  std::vector<NodeId> brokers = target_.Brokers();
  for (;;) {
    TimeNs next = kernel_.Now() + static_cast<DurationNs>(rng.Exponential(
                                      static_cast<double>(spec.interval_ns)));
    if (next + spec.fault_duration_ns >= stop) return;
    SleepUntil(next);
    const std::string kind = spec.kinds[rng.Uniform(spec.kinds.size())];
    NodeId victim = brokers[rng.Uniform(brokers.size())];
    const std::string name = kernel_.NodeName(victim);
    FaultSpec f;
    f.at_ns = kernel_.Now();
    f.until_ns = kernel_.Now() + spec.fault_duration_ns;
    f.nodes = {name};
    f.side_a = {name};
    if (kind == "consumer-crash") {
      // A random consumer instance: its fibers die with its host, it rejoins at the heal.
      const std::string& consumer =
          spec.consumer_instances[rng.Uniform(spec.consumer_instances.size())];
      std::vector<NodeId> ids = target_.Resolve(consumer);
      if (ids.empty() || !kernel_.IsUp(ids[0])) continue;
      f.kind = "crash";
      f.nodes = {consumer};
      f.side_a = {consumer};
    } else if (kind == "crash" || kind == "power") {
      if (!kernel_.IsUp(victim)) continue;
      f.kind = "crash";
      f.mode = kind == "power" ? "power" : "process";
    } else if (kind == "partition" || kind == "isolate") {
      f.kind = "isolate";
    } else if (kind == "one-way") {
      f.kind = "one-way";
      NodeId other = brokers[rng.Uniform(brokers.size())];
      if (other == victim) continue;
      f.side_b = {kernel_.NodeName(other)};
    } else if (kind == "jitter") {
      f.kind = "jitter";
      f.extra_latency_ns = rng.Range(1, 50) * kMillisecond;
      f.extra_jitter_ns = f.extra_latency_ns / 2;
    } else if (kind == "slow-disk") {
      f.kind = "slow-disk";
      f.factor = static_cast<double>(rng.Range(5, 50));
    } else {
      f.kind = "nic-throttle";
      f.factor = 0.05;
    }
    Apply(f);
    const int64_t handle = f.kind == "jitter" ? last_delay_handle_ : -1;
    Sleep(spec.fault_duration_ns);
    Heal(f, handle);
  }
}

}  // namespace ksim
