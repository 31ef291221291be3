// Helpers for the otlp tests.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "columnar/batch.h"
#include "gtest/gtest.h"

namespace signaldb::otlp {

// True when value `i` of `x` equals value `j` of `y` (maps: the same entries
// in the same order).
inline bool SameValue(const columnar::ColumnData& x, size_t i, const columnar::ColumnData& y, size_t j) {
  if (x.IsValid(i) != y.IsValid(j)) return false;
  if (!x.IsValid(i)) return true;
  if (columnar::IsMap(x.type)) {
    const size_t xb = x.entry_offsets[i], n = x.entry_offsets[i + 1] - xb, yb = y.entry_offsets[j];
    if (y.entry_offsets[j + 1] - yb != n) return false;
    for (size_t e = 0; e < n; ++e) {
      if (!SameValue(x.MapKeys(), xb + e, y.MapKeys(), yb + e)) return false;
      if (!SameValue(x.MapValues(), xb + e, y.MapValues(), yb + e)) return false;
    }
    return true;
  }
  if (x.type == columnar::ColumnType::kString) return x.StringAt(i) == y.StringAt(j);
  if (x.type == columnar::ColumnType::kDouble) return std::memcmp(&x.doubles[i], &y.doubles[j], sizeof(double)) == 0;
  return x.ints[i] == y.ints[j];
}

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
      if (!SameValue(x, r, y, r)) {
        *diff = a.schema().columns[c].name + " row " + std::to_string(r);
        return false;
      }
    }
  }
  return true;
}

inline bool SameBatches(const std::vector<columnar::Batch>& a, const std::vector<columnar::Batch>& b,
                        std::string* diff) {
  if (a.size() != b.size()) {
    *diff = "batch counts differ";
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (!SameBatches(a[i], b[i], diff)) {
      *diff = "batch " + std::to_string(i) + ": " + *diff;
      return false;
    }
  }
  return true;
}

// The differential check of a wire decoder against its message-based
// reference decoder: on `request` both produce the same rows and counts, and
// on every `step`-th truncation of its bytes the wire decoder fails exactly
// when libprotobuf does, and otherwise agrees again. `make_out` returns an
// empty output (a Batch or the metrics tables' batches).
template <typename Request, typename MakeOut, typename Reference, typename Wire>
void ExpectWireAgreesWithReference(const Request& request, MakeOut make_out, Reference reference, Wire wire,
                                   size_t step) {
  std::string bytes = request.SerializeAsString();
  auto want = make_out(), got = make_out();
  auto want_r = reference(request, &want);
  auto got_r = wire(bytes, &got);
  ASSERT_TRUE(got_r.ok()) << got_r.status();
  EXPECT_EQ(got_r->accepted, want_r.accepted);
  EXPECT_EQ(got_r->rejected, want_r.rejected);
  EXPECT_EQ(got_r->first_error, want_r.first_error);
  std::string diff;
  EXPECT_TRUE(SameBatches(want, got, &diff)) << diff;
  for (size_t cut = 0; cut < bytes.size(); cut += step) {
    std::string prefix = bytes.substr(0, cut);
    Request parsed;
    bool ok = parsed.ParseFromString(prefix);
    auto a = make_out(), b = make_out();
    auto w = wire(prefix, &b);
    ASSERT_EQ(w.ok(), ok) << "cut " << cut;
    if (!ok) continue;
    auto r = reference(parsed, &a);
    EXPECT_EQ(w->accepted, r.accepted) << "cut " << cut;
    EXPECT_TRUE(SameBatches(a, b, &diff)) << "cut " << cut << ": " << diff;
  }
}

}  // namespace signaldb::otlp
