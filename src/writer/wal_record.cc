#include "writer/wal_record.h"

#include <cstring>

#include "common/bytes.h"
#include "common/strings.h"

namespace signaldb::writer {
namespace {

uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

std::string EncodeLimitsHeader(const otlp::AttributeLimits& limits) {
  std::string out;
  out.reserve(kLimitsHeaderSize);
  out.push_back(static_cast<char>(kLimitsHeaderVersion));
  out.push_back(limits.reject ? 1 : 0);
  AppendFixed<uint64_t>(out, limits.max_attributes);
  AppendFixed<uint64_t>(out, limits.max_value_length);
  return out;
}

absl::StatusOr<LimitedRequest> ParseLimitedRecord(std::string_view payload) {
  if (payload.size() < kLimitsHeaderSize) {
    return absl::DataLossError(
        StrCat("limited WAL record of ", payload.size(), " bytes has no limits header"));
  }
  const auto version = static_cast<uint8_t>(payload[0]);
  const auto action = static_cast<uint8_t>(payload[1]);
  if (version != kLimitsHeaderVersion || action > 1) {
    return absl::DataLossError(StrCat("limited WAL record has an unknown limits header (version ",
                                      static_cast<int>(version), ", action ",
                                      static_cast<int>(action), ")"));
  }
  LimitedRequest out;
  out.limits.reject = action == 1;
  out.limits.max_attributes = GetU64(payload.data() + 2);
  out.limits.max_value_length = GetU64(payload.data() + 10);
  out.request = payload.substr(kLimitsHeaderSize);
  return out;
}

}  // namespace signaldb::writer
