#!/usr/bin/env bash
# Runs every benchmark in bench/ (built into <build>/benchmarks). Each benchmark
# prints its figures beside a baseline measured in the same run. Extra
# arguments go to every benchmark; the google-benchmark micro benchmarks
# (named *_bench) also get a short minimum time; trace_lookup gets a small
# data set.
set -euo pipefail
build="${1:-build}"
for b in "$build"/benchmarks/*; do
  [ -f "$b" ] && [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  case "$(basename "$b")" in
    *_bench) "$b" --benchmark_min_time=0.5 "${@:2}" ;;
    # A quick look (8 files); the full-scale run is in docs/trace-index.md.
    trace_lookup) "$b" --signaldb "$build/bin/signaldb" --spans 2000000 --lookups 300 "${@:2}" ;;
    *) "$b" "${@:2}" ;;
  esac
done
