#!/usr/bin/env bash
# The one test command (README and CI both run it): installs what the tests need when it is missing,
# builds the solution, runs every test project and the extra checks under tests/checks, and ends with
# one line "N passed, N failed, N skipped". Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
configuration=${CONFIGURATION:-Release}
results=artifacts/test-results
passed=0 failed=0 skipped=0

finish() {
  echo
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
  exit $?
}

if ! command -v redis-server >/dev/null 2>&1; then
  echo "== installing redis-server (Debian package)"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq redis-server >/dev/null
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "test.sh: redis-server is missing and could not be installed; the lock tests need a real Redis." >&2
  failed=1
  finish
fi
echo "== $(redis-server --version)"

echo "== build ($configuration)"
if ! dotnet build Locking.sln -c "$configuration" -nologo -v quiet -clp:NoSummary; then
  echo "test.sh: the build failed." >&2
  failed=$((failed + 1))
  finish
fi

rm -rf "$results"
mkdir -p "$results"

count() { # count ATTRIBUTE FILE: an attribute of the <Counters> element of a TRX file
  sed -n 's/.*<Counters [^>]*'"$1"'="\([0-9]*\)".*/\1/p' "$2" | head -n 1
}

for project in tests/*/*.csproj; do
  grep -q '<IsTestProject>true</IsTestProject>' "$project" || continue
  name=$(basename "$project" .csproj)
  # Each target framework of the project is its own run (net8.0 ones are self-contained: see their project files).
  frameworks=$(sed -n 's|.*<TargetFrameworks>\(.*\)</TargetFrameworks>.*|\1|p' "$project" | head -n 1 | tr ';' ' ')
  for framework in ${frameworks:-net10.0}; do
    run="$name.$framework"
    echo "== $name ($framework)"
    dotnet test "$project" -c "$configuration" -f "$framework" --no-build -nologo \
      --logger "trx;LogFileName=$run.trx" --logger "console;verbosity=normal" \
      --results-directory "$results" --blame-hang-timeout 5m 2>&1 \
      | grep -vE '^\s*(Passed |$)' | grep -vE '^\s*Test run for|^\s*VSTest version|^\s*A total of'
    trx="$results/$run.trx"
    if [ ! -f "$trx" ]; then
      echo "test.sh: $name on $framework produced no results (crashed or hung)." >&2
      failed=$((failed + 1))
      continue
    fi
    p=$(count passed "$trx"); f=$(count failed "$trx"); t=$(count total "$trx"); e=$(count executed "$trx")
    p=${p:-0}; f=${f:-0}; t=${t:-0}; e=${e:-0}
    other=$(( $(count error "$trx" || echo 0) + $(count timeout "$trx" || echo 0) + $(count aborted "$trx" || echo 0) ))
    passed=$((passed + p)); failed=$((failed + f + other)); skipped=$((skipped + t - e))
    echo "   $name ($framework): $p passed, $((f + other)) failed, $((t - e)) skipped"
  done
done

# Checks that are not xunit tests (a packed package used from a fresh project, the samples): each script
# under tests/checks is one test, passed when it exits 0. They use the packages as a user gets them: packed once
# here for all of them (each packs its own when run alone).
source tests/checks/lib/packed.bash
rm -rf artifacts/check-packages
if pack_locking artifacts/check-packages; then
  export LOCKING_CHECK_FEED=$LOCKING_FEED LOCKING_CHECK_VERSION=$LOCKING_VERSION
fi
for check in tests/checks/*.sh; do
  [ -f "$check" ] || continue
  echo "== check $(basename "$check")"
  if bash "$check"; then
    passed=$((passed + 1))
  else
    echo "test.sh: check $(basename "$check") failed." >&2
    failed=$((failed + 1))
  fi
done
forget_packed_locking

finish
