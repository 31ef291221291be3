// Querier::Search (see search.h).
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "querier/querier.h"
#include "querier/source.h"
#include "schema/tables.h"
#include "traceql/compile.h"
#include "traceql/evaluate.h"
#include "writer/data_files.h"

namespace signaldb::querier {
namespace {

using engine::Value;
namespace pb = opentelemetry::proto::common::v1;

std::string Text(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* j = std::get_if<engine::Json>(&v)) return j->text;
  return "";
}
int64_t Number(const Value& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
  return 0;
}
bool Truth(const Value& v) {
  if (auto* b = std::get_if<bool>(&v)) return *b;
  return false;
}

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

// Columns of the span read (second statement), before the per-filter
// flags and the shown attributes.
constexpr const char* kSpanColumns =
    "trace_id, span_id, coalesce(parent_span_id, ''), span_name, service_name, is_root, start_time_unix_nano, "
    "duration_nanos, status_code_number, span_kind_number";
enum { cTrace, cSpan, cParent, cName, cService, cRoot, cStart, cDuration, cStatus, cKind, cFirstFilter };

struct SpanData {
  std::string span_id, parent_id, name, service;
  bool root = false;
  int64_t start = 0, duration = 0, status = 0, kind = 0;
  std::vector<bool> matches;
  std::vector<pb::AnyValue> attributes;  // one per shown attribute
  std::vector<bool> has_attribute;
  std::vector<bool> stage_matches;                // later spanset-filter stages
  std::vector<std::optional<double>> numbers;     // aggregate arguments
  std::vector<pb::AnyValue> values;               // by() and select() values
  std::vector<bool> has_value;
};

// A pipeline stage after the first, compiled.
struct PipeStage {
  traceql::Stage::Kind kind = traceql::Stage::Kind::kSpanset;
  size_t index = 0;  // condition / number / value column
  traceql::AggregateFn fn = traceql::AggregateFn::kCount;
  traceql::Op op = traceql::Op::kGt;
  double rhs = 0;
  std::string label;  // by(...) / count() ...
  std::vector<size_t> selected;
};

// One spanset of the answer.
struct OutSet {
  std::vector<size_t> spans;
  std::vector<pb::KeyValue> attributes;
};

// Runs the stages after the first on one trace's first spanset: filters
// narrow each spanset (empty ones leave), scalar filters keep the spansets
// whose aggregate compares true (and carry it as an attribute), by()
// splits spansets by a value, coalesce() merges them, select() names
// values shown on spans.
std::vector<OutSet> RunPipeline(const std::vector<PipeStage>& stages, const std::vector<SpanData>& spans,
                                std::vector<size_t> first, std::vector<size_t>* selected) {
  std::vector<OutSet> sets(1);
  sets[0].spans = std::move(first);
  for (const PipeStage& st : stages) {
    std::vector<OutSet> next;
    switch (st.kind) {
      case traceql::Stage::Kind::kSpanset:
        for (auto& set : sets) {
          std::vector<size_t> kept;
          for (size_t i : set.spans) {
            if (spans[i].stage_matches[st.index]) kept.push_back(i);
          }
          if (kept.empty()) continue;
          set.spans = std::move(kept);
          next.push_back(std::move(set));
        }
        break;
      case traceql::Stage::Kind::kScalarFilter:
        for (auto& set : sets) {
          double value = 0;
          size_t n = 0;
          bool any = false;
          for (size_t i : set.spans) {
            if (st.fn == traceql::AggregateFn::kCount) {
              ++n;
              continue;
            }
            const std::optional<double>& x = spans[i].numbers[st.index];
            if (!x) continue;
            if (!any) value = *x;
            else if (st.fn == traceql::AggregateFn::kMin) value = std::min(value, *x);
            else if (st.fn == traceql::AggregateFn::kMax) value = std::max(value, *x);
            else value += *x;
            any = true;
            ++n;
          }
          if (st.fn == traceql::AggregateFn::kCount) value = static_cast<double>(n);
          else if (!any) continue;  // nothing to aggregate: no value to compare
          else if (st.fn == traceql::AggregateFn::kAvg) value /= static_cast<double>(n);
          if (!CompareNumbers(value, st.op, st.rhs)) continue;
          pb::KeyValue kv;
          kv.set_key(st.label);
          if (st.fn == traceql::AggregateFn::kCount) kv.mutable_value()->set_int_value(static_cast<int64_t>(value));
          else kv.mutable_value()->set_double_value(value);
          set.attributes.push_back(std::move(kv));
          next.push_back(std::move(set));
        }
        break;
      case traceql::Stage::Kind::kBy:
        for (auto& set : sets) {
          std::map<std::string, OutSet> groups;  // by the value's bytes
          for (size_t i : set.spans) {
            const bool has = spans[i].has_value[st.index];
            const std::string key = has ? spans[i].values[st.index].SerializeAsString() : std::string();
            auto [it, fresh] = groups.try_emplace(key);
            if (fresh) {
              it->second.attributes = set.attributes;
              pb::KeyValue kv;
              kv.set_key(st.label);
              if (has) *kv.mutable_value() = spans[i].values[st.index];
              it->second.attributes.push_back(std::move(kv));
            }
            it->second.spans.push_back(i);
          }
          for (auto& [key, group] : groups) next.push_back(std::move(group));
        }
        break;
      case traceql::Stage::Kind::kCoalesce: {
        OutSet all;
        for (auto& set : sets) all.spans.insert(all.spans.end(), set.spans.begin(), set.spans.end());
        std::sort(all.spans.begin(), all.spans.end());
        all.spans.erase(std::unique(all.spans.begin(), all.spans.end()), all.spans.end());
        if (!all.spans.empty()) next.push_back(std::move(all));
        break;
      }
      case traceql::Stage::Kind::kSelect:
        selected->insert(selected->end(), st.selected.begin(), st.selected.end());
        next = std::move(sets);
        break;
    }
    sets = std::move(next);
    if (sets.empty()) break;
  }
  return sets;
}

}  // namespace

std::string TempoTraceId(const std::string& hex) {
  size_t i = 0;
  while (i + 1 < hex.size() && hex[i] == '0') ++i;
  return hex.substr(i);
}

bool CompareNumbers(double a, traceql::Op op, double b) {
  switch (op) {
    case traceql::Op::kEq: return a == b;
    case traceql::Op::kNeq: return a != b;
    case traceql::Op::kLt: return a < b;
    case traceql::Op::kLte: return a <= b;
    case traceql::Op::kGt: return a > b;
    case traceql::Op::kGte: return a >= b;
    default: return false;
  }
}

bool ReadAttributeValue(const std::vector<engine::Value>& row, size_t c, pb::AnyValue* out) {
  if (auto* s = std::get_if<std::string>(&row[c])) {
    out->set_string_value(*s);
  } else if (auto* i = std::get_if<std::string>(&row[c + 1])) {
    out->set_int_value(std::strtoll(i->c_str(), nullptr, 10));
  } else if (auto* d = std::get_if<std::string>(&row[c + 2])) {
    out->set_double_value(std::strtod(d->c_str(), nullptr));
  } else if (auto* b = std::get_if<bool>(&row[c + 3])) {
    out->set_bool_value(*b);
  } else {
    return false;
  }
  return true;
}

// The relation holding every span of the candidate traces (first column of
// `candidates`): the union of the files trace-by-id would read for each,
// plus the buffer, with the trace-level columns `needs` asks for.
absl::StatusOr<std::string> CandidateSource(writer::Dataset* ds, const engine::Table& candidates,
                                            const traceql::TraceColumns& needs,
                                            std::vector<writer::SignalStore::ScanPlan>* plans) {
  using Predicate = writer::SignalStore::Predicate;
  std::set<std::string> files;
  int64_t generation = -1;
  for (const auto& row : candidates.rows) {
    const std::string* hex = std::get_if<std::string>(&row[0]);
    if (hex == nullptr) continue;
    ASSIGN_OR_RETURN(auto plan, ds->store(Signal::kTraces).PlanScan("traces", {{Predicate::kStringEquals, "trace_id", *hex}}));
    if (generation < 0) generation = plan.generation;
    files.insert(plan.files.begin(), plan.files.end());
    plans->push_back(std::move(plan));
  }
  const std::string buffer = StrCat(writer::kViewFunction, "('traces', ", std::max<int64_t>(generation, 0), ")");
  std::string sql = buffer;
  if (!files.empty()) {
    sql = StrCat("(SELECT * FROM ", writer::ReadParquetById(schema::Traces(), {files.begin(), files.end()}),
                 " UNION ALL BY NAME SELECT * FROM ", buffer, ")");
  }
  return traceql::WithTraceColumns(sql, needs);
}

absl::StatusOr<TracesSource> PlanTraces(writer::Dataset* ds, std::optional<int64_t> start_unix_nano,
                                        std::optional<int64_t> end_unix_nano) {
  using Predicate = writer::SignalStore::Predicate;
  std::vector<Predicate> predicates;
  if (start_unix_nano) predicates.push_back({Predicate::kIntAtLeast, "end_time_unix_nano", "", *start_unix_nano});
  if (end_unix_nano) predicates.push_back({Predicate::kIntAtMost, "start_time_unix_nano", "", *end_unix_nano});
  TracesSource out;
  ASSIGN_OR_RETURN(out.plan, ds->store(Signal::kTraces).PlanScan("traces", predicates));
  const std::string buffer = StrCat(writer::kViewFunction, "('traces', ", out.plan.generation, ")");
  out.sql = buffer;
  if (!out.plan.files.empty()) {
    out.sql = StrCat("(SELECT * FROM ", writer::ReadParquetById(schema::Traces(), out.plan.files),
                     " UNION ALL BY NAME SELECT * FROM ", buffer, ")");
  }
  return out;
}

absl::StatusOr<tempopb::SearchResponse> Querier::Search(const TenantContext& ctx, const traceql::Query& query,
                                                        const SearchRequest& req) {
  if (query.metrics || query.scalar_root || !query.pipeline ||
      query.pipeline->stages[0].kind != traceql::Stage::Kind::kSpanset) {
    return absl::FailedPreconditionError(
        "TraceQL metrics functions and pipelines that start with a scalar filter, by() or select() are not supported "
        "yet in search; start with a spanset expression, e.g. { } | count() > 2");
  }
  for (size_t i = 1; i < query.pipeline->stages.size(); ++i) {
    const traceql::Stage& st = query.pipeline->stages[i];
    const bool filter = st.kind == traceql::Stage::Kind::kSpanset && st.spanset->kind == traceql::Spanset::Kind::kFilter;
    bool plain = true;
    for (const auto& f : st.fields) {
      plain = plain && (f->kind == traceql::Field::Kind::kAttribute || f->kind == traceql::Field::Kind::kIntrinsic);
    }
    if ((st.kind == traceql::Stage::Kind::kSpanset && !filter) || !plain) {
      return absl::FailedPreconditionError(
          "not supported yet in a pipeline: spanset operators after the first stage, by() of an expression");
    }
  }
  const traceql::Spanset& root = *query.pipeline->stages[0].spanset;
  const std::vector<const traceql::Spanset*> leaves = traceql::FilterLeaves(root);
  if (leaves.empty()) return absl::FailedPreconditionError("pipelines inside spanset expressions are not supported yet");

  // The filters as SQL conditions, with their parameters.
  traceql::SqlBuilder base;
  traceql::TraceColumns needs;
  std::vector<std::string> conditions;
  std::vector<traceql::AttributeRef> shown;
  ShownIntrinsics intrinsics;
  for (const traceql::Spanset* leaf : leaves) {
    ASSIGN_OR_RETURN(std::string cond, traceql::CompileCondition(leaf->filter.get(), &base, &needs));
    conditions.push_back(std::move(cond));
    for (auto& ref : traceql::ReferencedAttributes(leaf->filter.get())) {
      bool seen = false;
      for (const auto& s : shown) seen = seen || (s.scope == ref.scope && s.name == ref.name);
      if (!seen) shown.push_back(std::move(ref));
    }
    CollectIntrinsics(leaf->filter.get(), &intrinsics);
  }

  ASSIGN_OR_RETURN(writer::Dataset * ds, writer_->GetDataset(ctx));
  ASSIGN_OR_RETURN(auto conn, ds->db().Connect());
  ASSIGN_OR_RETURN(TracesSource source, PlanTraces(ds, req.start_unix_nano, req.end_unix_nano));
  const auto& plan = source.plan;
  std::string from;  // set once every stage has added the trace columns it needs
  // The time range narrows the search for candidates; the spans of a
  // candidate are then read whole (its parameters are the first
  // statement's only: DuckDB refuses unused ones).
  traceql::SqlBuilder find = base;
  std::string time = "true";
  {
    std::vector<std::string> parts;
    if (req.start_unix_nano) parts.push_back(StrCat("end_time_unix_nano >= ", find.Bind(*req.start_unix_nano)));
    if (req.end_unix_nano) parts.push_back(StrCat("start_time_unix_nano <= ", find.Bind(*req.end_unix_nano)));
    if (!parts.empty()) time = Join(parts, " AND ");
  }
  std::vector<std::string> any_match;
  for (const auto& c : conditions) any_match.push_back(StrCat("bool_or(", c, ")"));
  const std::string necessary = traceql::TraceNecessaryCondition(root, any_match);

  // Columns the later pipeline stages and the answer read, compiled once
  // (the second statement binds the candidate ids after these parameters).
  traceql::SqlBuilder extra = base;
  std::vector<std::string> shown_cols;
  for (const auto& ref : shown) {
    for (auto& c : traceql::AttributeValueColumns(ref, &extra)) shown_cols.push_back(std::move(c));
  }
  std::vector<PipeStage> stages;
  std::vector<std::string> stage_conditions, numbers, value_cols;
  std::vector<std::string> value_labels;
  auto value_column = [&](const traceql::Field& f) -> absl::StatusOr<size_t> {
    const std::string label = traceql::FieldText(f);
    for (size_t i = 0; i < value_labels.size(); ++i) {
      if (value_labels[i] == label) return i;
    }
    if (f.kind == traceql::Field::Kind::kAttribute) {
      for (auto& c : traceql::AttributeValueColumns({f.scope, f.name}, &extra)) value_cols.push_back(std::move(c));
    } else {
      ASSIGN_OR_RETURN(std::string text, traceql::CompileText(f, &extra, &needs));
      value_cols.push_back(text);
      for (size_t k = 1; k < traceql::kAttributeValueColumns; ++k) value_cols.push_back("NULL");
    }
    value_labels.push_back(label);
    return value_labels.size() - 1;
  };
  for (size_t i = 1; i < query.pipeline->stages.size(); ++i) {
    const traceql::Stage& st = query.pipeline->stages[i];
    PipeStage ps;
    ps.kind = st.kind;
    switch (st.kind) {
      case traceql::Stage::Kind::kSpanset: {
        ASSIGN_OR_RETURN(std::string cond, traceql::CompileCondition(st.spanset->filter.get(), &extra, &needs));
        ps.index = stage_conditions.size();
        stage_conditions.push_back(std::move(cond));
        break;
      }
      case traceql::Stage::Kind::kScalarFilter: {
        const traceql::ScalarFilter& f = *st.scalar_filter;
        ps.fn = f.lhs->fn;
        ps.op = f.op;
        ps.rhs = f.rhs->value.type == traceql::StaticType::kFloat ? f.rhs->value.f : static_cast<double>(f.rhs->value.i);
        ps.label = traceql::AggregateText(f.lhs->fn, f.lhs->arg.get());
        if (f.lhs->arg) {
          ASSIGN_OR_RETURN(std::string num, traceql::CompileNumber(*f.lhs->arg, &extra, &needs));
          ps.index = numbers.size();
          numbers.push_back(std::move(num));
        }
        break;
      }
      case traceql::Stage::Kind::kBy: {
        ASSIGN_OR_RETURN(ps.index, value_column(*st.fields[0]));
        ps.label = StrCat("by(", traceql::FieldText(*st.fields[0]), ")");
        break;
      }
      case traceql::Stage::Kind::kSelect:
        for (const auto& f : st.fields) {
          ASSIGN_OR_RETURN(size_t v, value_column(*f));
          ps.selected.push_back(v);
        }
        break;
      case traceql::Stage::Kind::kCoalesce:
        break;
    }
    stages.push_back(std::move(ps));
  }
  // Trace-level columns the later stages asked for.
  from = traceql::WithTraceColumns(source.sql, needs);

  std::vector<std::string> cols = {kSpanColumns};
  for (const auto& c : conditions) cols.push_back(c);
  for (const auto& c : shown_cols) cols.push_back(c);
  for (const auto& c : stage_conditions) cols.push_back(c);
  for (const auto& c : numbers) cols.push_back(c);
  for (const auto& c : value_cols) cols.push_back(c);

  tempopb::SearchResponse out;
  auto* metrics = out.mutable_metrics();
  metrics->set_inspectedbytes(plan.bytes);
  metrics->set_totalblocks(static_cast<uint32_t>(plan.files.size()));
  metrics->set_completedjobs(1);
  metrics->set_totaljobs(1);
  std::vector<tempopb::TraceSearchMetadata> found;
  std::set<std::string> answered;
  std::vector<writer::SignalStore::ScanPlan> page_plans;  // pins remote files while a page is read
  // Pages of candidates, newest (latest matching span) first. Filters alone
  // are exact, so one page of `limit` suffices unless duration bounds drop some.
  const uint64_t page = std::max<uint64_t>(req.limit * (traceql::OnlyFilters(root) ? 1 : 4), 20);
  for (uint64_t offset = 0;; offset += page) {
    const std::string candidates_sql =
        StrCat("SELECT trace_id, max(start_time_unix_nano) AS last FROM ", from, " WHERE ", time, " AND (",
               Join(conditions, " OR "), ") GROUP BY trace_id HAVING ", necessary,
               " ORDER BY last DESC, trace_id LIMIT ", page, " OFFSET ", offset);
    ASSIGN_OR_RETURN(engine::Table candidates, conn->Query(candidates_sql, find.params()));
    if (candidates.rows.empty()) break;
    metrics->set_inspectedtraces(metrics->inspectedtraces() + static_cast<uint32_t>(candidates.rows.size()));

    traceql::SqlBuilder read = extra;
    std::vector<std::string> ids;
    for (const auto& row : candidates.rows) ids.push_back(read.Bind(Text(row[0])));
    // Only the files that may hold the candidates (trace-id bounds and
    // filters, as trace-by-id plans them), whatever the time range: whole
    // traces, read fast. Spans seen twice (a flush between two plans) are
    // dropped below.
    ASSIGN_OR_RETURN(std::string traces_from, CandidateSource(ds, candidates, needs, &page_plans));
    const std::string spans_sql =
        StrCat("SELECT ", Join(cols, ", "), " FROM ", traces_from, " WHERE trace_id IN (", Join(ids, ", "), ")");
    ASSIGN_OR_RETURN(engine::Table rows, conn->Query(spans_sql, read.params()));
    page_plans.clear();
    metrics->set_inspectedspans(metrics->inspectedspans() + rows.rows.size());

    // Spans by trace, each trace's spans once (a span sent twice is one span).
    std::map<std::string, std::vector<SpanData>> traces;
    std::map<std::string, std::set<std::string>> seen;
    for (const auto& row : rows.rows) {
      const std::string trace = Text(row[cTrace]);
      SpanData s;
      s.span_id = Text(row[cSpan]);
      if (!seen[trace].insert(s.span_id).second) continue;
      s.parent_id = Text(row[cParent]);
      s.name = Text(row[cName]);
      s.service = Text(row[cService]);
      s.root = Truth(row[cRoot]);
      s.start = Number(row[cStart]);
      s.duration = Number(row[cDuration]);
      s.status = Number(row[cStatus]);
      s.kind = Number(row[cKind]);
      for (size_t i = 0; i < conditions.size(); ++i) s.matches.push_back(Truth(row[cFirstFilter + i]));
      size_t c = cFirstFilter + conditions.size();
      for (size_t i = 0; i < shown.size(); ++i, c += traceql::kAttributeValueColumns) {
        pb::AnyValue v;
        s.has_attribute.push_back(ReadAttributeValue(row, c, &v));
        s.attributes.push_back(std::move(v));
      }
      for (size_t i = 0; i < stage_conditions.size(); ++i) s.stage_matches.push_back(Truth(row[c++]));
      for (size_t i = 0; i < numbers.size(); ++i, ++c) {
        if (auto* d = std::get_if<double>(&row[c])) s.numbers.push_back(*d);
        else s.numbers.push_back(std::nullopt);
      }
      for (size_t i = 0; i < value_labels.size(); ++i, c += traceql::kAttributeValueColumns) {
        pb::AnyValue v;
        s.has_value.push_back(ReadAttributeValue(row, c, &v));
        s.values.push_back(std::move(v));
      }
      traces[trace].push_back(std::move(s));
    }
    for (auto& [trace_hex, spans] : traces) {
      std::vector<traceql::SpanRow> span_rows;
      for (const auto& s : spans) span_rows.push_back({s.span_id, s.parent_id, s.matches});
      ASSIGN_OR_RETURN(std::vector<size_t> hits, traceql::EvaluateSpansets(root, span_rows));
      if (hits.empty()) continue;
      int64_t start = INT64_MAX, end = INT64_MIN;
      const SpanData* root_span = nullptr;
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
      if (req.min_duration_nanos && duration < *req.min_duration_nanos) continue;
      if (req.max_duration_nanos && duration > *req.max_duration_nanos) continue;
      md.set_traceid(TempoTraceId(trace_hex));
      md.set_rootservicename(root_span ? root_span->service : "<root span not yet received>");
      if (root_span) md.set_roottracename(root_span->name);
      md.set_starttimeunixnano(static_cast<uint64_t>(start));
      md.set_durationms(static_cast<uint32_t>(duration / 1000000));
      // The later stages, on the spansets of this trace.
      std::vector<size_t> selected;
      std::vector<OutSet> sets = RunPipeline(stages, spans, std::move(hits), &selected);
      if (sets.empty()) continue;
      for (auto& set_data : sets) {
        // The matched spans, earliest first, at most spss of them.
        auto& members = set_data.spans;
        std::sort(members.begin(), members.end(), [&](size_t a, size_t b) {
          return std::tie(spans[a].start, spans[a].span_id) < std::tie(spans[b].start, spans[b].span_id);
        });
        auto* set = md.add_spansets();
        set->set_matched(static_cast<uint32_t>(members.size()));
        for (auto& kv : set_data.attributes) *set->add_attributes() = std::move(kv);
        for (size_t k = 0; k < members.size() && k < req.spans_per_spanset; ++k) {
          const SpanData& s = spans[members[k]];
          auto* span = set->add_spans();
          span->set_spanid(s.span_id);
          if (intrinsics.name) span->set_name(s.name);
          span->set_starttimeunixnano(static_cast<uint64_t>(s.start));
          span->set_durationnanos(static_cast<uint64_t>(s.duration));
          for (size_t i = 0; i < shown.size(); ++i) {
            if (!s.has_attribute[i]) continue;
            auto* kv = span->add_attributes();
            kv->set_key(shown[i].name);
            *kv->mutable_value() = s.attributes[i];
          }
          for (size_t v : selected) {
            if (!s.has_value[v]) continue;
            auto* kv = span->add_attributes();
            kv->set_key(value_labels[v]);
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
      auto* set = md.mutable_spansets(0);
      *md.mutable_spanset() = *set;
      // A trace seen on an earlier page (ingest moved it across the page
      // boundary) is answered once.
      if (!answered.insert(md.traceid()).second) continue;
      found.push_back(std::move(md));
    }
    if (found.size() >= req.limit || candidates.rows.size() < page) break;
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    if (a.starttimeunixnano() != b.starttimeunixnano()) return a.starttimeunixnano() > b.starttimeunixnano();
    return a.traceid() < b.traceid();
  });
  if (found.size() > req.limit) found.resize(req.limit);
  for (auto& md : found) *out.add_traces() = std::move(md);
  return out;
}

}  // namespace signaldb::querier
