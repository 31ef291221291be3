// Picks the catalog implementation from the configured location.
#include "catalog/catalog.h"

#include "common/strings.h"

namespace signaldb::catalog {

bool IsPostgresUri(const std::string& uri_or_path) {
  return StartsWith(uri_or_path, "postgresql://") || StartsWith(uri_or_path, "postgres://");
}

absl::StatusOr<std::unique_ptr<Catalog>> OpenCatalog(const std::string& uri_or_path, const std::string& catalog_name) {
  if (IsPostgresUri(uri_or_path)) return OpenPostgresCatalog(uri_or_path, catalog_name);
  return OpenSqliteCatalog(uri_or_path, catalog_name);
}

}  // namespace signaldb::catalog
