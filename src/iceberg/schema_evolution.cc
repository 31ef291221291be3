#include "iceberg/schema_evolution.h"

#include <algorithm>
#include <set>

#include "common/strings.h"

namespace signaldb::iceberg {

absl::StatusOr<bool> EvolveSchema(const columnar::Schema& schema, TableMetadata* metadata) {
  const TableSchema* current = metadata->current_schema();
  if (current == nullptr) {
    return absl::FailedPreconditionError(StrCat("table ", schema.table, " has no current schema"));
  }
  auto refuse = [&](const std::string& why) {
    return absl::FailedPreconditionError(
        StrCat("table ", schema.table, " (schema ", current->schema_id, "): ", why));
  };
  const int ts = schema.IndexOf("timestamp");
  if (ts >= 0 && schema.columns[static_cast<size_t>(ts)].field_id != metadata->timestamp_field_id) {
    return refuse(StrCat("the partition source timestamp has field id ", metadata->timestamp_field_id,
                         " in the table but ", schema.columns[static_cast<size_t>(ts)].field_id, " in this build"));
  }

  TableSchema next;
  std::set<int32_t> ids;
  int32_t last_column_id = metadata->last_column_id;
  for (const auto& c : schema.columns) {
    ids.insert(c.field_id);
    const SchemaField* known = current->Find(c.field_id);
    if (known == nullptr) {
      if (std::min({c.field_id, c.key_id > 0 ? c.key_id : c.field_id, c.value_id > 0 ? c.value_id : c.field_id}) <=
          metadata->last_column_id) {
        return refuse(StrCat("new column ", c.name, " has field id ", c.field_id,
                             ", not above the table's last-column-id ", metadata->last_column_id,
                             "; field ids are never reused"));
      }
      // Files written before it lack the column: it cannot be required.
      next.fields.push_back({c.field_id, c.name, false, IcebergType(c)});
      last_column_id = std::max(last_column_id, MaxFieldId(c));
      continue;
    }
    if (known->type != IcebergType(c)) {
      return refuse(StrCat("column ", c.name, " (field id ", c.field_id, ") is ", known->type, " in the table but ",
                           IcebergType(c), " in this build"));
    }
    next.fields.push_back({c.field_id, c.name, known->required && c.required, known->type});
  }
  for (const auto& f : current->fields) {
    if (ids.count(f.id)) continue;
    if (f.required) {
      return refuse(StrCat("required column ", f.name, " (field id ", f.id,
                           ") is not in this build's schema, whose files would lack it"));
    }
    next.fields.push_back(f);
  }
  std::set<std::string> names;
  for (const auto& f : next.fields) {
    if (!names.insert(f.name).second) return refuse(StrCat("two columns would be named ", f.name));
  }
  if (next.fields == current->fields) return false;

  // Iceberg reuses an identical earlier schema rather than adding a copy.
  int32_t max_id = 0;
  const TableSchema* same = nullptr;
  for (const auto& s : metadata->schemas) {
    max_id = std::max(max_id, s.schema_id);
    if (s.fields == next.fields) same = &s;
  }
  if (same != nullptr) {
    metadata->current_schema_id = same->schema_id;
  } else {
    next.schema_id = max_id + 1;
    metadata->current_schema_id = next.schema_id;
    metadata->schemas.push_back(std::move(next));
  }
  metadata->last_column_id = last_column_id;
  return true;
}

}  // namespace signaldb::iceberg
