#!/usr/bin/env bash
# Starts or stops a two-shard ClickHouse cluster on loopback (Debian's clickhouse-server, configs in
# server/clickhouse/). Used by the ClickHouse tests and benchmark, and by hand:
#   scripts/clickhouse-cluster.sh start DIR [BASE_PORT]   # shard 1: HTTP BASE_PORT, TCP BASE_PORT+1, …
#   scripts/clickhouse-cluster.sh stop DIR
# Prints the STORE_URL of shard 1 when started. DIR holds both shards' data and logs; reusing it keeps them.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
config_dir="$here/server/clickhouse"
action="${1:?usage: clickhouse-cluster.sh start|stop DIR [BASE_PORT]}"
dir="${2:?usage: clickhouse-cluster.sh start|stop DIR [BASE_PORT]}"
base="${3:-18123}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

shard_ports() { # shard number → http tcp interserver
  local n=$1
  echo "$((base + (n - 1) * 10)) $((base + (n - 1) * 10 + 1)) $((base + (n - 1) * 10 + 2))"
}

stop_shard() {
  local pidfile="$dir/shard$1/server.pid"
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
}

case "$action" in
  start)
    command -v clickhouse-server >/dev/null || { echo "clickhouse-server is not installed (make setup installs it)" >&2; exit 2; }
    read -r _ tcp1 _ < <(shard_ports 1)
    read -r _ tcp2 _ < <(shard_ports 2)
    for n in 1 2; do
      read -r http tcp inter < <(shard_ports "$n")
      sdir="$dir/shard$n"
      mkdir -p "$sdir/log" "$sdir/data" "$sdir/tmp" "$sdir/user_files" "$sdir/format_schemas"
      sed -e "s|@DIR@|$sdir|g" -e "s|@CONFIG_DIR@|$config_dir|g" -e "s|@HTTP_PORT@|$http|g" \
          -e "s|@TCP_PORT@|$tcp|g" -e "s|@INTERSERVER_PORT@|$inter|g" -e "s|@SHARD1_TCP@|$tcp1|g" \
          -e "s|@SHARD2_TCP@|$tcp2|g" -e "s|@SHARD@|$n|g" "$config_dir/shard.xml" > "$sdir/config.xml"
      stop_shard "$n"
      clickhouse-server --config-file="$sdir/config.xml" --pid-file="$sdir/server.pid" --daemon
    done
    for n in 1 2; do
      read -r http _ _ < <(shard_ports "$n")
      ok=
      for _ in $(seq 1 300); do
        if [ "$(curl -s "http://127.0.0.1:$http/ping" 2>/dev/null)" = "Ok." ]; then ok=1; break; fi
        sleep 0.1
      done
      [ -n "$ok" ] || { echo "shard $n did not answer on port $http; see $dir/shard$n/log/" >&2; exit 1; }
    done
    read -r http1 _ _ < <(shard_ports 1)
    echo "clickhouse://127.0.0.1:$http1/iem"
    ;;
  stop)
    stop_shard 1
    stop_shard 2
    ;;
  *)
    echo "unknown action: $action (start or stop)" >&2
    exit 2
    ;;
esac
