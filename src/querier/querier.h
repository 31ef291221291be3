// The querier role: reads what the writer stores.
//
// FindTrace() rebuilds a trace losslessly as OTLP (resource -> scope ->
// spans, with typed attributes, events and links), merging spans that
// arrived in different requests and de-duplicating repeated span ids.
// Sql() runs one read-only user SELECT in the tenant's own database.
// Search() answers TraceQL searches as Tempo's /api/search does.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <vector>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/tenant.h"
#include "engine/engine.h"
#include "querier/tag_cache.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "querier/search.h"
#include "tempopb/tempo.pb.h"
#include "traceql/ast.h"
#include "writer/writer.h"

namespace signaldb::querier {

struct QuerierOptions {
  std::chrono::milliseconds sql_timeout{30000};
  uint64_t sql_max_rows = 100000;
  // SQL naming tables whose data files hold more than this is refused
  // before it runs (0: no limit).
  uint64_t sql_max_scanned_bytes = 0;
};

// Paging of one SQL answer.
struct SqlPage {
  uint64_t limit = 0;   // rows; 0 or above sql_max_rows: sql_max_rows
  uint64_t offset = 0;  // rows skipped first
};

// What the tag endpoints read: spans of a time range, optionally only
// those matching a TraceQL condition.
struct TagsRequest {
  std::string scope;  // tag names: "" (all), span, resource, event, link, instrumentation, intrinsic
  const traceql::Field* filter = nullptr;  // not owned
  std::optional<int64_t> start_unix_nano;
  std::optional<int64_t> end_unix_nano;
  uint32_t limit = 0;  // names per scope / values; 0: no limit (values: kDefaultTagValues)
};
inline constexpr uint32_t kDefaultTagValues = 1000;

struct TagValue {
  std::string type;  // string, int, float, bool, keyword
  std::string value;
};

// A TraceQL metrics range: buckets of `step_ns` from start_ns (aligned by
// the caller) up to end_ns, with up to `exemplars` exemplars per series
// (see ExemplarLimit).
struct MetricsRequest {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t step_ns = 0;
  uint32_t exemplars = 0;
};

// Tempo's cap on exemplars per series (its frontend max_exemplars).
inline constexpr uint32_t kMaxExemplars = 100;

// The exemplars a range query asks for, as Tempo's frontend decides
// (normalizeRequestExemplars): a with(exemplars=N) hint wins (N < 0: none),
// with(exemplars=false) means none, otherwise the `exemplars` parameter, 0
// or absent meaning the maximum; never more than kMaxExemplars.
uint32_t ExemplarLimit(const traceql::Query& query, uint32_t requested);

struct TimeRange {
  std::optional<int64_t> start_unix_nano;  // spans ending before this are skipped
  std::optional<int64_t> end_unix_nano;    // spans starting after this are skipped
};

class Querier {
 public:
  // `writer` is not owned and must outlive the querier.
  Querier(writer::Writer* writer, QuerierOptions options) : writer_(writer), options_(options) {}

  // The spans of `trace_id` (16 raw bytes); an empty TracesData when none.
  absl::StatusOr<opentelemetry::proto::trace::v1::TracesData> FindTrace(const TenantContext& ctx,
                                                                       const std::string& trace_id,
                                                                       const TimeRange& range = {});

  // FailedPrecondition when the tables the text names hold more than
  // sql_max_scanned_bytes of data files (a guard that needs no EXPLAIN: it
  // counts whole tables, whatever the query's filters).
  absl::StatusOr<engine::Table> Sql(const TenantContext& ctx, const std::string& sql, const SqlPage& page = {});

  // TraceQL search over the traces table (search.h); `query` must have
  // passed traceql::Validate. FailedPrecondition for query forms not
  // supported yet.
  absl::StatusOr<tempopb::SearchResponse> Search(const TenantContext& ctx, const traceql::Query& query,
                                                 const SearchRequest& request);

  // Attribute names by scope ("span", "resource", ..., and "intrinsic":
  // Tempo's fixed list), sorted; scopes without names are left out.
  absl::StatusOr<std::map<std::string, std::vector<std::string>>> TagNames(const TenantContext& ctx,
                                                                            const TagsRequest& request);
  // The distinct typed values of an attribute or intrinsic (`tag` is a
  // parsed TraceQL attribute or intrinsic), by type then value.
  absl::StatusOr<std::vector<TagValue>> TagValues(const TenantContext& ctx, const traceql::Field& tag,
                                                  const TagsRequest& request);

  // TraceQL metrics (rate, count/min/max/sum/avg/quantile/histogram_over_time
  // with by(), compare(), second stages, metrics math) over the spans a
  // spanset pipeline matches, one sample per step; rate and counts have 0
  // where nothing happened, the others no sample. Durations are in
  // seconds. Each series carries up to request.exemplars exemplars
  // (metrics_series.h). FailedPrecondition for forms not supported yet.
  absl::StatusOr<tempopb::QueryRangeResponse> MetricsRange(const TenantContext& ctx, const traceql::Query& query,
                                                           const MetricsRequest& request);

  // Runs `SELECT 1` through the engine of `ctx`'s dataset.
  absl::Status Ping(const TenantContext& ctx);

 private:
  writer::Writer* const writer_;
  const QuerierOptions options_;
  const std::unique_ptr<TagCache> tag_cache_ = std::make_unique<TagCache>();
};

}  // namespace signaldb::querier
