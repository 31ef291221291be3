// A throwaway real PostgreSQL server from scripts/pg-test-server.sh (the
// script the C++ tests use too). start() throws, failing the test, with the
// script's message (e.g. "run scripts/setup.sh") when PostgreSQL is missing.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './server.mjs';

const script = path.join(repoRoot, 'scripts/pg-test-server.sh');

export class Postgres {
  constructor(name) {
    // Not inside a mkdtemp directory: those are private to us, and as root
    // the server runs as user postgres.
    this.dir = path.join(os.tmpdir(), `sdb-it-${name}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
    this.uri = null;
  }

  // Starts the server (stopped by the script's watchdog if this process dies)
  // and returns its postgresql:// URI.
  start() {
    const out = execFileSync(script, ['start', this.dir, String(process.pid)], { encoding: 'utf8' });
    this.uri = out.trim().split('\n').pop();
    assert.match(this.uri, /^postgresql:\/\//);
    return this.uri;
  }

  // psql's unaligned, tuples-only output of `sql` (fields separated by `sep`).
  psql(sql, sep = '|') {
    return execFileSync(script, ['psql', this.dir, '-qAt', '-F', sep, '-c', sql], { encoding: 'utf8' }).trim();
  }

  stop() {
    if (this.uri) execFileSync(script, ['stop', this.dir]);
    this.uri = null;
  }
}
