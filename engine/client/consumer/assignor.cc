#include "engine/client/consumer/assignor.h"

#include <algorithm>
#include <set>

#include "engine/runtime/check.h"

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

// The sticky assignment: keep every valid owned partition (a partition claimed by several
// members goes to the one with the highest generation), then move partitions from members
// above their fair share to members below it, and give unowned partitions to the least loaded
// subscribed member. The result is balanced (counts differ by at most one among members with
// the same subscriptions) and moves as little as possible.
std::map<MemberId, Assignment> StickyAssign(const std::map<std::string, int32_t>& topics,
                                            const std::map<MemberId, Subscription>& subs) {
  auto out = Empty(subs);
  const std::vector<MemberId> members = SortedMembers(subs);
  std::map<TopicPartition, std::pair<int32_t, MemberId>> claimed;  // -> (generation, member)
  for (const MemberId& m : members) {
    const Subscription& s = subs.at(m);
    for (const TopicPartition& tp : s.owned_partitions) {
      auto t = topics.find(tp.topic);
      if (t == topics.end() || tp.partition >= t->second || !Subscribed(s, tp.topic)) continue;
      auto it = claimed.find(tp);
      if (it == claimed.end() || s.generation > it->second.first) claimed[tp] = {s.generation, m};
    }
  }
  std::map<MemberId, std::set<TopicPartition>> owned;
  for (const MemberId& m : members) owned[m];
  for (const auto& [tp, gm] : claimed) owned[gm.second].insert(tp);
  std::vector<TopicPartition> all;
  for (const auto& [topic, n] : topics) {
    for (int32_t p = 0; p < n; ++p) all.push_back({topic, p});
  }
  // Fair share among the members able to take each partition: total / members, +1 for some.
  auto eligible = [&](const TopicPartition& tp) {
    std::vector<MemberId> e;
    for (const MemberId& m : members) {
      if (Subscribed(subs.at(m), tp.topic)) e.push_back(m);
    }
    return e;
  };
  size_t assignable = 0;
  for (const TopicPartition& tp : all) assignable += eligible(tp).empty() ? 0 : 1;
  const size_t n = members.size();
  const size_t floor_share = n == 0 ? 0 : assignable / n;
  size_t ceil_slots = n == 0 ? 0 : assignable % n;
  // Members keeping more than their share give back the excess (highest partitions first).
  std::vector<TopicPartition> pool;
  std::map<MemberId, size_t> quota;
  for (const MemberId& m : members) {
    quota[m] = floor_share;
  }
  // Members already owning more than the floor get the +1 slots first (stickiness).
  for (const MemberId& m : members) {
    if (ceil_slots > 0 && owned[m].size() > floor_share) {
      ++quota[m];
      --ceil_slots;
    }
  }
  for (const MemberId& m : members) {
    if (ceil_slots > 0 && quota[m] == floor_share) {
      ++quota[m];
      --ceil_slots;
    }
  }
  for (const MemberId& m : members) {
    while (owned[m].size() > quota[m]) {
      auto last = std::prev(owned[m].end());
      pool.push_back(*last);
      owned[m].erase(last);
    }
  }
  std::set<TopicPartition> taken;
  for (const auto& [m, ps] : owned) taken.insert(ps.begin(), ps.end());
  for (const TopicPartition& tp : all) {
    if (taken.count(tp) == 0 && std::find(pool.begin(), pool.end(), tp) == pool.end()) {
      pool.push_back(tp);
    }
  }
  std::sort(pool.begin(), pool.end());
  for (const TopicPartition& tp : pool) {
    MemberId best;
    for (const MemberId& m : eligible(tp)) {
      if (best.empty() || owned[m].size() < owned[best].size()) best = m;
    }
    if (!best.empty()) owned[best].insert(tp);
  }
  for (const auto& [m, ps] : owned) out[m].partitions.assign(ps.begin(), ps.end());
  return out;
}

class StickyAssignor final : public Assignor {
 public:
  std::string name() const override { return "sticky"; }
  std::map<MemberId, Assignment> Assign(const std::map<std::string, int32_t>& topics,
                                        const std::map<MemberId, Subscription>& subs) const override {
    return StickyAssign(topics, subs);
  }
};

// KIP-429: the same target as sticky, but a partition changing owner is left out of this
// round; its old owner revokes it and the follow-up rebalance hands it over.
class CooperativeStickyAssignor final : public Assignor {
 public:
  std::string name() const override { return "cooperative-sticky"; }
  bool cooperative() const override { return true; }
  std::map<MemberId, Assignment> Assign(const std::map<std::string, int32_t>& topics,
                                        const std::map<MemberId, Subscription>& subs) const override {
    auto target = StickyAssign(topics, subs);
    std::map<TopicPartition, MemberId> previous;
    for (const auto& [m, s] : subs) {
      for (const TopicPartition& tp : s.owned_partitions) previous[tp] = m;
    }
    for (auto& [m, a] : target) {
      std::vector<TopicPartition> keep;
      for (const TopicPartition& tp : a.partitions) {
        auto it = previous.find(tp);
        if (it == previous.end() || it->second == m) keep.push_back(tp);
      }
      a.partitions = std::move(keep);
    }
    return target;
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
