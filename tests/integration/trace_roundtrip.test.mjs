// End to end: a real OpenTelemetry JS SDK gRPC exporter sends a multi-span
// trace to the real signaldb; it is read back through the Tempo API (v1 and
// v2, JSON and protobuf) and SQL, field by field against what the SDK sent;
// then the server is killed with SIGKILL and restarted on the same data dir,
// and everything acknowledged must still be there.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';

import { Server, repoRoot, tempDataDir } from './lib/server.mjs';
import { canonicalSpans } from './lib/canonical.mjs';
import { exportRaw, loadRoot, traceServiceClient } from './lib/proto.mjs';

const dataDir = tempDataDir('roundtrip');
// A long writer flush interval keeps acknowledged spans in the WAL and the
// in-memory buffer, so the kill -9 below tests WAL replay.
const server = new Server(dataDir, { SIGNALDB_WRITER__FLUSH_INTERVAL: '1h' });
const protoRoot = loadRoot();
after(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function sdkTrace(grpcTarget) {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'it-frontend', 'deployment.environment': 'test', 'host.cpus': 2 }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('it-scope', '1.2.3');
  const t0 = 1700000000;
  const root = tracer.startSpan('GET /checkout', {
    kind: SpanKind.SERVER,
    startTime: [t0, 123456789],
    attributes: { 'http.method': 'GET', 'http.status_code': 500, ratio: 0.5, 'cache.hit': false,
      tags: ['a', 'b'], ids: [1, 2, 3] },
  });
  root.addEvent('cache.miss', { 'cache.key': 'k1', attempt: 2 }, [t0, 200000000]);
  const child = tracer.startSpan('SELECT orders', {
    kind: SpanKind.CLIENT,
    startTime: [t0, 300000000],
    links: [{ context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 },
      attributes: { 'link.kind': 'follows' } }],
  }, trace.setSpan(context.active(), root));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock detected' });
  child.end([t0, 900000000]);
  const grandchild = tracer.startSpan('publish', { kind: SpanKind.PRODUCER, startTime: [t0, 400000000] },
    trace.setSpan(context.active(), child));
  grandchild.setStatus({ code: SpanStatusCode.OK });
  grandchild.end([t0, 500000000]);
  root.end([t0 + 1, 0]);
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  assert.equal(spans.length, 3);

  // Send exactly these spans with the real gRPC exporter and require success.
  const exporter = new OTLPTraceExporter({ url: `http://${grpcTarget}` });
  const result = await new Promise((resolve) => exporter.export(spans, resolve));
  assert.equal(result.code, 0, `export failed: ${result.error}`);
  await exporter.shutdown();
  // What the exporter sent, as OTLP/JSON from the same transformer.
  const sent = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)).toString());
  return { traceId: root.spanContext().traceId, sent: canonicalSpans(sent.resourceSpans, 'hex') };
}

// A span the SDK cannot produce: bytes, kvlist, nested and empty arrays, trace
// state, flags, dropped counts, schema URLs, scope attributes, end < start.
function exoticRequest(traceIdHex) {
  return {
    resourceSpans: [{
      schemaUrl: 'https://opentelemetry.io/schemas/1.24.0',
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'it-raw' } }], droppedAttributesCount: 1 },
      scopeSpans: [{
        schemaUrl: 'scope-schema',
        scope: { name: 'raw-scope', version: '0.1', attributes: [{ key: 'scope.k', value: { intValue: '7' } }],
          droppedAttributesCount: 2 },
        spans: [{
          traceId: Buffer.from(traceIdHex, 'hex'), spanId: Buffer.from('1111222233334444', 'hex'),
          parentSpanId: Buffer.from('5555666677778888', 'hex'), traceState: 'vendor=x,other=y', flags: 257,
          name: 'exotic', kind: 5, startTimeUnixNano: '1700000005000000000', endTimeUnixNano: '1700000004000000000',
          attributes: [
            { key: 'bytes', value: { bytesValue: Buffer.from([0, 1, 254, 255]) } },
            { key: 'map', value: { kvlistValue: { values: [
              { key: 'inner', value: { arrayValue: { values: [{ intValue: '-5' }, { doubleValue: 1.25 }] } } },
              { key: 'nested', value: { kvlistValue: { values: [{ key: 'deep', value: { boolValue: true } }] } } },
            ] } } },
            { key: 'empty', value: { arrayValue: { values: [] } } },
            { key: 'big', value: { intValue: '9223372036854775807' } },
            { key: 'unicode', value: { stringValue: 'héllo "quoted" \n newline' } },
          ],
          droppedAttributesCount: 3, droppedEventsCount: 4, droppedLinksCount: 5,
          events: [{ timeUnixNano: '1700000004500000000', name: 'e', droppedAttributesCount: 1,
            attributes: [{ key: 'x', value: { doubleValue: -0.5 } }] }],
          links: [{ traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'),
            spanId: Buffer.from('b7ad6b7169203331', 'hex'), traceState: 'k=v', flags: 769, droppedAttributesCount: 2,
            attributes: [{ key: 'l', value: { stringValue: 'v' } }] }],
          status: { code: 2, message: 'exotic failure' },
        }],
      }],
    }],
  };
}

async function getJson(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200, `${url}: ${res.status} ${await res.clone().text()}`);
  assert.match(res.headers.get('content-type'), /application\/json/);
  return res.json();
}

async function getProto(url) {
  const res = await fetch(url, { headers: { Accept: 'application/protobuf' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/protobuf');
  return new Uint8Array(await res.arrayBuffer());
}

function decoded(typeName, bytes) {
  const T = protoRoot.lookupType(typeName);
  return T.toObject(T.decode(bytes), { longs: String, enums: Number, bytes: Buffer });
}

async function sql(base, query) {
  const res = await fetch(`${base}/api/v1/sql`, { method: 'POST', body: query });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

// Every read path must return exactly `want` for `traceId`.
async function checkAllReadPaths(base, traceId, want, label) {
  const v1 = await getJson(`${base}/tempo/api/traces/${traceId}`);
  assert.ok(Array.isArray(v1.batches), `${label}: v1 JSON has batches`);
  assert.deepEqual(canonicalSpans(v1.batches, 'base64'), want, `${label}: v1 JSON`);

  const v2 = await getJson(`${base}/tempo/api/v2/traces/${traceId}`);
  assert.deepEqual(canonicalSpans(v2.trace.resourceSpans, 'base64'), want, `${label}: v2 JSON`);

  const p1 = decoded('opentelemetry.proto.trace.v1.TracesData', await getProto(`${base}/tempo/api/traces/${traceId}`));
  assert.deepEqual(canonicalSpans(p1.resourceSpans, 'buffer'), want, `${label}: v1 protobuf`);

  const raw2 = await getProto(`${base}/tempo/api/v2/traces/${traceId}`);
  assert.equal(raw2[0], 0x0a, `${label}: v2 protobuf starts with field 1`);
  const p2 = decoded('tempopb.TraceByIDResponse', raw2);
  assert.deepEqual(canonicalSpans(p2.trace.resourceSpans, 'buffer'), want, `${label}: v2 protobuf`);
}

let sdk;
let exoticWant;
const exoticTraceId = '7e57ab1e000000000000000000c0ffee';

test('ingest with the OpenTelemetry SDK gRPC exporter and a raw OTLP client', async () => {
  await server.start();
  sdk = await sdkTrace(server.grpcTarget);
  const request = exoticRequest(exoticTraceId);
  const client = traceServiceClient(server.grpcTarget);
  const response = await exportRaw(client, request);
  assert.equal(response.partialSuccess, undefined);
  client.close();
  exoticWant = canonicalSpans(request.resourceSpans, 'buffer');
});

test('Tempo API returns the trace losslessly (v1/v2, JSON/protobuf)', async () => {
  await checkAllReadPaths(server.baseUrl, sdk.traceId, sdk.sent, 'sdk');
  await checkAllReadPaths(server.baseUrl, exoticTraceId, exoticWant, 'exotic');
});

test('Tempo JSON encodes like Tempo (names, base64 ids, 64-bit strings)', async () => {
  const v2 = await getJson(`${server.baseUrl}/tempo/api/v2/traces/${sdk.traceId}`);
  const spans = v2.trace.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
  const root = spans.find((s) => s.name === 'GET /checkout');
  assert.equal(root.kind, 'SPAN_KIND_SERVER');
  assert.equal(root.traceId, Buffer.from(sdk.traceId, 'hex').toString('base64'));
  assert.equal(root.startTimeUnixNano, '1700000000123456789');
  assert.deepEqual(root.attributes.find((a) => a.key === 'http.status_code').value, { intValue: '500' });
  const child = spans.find((s) => s.name === 'SELECT orders');
  assert.deepEqual(child.status, { message: 'deadlock detected', code: 'STATUS_CODE_ERROR' });
  const rs = v2.trace.resourceSpans.find((r) => r.resource.attributes.some((a) => a.value.stringValue === 'it-frontend'));
  assert.ok(rs, 'resource keeps service.name');
  assert.deepEqual(rs.scopeSpans[0].scope, { name: 'it-scope', version: '1.2.3' });
});

test('SQL sees the spans with correct enum meanings', async () => {
  const res = await sql(server.baseUrl,
    `SELECT span_name, service_name, span_kind, status_code, duration_nanos, is_root, parent_span_id
     FROM traces WHERE trace_id = '${sdk.traceId}' ORDER BY start_time_unix_nano`);
  assert.deepEqual(res.columns.map((c) => c.name),
    ['span_name', 'service_name', 'span_kind', 'status_code', 'duration_nanos', 'is_root', 'parent_span_id']);
  assert.deepEqual(res.rows.map((r) => r.slice(0, 6)), [
    ['GET /checkout', 'it-frontend', 'server', 'unset', '876543211', true],
    ['SELECT orders', 'it-frontend', 'client', 'error', '600000000', false],
    ['publish', 'it-frontend', 'producer', 'ok', '100000000', false],
  ]);
  const exotic = await sql(server.baseUrl,
    `SELECT duration_nanos, span_kind FROM traces WHERE trace_id = '${exoticTraceId}'`);
  assert.deepEqual(exotic.rows, [['0', 'consumer']]);  // end < start: stored, duration 0
});

test('unknown and malformed trace ids', async () => {
  const v1 = await fetch(`${server.baseUrl}/tempo/api/traces/00000000000000000000000000000bad`);
  assert.equal(v1.status, 404);
  assert.equal(await v1.text(), '');
  const v2 = await fetch(`${server.baseUrl}/tempo/api/v2/traces/00000000000000000000000000000bad`);
  assert.equal(v2.status, 200);
  assert.deepEqual((await v2.json()).trace, {});
  const p2 = await getProto(`${server.baseUrl}/tempo/api/v2/traces/00000000000000000000000000000bad`);
  assert.deepEqual(Array.from(p2.slice(0, 2)), [0x0a, 0x00]);
  const bad = await fetch(`${server.baseUrl}/tempo/api/traces/xyz`);
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /trace IDs can only contain hex characters/);
});

test('SQL is read-only and confined', async () => {
  for (const q of ["SELECT * FROM read_csv('/etc/passwd')", 'DROP VIEW traces',
    `COPY (SELECT 1) TO '${dataDir}/x.csv'`, "ATTACH 'x.db'", 'SET threads=1', 'INSTALL httpfs', 'SELECT 1; SELECT 2']) {
    const res = await fetch(`${server.baseUrl}/api/v1/sql`, { method: 'POST', body: q });
    assert.ok(res.status === 400 || res.status === 403, `${q} -> ${res.status}`);
    assert.ok((await res.json()).error, q);
  }
});

test('kill -9 loses nothing acknowledged; graceful restart keeps it in Parquet', async () => {
  await server.kill9();
  await server.start();
  await checkAllReadPaths(server.baseUrl, sdk.traceId, sdk.sent, 'after kill -9');
  await checkAllReadPaths(server.baseUrl, exoticTraceId, exoticWant, 'exotic after kill -9');
  const count = await sql(server.baseUrl, 'SELECT count(*) FROM traces');
  assert.deepEqual(count.rows, [['4']], 'no duplicates after replay');

  // SIGTERM flushes to Parquet and trims the WAL; the data comes back from Parquet.
  const exit = await server.stop();
  assert.equal(exit.code, 0, server.log);
  await server.start();
  const health = await getJson(`${server.baseUrl}/health`);
  const table = health.components.storage.tables['default/default/traces'];
  assert.equal(table.committed_rows, 4);
  assert.equal(table.buffered_rows, 0);
  await checkAllReadPaths(server.baseUrl, sdk.traceId, sdk.sent, 'after graceful restart');
  assert.deepEqual((await sql(server.baseUrl, 'SELECT count(*) FROM traces')).rows, [['4']]);
});

test('the Iceberg tables can be read from the catalog alone by an independent reader', async () => {
  const out = execFileSync('/usr/bin/python3', ['-W', 'ignore', path.join(repoRoot, 'tests/integration/lib/iceberg_read.py'),
    path.join(dataDir, 'storage', 'catalog.db'), 'default.default'],
  { encoding: 'utf8' });
  const tables = JSON.parse(out);
  for (const t of ['traces', 'logs', 'metrics_gauge', 'metrics_sum', 'metrics_histogram',
    'metrics_exponential_histogram', 'metrics_summary']) {
    assert.ok(tables[t], `catalog lists ${t}`);
  }
  assert.equal(tables.traces.records, 4);
  assert.ok(Number(tables.traces.wal_sequence) >= 2);
  // Every data file exists and carries Iceberg field ids in its Parquet schema.
  for (const uri of tables.traces.files) {
    const file = uri.slice('file://'.length);
    assert.ok(fs.existsSync(file), file);
    const res = await sql(server.baseUrl, `SELECT name, field_id FROM parquet_schema('${file}') WHERE name IN ('trace_id', 'timestamp')`);
    assert.deepEqual(res.rows, [['trace_id', '1'], ['timestamp', '31']]);
  }
});
