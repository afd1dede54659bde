#include "engine/runtime/check.h"

#include <cstdio>
#include <cstdlib>

namespace ksim {
namespace {

thread_local FailureContextFn context_fn = nullptr;
thread_local void* context_arg = nullptr;

}  // namespace

void SetFailureContext(FailureContextFn fn, void* arg) {
  context_fn = fn;
  context_arg = arg;
}

void CheckFailed(const char* file, int line, const char* expr, const std::string& message) {
  std::string where = context_fn != nullptr ? context_fn(context_arg) : std::string("no simulation");
  std::fprintf(stderr, "ksim: invariant violated at %s:%d: %s%s%s [%s]\n", file, line, expr,
               message.empty() ? "" : ": ", message.c_str(), where.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace ksim
