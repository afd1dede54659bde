// Consumer partition assignors with Kafka's Java algorithms: range, roundrobin, sticky and
// cooperative-sticky, plus a registry for custom ones. The group leader runs the assignor the
// group chose (the first of the leader's partition.assignment.strategy all members support).
#ifndef KSIM_ENGINE_CLIENT_CONSUMER_ASSIGNOR_H_
#define KSIM_ENGINE_CLIENT_CONSUMER_ASSIGNOR_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/protocol/api.h"

namespace ksim {

using MemberId = std::string;

struct Subscription {
  std::vector<std::string> topics;
  std::vector<TopicPartition> owned_partitions;
  int32_t generation = -1;
  std::string group_instance_id;
};

struct Assignment {
  std::vector<TopicPartition> partitions;  // sorted
};

class Assignor {
 public:
  virtual ~Assignor() = default;
  virtual std::string name() const = 0;
  virtual bool cooperative() const { return false; }
  // Every member gets an entry (possibly empty).
  virtual std::map<MemberId, Assignment> Assign(
      const std::map<std::string, int32_t>& partitions_per_topic,
      const std::map<MemberId, Subscription>& subscriptions) const = 0;
};

// Registry: short names ("range", "roundrobin", "sticky", "cooperative-sticky") and Java class
// names (org.apache.kafka.clients.consumer.RangeAssignor, ...).
const Assignor* FindAssignor(const std::string& name);
void RegisterAssignor(std::unique_ptr<Assignor> assignor, std::vector<std::string> aliases = {});
std::vector<std::string> AssignorNames();
// The protocol name of a strategy given as a class or short name ("range" for RangeAssignor).
std::string AssignorName(const std::string& strategy);
bool IsCooperative(const std::string& strategy);

}  // namespace ksim

#endif  // KSIM_ENGINE_CLIENT_CONSUMER_ASSIGNOR_H_
