#include "engine/client/consumer/assignor.h"

#include <algorithm>

#include "engine/client/consumer/sticky_assignor.h"

namespace ksim {
namespace {

// Members by member id: the order Java's assignors sort consumers in (group.instance.id first
// when set, which ksim's workloads do not use).
std::vector<MemberId> SortedMembers(const std::map<MemberId, Subscription>& subs) {
  std::vector<std::pair<std::string, MemberId>> keyed;
  for (const auto& [m, s] : subs) {
    keyed.push_back({s.group_instance_id.empty() ? m : s.group_instance_id, m});
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<MemberId> out;
  for (auto& [k, m] : keyed) out.push_back(m);
  return out;
}

bool Subscribed(const Subscription& s, const std::string& topic) {
  return std::find(s.topics.begin(), s.topics.end(), topic) != s.topics.end();
}

std::map<MemberId, Assignment> Empty(const std::map<MemberId, Subscription>& subs) {
  std::map<MemberId, Assignment> out;
  for (const auto& [m, s] : subs) out[m];
  return out;
}

void SortAll(std::map<MemberId, Assignment>* a) {
  for (auto& [m, x] : *a) std::sort(x.partitions.begin(), x.partitions.end());
}

class RangeAssignor final : public Assignor {
 public:
  std::string name() const override { return "range"; }
  std::map<MemberId, Assignment> Assign(const std::map<std::string, int32_t>& topics,
                                        const std::map<MemberId, Subscription>& subs) const override {
    auto out = Empty(subs);
    const std::vector<MemberId> members = SortedMembers(subs);
    for (const auto& [topic, n] : topics) {
      std::vector<MemberId> consumers;
      for (const MemberId& m : members) {
        if (Subscribed(subs.at(m), topic)) consumers.push_back(m);
      }
      if (consumers.empty()) continue;
      const int32_t c = static_cast<int32_t>(consumers.size());
      const int32_t per = n / c, extra = n % c;
      for (int32_t i = 0; i < c; ++i) {
        const int32_t start = per * i + std::min(i, extra);
        const int32_t len = per + (i < extra ? 1 : 0);
        for (int32_t p = start; p < start + len; ++p) {
          out[consumers[i]].partitions.push_back({topic, p});
        }
      }
    }
    SortAll(&out);
    return out;
  }
};

class RoundRobinAssignor final : public Assignor {
 public:
  std::string name() const override { return "roundrobin"; }
  std::map<MemberId, Assignment> Assign(const std::map<std::string, int32_t>& topics,
                                        const std::map<MemberId, Subscription>& subs) const override {
    auto out = Empty(subs);
    const std::vector<MemberId> members = SortedMembers(subs);
    if (members.empty()) return out;
    size_t next = 0;
    for (const auto& [topic, n] : topics) {  // topics sorted by name
      for (int32_t p = 0; p < n; ++p) {
        // Circular over sorted members, skipping those not subscribed to the topic.
        for (size_t tries = 0; tries < members.size(); ++tries) {
          const MemberId& m = members[next % members.size()];
          ++next;
          if (Subscribed(subs.at(m), topic)) {
            out[m].partitions.push_back({topic, p});
            break;
          }
        }
      }
    }
    SortAll(&out);
    return out;
  }
};

// Kafka's StickyAssignor and CooperativeStickyAssignor; the algorithm is in sticky_assignor.cc.
class StickyAssignor final : public Assignor {
 public:
  std::string name() const override { return "sticky"; }
  std::map<MemberId, Assignment> Assign(const std::map<std::string, int32_t>& topics,
                                        const std::map<MemberId, Subscription>& subs) const override {
    return StickyAssign(topics, subs);
  }
};

// KIP-429: the sticky target, minus partitions changing owner; their old owners revoke them
// first and the follow-up rebalance hands them over.
class CooperativeStickyAssignor final : public Assignor {
 public:
  std::string name() const override { return "cooperative-sticky"; }
  bool cooperative() const override { return true; }
  std::map<MemberId, Assignment> Assign(const std::map<std::string, int32_t>& topics,
                                        const std::map<MemberId, Subscription>& subs) const override {
    return CooperativeStickyAssign(topics, subs);
  }
};

struct Registry {
  std::vector<std::unique_ptr<Assignor>> assignors;
  std::map<std::string, const Assignor*> by_name;
};

Registry& Reg() {
  static Registry* r = [] {
    auto* reg = new Registry();
    auto add = [reg](std::unique_ptr<Assignor> a, std::vector<std::string> aliases) {
      reg->by_name[a->name()] = a.get();
      for (const std::string& n : aliases) reg->by_name[n] = a.get();
      reg->assignors.push_back(std::move(a));
    };
    add(std::make_unique<RangeAssignor>(), {"org.apache.kafka.clients.consumer.RangeAssignor"});
    add(std::make_unique<RoundRobinAssignor>(),
        {"org.apache.kafka.clients.consumer.RoundRobinAssignor"});
    add(std::make_unique<StickyAssignor>(), {"org.apache.kafka.clients.consumer.StickyAssignor"});
    add(std::make_unique<CooperativeStickyAssignor>(),
        {"org.apache.kafka.clients.consumer.CooperativeStickyAssignor"});
    return reg;
  }();
  return *r;
}

}  // namespace

const Assignor* FindAssignor(const std::string& name) {
  auto it = Reg().by_name.find(name);
  return it == Reg().by_name.end() ? nullptr : it->second;
}

void RegisterAssignor(std::unique_ptr<Assignor> a, std::vector<std::string> aliases) {
  Registry& r = Reg();
  r.by_name[a->name()] = a.get();
  for (const std::string& n : aliases) r.by_name[n] = a.get();
  r.assignors.push_back(std::move(a));
}

std::vector<std::string> AssignorNames() {
  std::vector<std::string> out;
  for (const auto& [n, a] : Reg().by_name) out.push_back(n);
  return out;
}

std::string AssignorName(const std::string& strategy) {
  const Assignor* a = FindAssignor(strategy);
  return a == nullptr ? strategy : a->name();
}

bool IsCooperative(const std::string& strategy) {
  const Assignor* a = FindAssignor(strategy);
  return a != nullptr && a->cooperative();
}

}  // namespace ksim
