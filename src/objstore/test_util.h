// Helpers shared by the objstore tests: one s3rver for the whole test binary
// (started on first use, stopped at exit), temp directories and unique names.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "objstore/object_store.h"
#include "objstore/s3rver_process.h"

namespace signaldb::objstore::testing {

inline constexpr char kBucket[] = "signaldb-test";

// The shared server; an error (naming scripts/setup.sh) when it cannot start.
absl::StatusOr<S3rverProcess*> SharedS3rver();
// Options for path-style access to `server` with its credentials.
S3Options S3rverOptions(const S3rverProcess& server);
// A fresh directory under the system temp dir.
std::string MakeTempDir();
// A name no other call in this process returns ("t<n>-<pid>").
std::string UniqueName();
// `size` bytes of a fixed pseudo-random pattern (with NULs) seeded by `seed`.
std::string TestBytes(size_t size, uint32_t seed);

}  // namespace signaldb::objstore::testing
