// Hostile and broken input on every ingest endpoint: each gets its protocol's
// error (gRPC code, or HTTP status with a google.rpc.Status body in the
// request's encoding), and afterwards the server is healthy and still ingests.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import snappy from 'snappyjs';

import { Server, repoRoot, tempDataDir } from './lib/server.mjs';

const dataDir = tempDataDir('bad');
const server = new Server(dataDir, { SIGNALDB_ACCEPTOR__MAX_MESSAGE_BYTES: '1MiB' });
const root = new protobuf.Root();
root.resolvePath = (_o, target) => path.join(repoRoot, 'proto', target);
root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto', 'google/rpc/status.proto',
  'prometheus/remote.proto']);
const TraceRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const RpcStatus = root.lookupType('google.rpc.Status');

before(async () => { await server.start(); });
after(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const SERVICES = {
  traces: 'opentelemetry.proto.collector.trace.v1.TraceService',
  logs: 'opentelemetry.proto.collector.logs.v1.LogsService',
  metrics: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
};

function rawGrpc(signal, bytes) {
  const client = new grpc.Client(server.grpcTarget, grpc.credentials.createInsecure(),
    { 'grpc.max_send_message_length': 64 << 20 });
  return new Promise((resolve) => {
    client.makeUnaryRequest(`/${SERVICES[signal]}/Export`, (x) => x, (x) => x, bytes, (err, res) => {
      client.close();
      resolve(err ? { code: err.code, message: err.details } : { code: 0, res });
    });
  });
}

function post(signal, body, headers) {
  const p = signal === 'remote_write' ? '/api/v1/write' : `/v1/${signal}`;
  return fetch(`http://127.0.0.1:${server.ports.otlpHttp}${p}`, { method: 'POST', body, headers });
}

function validSpan(name = 'ok') {
  return { traceId: Buffer.alloc(16, 7), spanId: Buffer.alloc(8, 7), name,
    startTimeUnixNano: 1700000400000000000, endTimeUnixNano: 1700000401000000000 };
}
const validTraceBytes = () => Buffer.from(TraceRequest.encode(TraceRequest.create(
  { resourceSpans: [{ scopeSpans: [{ spans: [validSpan()] }] }] })).finish());

function varint(n) {
  const out = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
  return Buffer.from(out);
}
// A length-delimited protobuf field.
const field = (num, bytes) => Buffer.concat([varint((num << 3) | 2), varint(bytes.length), bytes]);

// ExportTraceServiceRequest with one span whose attribute value is an
// AnyValue nested `depth` arrays deep (protobufjs refuses to encode that).
function deepRequest(depth) {
  let any = field(1, Buffer.from('leaf'));                          // AnyValue.string_value
  for (let i = 0; i < depth; i++) any = field(5, field(1, any));   // AnyValue.array_value.values
  const kv = Buffer.concat([field(1, Buffer.from('deep')), field(2, any)]);
  const Span = root.lookupType('opentelemetry.proto.trace.v1.Span');
  const span = Buffer.concat([Buffer.from(Span.encode(Span.create(validSpan())).finish()), field(9, kv)]);
  return field(1, field(2, field(2, span)));  // resource_spans.scope_spans.spans
}

const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);

async function stillServes() {
  const health = await fetch(`${server.baseUrl}/health`);
  assert.equal(health.status, 200);
  const r = await rawGrpc('traces', validTraceBytes());
  assert.equal(r.code, 0, r.message);
}

test('gRPC: garbage, truncated, too deep and too large payloads', async () => {
  for (const signal of Object.keys(SERVICES)) {
    assert.equal((await rawGrpc(signal, garbage)).code, grpc.status.INVALID_ARGUMENT, signal);
    const valid = validTraceBytes();
    assert.equal((await rawGrpc(signal, valid.subarray(0, valid.length - 5))).code, grpc.status.INVALID_ARGUMENT);
    assert.equal((await rawGrpc(signal, Buffer.alloc(2 << 20, 1))).code, grpc.status.RESOURCE_EXHAUSTED);
  }
  assert.equal((await rawGrpc('traces', deepRequest(400))).code, grpc.status.INVALID_ARGUMENT);
  assert.equal((await rawGrpc('traces', deepRequest(20))).code, 0);  // reasonable nesting is fine
  // An empty request is a valid, empty export.
  assert.equal((await rawGrpc('logs', Buffer.alloc(0))).code, 0);
  await stillServes();
});

test('HTTP: status codes and google.rpc.Status bodies in the request encoding', async () => {
  const proto = { 'Content-Type': 'application/x-protobuf' };
  const json = { 'Content-Type': 'application/json' };
  for (const signal of ['traces', 'logs', 'metrics']) {
    let res = await post(signal, garbage, proto);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
    const st = RpcStatus.decode(new Uint8Array(await res.arrayBuffer()));
    assert.equal(st.code, 3);
    assert.ok(st.message.length > 0);

    res = await post(signal, '{"resourceSpans": [', json);
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.code, 3);
    assert.match(body.message, /JSON/);

    res = await post(signal, '{"a":' + '['.repeat(10000) + ']'.repeat(10000) + '}', json);
    assert.equal(res.status, 400);

    res = await post(signal, 'x', { 'Content-Type': 'text/plain' });
    assert.equal(res.status, 415);
    res = await post(signal, validTraceBytes(), { ...proto, 'Content-Encoding': 'br' });
    assert.equal(res.status, 415);
    res = await fetch(`http://127.0.0.1:${server.ports.otlpHttp}/v1/${signal}`);
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    assert.equal((await res.json()).code, 12);

    // Bombs: small compressed bodies that inflate past the limit.
    const zeros = Buffer.alloc(8 << 20);
    for (const [enc, data] of [['gzip', zlib.gzipSync(zeros)], ['deflate', zlib.deflateSync(zeros)],
      ['zstd', zlib.zstdCompressSync ? zlib.zstdCompressSync(zeros) : null]]) {
      if (!data) continue;
      res = await post(signal, data, { ...proto, 'Content-Encoding': enc });
      assert.equal(res.status, 413, `${signal} ${enc}`);
      assert.equal(RpcStatus.decode(new Uint8Array(await res.arrayBuffer())).code, 11);
    }
    const gz = zlib.gzipSync(validTraceBytes());
    res = await post(signal, gz.subarray(0, gz.length - 8), { ...proto, 'Content-Encoding': 'gzip' });
    assert.equal(res.status, 400, 'truncated gzip');
    res = await post(signal, Buffer.alloc(2 << 20, 1), proto);
    assert.equal(res.status, 413, 'raw body over the limit');
    assert.equal(RpcStatus.decode(new Uint8Array(await res.arrayBuffer())).code, 11);
  }
  await stillServes();
});

test('HTTP: partial success and compressed success', async () => {
  const body = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [
    { traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '0102030405060708', name: 'good' },
    { traceId: '0102', spanId: '0102030405060708', name: 'bad' }] }] }] });
  let res = await post('traces', body, { 'Content-Type': 'application/json; charset=utf-8' });
  assert.equal(res.status, 200);
  const out = await res.json();
  assert.equal(out.partialSuccess.rejectedSpans, '1');
  assert.match(out.partialSuccess.errorMessage, /trace id/);

  res = await post('traces', zlib.gzipSync(validTraceBytes()),
    { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'gzip' });
  assert.equal(res.status, 200);
  assert.equal((await res.arrayBuffer()).byteLength, 0);  // empty ExportTraceServiceResponse
  res = await post('traces', '{}', { 'Content-Type': 'application/json' });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '{}');
});

test('remote_write: bombs and garbage', async () => {
  const headers = { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' };
  const bomb = snappy.compress(Buffer.alloc(8 << 20));
  assert.equal((await post('remote_write', bomb, headers)).status, 413);
  assert.equal((await post('remote_write', Buffer.from([1, 2, 3]), headers)).status, 400);
  assert.equal((await post('remote_write', snappy.compress(garbage), headers)).status, 400);
  assert.equal((await post('remote_write', snappy.compress(garbage), { ...headers, 'Content-Encoding': 'gzip' })).status,
    415);
  await stillServes();
});

test('storage failing: buffers fill, clients get retryable errors, ingest resumes when it heals', async () => {
  const dir = tempDataDir('overload');
  const tight = new Server(dir, { SIGNALDB_WRITER__MAX_BUFFER_BYTES: '64KiB', SIGNALDB_WRITER__FLUSH_INTERVAL: '100ms' });
  await tight.start();
  // Break the table's data directory: every flush now fails.
  const data = path.join(dir, 'storage', 'default', 'default', 'traces', 'data');
  fs.rmSync(data, { recursive: true, force: true });
  fs.writeFileSync(data, 'not a directory');
  try {
    const send = () => fetch(`http://127.0.0.1:${tight.ports.otlpHttp}/v1/traces`,
      { method: 'POST', body: validTraceBytes(), headers: { 'Content-Type': 'application/x-protobuf' } });
    let refused = null;
    for (let i = 0; i < 2000 && !refused; i++) {
      const res = await send();
      if (res.status === 503) refused = res;
      else assert.equal(res.status, 200);
    }
    assert.ok(refused, 'buffers never filled');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.match(RpcStatus.decode(new Uint8Array(await refused.arrayBuffer())).message, /buffers are full/);
    const client = new grpc.Client(tight.grpcTarget, grpc.credentials.createInsecure());
    const code = await new Promise((resolve) => client.makeUnaryRequest(`/${SERVICES.traces}/Export`, (x) => x,
      (x) => x, validTraceBytes(), (err) => { client.close(); resolve(err ? err.code : 0); }));
    assert.equal(code, grpc.status.UNAVAILABLE);
    const health = await fetch(`${tight.baseUrl}/health`);
    assert.equal(health.status, 503);
    assert.equal((await health.json()).components.storage.status, 'degraded');
    // Storage heals: flushes drain the buffers and writes are accepted again.
    fs.rmSync(data);
    fs.mkdirSync(data);
    let accepted = false;
    for (let i = 0; i < 200 && !accepted; i++) {
      accepted = (await send()).status === 200;
      if (!accepted) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(accepted, 'ingest did not resume after storage healed');
    assert.equal((await fetch(`${tight.baseUrl}/health`)).status, 200);
  } finally {
    await tight.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
