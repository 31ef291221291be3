#include "health/health.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

namespace signaldb::health {

Report Check(writer::Writer* writer, querier::Querier* querier, const std::string& storage_dir,
             bool per_dataset) {
  auto named = [&](const std::string& name, const std::string& what) {
    return per_dataset ? name + ": " + what : what;
  };
  nlohmann::json components;
  bool healthy = true;

  // WAL: every table's log must accept appends.
  nlohmann::json wal = {{"status", "ok"}};
  nlohmann::json tables = nlohmann::json::object();
  uint64_t wal_bytes = 0, wal_segments = 0, dropped = 0, quarantined = 0, corrupt = 0, io_errors = 0;
  int64_t oldest_unflushed_ms = 0;
  std::string flush_error;
  auto stats = writer->Stats();
  for (const auto& [name, w] : stats.wals) {
    wal_bytes += w.bytes;
    wal_segments += w.segments;
    dropped += w.dropped_tail_bytes;
    quarantined += w.quarantined_segments;
    corrupt += w.corrupt_bytes;
    io_errors += w.io_errors;
    if (w.failed) {
      wal["status"] = "failed";
      wal["error"] = named(name, "an fsync failed; appends are refused until restart");
      healthy = false;
    }
  }
  for (const auto& [name, s] : stats.tables) {
    if (!s.last_flush_error.empty()) flush_error = named(name, s.last_flush_error);
    if (per_dataset) tables[name] = {{"buffered_rows", s.buffered_rows},
                    {"committed_files", s.committed_files},
                    {"committed_rows", s.committed_rows},
                    {"committed_sequence", s.committed_sequence},
                    {"oldest_unflushed_ms", s.oldest_unflushed_ms},
                    {"flushes", s.flushes}};
    oldest_unflushed_ms = std::max(oldest_unflushed_ms, s.oldest_unflushed_ms);
  }
  wal["bytes"] = wal_bytes;
  wal["segments"] = wal_segments;
  wal["dropped_tail_bytes"] = dropped;
  wal["quarantined_segments"] = quarantined;
  wal["corrupt_bytes"] = corrupt;
  wal["io_errors"] = io_errors;
  wal["oldest_unflushed_ms"] = oldest_unflushed_ms;
  wal["recovery_ms"] = writer->recovery_ms();
  components["wal"] = wal;

  // Storage: the directory must be writable and flushes must be succeeding.
  nlohmann::json storage = {{"status", "ok"}, {"dir", storage_dir}};
  if (::access(storage_dir.c_str(), W_OK) != 0) {
    storage["status"] = "failed";
    storage["error"] = "storage directory is not writable";
    healthy = false;
  } else if (!flush_error.empty()) {
    storage["status"] = "degraded";
    storage["error"] = flush_error;
    healthy = false;
  }
  if (per_dataset) storage["tables"] = tables;
  components["storage"] = storage;

  nlohmann::json engine = {{"status", "ok"}};
  if (absl::Status st = querier->Ping(TenantContext{}); !st.ok()) {
    engine["status"] = "failed";
    engine["error"] = st.ToString();
    healthy = false;
  }
  components["query_engine"] = engine;

  nlohmann::ordered_json out;
  out["status"] = healthy ? "ok" : "unhealthy";
  out["components"] = components;
  return Report{healthy, out.dump()};
}

}  // namespace signaldb::health
