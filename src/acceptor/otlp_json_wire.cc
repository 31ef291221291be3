#include "acceptor/otlp_json_wire.h"

#include <cctype>
#include <charconv>
#include <deque>
#include <optional>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/hex.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "otlp/wire.h"

namespace signaldb::acceptor {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// JSON key (json_name or proto name) to field, for every message type
// reachable from a root type; built once per root.
struct Fields {
  std::unordered_map<std::string_view, const FieldDescriptor*> by_key;
  std::vector<std::unique_ptr<std::string>> keys;  // storage of the keys above
};
using Index = std::unordered_map<const Descriptor*, Fields>;

const Index& IndexFor(const Descriptor* root) {
  static std::mutex mu;
  static std::map<const Descriptor*, std::unique_ptr<Index>> built;
  std::lock_guard lock(mu);
  auto& index = built[root];
  if (index) return *index;
  index = std::make_unique<Index>();
  std::vector<const Descriptor*> todo{root};
  while (!todo.empty()) {
    const Descriptor* d = todo.back();
    todo.pop_back();
    if (index->count(d) > 0) continue;
    Fields& fields = (*index)[d];
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      for (const std::string& key : {f->json_name(), f->name()}) {
        fields.keys.push_back(std::make_unique<std::string>(key));
        fields.by_key.emplace(*fields.keys.back(), f);
      }
      if (f->type() == FieldDescriptor::TYPE_MESSAGE) todo.push_back(f->message_type());
    }
  }
  return *index;
}

// OTLP's ids are hex in JSON; every other bytes field is base64.
bool IsHexId(const FieldDescriptor* f) {
  return f->name() == "trace_id" || f->name() == "span_id" || f->name() == "parent_span_id";
}

using otlp::wire::WireType;
using otlp::wire::kFixed32;
using otlp::wire::kFixed64;
using otlp::wire::kLen;
using otlp::wire::kVarint;

WireType WireTypeOf(const FieldDescriptor* f) {
  switch (f->type()) {
    case FieldDescriptor::TYPE_DOUBLE:
    case FieldDescriptor::TYPE_FIXED64:
    case FieldDescriptor::TYPE_SFIXED64: return kFixed64;
    case FieldDescriptor::TYPE_FLOAT:
    case FieldDescriptor::TYPE_FIXED32:
    case FieldDescriptor::TYPE_SFIXED32: return kFixed32;
    case FieldDescriptor::TYPE_STRING:
    case FieldDescriptor::TYPE_BYTES:
    case FieldDescriptor::TYPE_MESSAGE: return kLen;
    default: return kVarint;
  }
}

void PutTag(const FieldDescriptor* f, WireType wt, std::string* out) {
  AppendVarint(*out, (static_cast<uint64_t>(f->number()) << 3) | wt);
}

class Transcoder {
 public:
  Transcoder(std::string_view s, const Index& index) : s_(s), index_(index) {}

  absl::Status Root(const Descriptor* type, std::string* out) {
    Ws();
    if (p_ >= s_.size() || s_[p_] != '{') {
      if (p_ < s_.size() && s_[p_] == '[') return absl::InvalidArgumentError("request body must be a JSON object");
      return Bad("expected a JSON object");
    }
    if (absl::Status st = Message(type, out, 0); !st.ok()) return st;
    Ws();
    if (p_ != s_.size()) return Bad("unexpected text after the JSON object");
    return absl::OkStatus();
  }

 private:
  absl::Status Bad(std::string_view what) const {
    return absl::InvalidArgumentError(
        StrCat("request body is not valid JSON (OTLP): ", what, " at byte ", std::min(p_, s_.size())));
  }
  absl::Status BadField(const FieldDescriptor* f, std::string_view what) const {
    return absl::InvalidArgumentError(
        StrCat("invalid OTLP JSON: field ", f->json_name(), " ", what, " at byte ", std::min(p_, s_.size())));
  }

  void Ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\r' || s_[p_] == '\t')) ++p_;
  }
  bool Eat(char c) {
    Ws();
    if (p_ < s_.size() && s_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }
  bool AtNull() {
    Ws();
    return Literal("null");
  }

  // A JSON string token at p_: its text unescaped into `scratch` (or a view
  // of the body when it has no escapes) in `*out`.
  absl::Status String(std::string_view* out, std::string* scratch) {
    Ws();
    if (p_ >= s_.size() || s_[p_] != '"') return Bad("expected a string");
    const size_t start = ++p_;
    while (p_ < s_.size() && s_[p_] != '"' && s_[p_] != '\\' && static_cast<unsigned char>(s_[p_]) >= 0x20) ++p_;
    if (p_ < s_.size() && s_[p_] == '"') {
      *out = s_.substr(start, p_ - start);
      ++p_;
      if (!otlp::wire::ValidUtf8(*out)) return Bad("string is not valid UTF-8");
      return absl::OkStatus();
    }
    scratch->assign(s_.substr(start, p_ - start));
    while (true) {
      if (p_ >= s_.size()) return Bad("unterminated string");
      const char c = s_[p_];
      if (c == '"') {
        ++p_;
        break;
      }
      if (static_cast<unsigned char>(c) < 0x20) return Bad("control character in a string");
      if (c != '\\') {
        scratch->push_back(c);
        ++p_;
        continue;
      }
      if (++p_ >= s_.size()) return Bad("unterminated string");
      const char e = s_[p_++];
      switch (e) {
        case '"': scratch->push_back('"'); break;
        case '\\': scratch->push_back('\\'); break;
        case '/': scratch->push_back('/'); break;
        case 'b': scratch->push_back('\b'); break;
        case 'f': scratch->push_back('\f'); break;
        case 'n': scratch->push_back('\n'); break;
        case 'r': scratch->push_back('\r'); break;
        case 't': scratch->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return Bad("bad \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (!Literal("\\u") || !Hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return Bad("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Bad("unpaired surrogate");
          }
          AppendUtf8(cp, scratch);
          break;
        }
        default: return Bad("bad escape in a string");
      }
    }
    if (!otlp::wire::ValidUtf8(*scratch)) return Bad("string is not valid UTF-8");
    *out = *scratch;
    return absl::OkStatus();
  }
  bool Hex4(uint32_t* v) {
    if (p_ + 4 > s_.size()) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[p_++];
      uint32_t d;
      if (c >= '0' && c <= '9') d = static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') d = static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') d = static_cast<uint32_t>(c - 'A' + 10);
      else return false;
      *v = *v * 16 + d;
    }
    return true;
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // A JSON number token at p_ (not consumed on failure).
  bool NumberToken(std::string_view* out) {
    Ws();
    const size_t start = p_;
    size_t q = p_;
    if (q < s_.size() && s_[q] == '-') ++q;
    const size_t digits = q;
    while (q < s_.size() && std::isdigit(static_cast<unsigned char>(s_[q]))) ++q;
    if (q == digits) return false;
    if (q < s_.size() && s_[q] == '.') {
      ++q;
      const size_t frac = q;
      while (q < s_.size() && std::isdigit(static_cast<unsigned char>(s_[q]))) ++q;
      if (q == frac) return false;
    }
    if (q < s_.size() && (s_[q] == 'e' || s_[q] == 'E')) {
      ++q;
      if (q < s_.size() && (s_[q] == '+' || s_[q] == '-')) ++q;
      const size_t exp = q;
      while (q < s_.size() && std::isdigit(static_cast<unsigned char>(s_[q]))) ++q;
      if (q == exp) return false;
    }
    *out = s_.substr(start, q - start);
    p_ = q;
    return true;
  }

  // The text of a number given as a JSON number or a string ("123").
  absl::Status NumberText(const FieldDescriptor* f, std::string_view* text) {
    Ws();
    if (p_ < s_.size() && s_[p_] == '"') {
      RETURN_IF_ERROR(String(text, &scratch_));
      return absl::OkStatus();
    }
    if (!NumberToken(text)) return BadField(f, "expects a number");
    return absl::OkStatus();
  }

  absl::Status Integer(const FieldDescriptor* f, bool is_signed, int bits, uint64_t* out) {
    std::string_view t;
    RETURN_IF_ERROR(NumberText(f, &t));
    const char* b = t.data();
    const char* e = t.data() + t.size();
    if (is_signed) {
      int64_t v;
      auto r = std::from_chars(b, e, v);
      if (r.ec != std::errc() || r.ptr != e) {
        double d;
        auto rd = std::from_chars(b, e, d);
        if (rd.ec != std::errc() || rd.ptr != e || d != std::floor(d) || d < -9.223372036854775808e18 ||
            d >= 9.223372036854775808e18) {
          return BadField(f, StrCat("expects an integer, got '", t.substr(0, 64), "'"));
        }
        v = static_cast<int64_t>(d);
      }
      if (bits == 32 && (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())) {
        return BadField(f, StrCat("is out of range: ", t.substr(0, 64)));
      }
      *out = static_cast<uint64_t>(v);
      return absl::OkStatus();
    }
    uint64_t v;
    auto r = std::from_chars(b, e, v);
    if (r.ec != std::errc() || r.ptr != e) {
      double d;
      auto rd = std::from_chars(b, e, d);
      if (rd.ec != std::errc() || rd.ptr != e || d != std::floor(d) || d < 0 || d >= 1.8446744073709552e19) {
        return BadField(f, StrCat("expects an unsigned integer, got '", t.substr(0, 64), "'"));
      }
      v = static_cast<uint64_t>(d);
    }
    if (bits == 32 && v > std::numeric_limits<uint32_t>::max()) return BadField(f, StrCat("is out of range: ", t.substr(0, 64)));
    *out = v;
    return absl::OkStatus();
  }

  absl::Status Double(const FieldDescriptor* f, double* out) {
    std::string_view t;
    RETURN_IF_ERROR(NumberText(f, &t));
    if (t == "NaN") *out = std::numeric_limits<double>::quiet_NaN();
    else if (t == "Infinity") *out = std::numeric_limits<double>::infinity();
    else if (t == "-Infinity") *out = -std::numeric_limits<double>::infinity();
    else {
      auto r = std::from_chars(t.data(), t.data() + t.size(), *out);
      if (r.ec == std::errc::result_out_of_range && r.ptr == t.data() + t.size()) {
        // Too small for a double reads as zero (as strtod gives); too large is an error.
        *out = std::strtod(std::string(t).c_str(), nullptr);
        if (std::isinf(*out)) return BadField(f, StrCat("is out of range: ", t.substr(0, 64)));
        r.ec = std::errc();
      }
      if (r.ec != std::errc() || r.ptr != t.data() + t.size()) {
        return BadField(f, StrCat("expects a number, got '", t.substr(0, 64), "'"));
      }
    }
    return absl::OkStatus();
  }

  // One value of `f` (an element, for repeated fields) appended to `out`
  // without its tag; false in *present when it is a default proto3 leaves out.
  absl::Status Scalar(const FieldDescriptor* f, std::string* out, bool* present) {
    *present = true;
    switch (f->type()) {
      case FieldDescriptor::TYPE_STRING:
      case FieldDescriptor::TYPE_BYTES: {
        std::string_view text;
        RETURN_IF_ERROR(String(&text, &scratch_));
        if (f->type() == FieldDescriptor::TYPE_BYTES) {
          std::optional<std::string> raw = IsHexId(f) ? HexDecode(std::string(text)) : Base64Decode(text);
          if (!raw) {
            return absl::InvalidArgumentError(StrCat("field ", f->json_name(), " is not ",
                                                     IsHexId(f) ? "hex" : "base64", ": '", text.substr(0, 64), "'"));
          }
          *present = !raw->empty() || f->has_presence();
          AppendVarint(*out, raw->size());
          out->append(*raw);
        } else {
          *present = !text.empty() || f->has_presence();
          AppendVarint(*out, text.size());
          out->append(text);
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::TYPE_BOOL: {
        Ws();
        bool v;
        if (Literal("true")) v = true;
        else if (Literal("false")) v = false;
        else return BadField(f, "expects true or false");
        *present = v || f->has_presence();
        AppendVarint(*out, v ? 1 : 0);
        return absl::OkStatus();
      }
      case FieldDescriptor::TYPE_ENUM: {
        Ws();
        int64_t v;
        if (p_ < s_.size() && s_[p_] == '"') {
          std::string_view name;
          RETURN_IF_ERROR(String(&name, &scratch_));
          const auto* value = f->enum_type()->FindValueByName(std::string(name));
          if (value == nullptr) {
            // An enum value from a newer schema: ignored like unknown fields.
            *present = false;
            return absl::OkStatus();
          }
          v = value->number();
        } else {
          uint64_t u;
          RETURN_IF_ERROR(Integer(f, true, 32, &u));
          v = static_cast<int64_t>(u);
        }
        *present = v != 0 || f->has_presence();
        AppendVarint(*out, static_cast<uint64_t>(v));
        return absl::OkStatus();
      }
      case FieldDescriptor::TYPE_DOUBLE:
      case FieldDescriptor::TYPE_FLOAT: {
        double d;
        RETURN_IF_ERROR(Double(f, &d));
        uint64_t bits;
        if (f->type() == FieldDescriptor::TYPE_DOUBLE) {
          std::memcpy(&bits, &d, 8);
          AppendFixed<uint64_t>(*out, bits);
        } else {
          if (std::isfinite(d) && std::fabs(d) > std::numeric_limits<float>::max()) {
            return BadField(f, "is out of range for a float");
          }
          const float x = static_cast<float>(d);
          uint32_t b32;
          std::memcpy(&b32, &x, 4);
          bits = b32;
          AppendFixed<uint32_t>(*out, b32);
        }
        *present = bits != 0 || f->has_presence();
        return absl::OkStatus();
      }
      default: break;
    }
    uint64_t v;
    const auto type = f->type();
    const bool is_signed = type == FieldDescriptor::TYPE_INT32 || type == FieldDescriptor::TYPE_INT64 ||
                           type == FieldDescriptor::TYPE_SINT32 || type == FieldDescriptor::TYPE_SINT64 ||
                           type == FieldDescriptor::TYPE_SFIXED32 || type == FieldDescriptor::TYPE_SFIXED64;
    const int bits = (type == FieldDescriptor::TYPE_INT32 || type == FieldDescriptor::TYPE_SINT32 ||
                      type == FieldDescriptor::TYPE_SFIXED32 || type == FieldDescriptor::TYPE_UINT32 ||
                      type == FieldDescriptor::TYPE_FIXED32)
                         ? 32
                         : 64;
    RETURN_IF_ERROR(Integer(f, is_signed, bits, &v));
    *present = v != 0 || f->has_presence();
    switch (type) {
      case FieldDescriptor::TYPE_SINT32:
      case FieldDescriptor::TYPE_SINT64: {
        AppendVarint(*out, ZigZag(static_cast<int64_t>(v)));
        break;
      }
      case FieldDescriptor::TYPE_FIXED64:
      case FieldDescriptor::TYPE_SFIXED64: AppendFixed<uint64_t>(*out, v); break;
      case FieldDescriptor::TYPE_FIXED32:
      case FieldDescriptor::TYPE_SFIXED32: AppendFixed(*out, static_cast<uint32_t>(v)); break;
      case FieldDescriptor::TYPE_INT32: AppendVarint(*out, static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)))); break;
      default: AppendVarint(*out, v);
    }
    return absl::OkStatus();
  }

  // One (non-null) value of field `f` with its tag.
  absl::Status Field(const FieldDescriptor* f, std::string* out, int depth) {
    if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
      std::string& sub = Scratch(depth);
      sub.clear();
      RETURN_IF_ERROR(Message(f->message_type(), &sub, depth + 1));
      PutTag(f, kLen, out);
      AppendVarint(*out, sub.size());
      out->append(sub);
      return absl::OkStatus();
    }
    std::string& value = Scratch(depth);
    value.clear();
    bool present;
    RETURN_IF_ERROR(Scalar(f, &value, &present));
    if (present || f->is_repeated()) {
      PutTag(f, WireTypeOf(f), out);
      out->append(value);
    }
    return absl::OkStatus();
  }

  absl::Status Message(const Descriptor* type, std::string* out, int depth) {
    if (!Eat('{')) return Bad("expected '{'");
    Nesting nest(&nesting_);
    if (nest.too_deep()) return TooDeep();
    const Fields& fields = index_.at(type);
    if (Eat('}')) return absl::OkStatus();
    while (true) {
      std::string_view key;
      RETURN_IF_ERROR(String(&key, &key_scratch_));
      if (!Eat(':')) return Bad("expected ':'");
      auto it = fields.by_key.find(key);
      if (it == fields.by_key.end()) {
        RETURN_IF_ERROR(Skip());  // unknown fields are ignored
      } else if (AtNull()) {
        // null: the field is absent
      } else if (it->second->is_repeated()) {
        RETURN_IF_ERROR(Repeated(it->second, out, depth));
      } else {
        RETURN_IF_ERROR(Field(it->second, out, depth));
      }
      if (Eat(',')) continue;
      if (Eat('}')) return absl::OkStatus();
      return Bad("expected ',' or '}'");
    }
  }

  absl::Status Repeated(const FieldDescriptor* f, std::string* out, int depth) {
    if (!Eat('[')) return BadField(f, "expects an array");
    Nesting nest(&nesting_);
    if (nest.too_deep()) return TooDeep();
    if (Eat(']')) return absl::OkStatus();
    const bool packed = WireTypeOf(f) != kLen;
    std::string& values = Scratch(depth + 1);  // packed elements
    if (packed) values.clear();
    while (true) {
      if (packed) {
        bool present;
        RETURN_IF_ERROR(Scalar(f, &values, &present));
      } else {
        RETURN_IF_ERROR(Field(f, out, depth + 1));
      }
      if (Eat(',')) continue;
      if (Eat(']')) break;
      return Bad("expected ',' or ']'");
    }
    if (packed) {
      PutTag(f, kLen, out);
      AppendVarint(*out, values.size());
      out->append(values);
    }
    return absl::OkStatus();
  }

  // Passes over any JSON value, checking its syntax.
  absl::Status Skip() {
    Ws();
    if (p_ >= s_.size()) return Bad("unexpected end");
    const char c = s_[p_];
    if (c == '"') {
      std::string_view ignored;
      return String(&ignored, &scratch_);
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++p_;
      Nesting nest(&nesting_);
      if (nest.too_deep()) return TooDeep();
      if (Eat(close)) return absl::OkStatus();
      while (true) {
        if (c == '{') {
          std::string_view ignored;
          RETURN_IF_ERROR(String(&ignored, &key_scratch_));
          if (!Eat(':')) return Bad("expected ':'");
        }
        RETURN_IF_ERROR(Skip());
        if (Eat(',')) continue;
        if (Eat(close)) return absl::OkStatus();
        return Bad(c == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
    if (Literal("true") || Literal("false") || Literal("null")) return absl::OkStatus();
    std::string_view number;
    if (NumberToken(&number)) return absl::OkStatus();
    return Bad("unexpected character");
  }

  // Counts the objects and arrays open around the parser, which bounds its
  // recursion (kMaxJsonDepth).
  class Nesting {
   public:
    explicit Nesting(int* open) : open_(open) { ++*open_; }
    ~Nesting() { --*open_; }
    bool too_deep() const { return *open_ > kMaxJsonDepth; }

   private:
    int* open_;
  };
  static absl::Status TooDeep() {
    return absl::InvalidArgumentError(StrCat("JSON nesting deeper than ", kMaxJsonDepth, " levels"));
  }

  // A buffer for nested message bytes and packed arrays per call depth.
  std::string& Scratch(int depth) {
    if (static_cast<size_t>(depth) >= scratch_by_depth_.size()) scratch_by_depth_.resize(static_cast<size_t>(depth) + 1);
    return scratch_by_depth_[static_cast<size_t>(depth)];
  }

  std::string_view s_;
  size_t p_ = 0;
  int nesting_ = 0;
  const Index& index_;
  std::string scratch_, key_scratch_;
  // A buffer per nesting level for nested messages and packed arrays (a
  // deque: growing it keeps references to the outer levels' buffers valid).
  std::deque<std::string> scratch_by_depth_;
};

}  // namespace

absl::Status OtlpJsonToWire(std::string_view body, const google::protobuf::Descriptor* type, std::string* out) {
  Transcoder t(body, IndexFor(type));
  return t.Root(type, out);
}

absl::Status ParseOtlpJson(std::string_view body, google::protobuf::Message* out) {
  std::string wire;
  RETURN_IF_ERROR(OtlpJsonToWire(body, out->GetDescriptor(), &wire));
  if (!out->ParseFromString(wire)) return absl::InvalidArgumentError("invalid OTLP JSON: values out of range");
  return absl::OkStatus();
}

}  // namespace signaldb::acceptor
