# Sourced by the checks that use Locking as a user gets it: packed, from a feed, in a fresh project outside the
# solution (not a check itself: test.sh runs only tests/checks/*.sh).
#
#   pack_locking DIR         builds and packs Locking and Locking.Orleans into DIR/feed with a version of this run's
#                            own (the repository's version with a -check.TIMESTAMP suffix); sets LOCKING_VERSION and
#                            LOCKING_FEED. When test.sh packed them already (LOCKING_CHECK_FEED, LOCKING_CHECK_VERSION),
#                            uses those instead.
#   fresh_project_dir DIR FEED  makes DIR a folder no repository setting reaches, whose NuGet.config adds FEED
#   package_references NAME...  the PackageReference lines for Locking packages and pinned third-party ones
#   package_version NAME     the version Directory.Packages.props pins for a third-party package
#   forget_packed_locking    removes this run's Locking versions from the NuGet cache again
LOCKING_VERSION=""
LOCKING_FEED=""

pack_locking() { # pack_locking DIR
  local dir=$1 configuration=${CONFIGURATION:-Release}
  if [ -n "${LOCKING_CHECK_FEED:-}" ] && [ -f "$LOCKING_CHECK_FEED/Locking.${LOCKING_CHECK_VERSION:-}.nupkg" ]; then
    LOCKING_VERSION=$LOCKING_CHECK_VERSION
    LOCKING_FEED=$LOCKING_CHECK_FEED
    return 0
  fi
  LOCKING_VERSION="$(dotnet msbuild src/Locking.Runtime/Locking.Runtime.csproj -getProperty:Version)-check.$(date +%Y%m%d%H%M%S)$RANDOM"
  mkdir -p "$dir/feed"
  LOCKING_FEED=$(cd "$dir/feed" && pwd)
  # A no-op right after test.sh built the solution.
  if ! dotnet build src/Locking.Grains/Locking.Grains.csproj -c "$configuration" -nologo -v q -clp:ErrorsOnly > "$dir/pack.log" 2>&1; then
    cat "$dir/pack.log" >&2
    echo "the packaged projects do not build." >&2
    return 1
  fi
  local project
  for project in src/Locking.Runtime/Locking.Runtime.csproj src/Locking.Grains/Locking.Grains.csproj; do
    if ! dotnet pack "$project" -c "$configuration" --no-build -o "$dir/feed" -p:PackageVersion="$LOCKING_VERSION" -nologo -v q > "$dir/pack.log" 2>&1; then
      cat "$dir/pack.log" >&2
      echo "dotnet pack $project failed." >&2
      return 1
    fi
  done
}

fresh_project_dir() { # fresh_project_dir DIR FEED
  mkdir -p "$1"
  cat > "$1/NuGet.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="locking-scratch" value="$2" />
  </packageSources>
</configuration>
CONFIG
  echo '<Project />' > "$1/Directory.Build.props"
  echo '<Project />' > "$1/Directory.Build.targets"
  echo '<Project />' > "$1/Directory.Packages.props"
}

package_references() { # package_references NAME...: the PackageReference lines of a fresh project
  local package version missing=0
  for package in "$@"; do
    case "$package" in
      Locking|Locking.Orleans) version=$LOCKING_VERSION ;;
      *) version=$(package_version "$package") ;;
    esac
    if [ -z "$version" ]; then
      echo "no version of $package is known (add its PackageVersion to Directory.Packages.props)" >&2
      missing=1
      continue
    fi
    echo "    <PackageReference Include=\"$package\" Version=\"$version\" />"
  done
  return $missing
}

package_version() { # package_version NAME
  sed -n 's/.*<PackageVersion Include="'"$1"'" Version="\([^"]*\)".*/\1/p' Directory.Packages.props | head -n 1
}

forget_packed_locking() {
  [ -n "$LOCKING_VERSION" ] || return 0
  local cache=${NUGET_PACKAGES:-$HOME/.nuget/packages}
  rm -rf "$cache/locking/$LOCKING_VERSION" "$cache/locking.orleans/$LOCKING_VERSION"
}
