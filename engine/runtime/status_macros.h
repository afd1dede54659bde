// Status propagation helpers (Abseil 20220623 has none of its own).
#ifndef KSIM_ENGINE_RUNTIME_STATUS_MACROS_H_
#define KSIM_ENGINE_RUNTIME_STATUS_MACROS_H_

#include "absl/status/status.h"

#define KSIM_RETURN_IF_ERROR(expr)              \
  do {                                          \
    ::absl::Status _ksim_status = (expr);       \
    if (!_ksim_status.ok()) return _ksim_status; \
  } while (0)

#define KSIM_CONCAT_INNER(a, b) a##b
#define KSIM_CONCAT(a, b) KSIM_CONCAT_INNER(a, b)

// KSIM_ASSIGN_OR_RETURN(auto x, StatusOrExpr());
#define KSIM_ASSIGN_OR_RETURN(lhs, expr)                                   \
  auto KSIM_CONCAT(_ksim_or_, __LINE__) = (expr);                          \
  if (!KSIM_CONCAT(_ksim_or_, __LINE__).ok())                              \
    return KSIM_CONCAT(_ksim_or_, __LINE__).status();                      \
  lhs = std::move(*KSIM_CONCAT(_ksim_or_, __LINE__))

// KSIM_SET_OR_RETURN(existing_variable, StatusOrExpr()); a single statement, safe after if.
#define KSIM_SET_OR_RETURN(var, expr)             \
  do {                                            \
    auto _ksim_or = (expr);                       \
    if (!_ksim_or.ok()) return _ksim_or.status(); \
    var = std::move(*_ksim_or);                   \
  } while (0)

#endif  // KSIM_ENGINE_RUNTIME_STATUS_MACROS_H_
