// The kernel's event queue: a monotone radix queue ordered by (time, insertion order).
//
// Virtual time never goes backwards, so every event pushed has a time >= the time of the last
// event popped. That makes a radix heap applicable: bucket 0 holds events exactly at the last
// popped time, bucket i (1..64) those whose time first differs from it in bit i-1. Push is a
// count-leading-zeros and an append; pop takes bucket 0's front, or first refills bucket 0 by
// redistributing the lowest non-empty bucket (each event moves down at most 64 times, in
// practice a handful). Compared with a 4-ary heap this removes the data-dependent branches that
// dominated the kernel's profile.
//
// Ties: events with equal times come out in the order they were pushed. Appends keep that order
// inside a bucket, and a redistribution moves one bucket's events, in order, into buckets that
// were empty; so within any bucket, events of equal time are in push order.
#ifndef KSIM_SIM_KERNEL_EVENT_QUEUE_H_
#define KSIM_SIM_KERNEL_EVENT_QUEUE_H_

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/runtime/check.h"
#include "engine/runtime/virtual_time.h"

namespace ksim {

template <typename Event>  // Event has a `TimeNs time` member
class RadixEventQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // REQUIRES: ev.time >= the time of the last popped event (and >= 0).
  void Push(const Event& ev) {
    KSIM_CHECK(ev.time >= 0);
    if (ev.time < last_) Rewind(ev.time);
    buckets_[BucketOf(ev.time)].push_back(ev);
    ++size_;
  }

  // The earliest event's time. REQUIRES: !empty().
  TimeNs MinTime() {
    Refill();
    return last_;
  }

  // Removes and returns the earliest event (push order among equal times). REQUIRES: !empty().
  Event Pop() {
    Refill();
    Event ev = buckets_[0][head0_++];
    --size_;
    if (head0_ == buckets_[0].size()) {
      buckets_[0].clear();
      head0_ = 0;
    }
    return ev;
  }

  void Clear() {
    for (auto& b : buckets_) b.clear();
    head0_ = 0;
    size_ = 0;
  }

 private:
  size_t BucketOf(TimeNs t) const {
    uint64_t diff = static_cast<uint64_t>(t) ^ static_cast<uint64_t>(last_);
    return diff == 0 ? 0 : 64 - static_cast<size_t>(std::countl_zero(diff));
  }

  // Makes bucket 0 non-empty. REQUIRES: !empty().
  void Refill() {
    KSIM_CHECK(size_ > 0);
    if (head0_ < buckets_[0].size()) return;
    size_t i = 1;
    while (buckets_[i].empty()) ++i;
    std::vector<Event>& from = buckets_[i];
    TimeNs min = from[0].time;
    for (const Event& e : from) min = e.time < min ? e.time : min;
    last_ = min;
    for (const Event& e : from) buckets_[BucketOf(e.time)].push_back(e);
    from.clear();
  }

  // MinTime() may move the reference time past the clock (the run stops before that event), and
  // the clock's owner may then push an earlier event. Re-buckets everything relative to `t`.
  // Equal times all sit in one bucket, in push order, and are re-pushed in that order. O(n),
  // and only after a run stopped at a time limit.
  void Rewind(TimeNs t) {
    std::array<std::vector<Event>, 65> old;
    old.swap(buckets_);
    size_t head0 = head0_;
    head0_ = 0;
    last_ = t;
    for (size_t i = 0; i < old.size(); ++i) {
      for (size_t j = i == 0 ? head0 : 0; j < old[i].size(); ++j) {
        buckets_[BucketOf(old[i][j].time)].push_back(old[i][j]);
      }
    }
  }

  std::array<std::vector<Event>, 65> buckets_;
  size_t head0_ = 0;  // bucket 0 is a FIFO consumed from here
  size_t size_ = 0;
  TimeNs last_ = 0;
};

}  // namespace ksim

#endif  // KSIM_SIM_KERNEL_EVENT_QUEUE_H_
