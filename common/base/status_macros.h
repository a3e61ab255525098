// File: status_macros.h
// Early-return helpers for absl::Status / absl::StatusOr, in the spirit of Abseil's later
// status_macros.h:
//
//   SOCKUDO_RETURN_IF_ERROR(DoThing());
//   SOCKUDO_ASSIGN_OR_RETURN(auto value, ComputeValue());
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SOCKUDO_RETURN_IF_ERROR(expr)             \
  do {                                            \
    if (auto _st = (expr); !_st.ok()) return _st; \
  } while (0)

#define SOCKUDO_STATUS_CONCAT_INNER(a, b) a##b
#define SOCKUDO_STATUS_CONCAT(a, b) SOCKUDO_STATUS_CONCAT_INNER(a, b)

#define SOCKUDO_ASSIGN_OR_RETURN(lhs, expr) \
  SOCKUDO_ASSIGN_OR_RETURN_IMPL(SOCKUDO_STATUS_CONCAT(_statusor_, __LINE__), lhs, expr)

#define SOCKUDO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(*tmp)
