// Starts the real signaldb binary for integration tests: a temp data dir,
// free loopback ports, readiness by polling /health (bounded), and kill -9 /
// SIGTERM helpers. The binary comes from SDB_BIN (set by ctest).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

export function binaryPath() {
  const bin = path.resolve(process.env.SDB_BIN || path.join(repoRoot, 'build/bin/signaldb'));
  if (!fs.existsSync(bin)) throw new Error(`signaldb binary not found at ${bin}; build first (make build)`);
  return bin;
}

// Ports come from below the kernel's ephemeral range (32768-60999 here), so an
// outgoing connection of a test running in parallel cannot take a port between
// our probe and the server's bind; a probe that finds one taken tries another.
function probePort(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

const handedOut = new Set();

export async function freePort() {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (handedOut.has(port)) continue;
    if (await probePort(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port found in 20000-31999');
}

export function tempDataDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sdb-it-${name}-`));
}

export class Server {
  constructor(dataDir, extraEnv = {}) {
    this.dataDir = dataDir;
    this.extraEnv = extraEnv;
    this.proc = null;
    this.log = '';
  }

  async start() {
    if (this.ports) return this.startOnce();
    // Fresh ports: if another process bound one after our probe, pick new ones.
    for (let attempt = 1; ; attempt++) {
      this.ports = { grpc: await freePort(), otlpHttp: await freePort(), http: await freePort() };
      try {
        return await this.startOnce();
      } catch (e) {
        if (attempt >= 3 || !/address in use/.test(String(e.message))) throw e;
        this.log = '';
      }
    }
  }

  async startOnce() {
    // Hermetic: no SIGNALDB_* settings leak in from the caller's environment.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIGNALDB_')));
    const env = {
      ...inherited,
      SIGNALDB_DATA_DIR: this.dataDir,
      SIGNALDB_ACCEPTOR__GRPC_ADDR: `127.0.0.1:${this.ports.grpc}`,
      SIGNALDB_ACCEPTOR__HTTP_ADDR: `127.0.0.1:${this.ports.otlpHttp}`,
      SIGNALDB_ROUTER__HTTP_ADDR: `127.0.0.1:${this.ports.http}`,
      ...this.extraEnv,
    };
    this.proc = spawn(binaryPath(), [], { env, cwd: this.dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d) => { this.log += d; });
    this.proc.stderr.on('data', (d) => { this.log += d; });
    const exited = new Promise((resolve) => this.proc.once('exit', (code, sig) => resolve({ code, sig })));
    this.exited = exited;
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 50))]);
      if (early) throw new Error(`signaldb exited during start (${JSON.stringify(early)}):\n${this.log}`);
      try {
        const res = await fetch(`${this.baseUrl}/health`);
        if (res.status === 200) return this;
      } catch { /* not listening yet */ }
    }
    throw new Error(`signaldb did not become healthy in 30s:\n${this.log}`);
  }

  get baseUrl() { return `http://127.0.0.1:${this.ports.http}`; }
  get grpcTarget() { return `127.0.0.1:${this.ports.grpc}`; }

  async kill9() {
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return null;
    this.proc.kill('SIGTERM');
    return this.exited;
  }
}
