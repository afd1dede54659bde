// The sticky and cooperative-sticky assignors: a port of Kafka's AbstractStickyAssignor (3.x)
// with its two algorithms.
//
//   Constrained: every member subscribes to the same topics. Members keep what they owned up to
//     their quota (floor or ceil of partitions / members), and the rest is dealt round-robin to
//     the members still under quota.
//   General: subscriptions differ. Members keep their valid owned partitions, the unowned ones go
//     one by one to the least-loaded member able to take them (partitions of topics with the
//     fewest subscribers first), then partitions are moved from members with two or more above
//     some other subscriber until Java's balance test holds, reverting when that does not improve
//     the balance score.
//
// Owned partitions come from Subscription::owned_partitions and generation (ksim's member data
// for both assignors; generation -1 means "none", Java's DEFAULT_GENERATION). When members claim
// the same partition the highest generation keeps it, and a claim made in the same generation
// by two members is dropped for both.
//
// Left out: rack-aware matching (KIP-881); ksim's consumers carry no client.rack.
#ifndef KSIM_ENGINE_CLIENT_CONSUMER_STICKY_ASSIGNOR_H_
#define KSIM_ENGINE_CLIENT_CONSUMER_STICKY_ASSIGNOR_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/client/consumer/assignor.h"

namespace ksim {

struct StickyOutcome {
  std::map<MemberId, std::vector<TopicPartition>> partitions;  // every member; each list sorted
  // True when every member has the same subscription (Java's constrained assignment).
  bool constrained = false;
  // Constrained path only: partitions given to a member other than their previous owner, with
  // the new owner (Java's partitionsTransferringOwnership). Empty on the general path, where
  // Java leaves it null and the cooperative assignor derives it from the owned partitions.
  std::map<TopicPartition, MemberId> transferring;
  // General path only: no member handed partitions of a topic to a member that also handed
  // partitions of that topic back (Java's isSticky()). Always true on the constrained path.
  bool sticky = true;
};

struct StickyOptions {
  // The order in which members are visited where Java iterates its subscription HashMap
  // (resolving conflicting claims, keeping owned partitions in the constrained path, recording
  // previous-generation owners). Empty means by member id. Tests set it to the order Java's
  // HashMap produced in Kafka's own tests to check their exact expected assignments.
  std::vector<MemberId> member_order;
};

// The eager sticky assignment with its bookkeeping, before any cooperative adjustment.
StickyOutcome ComputeStickyAssignment(const std::map<std::string, int32_t>& partitions_per_topic,
                                      const std::map<MemberId, Subscription>& subscriptions,
                                      const StickyOptions& options = {});

// Kafka's StickyAssignor ("sticky").
std::map<MemberId, Assignment> StickyAssign(
    const std::map<std::string, int32_t>& partitions_per_topic,
    const std::map<MemberId, Subscription>& subscriptions, const StickyOptions& options = {});

// Kafka's CooperativeStickyAssignor ("cooperative-sticky"): the sticky assignment minus every
// partition that changes owner, which its previous owner must revoke first; the follow-up
// rebalance hands it over.
std::map<MemberId, Assignment> CooperativeStickyAssign(
    const std::map<std::string, int32_t>& partitions_per_topic,
    const std::map<MemberId, Subscription>& subscriptions, const StickyOptions& options = {});

}  // namespace ksim

#endif  // KSIM_ENGINE_CLIENT_CONSUMER_STICKY_ASSIGNOR_H_
