// signaldb-cli end to end against the real signaldb with [auth] enabled and
// an admin key: tenants, API keys and datasets made through the CLI, a trace
// ingested with a key it created and read back with `query sql`,
// `query traceql` and `trace get`, and the exit codes scripts rely on
// (docs/admin-api.md, "signaldb-cli"). The CLI comes from SDB_CLI_BIN (set by
// ctest), the server from SDB_BIN. The service database is the default SQLite
// file, or with SDB_CLI_BACKEND=postgres (cli_postgres.test.mjs) a real
// PostgreSQL server from scripts/pg-test-server.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Postgres } from './lib/postgres.mjs';
import { Server, freePort, repoRoot, tempDataDir } from './lib/server.mjs';

const ADMIN_KEY = 'sk-cli-admin-key-0001';
const CONFIG = `
[auth]
enabled = true
admin_api_key = "${ADMIN_KEY}"
`;
const TRACE_HEX = '5c11'.repeat(8);
const ROOT_SPAN = '00000000000000a1';
const CHILD_SPAN = '00000000000000a2';

let server;
let apiKey;    // the "ci" key of tenant acme, from `api-key create --output json`
let apiKeyId;

function cliPath() {
  const bin = path.resolve(process.env.SDB_CLI_BIN || path.join(repoRoot, 'build/bin/signaldb-cli'));
  if (!fs.existsSync(bin)) throw new Error(`signaldb-cli not found at ${bin}; build first (make build)`);
  return bin;
}

// Runs the CLI with SIGNALDB_URL and SIGNALDB_ADMIN_KEY pointing at the test
// server (override or drop them through `env`; undefined removes one).
function cli(args, env = {}) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIGNALDB_')));
  const merged = { ...inherited, SIGNALDB_URL: server?.baseUrl, SIGNALDB_ADMIN_KEY: ADMIN_KEY, ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return new Promise((resolve, reject) => {
    const p = spawn(cliPath(), args, { env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 30000);
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function show(r) { return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`; }

// The CLI succeeded; its stdout parsed as JSON.
async function cliJson(args, env) {
  const r = await cli([...args, '--output', 'json'], env);
  assert.equal(r.code, 0, show(r));
  return JSON.parse(r.stdout);
}

async function expectExit(args, code, env, stderrPattern) {
  const r = await cli(args, env);
  assert.equal(r.code, code, `${args.join(' ')}: ${show(r)}`);
  if (code !== 0) assert.ok(r.stderr.trim().length > 0, `${args.join(' ')} says why on stderr`);
  if (stderrPattern) assert.match(r.stderr, stderrPattern);
  return r;
}

// Polls `fn` until it returns a truthy value (the trace is queryable within
// about a second of its acknowledgement); bounded.
async function eventually(fn, what) {
  const deadline = Date.now() + 15000;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last.ok) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what} never held: ${last && last.why}`);
}

function otlpTrace() {
  const now = BigInt(Date.now()) * 1000000n;
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'cli-svc' } }] };
  return {
    resourceSpans: [{
      resource,
      scopeSpans: [{ spans: [
        { traceId: TRACE_HEX, spanId: ROOT_SPAN, name: 'GET /cli', kind: 2,
          startTimeUnixNano: String(now - 9000000n), endTimeUnixNano: String(now) },
        { traceId: TRACE_HEX, spanId: CHILD_SPAN, parentSpanId: ROOT_SPAN, name: 'db-query', kind: 3,
          startTimeUnixNano: String(now - 8000000n), endTimeUnixNano: String(now - 2000000n),
          status: { code: 2, message: 'boom' } },
      ] }],
    }],
  };
}

let pg;  // with SDB_CLI_BACKEND=postgres

before(async () => {
  const dir = tempDataDir('cli');
  let config = CONFIG;
  if (process.env.SDB_CLI_BACKEND === 'postgres') {
    pg = new Postgres('pgcli');
    config += `\n[database]\ndsn = "${pg.start()}"\n`;
  }
  fs.writeFileSync(path.join(dir, 'signaldb.toml'), config);
  server = await new Server(dir).start();
  // The tenants really live where they should.
  assert.equal(fs.existsSync(path.join(dir, 'signaldb.db')), !pg);
});

after(async () => {
  await server?.stop();
  if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
  if (pg) {
    // The tenancy tables are in PostgreSQL (and no SQLite file was made).
    assert.equal(pg.psql("SELECT to_regclass('tenants') IS NOT NULL AND to_regclass('api_keys') IS NOT NULL"), 't');
    pg.stop();
  }
});

test('usage errors exit 2 without asking the server; --help exits 0 on every level', async () => {
  await expectExit([], 2);
  await expectExit(['tenant'], 2);
  await expectExit(['tenant', 'create'], 2);  // SLUG missing
  await expectExit(['api-key', 'create', 'acme'], 2);  // --name missing
  await expectExit(['--output', 'xml', 'tenant', 'list'], 2);
  await expectExit(['tenant', 'update', 'acme'], 2, {}, /nothing to update/);
  await expectExit(['tenant', 'create', 'x', '--limit', 'no-equals-sign'], 2, {}, /FIELD=VALUE/);
  await expectExit(['query', 'traceql', '{ }', '--start', 'yesterday'], 2, {}, /--start/);
  await expectExit(['--url', 'ftp://127.0.0.1:1', 'tenant', 'list'], 2, {}, /scheme/);
  for (const args of [[], ['tenant'], ['tenant', 'update'], ['api-key', 'create'], ['dataset', 'create'],
    ['query', 'sql'], ['query', 'traceql'], ['trace', 'get']]) {
    const r = await cli([...args, '--help']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Usage: signaldb-cli/);
  }
});

test('an unreachable server exits 6', async () => {
  const port = await freePort();
  await expectExit(['tenant', 'list'], 6, { SIGNALDB_URL: `http://127.0.0.1:${port}` }, /cannot connect/);
  await expectExit(['--url', `http://127.0.0.1:${port}`, 'query', 'sql', 'SELECT 1'], 6);
});

test('a wrong or missing admin key exits 3', async () => {
  await expectExit(['tenant', 'list'], 3, { SIGNALDB_ADMIN_KEY: 'sk-not-the-admin-key' });
  await expectExit(['tenant', 'list'], 3, { SIGNALDB_ADMIN_KEY: undefined }, /SIGNALDB_ADMIN_KEY/);
  // The flag wins over the environment.
  await expectExit(['--admin-key', 'sk-wrong', 'tenant', 'list'], 3);
});

test('tenant create, list, get, update; duplicates exit 5, unknown tenants 4', async () => {
  const created = await cliJson(['tenant', 'create', 'acme', '--name', 'Acme Corp', '--limit', 'max_query_range=24h']);
  assert.equal(created.id, 'acme');
  assert.equal(created.slug, 'acme');
  assert.equal(created.name, 'Acme Corp');
  assert.equal(created.source, 'database');
  assert.equal(created.default_dataset, 'default');
  assert.equal(String(created.limits.max_query_range), '24h');

  await expectExit(['tenant', 'create', 'acme'], 5);
  await expectExit(['tenant', 'create', 'Not_A_Slug'], 2, {}, /slug|id/);
  await cliJson(['tenant', 'create', 'globex', '--id', 'globex-id', '--default-dataset', 'main']);

  // Global options work after the subcommand too.
  const list = await cli(['tenant', 'list', '--output', 'json']);
  assert.equal(list.code, 0, show(list));
  const ids = JSON.parse(list.stdout).tenants.map((t) => t.id).sort();
  assert.deepEqual(ids, ['acme', 'globex-id']);

  const table = await cli(['tenant', 'list']);
  assert.equal(table.code, 0, show(table));
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^ID\s+SLUG\s+NAME/);
  assert.ok(lines.some((l) => /^acme\s+acme\s+Acme Corp\s+default\s+database/.test(l)), table.stdout);
  assert.ok(lines.some((l) => /^globex-id\s+globex\s/.test(l)), table.stdout);

  const got = await cliJson(['tenant', 'get', 'acme']);
  assert.equal(got.id, 'acme');
  assert.ok(got.effective_limits && typeof got.effective_limits === 'object', JSON.stringify(got));
  assert.equal(String(got.effective_limits.max_query_range), '24h');
  const bySlug = await cliJson(['tenant', 'get', 'globex']);
  assert.equal(bySlug.id, 'globex-id');
  assert.equal(bySlug.default_dataset, 'main');

  // --limit adds to the overrides already there.
  const updated = await cliJson(['tenant', 'update', 'acme', '--name', 'Acme Inc',
    '--limit', 'ingest_records_per_second=100000']);
  assert.equal(updated.name, 'Acme Inc');
  assert.equal(String(updated.limits.max_query_range), '24h');
  assert.equal(String(updated.limits.ingest_records_per_second), '100000');
  const cleared = await cliJson(['tenant', 'update', 'globex', '--clear-limits']);
  assert.deepEqual(cleared.limits ?? {}, {});

  const vertical = await cli(['tenant', 'get', 'acme']);
  assert.equal(vertical.code, 0, show(vertical));
  assert.match(vertical.stdout, /^name\s+Acme Inc$/m);
  assert.match(vertical.stdout, /^limits\.max_query_range\s+24h$/m);

  await expectExit(['tenant', 'get', 'no-such-tenant'], 4);
  await expectExit(['tenant', 'update', 'no-such-tenant', '--name', 'x'], 4);
  await expectExit(['tenant', 'delete', 'no-such-tenant'], 4);
});

test('api-key create shows the key once; list never does', async () => {
  const created = await cli(['api-key', 'create', 'acme', '--name', 'ci', '--output', 'json']);
  assert.equal(created.code, 0, show(created));
  const key = JSON.parse(created.stdout);
  assert.match(key.key, /^sdb_[A-Za-z0-9_-]{43}$/);
  assert.equal(key.name, 'ci');
  assert.equal(key.tenant_id, 'acme');
  apiKey = key.key;
  apiKeyId = key.id;

  const human = await cli(['api-key', 'create', 'acme', '--name', 'laptop']);
  assert.equal(human.code, 0, show(human));
  const secret = human.stdout.match(/sdb_[A-Za-z0-9_-]{43}/);
  assert.ok(secret, human.stdout);
  assert.match(human.stdout, /will not be shown again/);

  await expectExit(['api-key', 'create', 'acme', '--name', 'ci'], 5);  // names are unique per tenant
  await expectExit(['api-key', 'create', 'no-such-tenant', '--name', 'ci'], 4);

  const list = await cli(['api-key', 'list', 'acme', '-o', 'json']);
  assert.equal(list.code, 0, show(list));
  assert.ok(!list.stdout.includes(apiKey) && !list.stdout.includes(secret[0]), 'no secret in the list');
  const keys = JSON.parse(list.stdout).api_keys;
  assert.deepEqual(keys.map((k) => k.name).sort(), ['ci', 'laptop']);
  for (const k of keys) assert.equal(k.revoked_at, null);

  const table = await cli(['api-key', 'list', 'acme']);
  assert.match(table.stdout, /^ID\s+NAME\s+TENANT\s+CREATED\s+REVOKED/);
  assert.ok(table.stdout.includes(apiKeyId), table.stdout);
});

test('dataset create, list, delete', async () => {
  const ds = await cliJson(['dataset', 'create', 'acme', 'staging', '--name', 'Staging']);
  assert.equal(ds.id, 'staging');
  assert.equal(ds.tenant_id, 'acme');
  assert.equal(ds.is_default, false);
  await expectExit(['dataset', 'create', 'acme', 'staging'], 5);

  let list = await cliJson(['dataset', 'list', 'acme']);
  assert.deepEqual(list.datasets.map((d) => d.id).sort(), ['default', 'staging']);
  assert.equal(list.datasets.find((d) => d.id === 'default').is_default, true);
  const table = await cli(['dataset', 'list', 'acme']);
  assert.match(table.stdout, /^default\s+default\s+.*\byes\b/m);

  await expectExit(['dataset', 'delete', 'acme', 'staging'], 0);
  list = await cliJson(['dataset', 'list', 'acme']);
  assert.deepEqual(list.datasets.map((d) => d.id), ['default']);
  await expectExit(['dataset', 'delete', 'acme', 'staging'], 4);
  await expectExit(['dataset', 'list', 'no-such-tenant'], 4);
});

test('a trace ingested with the created key reads back through query sql, query traceql and trace get', async () => {
  assert.ok(apiKey, 'the api-key test ran first');
  const res = await fetch(`http://127.0.0.1:${server.ports.otlpHttp}/v1/traces`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(otlpTrace()),
  });
  assert.equal(res.status, 200, await res.text());

  const asKey = { SIGNALDB_API_KEY: apiKey };
  const sqlText = 'SELECT service_name, count(*) AS n FROM traces GROUP BY service_name';
  const sql = await eventually(async () => {
    const r = await cli(['query', 'sql', sqlText, '-o', 'json'], asKey);
    if (r.code !== 0) return { ok: false, why: show(r) };
    const body = JSON.parse(r.stdout);
    return { ok: body.rows.length > 0, why: r.stdout, body };
  }, 'SQL sees the span');
  assert.deepEqual(sql.body.columns.map((c) => c.name), ['service_name', 'n']);
  assert.deepEqual(sql.body.rows, [['cli-svc', '2']]);

  // Table form, with the key as a flag and the tenant named explicitly.
  const table = await cli(['--api-key', apiKey, '--tenant', 'acme', 'query', 'sql', sqlText]);
  assert.equal(table.code, 0, show(table));
  assert.deepEqual(table.stdout.trimEnd().split('\n').map((l) => l.split(/\s+/)), [['service_name', 'n'], ['cli-svc', '2']]);
  await expectExit(['query', 'sql', 'SELEC nonsense FROM'], 2, asKey);  // the server's 400

  const q = '{ resource.service.name = "cli-svc" }';
  const search = await eventually(async () => {
    const r = await cli(['query', 'traceql', q, '--start', '1h', '--limit', '5', '-o', 'json'], asKey);
    if (r.code !== 0) return { ok: false, why: show(r) };
    const body = JSON.parse(r.stdout);
    return { ok: (body.traces ?? []).length > 0, why: r.stdout, body };
  }, 'TraceQL finds the trace');
  assert.equal(search.body.traces.length, 1);
  assert.equal(search.body.traces[0].traceID.padStart(32, '0'), TRACE_HEX);
  const searchTable = await cli(['query', 'traceql', q], asKey);
  assert.equal(searchTable.code, 0, show(searchTable));
  assert.match(searchTable.stdout, /^TRACE ID\s+ROOT SERVICE\s+ROOT NAME\s+START\s+DURATION$/m);
  assert.match(searchTable.stdout, /cli-svc\s+GET \/cli\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+9ms$/m);

  const trace = await cli(['trace', 'get', TRACE_HEX], asKey);
  assert.equal(trace.code, 0, show(trace));
  const rows = trace.stdout.trimEnd().split('\n');
  assert.match(rows[0], /^SERVICE\s+NAME\s+SPAN ID\s+PARENT\s+START\s+DURATION\s+STATUS$/);
  assert.match(rows[1], new RegExp(`^cli-svc\\s+GET /cli\\s+${ROOT_SPAN}\\s+-\\s+\\S+\\s+9ms\\s+unset$`));
  assert.match(rows[2], new RegExp(`^cli-svc\\s+  db-query\\s+${CHILD_SPAN}\\s+${ROOT_SPAN}\\s+\\S+\\s+6ms\\s+error: boom$`));
  const traceJson = await cliJson(['trace', 'get', TRACE_HEX], asKey);
  assert.equal(traceJson.batches.length, 1);

  await expectExit(['trace', 'get', 'ab'.repeat(16)], 4, asKey);
  await expectExit(['query', 'sql', 'SELECT 1'], 3);  // auth enabled, no key
  await expectExit(['query', 'sql', 'SELECT 1', '--tenant', 'globex'], 3, asKey);  // another tenant: 403
  await expectExit(['query', 'sql', 'SELECT 1', '--dataset', 'staging'], 4, asKey);  // deleted dataset
});

test('a revoked key stops working at once (exit 3)', async () => {
  const revoked = await cliJson(['api-key', 'revoke', 'acme', apiKeyId]);
  assert.equal(revoked.id, apiKeyId);
  assert.ok(revoked.revoked_at, JSON.stringify(revoked));
  await cliJson(['api-key', 'revoke', 'acme', apiKeyId]);  // twice is fine
  await expectExit(['api-key', 'revoke', 'acme', 'no-such-key'], 4);

  await expectExit(['query', 'sql', 'SELECT 1'], 3, { SIGNALDB_API_KEY: apiKey });
  await expectExit(['trace', 'get', TRACE_HEX], 3, { SIGNALDB_API_KEY: apiKey });
  const list = await cliJson(['api-key', 'list', 'acme']);
  assert.ok(list.api_keys.find((k) => k.id === apiKeyId).revoked_at);
});

test('tenant delete removes it', async () => {
  const r = await expectExit(['tenant', 'delete', 'globex'], 0);
  assert.match(r.stdout, /deleted/);
  await expectExit(['tenant', 'get', 'globex'], 4);
  const quiet = await expectExit(['tenant', 'delete', 'acme', '-o', 'json'], 0);
  assert.equal(quiet.stdout, '');  // 204: nothing to print as JSON
  const ids = (await cliJson(['tenant', 'list'])).tenants.map((t) => t.id);
  assert.ok(!ids.includes('acme') && !ids.includes('globex-id'), JSON.stringify(ids));
});
