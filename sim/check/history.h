// The recorded history of a run: every send, acknowledgement, poll and commit made by the
// simulated clients, plus what the cluster holds at the end. Checkers read only this.
//
// Records are identified by a record id the producer assigns (unique per run), so the history
// does not depend on payload bytes.
#ifndef KSIM_SIM_CHECK_HISTORY_H_
#define KSIM_SIM_CHECK_HISTORY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/protocol/api.h"
#include "engine/protocol/errors.h"
#include "engine/runtime/virtual_time.h"

namespace ksim {

using RecordId = uint64_t;

struct SendOp {
  TimeNs time = 0;
  std::string producer;  // client id
  RecordId record = 0;
  std::string topic;
};

struct AckOp {
  TimeNs time = 0;
  std::string producer;
  RecordId record = 0;
  TopicPartition tp;
  int64_t offset = -1;        // valid when error == kNone (and acks != 0)
  Error error = Error::kNone;
  std::string error_message;  // timeouts and client-side failures
  bool acks_zero = false;     // acks=0: no offset is known, nothing was promised
  // The topic is compacted (cleanup.policy has "compact"): a record that a later one with the
  // same key superseded in its partition may be removed by the log cleaner.
  bool compacted = false;
  std::optional<std::string> key;  // the record's key (type and bytes); unset: null key
};

struct PollOp {
  TimeNs time = 0;
  std::string consumer;
  std::string group;
  int32_t generation = -1;
  TopicPartition tp;
  int64_t offset = -1;
  RecordId record = 0;
};

struct CommitOp {
  TimeNs time = 0;
  std::string consumer;
  std::string group;
  int32_t generation = -1;
  TopicPartition tp;
  int64_t offset = -1;
  bool ok = false;
};

// A member's assignment in one generation of a group.
struct AssignmentOp {
  TimeNs time = 0;
  std::string group;
  int32_t generation = -1;
  std::string member;
  std::vector<TopicPartition> partitions;
};

// One replica's log at the end of the run (offset → record), and its high watermark.
struct ReplicaLog {
  int32_t broker = -1;
  bool alive = true;
  int64_t high_watermark = 0;
  int64_t log_start_offset = 0;
  std::map<int64_t, RecordId> records;
};

struct History {
  std::vector<SendOp> sends;
  std::vector<AckOp> acks;
  std::vector<PollOp> polls;
  std::vector<CommitOp> commits;
  std::vector<AssignmentOp> assignments;
  // What a fresh consumer read from each partition after faults healed (offset → record),
  // and whether that final read completed (reached the high watermark).
  std::map<TopicPartition, std::map<int64_t, RecordId>> final_reads;
  std::map<TopicPartition, bool> final_read_complete;
  // Every replica of every partition at the end.
  std::map<TopicPartition, std::vector<ReplicaLog>> replicas;
  // What the configuration promises: checks of promises not made are reported as skipped.
  bool promises_no_duplicates = false;    // enable.idempotence on every producer
  bool promises_order = false;            // idempotence or max.in.flight == 1
};

}  // namespace ksim

#endif  // KSIM_SIM_CHECK_HISTORY_H_
