// The query benchmark (make bench): latency of the Tempo API's search, tag and
// metrics endpoints of the real signaldb over an hour of spans, beside the
// baseline of DuckDB running equivalent hand-written SQL over the same Parquet
// files in the same run.
//
// Load phase (skipped with --reuse DIR): --spans spans of signal-producer's
// profile with their start times spread evenly over --window, written
// in-process (span_loader.h) and flushed every --spans-per-file spans.
//
// Query phase: signaldb is started on the data dir (compaction off, so the
// files stay as loaded). Each query runs --warmup times unmeasured (the first
// of them reported as "first"), then
// --iterations times; the baseline's SQL runs the same way on an in-process
// DuckDB with as many threads as signaldb's. Every answer is checked for
// shape (and the search answers for being non-empty), so a fast error cannot
// pass as a fast query.
//
// "Scanned" is the compressed size of the column chunks the hand-written SQL
// reads (from the files' Parquet metadata): every chunk of the columns it
// names. "MB/s" divides it by each side's p50; for signaldb that is the
// equivalent rate, since it may read less (newest slices first, cached tag
// summaries). "first" is the first run, before the warm-up: cold caches
// (signaldb's per-file tag cache; the OS page cache is warm from the load).
// Overhead is signaldb's p50 over the SQL's.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "server_process.h"
#include "span_loader.h"

namespace {

using namespace signaldb;         // NOLINT
using namespace signaldb::bench;  // NOLINT

constexpr uint64_t kEpochSeconds = 1700000000;  // data start: 2023-11-14T22:13:20Z

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

struct Query {
  std::string label;
  std::string path;                  // Tempo API request on the router
  std::string must_contain;          // in every answer: proof it did the work
  std::string sql;                   // the hand-written baseline; {files} = the data files
  std::vector<std::string> columns;  // top-level columns both sides need
  double target_ms = 0;              // 0: the issue sets no absolute target
};

struct Figures {
  double first = 0, p50 = 0, p99 = 0;
};

Figures Time(int warmup, int iterations, const std::function<void()>& run) {
  Figures f;
  auto t0 = Clock::now();
  run();
  f.first = Seconds(Clock::now() - t0) * 1000;
  for (int i = 1; i < warmup; ++i) run();
  std::vector<double> ms;
  for (int i = 0; i < iterations; ++i) {
    auto t0 = Clock::now();
    run();
    ms.push_back(Seconds(Clock::now() - t0) * 1000);
  }
  f.p50 = Pct(ms, 0.5);
  f.p99 = Pct(ms, 0.99);
  return f;
}

std::vector<std::string> DataFiles(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    std::string p = f.path().string();
    if (f.is_regular_file() && f.path().extension() == ".parquet" && p.find("/traces/data/") != std::string::npos) {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"query: Tempo API search, tags and metrics latency against hand-written DuckDB SQL"};
  std::string signaldb_bin = "build/bin/signaldb", reuse, dir_opt;
  LoadOptions lo{.spans = 10'000'000, .spans_per_file = 500'000, .seed = 42, .per_request = 1200, .sample = 0};
  uint64_t window_s = 3600;
  int iterations = 15, warmup = 2;
  bool keep = false;
  std::string only;
  app.add_option("--signaldb", signaldb_bin, "the signaldb binary")->capture_default_str();
  app.add_option("--spans", lo.spans, "spans to load")->capture_default_str();
  app.add_option("--window", window_s, "seconds the spans' start times cover")->capture_default_str();
  app.add_option("--spans-per-file", lo.spans_per_file, "spans per flushed Parquet file")->capture_default_str();
  app.add_option("--seed", lo.seed, "generator seed")->capture_default_str();
  app.add_option("--iterations", iterations, "measured runs per query")->capture_default_str();
  app.add_option("--warmup", warmup, "unmeasured runs per query first")->capture_default_str();
  app.add_option("--dir", dir_opt, "where to load (default: a new directory under /tmp)");
  app.add_option("--reuse", reuse, "query an already loaded directory");
  app.add_flag("--keep", keep, "keep the loaded directory");
  app.add_option("--only", only, "run only the queries whose label contains this text");
  CLI11_PARSE(app, argc, argv);
  if (lo.spans < 12 || lo.spans_per_file == 0 || window_s == 0 || iterations <= 0 || warmup < 1) {
    std::fprintf(stderr, "query: --spans, --spans-per-file, --window, --iterations and --warmup must be positive\n");
    return 2;
  }

  fs::path dir;
  if (!reuse.empty()) {
    dir = reuse;
    keep = true;
  } else {
    dir = dir_opt.empty() ? fs::temp_directory_path() / ("signaldb-query-bench-" + std::to_string(::getpid()))
                          : fs::path(dir_opt);
    fs::remove_all(dir);
    fs::create_directories(dir);
    // 12-span traces, whole ones per request: spread their starts evenly.
    const uint64_t traces = lo.spans / 12;
    lo.profile.start_unix_nano = kEpochSeconds * 1000000000ULL;
    lo.profile.trace_interval_ns = window_s * 1000000000ULL / std::max<uint64_t>(traces, 1);
    std::printf("loading %s spans over %llu s into %s (%s spans per file)\n", Grouped(lo.spans).c_str(),
                static_cast<unsigned long long>(window_s), dir.c_str(), Grouped(lo.spans_per_file).c_str());
    std::fflush(stdout);
    Load(dir, lo);
  }
  const std::vector<std::string> files = DataFiles(dir);
  if (files.empty()) {
    std::fprintf(stderr, "query: no traces data files under %s\n", dir.c_str());
    return 1;
  }
  OnDisk disk = Measure(dir);
  std::printf("data: %s files, %.1f MB of traces Parquet\n", Grouped(files.size()).c_str(),
              static_cast<double>(disk.data_bytes) / 1e6);

  // The baseline's DuckDB: in-process, as many threads as the server's.
  engine::Database::Options dbo;
  dbo.allowed_dir = dir.string();
  dbo.threads = static_cast<int>(std::thread::hardware_concurrency());
  auto db = engine::Database::Open(dbo);
  if (!db.ok()) {
    std::fprintf(stderr, "query: DuckDB: %s\n", db.status().ToString().c_str());
    return 1;
  }
  auto conn = (*db)->Connect();
  if (!conn.ok()) return 1;
  std::vector<std::string> quoted;
  for (const auto& f : files) quoted.push_back("'" + f + "'");
  std::string file_list = "[";
  for (size_t i = 0; i < quoted.size(); ++i) file_list += (i ? ", " : "") + quoted[i];
  file_list += "]";
  const std::string scan = "read_parquet(" + file_list + ")";

  // Compressed bytes per top-level column over every file.
  std::map<std::string, uint64_t> column_bytes;
  {
    auto t = (*conn)->Query("SELECT split_part(path_in_schema, ', ', 1) AS col, sum(total_compressed_size)::BIGINT "
                            "FROM parquet_metadata(" + file_list + ") GROUP BY col");
    if (!t.ok()) {
      std::fprintf(stderr, "query: parquet_metadata: %s\n", t.status().ToString().c_str());
      return 1;
    }
    for (const auto& row : t->rows) column_bytes[std::get<std::string>(row[0])] = static_cast<uint64_t>(std::get<int64_t>(row[1]));
  }

  // Every query covers the whole window.
  const uint64_t t0 = kEpochSeconds, t1 = kEpochSeconds + window_s;
  const std::string range = "&start=" + std::to_string(t0) + "&end=" + std::to_string(t1);
  auto time_of = [&](const std::string& prefix) {
    return prefix + "start_time_unix_nano >= " + std::to_string(t0 * 1000000000ULL) + " AND " + prefix +
           "start_time_unix_nano < " + std::to_string(t1 * 1000000000ULL);
  };
  const std::string time_sql = time_of("");
  // Search's baseline: matching spans, the 20 newest traces among them, and
  // for those the root span and bounds read back from the same files.
  auto search_sql = [&](const std::string& hits) {
    return "WITH hits AS (" + hits + "), top AS (SELECT trace_id, max(start_time_unix_nano) AS last, "
           "list(span_id) AS matched FROM hits GROUP BY trace_id ORDER BY last DESC LIMIT 20), "
           "spans AS (SELECT trace_id, span_name, service_name, is_root, start_time_unix_nano, end_time_unix_nano FROM " +
           scan + " WHERE trace_id IN (SELECT trace_id FROM top)) "
           "SELECT s.trace_id, min(start_time_unix_nano), max(end_time_unix_nano) - min(start_time_unix_nano), "
           "any_value(service_name) FILTER (WHERE is_root), any_value(span_name) FILTER (WHERE is_root), "
           "any_value(top.matched) FROM spans s JOIN top USING (trace_id) GROUP BY s.trace_id ORDER BY any_value(last) DESC";
  };
  const std::string span_cols = "trace_id, span_id, start_time_unix_nano";
  std::vector<Query> queries = {
      {"selective search",
       "/tempo/api/search?limit=20&q=" +
           UrlEncode("{ resource.service.name = \"checkout\" && span.http.response.status_code >= 500 }") + range,
       "\"traceID\"",
       search_sql("SELECT " + span_cols + " FROM " + scan + " WHERE " + time_sql +
                  " AND service_name = 'checkout' AND span_attributes_int['http.response.status_code'] >= 500"),
       {"trace_id", "span_id", "start_time_unix_nano", "service_name", "span_attributes_int"},
       300},
      {"broad search", "/tempo/api/search?limit=20&q=" + UrlEncode("{ duration > 100ms }") + range, "\"traceID\"",
       search_sql("SELECT " + span_cols + " FROM " + scan + " WHERE " + time_sql + " AND duration_nanos > 100000000"),
       {"trace_id", "span_id", "start_time_unix_nano", "duration_nanos"},
       0},
      {"structural search",
       "/tempo/api/search?limit=20&q=" +
           UrlEncode("{ resource.service.name = \"frontend\" } > { span.db.system = \"postgresql\" }") + range,
       "\"traceID\"",
       search_sql("SELECT c.trace_id, c.span_id, c.start_time_unix_nano FROM " + scan + " c JOIN " + scan +
                  " p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id WHERE " + time_of("c.") +
                  " AND c.span_attributes_string['db.system'] = 'postgresql' AND p.service_name = 'frontend'"),
       {"trace_id", "span_id", "parent_span_id", "start_time_unix_nano", "service_name", "span_attributes_string"},
       0},
      {"tag names", "/tempo/api/v2/search/tags?" + range.substr(1), "\"scopes\"",
       "SELECT DISTINCT k FROM (SELECT unnest(map_keys(span_attributes_string)) AS k FROM " + scan + " WHERE " +
           time_sql + " UNION ALL SELECT unnest(map_keys(span_attributes_int)) FROM " + scan + " WHERE " + time_sql +
           " UNION ALL SELECT unnest(map_keys(span_attributes_double)) FROM " + scan + " WHERE " + time_sql +
           " UNION ALL SELECT unnest(map_keys(span_attributes_bool)) FROM " + scan + " WHERE " + time_sql +
           " UNION ALL SELECT unnest(json_keys(resource_attributes)) FROM " + scan + " WHERE " + time_sql + ")",
       {"start_time_unix_nano", "span_attributes_string", "span_attributes_int", "span_attributes_double",
        "span_attributes_bool", "resource_attributes"},
       0},
      {"tag values", "/tempo/api/v2/search/tag/resource.service.name/values?" + range.substr(1), "checkout",
       "SELECT DISTINCT service_name FROM " + scan + " WHERE " + time_sql,
       {"start_time_unix_nano", "service_name"},
       100},
      {"rate() by service",
       "/tempo/api/metrics/query_range?step=60s&q=" + UrlEncode("{ } | rate() by (resource.service.name)") + range,
       "\"samples\"",
       "SELECT service_name, start_time_unix_nano // 60000000000 AS step, count(*) / 60.0 FROM " + scan +
           " WHERE " + time_sql + " GROUP BY ALL",
       {"start_time_unix_nano", "service_name"},
       500},
  };

  ServerProcess server(signaldb_bin, dir.string(), {"SIGNALDB_COMPACTOR__ENABLED=false"});
  httplib::Client client("127.0.0.1", server.api_port());
  client.set_read_timeout(std::chrono::seconds(600));
  client.set_keep_alive(true);

  std::printf(
      "\n%-18s %8s %8s %8s | %8s %8s %8s | %9s %8s %8s | %9s %12s\n", "query", "first", "p50", "p99", "first", "p50",
      "p99", "scanned", "SQL", "ours", "overhead", "target p50");
  std::printf("%-18s %26s | %26s | %9s %17s |\n", "", "signaldb (ms)", "hand-written SQL (ms)", "MB", "MB/s");
  bool all_met = true;
  double worst_overhead = 0;
  for (const auto& q : queries) {
    if (q.label.find(only) == std::string::npos) continue;
    uint64_t bytes = 0;
    for (const auto& c : q.columns) bytes += column_bytes[c];
    std::string failure;
    Figures ours = Time(warmup, iterations, [&] {
      auto r = client.Get(q.path);
      if (!r || r->status != 200 || r->body.find(q.must_contain) == std::string::npos) {
        failure = r ? std::to_string(r->status) + " " + r->body.substr(0, 300) : httplib::to_string(r.error());
      }
    });
    if (!failure.empty()) {
      std::fprintf(stderr, "query: %s: unexpected answer: %s\n", q.label.c_str(), failure.c_str());
      return 1;
    }
    Figures sql = Time(warmup, iterations, [&] {
      auto t = (*conn)->Query(q.sql);
      if (!t.ok() || t->rows.empty()) failure = t.ok() ? "no rows" : t.status().ToString();
    });
    if (!failure.empty()) {
      std::fprintf(stderr, "query: %s: baseline SQL failed: %s\n", q.label.c_str(), failure.c_str());
      return 1;
    }
    const double mb = static_cast<double>(bytes) / 1e6;
    const double overhead = ours.p50 / sql.p50;
    worst_overhead = std::max(worst_overhead, overhead);
    std::string target = "-";
    if (q.target_ms > 0) {
      bool met = ours.p50 <= q.target_ms;
      all_met = all_met && met;
      target = "<=" + std::to_string(static_cast<int>(q.target_ms)) + (met ? " met" : " MISSED");
    }
    std::printf("%-18s %8.1f %8.1f %8.1f | %8.1f %8.1f %8.1f | %9.1f %8.0f %8.0f | %8.2fx %12s\n", q.label.c_str(),
                ours.first, ours.p50, ours.p99, sql.first, sql.p50, sql.p99, mb, mb / (sql.p50 / 1000),
                mb / (ours.p50 / 1000), overhead, target.c_str());
    std::fflush(stdout);
  }
  std::printf("\nabsolute targets (p50): %s; largest overhead over the hand-written SQL %.2fx (target <= 1.50x: %s)\n",
              all_met ? "all met" : "NOT all met", worst_overhead, worst_overhead <= 1.5 ? "met" : "MISSED");
  if (!keep) fs::remove_all(dir);
  return 0;
}
