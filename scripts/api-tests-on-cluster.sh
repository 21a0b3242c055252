#!/usr/bin/env bash
# Runs the in-process API test suite (calibration included) on a two-shard ClickHouse cluster
# instead of DuckDB: each test gets a database of its own on a cluster started here and stopped
# on exit, whatever happens. Called by `make test` (target unit-cluster).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d "${TMPDIR:-/tmp}/iem-cluster.XXXXXX")"
trap 'bash "$here/scripts/clickhouse-cluster.sh" stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

# A free base port below the ephemeral range: shard 1 takes base..base+2, shard 2 base+10..base+12.
free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=
for candidate in $(seq 21000 40 24960); do
  if free "$candidate" && free $((candidate + 1)) && free $((candidate + 2)) \
     && free $((candidate + 10)) && free $((candidate + 11)) && free $((candidate + 12)); then
    base=$candidate
    break
  fi
done
[ -n "$base" ] || { echo "no free ports for the test cluster" >&2; exit 1; }
bash "$here/scripts/clickhouse-cluster.sh" start "$dir" "$base" >/dev/null
echo "API tests on the ClickHouse cluster at 127.0.0.1:$base and 127.0.0.1:$((base + 10))"
IEM_TEST_CLUSTER="127.0.0.1:$base,127.0.0.1:$((base + 10))" \
  cargo test --locked --release -p server --test api -- \
  access:: alerts:: alerts_tls:: boundaries:: calibration:: due_soon:: ingest_api:: live_stream:: properties:: reports:: stats_api:: eras::
