#include "schema/registry.h"

#include <algorithm>
#include <set>
#include <toml++/toml.h>

#include "common/strings.h"

namespace signaldb::schema {
namespace {

using columnar::ColumnType;

// Field ids above this are reserved by the Iceberg spec.
constexpr int64_t kMaxFieldId = 2147483447;

// A version as written in the file, before inheritance is applied.
struct RawVersion {
  std::string parent;
  std::vector<std::pair<std::string, std::string>> renames;  // (old, new)
  std::vector<FieldDef> own;
  int line = 0;
};

using RawTable = std::map<std::string, RawVersion, std::less<>>;

class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

  absl::Status Error(int line, std::string_view what) const {
    if (line > 0) return absl::InvalidArgumentError(StrCat(source_, ":", line, ": ", what));
    return absl::InvalidArgumentError(StrCat(source_, ": ", what));
  }
  static int LineOf(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

  absl::Status ParseDocument(const toml::table& doc, std::map<std::string, RawTable, std::less<>>* tables,
                             std::map<std::string, std::string, std::less<>>* current) const {
    bool have_metadata = false;
    for (const auto& [key, node] : doc) {
      const std::string name(key.str());
      if (name == "metadata") {
        have_metadata = true;
        if (auto st = ParseMetadata(node, current); !st.ok()) return st;
        continue;
      }
      if (!ValidIdentifier(name)) return Error(LineOf(node), StrCat("bad table name \"", name, "\""));
      const toml::table* versions = node.as_table();
      if (versions == nullptr || versions->empty()) {
        return Error(LineOf(node), StrCat("table ", name, " must hold versions ([", name, ".v1], ...)"));
      }
      RawTable& raw = (*tables)[name];
      for (const auto& [vkey, vnode] : *versions) {
        const std::string version(vkey.str());
        const toml::table* body = vnode.as_table();
        if (body == nullptr) return Error(LineOf(vnode), StrCat(name, ".", version, " is not a table"));
        RawVersion rv;
        rv.line = LineOf(vnode);
        if (auto st = ParseVersion(StrCat(name, ".", version), *body, &rv); !st.ok()) return st;
        raw.emplace(version, std::move(rv));
      }
    }
    if (!have_metadata) return Error(0, "missing [metadata] with current = { <table> = \"<version>\", ... }");
    return absl::OkStatus();
  }

 private:
  static bool ValidIdentifier(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
  }

  absl::Status ParseMetadata(const toml::node& node,
                             std::map<std::string, std::string, std::less<>>* current) const {
    const toml::table* meta = node.as_table();
    if (meta == nullptr) return Error(LineOf(node), "[metadata] must be a table");
    for (const auto& [key, value] : *meta) {
      if (key.str() != "current") return Error(LineOf(value), StrCat("unknown key metadata.", key.str()));
      const toml::table* map = value.as_table();
      if (map == nullptr) return Error(LineOf(value), "metadata.current must map tables to versions");
      for (const auto& [table, version] : *map) {
        auto v = version.value<std::string>();
        if (!v) return Error(LineOf(version), StrCat("metadata.current.", table.str(), " must be a string"));
        (*current)[std::string(table.str())] = *v;
      }
    }
    return absl::OkStatus();
  }

  absl::Status ParseVersion(const std::string& where, const toml::table& body, RawVersion* rv) const {
    for (const auto& [key, value] : body) {
      const std::string_view k = key.str();
      if (k == "inherits") {
        auto parent = value.value<std::string>();
        if (!parent || parent->empty()) return Error(LineOf(value), StrCat(where, ".inherits must name a version"));
        rv->parent = *parent;
      } else if (k == "renames") {
        const toml::table* renames = value.as_table();
        if (renames == nullptr) return Error(LineOf(value), StrCat(where, ".renames must map old names to new"));
        for (const auto& [from, to] : *renames) {
          auto target = to.value<std::string>();
          if (!target || !ValidIdentifier(*target)) {
            return Error(LineOf(to), StrCat(where, " renames ", from.str(), " to a bad name"));
          }
          rv->renames.emplace_back(std::string(from.str()), *target);
        }
      } else if (k == "fields") {
        const toml::array* fields = value.as_array();
        if (fields == nullptr) return Error(LineOf(value), StrCat(where, ".fields must be an array"));
        for (const auto& f : *fields) {
          FieldDef def;
          if (auto st = ParseField(where, f, &def); !st.ok()) return st;
          rv->own.push_back(std::move(def));
        }
      } else {
        return Error(LineOf(value), StrCat("unknown key ", k, " in ", where));
      }
    }
    return absl::OkStatus();
  }

  absl::Status ParseField(const std::string& where, const toml::node& node, FieldDef* def) const {
    const toml::table* f = node.as_table();
    const int line = LineOf(node);
    if (f == nullptr) return Error(line, StrCat(where, ": a field must be { id, name, type, ... }"));
    auto name = (*f)["name"].value<std::string>();
    if (!name || !ValidIdentifier(*name)) return Error(line, StrCat(where, ": a field has no valid name"));
    def->name = *name;
    const std::string field = StrCat(where, ".", def->name);
    for (const auto& [key, value] : *f) {
      const std::string_view k = key.str();
      if (k != "id" && k != "name" && k != "type" && k != "required" && k != "computed" && k != "key_id" &&
          k != "value_id") {
        return Error(line, StrCat("unknown key ", k, " in field ", field));
      }
    }
    auto id = (*f)["id"].value<int64_t>();
    if (!id || *id < 1 || *id > kMaxFieldId) {
      return Error(line, StrCat(field, ": id must be an integer in 1..", kMaxFieldId));
    }
    def->id = static_cast<int32_t>(*id);
    auto type = (*f)["type"].value<std::string>();
    if (!type) return Error(line, StrCat(field, " has no type"));
    auto parsed = ParseTypeName(*type);
    if (!parsed) {
      return Error(line, StrCat(field, " has unknown type \"", *type,
                                      "\" (string, int, long, double, boolean, date, timestamptz, "
                                      "map<string,string|long|double|boolean>)"));
    }
    def->type = *parsed;
    // A map also names the field ids of its key and value.
    for (auto [key, out] : {std::pair{"key_id", &def->key_id}, std::pair{"value_id", &def->value_id}}) {
      auto v = (*f)[key].value<int64_t>();
      if (!columnar::IsMap(def->type)) {
        if ((*f)[key]) return Error(line, StrCat(field, ": ", key, " is only for map fields"));
        continue;
      }
      if (!v || *v < 1 || *v > kMaxFieldId) {
        return Error(line, StrCat(field, ": a map needs ", key, ", an integer in 1..", kMaxFieldId));
      }
      *out = static_cast<int32_t>(*v);
    }
    if (auto req = (*f)["required"]; req) {
      if (!req.is_boolean()) return Error(line, StrCat(field, ": required must be true or false"));
      def->required = *req.value<bool>();
    }
    if (auto computed = (*f)["computed"]; computed) {
      auto expr = computed.value<std::string>();
      if (!expr) return Error(line, StrCat(field, ": computed must be a string"));
      auto open = expr->find('('), close = expr->rfind(')');
      if (open == std::string::npos || close != expr->size() - 1 || close <= open + 1) {
        return Error(line, StrCat(field, ": computed must read fn(field), not \"", *expr, "\""));
      }
      const std::string fn = expr->substr(0, open);
      Computed c;
      c.source = expr->substr(open + 1, close - open - 1);
      if (fn == "micros") {
        c.transform = Transform::kMicros;
      } else if (fn == "day") {
        c.transform = Transform::kDay;
      } else if (fn == "hour_of_day") {
        c.transform = Transform::kHourOfDay;
      } else {
        return Error(line, StrCat(field, ": unknown computed function \"", fn, "\" (micros, day, hour_of_day)"));
      }
      def->computed = std::move(c);
    }
    return absl::OkStatus();
  }

  std::string source_;
};

// Resolves versions depth-first; `state` marks versions in progress to catch cycles.
class Resolver {
 public:
  Resolver(const Parser& parser, const std::string& table, const RawTable& raw,
           std::map<std::string, TableVersion, std::less<>>* out)
      : parser_(parser), table_(table), raw_(raw), out_(out) {}

  absl::Status Resolve(const std::string& version) {
    if (out_->count(version)) return absl::OkStatus();
    const RawVersion& rv = raw_.at(version);
    const std::string where = StrCat(table_, ".", version);
    if (!in_progress_.insert(version).second) {
      return parser_.Error(rv.line, StrCat(where, ": inheritance cycle"));
    }
    TableVersion tv;
    tv.table = table_;
    tv.version = version;
    tv.parent = rv.parent;
    if (!rv.parent.empty()) {
      if (!raw_.count(rv.parent)) {
        return parser_.Error(rv.line, StrCat(where, " inherits unknown version ", table_, ".", rv.parent));
      }
      if (auto st = Resolve(rv.parent); !st.ok()) return st;
      tv.fields = out_->at(rv.parent).fields;
    }
    for (const auto& [from, to] : rv.renames) {
      auto it = std::find_if(tv.fields.begin(), tv.fields.end(), [&](const FieldDef& f) { return f.name == from; });
      if (it == tv.fields.end()) {
        return parser_.Error(rv.line, StrCat(where, " renames ", from, ", which ",
                                                   rv.parent.empty() ? "it does not inherit" : rv.parent + " does not have"));
      }
      it->name = to;
      // Computed fields follow their source's new name.
      for (auto& f : tv.fields) {
        if (f.computed && f.computed->source == from) f.computed->source = to;
      }
    }
    for (const auto& f : rv.own) tv.fields.push_back(f);
    std::map<int32_t, std::string> ids;
    std::set<std::string> names;
    for (const auto& f : tv.fields) {
      for (int32_t id : {f.id, f.key_id, f.value_id}) {
        if (id == 0) continue;  // no key or value
        if (auto [it, fresh] = ids.emplace(id, f.name); !fresh) {
          return parser_.Error(rv.line, StrCat(where, ": duplicate field id ", id, " (", it->second, " and ",
                                                     f.name, ")"));
        }
      }
      if (!names.insert(f.name).second) return parser_.Error(rv.line, StrCat(where, ": duplicate field ", f.name));
    }
    for (const auto& f : tv.fields) {
      if (auto st = CheckComputed(where, rv.line, tv, f); !st.ok()) return st;
    }
    in_progress_.erase(version);
    out_->emplace(version, std::move(tv));
    return absl::OkStatus();
  }

 private:
  absl::Status CheckComputed(const std::string& where, int line, const TableVersion& tv, const FieldDef& f) const {
    if (!f.computed) return absl::OkStatus();
    auto src = std::find_if(tv.fields.begin(), tv.fields.end(),
                            [&](const FieldDef& s) { return s.name == f.computed->source; });
    if (src == tv.fields.end()) {
      return parser_.Error(line, StrCat(where, ".", f.name, " is computed from unknown field ", f.computed->source));
    }
    ColumnType in = ColumnType::kTimestampMicros, out = ColumnType::kTimestampMicros;
    switch (f.computed->transform) {
      case Transform::kMicros: in = ColumnType::kInt64; out = ColumnType::kTimestampMicros; break;
      case Transform::kDay: in = ColumnType::kTimestampMicros; out = ColumnType::kDate; break;
      case Transform::kHourOfDay: in = ColumnType::kTimestampMicros; out = ColumnType::kInt32; break;
    }
    if (src->type != in || f.type != out) {
      return parser_.Error(line, StrCat(where, ".", f.name, ": computed from ", src->name, " needs a ",
                                              TypeName(in), " source and a ", TypeName(out), " result"));
    }
    return absl::OkStatus();
  }

  const Parser& parser_;
  const std::string& table_;
  const RawTable& raw_;
  std::map<std::string, TableVersion, std::less<>>* out_;
  std::set<std::string> in_progress_;
};

// An id means one field for the life of a table: every version that declares
// it must declare the same field.
absl::Status CheckIdsNotReused(const Parser& parser, const std::string& table, const RawTable& raw) {
  std::map<int32_t, std::pair<std::string, const FieldDef*>> seen;  // id -> (version, field)
  for (const auto& [version, rv] : raw) {
    for (const auto& f : rv.own) {
      // A map's key and value ids belong to it just like its own id.
      for (int32_t extra : {f.key_id, f.value_id}) {
        if (extra == 0) continue;
        auto [it, fresh] = seen.emplace(extra, std::make_pair(version, &f));
        if (!fresh && it->second.second->name != f.name) {
          return parser.Error(rv.line, StrCat(table, ".", version, ": field id ", extra, " (", f.name,
                                                    ") was already given to ", it->second.second->name, " in ", table,
                                                    ".", it->second.first, "; field ids are never reused"));
        }
      }
      auto [it, fresh] = seen.emplace(f.id, std::make_pair(version, &f));
      if (fresh) continue;
      const FieldDef& prev = *it->second.second;
      if (prev.name != f.name || prev.type != f.type || prev.required != f.required || prev.key_id != f.key_id ||
          prev.value_id != f.value_id) {
        return parser.Error(rv.line, StrCat(table, ".", version, ": field id ", f.id, " (", f.name,
                                                  ") was already given to ", prev.name, " in ", table, ".",
                                                  it->second.first, "; field ids are never reused"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

const char* TypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kString: return "string";
    case ColumnType::kInt32: return "int";
    case ColumnType::kInt64: return "long";
    case ColumnType::kDouble: return "double";
    case ColumnType::kBool: return "boolean";
    case ColumnType::kTimestampMicros: return "timestamptz";
    case ColumnType::kDate: return "date";
    case ColumnType::kMapString: return "map<string,string>";
    case ColumnType::kMapInt64: return "map<string,long>";
    case ColumnType::kMapDouble: return "map<string,double>";
    case ColumnType::kMapBool: return "map<string,boolean>";
  }
  return "string";
}

std::optional<ColumnType> ParseTypeName(std::string_view name) {
  for (ColumnType t : {ColumnType::kString, ColumnType::kInt32, ColumnType::kInt64, ColumnType::kDouble,
                       ColumnType::kBool, ColumnType::kTimestampMicros, ColumnType::kDate, ColumnType::kMapString,
                       ColumnType::kMapInt64, ColumnType::kMapDouble, ColumnType::kMapBool}) {
    if (name == TypeName(t)) return t;
  }
  return std::nullopt;
}

columnar::Schema TableVersion::ToSchema() const {
  columnar::Schema s;
  s.table = table;
  for (const auto& f : fields) s.columns.push_back({f.name, f.type, f.required, f.id, f.key_id, f.value_id});
  return s;
}

absl::StatusOr<SchemaSet> SchemaSet::Parse(std::string_view toml_text, std::string_view source) {
  Parser parser(source);
  toml::table doc;
  try {
    doc = toml::parse(toml_text, source);
  } catch (const toml::parse_error& err) {
    return parser.Error(static_cast<int>(err.source().begin.line), err.description());
  }
  std::map<std::string, RawTable, std::less<>> raw;
  SchemaSet set;
  if (auto st = parser.ParseDocument(doc, &raw, &set.current_); !st.ok()) return st;
  for (const auto& [table, versions] : raw) {
    Resolver resolver(parser, table, versions, &set.tables_[table]);
    for (const auto& [version, rv] : versions) {
      if (auto st = resolver.Resolve(version); !st.ok()) return st;
    }
    if (auto st = CheckIdsNotReused(parser, table, versions); !st.ok()) return st;
    if (!set.current_.count(table)) {
      return parser.Error(0, StrCat("metadata.current has no version for table ", table));
    }
  }
  for (const auto& [table, version] : set.current_) {
    if (!set.tables_.count(table)) return parser.Error(0, StrCat("metadata.current names unknown table ", table));
    if (set.Find(table, version) == nullptr) {
      return parser.Error(0, StrCat("metadata.current names unknown version ", table, ".", version));
    }
  }
  return set;
}

const TableVersion* SchemaSet::Find(std::string_view table, std::string_view version) const {
  auto t = tables_.find(table);
  if (t == tables_.end()) return nullptr;
  auto v = t->second.find(version);
  return v == t->second.end() ? nullptr : &v->second;
}

const TableVersion* SchemaSet::Current(std::string_view table) const {
  auto it = current_.find(table);
  return it == current_.end() ? nullptr : Find(table, it->second);
}

std::vector<std::string> SchemaSet::Tables() const {
  std::vector<std::string> out;
  for (const auto& [name, versions] : tables_) out.push_back(name);
  return out;
}

}  // namespace signaldb::schema
