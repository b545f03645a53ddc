#!/usr/bin/env bash
# The README's Quick start, run as a new user runs it: a fresh console project outside the solution, once on net8.0
# and once on net10.0, with only the packages the Quick start names (its `docs-check: packages` marker), its two C#
# blocks as the program (the connection string pointed at a redis-server this script starts), against the locally
# packed packages. The net8.0 program runs self-contained, on a runtime restored from NuGet, so the .NET 10 SDK
# alone can run it.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/checks/lib/redis-server.bash
source tests/checks/lib/packed.bash
scratch=$(mktemp -d)
trap 'stop_redis; forget_packed_locking; rm -rf "$scratch"' EXIT
failures=0

# The Quick start's C# blocks: the service (first) and the program that registers a store and calls it (second).
quick=$(awk '/^## /{ quick = ($0 ~ /^## Quick start/) } quick' README.md)
service=$(awk '/^```csharp/{ n++; inside = 1; next } /^```/{ inside = 0 } inside && n == 1' <<< "$quick")
program=$(awk '/^```csharp/{ n++; inside = 1; next } /^```/{ inside = 0 } inside && n == 2' <<< "$quick")
packages=$(awk '/docs-check: packages/{ p = $0 } /^```csharp/{ n++; if (n == 2) { print p; exit } }' <<< "$quick" \
  | sed -E 's/.*packages[[:space:]]+//; s/[[:space:]]*-->.*//')
if [ -z "$service" ] || [ -z "$program" ] || [ -z "$packages" ]; then
  echo "quickstart.sh: README.md's Quick start no longer has a service block, a program block with a packages marker." >&2
  exit 1
fi
grep -q 'localhost:6379' <<< "$program" || { echo "quickstart.sh: the Quick start program names no localhost:6379 to point elsewhere." >&2; exit 1; }

pack_locking "$scratch" || exit 1
start_redis "$scratch" || exit 1

for framework in net8.0 net10.0; do
  app="$scratch/quickstart-$framework"
  fresh_project_dir "$app" "$LOCKING_FEED"
  # shellcheck disable=SC2086 # a list of package names
  references=$(package_references $packages) || exit 1
  cat > "$app/QuickStart.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>$framework</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
  </PropertyGroup>
  <ItemGroup>
$references
  </ItemGroup>
</Project>
PROJECT
  {
    grep -hE '^using [A-Za-z.]+;' <<< "$program"$'\n'"$service" | sort -u
    grep -vE '^using [A-Za-z.]+;' <<< "$program" | sed "s/localhost:6379/127.0.0.1:$REDIS_PORT/"
    echo 'Console.WriteLine("quick start: charged A-1001");'
    grep -vE '^using [A-Za-z.]+;' <<< "$service"
  } > "$app/Program.cs"

  run=(dotnet "$app/bin/Release/$framework/QuickStart.dll")
  build=(dotnet build "$app/QuickStart.csproj" -c Release -nologo)
  if [ "$framework" = net8.0 ]; then
    rid=$(dotnet msbuild "$app/QuickStart.csproj" -getProperty:NETCoreSdkRuntimeIdentifier)
    build+=(-r "$rid" --self-contained)
    run=("$app/bin/Release/$framework/$rid/QuickStart")
  fi
  if ! "${build[@]}" > "$scratch/build-$framework.log" 2>&1; then
    cat "$scratch/build-$framework.log" >&2
    echo "quickstart.sh: the Quick start does not build in a fresh $framework project with [$packages]." >&2
    failures=$((failures + 1))
    continue
  fi
  if ! timeout 60 "${run[@]}" > "$scratch/run-$framework.log" 2>&1 || ! grep -q 'quick start: charged A-1001' "$scratch/run-$framework.log"; then
    cat "$scratch/run-$framework.log" >&2
    echo "quickstart.sh: the Quick start built for $framework but did not run cleanly against redis-server." >&2
    failures=$((failures + 1))
    continue
  fi
  echo "quickstart.sh: $framework with [$packages]: $(tail -n 1 "$scratch/run-$framework.log")"
done

[ "$failures" -eq 0 ] || exit 1
echo "quickstart.sh: the Quick start builds and runs on net8.0 and net10.0 from the packed packages"
