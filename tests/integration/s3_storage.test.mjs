// The real signaldb with its tables on a real S3-compatible server (s3rver,
// started here in-process): spans sent over OTLP are flushed as Parquet
// objects and Iceberg metadata in the bucket, read back through the local
// cache by the Tempo API and SQL, compacted in place, and served again after
// a restart with an empty cache. Wrong credentials stop the server at start
// with the store's own error (and never the secret).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { Server, tempDataDir } from './lib/server.mjs';
import { exportRaw, traceServiceClient } from './lib/proto.mjs';

const require = createRequire(import.meta.url);
let S3rver;
try {
  S3rver = require('s3rver');
} catch (err) {
  throw new Error(`s3rver is missing: run scripts/setup.sh (${err.message})`);
}

const bucketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdb-it-s3rver-'));
let s3;
let endpoint;
const servers = [];
const dataDirs = [];

before(async () => {
  s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: bucketDir, silent: true,
    configureBuckets: [{ name: 'lake', configs: [] }] });
  const { port } = await s3.run();
  endpoint = `http://127.0.0.1:${port}`;
});
after(async () => {
  for (const s of servers) await s.stop();
  await s3.close();
  for (const d of [bucketDir, ...dataDirs]) fs.rmSync(d, { recursive: true, force: true });
});

function newServer(dir, env = {}) {
  const s = new Server(dir, {
    SIGNALDB_LOG__LEVEL: 'warn',
    SIGNALDB_STORAGE__DSN: 's3://lake/signaldb',
    SIGNALDB_STORAGE__S3__ENDPOINT: endpoint,
    SIGNALDB_STORAGE__S3__PATH_STYLE: 'true',
    SIGNALDB_STORAGE__S3__ACCESS_KEY_ID: 'S3RVER',
    SIGNALDB_STORAGE__S3__SECRET_ACCESS_KEY: 'S3RVER',
    SIGNALDB_WRITER__FLUSH_INTERVAL: '100ms',
    SIGNALDB_COMPACTOR__INTERVAL: '500ms',
    SIGNALDB_COMPACTOR__MIN_INPUT_FILES: '2',
    ...env,
  });
  servers.push(s);
  return s;
}

async function health(server) {
  return (await fetch(`${server.baseUrl}/health`)).json();
}

async function until(what, fn, server) {
  const deadline = Date.now() + 60000;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last === true) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what} never happened; last ${JSON.stringify(last)}\n${server.log}`);
}

// Paths s3rver keeps the bucket's objects under (named after their keys).
function objects(suffix) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (p.includes(suffix)) out.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(bucketDir);
  return out;
}

async function send(server, traceId, n, offset) {
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId, spanId: crypto.randomBytes(8), name: `op-${offset + i}`, kind: 2,
    startTimeUnixNano: String(1700000000000000000n + BigInt(offset + i)), endTimeUnixNano: '1700000001000000000',
  }));
  const client = traceServiceClient(server.grpcTarget);
  await exportRaw(client, { resourceSpans: [{ resource: { attributes: [
    { key: 'service.name', value: { stringValue: 's3-test' } }] }, scopeSpans: [{ spans }] }] });
  client.close();
}

async function tempoSpans(server, hex) {
  const res = await fetch(`${server.baseUrl}/tempo/api/v2/traces/${hex}`);
  assert.equal(res.status, 200, server.log);
  const body = await res.json();
  return body.trace.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).length;
}

test('traces live in S3, are compacted there, and come back after a restart with an empty cache', async () => {
  const dir = tempDataDir('s3-storage');
  dataDirs.push(dir);
  const server = newServer(dir);
  await server.start();
  const traceId = crypto.randomBytes(16);
  const hex = traceId.toString('hex');
  // Three flushes: three small files, then compaction merges them.
  for (let i = 0; i < 3; ++i) {
    await send(server, traceId, 4, i * 4);
    await until(`flush ${i}`, async () => {
      const t = (await health(server)).components?.storage?.tables?.['default/default/traces'];
      return t && t.committed_rows === (i + 1) * 4 ? true : t;
    }, server);
  }
  await until('compaction', async () => {
    const t = (await health(server)).components?.storage?.tables?.['default/default/traces'];
    return t && t.committed_files === 1 ? true : t;
  }, server);
  assert.ok(objects('.parquet').length >= 1, 'data files are objects in the bucket');
  assert.ok(objects('.metadata.json').length >= 1, 'Iceberg metadata is in the bucket');
  assert.equal(await tempoSpans(server, hex), 12);
  const res = await fetch(`${server.baseUrl}/api/v1/sql`, { method: 'POST',
    body: `SELECT count(*) FROM traces WHERE trace_id = '${hex}'` });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(body.rows, [['12']]);
  // No local Parquet file but cached copies.
  const local = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else if (p.endsWith('.parquet')) local.push(p);
    }
  };
  walk(path.join(dir, 'storage'));
  assert.ok(local.every((p) => p.includes('/.cache/')), local.join('\n'));

  assert.equal((await server.stop()).code, 0, server.log);
  fs.rmSync(path.join(dir, 'storage', 'default', 'default', '.cache'), { recursive: true, force: true });
  await server.start();
  assert.equal(await tempoSpans(server, hex), 12);
});

test('wrong S3 credentials stop the server at start with the store\'s error, never the secret', async () => {
  const dir = tempDataDir('s3-badkey');
  dataDirs.push(dir);
  const server = newServer(dir, { SIGNALDB_STORAGE__S3__ACCESS_KEY_ID: 'NOT-A-KEY',
    SIGNALDB_STORAGE__S3__SECRET_ACCESS_KEY: 'Sup3rS3cretValue' });
  await assert.rejects(server.start(), /exited during start/);
  assert.match(server.log, /cannot open storage: PERMISSION_DENIED: .*s3:\/\/lake\/signaldb\/.*InvalidAccessKeyId/);
  assert.doesNotMatch(server.log, /Sup3rS3cretValue/);
});
