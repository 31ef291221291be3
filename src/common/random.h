// Random numbers for names that must not collide: data file names, snapshot
// ids, UUIDs. Seeded from the OS per thread and re-seeded in a forked child,
// so a child process never repeats its parent's sequence (which would make a
// new file overwrite one the parent wrote).
//
// Thread-safety: thread-safe (per-thread state).
#pragma once

#include <cstdint>

namespace signaldb {

uint64_t RandomU64();

}  // namespace signaldb
