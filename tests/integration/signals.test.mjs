// Every OpenTelemetry JS SDK exporter (traces, logs, metrics × gRPC,
// HTTP/protobuf, HTTP/JSON) against the real signaldb: each export must be
// acknowledged, and every record must come back through SQL (and traces
// through the Tempo API) with every field as the exporter sent it. Plus
// Prometheus remote_write with a protobufjs + snappyjs client.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { SeverityNumber, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { JsonLogsSerializer, JsonMetricsSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TraceHttpJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceHttpProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPLogExporter as LogsGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as LogsHttpJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsHttpProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricsGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as MetricsHttpJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsHttpProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import protobuf from 'protobufjs';
import snappy from 'snappyjs';

import { Server, repoRoot, tempDataDir } from './lib/server.mjs';
import { canonicalSpans } from './lib/canonical.mjs';
import { LOG_COLUMNS, METRIC_COLUMNS, expectedLogRows, expectedMetricRows, sortRows, sqlRows } from './lib/rows.mjs';

const dataDir = tempDataDir('signals');
const server = new Server(dataDir);
before(async () => { await server.start(); });
after(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const TRANSPORTS = ['grpc', 'http-protobuf', 'http-json'];

function exporterFor(signal, transport) {
  const grpcUrl = `http://${server.grpcTarget}`;
  const httpUrl = `http://127.0.0.1:${server.ports.otlpHttp}/v1/${signal}`;
  // HTTP/protobuf goes gzip-compressed, HTTP/JSON plain: both decoders get exercised.
  const classes = {
    traces: { grpc: TraceGrpc, 'http-protobuf': TraceHttpProto, 'http-json': TraceHttpJson },
    logs: { grpc: LogsGrpc, 'http-protobuf': LogsHttpProto, 'http-json': LogsHttpJson },
    metrics: { grpc: MetricsGrpc, 'http-protobuf': MetricsHttpProto, 'http-json': MetricsHttpJson },
  };
  const Ctor = classes[signal][transport];
  if (transport === 'grpc') return new Ctor({ url: grpcUrl });
  return new Ctor({ url: httpUrl, compression: transport === 'http-protobuf' ? 'gzip' : 'none' });
}

async function exportWith(exporter, items) {
  const result = await new Promise((resolve) => exporter.export(items, resolve));
  assert.equal(result.code, 0, `export failed: ${result.error}`);
  await exporter.shutdown();
}

async function sql(query) {
  const res = await fetch(`${server.baseUrl}/api/v1/sql`, { method: 'POST', body: query });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

const serialized = (s, items) => JSON.parse(Buffer.from(s.serializeRequest(items)).toString());

for (const transport of TRANSPORTS) {
  const service = `svc-${transport}`;

  test(`traces over ${transport}`, async () => {
    const memory = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'k8s.pod.name': 'pod-1' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    });
    const tracer = provider.getTracer('sig-scope', '2.0.0');
    const root = tracer.startSpan('POST /orders', { kind: SpanKind.SERVER, startTime: [1700000100, 5],
      attributes: { 'http.status_code': 201, size: 1.5, ok: true, list: ['x', 'y'] } });
    root.addEvent('validated', { rules: 3 }, [1700000100, 1000]);
    const child = tracer.startSpan('INSERT orders', { kind: SpanKind.CLIENT, startTime: [1700000100, 2000],
      links: [{ context: { traceId: '11112222333344445555666677778888', spanId: '1111222233334444', traceFlags: 1 },
        attributes: { why: 'batch' } }] }, trace.setSpan(context.active(), root));
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'constraint' });
    child.end([1700000100, 9000]);
    root.end([1700000101, 0]);
    await provider.forceFlush();
    const spans = memory.getFinishedSpans();
    await exportWith(exporterFor('traces', transport), spans);
    const want = canonicalSpans(serialized(JsonTraceSerializer, spans).resourceSpans, 'hex');
    const traceId = root.spanContext().traceId;
    const res = await fetch(`${server.baseUrl}/tempo/api/v2/traces/${traceId}`);
    const got = canonicalSpans((await res.json()).trace.resourceSpans, 'base64');
    assert.deepEqual(got, want);
    const rows = await sql(`SELECT span_name, span_kind, status_code FROM traces WHERE service_name = '${service}'
      ORDER BY start_time_unix_nano`);
    assert.deepEqual(rows.rows, [['POST /orders', 'server', 'unset'], ['INSERT orders', 'client', 'error']]);
  });

  test(`logs over ${transport}`, async () => {
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'host.name': 'h1' }),
      processors: [new SimpleLogRecordProcessor({ exporter: memory })],
    });
    const logger = provider.getLogger('sig-logger', '0.9.0');
    logger.emit({ timestamp: [1700000200, 123], observedTimestamp: [1700000200, 456],
      severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: 'disk full',
      attributes: { 'disk.id': 7, path: '/var', ratio: 0.98, urgent: true }, eventName: 'disk.alert',
      context: trace.setSpanContext(context.active(),
        { traceId: 'aaaabbbbccccddddeeeeffff00001111', spanId: 'aaaabbbbccccdddd', traceFlags: 1 }) });
    logger.emit({ timestamp: [1700000201, 0], severityNumber: SeverityNumber.INFO,
      body: { user: 'ann', items: [1, 2, 3], nested: { deep: true } } });
    logger.emit({ timestamp: [1700000202, 0], body: new Uint8Array([0, 1, 2, 255]) });
    await provider.forceFlush();
    const records = memory.getFinishedLogRecords();
    assert.equal(records.length, 3);
    await exportWith(exporterFor('logs', transport), records);
    const want = sortRows(expectedLogRows(serialized(JsonLogsSerializer, records)));
    const got = sortRows(sqlRows(await sql(`SELECT ${LOG_COLUMNS.join(', ')} FROM logs
      WHERE service_name = '${service}'`)));
    assert.deepEqual(got, want);
  });

  test(`metrics over ${transport}`, async () => {
    const reader = new (class extends MetricReader {
      async onForceFlush() {}
      async onShutdown() {}
    })({ aggregationSelector: (type) => (type === 'HISTOGRAM' || type === 1
      ? { type: AggregationType.DEFAULT } : { type: AggregationType.DEFAULT }) });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      readers: [reader],
      views: [{ instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    const meter = provider.getMeter('sig-meter', '1.0.0');
    meter.createCounter('requests', { description: 'requests served', unit: '{request}' })
      .add(5, { route: '/a' });
    meter.createUpDownCounter('queue.depth').add(-3, { queue: 'q1' });
    const h = meter.createHistogram('latency', { unit: 'ms' });
    for (const v of [1, 7, 30, 250, 9000]) h.record(v, { route: '/a' });
    const e = meter.createHistogram('payload.size', { unit: 'By' });
    for (const v of [10, 100, 1000, 10000]) e.record(v);
    meter.createGauge('temperature').record(21.5, { room: 'lab' });
    meter.createObservableGauge('open.files').addCallback((r) => r.observe(42, { proc: 'x' }));
    const { resourceMetrics, errors } = await reader.collect();
    assert.deepEqual(errors, []);
    await exportWith(exporterFor('metrics', transport), resourceMetrics);
    const want = expectedMetricRows(serialized(JsonMetricsSerializer, resourceMetrics));
    let total = 0;
    for (const [table, columns] of Object.entries(METRIC_COLUMNS)) {
      const got = sortRows(sqlRows(await sql(`SELECT ${columns.join(', ')} FROM ${table}
        WHERE service_name = '${service}'`)));
      assert.deepEqual(got, sortRows(want[table]), table);
      total += got.length;
    }
    assert.equal(total, 6);
    assert.equal(want.metrics_exponential_histogram.length, 1);
  });
}

test('remote_write 1.0: samples become gauges; stale markers kept', async () => {
  const root = new protobuf.Root();
  root.resolvePath = (_o, target) => path.join(repoRoot, 'proto', target);
  root.loadSync('prometheus/remote.proto');
  const WriteRequest = root.lookupType('prometheus.WriteRequest');
  const stale = Buffer.alloc(8);
  stale.writeBigUInt64LE(0x7ff0000000000002n);
  const msg = WriteRequest.create({ timeseries: [
    { labels: [{ name: '__name__', value: 'node_cpu_seconds_total' }, { name: 'cpu', value: '0' },
      { name: 'instance', value: 'n1:9100' }, { name: 'job', value: 'node' }],
    samples: [{ value: 12.5, timestamp: 1700000300000 }, { value: stale.readDoubleLE(0), timestamp: 1700000315000 }] },
    { labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'node' }],
      samples: [{ value: 1, timestamp: 1700000300000 }] },
  ] });
  const body = snappy.compress(WriteRequest.encode(msg).finish());
  const post = (b, headers = {}) => fetch(`http://127.0.0.1:${server.ports.otlpHttp}/api/v1/write`, {
    method: 'POST', body: b, headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy',
      'X-Prometheus-Remote-Write-Version': '0.1.0', ...headers } });
  const res = await post(body);
  assert.equal(res.status, 204, await res.text());

  const rows = await sql(`SELECT metric_name, value::VARCHAR, flags, attr(attributes, 'cpu'), time_unix_nano
    FROM metrics_gauge WHERE service_name = 'node' ORDER BY metric_name, time_unix_nano`);
  assert.deepEqual(rows.rows, [
    ['node_cpu_seconds_total', '12.5', '0', '0', '1700000300000000000'],
    ['node_cpu_seconds_total', 'nan', '1', '0', '1700000315000000000'],
    ['up', '1.0', '0', null, '1700000300000000000'],
  ]);
  assert.equal((await post(Buffer.from('definitely not snappy'))).status, 400);
  const garbage = snappy.compress(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  assert.equal((await post(garbage)).status, 400);
  const v2 = await post(body, { 'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request' });
  assert.equal(v2.status, 415);
  const badLabels = snappy.compress(WriteRequest.encode(WriteRequest.create({ timeseries: [
    { labels: [{ name: 'job', value: 'x' }], samples: [{ value: 1, timestamp: 1 }] }] })).finish());
  const bad = await post(badLabels);
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /__name__/);
});
