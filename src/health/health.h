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
Report Check(writer::Writer* writer, querier::Querier* querier, const std::string& storage_dir);

}  // namespace signaldb::health
