#include "iceberg/stats.h"

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
  for (size_t c = 0; c < schema.columns.size(); ++c) {
    const int32_t id = static_cast<int32_t>(c + 1);
    const auto type = schema.columns[c].type;
    int64_t values = 0, nulls = 0, nans = 0;
    std::optional<int64_t> imin, imax;
    std::optional<double> dmin, dmax;
    std::optional<std::string_view> smin, smax;
    bool strings_ascii = true;
    for (size_t b = 0; b < batches.size(); ++b) {
      const auto& col = batches[b]->column(c);
      for (size_t r = 0; r < col.size(); ++r) {
        if (!include(b, r)) continue;
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

}  // namespace signaldb::iceberg
