#!/usr/bin/env bash
# Runs the Locking cluster sample on this machine: a redis-server on a free port, three Orleans silos on free
# ports (Redis membership + Redis grain storage for the lock grains), and two client processes whose workers
# restock shared inventory through [Exclusive] methods. Midway one silo is killed (SIGKILL) to show the locks
# moving to the surviving silos. Finally every stock level is checked against what the clients added.
# Everything this script starts is stopped by its pid when it ends.
#
#   samples/Locking.Cluster/run.sh [--keep-silos] [--operations N]
#
# Needs: dotnet (the SDK in global.json) and redis-server.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
configuration=${CONFIGURATION:-Release}
operations=150
kill_silo=1
while [ $# -gt 0 ]; do
  case "$1" in
    --keep-silos) kill_silo=0; shift ;;
    --operations) operations="$2"; shift 2 ;;
    *) echo "usage: $0 [--keep-silos] [--operations N]" >&2; exit 2 ;;
  esac
done

command -v redis-server >/dev/null || { echo "run.sh: redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)." >&2; exit 1; }
command -v dotnet >/dev/null || { echo "run.sh: dotnet is not installed." >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/locking-cluster.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# A port nobody listens on now (bash's /dev/tcp connect fails on a free port).
used_ports=" "
free_port() {
  local port
  while :; do
    port=$(( 20000 + RANDOM % 40000 ))
    case "$used_ports" in *" $port "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      used_ports="$used_ports$port "
      echo "$port"
      return
    fi
  done
}

wait_for_line() { # wait_for_line FILE TEXT PID SECONDS
  local deadline=$(( SECONDS + $4 ))
  until grep -q "$2" "$1" 2>/dev/null; do
    if ! kill -0 "$3" 2>/dev/null; then echo "run.sh: process $3 exited early:" >&2; cat "$1" >&2; exit 1; fi
    if [ $SECONDS -ge $deadline ]; then echo "run.sh: timed out waiting for '$2' in $1:" >&2; cat "$1" >&2; exit 1; fi
    sleep 0.2
  done
}

echo "== building the sample ($configuration)"
dotnet build "$here/Locking.Cluster.csproj" -c "$configuration" -nologo -clp:ErrorsOnly >/dev/null
app="$here/bin/$configuration/net10.0/Locking.Cluster.dll"

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize no \
  --loglevel warning >"$work/redis.log" 2>&1 &
pids+=($!)
redis_pid=$!
deadline=$(( SECONDS + 10 ))
until (exec 3<>"/dev/tcp/127.0.0.1/$redis_port" && printf 'PING\r\n' >&3 && read -r -t 1 reply <&3 && [[ "$reply" == +PONG* ]]) 2>/dev/null; do
  kill -0 "$redis_pid" 2>/dev/null || { echo "run.sh: redis-server did not start:" >&2; cat "$work/redis.log" >&2; exit 1; }
  [ $SECONDS -lt $deadline ] || { echo "run.sh: redis-server did not answer on port $redis_port" >&2; exit 1; }
  sleep 0.1
done
redis="127.0.0.1:$redis_port"
echo "== redis-server on $redis (pid $redis_pid)"

silo_pids=()
for n in 1 2 3; do
  silo_port=$(free_port); gateway_port=$(free_port)
  dotnet "$app" silo --redis "$redis" --silo-port "$silo_port" --gateway-port "$gateway_port" --name "silo-$n" >"$work/silo-$n.log" 2>&1 &
  pids+=($!); silo_pids+=($!)
  wait_for_line "$work/silo-$n.log" "silo ready" "$!" 90
  echo "== $(grep 'silo ready' "$work/silo-$n.log") (pid ${silo_pids[-1]})"
done

run="run-$(date +%s)-$$"
client_pids=()
for name in client-a client-b; do
  dotnet "$app" client --redis "$redis" --run "$run" --client "$name" --workers 8 --operations "$operations" --skus 4 >"$work/$name.log" 2>&1 &
  pids+=($!); client_pids+=($!)
done
echo "== two clients restocking 4 SKUs, $operations restocks per worker, 8 workers each"

if [ "$kill_silo" -eq 1 ]; then
  wait_for_line "$work/client-a.log" "connected" "${client_pids[0]}" 90
  sleep 3
  echo "== killing silo-3 (pid ${silo_pids[2]}) with SIGKILL while the clients hold and wait for locks"
  kill -KILL "${silo_pids[2]}"
fi

status=0
for i in 0 1; do
  if ! wait "${client_pids[$i]}"; then status=1; fi
done
cat "$work/client-a.log" "$work/client-b.log" | grep -E "restocks|stale|rror" || true
[ "$status" -eq 0 ] || { echo "run.sh: a client failed; its log is above." >&2; exit 1; }

echo "== verify"
dotnet "$app" verify --redis "$redis" --run "$run"
