// The real signaldb with its Iceberg catalog in a real PostgreSQL server
// (started by scripts/pg-test-server.sh, the script the C++ tests use): spans
// sent over OTLP are flushed and committed through PostgreSQL, the catalog row
// points at a metadata file that exists, and after a restart the trace comes
// back from the tables the catalog lists. A catalog that cannot be reached
// stops the server with an error naming host and port, never the password.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { Postgres } from './lib/postgres.mjs';
import { Server, freePort, tempDataDir } from './lib/server.mjs';
import { exportRaw, traceServiceClient } from './lib/proto.mjs';

const pg = new Postgres('pg');
const dataDirs = [];
const servers = [];
let uri;

before(() => {
  // Throws, failing every test, when PostgreSQL is not installed.
  uri = pg.start();
});
after(async () => {
  for (const s of servers) await s.stop();
  pg.stop();
  for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
});

function newServer(env) {
  const dir = tempDataDir('pg-catalog');
  dataDirs.push(dir);
  const s = new Server(dir, { SIGNALDB_LOG__LEVEL: 'warn', ...env });
  servers.push(s);
  return s;
}

function psql(sql) {
  return pg.psql(sql, '\t');
}

async function sql(server, query) {
  const res = await fetch(`${server.baseUrl}/api/v1/sql`, { method: 'POST', body: query });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

// Resolves once the traces table has `rows` committed rows (bounded wait).
async function committed(server, rows) {
  const deadline = Date.now() + 60000;
  let last;
  while (Date.now() < deadline) {
    const health = await (await fetch(`${server.baseUrl}/health`)).json();
    last = health.components?.storage?.tables?.['default/default/traces'];
    if (last && last.committed_rows === rows) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`traces never had ${rows} committed rows; last seen ${JSON.stringify(last)}\n${server.log}`);
}

test('traces commit through the PostgreSQL catalog and survive a restart', async () => {
  const server = newServer({ SIGNALDB_SCHEMA__CATALOG_URI: uri, SIGNALDB_WRITER__FLUSH_INTERVAL: '100ms' });
  await server.start();

  const traceId = crypto.randomBytes(16);
  const spans = Array.from({ length: 5 }, (_, i) => ({
    traceId, spanId: crypto.randomBytes(8), name: `op-${i}`, kind: 2,
    startTimeUnixNano: String(1700000000000000000n + BigInt(i)), endTimeUnixNano: '1700000001000000000',
  }));
  const client = traceServiceClient(server.grpcTarget);
  await exportRaw(client, { resourceSpans: [{ resource: { attributes: [
    { key: 'service.name', value: { stringValue: 'pg-catalog-test' } }] }, scopeSpans: [{ spans }] }] });
  client.close();
  await committed(server, 5);

  // The catalog row, in the Iceberg SQL catalog layout.
  const row = psql("SELECT metadata_location, previous_metadata_location, iceberg_type FROM iceberg_tables " +
    "WHERE catalog_name = 'signaldb' AND table_namespace = 'default.default' AND table_name = 'traces'");
  const [location, previous, type] = row.split('\t');
  assert.equal(type, 'TABLE', row);
  assert.match(location, /^file:\/\/.*\.metadata\.json$/);
  assert.notEqual(previous, '', 'a commit records the previous metadata location');
  const metadataFile = location.slice('file://'.length);
  assert.ok(fs.existsSync(metadataFile), `${metadataFile} exists`);
  const meta = JSON.parse(fs.readFileSync(metadataFile, 'utf8'));
  const current = meta.snapshots.find((s) => s['snapshot-id'] === meta['current-snapshot-id']);
  assert.equal(current.summary['total-records'], '5');
  const namespaces = psql("SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = 'signaldb'");
  assert.ok(namespaces.split('\n').includes('default.default'), namespaces);
  // The PostgreSQL catalog replaced the SQLite one: no catalog.db appeared.
  assert.ok(!fs.existsSync(path.join(server.dataDir, 'storage', 'catalog.db')));

  // A graceful restart flushes and trims the WAL: the trace now comes back
  // from the Parquet files the PostgreSQL catalog leads to.
  const exit = await server.stop();
  assert.equal(exit.code, 0, server.log);
  await server.start();
  const hex = traceId.toString('hex');
  const count = await sql(server, `SELECT count(*) FROM traces WHERE trace_id = '${hex}'`);
  assert.deepEqual(count.rows, [['5']]);
  const tempo = await (await fetch(`${server.baseUrl}/tempo/api/v2/traces/${hex}`)).json();
  const got = tempo.trace.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).length;
  assert.equal(got, 5);
  const health = await (await fetch(`${server.baseUrl}/health`)).json();
  assert.equal(health.components.storage.tables['default/default/traces'].buffered_rows, 0);
});

test('an unreachable catalog stops the server with an error naming host and port, not the password', async () => {
  // A wrong password on the live server.
  const port = uri.match(/:(\d+)\/signaldb$/)[1];
  const wrong = newServer({ SIGNALDB_SCHEMA__CATALOG_URI: `postgresql://signaldb:Wr0ngPassw0rd@127.0.0.1:${port}/signaldb` });
  await assert.rejects(wrong.start(), /exited during start/);
  assert.match(wrong.log, new RegExp(`127\\.0\\.0\\.1:${port}/signaldb`));
  assert.match(wrong.log, /password authentication failed/);
  assert.doesNotMatch(wrong.log, /Wr0ngPassw0rd/);

  // Nothing listening.
  const closed = await freePort();
  const down = newServer({ SIGNALDB_SCHEMA__CATALOG_URI: `postgresql://signaldb:Sup3rSecret@127.0.0.1:${closed}/signaldb` });
  await assert.rejects(down.start(), /exited during start/);
  assert.match(down.log, new RegExp(`cannot connect to the PostgreSQL catalog at 127\\.0\\.0\\.1:${closed}/signaldb`));
  assert.doesNotMatch(down.log, /Sup3rSecret/);
});
