// Attribute limits end to end: the real signaldb truncates or rejects over
// OTLP/HTTP JSON, OTLP/gRPC and remote_write and says so in its answers; after
// a kill -9 and a restart with other limits, the stored rows are exactly the
// ones acknowledged before (the WAL replays each request under the limits it
// was stored with).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import protobuf from 'protobufjs';
import snappy from 'snappyjs';

import { Server, repoRoot, tempDataDir } from './lib/server.mjs';
import { exportRaw, traceServiceClient } from './lib/proto.mjs';

const dataDir = tempDataDir('attr-limits');
const limits = (max, length, action) => ({
  SIGNALDB_LIMITS__MAX_ATTRIBUTES_PER_RECORD: String(max),
  SIGNALDB_LIMITS__MAX_ATTRIBUTE_VALUE_LENGTH: String(length),
  SIGNALDB_LIMITS__ATTRIBUTE_LIMIT_ACTION: action,
  SIGNALDB_WRITER__FLUSH_INTERVAL: '1h',  // acknowledged rows stay in the WAL until the crash
});
const server = new Server(dataDir, limits(3, 16, 'truncate'));
after(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const root = new protobuf.Root();
root.resolvePath = (_o, target) => path.join(repoRoot, 'proto', target);
root.loadSync(['prometheus/remote.proto']);
const WriteRequest = root.lookupType('prometheus.WriteRequest');

const hex = (n, bytes) => n.toString(16).padStart(bytes * 2, '0');
const attrs = (n, value = 'v') => Array.from({ length: n }, (_, i) => ({ key: `a${i}`, value: { stringValue: value } }));

async function sql(query) {
  const res = await fetch(`${server.baseUrl}/api/v1/sql`, { method: 'POST', body: query });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.rows;
}
const spanRows = () => sql(`SELECT span_id, CAST(span_attributes_string AS VARCHAR), dropped_attributes_count
  FROM traces ORDER BY span_id`);

test('truncate, crash, restart with other limits: the acknowledged rows come back', async () => {
  await server.start();
  // OTLP/HTTP JSON: one span over both limits, one within them.
  const body = { resourceSpans: [{ scopeSpans: [{ spans: [
    { traceId: hex(1, 16), spanId: hex(1, 8), name: 'over', startTimeUnixNano: '1700000000000000000',
      attributes: [{ key: 'long', value: { stringValue: 'x'.repeat(40) } }, ...attrs(4)] },
    { traceId: hex(1, 16), spanId: hex(2, 8), name: 'within', startTimeUnixNano: '1700000000000000000',
      attributes: attrs(2) },
  ] }] }] };
  const res = await fetch(`http://127.0.0.1:${server.ports.otlpHttp}/v1/traces`,
    { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  assert.equal(res.status, 200);
  const answer = await res.json();
  assert.equal(Number(answer.partialSuccess.rejectedSpans ?? 0), 0);
  assert.match(answer.partialSuccess.errorMessage, /^1 spans stored truncated: .*max_attributes_per_record \(3\).*max_attribute_value_length \(16 bytes\)/);

  // OTLP/gRPC, within the limits: no partialSuccess.
  const client = traceServiceClient(server.grpcTarget);
  const ok = await exportRaw(client, { resourceSpans: [{ scopeSpans: [{ spans: [
    { traceId: Buffer.from(hex(2, 16), 'hex'), spanId: Buffer.from(hex(3, 8), 'hex'), name: 'grpc',
      startTimeUnixNano: '1700000000000000000', attributes: attrs(3, 'y'.repeat(16)) }] }] }] });
  client.close();
  assert.equal(ok.partialSuccess ?? null, null);

  const before = await spanRows();
  assert.deepEqual(before.map((r) => r[0]), [hex(1, 8), hex(2, 8), hex(3, 8)]);
  assert.equal(before[0][1], `{long=${'x'.repeat(16)}, a0=v, a1=v}`);
  assert.equal(Number(before[0][2]), 2);

  await server.kill9();
  server.extraEnv = limits(1, 12, 'reject');  // 12: the key service.name, which remote_write adds
  await server.start();
  assert.deepEqual(await spanRows(), before);

  // The new limits apply to new requests: gRPC reject counts, remote_write 400.
  const again = traceServiceClient(server.grpcTarget);
  const rejected = await exportRaw(again, { resourceSpans: [{ scopeSpans: [{ spans: [
    { traceId: Buffer.from(hex(3, 16), 'hex'), spanId: Buffer.from(hex(4, 8), 'hex'), name: 'rejected',
      startTimeUnixNano: '1700000000000000000', attributes: attrs(2) }] }] }] });
  again.close();
  assert.equal(Number(rejected.partialSuccess.rejectedSpans), 1);
  assert.equal(rejected.partialSuccess.errorMessage, 'span has 2 attributes, over max_attributes_per_record (1)');

  const wr = WriteRequest.encode(WriteRequest.create({ timeseries: [
    { labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'api' }],
      samples: [{ value: 1, timestamp: 1700000000000 }] },
    { labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'api' }, { name: 'zone', value: 'a' }],
      samples: [{ value: 1, timestamp: 1700000000000 }, { value: 2, timestamp: 1700000001000 }] },
  ] })).finish();
  const rw = await fetch(`http://127.0.0.1:${server.ports.otlpHttp}/api/v1/write`, { method: 'POST',
    body: snappy.compress(wr), headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' } });
  assert.equal(rw.status, 400);
  assert.match(await rw.text(), /2 samples rejected: data point has 2 attributes, over max_attributes_per_record \(1\)/);
  assert.equal(Number((await sql(`SELECT count(*) FROM metrics_gauge WHERE metric_name = 'up'`))[0][0]), 1);

  // A clean stop flushes; the rows are still the acknowledged ones.
  await server.stop();
  await server.start();
  assert.deepEqual(await spanRows(), before);
});
