// Authentication and tenant isolation through the real signaldb with
// [auth] enabled: two tenants with two datasets each, keys from
// signaldb.toml. Every ingest and query endpoint is called with every kind of
// key / tenant / dataset header, the statuses checked (401 missing or unknown
// key, 403 another tenant's, 404 unknown dataset, 400 no dataset), and no
// answer may hold another tenant's (or dataset's) data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import { Server, tempDataDir } from './lib/server.mjs';
import { traceServiceClient } from './lib/proto.mjs';
import { otlpJson } from './lib/otlp_json.mjs';

const KEYS = { acme: 'sk-acme-key-0001', globex: 'sk-globex-key-01', initech: 'sk-initech-key-1',
  hooli: 'sk-hooli-key-001' };
const CONFIG = `
[auth]
enabled = true
admin_api_key = "sk-admin-key-000"

[[auth.tenants]]
id = "acme"
slug = "acme-corp"
default_dataset = "prod"
[[auth.tenants.datasets]]
id = "prod"
[[auth.tenants.datasets]]
id = "archive"
slug = "arch"
[[auth.tenants.api_keys]]
key = "${KEYS.acme}"
name = "ci"

[[auth.tenants]]
id = "globex"
[[auth.tenants.datasets]]
id = "main"
is_default = true
[[auth.tenants.datasets]]
id = "staging"
[[auth.tenants.api_keys]]
key = "${KEYS.globex}"
name = "prod"

[[auth.tenants]]
id = "initech"
[[auth.tenants.api_keys]]
key = "${KEYS.initech}"
name = "nodata"

[[auth.tenants]]
id = "hooli"
ingest_records_per_second = 5
[[auth.tenants.datasets]]
id = "main"
is_default = true
[[auth.tenants.api_keys]]
key = "${KEYS.hooli}"
name = "slow"
`;

let server;
let refused = 0;  // cross-tenant (or cross-dataset) attempts refused
const traceIds = {};  // "tenant/dataset" -> hex trace id written there

async function postTraces(headers, body) {
  const res = await fetch(`http://127.0.0.1:${server.ports.otlpHttp}/v1/traces`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

function bearer(tenant) { return { Authorization: `Bearer ${KEYS[tenant]}` }; }

async function tempoTrace(headers, hex) {
  const res = await fetch(`${server.baseUrl}/tempo/api/traces/${hex}`, { headers });
  return { status: res.status, body: await res.text() };
}

async function sql(headers, query) {
  const res = await fetch(`${server.baseUrl}/api/v1/sql`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ query }),
  });
  return { status: res.status, body: await res.json() };
}

before(async () => {
  const dir = tempDataDir('auth');
  fs.writeFileSync(path.join(dir, 'signaldb.toml'), CONFIG);
  // Flushed soon, so the other tenants' Parquet files exist for the SQL
  // escape attempts below.
  server = await new Server(dir, { SIGNALDB_WRITER__FLUSH_INTERVAL: '300ms' }).start();
  // One trace per tenant and dataset, each written with that tenant's key.
  const writes = [
    ['acme/prod', bearer('acme'), '0a'],
    ['acme/archive', { ...bearer('acme'), 'X-Dataset-ID': 'arch' }, '0b'],
    ['globex/main', { ...bearer('globex'), 'X-Tenant-ID': 'globex' }, '0c'],
    ['globex/staging', { ...bearer('globex'), 'X-Scope-OrgID': 'globex', 'X-Dataset-ID': 'staging' }, '0d'],
  ];
  for (const [where, headers, tag] of writes) {
    const hex = tag.repeat(16);
    traceIds[where] = hex;
    const r = await postTraces(headers, otlpJson(hex, where.replace('/', '-')));
    assert.equal(r.status, 200, `${where}: ${r.text}`);
  }
});

after(async () => {
  console.log(`cross-tenant and cross-dataset attempts made and refused: ${refused}`);
  await server?.stop();
});

test('/health answers anyone but names no tenant or dataset', async () => {
  for (const url of [`${server.baseUrl}/health`, `http://127.0.0.1:${server.ports.otlpHttp}/health`]) {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const text = await res.text();
    for (const name of ['acme', 'globex', 'prod', 'archive', 'staging']) assert.ok(!text.includes(name), `${url}: ${text}`);
  }
});

test('OTLP/HTTP ingest: 401, 403, 404, 400 as the headers call for', async () => {
  const body = otlpJson('0e'.repeat(16), 'x');
  const cases = [
    [{}, 401],
    [{ Authorization: 'Bearer sk-not-a-key-at-all' }, 401],
    [{ Authorization: `Basic ${KEYS.acme}` }, 401],
    [{ ...bearer('acme'), 'X-Tenant-ID': 'globex' }, 403],
    [{ ...bearer('acme'), 'X-Scope-OrgID': 'globex' }, 403],
    [{ ...bearer('globex'), 'X-Tenant-ID': 'acme-corp' }, 403],
    [{ ...bearer('acme'), 'X-Dataset-ID': 'staging' }, 404],
    [{ ...bearer('globex'), 'X-Dataset-ID': 'prod' }, 404],
    [{ ...bearer('initech') }, 400],
  ];
  for (const [headers, want] of cases) {
    const r = await postTraces(headers, body);
    assert.equal(r.status, want, `${JSON.stringify(headers)}: ${r.text}`);
    if (want === 403 || want === 404) refused++;
  }
  // Errors are google.rpc.Status in the request's encoding.
  const r = await postTraces({}, body);
  assert.match(JSON.parse(r.text).message, /API key/);
});

test('OTLP/gRPC ingest: UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND from metadata', async () => {
  const client = traceServiceClient(server.grpcTarget);
  const request = { resourceSpans: [] };
  const call = (md) => new Promise((resolve) => client.Export(request, md, (err) => resolve(err ? err.code : 0)));
  const md = (pairs) => {
    const m = new grpc.Metadata();
    for (const [k, v] of Object.entries(pairs)) m.set(k, v);
    return m;
  };
  assert.equal(await call(md({})), grpc.status.UNAUTHENTICATED);
  assert.equal(await call(md({ authorization: 'Bearer nope-nope-nope' })), grpc.status.UNAUTHENTICATED);
  assert.equal(await call(md({ authorization: `Bearer ${KEYS.acme}`, 'x-tenant-id': 'globex' })),
    grpc.status.PERMISSION_DENIED);
  assert.equal(await call(md({ authorization: `Bearer ${KEYS.globex}`, 'x-dataset-id': 'prod' })), grpc.status.NOT_FOUND);
  assert.equal(await call(md({ authorization: `Bearer ${KEYS.acme}`, 'x-scope-orgid': 'acme' })), 0);
  refused += 2;
  client.close();
});

test('Tempo API: each tenant and dataset sees only its own traces', async () => {
  const views = {
    'acme/prod': bearer('acme'),
    'acme/archive': { ...bearer('acme'), 'X-Dataset-ID': 'archive' },
    'globex/main': bearer('globex'),
    'globex/staging': { ...bearer('globex'), 'X-Dataset-ID': 'staging' },
  };
  for (const [view, headers] of Object.entries(views)) {
    for (const [where, hex] of Object.entries(traceIds)) {
      const r = await tempoTrace(headers, hex);
      if (where === view) {
        assert.equal(r.status, 200, `${view} reading its own ${hex}`);
        assert.match(r.body, new RegExp(where.replace('/', '-')));
      } else {
        assert.equal(r.status, 404, `${view} must not see ${where}'s trace`);
        refused++;
      }
    }
    const search = await fetch(`${server.baseUrl}/tempo/api/search?q=${encodeURIComponent('{ }')}`, { headers });
    assert.equal(search.status, 200);
    const found = (await search.json()).traces.map((t) => t.traceID.padStart(32, '0'));
    assert.deepEqual(found, [traceIds[view]], `${view} search`);
  }
  // Statuses of the query side.
  assert.equal((await tempoTrace({}, traceIds['acme/prod'])).status, 401);
  assert.equal((await tempoTrace({ ...bearer('acme'), 'X-Scope-OrgID': 'globex' }, traceIds['globex/main'])).status, 403);
  assert.equal((await tempoTrace({ ...bearer('acme'), 'X-Dataset-ID': 'main' }, traceIds['globex/main'])).status, 404);
  refused += 2;
  const tags = await fetch(`${server.baseUrl}/tempo/api/v2/search/tag/resource.service.name/values`,
    { headers: bearer('globex') });
  const values = (await tags.json()).tagValues.map((v) => v.value);
  assert.deepEqual(values, ['globex-main']);
});

test('SQL API: a tenant counts only its dataset; no key is 401', async () => {
  for (const [headers, service] of [
    [bearer('acme'), 'acme-prod'],
    [{ ...bearer('acme'), 'X-Dataset-ID': 'archive' }, 'acme-archive'],
    [bearer('globex'), 'globex-main'],
  ]) {
    const r = await sql(headers, 'SELECT service_name, count(*) AS n FROM traces GROUP BY service_name');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.rows, [[service, '1']], JSON.stringify(headers));  // 64-bit counts as strings
  }
  assert.equal((await sql({}, 'SELECT 1')).status, 401);
  assert.equal((await sql({ ...bearer('globex'), 'X-Tenant-ID': 'acme' }, 'SELECT 1')).status, 403);
  refused++;
});

test('SQL API: no path, glob, catalog or statement reaches another tenant\'s files', async () => {
  const storage = path.join(server.dataDir, 'storage');
  const globexFiles = path.join(storage, 'globex', 'main', 'traces', 'data');
  // Wait until globex's spans are in Parquet (a real file to aim at).
  const deadline = Date.now() + 20000;
  const parquet = () => fs.existsSync(globexFiles) &&
    fs.readdirSync(globexFiles, { recursive: true }).some((f) => String(f).endsWith('.parquet'));
  while (!parquet() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(parquet(), 'globex/main was flushed to Parquet');
  const file = fs.readdirSync(globexFiles, { recursive: true }).map(String).find((f) => f.endsWith('.parquet'));
  const attempts = [
    `SELECT count(*) FROM read_parquet('${path.join(globexFiles, file)}')`,
    `SELECT count(*) FROM read_parquet('${storage}/globex/**/*.parquet')`,
    `SELECT count(*) FROM read_parquet('${storage}/*/*/traces/data/*/*.parquet')`,
    `SELECT count(*) FROM read_parquet('${storage}/acme/prod/../../globex/main/traces/data/*/*.parquet')`,
    `SELECT count(*) FROM read_parquet('../../globex/main/traces/data/*/*.parquet')`,
    `SELECT count(*) FROM glob('${storage}/globex/*')`,
    `SELECT * FROM read_text('${path.join(server.dataDir, 'signaldb.toml')}')`,
    `SELECT * FROM read_csv('/etc/passwd')`,
    'SELECT * FROM globex.main.traces',
    'SELECT * FROM "globex"."traces"',
    `ATTACH '${path.join(storage, 'x.duckdb')}' AS other`,
    `COPY (SELECT 1) TO '${path.join(storage, 'globex', 'main', 'x.csv')}'`,
    'SET allowed_directories = [\'/\']',
  ];
  for (const query of attempts) {
    const r = await sql(bearer('acme'), query);
    assert.ok(r.status >= 400 && r.status < 500, `${query} answered ${r.status}: ${JSON.stringify(r.body)}`);
    assert.ok(!JSON.stringify(r.body).includes('globex-main'), `${query} leaked globex data`);
    refused++;
  }
  // Nothing in this tenant's engine even names another tenant's directory.
  const settings = await sql(bearer('acme'),
    "SELECT name FROM duckdb_settings() WHERE CAST(value AS VARCHAR) LIKE '%globex%'");
  assert.equal(settings.status, 200);
  assert.deepEqual(settings.body.rows, []);
  // The tenant's own data stays readable the same way.
  const own = await sql(bearer('globex'), 'SELECT count(*) AS n FROM traces');
  assert.deepEqual(own.body.rows, [['1']]);
});

test('per-tenant ingest rate: 429 + Retry-After and RESOURCE_EXHAUSTED for one tenant, others unaffected', async () => {
  // Ten spans against 5 records/s: admitted (the bucket goes into debt), then refused.
  const many = otlpJson('0f'.repeat(16), 'hooli');
  const span = many.resourceSpans[0].scopeSpans[0].spans[0];
  many.resourceSpans[0].scopeSpans[0].spans = Array.from({ length: 10 }, (_, i) => ({
    ...span, spanId: (i + 1).toString(16).padStart(16, '0'),
  }));
  assert.equal((await postTraces(bearer('hooli'), many)).status, 200);
  const res = await fetch(`http://127.0.0.1:${server.ports.otlpHttp}/v1/traces`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...bearer('hooli') }, body: JSON.stringify(many),
  });
  assert.equal(res.status, 429);
  assert.ok(Number(res.headers.get('retry-after')) >= 1);
  assert.match((await res.json()).message, /ingest rate/);
  const client = traceServiceClient(server.grpcTarget);
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${KEYS.hooli}`);
  const code = await new Promise((resolve) => client.Export({ resourceSpans: [] }, md, (err) => resolve(err ? err.code : 0)));
  assert.equal(code, grpc.status.RESOURCE_EXHAUSTED);
  client.close();
  // Another tenant's ingest goes on meanwhile.
  for (let i = 0; i < 5; i++) {
    assert.equal((await postTraces(bearer('globex'), otlpJson(`1${i}`.repeat(16), 'globex-main'))).status, 200);
  }
});
