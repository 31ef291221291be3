// Querier::Search (see search.h): TraceScan (trace_scan.h) finds the
// traces; this file answers them as Tempo does.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "querier/querier.h"
#include "querier/source.h"
#include "querier/trace_scan.h"
#include "schema/tables.h"
#include "traceql/compile.h"
#include "traceql/evaluate.h"

namespace signaldb::querier {
namespace {

namespace pb = opentelemetry::proto::common::v1;

// Which intrinsics the query's filters read (shown on matched spans, as
// Tempo shows what it evaluated).
struct ShownIntrinsics {
  bool name = false, status = false, kind = false;
};
void CollectIntrinsics(const traceql::Field* f, ShownIntrinsics* out) {
  if (f == nullptr) return;
  if (f->kind == traceql::Field::Kind::kIntrinsic) {
    out->name = out->name || f->intrinsic == traceql::Intrinsic::kName;
    out->status = out->status || f->intrinsic == traceql::Intrinsic::kStatus;
    out->kind = out->kind || f->intrinsic == traceql::Intrinsic::kKind;
  }
  CollectIntrinsics(f->lhs.get(), out);
  CollectIntrinsics(f->rhs.get(), out);
}

// One step of a search over its time range, newest first (see SearchSlices).
struct SearchSlice {
  std::optional<int64_t> scan_from, scan_to;        // the spans read (overlapping)
  std::optional<int64_t> latest_from, latest_before;  // the traces taken: latest matching span start
};

// Search reads the newest part of its time range first and older parts
// only while it has found fewer traces than asked for, as Tempo searches the
// newest blocks first: a search whose newest minutes hold `limit` traces
// reads those minutes, not the hour. The first slice is a sixteenth of the
// range (at least a minute); each next one doubles. A trace belongs to the
// slice holding its latest matching span. Queries needing several spans of a
// trace (&&, structural operators, parent.x, ...) read each slice with a
// margin before it, so matching spans up to kSliceMargin apart are judged
// together (none is needed after it: a trace's matching spans all start
// before its latest); a trace found twice is answered once.
constexpr int64_t kSliceMargin = 2LL * 60 * 1000000000;  // 2 minutes
constexpr int64_t kMinFirstSlice = 60LL * 1000000000;    // 1 minute

std::vector<SearchSlice> SearchSlices(const SearchRequest& req, bool several_spans) {
  if (!req.start_unix_nano || !req.end_unix_nano) {
    return {SearchSlice{req.start_unix_nano, req.end_unix_nano, std::nullopt, std::nullopt}};
  }
  const int64_t start = *req.start_unix_nano, end = *req.end_unix_nano;
  const int64_t margin = several_spans ? kSliceMargin : 0;
  int64_t width = std::max(kMinFirstSlice, (end - start) / 16);
  std::vector<SearchSlice> out;
  int64_t hi = end;
  while (true) {
    // Overflow-safe: `hi - start` is the room left.
    const int64_t lo = hi - start > width ? hi - width : start;
    SearchSlice s;
    s.scan_from = lo - start > margin ? lo - margin : start;
    s.scan_to = hi;
    if (lo != start) s.latest_from = lo;
    if (hi != end) s.latest_before = hi;
    out.push_back(s);
    if (lo == start) break;
    hi = lo;
    width = width > INT64_MAX / 2 ? INT64_MAX : width * 2;
  }
  return out;
}

// The wrapped pipelines of a root scalar filter's side, in order, each
// with the aggregate ending it.
void WrappedPipelines(const traceql::Scalar& s, std::vector<const traceql::Scalar*>* out) {
  if (s.kind == traceql::Scalar::Kind::kPipeline) out->push_back(&s);
  if (s.kind == traceql::Scalar::Kind::kBinary) {
    WrappedPipelines(*s.lhs, out);
    WrappedPipelines(*s.rhs, out);
  }
}

double StaticNumber(const traceql::Static& v) {
  return v.type == traceql::StaticType::kFloat ? v.f : static_cast<double>(v.i);
}

// A root scalar filter's side on one trace: each wrapped pipeline's
// aggregate over its one spanset (`next` counts them in WrappedPipelines'
// order; `numbers[k]` is the extra column of pipeline k's aggregate
// argument), numbers, and arithmetic. nullopt when a pipeline has no value.
// The spans of the spansets read go to `used`.
absl::StatusOr<std::optional<double>> ScalarSide(const traceql::Scalar& s, const ScannedTrace& trace,
                                                 const std::vector<size_t>& numbers, size_t* next,
                                                 std::set<size_t>* used) {
  switch (s.kind) {
    case traceql::Scalar::Kind::kStatic: return StaticNumber(s.value);
    case traceql::Scalar::Kind::kPipeline: {
      const size_t k = (*next)++;
      const std::vector<ScanSet>& sets = trace.branches[k];
      if (sets.size() != 1) {
        return absl::InvalidArgumentError(
            "scalar filters over pipelines need one spanset per trace on each side; consider using coalesce()");
      }
      used->insert(sets[0].spans.begin(), sets[0].spans.end());
      return AggregateSpans(s.lhs->fn, sets[0].spans, [&](size_t i) -> std::optional<double> {
        if (auto* d = std::get_if<double>(&trace.spans[i].extra[numbers[k]])) return *d;
        return std::nullopt;
      });
    }
    case traceql::Scalar::Kind::kBinary: {
      ASSIGN_OR_RETURN(std::optional<double> l, ScalarSide(*s.lhs, trace, numbers, next, used));
      ASSIGN_OR_RETURN(std::optional<double> r, ScalarSide(*s.rhs, trace, numbers, next, used));
      if (!l || !r) return std::optional<double>();
      switch (s.op) {
        case traceql::Op::kAdd: return *l + *r;
        case traceql::Op::kSub: return *l - *r;
        case traceql::Op::kMul: return *l * *r;
        case traceql::Op::kDiv: return *l / *r;
        case traceql::Op::kMod: return std::fmod(*l, *r);
        default: return std::pow(*l, *r);
      }
    }
    case traceql::Scalar::Kind::kAggregate: break;
  }
  return absl::InvalidArgumentError("a root scalar filter compares wrapped pipelines, e.g. ({ } | count()) > 2");
}

}  // namespace

absl::StatusOr<tempopb::SearchResponse> Querier::Search(const TenantContext& ctx, const traceql::Query& query,
                                                        const SearchRequest& req) {
  if (query.metrics || query.math) {
    return absl::FailedPreconditionError(
        "TraceQL metrics functions are answered by the metrics API (query_range, query), not by search");
  }
  // The pipelines: the query's, or a root scalar filter's wrapped ones.
  std::vector<const traceql::Scalar*> wrapped;
  std::vector<const traceql::Pipeline*> pipelines;
  if (query.scalar_root) {
    WrappedPipelines(*query.scalar_root->lhs, &wrapped);
    WrappedPipelines(*query.scalar_root->rhs, &wrapped);
    for (const traceql::Scalar* w : wrapped) pipelines.push_back(w->pipeline.get());
  } else if (query.pipeline) {
    pipelines.push_back(query.pipeline.get());
  } else {
    return absl::InvalidArgumentError("not a search query");
  }
  // The attributes and intrinsics the filters read, shown on matched spans.
  std::vector<traceql::AttributeRef> shown;
  ShownIntrinsics intrinsics;
  for (const traceql::Pipeline* pipeline : pipelines) {
    if (pipeline->stages[0].kind != traceql::Stage::Kind::kSpanset) continue;
    for (const traceql::Spanset* leaf : traceql::ConditionFilterLeaves(*pipeline->stages[0].spanset)) {
      for (auto& ref : traceql::ReferencedAttributes(leaf->filter.get())) {
        bool seen = false;
        for (const auto& s : shown) seen = seen || (s.scope == ref.scope && s.name == ref.name);
        if (!seen) shown.push_back(std::move(ref));
      }
      CollectIntrinsics(leaf->filter.get(), &intrinsics);
    }
  }
  // Extra columns: the shown attributes' values, then each wrapped
  // pipeline's aggregate argument (numbers[k] its index).
  std::vector<size_t> numbers;
  ASSIGN_OR_RETURN(TraceScan scan, TraceScan::CompileAll(pipelines, [&](traceql::SqlBuilder* sql,
                                                                       traceql::TraceColumns* needs)
                                                                       -> absl::StatusOr<std::vector<std::string>> {
    std::vector<std::string> cols;
    for (const auto& ref : shown) {
      for (auto& c : traceql::AttributeValueColumns(ref, sql)) cols.push_back(std::move(c));
    }
    for (const traceql::Scalar* w : wrapped) {
      numbers.push_back(cols.size());
      if (!w->lhs->arg) {
        cols.push_back("NULL");
        continue;
      }
      ASSIGN_OR_RETURN(std::string num, traceql::CompileNumber(*w->lhs->arg, sql, needs));
      cols.push_back(std::move(num));
    }
    return cols;
  }));

  ASSIGN_OR_RETURN(writer::Dataset * ds, writer_->GetDataset(ctx));
  ASSIGN_OR_RETURN(auto conn, ds->db().Connect());
  tempopb::SearchResponse out;
  auto* metrics = out.mutable_metrics();
  metrics->set_completedjobs(1);
  metrics->set_totaljobs(1);
  std::vector<tempopb::TraceSearchMetadata> found;
  std::set<std::string> answered;
  auto answer = [&](ScannedTrace& trace) -> absl::Status {
    const std::vector<ScanSpan>& spans = trace.spans;
    int64_t start = INT64_MAX, end = INT64_MIN;
    const ScanSpan* root_span = nullptr;
    tempopb::TraceSearchMetadata md;
    for (const auto& s : spans) {
      start = std::min(start, s.start);
      end = std::max(end, s.start + s.duration);
      if (s.root && root_span == nullptr) root_span = &s;
      auto& stats = (*md.mutable_servicestats())[s.service];
      stats.set_spancount(stats.spancount() + 1);
      if (s.status == 2) stats.set_errorcount(stats.errorcount() + 1);
    }
    const int64_t duration = end - start;
    if (req.min_duration_nanos && duration < *req.min_duration_nanos) return absl::OkStatus();
    if (req.max_duration_nanos && duration > *req.max_duration_nanos) return absl::OkStatus();
    md.set_traceid(TempoTraceId(trace.trace_id));
    md.set_rootservicename(root_span ? root_span->service : "<root span not yet received>");
    if (root_span) md.set_roottracename(root_span->name);
    md.set_starttimeunixnano(static_cast<uint64_t>(start));
    md.set_durationms(static_cast<uint32_t>(duration / 1000000));
    for (auto& set_data : trace.sets) {
      // The matched spans, earliest first, at most spss of them.
      auto& members = set_data.spans;
      std::sort(members.begin(), members.end(), [&](size_t a, size_t b) {
        return std::tie(spans[a].start, spans[a].span_id) < std::tie(spans[b].start, spans[b].span_id);
      });
      auto* set = md.add_spansets();
      set->set_matched(static_cast<uint32_t>(members.size()));
      for (auto& kv : set_data.attributes) *set->add_attributes() = std::move(kv);
      for (size_t k = 0; k < members.size() && k < req.spans_per_spanset; ++k) {
        const ScanSpan& s = spans[members[k]];
        auto* span = set->add_spans();
        span->set_spanid(s.span_id);
        if (intrinsics.name) span->set_name(s.name);
        span->set_starttimeunixnano(static_cast<uint64_t>(s.start));
        span->set_durationnanos(static_cast<uint64_t>(s.duration));
        for (size_t i = 0; i < shown.size(); ++i) {
          pb::AnyValue v;
          if (!ReadAttributeValue(s.extra, i * traceql::kAttributeValueColumns, &v)) continue;
          auto* kv = span->add_attributes();
          kv->set_key(shown[i].name);
          *kv->mutable_value() = std::move(v);
        }
        for (size_t v : trace.selected) {
          if (!s.has_value[v]) continue;
          auto* kv = span->add_attributes();
          kv->set_key(scan.value_labels()[v]);
          *kv->mutable_value() = s.values[v];
        }
        if (intrinsics.status) {
          auto* kv = span->add_attributes();
          kv->set_key("status");
          kv->mutable_value()->set_string_value(schema::StatusCodeName(static_cast<int32_t>(s.status)));
        }
        if (intrinsics.kind) {
          auto* kv = span->add_attributes();
          kv->set_key("kind");
          kv->mutable_value()->set_string_value(schema::SpanKindName(static_cast<int32_t>(s.kind)));
        }
      }
    }
    *md.mutable_spanset() = md.spansets(0);
    // A trace seen on an earlier page (ingest moved it across the page
    // boundary) is answered once.
    if (answered.insert(md.traceid()).second) found.push_back(std::move(md));
    return absl::OkStatus();
  };
  // Pages of candidates, newest (latest matching span) first. Filters alone
  // are exact, so one page of `limit` suffices unless duration bounds drop some.
  const bool exact = traceql::OnlyFilters(scan.root()) && !query.scalar_root;
  const uint64_t page = std::max<uint64_t>(req.limit * (exact ? 1 : 4), 20);
  // A root scalar filter keeps a trace when its sides compare true; its
  // spanset is the spans of the spansets its pipelines aggregated.
  auto visit = [&](ScannedTrace& trace) -> absl::Status {
    if (!query.scalar_root) return answer(trace);
    size_t next = 0;
    std::set<size_t> used;
    ASSIGN_OR_RETURN(std::optional<double> l, ScalarSide(*query.scalar_root->lhs, trace, numbers, &next, &used));
    ASSIGN_OR_RETURN(std::optional<double> r, ScalarSide(*query.scalar_root->rhs, trace, numbers, &next, &used));
    if (!l || !r || !CompareNumbers(*l, query.scalar_root->op, *r)) return absl::OkStatus();
    trace.sets.assign(1, ScanSet{});
    trace.sets[0].spans.assign(used.begin(), used.end());
    return answer(trace);
  };
  std::set<std::string> inspected_files;
  const std::vector<SearchSlice> slices = SearchSlices(req, scan.reads_other_spans());
  std::vector<SearchSlice> passes = slices;
  // Short of the limit after every slice, a query judging several spans of a
  // trace reads the range once more in one piece: a trace whose spans lie
  // further apart than the margin, across a slice boundary, is found then.
  if (slices.size() > 1 && scan.reads_other_spans()) {
    passes.push_back({req.start_unix_nano, req.end_unix_nano, std::nullopt, std::nullopt});
  }
  for (const SearchSlice& slice : passes) {
    if (found.size() >= req.limit) break;
    // Each slice plans its own files: the newest minutes' files only, until
    // older slices are needed.
    ASSIGN_OR_RETURN(TracesSource source, PlanTraces(ds, slice.scan_from, slice.scan_to));
    metrics->set_inspectedbytes(metrics->inspectedbytes() + source.plan.bytes);
    inspected_files.insert(source.plan.files.begin(), source.plan.files.end());
    RETURN_IF_ERROR(scan.Run(conn.get(), ds, source,
                             {slice.scan_from, slice.scan_to, slice.latest_from, slice.latest_before}, page, visit,
                             [&]() -> absl::StatusOr<bool> { return found.size() < req.limit; }, metrics));
  }
  metrics->set_totalblocks(static_cast<uint32_t>(inspected_files.size()));
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    if (a.starttimeunixnano() != b.starttimeunixnano()) return a.starttimeunixnano() > b.starttimeunixnano();
    return a.traceid() < b.traceid();
  });
  if (found.size() > req.limit) found.resize(req.limit);
  for (auto& md : found) *out.add_traces() = std::move(md);
  return out;
}

}  // namespace signaldb::querier
