// Always-on invariant checks. Unlike assert(), these stay in release builds: a simulator that
// silently continues past a broken invariant reports nonsense. A failure prints the file, line,
// the virtual time and the seed (through a context hook the simulator installs) and aborts.
#ifndef KSIM_ENGINE_RUNTIME_CHECK_H_
#define KSIM_ENGINE_RUNTIME_CHECK_H_

#include <string>

namespace ksim {

// Returns a short description of where the simulation is ("t=1.5s seed=42 node=broker-1").
using FailureContextFn = std::string (*)(void* arg);

// Installs the hook that describes the current simulation state in failure messages.
// Passing nullptr removes it. One hook per OS thread (one simulation per thread).
void SetFailureContext(FailureContextFn fn, void* arg);

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr,
                              const std::string& message);

}  // namespace ksim

#define KSIM_CHECK(cond)                                            \
  do {                                                              \
    if (__builtin_expect(!(cond), 0)) {                             \
      ::ksim::CheckFailed(__FILE__, __LINE__, #cond, std::string()); \
    }                                                               \
  } while (0)

// msg is any expression convertible to std::string; it is evaluated only on failure.
#define KSIM_CHECK_MSG(cond, msg)                                   \
  do {                                                              \
    if (__builtin_expect(!(cond), 0)) {                             \
      ::ksim::CheckFailed(__FILE__, __LINE__, #cond, (msg));        \
    }                                                               \
  } while (0)

#define KSIM_UNREACHABLE(msg) ::ksim::CheckFailed(__FILE__, __LINE__, "unreachable", (msg))

#endif  // KSIM_ENGINE_RUNTIME_CHECK_H_
