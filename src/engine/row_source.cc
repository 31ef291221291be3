// The DuckDB table function behind Database::RegisterRowSource.
#include <duckdb.h>

#include <string>
#include <vector>

#include "common/strings.h"
#include "engine/engine.h"
#include "engine/row_source.h"
#include "engine/vectors.h"

namespace signaldb::engine {
namespace {

struct BindData {
  const columnar::Schema* schema;
  std::vector<std::shared_ptr<const columnar::Batch>> batches;
  std::vector<columnar::RowRef> order;  // empty: batch by batch
};

struct ScanState {
  std::vector<idx_t> columns;  // projected column indexes into the schema
  size_t batch = 0;
  size_t row = 0;
  size_t next = 0;  // position in BindData::order
};

std::string TakeString(duckdb_value v) {
  char* s = duckdb_get_varchar(v);
  std::string out = s ? s : "";
  if (s) duckdb_free(s);
  return out;
}

void Bind(duckdb_bind_info info) {
  auto* source = static_cast<RowSource*>(duckdb_bind_get_extra_info(info));
  duckdb_value table_v = duckdb_bind_get_parameter(info, 0);
  duckdb_value arg_v = duckdb_bind_get_parameter(info, 1);
  std::string table = TakeString(table_v);
  int64_t arg = duckdb_get_int64(arg_v);
  duckdb_destroy_value(&table_v);
  duckdb_destroy_value(&arg_v);
  const columnar::Schema* schema = source->TableSchema(table);
  if (schema == nullptr) {
    duckdb_bind_set_error(info, StrCat("no in-memory table '", table, "'").c_str());
    return;
  }
  for (const auto& spec : schema->columns) {
    duckdb_logical_type t = LogicalTypeOf(spec.type);
    duckdb_bind_add_result_column(info, spec.name.c_str(), t);
    duckdb_destroy_logical_type(&t);
  }
  auto* data = new BindData{schema, source->Snapshot(table, arg), {}};
  data->order = source->Order(table, data->batches);
  idx_t rows = 0;
  for (const auto& b : data->batches) rows += b->num_rows();
  duckdb_bind_set_cardinality(info, rows, true);
  duckdb_bind_set_bind_data(info, data, [](void* p) { delete static_cast<BindData*>(p); });
}

void Init(duckdb_init_info info) {
  auto* bind = static_cast<BindData*>(duckdb_init_get_bind_data(info));
  auto* state = new ScanState();
  idx_t n = duckdb_init_get_column_count(info);
  for (idx_t i = 0; i < n; ++i) state->columns.push_back(duckdb_init_get_column_index(info, i));
  (void)bind;
  duckdb_init_set_init_data(info, state, [](void* p) { delete static_cast<ScanState*>(p); });
}

void Scan(duckdb_function_info info, duckdb_data_chunk output) {
  auto* bind = static_cast<BindData*>(duckdb_function_get_bind_data(info));
  auto* state = static_cast<ScanState*>(duckdb_function_get_init_data(info));
  if (!bind->order.empty()) {
    // The source's order: gather each vector's rows across batches.
    const size_t n = std::min<size_t>(duckdb_vector_size(), bind->order.size() - state->next);
    for (size_t out = 0; out < state->columns.size() && n > 0; ++out) {
      idx_t c = state->columns[out];
      if (c >= bind->schema->columns.size()) continue;
      GatherVector(duckdb_data_chunk_get_vector(output, out), bind->batches, c, &bind->order[state->next], n);
    }
    state->next += n;
    duckdb_data_chunk_set_size(output, n);
    return;
  }
  while (state->batch < bind->batches.size() && state->row >= bind->batches[state->batch]->num_rows()) {
    ++state->batch;
    state->row = 0;
  }
  if (state->batch >= bind->batches.size()) {
    duckdb_data_chunk_set_size(output, 0);
    return;
  }
  const columnar::Batch& batch = *bind->batches[state->batch];
  size_t n = std::min<size_t>(duckdb_vector_size(), batch.num_rows() - state->row);
  for (size_t out = 0; out < state->columns.size(); ++out) {
    idx_t c = state->columns[out];
    if (c >= batch.schema().columns.size()) continue;  // e.g. a row id DuckDB did not need
    FillVector(duckdb_data_chunk_get_vector(output, out), batch.column(c), state->row, n);
  }
  state->row += n;
  duckdb_data_chunk_set_size(output, n);
}

}  // namespace

absl::Status RegisterRowSourceFunction(duckdb_connection conn, const std::string& name, RowSource* source) {
  duckdb_table_function tf = duckdb_create_table_function();
  duckdb_table_function_set_name(tf, name.c_str());
  duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
  duckdb_logical_type bigint = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
  duckdb_table_function_add_parameter(tf, varchar);
  duckdb_table_function_add_parameter(tf, bigint);
  duckdb_destroy_logical_type(&varchar);
  duckdb_destroy_logical_type(&bigint);
  duckdb_table_function_set_extra_info(tf, source, nullptr);
  duckdb_table_function_set_bind(tf, Bind);
  duckdb_table_function_set_init(tf, Init);
  duckdb_table_function_set_function(tf, Scan);
  duckdb_table_function_supports_projection_pushdown(tf, true);
  duckdb_state st = duckdb_register_table_function(conn, tf);
  duckdb_destroy_table_function(&tf);
  if (st != DuckDBSuccess) return absl::InternalError(StrCat("cannot register table function ", name));
  return absl::OkStatus();
}

}  // namespace signaldb::engine
