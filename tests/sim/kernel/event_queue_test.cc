// The radix event queue against a reference ordered set: same (time, push order) sequence under
// random pushes, pops, peeks and rewinds.
#include "sim/kernel/event_queue.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "engine/runtime/rng.h"

namespace ksim {
namespace {

struct Ev {
  TimeNs time;
  uint64_t id;
};

TEST(RadixEventQueueTest, EqualTimesComeOutInPushOrder) {
  RadixEventQueue<Ev> q;
  for (uint64_t i = 0; i < 10; ++i) q.Push(Ev{100 + static_cast<TimeNs>(i % 2), i});
  for (uint64_t want : {0, 2, 4, 6, 8, 1, 3, 5, 7, 9}) {
    Ev e = q.Pop();
    EXPECT_EQ(e.id, want);
  }
  EXPECT_TRUE(q.empty());
}

TEST(RadixEventQueueTest, MatchesAReferenceQueueUnderRandomUse) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng = Rng::Stream(seed, "event-queue-test");
    RadixEventQueue<Ev> q;
    std::set<std::pair<TimeNs, uint64_t>> ref;  // (time, push order)
    TimeNs now = 0;
    uint64_t next_id = 0;
    for (int step = 0; step < 20000; ++step) {
      uint64_t r = rng.Uniform(100);
      if (r < 55 || ref.empty()) {
        // Mostly near-future times with many ties, sometimes far ones.
        TimeNs t = now + static_cast<TimeNs>(rng.Uniform(4) == 0 ? rng.Uniform(1u << 30)
                                                                 : rng.Uniform(16));
        q.Push(Ev{t, next_id});
        ref.insert({t, next_id});
        ++next_id;
      } else if (r < 95) {
        Ev e = q.Pop();
        auto want = *ref.begin();
        ref.erase(ref.begin());
        ASSERT_EQ(e.time, want.first) << "seed " << seed << " step " << step;
        ASSERT_EQ(e.id, want.second) << "seed " << seed << " step " << step;
        now = e.time;
      } else {
        // A run that stops at a limit peeks past the clock; the owner may then push earlier
        // events (the queue rewinds).
        ASSERT_EQ(q.MinTime(), ref.begin()->first);
        now += static_cast<TimeNs>(rng.Uniform(8));
        if (now > ref.begin()->first) now = ref.begin()->first;
      }
      ASSERT_EQ(q.size(), ref.size());
    }
  }
}

}  // namespace
}  // namespace ksim
