#include "acceptor/otlp_json_request.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/strings.h"

namespace signaldb::acceptor {
namespace {

absl::Status CheckDepth(std::string_view body) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) {
        return absl::InvalidArgumentError(StrCat("JSON nesting deeper than ", kMaxJsonDepth, " levels"));
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return absl::OkStatus();
}

bool IsIdKey(const std::string& key) { return key == "traceId" || key == "spanId" || key == "parentSpanId"; }

// Rewrites hex ids to base64 in place, iteratively (no recursion on input depth).
absl::Status ConvertIds(nlohmann::json& root) {
  std::vector<nlohmann::json*> stack{&root};
  while (!stack.empty()) {
    nlohmann::json* j = stack.back();
    stack.pop_back();
    if (j->is_object()) {
      for (auto it = j->begin(); it != j->end(); ++it) {
        if (IsIdKey(it.key()) && it->is_string()) {
          const std::string& hex = it->get_ref<const std::string&>();
          auto raw = HexDecode(hex);
          if (!raw) return absl::InvalidArgumentError(StrCat("field ", it.key(), " is not hex: '", hex, "'"));
          *it = Base64Encode(*raw);
        } else if (it->is_structured()) {
          stack.push_back(&*it);
        }
      }
    } else if (j->is_array()) {
      for (auto& e : *j) {
        if (e.is_structured()) stack.push_back(&e);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseOtlpJson(std::string_view body, google::protobuf::Message* out) {
  if (auto st = CheckDepth(body); !st.ok()) return st;
  nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("request body is not valid JSON");
  if (!j.is_object()) return absl::InvalidArgumentError("request body must be a JSON object");
  if (auto st = ConvertIds(j); !st.ok()) return st;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(j.dump(), out, opts);
  if (!st.ok()) return absl::InvalidArgumentError(StrCat("invalid OTLP JSON: ", std::string(st.message())));
  return absl::OkStatus();
}

}  // namespace signaldb::acceptor
