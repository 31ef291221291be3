// Status plumbing shared by every component: early-return helpers for
// absl::Status and absl::StatusOr, so fallible code reads top to bottom.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SDB_CONCAT_INNER(a, b) a##b
#define SDB_CONCAT(a, b) SDB_CONCAT_INNER(a, b)

// Returns from the calling function if `expr` yields a non-OK status.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status sdb_status_ = (expr);               \
    if (!sdb_status_.ok()) return sdb_status_;         \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, Fn())` binds the value of a StatusOr or returns
// its status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  SDB_ASSIGN_OR_RETURN_IMPL(SDB_CONCAT(sdb_statusor_, __LINE__), lhs, expr)
#define SDB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
