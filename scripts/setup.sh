#!/usr/bin/env bash
# Installs everything SignalDB needs to build, run and test on Debian 12:
# Debian packages (compiler, libraries, test servers) and the pinned npm
# packages in deps/package.json (DuckDB's library and header, OpenTelemetry
# SDK exporters used as real clients in tests, s3rver as the S3 server the
# object-store tests start). Idempotent: re-running it
# only installs what is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

debs=(
  build-essential cmake ninja-build ccache pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libcpp-httplib-dev libsimdjson-dev nlohmann-json3-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev libabsl-dev
  libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev libssl-dev libsqlite3-dev libpq-dev
  libcurl4-openssl-dev libpugixml-dev libre2-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev python3-avro postgresql
  nodejs npm curl ca-certificates
)

missing=()
for p in "${debs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    # nodejs/npm may come from elsewhere on developer machines; accept them on PATH.
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages: reinstall only when deps/package.json changed.
stamp="$root/deps/node_modules/.signaldb-stamp"
want="$(sha256sum "$root/deps/package.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] ||
   [ ! -f "$root/deps/node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so" ] ||
   [ ! -f "$root/deps/node_modules/s3rver/package.json" ]; then
  echo "setup: installing npm packages into deps/node_modules"
  (cd "$root/deps" && npm install --ignore-scripts --no-package-lock --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi

for f in "$root/deps/node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so" \
         "$root/deps/node_modules/duckdb/src/duckdb/src/include/duckdb.h" \
         "$root/deps/node_modules/s3rver/package.json"; do
  [ -f "$f" ] || { echo "setup: expected $f after npm install" >&2; exit 1; }
done
# Integration tests import the npm packages from next to themselves.
ln -sfn ../../deps/node_modules "$root/tests/integration/node_modules"
echo "setup: ok"
