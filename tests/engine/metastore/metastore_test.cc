// The RPC layer and the metadata service over the simulated network: versioned writes,
// ephemeral znodes removed when a session expires (a crashed client), and watches.
#include "engine/metastore/metastore_client.h"
#include "engine/metastore/metastore_server.h"

#include <vector>

#include "gtest/gtest.h"
#include "sim/host/host.h"

namespace ksim {
namespace {

struct Data : Payload {
  explicit Data(int v) : value(v) {}
  int value;
};

struct World {
  World() : net(kernel) {
    server = kernel.AddNode("metadata", [this] {
      auto s = std::make_shared<MetaStoreServer>(*hosts[0]);
      kernel.SetNodeState(server, s);
      s->Start();
    });
    a = kernel.AddNode("a", nullptr);
    b = kernel.AddNode("b", nullptr);
    for (NodeId n : {server, a, b}) {
      net.AddNode(n, {});
      hosts.push_back(std::make_unique<Host>(kernel, net, n, nullptr, 0));
      kernel.Start(n);
    }
  }
  // Fibers use the hosts and the network: unwind them before those members go.
  ~World() { kernel.Shutdown(); }
  Kernel kernel;
  Network net;
  NodeId server, a, b;
  std::vector<std::unique_ptr<Host>> hosts;
};

TEST(MetaStoreTest, VersionedWritesEphemeralsAndWatches) {
  World w;
  std::vector<std::string> events_seen_by_b;
  bool checked = false;
  w.kernel.Spawn(w.b, "watcher", [&] {
    MetaStoreClient c(*w.hosts[2], w.server, 6 * kSecond);
    ASSERT_TRUE(c.Open(kForever, [&](const WatchEvent& e) { events_seen_by_b.push_back(e.path); },
                       nullptr)
                    .ok());
    ASSERT_TRUE(c.GetChildren("/brokers/ids", true).ok());
    Sleep(kForever);
  });
  w.kernel.Spawn(w.a, "owner", [&] {
    MetaStoreClient c(*w.hosts[1], w.server, 6 * kSecond);
    ASSERT_TRUE(c.Open(kForever, nullptr, nullptr).ok());
    auto r = c.Create("/brokers/ids/1", std::make_shared<Data>(1), /*ephemeral=*/true);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->error, MetaError::kOk);
    EXPECT_EQ((*c.Create("/brokers/ids/1", nullptr, true))->error, MetaError::kNodeExists);
    ASSERT_EQ((*c.Create("/cfg", std::make_shared<Data>(5), false))->error, MetaError::kOk);
    auto v1 = c.SetData("/cfg", std::make_shared<Data>(6), 0);
    EXPECT_EQ((*v1)->error, MetaError::kOk);
    EXPECT_EQ((*v1)->version, 1);
    EXPECT_EQ((*c.SetData("/cfg", nullptr, 0))->error, MetaError::kBadVersion);
    auto got = c.GetData("/cfg", false);
    EXPECT_EQ(std::static_pointer_cast<const Data>((*got)->data)->value, 6);
    checked = true;
    Sleep(kForever);
  });
  w.kernel.RunUntil(kSecond);
  EXPECT_TRUE(checked);
  ASSERT_EQ(events_seen_by_b.size(), 1u);  // the child was created
  // The owner's node crashes: its session expires and its ephemeral znode goes.
  w.kernel.Crash(w.a);
  w.kernel.RunUntil(10 * kSecond);
  bool gone = false;
  w.kernel.Spawn(w.b, "check", [&] {
    MetaStoreClient c(*w.hosts[2], w.server, 6 * kSecond);
    ASSERT_TRUE(c.Open(kForever, nullptr, nullptr).ok());
    gone = (*c.GetData("/brokers/ids/1", false))->error == MetaError::kNoNode;
  });
  w.kernel.RunUntil(11 * kSecond);
  EXPECT_TRUE(gone);
}

TEST(MetaStoreTest, WatchEventsSurviveALostPollResponse) {
  World w;
  int events = 0;
  w.kernel.Spawn(w.b, "watcher", [&] {
    MetaStoreClient c(*w.hosts[2], w.server, 6 * kSecond);
    ASSERT_TRUE(c.Open(kForever, [&](const WatchEvent&) { ++events; }, nullptr).ok());
    ASSERT_TRUE(c.GetData("/x", true).ok());
    Sleep(kForever);
  });
  w.kernel.RunUntil(kSecond);
  // Cut the watcher off (shorter than its session), change the znode, heal.
  w.net.Isolate(w.b);
  w.kernel.Spawn(w.a, "writer", [&] {
    MetaStoreClient c(*w.hosts[1], w.server, 6 * kSecond);
    ASSERT_TRUE(c.Open(kForever, nullptr, nullptr).ok());
    (void)c.Create("/x", std::make_shared<Data>(1), false);
  });
  w.kernel.RunUntil(5 * kSecond);
  w.net.HealAll();
  w.kernel.RunUntil(9 * kSecond);
  EXPECT_EQ(events, 1);
}

}  // namespace
}  // namespace ksim
