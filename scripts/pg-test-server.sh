#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests. The C++ unit tests (through
# src/catalog/pg_test_server.h) and the node integration tests both start
# their server with this script, so there is one way to do it.
#
#   pg-test-server.sh start DIR [OWNER_PID]
#       Creates DIR (it must not exist or be empty; when run as root its
#       parent must be reachable by the "postgres" user), runs initdb in it,
#       starts the server on 127.0.0.1 at a free port with its unix socket in
#       DIR, creates database "signaldb" and prints the connection URI
#       postgresql://signaldb:<random password>@127.0.0.1:<port>/signaldb
#       as the last line of stdout. With OWNER_PID, a watchdog stops the
#       server and deletes DIR once that process is gone (a crashed test
#       leaves nothing running).
#   pg-test-server.sh stop DIR
#       Stops the server and deletes DIR.
#   pg-test-server.sh psql DIR [PSQL ARGS...]
#       Runs psql on database "signaldb" of that server (over its socket).
#
# PostgreSQL refuses to run as root: as root, the server runs as the
# "postgres" user the Debian package creates. Durability is switched off
# (fsync=off): the data is thrown away anyway. Missing server binaries are an
# error telling to run scripts/setup.sh.
set -euo pipefail
self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"

die() {
  echo "pg-test-server: $*" >&2
  exit 1
}

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && [ -x "$d/psql" ]; then
      echo "$d"
      return
    fi
  done
  die "PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) not found under /usr/lib/postgresql/*/bin; run scripts/setup.sh"
}

# Runs a command as the user that owns the server.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

is_ours() { [ -f "$1/data/PG_VERSION" ] || [ -f "$1/pwfile" ]; }

cmd_stop() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  is_ours "$dir" || die "$dir does not hold a test server; not touching it"
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

cmd_start() {
  local dir="$1" owner="${2:-}"
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    die "running as root needs the 'postgres' user (the postgresql package creates it); run scripts/setup.sh"
  fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  chmod 700 "$dir"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  as_owner test -w "$dir" || die "the postgres user cannot write $dir (is a parent directory private?)"

  local password
  password="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  (umask 077 && echo "$password" >"$dir/pwfile")
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir/pwfile"
  if ! as_owner "$bindir/initdb" -D "$dir/data" -U signaldb --pwfile="$dir/pwfile" -E UTF8 --locale=C --no-sync \
      --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed"
  fi

  # The port is free when picked but may be taken before the server binds
  # it: try a few.
  local port attempt
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k '$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null 2>&1; then
      break
    fi
    grep -q "could not bind\|Address already in use" "$dir/server.log" 2>/dev/null && [ "$attempt" -lt 5 ] && continue
    cat "$dir/server.log" >&2 2>/dev/null || true
    cmd_stop "$dir"
    die "the PostgreSQL server did not start"
  done
  echo "$port" >"$dir/port"
  if ! "$bindir/psql" -X -q -h "$dir" -p "$port" -U signaldb -d postgres -v ON_ERROR_STOP=1 \
      -c 'CREATE DATABASE signaldb' >/dev/null; then
    cmd_stop "$dir"
    die "could not create database signaldb"
  fi

  if [ -n "$owner" ]; then
    # Detached, with no inherited stdout, so callers reading our output see its end.
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done; "$3" stop "$2"' \
      watchdog "$owner" "$dir" "$self" </dev/null >/dev/null 2>&1 &
  fi
  echo "postgresql://signaldb:$password@127.0.0.1:$port/signaldb"
}

usage() { die "usage: $0 start DIR [OWNER_PID] | stop DIR | psql DIR [ARGS...]"; }

[ $# -ge 2 ] || usage
bindir="$(find_bindir)"
case "$1" in
  start) cmd_start "$2" "${3:-}" ;;
  stop) cmd_stop "$2" ;;
  psql)
    dir="$2"
    shift 2
    exec "$bindir/psql" -X -h "$dir" -p "$(cat "$dir/port")" -U signaldb -d signaldb -v ON_ERROR_STOP=1 "$@"
    ;;
  *) usage ;;
esac
