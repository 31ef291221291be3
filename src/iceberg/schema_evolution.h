// Iceberg schema evolution by field id: how an existing table's schema must
// change so that this build (whose columns carry the field ids of
// schemas.toml) can write to it and its readers see the build's columns.
//
// Compared by id with the table's current schema, each column of the build
// is
//   - known (same id): its type must be the same; a different name is a
//     rename (the table takes the build's name, the id stays); a column the
//     table has as required but the build may leave null becomes optional;
//   - new: its id must be above the table's last-column-id (ids are never
//     reused, and a lower id may have belonged to a dropped column); it is
//     added as optional whatever the build says, because the files written
//     before it do not hold it (readers see NULL there).
// A column of the table the build lacks stays in the schema when optional
// (files this build writes hold NULL for it); a required one is an error,
// since the build would write files violating it. The partition source
// (`timestamp`) must keep its field id.
//
// When anything changes, the result is a new schema with the next schema-id
// (or an identical older schema again, as Iceberg reuses it), made current,
// with last-column-id raised. Data files keep the schema they were written
// with; readers resolve their columns by field id.
//
// Thread-safety: stateless functions.
#pragma once

#include "absl/status/statusor.h"
#include "columnar/batch.h"
#include "iceberg/metadata.h"

namespace signaldb::iceberg {

// Applies the changes `schema` needs to `metadata`; returns whether anything
// changed. FailedPrecondition (with the table, column and reason) when the
// build cannot write to the table; `metadata` is then unchanged.
absl::StatusOr<bool> EvolveSchema(const columnar::Schema& schema, TableMetadata* metadata);

}  // namespace signaldb::iceberg
