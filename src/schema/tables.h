// Table schemas: the current version of each table in schemas.toml (compiled
// into the binary, see schema/registry.h). Column order is fixed: decoders
// fill columns by the indexes below, and Parquet files are written in this
// order; schema_test checks the indexes against the resolved schemas.
//
// Types are Iceberg-legal (no unsigned integers, no nanosecond timestamps):
// nanosecond times are BIGINT columns; `timestamp` is a microsecond
// TIMESTAMPTZ used for partitioning. Attribute-like columns hold OTLP JSON
// (the proto3 JSON form of the OTLP messages, ids in hex) so every AnyValue
// kind round-trips losslessly.
#pragma once

#include "absl/status/status.h"
#include "columnar/batch.h"
#include "schema/registry.h"

namespace signaldb::schema {

// Columns of the `traces` table, in order.
enum TraceColumn : int {
  kTraceId,
  kSpanId,
  kParentSpanId,
  kSpanName,
  kServiceName,
  kStartTimeUnixNano,
  kEndTimeUnixNano,
  kDurationNanos,
  kSpanKind,
  kSpanKindNumber,
  kStatusCode,
  kStatusCodeNumber,
  kStatusMessage,
  kIsRoot,
  kTraceState,
  kFlags,
  kSpanAttributesOther,  // OTLP JSON of bytes/array/kvlist-valued attributes
  kDroppedAttributesCount,
  kEvents,
  kDroppedEventsCount,
  kLinks,
  kDroppedLinksCount,
  kResourceAttributes,
  kResourceDroppedAttributesCount,
  kResourceSchemaUrl,
  kScopeName,
  kScopeVersion,
  kScopeAttributes,
  kScopeDroppedAttributesCount,
  kScopeSchemaUrl,
  kTimestamp,
  kDateDay,
  kHour,
  kSpanAttributesString,
  kSpanAttributesInt,
  kSpanAttributesDouble,
  kSpanAttributesBool,
  kTraceColumnCount,
};

// The compiled schemas.toml, parsed and validated on first use. Call
// CheckCompiledSchemas() at startup: it reports a broken file (or a missing
// table) as an error. Past that check, the accessors below cannot fail; if
// it was skipped and the file is broken they abort with the same message.
absl::Status CheckCompiledSchemas();
const SchemaSet& CompiledSchemas();

// Thread-safe; each returns the same object for the life of the process.
const columnar::Schema& Traces();
const columnar::Schema& Logs();
const columnar::Schema& MetricsGauge();
const columnar::Schema& MetricsSum();
const columnar::Schema& MetricsHistogram();
const columnar::Schema& MetricsExponentialHistogram();
const columnar::Schema& MetricsSummary();

// Lowercase names of OTLP span kinds and status codes as stored in the
// span_kind / status_code columns (the TraceQL spellings).
const char* SpanKindName(int kind);
const char* StatusCodeName(int code);

}  // namespace signaldb::schema
