// Tenants, keys and datasets made through the admin API, live, with the
// service database on SQLite (the default file) and on a real PostgreSQL
// server (scripts/pg-test-server.sh): validation and conflicts, isolation of
// the admin-made tenants on every ingest and query path, revocation and
// deletion taking effect at once, per-tenant limits set through the API
// (ingest rate, query concurrency, query time range), persistence across a
// restart and, on PostgreSQL, a change made on one process reaching another.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Postgres } from './lib/postgres.mjs';
import { Server, tempDataDir } from './lib/server.mjs';
import { otlpJson } from './lib/otlp_json.mjs';

const ADMIN = 'sk-admin-test-key-1';

function adminSuite(backend) {
  describe(`admin API on ${backend}`, () => {
    let server;
    let pg;
    let dsn;
    const dirs = [];
    let refused = 0;  // cross-tenant and cross-dataset attempts made and refused
    const extra = [];  // other servers started by a test

    const admin = async (method, url, body, key = ADMIN) => {
      const res = await fetch(`${server.baseUrl}/api/v1/admin${url}`, {
        method,
        headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const ingest = async (srv, headers, body) => {
      const res = await fetch(`http://127.0.0.1:${srv.ports.otlpHttp}/v1/traces`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body),
      });
      return { status: res.status, text: await res.text(), retryAfter: res.headers.get('retry-after') };
    };
    const sql = async (headers, query) => {
      const res = await fetch(`${server.baseUrl}/api/v1/sql`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ query }),
      });
      return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after') };
    };
    const keys = {};  // tenant -> secret
    const bearer = (tenant) => ({ Authorization: `Bearer ${keys[tenant]}` });
    const traces = {};  // "tenant/dataset" -> trace id

    const startServer = (dir, env = {}) => new Server(dir, {
      SIGNALDB_AUTH__ENABLED: 'true',
      SIGNALDB_AUTH__ADMIN_API_KEY: ADMIN,
      SIGNALDB_AUTH__REFRESH_INTERVAL: '200ms',
      SIGNALDB_WRITER__FLUSH_INTERVAL: '300ms',
      SIGNALDB_LOG__LEVEL: 'warn',
      ...(dsn ? { SIGNALDB_DATABASE__DSN: dsn } : {}),
      ...env,
    }).start();

    before(async () => {
      if (backend === 'postgres') {
        pg = new Postgres('pgadmin');
        dsn = pg.start();
      }
      const dir = tempDataDir(`admin-${backend}`);
      dirs.push(dir);
      server = await startServer(dir);
    });
    after(async () => {
      console.log(`${backend}: cross-tenant and cross-dataset attempts made and refused: ${refused}`);
      for (const s of extra) await s.stop();
      await server?.stop();
      pg?.stop();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });

    test('the admin key is required; bad input is 400 naming the field; names taken are 409', async () => {
      assert.equal((await admin('GET', '/tenants', undefined, null)).status, 401);
      assert.equal((await admin('GET', '/tenants', undefined, 'sk-wrong-admin-key')).status, 401);
      const cases = [
        [{}, 'slug'],
        [{ slug: '../etc' }, 'slug'],
        [{ id: 'Upper' }, 'id'],
        [{ slug: 'ok', colour: 'red' }, 'colour'],
        [{ slug: 'ok', name: 7 }, 'name'],
        [{ slug: 'ok', limits: { max_query_range: 'soon' } }, 'limits.max_query_range'],
        [{ slug: 'ok', limits: { warp_speed: 9 } }, 'limits.warp_speed'],
      ];
      for (const [body, field] of cases) {
        const r = await admin('POST', '/tenants', body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.field, field, JSON.stringify(r.body));
      }
      assert.equal((await admin('POST', '/tenants', 'not json')).status, 400);
      const created = await admin('POST', '/tenants', { slug: 'alpha', name: 'Alpha' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.default_dataset, 'default');
      assert.equal(created.body.source, 'database');
      assert.match(created.body.created_at, /^\d{4}-\d\d-\d\dT/);
      assert.equal((await admin('POST', '/tenants', { slug: 'alpha' })).status, 409);
      assert.equal((await admin('POST', '/tenants', { id: 'other', slug: 'alpha' })).status, 409);
      assert.equal((await admin('GET', '/tenants/nobody')).status, 404);
      const put = await admin('PUT', '/tenants/alpha', { name: 'Alpha Inc' });
      assert.equal(put.status, 200);
      assert.equal(put.body.name, 'Alpha Inc');
      assert.equal((await admin('PUT', '/tenants/alpha', { default_dataset: 'nope' })).body.field, 'default_dataset');
      const list = await admin('GET', '/tenants');
      assert.deepEqual(list.body.tenants.map((t) => t.id), ['alpha']);
    });

    test('two admin-made tenants with two datasets each are isolated on every path', async () => {
      assert.equal((await admin('POST', '/tenants', { id: 'beta', slug: 'beta-co', default_dataset: 'main' })).status, 201);
      for (const [tenant, dataset] of [['alpha', 'second'], ['beta', 'other']]) {
        const r = await admin('POST', `/tenants/${tenant}/datasets`, { slug: dataset, name: `${tenant} ${dataset}` });
        assert.equal(r.status, 201, JSON.stringify(r.body));
      }
      assert.equal((await admin('POST', '/tenants/alpha/datasets', { slug: 'second' })).status, 409);
      assert.equal((await admin('POST', '/tenants/alpha/datasets', { slug: 'x', storage: { dsn: 'ftp://x' } })).body.field,
        'storage.dsn');
      for (const tenant of ['alpha', 'beta']) {
        const k = await admin('POST', `/tenants/${tenant}/api-keys`, { name: 'ci' });
        assert.equal(k.status, 201, JSON.stringify(k.body));
        assert.match(k.body.key, /^sdb_[A-Za-z0-9_-]{43}$/);
        keys[tenant] = k.body.key;
      }
      assert.equal((await admin('POST', '/tenants/alpha/api-keys', { name: 'ci' })).status, 409);
      // Listings never show a secret.
      const listed = await admin('GET', '/tenants/alpha/api-keys');
      assert.equal(listed.body.api_keys.length, 1);
      assert.ok(!JSON.stringify(listed.body).includes(keys.alpha));
      assert.ok(!('key' in listed.body.api_keys[0]));

      const writes = [['alpha/default', bearer('alpha'), 'a1'], ['alpha/second', { ...bearer('alpha'), 'X-Dataset-ID': 'second' }, 'a2'],
        ['beta/main', { ...bearer('beta'), 'X-Tenant-ID': 'beta-co' }, 'b1'],
        ['beta/other', { ...bearer('beta'), 'X-Scope-OrgID': 'beta', 'X-Dataset-ID': 'other' }, 'b2']];
      for (const [where, headers, tag] of writes) {
        traces[where] = tag.repeat(16);
        const r = await ingest(server, headers, otlpJson(traces[where], where.replace('/', '-')));
        assert.equal(r.status, 200, `${where}: ${r.text}`);
      }
      // Ingest refused across tenants and datasets.
      const body = otlpJson('cc'.repeat(16), 'x');
      for (const [headers, want] of [[{ ...bearer('alpha'), 'X-Tenant-ID': 'beta' }, 403],
        [{ ...bearer('beta'), 'X-Scope-OrgID': 'alpha' }, 403], [{ ...bearer('alpha'), 'X-Dataset-ID': 'main' }, 404],
        [{ ...bearer('beta'), 'X-Dataset-ID': 'second' }, 404]]) {
        assert.equal((await ingest(server, headers, body)).status, want, JSON.stringify(headers));
        refused++;
      }
      const views = {
        'alpha/default': bearer('alpha'), 'alpha/second': { ...bearer('alpha'), 'X-Dataset-ID': 'second' },
        'beta/main': bearer('beta'), 'beta/other': { ...bearer('beta'), 'X-Dataset-ID': 'other' },
      };
      for (const [view, headers] of Object.entries(views)) {
        for (const [where, hex] of Object.entries(traces)) {
          const res = await fetch(`${server.baseUrl}/tempo/api/traces/${hex}`, { headers });
          const text = await res.text();
          if (where === view) {
            assert.equal(res.status, 200, `${view} reads its own trace`);
            assert.ok(text.includes(where.replace('/', '-')));
          } else {
            assert.equal(res.status, 404, `${view} must not see ${where}`);
            refused++;
          }
        }
        const search = await fetch(`${server.baseUrl}/tempo/api/search?q=${encodeURIComponent('{ }')}`, { headers });
        assert.deepEqual((await search.json()).traces.map((t) => t.traceID.padStart(32, '0')), [traces[view]]);
        const counted = await sql(headers, 'SELECT service_name, count(*) FROM traces GROUP BY 1');
        assert.deepEqual(counted.body.rows, [[view.replace('/', '-'), '1']], view);
      }
      for (const q of ['SELECT * FROM beta.main.traces', "SELECT count(*) FROM read_parquet('../../beta/**/*.parquet')"]) {
        const r = await sql(bearer('alpha'), q);
        assert.ok(r.status >= 400 && r.status < 500, `${q}: ${r.status}`);
        assert.ok(!JSON.stringify(r.body).includes('beta-main'));
        refused++;
      }
    });

    test('revoking a key and deleting datasets and tenants apply at once', async () => {
      const second = await admin('POST', '/tenants/beta/api-keys', { name: 'temp' });
      assert.equal(second.status, 201);
      const temp = { Authorization: `Bearer ${second.body.key}` };
      assert.equal((await ingest(server, temp, otlpJson('dd'.repeat(16), 'beta-main'))).status, 200);
      const revoked = await admin('DELETE', `/tenants/beta/api-keys/${second.body.id}`);
      assert.equal(revoked.status, 200);
      assert.ok(revoked.body.revoked_at);
      assert.equal((await ingest(server, temp, otlpJson('dd'.repeat(16), 'beta-main'))).status, 401);
      assert.equal((await sql(temp, 'SELECT 1')).status, 401);
      assert.equal((await admin('DELETE', '/tenants/beta/api-keys/key_nope')).status, 404);
      // The other key of the tenant still works.
      assert.equal((await sql(bearer('beta'), 'SELECT 1')).status, 200);

      assert.equal((await admin('DELETE', '/tenants/alpha/datasets/second')).status, 204);
      assert.equal((await sql({ ...bearer('alpha'), 'X-Dataset-ID': 'second' }, 'SELECT 1')).status, 404);
      assert.equal((await admin('DELETE', '/tenants/alpha/datasets/second')).status, 404);
      const gone = await admin('POST', '/tenants', { slug: 'doomed' });
      assert.equal(gone.status, 201);
      const dk = await admin('POST', '/tenants/doomed/api-keys', { name: 'k' });
      assert.equal((await sql({ Authorization: `Bearer ${dk.body.key}` }, 'SELECT 1')).status, 200);
      assert.equal((await admin('DELETE', '/tenants/doomed')).status, 204);
      assert.equal((await sql({ Authorization: `Bearer ${dk.body.key}` }, 'SELECT 1')).status, 401);
      assert.equal((await admin('GET', '/tenants/doomed')).status, 404);
    });

    test('limits set through the API: ingest rate, query time range, query concurrency', async () => {
      const made = await admin('POST', '/tenants', {
        slug: 'gamma', limits: { ingest_records_per_second: 5, max_query_range: '1h', query_concurrency: 1 },
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assert.equal(made.body.effective_limits.query_concurrency, 1);
      keys.gamma = (await admin('POST', '/tenants/gamma/api-keys', { name: 'ci' })).body.key;
      // Ten records against 5/s: admitted into debt, then 429 while alpha goes on.
      const many = otlpJson('ee'.repeat(16), 'gamma');
      const span = many.resourceSpans[0].scopeSpans[0].spans[0];
      many.resourceSpans[0].scopeSpans[0].spans = Array.from({ length: 10 }, (_, i) => ({
        ...span, spanId: (i + 1).toString(16).padStart(16, '0'),
      }));
      assert.equal((await ingest(server, bearer('gamma'), many)).status, 200);
      const limited = await ingest(server, bearer('gamma'), many);
      assert.equal(limited.status, 429, limited.text);
      assert.ok(Number(limited.retryAfter) >= 1);
      for (let i = 0; i < 3; i++) {
        assert.equal((await ingest(server, bearer('alpha'), otlpJson(`f${i}`.repeat(16), 'alpha-default'))).status, 200);
      }
      // A search wider than max_query_range is 400; within it, 200.
      const now = Math.floor(Date.now() / 1000);
      const wide = await fetch(`${server.baseUrl}/tempo/api/search?q=%7B%7D&start=${now - 7200}&end=${now}`,
        { headers: bearer('gamma') });
      assert.equal(wide.status, 400);
      assert.match(await wide.text(), /max_query_range/);
      const narrow = await fetch(`${server.baseUrl}/tempo/api/search?q=%7B%7D&start=${now - 600}&end=${now + 1}`,
        { headers: bearer('gamma') });
      assert.equal(narrow.status, 200);
      const metrics = await fetch(`${server.baseUrl}/tempo/api/metrics/query_range?q=${encodeURIComponent('{ } | rate()')}&since=3h`,
        { headers: bearer('gamma') });
      assert.equal(metrics.status, 400);
      // A changed limit applies to the next request (PATCH replaces all overrides).
      assert.equal((await admin('PATCH', '/tenants/gamma',
        { limits: { query_concurrency: 1, ingest_records_per_second: 5, max_query_range: '3h' } })).status, 200);
      assert.equal((await fetch(`${server.baseUrl}/tempo/api/search?q=%7B%7D&start=${now - 7200}&end=${now}`,
        { headers: bearer('gamma') })).status, 200);
      assert.equal((await admin('PATCH', '/tenants/gamma',
        { limits: { query_concurrency: 1, ingest_records_per_second: 5, max_query_range: '30m' } })).status, 200);
      // Metrics without start or since read the last max_query_range, not the default hour.
      const recent = await fetch(`${server.baseUrl}/tempo/api/metrics/query_range?q=${encodeURIComponent('{ } | rate()')}`,
        { headers: bearer('gamma') });
      assert.equal(recent.status, 200, await recent.text());
      // One slow query holds gamma's only slot: a second one is 429, alpha's is not.
      const slow = sql(bearer('gamma'), 'SELECT sum(hash(a.range * b.range)) AS s FROM range(20000) a, range(20000) b');
      let busy = null;
      for (let i = 0; i < 50 && !busy; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const r = await sql(bearer('gamma'), 'SELECT 1');
        if (r.status === 429) busy = r;
      }
      assert.ok(busy, 'a second concurrent query of gamma is refused');
      assert.match(busy.body.error, /query_concurrency/);
      assert.equal(busy.retryAfter, '1');
      assert.equal((await sql(bearer('alpha'), 'SELECT 1')).status, 200);
      assert.equal((await slow).status, 200);
      assert.equal((await sql(bearer('gamma'), 'SELECT 1')).status, 200);  // the slot came back
    });

    test('a dataset on its own storage keeps its data there, through deletion and a restart', async () => {
      const ext = fs.mkdtempSync(path.join(os.tmpdir(), `sdb-it-ext-${backend}-`));
      const ext2 = fs.mkdtempSync(path.join(os.tmpdir(), `sdb-it-ext2-${backend}-`));
      dirs.push(ext, ext2);
      const refusedDsns = ['memory://alpha-ext', 'file://relative/dir', `file://${server.dataDir}/storage/beta/main`,
        `file://${server.dataDir}/wal`, `file://${path.dirname(ext)}`];
      for (const dsn of refusedDsns) {
        const r = await admin('POST', '/tenants/alpha/datasets', { slug: 'ext', storage: { dsn } });
        assert.equal(r.status, 400, `${dsn}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.field, 'storage.dsn');
      }
      const made = await admin('POST', '/tenants/alpha/datasets', { slug: 'ext', storage: { dsn: `file://${ext}/` } });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assert.equal(made.body.storage.dsn, `file://${ext}`);  // normalized
      const headers = { ...bearer('alpha'), 'X-Dataset-ID': 'ext' };
      assert.equal((await ingest(server, headers, otlpJson('e1'.repeat(16), 'alpha-ext'))).status, 200);
      const files = () => fs.existsSync(path.join(ext, 'alpha', 'ext')) &&
        fs.readdirSync(path.join(ext, 'alpha', 'ext'), { recursive: true }).some((f) => String(f).endsWith('.parquet'));
      for (let i = 0; i < 100 && !files(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(files(), 'the data files are on the dataset\'s storage');
      assert.equal((await admin('DELETE', '/tenants/alpha/datasets/ext')).status, 204);
      // Its data is still on the first storage: other storage is refused.
      const moved = await admin('POST', '/tenants/alpha/datasets', { slug: 'ext', storage: { dsn: `file://${ext2}` } });
      assert.equal(moved.status, 409, JSON.stringify(moved.body));
      // A restart reopens it where its data is, though the database no longer names it.
      await server.stop();
      server = await server.start();
      assert.equal((await admin('POST', '/tenants/alpha/datasets', { slug: 'ext', storage: { dsn: `file://${ext}` } })).status, 201);
      const back = await sql(headers, 'SELECT service_name, count(*) FROM traces GROUP BY 1');
      assert.deepEqual(back.body.rows, [['alpha-ext', '1']]);
      // Bytes that are not UTF-8 in a path are a clean 404, not a 500.
      const odd = await fetch(`${server.baseUrl}/api/v1/admin/tenants/%FF%FE`, { headers: { Authorization: `Bearer ${ADMIN}` } });
      assert.equal(odd.status, 404);
    });

    test('everything made through the API survives a restart', async () => {
      await server.stop();
      server = await server.start();
      assert.ok(Number((await sql(bearer('alpha'), 'SELECT count(*) FROM traces WHERE service_name = \'alpha-default\'')).body.rows[0][0]) >= 4);
      assert.equal((await sql({ ...bearer('beta'), 'X-Dataset-ID': 'other' }, 'SELECT count(*) FROM traces')).body.rows[0][0], '1');
      const tenants = (await admin('GET', '/tenants')).body.tenants.map((t) => t.id).sort();
      assert.deepEqual(tenants, ['alpha', 'beta', 'gamma']);
      if (backend === 'postgres') {
        // The database holds hashes, never the keys, and the revocation time.
        const rows = pg.psql('SELECT tenant_id, name, key_hash, revoked_at IS NOT NULL FROM api_keys ORDER BY tenant_id, name');
        assert.ok(!rows.includes(keys.alpha) && !rows.includes(keys.beta));
        assert.match(rows, /beta\|temp\|[0-9a-f]{64}\|t/);
      }
    });

    if (backend === 'postgres') {
      test('a change made through one process reaches another sharing the database', async () => {
        const dir = tempDataDir('admin-pg-b');
        dirs.push(dir);
        const other = await startServer(dir);
        extra.push(other);
        const k = await admin('POST', '/tenants', { slug: 'delta' });
        assert.equal(k.status, 201);
        const key = (await admin('POST', '/tenants/delta/api-keys', { name: 'ci' })).body.key;
        const headers = { Authorization: `Bearer ${key}` };
        let status = 0;
        for (let i = 0; i < 100 && status !== 200; i++) {
          status = (await ingest(other, headers, otlpJson('de'.repeat(16), 'delta'))).status;
          if (status !== 200) await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(status, 200, 'the other process accepts the new key within the refresh interval');
        const id = (await admin('GET', '/tenants/delta/api-keys')).body.api_keys[0].id;
        assert.equal((await admin('DELETE', `/tenants/delta/api-keys/${id}`)).status, 200);
        for (let i = 0; i < 100 && status !== 401; i++) {
          status = (await ingest(other, headers, otlpJson('de'.repeat(16), 'delta'))).status;
          if (status !== 401) await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(status, 401, 'and refuses it once revoked');
      });
    }
  });
}

adminSuite('sqlite');
adminSuite('postgres');

test('GET /api/v1/openapi.json describes the whole HTTP API', async () => {
  const dir = tempDataDir('openapi');
  const server = await new Server(dir, { SIGNALDB_LOG__LEVEL: 'warn' }).start();
  try {
    const res = await fetch(`${server.baseUrl}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.equal(doc.openapi, '3.0.3');
    for (const p of ['/tempo/api/search', '/tempo/api/traces/{traceID}', '/tempo/api/v2/search/tag/{tag}/values',
      '/tempo/api/metrics/query_range', '/api/v1/sql', '/health', '/api/v1/admin/tenants',
      '/api/v1/admin/tenants/{tenant}/api-keys/{key_id}', '/api/v1/admin/tenants/{tenant}/datasets/{dataset}']) {
      assert.ok(doc.paths[p], `${p} is described`);
    }
    assert.ok(doc.paths['/api/v1/admin/tenants'].post.requestBody);
    assert.ok(doc.components.schemas.Tenant.properties.limits);
    // Without an admin key the admin API is off.
    const admin = await fetch(`${server.baseUrl}/api/v1/admin/tenants`, { headers: { Authorization: 'Bearer x' } });
    assert.equal(admin.status, 404);
    assert.match((await admin.json()).error, /admin_api_key/);
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
