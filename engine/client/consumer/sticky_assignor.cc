// Port of Kafka's AbstractStickyAssignor, StickyAssignor and CooperativeStickyAssignor (3.x,
// without rack awareness). Java iterates HashMaps and HashSets in several places; here every such
// iteration goes in a fixed order, noted where it happens: members by member id (or
// StickyOptions::member_order), partitions by (topic, partition) unless Java sorts them
// otherwise. Only the HashMap-ordered steps depend on it; TreeSet and sorted steps match Java.
//
// Deviations from Java, all on inputs Java mishandles:
//   - Subscriptions are "all equal" only if every member's topic set equals the first member's
//     (Java seeds the comparison from the first non-empty set, so a member subscribed to nothing
//     could be handed partitions depending on HashMap order).
//   - Only topics someone subscribes to count, as in Java's ConsumerCoordinator, which passes the
//     assignor only those; owned partitions past a topic's partition count are ignored, as are
//     repeats in one member's owned list.
//   - A partition goes back to its previous-generation owner only if that owner still subscribes
//     to its topic and takes part in the reassignment (Java would move it regardless).
//   - The highest generation is computed per assignment (Java keeps it in an assignor field that
//     never decreases across rebalances).
#include "engine/client/consumer/sticky_assignor.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <list>
#include <set>
#include <utility>

#include "engine/runtime/check.h"

namespace ksim {
namespace {

constexpr int32_t kNoGeneration = -1;  // Java's DEFAULT_GENERATION
constexpr int32_t kNone = -1;

// Dense partition ids: topics by name, then partition number, so ids order like TopicPartition.
class PartitionSpace {
 public:
  explicit PartitionSpace(const std::map<std::string, int32_t>& topics) {
    for (const auto& [name, count] : topics) {
      KSIM_CHECK(count >= 0);
      index_[name] = static_cast<int32_t>(names_.size());
      names_.push_back(name);
      begin_.push_back(static_cast<int32_t>(topic_of_.size()));
      const int32_t t = static_cast<int32_t>(names_.size()) - 1;
      for (int32_t p = 0; p < count; ++p) topic_of_.push_back(t);
    }
    begin_.push_back(static_cast<int32_t>(topic_of_.size()));
  }
  int32_t size() const { return static_cast<int32_t>(topic_of_.size()); }
  int32_t topic_count() const { return static_cast<int32_t>(names_.size()); }
  int32_t TopicOf(int32_t pid) const { return topic_of_[pid]; }
  int32_t Begin(int32_t topic) const { return begin_[topic]; }
  int32_t End(int32_t topic) const { return begin_[topic + 1]; }
  int32_t PartitionOf(int32_t pid) const { return pid - begin_[topic_of_[pid]]; }
  int32_t TopicIndex(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? kNone : it->second;
  }
  int32_t Id(const TopicPartition& tp) const {
    const int32_t t = TopicIndex(tp.topic);
    if (t == kNone || tp.partition < 0 || tp.partition >= End(t) - Begin(t)) return kNone;
    return Begin(t) + tp.partition;
  }
  TopicPartition Tp(int32_t pid) const { return {names_[topic_of_[pid]], PartitionOf(pid)}; }

 private:
  std::vector<std::string> names_;
  std::map<std::string, int32_t> index_;
  std::vector<int32_t> begin_;
  std::vector<int32_t> topic_of_;
};

struct Member {
  MemberId id;
  std::set<std::string> raw_topics;  // as subscribed, existing or not
  std::vector<int32_t> topics;       // subscribed topics that exist: sorted topic indices
  std::vector<int32_t> claimed;      // owned partitions that exist, in the member's order
  int32_t generation = kNoGeneration;
};

// Java's MemberData for every member plus the outcome of allSubscriptionsEqual(): the owned
// partitions that survive conflicting claims.
struct Group {
  PartitionSpace space;
  std::vector<Member> members;  // by member id, so indices compare like member ids
  std::vector<int32_t> visit;   // Java's subscription HashMap iteration order, as indices
  std::vector<std::vector<int32_t>> owned;
  std::vector<char> multiply_claimed;  // by pid: claimed twice in the same generation
  int32_t max_generation = kNoGeneration;
  bool all_equal = true;

  bool Subscribed(int32_t m, int32_t topic) const {
    const std::vector<int32_t>& t = members[m].topics;
    return std::binary_search(t.begin(), t.end(), topic);
  }
};

std::map<std::string, int32_t> SubscribedTopics(const std::map<std::string, int32_t>& topics,
                                                const std::map<MemberId, Subscription>& subs) {
  std::map<std::string, int32_t> out;
  for (const auto& [m, s] : subs) {
    for (const std::string& t : s.topics) {
      if (auto it = topics.find(t); it != topics.end()) out[t] = it->second;
    }
  }
  return out;
}

Member MakeMember(const PartitionSpace& space, const MemberId& id, const Subscription& s) {
  Member m;
  m.id = id;
  m.generation = s.generation;
  m.raw_topics.insert(s.topics.begin(), s.topics.end());
  for (const std::string& t : m.raw_topics) {
    if (int32_t ti = space.TopicIndex(t); ti != kNone) m.topics.push_back(ti);
  }
  std::sort(m.topics.begin(), m.topics.end());
  std::set<int32_t> seen;
  for (const TopicPartition& tp : s.owned_partitions) {
    const int32_t pid = space.Id(tp);
    if (pid != kNone && seen.insert(pid).second) m.claimed.push_back(pid);
  }
  return m;
}

void Erase(std::vector<int32_t>* v, int32_t x) {
  auto it = std::find(v->begin(), v->end(), x);
  if (it != v->end()) v->erase(it);
}

// Java's allSubscriptionsEqual(): resolves partitions claimed by several members. A higher
// generation takes the partition from a lower one; two claims in the same generation void both.
void ResolveClaims(Group* g) {
  std::vector<int32_t> claimant(g->space.size(), kNone);
  g->owned.assign(g->members.size(), {});
  g->multiply_claimed.assign(g->space.size(), 0);
  for (int32_t m : g->visit) {
    const Member& member = g->members[m];
    g->all_equal = g->all_equal && member.raw_topics == g->members[0].raw_topics;
    g->max_generation = std::max(g->max_generation, member.generation);
    for (int32_t pid : member.claimed) {
      const int32_t other = claimant[pid];
      if (other == kNone) {
        g->owned[m].push_back(pid);
        claimant[pid] = m;
        continue;
      }
      const int32_t other_generation = g->members[other].generation;
      if (member.generation == other_generation) {
        g->multiply_claimed[pid] = 1;
        Erase(&g->owned[other], pid);
        claimant[pid] = m;
      } else if (member.generation > other_generation) {
        g->owned[m].push_back(pid);
        Erase(&g->owned[other], pid);
        claimant[pid] = m;
      }
    }
  }
}

// Member indices in the given order of ids, or by id when none is given.
std::vector<int32_t> VisitOrder(const std::map<MemberId, Subscription>& subs,
                                const std::vector<MemberId>& order) {
  std::vector<int32_t> visit;
  if (order.empty()) {
    for (int32_t m = 0; m < static_cast<int32_t>(subs.size()); ++m) visit.push_back(m);
    return visit;
  }
  KSIM_CHECK_MSG(order.size() == subs.size(), "sticky: member_order must list every member once");
  for (const MemberId& id : order) {
    auto it = subs.find(id);
    KSIM_CHECK_MSG(it != subs.end(), "sticky: member_order names unknown member " + id);
    visit.push_back(static_cast<int32_t>(std::distance(subs.begin(), it)));
  }
  KSIM_CHECK_MSG(std::set<int32_t>(visit.begin(), visit.end()).size() == visit.size(),
                 "sticky: member_order repeats a member");
  return visit;
}

Group MakeGroup(const std::map<std::string, int32_t>& topics,
                const std::map<MemberId, Subscription>& subs, const StickyOptions& options) {
  Group g{PartitionSpace(SubscribedTopics(topics, subs)), {}, {}, {}, {}, kNoGeneration, true};
  for (const auto& [id, s] : subs) g.members.push_back(MakeMember(g.space, id, s));
  g.visit = VisitOrder(subs, options.member_order);
  ResolveClaims(&g);
  return g;
}

// ---------------------------------------------------------------------------------------------
// Constrained assignment (Java's ConstrainedAssignmentBuilder without the rack-aware round).

class ConstrainedBuilder {
 public:
  explicit ConstrainedBuilder(const Group& g)
      : g_(g),
        members_(static_cast<int32_t>(g.members.size())),
        total_(g.space.size()),
        min_quota_(total_ / members_),
        max_quota_((total_ + members_ - 1) / members_),
        expected_over_min_(total_ % members_),
        assignment_(g.members.size()),
        assigned_(total_, 0),
        revoked_(total_, 0) {}

  std::vector<std::vector<int32_t>> Build(std::map<int32_t, int32_t>* transferring) {
    transferring_ = transferring;
    AssignOwned();
    under_min_.sort();  // by member id, as Java sorts both lists here
    exactly_min_.sort();
    std::vector<int32_t> unassigned;
    for (int32_t pid = 0; pid < total_; ++pid) {
      if (!assigned_[pid]) unassigned.push_back(pid);
    }
    AssignRoundRobin(unassigned);
    VerifyUnfilled();
    return std::move(assignment_);
  }

 private:
  // Each member keeps its owned partitions, ordered by (partition number, topic) as Java sorts
  // them, up to its quota: all if under minQuota, maxQuota while members above minQuota are
  // still expected, otherwise minQuota. The rest is revoked.
  void AssignOwned() {
    for (int32_t m : g_.visit) {
      std::vector<int32_t> owned;
      for (int32_t pid : g_.owned[m]) {
        if (!g_.multiply_claimed[pid]) owned.push_back(pid);
      }
      std::sort(owned.begin(), owned.end(), [this](int32_t a, int32_t b) {
        const int32_t pa = g_.space.PartitionOf(a), pb = g_.space.PartitionOf(b);
        return pa != pb ? pa < pb : g_.space.TopicOf(a) < g_.space.TopicOf(b);
      });
      const int32_t n = static_cast<int32_t>(owned.size());
      int32_t keep = n;
      if (n < min_quota_) {
        under_min_.push_back(m);
      } else if (n >= max_quota_ && over_min_ < expected_over_min_) {
        if (++over_min_ == expected_over_min_) exactly_min_.clear();
        keep = max_quota_;
      } else {
        keep = min_quota_;
        if (over_min_ < expected_over_min_) exactly_min_.push_back(m);
      }
      for (int32_t i = 0; i < n; ++i) {
        if (i < keep) {
          assignment_[m].push_back(owned[i]);
          assigned_[owned[i]] = 1;
        } else {
          revoked_[owned[i]] = 1;
        }
      }
    }
  }

  // Deals the unassigned partitions (by topic, partition) round-robin over the members under
  // minQuota, then one each to members at exactly minQuota until maxQuota is reached.
  void AssignRoundRobin(const std::vector<int32_t>& unassigned) {
    auto next = under_min_.begin();
    for (int32_t pid : unassigned) {
      int32_t m = kNone;
      auto current = under_min_.end();
      if (next == under_min_.end() && !under_min_.empty()) next = under_min_.begin();
      if (next != under_min_.end()) {
        current = next++;
        m = *current;
      } else {
        KSIM_CHECK_MSG(!exactly_min_.empty(), "sticky: no member left under quota");
        m = exactly_min_.front();
        exactly_min_.pop_front();
      }
      const int32_t count = AssignNew(pid, m);
      if (count == min_quota_) {
        KSIM_CHECK(current != under_min_.end());
        under_min_.erase(current);
        exactly_min_.push_back(m);
      } else if (count == max_quota_) {
        ++over_min_;
      }
    }
  }

  int32_t AssignNew(int32_t pid, int32_t m) {
    assignment_[m].push_back(pid);
    // Every kept owned partition is placed already: this one moves to a new owner.
    if (revoked_[pid] || g_.multiply_claimed[pid]) (*transferring_)[pid] = m;
    return static_cast<int32_t>(assignment_[m].size());
  }

  void VerifyUnfilled() const {
    if (under_min_.empty()) return;
    KSIM_CHECK_MSG(over_min_ == expected_over_min_,
                   "sticky: partitions ran out before enough members reached maxQuota");
    for (int32_t m : under_min_) {
      KSIM_CHECK_MSG(static_cast<int32_t>(assignment_[m].size()) == min_quota_,
                     "sticky: member " + g_.members[m].id + " below minQuota");
    }
  }

  const Group& g_;
  const int32_t members_;
  const int32_t total_;
  const int32_t min_quota_;
  const int32_t max_quota_;
  const int32_t expected_over_min_;
  int32_t over_min_ = 0;
  std::vector<std::vector<int32_t>> assignment_;
  std::vector<char> assigned_;
  std::vector<char> revoked_;
  std::list<int32_t> under_min_;
  std::list<int32_t> exactly_min_;
  std::map<int32_t, int32_t>* transferring_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// General assignment (Java's GeneralAssignmentBuilder without the rack-aware steps).

// Java's PartitionMovements: net moves during the balance phase, per topic and member pair.
class PartitionMovements {
 public:
  using Pair = std::pair<int32_t, int32_t>;  // (source member, destination member)

  void Move(int32_t pid, int32_t topic, int32_t from, int32_t to) {
    auto it = moves_.find(pid);
    if (it == moves_.end()) {
      Add(pid, topic, {from, to});
      return;
    }
    const Pair existing = it->second;
    Remove(pid, topic);
    KSIM_CHECK(existing.second == from);
    if (existing.first != to) Add(pid, topic, {existing.first, to});  // not a move back
  }

  // Stickiness: if some partition of the topic went from `to` to this partition's original
  // owner, move that one back instead. Java takes any of them (HashSet order); this takes the
  // lowest-numbered.
  int32_t PartitionToMove(int32_t pid, int32_t topic, int32_t from, int32_t to) const {
    auto by_topic = by_topic_.find(topic);
    if (by_topic == by_topic_.end()) return pid;
    if (auto it = moves_.find(pid); it != moves_.end()) {
      KSIM_CHECK(it->second.second == from);
      from = it->second.first;
    }
    auto reverse = by_topic->second.find({to, from});
    return reverse == by_topic->second.end() ? pid : *reverse->second.begin();
  }

  // Java's isSticky(): no topic had partitions move both ways between two members.
  bool Sticky() const {
    for (const auto& entry : by_topic_) {
      const auto& pairs = entry.second;
      for (const auto& moved : pairs) {
        if (pairs.count({moved.first.second, moved.first.first}) > 0) return false;
      }
    }
    return true;
  }

 private:
  void Add(int32_t pid, int32_t topic, Pair pair) {
    moves_[pid] = pair;
    by_topic_[topic][pair].insert(pid);
  }
  void Remove(int32_t pid, int32_t topic) {
    const Pair pair = moves_.at(pid);
    moves_.erase(pid);
    auto& pairs = by_topic_.at(topic);
    pairs.at(pair).erase(pid);
    if (pairs.at(pair).empty()) pairs.erase(pair);
    if (pairs.empty()) by_topic_.erase(topic);
  }

  std::map<int32_t, Pair> moves_;
  std::map<int32_t, std::map<Pair, std::set<int32_t>>> by_topic_;
};

class GeneralBuilder {
 public:
  explicit GeneralBuilder(const Group& g)
      : g_(g),
        members_(static_cast<int32_t>(g.members.size())),
        topic_members_(g.space.topic_count()),
        max_size_(g.members.size(), 0),
        owner_(g.space.size(), kNone),
        count_(g.members.size(), 0),
        active_(g.members.size(), 1),
        previous_(g.space.size(), {kNone, kNoGeneration}) {
    for (int32_t m = 0; m < members_; ++m) {
      for (int32_t t : g.members[m].topics) {
        topic_members_[t].push_back(m);  // members by id: Java's subscription map order
        max_size_[m] += g.space.End(t) - g.space.Begin(t);
      }
    }
    SortPartitions();
  }

  std::vector<int32_t> Build(bool* sticky) {
    KeepOwned();
    RecordPreviousGenerations();
    std::vector<int32_t> unassigned;
    for (int32_t pid : sorted_partitions_) {
      if (owner_[pid] == kNone) unassigned.push_back(pid);
    }
    for (int32_t m = 0; m < members_; ++m) by_load_.insert({count_[m], m});
    Balance(&unassigned);
    *sticky = movements_.Sticky();
    return owner_;
  }

 private:
  // Partitions of topics with fewer potential members first, then by topic name and number.
  void SortPartitions() {
    std::vector<int32_t> topics(g_.space.topic_count());
    for (int32_t t = 0; t < g_.space.topic_count(); ++t) topics[t] = t;
    std::stable_sort(topics.begin(), topics.end(), [this](int32_t a, int32_t b) {
      return topic_members_[a].size() < topic_members_[b].size();
    });
    for (int32_t t : topics) {
      for (int32_t pid = g_.space.Begin(t); pid < g_.space.End(t); ++pid) {
        sorted_partitions_.push_back(pid);
      }
    }
  }

  // Members keep the owned partitions of topics they still subscribe to.
  void KeepOwned() {
    for (int32_t m = 0; m < members_; ++m) {
      for (int32_t pid : g_.owned[m]) {
        if (!g_.Subscribed(m, g_.space.TopicOf(pid))) {
          revocation_required_ = true;
          continue;
        }
        owner_[pid] = m;
        ++count_[m];
      }
    }
  }

  // Java's prevAssignment: the latest owner among members of older generations, the first
  // member visited winning ties.
  void RecordPreviousGenerations() {
    for (int32_t m : g_.visit) {
      const Member& member = g_.members[m];
      if (member.generation >= g_.max_generation) continue;
      for (int32_t pid : member.claimed) {
        if (previous_[pid].first == kNone || member.generation > previous_[pid].second) {
          previous_[pid] = {m, member.generation};
        }
      }
    }
  }

  void Balance(std::vector<int32_t>* unassigned) {
    const bool initializing = by_load_.empty() || by_load_.rbegin()->first == 0;
    for (int32_t pid : *unassigned) AssignToLeastLoaded(pid);
    // Only topics with two or more potential members can move.
    auto fixed = [this](int32_t pid) { return topic_members_[g_.space.TopicOf(pid)].size() < 2; };
    std::erase_if(sorted_partitions_, fixed);
    std::erase_if(*unassigned, fixed);
    SetAsideFixedMembers();
    const std::vector<int32_t> owner_before = owner_;
    const std::vector<int32_t> count_before = count_;
    // Without forced revocations, first try moving only the newly assigned partitions.
    if (!revocation_required_) PerformReassignments(*unassigned);
    const bool reassigned = PerformReassignments(sorted_partitions_);
    if (!initializing && reassigned && Score(count_) >= Score(count_before)) {
      owner_ = owner_before;
      count_ = count_before;
    }
  }

  // Java's maybeAssignPartition(): the least-loaded subscribed member (ties by member id).
  void AssignToLeastLoaded(int32_t pid) {
    const int32_t topic = g_.space.TopicOf(pid);
    if (topic_members_[topic].empty()) return;
    for (auto it = by_load_.begin(); it != by_load_.end(); ++it) {
      const int32_t m = it->second;
      if (!g_.Subscribed(m, topic)) continue;
      by_load_.erase(it);
      owner_[pid] = m;
      by_load_.insert({++count_[m], m});
      ++version_;
      return;
    }
    KSIM_UNREACHABLE("sticky: a subscribed topic without a member to take it");
  }

  // Members holding every partition they could get, none of a movable topic, sit out.
  void SetAsideFixedMembers() {
    std::vector<char> holds_movable(members_, 0);
    for (int32_t pid = 0; pid < g_.space.size(); ++pid) {
      if (owner_[pid] != kNone && topic_members_[g_.space.TopicOf(pid)].size() >= 2) {
        holds_movable[owner_[pid]] = 1;
      }
    }
    for (int32_t m = 0; m < members_; ++m) {
      if (count_[m] < max_size_[m] || holds_movable[m]) continue;
      active_[m] = 0;
      by_load_.erase({count_[m], m});
    }
  }

  // Moves partitions (in the given order) while the assignment is not balanced, pass after
  // pass until a pass moves nothing. Returns whether anything moved.
  bool PerformReassignments(const std::vector<int32_t>& partitions) {
    bool reassigned = false;
    bool modified = true;
    while (modified) {
      modified = false;
      for (int32_t pid : partitions) {
        if (IsBalanced()) break;
        if (MaybeReassign(pid)) reassigned = modified = true;
      }
    }
    return reassigned;
  }

  bool MaybeReassign(int32_t pid) {
    const int32_t m = owner_[pid];
    const int32_t topic = g_.space.TopicOf(pid);
    KSIM_CHECK(m != kNone && active_[m]);
    const int32_t prev = previous_[pid].first;
    if (prev != kNone && active_[prev] && g_.Subscribed(prev, topic) &&
        count_[m] > count_[prev] + 1) {
      Reassign(pid, prev);
      return true;
    }
    if (count_[m] > MinLoad(topic) + 1) {
      Reassign(pid, LeastLoadedSubscriber(topic));
      return true;
    }
    return false;
  }

  // The smallest load among the topic's potential members (cached until the next move).
  int32_t MinLoad(int32_t topic) {
    if (min_load_version_.empty()) min_load_version_.assign(topic_members_.size(), -1);
    if (min_load_version_[topic] != version_) {
      if (min_load_.empty()) min_load_.assign(topic_members_.size(), 0);
      int32_t least = INT32_MAX;
      for (int32_t m : topic_members_[topic]) least = std::min(least, count_[m]);
      min_load_[topic] = least;
      min_load_version_[topic] = version_;
    }
    return min_load_[topic];
  }

  int32_t LeastLoadedSubscriber(int32_t topic) const {
    for (const auto& [count, m] : by_load_) {
      if (g_.Subscribed(m, topic)) return m;
    }
    KSIM_UNREACHABLE("sticky: no member to move a partition to");
  }

  void Reassign(int32_t pid, int32_t to) {
    const int32_t topic = g_.space.TopicOf(pid);
    const int32_t actual = movements_.PartitionToMove(pid, topic, owner_[pid], to);
    const int32_t from = owner_[actual];
    KSIM_CHECK(from != to && active_[from] && active_[to] && g_.Subscribed(to, topic));
    by_load_.erase({count_[from], from});
    by_load_.erase({count_[to], to});
    movements_.Move(actual, topic, from, to);
    owner_[actual] = to;
    by_load_.insert({--count_[from], from});
    by_load_.insert({++count_[to], to});
    ++version_;
  }

  // Java's isBalanced(): loads differ by at most one, or no member could take a partition from
  // a member holding two or more partitions more. Evaluated once per assignment change.
  bool IsBalanced() {
    if (balanced_version_ == version_) return balanced_;
    balanced_version_ = version_;
    balanced_ = ComputeBalanced();
    return balanced_;
  }

  bool ComputeBalanced() const {
    if (by_load_.empty() || by_load_.begin()->first >= by_load_.rbegin()->first - 1) return true;
    // Largest load among the holders of each topic's partitions.
    std::vector<int32_t> topic_max(g_.space.topic_count(), 0);
    for (int32_t pid = 0; pid < g_.space.size(); ++pid) {
      if (owner_[pid] == kNone) continue;
      int32_t& mx = topic_max[g_.space.TopicOf(pid)];
      mx = std::max(mx, count_[owner_[pid]]);
    }
    for (const auto& [count, m] : by_load_) {
      if (count == max_size_[m]) continue;  // holds everything it could
      for (int32_t t : g_.members[m].topics) {
        if (count + 1 < topic_max[t]) return false;
      }
    }
    return true;
  }

  // Java's getBalanceScore(): the sum of load differences over all pairs of active members.
  int64_t Score(const std::vector<int32_t>& counts) const {
    std::vector<int64_t> loads;
    for (int32_t m = 0; m < members_; ++m) {
      if (active_[m]) loads.push_back(counts[m]);
    }
    std::sort(loads.begin(), loads.end());
    int64_t score = 0, prefix = 0;
    for (size_t i = 0; i < loads.size(); ++i) {
      score += loads[i] * static_cast<int64_t>(i) - prefix;
      prefix += loads[i];
    }
    return score;
  }

  const Group& g_;
  const int32_t members_;
  std::vector<std::vector<int32_t>> topic_members_;
  std::vector<int32_t> max_size_;
  std::vector<int32_t> sorted_partitions_;
  std::vector<int32_t> owner_;
  std::vector<int32_t> count_;
  std::vector<char> active_;
  std::vector<std::pair<int32_t, int32_t>> previous_;  // by pid: (member, generation)
  std::set<std::pair<int32_t, int32_t>> by_load_;      // active members by (load, member)
  bool revocation_required_ = false;
  PartitionMovements movements_;
  int64_t version_ = 0;  // bumped on every assignment change
  int64_t balanced_version_ = -1;
  bool balanced_ = false;
  std::vector<int64_t> min_load_version_;
  std::vector<int32_t> min_load_;
};

// Java's CooperativeStickyAssignor.computePartitionsTransferringOwnership(): partitions assigned
// to a member that did not own them while some member that owned them loses them.
std::set<TopicPartition> ChangingOwner(const StickyOutcome& outcome,
                                       const std::map<MemberId, Subscription>& subs) {
  std::set<TopicPartition> added, revoked;
  for (const auto& [m, assigned] : outcome.partitions) {
    const std::vector<TopicPartition>& owned_list = subs.at(m).owned_partitions;
    const std::set<TopicPartition> owned(owned_list.begin(), owned_list.end());
    for (const TopicPartition& tp : assigned) {
      if (owned.count(tp) == 0) added.insert(tp);
    }
    for (const TopicPartition& tp : owned) {
      if (!std::binary_search(assigned.begin(), assigned.end(), tp)) revoked.insert(tp);
    }
  }
  std::set<TopicPartition> out;
  std::set_intersection(added.begin(), added.end(), revoked.begin(), revoked.end(),
                        std::inserter(out, out.end()));
  return out;
}

std::map<MemberId, Assignment> ToAssignments(StickyOutcome outcome) {
  std::map<MemberId, Assignment> out;
  for (auto& [m, parts] : outcome.partitions) out[m].partitions = std::move(parts);
  return out;
}

}  // namespace

StickyOutcome ComputeStickyAssignment(const std::map<std::string, int32_t>& partitions_per_topic,
                                      const std::map<MemberId, Subscription>& subscriptions,
                                      const StickyOptions& options) {
  StickyOutcome out;
  if (subscriptions.empty()) return out;
  const Group g = MakeGroup(partitions_per_topic, subscriptions, options);
  out.constrained = g.all_equal;
  std::vector<int32_t> owner(g.space.size(), kNone);
  if (g.all_equal) {
    std::map<int32_t, int32_t> transferring;
    const auto assignment = ConstrainedBuilder(g).Build(&transferring);
    for (size_t m = 0; m < assignment.size(); ++m) {
      for (int32_t pid : assignment[m]) {
        KSIM_CHECK_MSG(owner[pid] == kNone, "sticky: partition assigned twice");
        owner[pid] = static_cast<int32_t>(m);
      }
    }
    for (const auto& [pid, m] : transferring) out.transferring[g.space.Tp(pid)] = g.members[m].id;
  } else {
    owner = GeneralBuilder(g).Build(&out.sticky);
  }
  for (const Member& m : g.members) out.partitions[m.id];
  for (int32_t pid = 0; pid < g.space.size(); ++pid) {  // ascending ids: sorted lists
    if (owner[pid] != kNone) out.partitions[g.members[owner[pid]].id].push_back(g.space.Tp(pid));
  }
  return out;
}

std::map<MemberId, Assignment> StickyAssign(
    const std::map<std::string, int32_t>& partitions_per_topic,
    const std::map<MemberId, Subscription>& subscriptions, const StickyOptions& options) {
  return ToAssignments(ComputeStickyAssignment(partitions_per_topic, subscriptions, options));
}

std::map<MemberId, Assignment> CooperativeStickyAssign(
    const std::map<std::string, int32_t>& partitions_per_topic,
    const std::map<MemberId, Subscription>& subscriptions, const StickyOptions& options) {
  StickyOutcome outcome = ComputeStickyAssignment(partitions_per_topic, subscriptions, options);
  std::map<TopicPartition, MemberId> held_back;
  if (outcome.constrained) {
    held_back = outcome.transferring;
  } else {
    for (const TopicPartition& tp : ChangingOwner(outcome, subscriptions)) held_back[tp];
  }
  for (auto& [m, parts] : outcome.partitions) {
    std::erase_if(parts, [&](const TopicPartition& tp) { return held_back.count(tp) > 0; });
  }
  return ToAssignments(std::move(outcome));
}

}  // namespace ksim
