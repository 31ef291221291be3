#include "parquet/writer.h"

#include <cstring>

#include "common/status_macros.h"
#include "common/strings.h"
#include "parquet/column_chunk.h"
#include "parquet/format.h"

namespace signaldb::parquet {
namespace {

using columnar::ColumnType;

constexpr std::string_view kMagic = "PAR1";
// Written bytes are handed to the file in pieces of about this size.
constexpr size_t kWriteChunk = 4 << 20;

// The schema element of a primitive column or map key/value.
SchemaElement Primitive(const std::string& name, ColumnType type, Repetition repetition,
                        int32_t field_id) {
  SchemaElement e;
  e.name = name;
  e.repetition = repetition;
  e.field_id = field_id;
  switch (type) {
    case ColumnType::kString:
      e.type = Type::kByteArray;
      e.converted_type = ConvertedType::kUtf8;
      break;
    case ColumnType::kInt32:
      e.type = Type::kInt32;
      e.converted_type = ConvertedType::kInt32;
      break;
    case ColumnType::kDate:
      e.type = Type::kInt32;
      e.converted_type = ConvertedType::kDate;
      break;
    case ColumnType::kInt64:
      e.type = Type::kInt64;
      e.converted_type = ConvertedType::kInt64;
      break;
    case ColumnType::kTimestampMicros:
      e.type = Type::kInt64;
      e.converted_type = ConvertedType::kTimestampMicros;
      e.timestamp_utc_micros = true;
      break;
    case ColumnType::kDouble:
      e.type = Type::kDouble;
      break;
    case ColumnType::kBool:
      e.type = Type::kBoolean;
      break;
    default:
      break;  // maps are groups
  }
  return e;
}

// The Parquet schema of `schema` (depth first, root first) and its leaves.
void BuildSchema(const columnar::Schema& schema, std::vector<SchemaElement>* elements,
                 std::vector<Leaf>* leaves) {
  SchemaElement root;
  root.name = "schema";
  root.repetition = Repetition::kRequired;
  root.num_children = static_cast<int32_t>(schema.columns.size());
  elements->push_back(root);
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    const auto& c = schema.columns[i];
    if (!columnar::IsMap(c.type)) {
      elements->push_back(Primitive(c.name, c.type, Repetition::kOptional, c.field_id));
      leaves->push_back(Leaf{.column = i,
                             .child = -1,
                             .value_type = c.type,
                             .physical = *elements->back().type,
                             .max_def = 1,
                             .max_rep = 0,
                             .path = {c.name}});
      continue;
    }
    SchemaElement map;
    map.name = c.name;
    map.repetition = Repetition::kOptional;
    map.num_children = 1;
    map.converted_type = ConvertedType::kMap;
    map.field_id = c.field_id;
    elements->push_back(map);
    SchemaElement kv;
    kv.name = "key_value";
    kv.repetition = Repetition::kRepeated;
    kv.num_children = 2;
    elements->push_back(kv);
    elements->push_back(Primitive("key", ColumnType::kString, Repetition::kRequired, c.key_id));
    leaves->push_back(Leaf{.column = i,
                           .child = 0,
                           .value_type = ColumnType::kString,
                           .physical = Type::kByteArray,
                           .max_def = 2,
                           .max_rep = 1,
                           .path = {c.name, "key_value", "key"}});
    const ColumnType vt = columnar::MapValueType(c.type);
    elements->push_back(Primitive("value", vt, Repetition::kOptional, c.value_id));
    leaves->push_back(Leaf{.column = i,
                           .child = 1,
                           .value_type = vt,
                           .physical = *elements->back().type,
                           .max_def = 3,
                           .max_rep = 1,
                           .path = {c.name, "key_value", "value"}});
  }
}

absl::Status CheckBatches(const columnar::Schema& schema,
                          const std::vector<std::shared_ptr<const columnar::Batch>>& batches) {
  for (const auto& b : batches) {
    const auto& cols = b->schema().columns;
    if (cols.size() != schema.columns.size()) {
      return absl::InvalidArgumentError(StrCat("batch of ", b->schema().table, " has ", cols.size(),
                                               " columns; the file schema has ",
                                               schema.columns.size()));
    }
    for (size_t i = 0; i < cols.size(); ++i) {
      if (cols[i].type != schema.columns[i].type) {
        return absl::InvalidArgumentError(
            StrCat("column ", schema.columns[i].name, " has another type in a batch"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<WriteResult> WriteFile(
    const columnar::Schema& schema,
    const std::vector<std::shared_ptr<const columnar::Batch>>& batches,
    std::span<const columnar::RowRef> rows, const WriteOptions& options, WritableFile* out) {
  RETURN_IF_ERROR(CheckBatches(schema, batches));
  if (out->Size() != 0) return absl::FailedPreconditionError("Parquet output file is not empty");
  if (options.row_group_rows == 0)
    return absl::InvalidArgumentError("row_group_rows must be positive");
  FileMetaData meta;
  std::vector<Leaf> leaves;
  BuildSchema(schema, &meta.schema, &leaves);
  meta.num_leaves = static_cast<int32_t>(leaves.size());
  meta.num_rows = static_cast<int64_t>(rows.size());
  meta.created_by = options.created_by;

  std::string buf(kMagic);
  uint64_t offset = 0;  // of buf's first byte in the file
  auto drain = [&](bool all) -> absl::Status {
    if (buf.empty() || (!all && buf.size() < kWriteChunk)) return absl::OkStatus();
    RETURN_IF_ERROR(out->Append(buf));
    offset += buf.size();
    buf.clear();
    return absl::OkStatus();
  };

  // String leaves: file-wide dictionary ids, or null where a dictionary
  // would not pay.
  std::vector<std::unique_ptr<FileDictionary>> dictionaries(leaves.size());
  std::vector<const columnar::ColumnData*> columns(batches.size());
  if (options.dictionary && !rows.empty()) {
    for (size_t l = 0; l < leaves.size(); ++l) {
      if (leaves[l].value_type != ColumnType::kString) continue;
      for (size_t b = 0; b < batches.size(); ++b) {
        const columnar::ColumnData& c = batches[b]->column(leaves[l].column);
        columns[b] = leaves[l].child < 0 ? &c : &c.children[static_cast<size_t>(leaves[l].child)];
      }
      dictionaries[l] = FileDictionary::Build(columns);
    }
  }

  ChunkEncoder encoder(options);
  EncodedChunk chunk;
  for (size_t start = 0; start < rows.size(); start += options.row_group_rows) {
    const auto group = rows.subspan(start, std::min(options.row_group_rows, rows.size() - start));
    RowGroup rg;
    rg.num_rows = static_cast<int64_t>(group.size());
    rg.ordinal = static_cast<int16_t>(meta.row_groups.size());
    rg.file_offset = static_cast<int64_t>(offset + buf.size());
    for (size_t l = 0; l < leaves.size(); ++l) {
      const Leaf& leaf = leaves[l];
      for (size_t b = 0; b < batches.size(); ++b) columns[b] = &batches[b]->column(leaf.column);
      RETURN_IF_ERROR(encoder.Encode(leaf, columns, group, dictionaries[l].get(), &chunk));
      const int64_t at = static_cast<int64_t>(offset + buf.size());
      ColumnChunk cc;
      cc.meta_data = std::move(chunk.meta);
      cc.meta_data.data_page_offset += at;
      if (cc.meta_data.dictionary_page_offset) *cc.meta_data.dictionary_page_offset += at;
      cc.file_offset = at;
      rg.total_byte_size += cc.meta_data.total_uncompressed_size;
      rg.total_compressed_size += cc.meta_data.total_compressed_size;
      rg.columns.push_back(std::move(cc));
      buf.append(chunk.bytes);
      RETURN_IF_ERROR(drain(false));
    }
    meta.row_groups.push_back(std::move(rg));
  }
  const size_t footer_at = buf.size();
  Serialize(meta, &buf);
  const uint32_t footer_len = static_cast<uint32_t>(buf.size() - footer_at);
  char len[4];
  std::memcpy(len, &footer_len, 4);  // little endian (x86-64, aarch64)
  buf.append(len, 4);
  buf.append(kMagic);
  RETURN_IF_ERROR(drain(true));
  return WriteResult{.bytes = offset, .rows = rows.size(), .row_groups = meta.row_groups.size()};
}

}  // namespace signaldb::parquet
