#include "traceql/lexer.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>

#include "common/strings.h"

namespace signaldb::traceql {
namespace {

struct Keyword {
  Tok kind;
  const char* name;  // the token's name in syntax errors
};

const std::map<std::string, Keyword, std::less<>>& Keywords() {
  static const auto* table = new std::map<std::string, Keyword, std::less<>>{
      {"true", {Tok::kTrue, "TRUE"}},
      {"false", {Tok::kFalse, "FALSE"}},
      {"nil", {Tok::kNil, "NIL"}},
      {"ok", {Tok::kStatusOk, "STATUS_OK"}},
      {"error", {Tok::kStatusError, "STATUS_ERROR"}},
      {"unset", {Tok::kStatusUnset, "STATUS_UNSET"}},
      {"unspecified", {Tok::kKindUnspecified, "KIND_UNSPECIFIED"}},
      {"internal", {Tok::kKindInternal, "KIND_INTERNAL"}},
      {"server", {Tok::kKindServer, "KIND_SERVER"}},
      {"client", {Tok::kKindClient, "KIND_CLIENT"}},
      {"producer", {Tok::kKindProducer, "KIND_PRODUCER"}},
      {"consumer", {Tok::kKindConsumer, "KIND_CONSUMER"}},
      {"duration", {Tok::kIntrinsic, "IDURATION"}},
      {"childCount", {Tok::kIntrinsic, "CHILDCOUNT"}},
      {"name", {Tok::kIntrinsic, "NAME"}},
      {"status", {Tok::kIntrinsic, "STATUS"}},
      {"statusMessage", {Tok::kIntrinsic, "STATUS_MESSAGE"}},
      {"kind", {Tok::kIntrinsic, "KIND"}},
      {"rootName", {Tok::kIntrinsic, "ROOTNAME"}},
      {"rootServiceName", {Tok::kIntrinsic, "ROOTSERVICENAME"}},
      {"traceDuration", {Tok::kIntrinsic, "TRACEDURATION"}},
      {"nestedSetLeft", {Tok::kIntrinsic, "NESTEDSETLEFT"}},
      {"nestedSetRight", {Tok::kIntrinsic, "NESTEDSETRIGHT"}},
      {"nestedSetParent", {Tok::kIntrinsic, "NESTEDSETPARENT"}},
      {"parent", {Tok::kIntrinsic, "PARENT"}},
      {"count", {Tok::kCount, "COUNT"}},
      {"avg", {Tok::kAvg, "AVG"}},
      {"max", {Tok::kMax, "MAX"}},
      {"min", {Tok::kMin, "MIN"}},
      {"sum", {Tok::kSum, "SUM"}},
      {"by", {Tok::kBy, "BY"}},
      {"coalesce", {Tok::kCoalesce, "COALESCE"}},
      {"select", {Tok::kSelect, "SELECT"}},
      {"with", {Tok::kWith, "WITH"}},
      {"rate", {Tok::kMetricsFn, "RATE"}},
      {"count_over_time", {Tok::kMetricsFn, "COUNT_OVER_TIME"}},
      {"min_over_time", {Tok::kMetricsFn, "MIN_OVER_TIME"}},
      {"max_over_time", {Tok::kMetricsFn, "MAX_OVER_TIME"}},
      {"sum_over_time", {Tok::kMetricsFn, "SUM_OVER_TIME"}},
      {"avg_over_time", {Tok::kMetricsFn, "AVG_OVER_TIME"}},
      {"quantile_over_time", {Tok::kMetricsFn, "QUANTILE_OVER_TIME"}},
      {"histogram_over_time", {Tok::kMetricsFn, "HISTOGRAM_OVER_TIME"}},
      {"compare", {Tok::kMetricsFn, "COMPARE"}},
      {"topk", {Tok::kTopK, "TOPK"}},
      {"bottomk", {Tok::kBottomK, "BOTTOMK"}},
  };
  return *table;
}

struct Operator {
  const char* text;
  Tok kind;
  const char* name;
};

// Longest first, so a prefix never shadows a longer operator.
constexpr Operator kOperators[] = {
    {"!>>", Tok::kNotDesc, "NOT_DESC"},     {"!<<", Tok::kNotAnce, "NOT_ANCE"},
    {"&>>", Tok::kUnionDesc, "UNION_DESC"}, {"&<<", Tok::kUnionAnce, "UNION_ANCE"},
    {"!=", Tok::kNeq, "NEQ"},               {"=~", Tok::kRegex, "RE"},
    {"!~", Tok::kNotRegex, "NRE"},          {">=", Tok::kGte, "GTE"},
    {"<=", Tok::kLte, "LTE"},               {"&&", Tok::kAnd, "AND"},
    {"||", Tok::kOr, "OR"},                 {">>", Tok::kDesc, "DESC"},
    {"<<", Tok::kAnce, "ANCE"},             {"!>", Tok::kNotChild, "NOT_CHILD"},
    {"!<", Tok::kNotParent, "NOT_PARENT"},  {"&>", Tok::kUnionChild, "UNION_CHILD"},
    {"&<", Tok::kUnionParent, "UNION_PARENT"}, {"&~", Tok::kUnionSibling, "UNION_SIBL"},
    {",", Tok::kComma, "COMMA"},            {"{", Tok::kOpenBrace, "OPEN_BRACE"},
    {"}", Tok::kCloseBrace, "CLOSE_BRACE"}, {"(", Tok::kOpenParen, "OPEN_PARENS"},
    {")", Tok::kCloseParen, "CLOSE_PARENS"}, {"=", Tok::kEq, "EQ"},
    {">", Tok::kGt, "GT"},                  {"<", Tok::kLt, "LT"},
    {"+", Tok::kAdd, "ADD"},                {"-", Tok::kSub, "SUB"},
    {"/", Tok::kDiv, "DIV"},                {"%", Tok::kMod, "MOD"},
    {"*", Tok::kMul, "MUL"},                {"^", Tok::kPow, "POW"},
    {"!", Tok::kNot, "NOT"},                {"|", Tok::kPipe, "PIPE"},
    {"~", Tok::kSibling, "TILDE"},
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// Letters of identifiers; bytes of multi-byte UTF-8 characters count as letters.
bool IsLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
// Characters an unquoted attribute name may hold.
bool IsAttributeChar(char c) {
  if (IsSpace(c)) return false;
  switch (c) {
    case '{': case '}': case '(': case ')': case '=': case '~': case '!': case '<': case '>': case '&': case '|':
    case '^': case ',':
      return false;
    default:
      return true;
  }
}
// Characters that may continue a number into a duration ("1h15m30.9s", "5µs").
bool IsDurationChar(char c) {
  switch (c) {
    case 'n': case 's': case 'u': case 'm': case 'h': case 'd': case 'w': case 'y': case '.':
      return true;
    default:
      return IsDigit(c) || static_cast<unsigned char>(c) == 0xc2 || static_cast<unsigned char>(c) == 0xb5 ||
             static_cast<unsigned char>(c) == 0xce || static_cast<unsigned char>(c) == 0xbc;  // µ (U+00B5), μ (U+03BC)
  }
}

// Prometheus' form: integer counts of y w d h m s ms, each at most once, in that order.
bool ParsePrometheusDuration(std::string_view s, int64_t* ns) {
  if (s == "0") {
    *ns = 0;
    return true;
  }
  struct Unit {
    const char* name;
    int64_t ns;
  };
  static constexpr Unit kUnits[] = {{"y", 365LL * 86400 * 1000000000}, {"w", 7LL * 86400 * 1000000000},
                                    {"d", 86400LL * 1000000000},       {"h", 3600LL * 1000000000},
                                    {"m", 60LL * 1000000000},          {"s", 1000000000LL},
                                    {"ms", 1000000LL}};
  size_t next_unit = 0, i = 0;
  int64_t total = 0;
  bool any = false;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
    std::string_view digits = s.substr(start, i - start);
    size_t ustart = i;
    while (i < s.size() && !IsDigit(s[i])) ++i;
    std::string_view unit = s.substr(ustart, i - ustart);
    size_t u = next_unit;
    while (u < std::size(kUnits) && unit != kUnits[u].name) ++u;
    if (u == std::size(kUnits)) return false;
    next_unit = u + 1;
    if (digits.size() > 18) return false;
    int64_t n = std::stoll(std::string(digits));
    if (n > INT64_MAX / kUnits[u].ns || total > INT64_MAX - n * kUnits[u].ns) return false;
    total += n * kUnits[u].ns;
    any = true;
  }
  if (!any) return false;
  *ns = total;
  return true;
}

// Go's time.ParseDuration: decimal numbers with optional fractions, each
// with a unit (ns us µs ms s m h), optionally signed.
bool ParseGoDuration(std::string_view s, int64_t* ns) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  if (s.substr(i) == "0") {
    *ns = 0;
    return true;
  }
  if (i == s.size()) return false;
  long double total = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (IsDigit(s[i]) || s[i] == '.')) ++i;
    std::string_view number = s.substr(start, i - start);
    if (number.empty() || number == "." || number.find('.') != number.rfind('.')) return false;
    size_t ustart = i;
    while (i < s.size() && !IsDigit(s[i]) && s[i] != '.') ++i;
    std::string_view unit = s.substr(ustart, i - ustart);
    long double scale;
    if (unit == "ns") scale = 1;
    else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") scale = 1e3L;
    else if (unit == "ms") scale = 1e6L;
    else if (unit == "s") scale = 1e9L;
    else if (unit == "m") scale = 60e9L;
    else if (unit == "h") scale = 3600e9L;
    else return false;
    total += std::strtold(std::string(number).c_str(), nullptr) * scale;
  }
  if (total > static_cast<long double>(INT64_MAX)) return false;
  *ns = static_cast<int64_t>(negative ? -total : total);
  return true;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      SkipSpaceAndComments();
      if (!error_.empty()) return Error();
      Token t;
      t.line = line_;
      t.col = col_;
      tok_line_ = line_;
      tok_col_ = col_;
      if (pos_ >= s_.size()) {
        t.kind = Tok::kEnd;
        out.push_back(std::move(t));
        return out;
      }
      if (!Next(&t)) return Error();
      out.push_back(std::move(t));
    }
  }

 private:
  char Peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
  bool AtEnd(size_t ahead = 0) const { return pos_ + ahead >= s_.size(); }
  void Advance(size_t n = 1) {
    for (size_t k = 0; k < n && pos_ < s_.size(); ++k) {
      const char c = s_[pos_++];
      if (c == '\n') {
        ++line_;
        col_ = 1;
      } else if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) {
        ++col_;  // columns count characters, not UTF-8 continuation bytes
      }
    }
  }
  bool Fail(std::string msg) {
    error_ = std::move(msg);
    return false;
  }
  absl::Status Error() const {
    return absl::InvalidArgumentError(StrCat("parse error at line ", tok_line_, ", col ", tok_col_, ": ", error_));
  }

  void SkipSpaceAndComments() {
    while (!AtEnd()) {
      if (IsSpace(Peek())) {
        Advance();
      } else if (Peek() == '/' && Peek(1) == '/') {
        while (!AtEnd() && Peek() != '\n') Advance();
      } else if (Peek() == '/' && Peek(1) == '*') {
        tok_line_ = line_;
        tok_col_ = col_;
        Advance(2);
        while (!AtEnd() && !(Peek() == '*' && Peek(1) == '/')) Advance();
        if (AtEnd()) {
          Fail("comment not terminated");
          return;
        }
        Advance(2);
      } else {
        return;
      }
    }
  }

  bool Next(Token* t) {
    const char c = Peek();
    if (c == '"' || c == '`') return String(t);
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) return Number(t);
    if (c == '.') {
      Advance();
      t->scope = Scope::kNone;
      return Attribute(t);
    }
    if (IsLetter(c)) return Word(t);
    if (c == '\'') return Fail("syntax error: unexpected IDENTIFIER (strings are quoted with \" or `)");
    for (const Operator& op : kOperators) {
      if (s_.substr(pos_).starts_with(op.text)) {
        t->kind = op.kind;
        t->text = op.text;
        Advance(std::string_view(op.text).size());
        return true;
      }
    }
    return Fail(StrCat("syntax error: unexpected character '", std::string(1, c), "'"));
  }

  // "..." with Go's escapes, or `...` taken as is.
  bool String(Token* t) {
    const char quote = Peek();
    Advance();
    std::string out;
    while (true) {
      if (AtEnd()) return Fail("literal not terminated");
      char c = Peek();
      if (c == quote) {
        Advance();
        break;
      }
      if (quote == '"' && c == '\n') return Fail("literal not terminated");
      if (quote == '`' || c != '\\') {
        out += c;
        Advance();
        continue;
      }
      Advance();  // the backslash
      if (AtEnd()) return Fail("literal not terminated");
      c = Peek();
      Advance();
      switch (c) {
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '"': out += '"'; break;
        case 'x': case 'u': case 'U': {
          const int digits = c == 'x' ? 2 : (c == 'u' ? 4 : 8);
          uint32_t v = 0;
          for (int k = 0; k < digits; ++k) {
            char h = Peek();
            int d = IsDigit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
            if (d < 0) return Fail("invalid syntax");
            v = v * 16 + static_cast<uint32_t>(d);
            Advance();
          }
          if (c == 'x') {
            out += static_cast<char>(v);
          } else if (!AppendUtf8(out, v)) {
            return Fail("invalid syntax");
          }
          break;
        }
        default:
          if (c >= '0' && c <= '7') {
            uint32_t v = static_cast<uint32_t>(c - '0');
            for (int k = 0; k < 2; ++k) {
              if (Peek() < '0' || Peek() > '7') return Fail("invalid syntax");
              v = v * 8 + static_cast<uint32_t>(Peek() - '0');
              Advance();
            }
            if (v > 255) return Fail("invalid syntax");
            out += static_cast<char>(v);
            break;
          }
          return Fail("invalid syntax");
      }
    }
    t->kind = Tok::kString;
    t->text = std::move(out);
    return true;
  }

  static bool AppendUtf8(std::string& out, uint32_t cp) {
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
    return true;
  }

  // An integer or float, and a duration when unit letters follow at once.
  bool Number(Token* t) {
    const size_t start = pos_;
    bool is_float = false;
    if (Peek() == '0' && (Peek(1) == 'x' || Peek(1) == 'X')) {
      Advance(2);
      while (!AtEnd() && std::isxdigit(static_cast<unsigned char>(Peek()))) Advance();
    } else {
      while (IsDigit(Peek())) Advance();
      if (Peek() == '.') {
        is_float = true;
        Advance();
        while (IsDigit(Peek())) Advance();
      }
      if ((Peek() == 'e' || Peek() == 'E') &&
          (IsDigit(Peek(1)) || ((Peek(1) == '+' || Peek(1) == '-') && IsDigit(Peek(2))))) {
        is_float = true;
        Advance(2);
        while (IsDigit(Peek())) Advance();
      }
    }
    const std::string number(s_.substr(start, pos_ - start));
    // A duration: the number and what follows up to a space or a character
    // no duration has, if that parses as one.
    size_t end = pos_;
    while (end < s_.size() && IsDurationChar(s_[end])) ++end;
    if (end > pos_) {
      const std::string text = number + std::string(s_.substr(pos_, end - pos_));
      int64_t ns = 0;
      if (ParseDuration(text, &ns)) {
        Advance(end - pos_);
        t->kind = Tok::kDuration;
        t->text = text;
        t->duration_ns = ns;
        return true;
      }
    }
    t->text = number;
    if (is_float) {
      t->kind = Tok::kFloat;
      t->float_value = std::strtod(number.c_str(), nullptr);
      return true;
    }
    errno = 0;
    const long long v = std::strtoll(number.c_str(), nullptr, 0);
    if (errno == ERANGE) return Fail(StrCat("strconv.Atoi: parsing \"", number, "\": value out of range"));
    t->kind = Tok::kInt;
    t->int_value = v;
    return true;
  }

  // The name after a scope prefix: unquoted characters and quoted segments.
  bool Attribute(Token* t) {
    t->kind = Tok::kAttribute;
    std::string name;
    while (!AtEnd()) {
      const char c = Peek();
      if (c == '"') {
        Advance();
        while (true) {
          if (AtEnd()) return Fail("unexpected EOF, expecting \"");
          const char q = Peek();
          if (q == '"') {
            Advance();
            break;
          }
          if (q == '\\') {
            Advance();
            if (Peek() != '"' && Peek() != '\\') return Fail("invalid escape sequence");
          }
          name += Peek();
          Advance();
        }
      } else if (IsAttributeChar(c)) {
        name += c;
        Advance();
      } else {
        break;
      }
    }
    t->text = std::move(name);
    return true;
  }

  bool Word(Token* t) {
    const size_t start = pos_;
    while (!AtEnd() && (IsLetter(Peek()) || IsDigit(Peek()))) Advance();
    const std::string word(s_.substr(start, pos_ - start));
    // Scoped attributes: span.x, resource.x, ..., parent.span.x
    static const std::map<std::string, Scope, std::less<>> kScopes = {
        {"span", Scope::kSpan},   {"resource", Scope::kResource}, {"event", Scope::kEvent},
        {"link", Scope::kLink},   {"instrumentation", Scope::kInstrumentation}};
    if (Peek() == '.') {
      if (word == "parent") {
        Advance();
        t->parent = true;
        for (const char* inner : {"span.", "resource."}) {
          if (s_.substr(pos_).starts_with(inner)) {
            t->scope = std::string_view(inner) == "span." ? Scope::kSpan : Scope::kResource;
            Advance(std::string_view(inner).size());
            break;
          }
        }
        return Attribute(t);
      }
      if (auto it = kScopes.find(word); it != kScopes.end()) {
        Advance();
        t->scope = it->second;
        return Attribute(t);
      }
    }
    // Scoped intrinsics: span:duration, trace:id, ...
    if (Peek() == ':' && (word == "span" || word == "trace" || word == "event" || word == "link" ||
                          word == "instrumentation")) {
      Advance();
      const size_t nstart = pos_;
      while (!AtEnd() && (IsLetter(Peek()) || IsDigit(Peek()))) Advance();
      t->kind = Tok::kScopedIntrinsic;
      t->text = StrCat(word, ":", s_.substr(nstart, pos_ - nstart));
      return true;
    }
    t->text = word;
    if (auto it = Keywords().find(word); it != Keywords().end()) {
      t->kind = it->second.kind;
      return true;
    }
    t->kind = Tok::kIdent;
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
  int tok_line_ = 1, tok_col_ = 1;
  std::string error_;
};

}  // namespace

bool ParseDuration(std::string_view text, int64_t* ns) {
  return ParsePrometheusDuration(text, ns) || ParseGoDuration(text, ns);
}

std::string TokenName(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd: return "$end";
    case Tok::kIdent: return "IDENTIFIER";
    case Tok::kString: return "STRING";
    case Tok::kInt: return "INTEGER";
    case Tok::kFloat: return "FLOAT";
    case Tok::kDuration: return "DURATION";
    case Tok::kAttribute:
      if (t.parent) return "PARENT_DOT";
      switch (t.scope) {
        case Scope::kSpan: return "SPAN_DOT";
        case Scope::kResource: return "RESOURCE_DOT";
        case Scope::kEvent: return "EVENT_DOT";
        case Scope::kLink: return "LINK_DOT";
        case Scope::kInstrumentation: return "INSTRUMENTATION_DOT";
        case Scope::kNone: return "DOT";
      }
      return "DOT";
    case Tok::kScopedIntrinsic: {
      std::string name = t.text;
      for (char& c : name) c = c == ':' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return name;
    }
    default:
      break;
  }
  for (const Operator& op : kOperators) {
    if (op.kind == t.kind) return op.name;
  }
  if (auto it = Keywords().find(t.text); it != Keywords().end()) return it->second.name;
  return t.text;
}

absl::StatusOr<std::vector<Token>> Lex(std::string_view query) { return Lexer(query).Run(); }

}  // namespace signaldb::traceql
