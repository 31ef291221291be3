#include "querier/trace_scan.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "schema/tables.h"
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

// Columns of the span statement before the per-filter flags.
constexpr const char* kSpanColumns =
    "trace_id, span_id, coalesce(parent_span_id, ''), span_name, service_name, is_root, start_time_unix_nano, "
    "duration_nanos, status_code_number, span_kind_number";
enum { cTrace, cSpan, cParent, cName, cService, cRoot, cStart, cDuration, cStatus, cKind, cFirstFilter };

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

// The pipelines wrapped directly in a spanset expression (not those inside
// them).
void WrappedPipelines(const traceql::Spanset& s, std::vector<const traceql::Pipeline*>* out) {
  switch (s.kind) {
    case traceql::Spanset::Kind::kFilter: break;
    case traceql::Spanset::Kind::kPipeline: out->push_back(s.pipeline.get()); break;
    case traceql::Spanset::Kind::kOperation:
      WrappedPipelines(*s.lhs, out);
      WrappedPipelines(*s.rhs, out);
      break;
  }
}

// A pipeline's stages, with a stage that is a wrapped pipeline alone (not
// an operand) replaced by that pipeline's stages: Tempo's Pipeline.evaluate
// runs such an element on all the spansets in hand, as the stages would.
void FlatStages(const traceql::Pipeline& p, std::vector<const traceql::Stage*>* out) {
  for (const traceql::Stage& st : p.stages) {
    if (st.kind == traceql::Stage::Kind::kSpanset && st.spanset->kind == traceql::Spanset::Kind::kPipeline) {
      FlatStages(*st.spanset->pipeline, out);
    } else {
      out->push_back(&st);
    }
  }
}

}  // namespace

absl::StatusOr<TraceScan> TraceScan::CompileAll(const std::vector<const traceql::Pipeline*>& pipelines,
                                                const ExtraColumns& extra) {
  TraceScan scan;
  std::vector<std::vector<const traceql::Stage*>> flat(pipelines.size());
  for (size_t k = 0; k < pipelines.size(); ++k) {
    FlatStages(*pipelines[k], &flat[k]);
    if (flat[k].empty()) return absl::InvalidArgumentError("empty pipeline");
    const std::vector<const traceql::Stage*>& stages = flat[k];
    Branch b;
    // A pipeline that does not start with a spanset expression (count() > 1,
    // by(...), select(...), coalesce()) applies to every span of the trace,
    // as if it started with { } (Tempo's engine hands the first stage one
    // spanset per trace holding all its fetched spans).
    if (stages[0]->kind == traceql::Stage::Kind::kSpanset) {
      b.root = stages[0]->spanset.get();
    } else {
      auto all = std::make_shared<traceql::Spanset>();
      all->kind = traceql::Spanset::Kind::kFilter;
      b.own_root = all;
      b.root = all.get();
    }
    // The candidates' conditions: the expression's filters and those its
    // wrapped pipelines start with (TraceNecessaryCondition's order); the
    // expression is evaluated over its own filters' flags (FilterLeaves).
    b.first_condition = scan.conditions_.size();
    const std::vector<const traceql::Spanset*> leaves = traceql::ConditionFilterLeaves(*b.root);
    for (const traceql::Spanset* leaf : leaves) {
      ASSIGN_OR_RETURN(std::string cond, traceql::CompileCondition(leaf->filter.get(), &scan.base_, &scan.needs_));
      scan.conditions_.push_back(std::move(cond));
    }
    for (const traceql::Spanset* leaf : traceql::FilterLeaves(*b.root)) {
      const size_t at = static_cast<size_t>(std::find(leaves.begin(), leaves.end(), leaf) - leaves.begin());
      b.eval_conditions.push_back(b.first_condition + at);
    }
    // Wrapped pipelines starting without a filter: every span may do.
    if (leaves.empty()) scan.conditions_.push_back("true");
    b.conditions = scan.conditions_.size() - b.first_condition;
    scan.branches_.push_back(std::move(b));
  }

  // The span statement's columns, compiled once (it binds the candidate ids
  // after these parameters).
  scan.read_ = scan.base_;
  traceql::SqlBuilder* sql = &scan.read_;
  std::vector<std::string> stage_conditions, numbers, value_cols;
  auto value_column = [&](const traceql::Field& f) -> absl::StatusOr<size_t> {
    const std::string label = traceql::FieldText(f);
    for (size_t i = 0; i < scan.value_labels_.size(); ++i) {
      if (scan.value_labels_[i] == label) return i;
    }
    ASSIGN_OR_RETURN(std::vector<std::string> cols, traceql::CompileValueColumns(f, sql, &scan.needs_));
    for (auto& c : cols) value_cols.push_back(std::move(c));
    scan.value_labels_.push_back(label);
    return scan.value_labels_.size() - 1;
  };
  // Compiles a stage; the pipelines wrapped in a spanset expression are
  // compiled whole (from their first stage, run on the spanset the
  // expression is evaluated on) into nested_.
  std::function<absl::StatusOr<Stage>(const traceql::Stage&)> compile_stage;
  auto compile_wrapped = [&](const traceql::Spanset& expr) -> absl::Status {
    std::vector<const traceql::Pipeline*> wrapped;
    WrappedPipelines(expr, &wrapped);
    for (const traceql::Pipeline* p : wrapped) {
      if (p->stages.empty()) return absl::InvalidArgumentError("empty pipeline");
      std::vector<const traceql::Stage*> flat_stages;
      FlatStages(*p, &flat_stages);
      std::vector<Stage> stages;
      for (const traceql::Stage* st : flat_stages) {
        ASSIGN_OR_RETURN(Stage ps, compile_stage(*st));
        stages.push_back(std::move(ps));
      }
      scan.nested_[p] = std::move(stages);
    }
    return absl::OkStatus();
  };
  compile_stage = [&](const traceql::Stage& st) -> absl::StatusOr<Stage> {
    Stage ps;
    ps.kind = st.kind;
    switch (st.kind) {
      case traceql::Stage::Kind::kSpanset: {
        // Each filter of the expression is a flag column; an expression
        // over several is evaluated per input spanset (RunStages).
        ps.spanset = st.spanset.get();
        ps.index = stage_conditions.size();
        for (const traceql::Spanset* leaf : traceql::FilterLeaves(*st.spanset)) {
          ASSIGN_OR_RETURN(std::string cond, traceql::CompileCondition(leaf->filter.get(), sql, &scan.needs_));
          stage_conditions.push_back(std::move(cond));
        }
        ps.leaves = stage_conditions.size() - ps.index;
        RETURN_IF_ERROR(compile_wrapped(*st.spanset));
        break;
      }
      case traceql::Stage::Kind::kScalarFilter: {
        const traceql::ScalarFilter& f = *st.scalar_filter;
        ps.fn = f.lhs->fn;
        ps.op = f.op;
        ps.rhs = f.rhs->value.type == traceql::StaticType::kFloat ? f.rhs->value.f : static_cast<double>(f.rhs->value.i);
        ps.label = traceql::AggregateText(f.lhs->fn, f.lhs->arg.get());
        if (f.lhs->arg) {
          ASSIGN_OR_RETURN(std::string num, traceql::CompileNumber(*f.lhs->arg, sql, &scan.needs_));
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
    return ps;
  };
  for (size_t k = 0; k < pipelines.size(); ++k) {
    RETURN_IF_ERROR(compile_wrapped(*scan.branches_[k].root));
    const bool starts_with_spanset = flat[k][0]->kind == traceql::Stage::Kind::kSpanset;
    for (size_t i = starts_with_spanset ? 1 : 0; i < flat[k].size(); ++i) {
      ASSIGN_OR_RETURN(Stage ps, compile_stage(*flat[k][i]));
      scan.branches_[k].stages.push_back(std::move(ps));
    }
  }
  std::vector<std::string> extras;
  if (extra) {
    ASSIGN_OR_RETURN(extras, extra(sql, &scan.needs_));
  }
  scan.columns_ = {kSpanColumns};
  for (auto* part : {&scan.conditions_, &stage_conditions, &numbers, &value_cols, &extras}) {
    scan.columns_.insert(scan.columns_.end(), part->begin(), part->end());
  }
  scan.stage_conditions_ = stage_conditions.size();
  scan.numbers_ = numbers.size();
  scan.extras_ = extras.size();
  return scan;
}

std::optional<double> AggregateSpans(traceql::AggregateFn fn, const std::vector<size_t>& spans,
                                     const std::function<std::optional<double>(size_t)>& value) {
  if (fn == traceql::AggregateFn::kCount) return static_cast<double>(spans.size());
  double out = 0;
  size_t n = 0;
  for (size_t i : spans) {
    const std::optional<double> x = value(i);
    if (!x) continue;
    if (n == 0) out = *x;
    else if (fn == traceql::AggregateFn::kMin) out = std::min(out, *x);
    else if (fn == traceql::AggregateFn::kMax) out = std::max(out, *x);
    else out += *x;
    ++n;
  }
  if (n == 0) return std::nullopt;  // nothing to aggregate: no value
  if (fn == traceql::AggregateFn::kAvg) out /= static_cast<double>(n);
  return out;
}

absl::StatusOr<std::vector<size_t>> TraceScan::EvaluateExpression(const traceql::Spanset& expr,
                                                                   const std::vector<ScanSpan>& spans,
                                                                   const std::vector<traceql::SpanRow>& rows,
                                                                   const std::vector<size_t>& input,
                                                                   std::vector<size_t>* selected) const {
  const traceql::PipelineResults wrapped =
      [&](const traceql::Pipeline& p) -> absl::StatusOr<std::vector<std::vector<size_t>>> {
    auto it = nested_.find(&p);
    if (it == nested_.end()) return absl::InternalError("a wrapped pipeline was not compiled");
    // Its own copy of the rows: its stages overwrite their flags while the
    // enclosing expression still reads them.
    std::vector<traceql::SpanRow> own = rows;
    ASSIGN_OR_RETURN(std::vector<ScanSet> sets, RunStages(it->second, spans, &own, input, selected));
    std::vector<std::vector<size_t>> out;
    for (auto& set : sets) out.push_back(std::move(set.spans));
    return out;
  };
  return traceql::EvaluateSpansets(expr, rows, wrapped);
}

absl::StatusOr<std::vector<ScanSet>> TraceScan::RunStages(const std::vector<Stage>& stages,
                                                          const std::vector<ScanSpan>& spans,
                                                          std::vector<traceql::SpanRow>* rows, std::vector<size_t> first,
                                                          std::vector<size_t>* selected) const {
  if (first.empty()) return std::vector<ScanSet>{};  // no spanset to start from
  std::vector<ScanSet> sets(1);
  sets[0].spans = std::move(first);
  for (const Stage& st : stages) {
    std::vector<ScanSet> next;
    switch (st.kind) {
      case traceql::Stage::Kind::kSpanset:
        for (auto& set : sets) {
          std::vector<size_t> kept;
          if (st.spanset->kind == traceql::Spanset::Kind::kFilter) {
            for (size_t i : set.spans) {
              if (spans[i].stage_matches[st.index]) kept.push_back(i);
            }
          } else {
            // As Tempo: the expression is evaluated on this spanset alone
            // (its filters see only its spans), the structure of the whole
            // trace relating them.
            for (auto& row : *rows) row.matches.assign(st.leaves, false);
            for (size_t i : set.spans) {
              for (size_t k = 0; k < st.leaves; ++k) (*rows)[i].matches[k] = spans[i].stage_matches[st.index + k];
            }
            ASSIGN_OR_RETURN(kept, EvaluateExpression(*st.spanset, spans, *rows, set.spans, selected));
          }
          if (kept.empty()) continue;
          set.spans = std::move(kept);
          next.push_back(std::move(set));
        }
        break;
      case traceql::Stage::Kind::kScalarFilter:
        for (auto& set : sets) {
          const std::optional<double> agg =
              AggregateSpans(st.fn, set.spans, [&](size_t i) { return spans[i].numbers[st.index]; });
          if (!agg) continue;
          const double value = *agg;
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
          std::map<std::string, ScanSet> groups;  // by the value's bytes
          for (size_t i : set.spans) {
            const bool has = spans[i].has_value[st.index];
            const std::string key = has ? spans[i].values[st.index].SerializeAsString() : std::string();
            auto [it, fresh] = groups.try_emplace(key);
            if (fresh) {
              it->second.attributes = set.attributes;
              pb::KeyValue kv;
              kv.set_key(st.label);
              // Without a value: Tempo's nil, which its answer writes as "nil".
              if (has) *kv.mutable_value() = spans[i].values[st.index];
              else kv.mutable_value()->set_string_value("nil");
              it->second.attributes.push_back(std::move(kv));
            }
            it->second.spans.push_back(i);
          }
          for (auto& [key, group] : groups) next.push_back(std::move(group));
        }
        break;
      case traceql::Stage::Kind::kCoalesce: {
        ScanSet all;
        for (auto& set : sets) all.spans.insert(all.spans.end(), set.spans.begin(), set.spans.end());
        std::sort(all.spans.begin(), all.spans.end());
        all.spans.erase(std::unique(all.spans.begin(), all.spans.end()), all.spans.end());
        if (!all.spans.empty()) next.push_back(std::move(all));
        break;
      }
      case traceql::Stage::Kind::kSelect:
        // Once each (a wrapped pipeline runs once per spanset).
        for (size_t v : st.selected) {
          if (std::find(selected->begin(), selected->end(), v) == selected->end()) selected->push_back(v);
        }
        next = std::move(sets);
        break;
    }
    sets = std::move(next);
    if (sets.empty()) break;
  }
  return sets;
}

absl::Status TraceScan::Run(engine::Connection* conn, writer::Dataset* ds, const TracesSource& source,
                            const Window& window, uint64_t page, const std::function<absl::Status(ScannedTrace&)>& visit,
                            const std::function<absl::StatusOr<bool>()>& more, tempopb::SearchMetrics* metrics) const {
  const std::string from = traceql::WithTraceColumns(source.sql, needs_);
  // The window narrows the search for candidates; the spans of a candidate
  // are then read whole (the window's parameters are the first statement's
  // only: DuckDB refuses unused ones).
  traceql::SqlBuilder find = base_;
  std::vector<std::string> time = {"true"};
  if (window.start_unix_nano) time.push_back(StrCat("end_time_unix_nano >= ", find.Bind(*window.start_unix_nano)));
  if (window.end_unix_nano) time.push_back(StrCat("start_time_unix_nano <= ", find.Bind(*window.end_unix_nano)));
  std::vector<std::string> any_match;
  for (const auto& c : conditions_) any_match.push_back(StrCat("bool_or(", c, ")"));
  std::vector<std::string> having;
  for (const Branch& b : branches_) {
    having.push_back(traceql::TraceNecessaryCondition(
        *b.root, {any_match.begin() + static_cast<std::ptrdiff_t>(b.first_condition),
                  any_match.begin() + static_cast<std::ptrdiff_t>(b.first_condition + b.conditions)}));
  }
  if (window.latest_from) having.push_back(StrCat("max(start_time_unix_nano) >= ", find.Bind(*window.latest_from)));
  if (window.latest_before) {
    having.push_back(StrCat("max(start_time_unix_nano) < ", find.Bind(*window.latest_before)));
  }
  std::vector<writer::SignalStore::ScanPlan> page_plans;  // pins remote files while a page is read
  for (uint64_t offset = 0;; offset += page) {
    const std::string candidates_sql =
        StrCat("SELECT trace_id, max(start_time_unix_nano) AS last FROM ", from, " WHERE ", Join(time, " AND "),
               " AND (", Join(conditions_, " OR "), ") GROUP BY trace_id HAVING ", Join(having, " AND "),
               " ORDER BY last DESC, trace_id LIMIT ", page, " OFFSET ", offset);
    ASSIGN_OR_RETURN(engine::Table candidates, conn->Query(candidates_sql, find.params()));
    if (candidates.rows.empty()) break;
    metrics->set_inspectedtraces(metrics->inspectedtraces() + static_cast<uint32_t>(candidates.rows.size()));

    traceql::SqlBuilder read = read_;
    std::vector<std::string> ids;
    for (const auto& row : candidates.rows) ids.push_back(read.Bind(Text(row[0])));
    // Only the files that may hold the candidates (trace-id bounds and
    // filters, as trace-by-id plans them), whatever the window: whole
    // traces, read fast. Spans seen twice (a flush between two plans) are
    // dropped below.
    ASSIGN_OR_RETURN(std::string traces_from, CandidateSource(ds, candidates, needs_, &page_plans));
    const std::string spans_sql = StrCat("SELECT ", Join(columns_, ", "), " FROM ", traces_from,
                                         " WHERE trace_id IN (", Join(ids, ", "), ")");
    ASSIGN_OR_RETURN(engine::Table rows, conn->Query(spans_sql, read.params()));
    page_plans.clear();
    metrics->set_inspectedspans(metrics->inspectedspans() + rows.rows.size());

    // Spans by trace, each trace's spans once (a span sent twice is one span).
    std::map<std::string, std::vector<ScanSpan>> traces;
    std::map<std::string, std::set<std::string>> seen;
    for (const auto& row : rows.rows) {
      const std::string trace = Text(row[cTrace]);
      ScanSpan s;
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
      size_t c = cFirstFilter;
      for (size_t i = 0; i < conditions_.size(); ++i) s.matches.push_back(Truth(row[c++]));
      for (size_t i = 0; i < stage_conditions_; ++i) s.stage_matches.push_back(Truth(row[c++]));
      for (size_t i = 0; i < numbers_; ++i, ++c) {
        if (auto* d = std::get_if<double>(&row[c])) s.numbers.push_back(*d);
        else s.numbers.push_back(std::nullopt);
      }
      for (size_t i = 0; i < value_labels_.size(); ++i, c += traceql::kAttributeValueColumns) {
        pb::AnyValue v;
        s.has_value.push_back(ReadAttributeValue(row, c, &v));
        s.values.push_back(std::move(v));
      }
      s.extra.assign(row.begin() + static_cast<std::ptrdiff_t>(c), row.begin() + static_cast<std::ptrdiff_t>(c + extras_));
      traces[trace].push_back(std::move(s));
    }
    for (auto& [trace_id, spans] : traces) {
      ScannedTrace trace;
      for (const Branch& b : branches_) {
        std::vector<traceql::SpanRow> span_rows;
        std::vector<size_t> all;
        for (const auto& s : spans) {
          std::vector<bool> matches;
          for (size_t c : b.eval_conditions) matches.push_back(s.matches[c]);
          all.push_back(span_rows.size());
          span_rows.push_back({s.span_id, s.parent_id, std::move(matches)});
        }
        ASSIGN_OR_RETURN(std::vector<size_t> hits, EvaluateExpression(*b.root, spans, span_rows, all, &trace.selected));
        if (hits.empty()) break;
        ASSIGN_OR_RETURN(std::vector<ScanSet> sets,
                         RunStages(b.stages, spans, &span_rows, std::move(hits), &trace.selected));
        if (sets.empty()) break;
        trace.branches.push_back(std::move(sets));
      }
      if (trace.branches.size() < branches_.size()) continue;
      trace.sets = trace.branches[0];
      trace.trace_id = trace_id;
      trace.spans = std::move(spans);
      RETURN_IF_ERROR(visit(trace));
    }
    ASSIGN_OR_RETURN(bool again, more());
    if (!again || candidates.rows.size() < page) break;
  }
  return absl::OkStatus();
}

}  // namespace signaldb::querier
