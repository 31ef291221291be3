#!/usr/bin/env bash
# Runs every benchmark in bench/ (built into <build>/benchmarks). Each benchmark
# prints its figures beside a baseline measured in the same run.
set -euo pipefail
build="${1:-build}"
for b in "$build"/benchmarks/*; do
  [ -f "$b" ] && [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" --benchmark_min_time=0.5 "${@:2}"
done
