#include "engine/protocol/messages.h"

#include "engine/log/record_batch.h"

namespace ksim {

int64_t BatchSizeBytes(const RecordBatch& batch) { return batch.size_bytes(); }

int64_t ProduceRequest::SizeBytes() const {
  int64_t n = kRequestHeaderBytes + 16;
  for (const auto& [tp, b] : batches) n += static_cast<int64_t>(tp.topic.size()) + 8 + b->size_bytes();
  return n;
}

int64_t FetchResponse::SizeBytes() const {
  int64_t n = kResponseHeaderBytes;
  for (const auto& [tp, p] : partitions) {
    n += static_cast<int64_t>(tp.topic.size()) + 40 + p.records_size_bytes;
  }
  return n;
}

int64_t MetadataResponse::SizeBytes() const {
  int64_t n = kResponseHeaderBytes + 32 * static_cast<int64_t>(brokers.size());
  for (const TopicMetadata& t : topics) {
    n += static_cast<int64_t>(t.name.size()) + 8 + 40 * static_cast<int64_t>(t.partitions.size());
  }
  return n;
}

std::shared_ptr<Response> MakeErrorResponse(const Request& request, Error error) {
  auto r = std::make_shared<ErrorResponse>(request.api());
  r->error = error;
  return r;
}

bool IsErrorResponse(const Response& r) { return dynamic_cast<const ErrorResponse*>(&r) != nullptr; }

}  // namespace ksim
