#include "parquet/format.h"

#include "parquet/thrift.h"

namespace signaldb::parquet {
namespace {

using W = CompactWriter;

int32_t E(auto v) { return static_cast<int32_t>(v); }

void WriteStatistics(W& w, int16_t id, const Statistics& s) {
  w.BeginStruct(id);
  if (s.legacy_bounds) {
    if (s.max_value) w.Binary(1, *s.max_value);  // max
    if (s.min_value) w.Binary(2, *s.min_value);  // min
  }
  if (s.null_count) w.I64(3, *s.null_count);
  if (s.max_value) w.Binary(5, *s.max_value);
  if (s.min_value) w.Binary(6, *s.min_value);
  if (s.max_value) w.Bool(7, s.max_exact);
  if (s.min_value) w.Bool(8, s.min_exact);
  w.EndStruct();
}

void WriteSchemaElement(W& w, const SchemaElement& e) {
  w.BeginListStruct();
  if (e.type) w.I32(1, E(*e.type));
  if (e.repetition) w.I32(3, E(*e.repetition));
  w.Binary(4, e.name);
  if (e.num_children) w.I32(5, *e.num_children);
  if (e.converted_type) w.I32(6, E(*e.converted_type));
  if (e.field_id) w.I32(9, *e.field_id);
  if (e.timestamp_utc_micros) {
    w.BeginStruct(10);  // logicalType (a union)
    w.BeginStruct(8);   // TIMESTAMP
    w.Bool(1, true);    // isAdjustedToUTC
    w.BeginStruct(2);   // unit (a union)
    w.BeginStruct(2);   // MICROS
    w.EndStruct();
    w.EndStruct();
    w.EndStruct();
    w.EndStruct();
  }
  w.EndStruct();
}

void WriteColumnChunk(W& w, const ColumnChunk& c) {
  w.BeginListStruct();
  w.I64(2, c.file_offset);
  const ColumnMetaData& m = c.meta_data;
  w.BeginStruct(3);
  w.I32(1, E(m.type));
  w.BeginList(2, W::kI32, m.encodings.size());
  for (Encoding e : m.encodings) w.ListI32(E(e));
  w.BeginList(3, W::kBinary, m.path_in_schema.size());
  for (const auto& p : m.path_in_schema) w.ListBinary(p);
  w.I32(4, E(m.codec));
  w.I64(5, m.num_values);
  w.I64(6, m.total_uncompressed_size);
  w.I64(7, m.total_compressed_size);
  w.I64(9, m.data_page_offset);
  if (m.dictionary_page_offset) w.I64(11, *m.dictionary_page_offset);
  WriteStatistics(w, 12, m.statistics);
  w.EndStruct();
  w.EndStruct();
}

}  // namespace

void Serialize(const FileMetaData& meta, std::string* out) {
  W w(out);
  w.Begin();
  w.I32(1, meta.version);
  w.BeginList(2, W::kStruct, meta.schema.size());
  for (const auto& e : meta.schema) WriteSchemaElement(w, e);
  w.I64(3, meta.num_rows);
  w.BeginList(4, W::kStruct, meta.row_groups.size());
  for (const auto& rg : meta.row_groups) {
    w.BeginListStruct();
    w.BeginList(1, W::kStruct, rg.columns.size());
    for (const auto& c : rg.columns) WriteColumnChunk(w, c);
    w.I64(2, rg.total_byte_size);
    w.I64(3, rg.num_rows);
    w.I64(5, rg.file_offset);
    w.I64(6, rg.total_compressed_size);
    w.I16(7, rg.ordinal);
    w.EndStruct();
  }
  w.Binary(6, meta.created_by);
  // column_orders: TYPE_ORDER for every leaf, so readers may use min_value
  // and max_value (the format leaves them undefined without it).
  w.BeginList(7, W::kStruct, static_cast<size_t>(meta.num_leaves));
  for (int32_t i = 0; i < meta.num_leaves; ++i) {
    w.BeginListStruct();  // ColumnOrder (a union)
    w.BeginStruct(1);     // TYPE_ORDER
    w.EndStruct();
    w.EndStruct();
  }
  w.End();
}

void Serialize(const PageHeader& h, std::string* out) {
  W w(out);
  w.Begin();
  w.I32(1, E(h.type));
  w.I32(2, h.uncompressed_page_size);
  w.I32(3, h.compressed_page_size);
  if (h.type == PageType::kDataPage) {
    w.BeginStruct(5);
    w.I32(1, h.data.num_values);
    w.I32(2, E(h.data.encoding));
    w.I32(3, E(Encoding::kRle));  // definition levels
    w.I32(4, E(Encoding::kRle));  // repetition levels
    w.EndStruct();
  } else {
    w.BeginStruct(7);
    w.I32(1, h.dictionary.num_values);
    w.I32(2, E(Encoding::kPlain));
    w.EndStruct();
  }
  w.End();
}

}  // namespace signaldb::parquet
