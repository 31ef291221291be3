// Builds the health report shared by every HTTP face.
//
// Thread-safety: Check() is thread-safe.
#pragma once

#include <string>

#include "querier/querier.h"
#include "writer/writer.h"

namespace signaldb::health {

struct Report {
  bool healthy;
  std::string json;  // {"status":"ok"|"unhealthy","components":{...}}
};

// `storage_dir` is probed for writability. Pointers are not owned.
// `per_dataset`: list each tenant/dataset table and name them in errors;
// off (auth enabled, where /health answers anyone) only totals and states.
Report Check(writer::Writer* writer, querier::Querier* querier, const std::string& storage_dir,
             bool per_dataset = true);

}  // namespace signaldb::health
