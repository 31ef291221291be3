// Expected table rows from OTLP JSON (as the SDK's JSON serializer writes
// what its exporters send), and the same shape from our SQL results, so a
// test can compare every column of every log record and data point.
import { anyValue, keyValues } from './canonical.mjs';

const str = (v) => (v === undefined || v === null || v === '' ? null : String(v));
const int64 = (v) => String(v ?? 0);
const hex = (v) => (v ? String(v).toLowerCase() : null);
const dbl = (v) => {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;  // "NaN", "Infinity"
  return Number(v);
};
const nums = (a) => (a || []).map((x) => (typeof x === 'string' && !/^-?\d+$/.test(x) ? x : Number(x)));
function serviceName(resource) {
  const kv = (resource?.attributes || []).find((a) => a.key === 'service.name');
  return kv?.value?.stringValue ?? 'unknown_service';
}
function context(resourceEntry, scopeEntry) {
  return {
    service_name: serviceName(resourceEntry.resource),
    resource_attributes: keyValues(resourceEntry.resource?.attributes),
    resource_dropped_attributes_count: int64(resourceEntry.resource?.droppedAttributesCount),
    resource_schema_url: str(resourceEntry.schemaUrl),
    scope_name: str(scopeEntry.scope?.name),
    scope_version: str(scopeEntry.scope?.version),
    scope_attributes: keyValues(scopeEntry.scope?.attributes),
    scope_dropped_attributes_count: int64(scopeEntry.scope?.droppedAttributesCount),
    scope_schema_url: str(scopeEntry.schemaUrl),
  };
}

export const LOG_COLUMNS = ['time_unix_nano', 'observed_time_unix_nano', 'trace_id', 'span_id', 'trace_flags',
  'severity_text', 'severity_number', 'body', 'event_name', 'log_attributes', 'dropped_attributes_count',
  'service_name', 'resource_attributes', 'resource_dropped_attributes_count', 'resource_schema_url', 'scope_name',
  'scope_version', 'scope_attributes', 'scope_dropped_attributes_count', 'scope_schema_url'];
const JSON_COLUMNS = new Set(['log_attributes', 'resource_attributes', 'scope_attributes', 'attributes',
  'metric_metadata']);

export function expectedLogRows(otlp) {
  const rows = [];
  for (const rl of otlp.resourceLogs || []) {
    for (const sl of rl.scopeLogs || []) {
      for (const r of sl.logRecords || []) {
        rows.push({
          time_unix_nano: int64(r.timeUnixNano), observed_time_unix_nano: int64(r.observedTimeUnixNano),
          trace_id: hex(r.traceId), span_id: hex(r.spanId), trace_flags: int64(r.flags),
          severity_text: str(r.severityText), severity_number: Number(r.severityNumber ?? 0),
          body: r.body ? anyValue(r.body) : null, event_name: str(r.eventName),
          log_attributes: keyValues(r.attributes), dropped_attributes_count: int64(r.droppedAttributesCount),
          ...context(rl, sl),
        });
      }
    }
  }
  return rows;
}

// One SQL result (rows of `columns`) as objects, JSON columns parsed.
export function sqlRows(result) {
  const names = result.columns.map((c) => c.name);
  return result.rows.map((row) => {
    const o = {};
    names.forEach((n, i) => {
      let v = row[i];
      if (v !== null && (JSON_COLUMNS.has(n))) v = keyValues(JSON.parse(v));
      else if (v !== null && n === 'body') v = anyValue(JSON.parse(v));
      else if (v !== null && ['bucket_counts', 'explicit_bounds', 'positive_bucket_counts',
        'negative_bucket_counts'].includes(n)) v = nums(JSON.parse(v));
      else if (v !== null && n === 'exemplars') v = JSON.parse(v);
      o[n] = v;
    });
    return o;
  });
}

const METRIC_COMMON = ['time_unix_nano', 'start_time_unix_nano', 'metric_name', 'metric_description',
  'metric_unit', 'flags', 'attributes', 'exemplars', 'service_name', 'resource_attributes',
  'resource_dropped_attributes_count', 'resource_schema_url', 'scope_name', 'scope_version', 'scope_attributes',
  'scope_dropped_attributes_count', 'scope_schema_url'];
export const METRIC_COLUMNS = {
  metrics_gauge: [...METRIC_COMMON, 'value', 'value_int'],
  metrics_sum: [...METRIC_COMMON, 'value', 'value_int', 'aggregation_temporality', 'is_monotonic'],
  metrics_histogram: [...METRIC_COMMON, 'count', 'sum', 'min', 'max', 'bucket_counts', 'explicit_bounds',
    'aggregation_temporality'],
  metrics_exponential_histogram: [...METRIC_COMMON, 'count', 'sum', 'min', 'max', 'scale', 'zero_count',
    'zero_threshold', 'positive_offset', 'positive_bucket_counts', 'negative_offset', 'negative_bucket_counts',
    'aggregation_temporality'],
  metrics_summary: [...METRIC_COMMON, 'count', 'sum', 'quantile_values'],
};

function exemplars(list) {
  return (list || []).map((e) => {
    const o = { timeUnixNano: int64(e.timeUnixNano) };
    if (e.asDouble !== undefined) o.asDouble = dbl(e.asDouble);
    if (e.asInt !== undefined) o.asInt = String(e.asInt);
    if (e.traceId) o.traceId = hex(e.traceId);
    if (e.spanId) o.spanId = hex(e.spanId);
    if (e.filteredAttributes?.length) o.filteredAttributes = e.filteredAttributes;
    return o;
  });
}

function numberValue(p) {
  if (p.asInt !== undefined && p.asInt !== null) return { value: Number(p.asInt), value_int: String(p.asInt) };
  return { value: dbl(p.asDouble), value_int: null };
}

// Expected rows per metrics table.
export function expectedMetricRows(otlp) {
  const out = Object.fromEntries(Object.keys(METRIC_COLUMNS).map((t) => [t, []]));
  for (const rm of otlp.resourceMetrics || []) {
    for (const sm of rm.scopeMetrics || []) {
      for (const m of sm.metrics || []) {
        const common = (p) => ({
          time_unix_nano: int64(p.timeUnixNano), start_time_unix_nano: int64(p.startTimeUnixNano),
          metric_name: m.name, metric_description: str(m.description), metric_unit: str(m.unit),
          flags: int64(p.flags), attributes: keyValues(p.attributes), exemplars: exemplars(p.exemplars),
          ...context(rm, sm),
        });
        if (m.gauge) {
          for (const p of m.gauge.dataPoints) out.metrics_gauge.push({ ...common(p), ...numberValue(p) });
        } else if (m.sum) {
          for (const p of m.sum.dataPoints) {
            out.metrics_sum.push({ ...common(p), ...numberValue(p),
              aggregation_temporality: Number(m.sum.aggregationTemporality ?? 0), is_monotonic: !!m.sum.isMonotonic });
          }
        } else if (m.histogram) {
          for (const p of m.histogram.dataPoints) {
            out.metrics_histogram.push({ ...common(p), count: int64(p.count), sum: dbl(p.sum), min: dbl(p.min),
              max: dbl(p.max), bucket_counts: nums(p.bucketCounts), explicit_bounds: nums(p.explicitBounds),
              aggregation_temporality: Number(m.histogram.aggregationTemporality ?? 0) });
          }
        } else if (m.exponentialHistogram) {
          for (const p of m.exponentialHistogram.dataPoints) {
            out.metrics_exponential_histogram.push({ ...common(p), count: int64(p.count), sum: dbl(p.sum),
              min: dbl(p.min), max: dbl(p.max), scale: Number(p.scale ?? 0), zero_count: int64(p.zeroCount),
              zero_threshold: Number(p.zeroThreshold ?? 0), positive_offset: Number(p.positive?.offset ?? 0),
              positive_bucket_counts: nums(p.positive?.bucketCounts), negative_offset: Number(p.negative?.offset ?? 0),
              negative_bucket_counts: nums(p.negative?.bucketCounts),
              aggregation_temporality: Number(m.exponentialHistogram.aggregationTemporality ?? 0) });
          }
        } else if (m.summary) {
          for (const p of m.summary.dataPoints) {
            out.metrics_summary.push({ ...common(p), count: int64(p.count), sum: dbl(p.sum),
              quantile_values: JSON.stringify((p.quantileValues || []).map((q) => ({ quantile: dbl(q.quantile ?? 0),
                value: dbl(q.value ?? 0) }))) });
          }
        }
      }
    }
  }
  return out;
}

// Rows sorted by a stable key so order of storage does not matter.
export function sortRows(rows) {
  const key = (r) => JSON.stringify([r.metric_name ?? '', r.time_unix_nano, r.attributes ?? r.log_attributes,
    r.body ?? null]);
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
