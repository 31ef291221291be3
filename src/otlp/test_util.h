// Helpers for the otlp tests.
#pragma once

#include <cstring>
#include <string>

#include "columnar/batch.h"

namespace signaldb::otlp {

// True when both batches hold the same rows; else `diff` names the first
// differing column and row.
inline bool SameBatches(const columnar::Batch& a, const columnar::Batch& b, std::string* diff) {
  if (a.num_rows() != b.num_rows()) {
    *diff = "row counts differ";
    return false;
  }
  for (size_t c = 0; c < a.schema().columns.size(); ++c) {
    const auto& x = a.column(c);
    const auto& y = b.column(c);
    for (size_t r = 0; r < a.num_rows(); ++r) {
      bool same = x.IsValid(r) == y.IsValid(r);
      if (same && x.IsValid(r)) {
        if (x.type == columnar::ColumnType::kString) same = x.StringAt(r) == y.StringAt(r);
        else if (x.type == columnar::ColumnType::kDouble) {
          same = std::memcmp(&x.doubles[r], &y.doubles[r], sizeof(double)) == 0;  // NaN too
        }
        else same = x.ints[r] == y.ints[r];
      }
      if (!same) {
        *diff = a.schema().columns[c].name + " row " + std::to_string(r);
        return false;
      }
    }
  }
  return true;
}

}  // namespace signaldb::otlp
