// The harness the coordinator tests share: a simulated single-broker cluster (a metadata-service
// node and broker-1 with its controller elector and group coordinator), booted the way
// sim/cluster boots a broker, so __consumer_offsets is created through the controller and
// commits are appended to it. Requests go straight to GroupCoordinator::Handle from fibers (a
// JoinGroup or a follower's SyncGroup blocks, so concurrent members get their own fibers).
#ifndef KSIM_TESTS_ENGINE_COORDINATOR_COORDINATOR_WORLD_H_
#define KSIM_TESTS_ENGINE_COORDINATOR_COORDINATOR_WORLD_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/config_def.h"
#include "engine/controller/controller.h"
#include "engine/coordinator/group_coordinator.h"
#include "engine/metastore/metastore_server.h"
#include "engine/runtime/check.h"
#include "gtest/gtest.h"
#include "sim/host/host.h"

namespace ksim::coordinator_test {

constexpr const char* kGroup = "group-a";
constexpr const char* kProbeGroup = "readiness-probe";
const TopicPartition kTp0{"orders", 0};
const TopicPartition kTp1{"orders", 1};

using Protocols = std::vector<std::pair<std::string, GroupSubscription>>;

inline GroupSubscription Sub(std::vector<std::string> topics = {"orders"}) {
  GroupSubscription s;
  s.topics = std::move(topics);
  return s;
}

inline Protocols Range(std::vector<std::string> topics = {"orders"}) {
  return {{"range", Sub(std::move(topics))}};
}

struct MemberOptions {
  int32_t session_timeout_ms = 30000;
  int32_t rebalance_timeout_ms = 60000;
  Protocols protocols = Range();
  std::string protocol_type = "consumer";
};

struct WorldOptions {
  DurationNs initial_rebalance_delay_ns = 3 * kSecond;
  // Broker config overrides on top of these.
  std::map<std::string, std::string> broker_config = {
      {"offsets.topic.num.partitions", "1"},
      {"offsets.topic.replication.factor", "1"},
  };
};

// A JoinGroup (or SyncGroup) running in its own fiber; `resp` is set when it returns.
template <typename Resp>
struct AsyncCall {
  std::shared_ptr<const Resp> resp;
  TimeNs started = -1;
  TimeNs finished = -1;
  bool done() const { return resp != nullptr; }
};
using AsyncJoin = std::shared_ptr<AsyncCall<JoinGroupResponse>>;
using AsyncSync = std::shared_ptr<AsyncCall<SyncGroupResponse>>;

// One metadata node and broker-1 (with its controller elector and group coordinator), booted
// the way sim/cluster boots a broker.
class World {
 public:
  explicit World(WorldOptions options = {}) : options_(std::move(options)) {
    kernel_ = std::make_unique<Kernel>(KernelOptions{.seed = 7});
    net_ = std::make_unique<Network>(*kernel_);
    meta_ = kernel_->AddNode("metadata", [this] {
      auto server = std::make_shared<MetaStoreServer>(*hosts_.at(meta_));
      kernel_->SetNodeState(meta_, server);
      server->Start();
    });
    hosts_[meta_] = std::make_unique<Host>(*kernel_, *net_, meta_, nullptr, 0);
    net_->AddNode(meta_, NicProfile{});
    broker_ = kernel_->AddNode("broker-1", [this] { Boot(); });
    hosts_[broker_] = std::make_unique<Host>(
        *kernel_, *net_, broker_, std::make_unique<Disk>(*kernel_, broker_, DiskProfile::Nvme()),
        0);
    net_->AddNode(broker_, NicProfile{});
    kernel_->Start(meta_);
    kernel_->Start(broker_);
  }

  ~World() {
    // Fibers reference the hosts and the broker: unwind them before those go.
    kernel_.reset();
    net_->Shutdown();
  }

  // Runs `body` in a simulator-owned driver fiber until it returns (at most `limit` of virtual
  // time). With `wait_ready`, first waits until this broker coordinates kGroup.
  void Run(const std::function<void()>& body, bool wait_ready = true,
           DurationNs limit = 30 * kMinute) {
    bool finished = false;
    kernel_->Spawn(kNoNode, "driver", [&] {
      if (!wait_ready || WaitReady()) body();
      finished = true;
      kernel_->Stop();
    });
    kernel_->RunUntil(DeadlineAfter(kernel_->Now(), limit));
    EXPECT_TRUE(finished) << "the test body did not finish in virtual time";
  }

  // Polls FindCoordinator (which creates __consumer_offsets) until this broker serves kGroup.
  // The probe uses another group id (same offsets partition, there is only one) so that kGroup
  // stays unknown to the coordinator until a test uses it.
  bool WaitReady() {
    for (int i = 0; i < 600; ++i) {
      if (coordinator_ != nullptr) {
        auto fc = std::make_shared<FindCoordinatorRequest>();
        fc->key = kProbeGroup;
        auto r = Call<FindCoordinatorResponse>(fc);
        if (r->error == Error::kNone) {
          auto of = std::make_shared<OffsetFetchRequest>();
          of->group_id = kProbeGroup;
          if (Call<OffsetFetchResponse>(of)->error == Error::kNone) return true;
        }
      }
      Sleep(100 * kMillisecond);
    }
    ADD_FAILURE() << "the coordinator never became ready";
    return false;
  }

  template <typename Resp>
  std::shared_ptr<const Resp> Call(std::shared_ptr<Request> req) {
    std::shared_ptr<Response> r = coordinator_->Handle(req);
    KSIM_CHECK(r != nullptr);
    return std::static_pointer_cast<const Resp>(r);
  }

  // --- Request builders and calls (driver fiber) -----------------------------------------------
  std::shared_ptr<JoinGroupRequest> JoinReq(const std::string& member, const std::string& client,
                                            const MemberOptions& o = {}) {
    auto r = std::make_shared<JoinGroupRequest>();
    r->group_id = kGroup;
    r->client_id = client;
    r->member_id = member;
    r->session_timeout_ms = o.session_timeout_ms;
    r->rebalance_timeout_ms = o.rebalance_timeout_ms;
    r->protocols = o.protocols;
    r->protocol_type = o.protocol_type;
    return r;
  }
  std::shared_ptr<const JoinGroupResponse> Join(const std::string& member,
                                                const std::string& client,
                                                const MemberOptions& o = {}) {
    return Call<JoinGroupResponse>(JoinReq(member, client, o));
  }
  // KIP-394: the first JoinGroup of a dynamic member only hands out its member id.
  std::string NewMemberId(const std::string& client, const MemberOptions& o = {}) {
    auto r = Join("", client, o);
    EXPECT_EQ(r->error, Error::kMemberIdRequired);
    EXPECT_FALSE(r->member_id.empty());
    return r->member_id;
  }
  AsyncJoin JoinAsync(const std::string& member, const std::string& client,
                      const MemberOptions& o = {}) {
    auto call = std::make_shared<AsyncCall<JoinGroupResponse>>();
    auto req = JoinReq(member, client, o);
    call->started = kernel_->Now();
    kernel_->Spawn(broker_, "join-" + client, [this, call, req] {
      auto r = Call<JoinGroupResponse>(req);
      call->finished = kernel_->Now();
      call->resp = r;
    });
    return call;
  }
  std::shared_ptr<SyncGroupRequest> SyncReq(const std::string& member, int32_t generation,
                                            std::map<std::string, GroupAssignment> a = {}) {
    auto r = std::make_shared<SyncGroupRequest>();
    r->group_id = kGroup;
    r->member_id = member;
    r->generation_id = generation;
    r->assignments = std::move(a);
    return r;
  }
  std::shared_ptr<const SyncGroupResponse> Sync(const std::string& member, int32_t generation,
                                                std::map<std::string, GroupAssignment> a = {}) {
    return Call<SyncGroupResponse>(SyncReq(member, generation, std::move(a)));
  }
  AsyncSync SyncAsync(const std::string& member, int32_t generation) {
    auto call = std::make_shared<AsyncCall<SyncGroupResponse>>();
    auto req = SyncReq(member, generation);
    call->started = kernel_->Now();
    kernel_->Spawn(broker_, "sync-" + member, [this, call, req] {
      auto r = Call<SyncGroupResponse>(req);
      call->finished = kernel_->Now();
      call->resp = r;
    });
    return call;
  }
  Error Heartbeat(const std::string& member, int32_t generation) {
    auto r = std::make_shared<HeartbeatRequest>();
    r->group_id = kGroup;
    r->member_id = member;
    r->generation_id = generation;
    return Call<HeartbeatResponse>(r)->error;
  }
  Error Leave(const std::string& member, const std::string& group = kGroup) {
    auto r = std::make_shared<LeaveGroupRequest>();
    r->group_id = group;
    r->members = {member};
    return Call<LeaveGroupResponse>(r)->error;
  }
  std::map<TopicPartition, Error> Commit(const std::string& member, int32_t generation,
                                         std::map<TopicPartition, int64_t> offsets,
                                         const std::string& group = kGroup) {
    auto r = std::make_shared<OffsetCommitRequest>();
    r->group_id = group;
    r->member_id = member;
    r->generation_id = generation;
    r->offsets = std::move(offsets);
    return Call<OffsetCommitResponse>(r)->partitions;
  }
  // The error every partition of a one-partition commit got.
  Error CommitOne(const std::string& member, int32_t generation, int64_t offset) {
    auto errors = Commit(member, generation, {{kTp0, offset}});
    EXPECT_EQ(errors.size(), 1u);
    return errors.empty() ? Error::kUnknownServerError : errors.begin()->second;
  }
  // kTp0's committed offset, -1 if none.
  int64_t Fetched() {
    auto r = std::make_shared<OffsetFetchRequest>();
    r->group_id = kGroup;
    r->partitions = std::vector<TopicPartition>{kTp0};
    auto resp = Call<OffsetFetchResponse>(r);
    EXPECT_EQ(resp->error, Error::kNone);
    auto it = resp->offsets.find(kTp0);
    return it == resp->offsets.end() ? -2 : it->second;
  }
  DescribeGroupsResponse::Group Describe(const std::string& group = kGroup) {
    auto r = std::make_shared<DescribeGroupsRequest>();
    r->groups = {group};
    auto resp = Call<DescribeGroupsResponse>(r);
    KSIM_CHECK(resp->groups.size() == 1u);
    return resp->groups[0];
  }
  std::string State() { return Describe().state; }
  // Every committed offset of `group`.
  std::map<TopicPartition, int64_t> FetchAll(const std::string& group = kGroup) {
    auto r = std::make_shared<OffsetFetchRequest>();
    r->group_id = group;
    auto resp = Call<OffsetFetchResponse>(r);
    EXPECT_EQ(resp->error, Error::kNone);
    return resp->offsets;
  }
  std::map<std::string, Error> DeleteGroups(std::vector<std::string> groups) {
    auto r = std::make_shared<DeleteGroupsRequest>();
    r->groups = std::move(groups);
    return Call<DeleteGroupsResponse>(r)->results;
  }
  std::shared_ptr<const OffsetDeleteResponse> DeleteOffsets(std::vector<TopicPartition> tps,
                                                            const std::string& group = kGroup) {
    auto r = std::make_shared<OffsetDeleteRequest>();
    r->group_id = group;
    r->partitions = std::move(tps);
    return Call<OffsetDeleteResponse>(r);
  }
  // The records of __consumer_offsets-0 on broker-1 (the only offsets partition), in order.
  std::vector<SyntheticRecord> OffsetsLog() {
    std::vector<SyntheticRecord> out;
    Partition* p = broker_ptr_ == nullptr ? nullptr
                                          : broker_ptr_->FindPartition({kOffsetsTopic, 0});
    if (p == nullptr) return out;
    int64_t offset = p->log().log_start_offset();
    const int64_t end = p->log_end_offset();
    while (offset < end) {
      auto read = p->log().Read(offset, 1 << 20, end, true);
      if (!read.ok() || read->empty()) break;
      for (const BatchPtr& b : *read) {
        for (int32_t i = 0; i < b->record_count(); ++i) out.push_back(b->record(i));
        offset = b->last_offset() + 1;
      }
    }
    return out;
  }

  // Waits (sleeping in virtual time) until the call returns or `timeout` passes.
  template <typename C>
  bool Await(const C& call, DurationNs timeout = 10 * kMinute) {
    const TimeNs give_up = DeadlineAfter(kernel_->Now(), timeout);
    while (!call->done() && kernel_->Now() < give_up) Sleep(10 * kMillisecond);
    return call->done();
  }

  // A Stable group of the given members (client ids; their ids sort in this order, so the first
  // is the leader): all join, the initial delay passes, the leader assigns kTp0 to itself and
  // kTp1 to the second member, every member syncs.
  struct Stable {
    int32_t generation = -1;
    std::string leader;
    std::vector<std::string> ids;
  };
  Stable MakeStable(const std::vector<std::string>& clients, const MemberOptions& o = {}) {
    Stable s;
    std::vector<AsyncJoin> joins;
    for (const std::string& c : clients) s.ids.push_back(NewMemberId(c, o));
    for (size_t i = 0; i < clients.size(); ++i) joins.push_back(JoinAsync(s.ids[i], clients[i], o));
    for (const AsyncJoin& j : joins) {
      EXPECT_TRUE(Await(j));
      if (!j->done()) return s;
      EXPECT_EQ(j->resp->error, Error::kNone);
    }
    s.generation = joins[0]->resp->generation_id;
    s.leader = joins[0]->resp->leader;
    EXPECT_EQ(s.leader, s.ids[0]);
    std::map<std::string, GroupAssignment> a;
    a[s.ids[0]].partitions = {kTp0};
    if (s.ids.size() > 1) a[s.ids[1]].partitions = {kTp1};
    EXPECT_EQ(Sync(s.leader, s.generation, a)->error, Error::kNone);
    for (size_t i = 1; i < s.ids.size(); ++i) {
      EXPECT_EQ(Sync(s.ids[i], s.generation)->error, Error::kNone);
    }
    EXPECT_EQ(State(), "Stable");
    return s;
  }

  // Crashes broker-1 (its coordinator goes with it) and boots it again after `down`.
  // With `power_loss`, the page cache (and anything not yet written back) is lost too.
  void CrashAndRestartBroker(DurationNs down, bool power_loss = false) {
    coordinator_ = nullptr;
    broker_ptr_ = nullptr;
    kernel_->Crash(broker_);
    if (power_loss) hosts_.at(broker_)->disk()->PowerLoss();
    Sleep(down);
    kernel_->Restart(broker_);
  }

  bool coordinator_ready() const { return coordinator_ != nullptr; }
  GroupCoordinator& coordinator() { return *coordinator_; }
  Kernel& kernel() { return *kernel_; }
  TimeNs Now() const { return kernel_->Now(); }
  NodeId broker_node() const { return broker_; }

 private:
  struct BrokerState {
    std::shared_ptr<Broker> broker;
    std::unique_ptr<ControllerElector> elector;
    std::unique_ptr<GroupCoordinator> coordinator;
  };

  void Boot() {
    Host& host = *hosts_.at(broker_);
    auto config = Config::Make(BrokerConfigDef(), options_.broker_config);
    KSIM_CHECK(config.ok());
    auto state = std::make_shared<BrokerState>();
    state->broker =
        std::make_shared<Broker>(host, BrokerSettings::FromConfig(1, *config), meta_);
    Broker* broker = state->broker.get();
    state->elector = std::make_unique<ControllerElector>(*broker, ControllerConfigFrom(*config));
    ControllerElector* elector = state->elector.get();
    broker->set_on_registered([elector] { elector->Start(); });
    GroupCoordinatorConfig gc = GroupCoordinatorConfigFrom(*config);
    gc.initial_rebalance_delay_ns = options_.initial_rebalance_delay_ns;
    state->coordinator = std::make_unique<GroupCoordinator>(host, *broker, gc);
    GroupCoordinator* coordinator = state->coordinator.get();
    broker->set_group_handler(
        [coordinator](const RequestPtr& r) { return coordinator->Handle(r); });
    coordinator_ = coordinator;
    broker_ptr_ = broker;
    kernel_->SetNodeState(broker_, state);
    broker->Start();
    coordinator->Start();
  }

  WorldOptions options_;
  std::unique_ptr<Kernel> kernel_;
  std::unique_ptr<Network> net_;
  std::map<NodeId, std::unique_ptr<Host>> hosts_;
  NodeId meta_ = kNoNode;
  NodeId broker_ = kNoNode;
  GroupCoordinator* coordinator_ = nullptr;
  Broker* broker_ptr_ = nullptr;
};

using Stable = World::Stable;

// Times are compared with the session loop's 100 ms granularity in mind.
constexpr DurationNs kSlack = 300 * kMillisecond;

}  // namespace ksim::coordinator_test

#endif  // KSIM_TESTS_ENGINE_COORDINATOR_COORDINATOR_WORLD_H_
