// The binary's process contract: configuration errors name the key and exit
// non-zero, a port in use names the address, /health on both HTTP ports, a
// startup banner listing every bound address, and a clean SIGTERM shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { Server, binaryPath, freePort, tempDataDir } from './lib/server.mjs';

function run(args, env, cwd) {
  return new Promise((resolve) => {
    const p = spawn(binaryPath(), args, { env: { PATH: process.env.PATH, ...env }, cwd });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 20000);
    p.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

test('unknown config keys, bad values and bad files are named; exit non-zero', async () => {
  const dir = tempDataDir('cfg');
  fs.writeFileSync(path.join(dir, 'bad.toml'), '[acceptor]\ngrpc_adress = "127.0.0.1:1"\n');
  let r = await run(['--config', path.join(dir, 'bad.toml')], {}, dir);
  assert.equal(r.code, 2);
  assert.match(r.out, /acceptor\.grpc_adress/);

  r = await run([], { SIGNALDB_WRITER__FLUSH_INTERVAL: 'often' }, dir);
  assert.equal(r.code, 2);
  assert.match(r.out, /SIGNALDB_WRITER__FLUSH_INTERVAL/);

  // ./signaldb.toml is picked up without --config.
  fs.writeFileSync(path.join(dir, 'signaldb.toml'), '[router]\nhttp_addr = "127.0.0.1:99999"\n');
  r = await run([], {}, dir);
  assert.equal(r.code, 2);
  assert.match(r.out, /router\.http_addr/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a port in use is reported with its address', async () => {
  const dir = tempDataDir('port');
  const blocker = net.createServer();
  await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
  const taken = blocker.address().port;
  const r = await run([], {
    SIGNALDB_DATA_DIR: dir,
    SIGNALDB_ACCEPTOR__GRPC_ADDR: `127.0.0.1:${await freePort()}`,
    SIGNALDB_ACCEPTOR__HTTP_ADDR: `127.0.0.1:${await freePort()}`,
    SIGNALDB_ROUTER__HTTP_ADDR: `127.0.0.1:${taken}`,
  }, dir);
  blocker.close();
  assert.equal(r.code, 1);
  assert.match(r.out, new RegExp(`127\\.0\\.0\\.1:${taken}`));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('banner, health on both HTTP ports, clean SIGTERM', async () => {
  const dir = tempDataDir('health');
  const server = await new Server(dir).start();
  for (const port of [server.ports.http, server.ports.otlpHttp]) {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, 'ok');
    for (const c of ['wal', 'storage', 'query_engine']) assert.equal(body.components[c].status, 'ok', c);
    assert.match(server.log, new RegExp(`127\\.0\\.0\\.1:${port}`));
  }
  assert.match(server.log, new RegExp(`OTLP/gRPC\\s+127\\.0\\.0\\.1:${server.ports.grpc}`));
  const other = await fetch(`http://127.0.0.1:${server.ports.otlpHttp}/nope`);
  assert.equal(other.status, 404);
  const exit = await server.stop();
  assert.equal(exit.code, 0);
  assert.match(server.log, /shutdown complete/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('oversized gRPC messages get RESOURCE_EXHAUSTED and the server keeps serving', async () => {
  const { exportRaw, traceServiceClient } = await import('./lib/proto.mjs');
  const dir = tempDataDir('limit');
  const server = await new Server(dir, { SIGNALDB_ACCEPTOR__MAX_MESSAGE_BYTES: '64KiB' }).start();
  const client = traceServiceClient(server.grpcTarget);
  const span = (name) => ({ traceId: Buffer.alloc(16, 9), spanId: Buffer.alloc(8, 9), name });
  await assert.rejects(
    exportRaw(client, { resourceSpans: [{ scopeSpans: [{ spans: [span('x'.repeat(100 * 1024))] }] }] }),
    (err) => err.code === 8);  // RESOURCE_EXHAUSTED
  const ok = await exportRaw(client, { resourceSpans: [{ scopeSpans: [{ spans: [span('small')] }] }] });
  assert.equal(ok.partialSuccess, undefined);
  const res = await fetch(`${server.baseUrl}/api/v1/sql`, { method: 'POST', body: 'SELECT span_name FROM traces' });
  assert.deepEqual((await res.json()).rows, [['small']]);
  client.close();
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});
