#!/usr/bin/env bash
# What a user gets from NuGet: pack Locking and Locking.Orleans to a scratch feed, then build a fresh console
# project outside the solution that references only the packed Locking package, and check that
#   - the package carries the generator, analyzers and code fixes, its metadata, and no build-only dependency;
#   - the [Exclusive] wrapper is generated and the program runs against a real redis-server;
#   - the build reports LOCK002 for the classic non-owner delete, with its help link.
# A private NuGet cache and a version of this run's own (tests/checks/lib/packed.bash) make sure that no stale
# package, from an earlier run or from any feed, stands in for the one just packed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/checks/lib/redis-server.bash
source tests/checks/lib/packed.bash
repo=$(pwd)
scratch=$(mktemp -d)
trap 'stop_redis; rm -rf "$scratch"' EXIT
app="$scratch/app"
export NUGET_PACKAGES="$scratch/packages"
failures=0
fail() { echo "package.sh: $*" >&2; failures=$((failures + 1)); }

pack_locking "$scratch" || exit 1
version=$LOCKING_VERSION
feed=$LOCKING_FEED
locking="$feed/Locking.$version.nupkg"
orleans="$feed/Locking.Orleans.$version.nupkg"
[ -f "$locking" ] || { echo "package.sh: no Locking $version package was produced." >&2; ls "$feed" >&2; exit 1; }
[ -f "$orleans" ] || { fail "no Locking.Orleans $version package was produced"; orleans=""; }
for package in "$locking" ${orleans:+"$orleans"}; do
  [ -f "${package%.nupkg}.snupkg" ] || fail "no symbols package next to $(basename "$package")"
done

# The package layout and metadata.
contents=$(unzip -l "$locking")
for file in lib/net8.0/Locking.dll lib/net10.0/Locking.dll README.md \
    analyzers/dotnet/cs/Locking.Generators.dll analyzers/dotnet/cs/Locking.Analyzers.dll analyzers/dotnet/cs/Locking.Analyzers.CodeFixes.dll; do
  grep -qF " $file" <<< "$contents" || fail "Locking $version does not contain $file"
done
nuspec=$(unzip -p "$locking" Locking.nuspec)
for element in '<description>' '<tags>' '<license type="expression">' '<readme>README.md</readme>' '<repository type="git"'; do
  grep -qF "$element" <<< "$nuspec" || fail "Locking.nuspec has no $element"
done
if grep -E '<dependency id="(Locking\.Generators|Locking\.Analyzers[^"]*|Microsoft\.CodeAnalysis[^"]*|PolySharp)"' <<< "$nuspec"; then
  fail "Locking depends on a build-only package (above)"
fi
if [ -n "$orleans" ]; then
  grep -qE "<dependency id=\"Locking\" version=\"$version\"" <<< "$(unzip -p "$orleans" Locking.Orleans.nuspec)" \
    || fail "Locking.Orleans does not depend on Locking $version"
fi

# A fresh console project, outside the solution: none of the repository's build settings apply.
fresh_project_dir "$app" "$feed"
cat > "$app/PackageUser.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Locking" Version="$version" />
  </ItemGroup>
</Project>
PROJECT
cat > "$app/Program.cs" <<'PROGRAM'
using Locking;
using StackExchange.Redis;

await using var connection = await ConnectionMultiplexer.ConnectAsync(args[0]);
await using var locks = new RedisLockProvider(connection);
var orders = new Orders(locks, connection.GetDatabase());

// Two callers at once: the lease lets exactly one of them in; the other skips.
var ran = await Task.WhenAll(Task.Run(() => orders.ChargeAsync("42")), Task.Run(() => orders.ChargeAsync("42")));
Console.WriteLine($"ran={ran.Count(r => r)} skipped={ran.Count(r => !r)}");
return ran.Count(r => r) == 1 ? 0 : 1;

public partial class Orders(ILockProvider locks, IDatabase redis)
{
    [Exclusive("orders/{orderId}", Wait = "0", OnBusy = OnBusy.Skip)]
    public partial Task<bool> ChargeAsync(string orderId);

    private async Task<bool> ChargeAsyncCore(string orderId, LockLease lease, CancellationToken ct)
    {
        Console.WriteLine($"charging {orderId} under {lease.Key} with fencing token {lease.FencingToken}");
        await Task.Delay(500, ct);
        return true;
    }

    // The classic mistake: a plain DEL of a lock key releases whoever holds it now.
    public void ReleaseTheOldWay()
    {
        redis.StringSet("lock:legacy", "me", TimeSpan.FromSeconds(10), When.NotExists);
        redis.KeyDelete("lock:legacy");
    }
}
PROGRAM

if ! dotnet build "$app/PackageUser.csproj" -nologo > "$scratch/build.log" 2>&1; then
  cat "$scratch/build.log" >&2
  echo "package.sh: a fresh project referencing Locking $version does not build." >&2
  exit 1
fi
lock002=$(grep -E 'warning LOCK002' "$scratch/build.log" | head -n 1)
if [ -z "$lock002" ]; then
  fail "the build did not report LOCK002 for the non-owner delete"
elif ! grep -qE 'https://[^ )]*/docs/diagnostics/LOCK002\.md' <<< "$lock002"; then
  fail "LOCK002 was reported without its help link: $lock002"
else
  echo "package.sh: ${lock002##*: warning }"
fi
generated=$(find "$app/obj" -path '*Locking.Generators*' -name '*.cs' 2>/dev/null | head -n 1)
[ -n "$generated" ] || fail "the generator wrote no source into the fresh project"

start_redis "$scratch" || exit 1
if ! timeout 60 dotnet run --project "$app/PackageUser.csproj" --no-build -- "127.0.0.1:$REDIS_PORT" > "$scratch/run.log" 2>&1; then
  fail "the program built from the package did not run cleanly against redis-server:"
  cat "$scratch/run.log" >&2
elif ! grep -q 'ran=1 skipped=1' "$scratch/run.log" || ! grep -q 'with fencing token' "$scratch/run.log"; then
  fail "the program ran but the lock did not behave:"
  cat "$scratch/run.log" >&2
else
  sed 's/^/package.sh: run: /' "$scratch/run.log"
fi

if [ "$failures" -ne 0 ]; then
  echo "package.sh: $failures failure(s)" >&2
  exit 1
fi
echo "package.sh: Locking $version and Locking.Orleans pack and work from a fresh project"
