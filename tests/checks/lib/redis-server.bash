# Sourced by the checks that need a redis-server of their own (not a check itself: test.sh runs only tests/checks/*.sh).
# start_redis starts one on a free loopback port
# and sets REDIS_PORT and REDIS_PID; stop_redis kills that pid (only ours, never by name).
REDIS_PORT=""
REDIS_PID=""

start_redis() { # start_redis DIRECTORY
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-server is not installed; the check needs a real Redis (./test.sh installs it)." >&2
    return 1
  fi
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    # Free when nothing answers on it.
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$1" \
      --logfile "$1/redis-$port.log" >/dev/null 2>&1 &
    REDIS_PID=$!
    local waited
    for waited in $(seq 1 50); do
      if ! kill -0 "$REDIS_PID" 2>/dev/null; then
        break # it exited: most likely someone took the port first; try another
      fi
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        REDIS_PORT=$port
        return 0
      fi
      sleep 0.1
    done
    kill "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=""
  done
  echo "could not start redis-server on a free port (see $1/redis-*.log)" >&2
  return 1
}

stop_redis() {
  if [ -n "$REDIS_PID" ]; then
    kill "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=""
  fi
}
