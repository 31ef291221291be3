// Versioned table schemas as `schemas.toml` defines them: each table has
// named versions; a version may inherit another one, rename some of its
// fields and add fields of its own. Parse() reads and validates such a file
// and resolves every version to its full, ordered field list, from which a
// columnar::Schema (with the Iceberg field ids of the file) is built.
//
// Validation turns every inconsistency into an InvalidArgument error naming
// the table, version and field: an unknown parent or inheritance cycle, an
// unknown type or key, a duplicate field id or name, a rename of a field the
// parent does not have, a field id that means different fields in different
// versions (ids are never reused), a bad computed-field expression, and a
// current version that does not exist.
//
// Thread-safety: a SchemaSet is immutable after Parse(); share it freely.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "columnar/batch.h"

namespace signaldb::schema {

// How a computed column derives from its source column.
enum class Transform {
  kMicros,     // micros(nanoseconds): the microsecond timestamp, floored
  kDay,        // day(timestamp): days since the epoch, UTC
  kHourOfDay,  // hour_of_day(timestamp): 0-23, UTC
};

struct Computed {
  Transform transform;
  std::string source;  // a field of the same version
};

struct FieldDef {
  int32_t id = 0;
  std::string name;
  columnar::ColumnType type = columnar::ColumnType::kString;
  bool required = false;
  std::optional<Computed> computed;
  // Maps only: the field ids of the key and the value.
  int32_t key_id = 0;
  int32_t value_id = 0;
};

// One version of a table, resolved: its parent's fields (renamed), then its own.
struct TableVersion {
  std::string table;
  std::string version;
  std::string parent;  // empty for a base version
  std::vector<FieldDef> fields;

  // The columnar schema of this version: fields in order, with their ids.
  columnar::Schema ToSchema() const;
};

class SchemaSet {
 public:
  // Parses and validates a schemas file; `source` names it in errors.
  static absl::StatusOr<SchemaSet> Parse(std::string_view toml_text, std::string_view source);

  // A version of a table, or null.
  const TableVersion* Find(std::string_view table, std::string_view version) const;
  // The version [metadata] current names for `table`, or null.
  const TableVersion* Current(std::string_view table) const;
  // Every table, sorted by name.
  std::vector<std::string> Tables() const;

 private:
  std::map<std::string, std::map<std::string, TableVersion, std::less<>>, std::less<>> tables_;
  std::map<std::string, std::string, std::less<>> current_;
};

// The Iceberg name of a column type ("string", "long", ...) and back.
const char* TypeName(columnar::ColumnType type);
std::optional<columnar::ColumnType> ParseTypeName(std::string_view name);

}  // namespace signaldb::schema
