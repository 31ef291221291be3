// Table schemas. Column order is fixed: decoders fill columns by the indexes
// below, and Parquet files are written in this order.
//
// Types are Iceberg-legal (no unsigned integers, no nanosecond timestamps):
// nanosecond times are BIGINT columns; `timestamp` is a microsecond
// TIMESTAMPTZ used for partitioning. Attribute-like columns hold OTLP JSON
// (the proto3 JSON form of the OTLP messages, ids in hex) so every AnyValue
// kind round-trips losslessly.
#pragma once

#include "columnar/batch.h"

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
  kSpanAttributes,
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
  kTraceColumnCount,
};

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
