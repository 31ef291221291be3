#include "iceberg/stats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>

namespace signaldb::iceberg {
namespace {

template <typename T>
std::string LittleEndian(T v) {
  std::string out(sizeof(T), '\0');
  std::memcpy(out.data(), &v, sizeof(T));
  return out;
}

constexpr size_t kTruncate = 16;

bool Ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x7f) return false;
  }
  return true;
}

}  // namespace

int32_t HourOf(int64_t micros) {
  constexpr int64_t kHour = 3600LL * 1000 * 1000;
  int64_t q = micros / kHour;
  if (micros % kHour != 0 && micros < 0) --q;
  return static_cast<int32_t>(q);
}

void ComputeStats(const std::vector<std::shared_ptr<const columnar::Batch>>& batches,
                  const std::function<bool(size_t, size_t)>& include, DataFile* file) {
  if (batches.empty()) return;
  const auto& schema = batches[0]->schema();
  // Which rows count, evaluated once rather than once per column.
  std::vector<std::vector<uint8_t>> selected;
  if (include) {
    selected.resize(batches.size());
    for (size_t b = 0; b < batches.size(); ++b) {
      selected[b].resize(batches[b]->num_rows());
      for (size_t r = 0; r < selected[b].size(); ++r) selected[b][r] = include(b, r) ? 1 : 0;
    }
  }
  for (size_t c = 0; c < schema.columns.size(); ++c) {
    const int32_t id = schema.columns[c].field_id;
    const auto type = schema.columns[c].type;
    // Maps get no statistics: Iceberg keeps them per leaf field (key, value),
    // and nothing prunes on them.
    if (columnar::IsMap(type)) continue;
    int64_t values = 0, nulls = 0, nans = 0;
    std::optional<int64_t> imin, imax;
    std::optional<double> dmin, dmax;
    std::optional<std::string_view> smin, smax;
    bool strings_ascii = true;
    for (size_t b = 0; b < batches.size(); ++b) {
      const auto& col = batches[b]->column(c);
      const uint8_t* sel = include ? selected[b].data() : nullptr;
      for (size_t r = 0; r < col.size(); ++r) {
        if (sel != nullptr && sel[r] == 0) continue;
        ++values;
        if (!col.IsValid(r)) {
          ++nulls;
          continue;
        }
        switch (type) {
          case columnar::ColumnType::kString: {
            std::string_view v = col.StringAt(r);
            strings_ascii = strings_ascii && Ascii(v.substr(0, kTruncate));
            if (!smin || v < *smin) smin = v;
            if (!smax || v > *smax) smax = v;
            break;
          }
          case columnar::ColumnType::kDouble: {
            double v = col.doubles[r];
            if (std::isnan(v)) {
              ++nans;
              break;
            }
            if (!dmin || v < *dmin) dmin = v;
            if (!dmax || v > *dmax) dmax = v;
            break;
          }
          default: {
            int64_t v = col.ints[r];
            if (!imin || v < *imin) imin = v;
            if (!imax || v > *imax) imax = v;
          }
        }
      }
    }
    file->value_counts[id] = values;
    file->null_value_counts[id] = nulls;
    if (type == columnar::ColumnType::kDouble) file->nan_value_counts[id] = nans;
    switch (type) {
      case columnar::ColumnType::kString:
        if (smin && strings_ascii) {
          file->lower_bounds[id] = std::string(smin->substr(0, kTruncate));
          std::string upper(smax->substr(0, kTruncate));
          if (smax->size() > kTruncate) {
            // A truncated upper bound must still be >= every value: round the
            // last character up (ASCII, so no code-point carry is needed).
            while (!upper.empty() && static_cast<unsigned char>(upper.back()) >= 0x7e) upper.pop_back();
            if (upper.empty()) break;
            upper.back() = static_cast<char>(upper.back() + 1);
          }
          file->upper_bounds[id] = upper;
        }
        break;
      case columnar::ColumnType::kDouble:
        if (dmin) {
          file->lower_bounds[id] = LittleEndian(*dmin);
          file->upper_bounds[id] = LittleEndian(*dmax);
        }
        break;
      case columnar::ColumnType::kInt32:
      case columnar::ColumnType::kDate:
        if (imin) {
          file->lower_bounds[id] = LittleEndian(static_cast<int32_t>(*imin));
          file->upper_bounds[id] = LittleEndian(static_cast<int32_t>(*imax));
        }
        break;
      case columnar::ColumnType::kBool:
        if (imin) {
          file->lower_bounds[id] = std::string(1, static_cast<char>(*imin != 0));
          file->upper_bounds[id] = std::string(1, static_cast<char>(*imax != 0));
        }
        break;
      default:
        if (imin) {
          file->lower_bounds[id] = LittleEndian(*imin);
          file->upper_bounds[id] = LittleEndian(*imax);
        }
    }
  }
}

namespace {

// Orders two bounds of a column of `type` by value: <0, 0, >0.
int CompareBound(columnar::ColumnType type, const std::string& a, const std::string& b) {
  auto as = [](const std::string& s, auto zero) {
    decltype(zero) v = zero;
    std::memcpy(&v, s.data(), std::min(s.size(), sizeof(v)));
    return v;
  };
  switch (type) {
    case columnar::ColumnType::kString:
    case columnar::ColumnType::kBool:
      return a.compare(b);
    case columnar::ColumnType::kDouble: {
      double x = as(a, 0.0), y = as(b, 0.0);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    case columnar::ColumnType::kInt32:
    case columnar::ColumnType::kDate: {
      int32_t x = as(a, int32_t{0}), y = as(b, int32_t{0});
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    default: {
      int64_t x = as(a, int64_t{0}), y = as(b, int64_t{0});
      return x < y ? -1 : (x > y ? 1 : 0);
    }
  }
}

}  // namespace

void MergeStats(const columnar::Schema& schema, const std::vector<const DataFile*>& inputs, DataFile* file) {
  for (size_t c = 0; c < schema.columns.size(); ++c) {
    const int32_t id = schema.columns[c].field_id;
    const auto type = schema.columns[c].type;
    // Maps get no statistics: Iceberg keeps them per leaf field (key, value),
    // and nothing prunes on them.
    if (columnar::IsMap(type)) continue;
    int64_t values = 0, nulls = 0, nans = 0;
    bool has_nans = false;
    std::optional<std::string> lower, upper;
    bool lower_known = true, upper_known = true;
    for (const DataFile* in : inputs) {
      if (!in->value_counts.empty() && !in->value_counts.count(id)) {
        // Counted every column but this one: the file predates the column
        // (schema evolution), so all its rows read as null here.
        values += in->record_count;
        nulls += in->record_count;
        continue;
      }
      auto get = [&](const std::map<int32_t, int64_t>& m) {
        auto it = m.find(id);
        return it == m.end() ? int64_t{0} : it->second;
      };
      values += get(in->value_counts);
      nulls += get(in->null_value_counts);
      if (in->nan_value_counts.count(id)) {
        has_nans = true;
        nans += get(in->nan_value_counts);
      }
      // A file with ordinary values but no bound leaves the merged side unknown.
      const bool has_values =
          !in->value_counts.count(id) || get(in->value_counts) > get(in->null_value_counts) + get(in->nan_value_counts);
      auto lo = in->lower_bounds.find(id);
      if (lo == in->lower_bounds.end()) {
        if (has_values) lower_known = false;
      } else if (!lower || CompareBound(type, lo->second, *lower) < 0) {
        lower = lo->second;
      }
      auto hi = in->upper_bounds.find(id);
      if (hi == in->upper_bounds.end()) {
        if (has_values) upper_known = false;
      } else if (!upper || CompareBound(type, hi->second, *upper) > 0) {
        upper = hi->second;
      }
    }
    file->value_counts[id] = values;
    file->null_value_counts[id] = nulls;
    if (has_nans) file->nan_value_counts[id] = nans;
    if (lower && lower_known) file->lower_bounds[id] = *lower;
    if (upper && upper_known) file->upper_bounds[id] = *upper;
  }
  file->record_count = 0;
  for (const DataFile* in : inputs) file->record_count += in->record_count;
}

}  // namespace signaldb::iceberg
