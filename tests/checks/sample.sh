#!/usr/bin/env bash
# The sample is the first thing a new user runs: it must exit 0 (every invariant held) on the embedded Orleans
# default, and on a redis-server this script starts on a free port.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/checks/lib/redis-server.bash
configuration=${CONFIGURATION:-Release}
scratch=$(mktemp -d)
trap 'stop_redis; rm -rf "$scratch"' EXIT

if ! dotnet build samples/Locking.Sample -c "$configuration" -nologo -clp:ErrorsOnly -v q > "$scratch/build.log" 2>&1; then
  cat "$scratch/build.log" >&2
  echo "sample.sh: the sample does not build." >&2
  exit 1
fi

run_sample() { # run_sample NAME ARGS...: runs it, shows the summary, fails unless it exited 0 and said so
  local name=$1
  shift
  local started=$SECONDS
  timeout 150 dotnet run --project samples/Locking.Sample -c "$configuration" --no-build -- "$@" > "$scratch/$name.log" 2>&1
  local status=$?
  sed -n '/── Summary ──/,$p' "$scratch/$name.log"
  if [ "$status" -ne 0 ] || ! grep -qE '^All [0-9]+ invariants held\.' "$scratch/$name.log"; then
    echo "sample.sh: the sample on $name exited $status; its output:" >&2
    cat "$scratch/$name.log" >&2
    return 1
  fi
  echo "sample.sh: $name passed in $((SECONDS - started)) s"
}

echo "-- embedded Orleans silo (the default)"
run_sample orleans || exit 1

echo "-- Redis"
start_redis "$scratch" || exit 1
run_sample redis --store redis --redis "127.0.0.1:$REDIS_PORT" --workers 10 --duration 2s || exit 1
