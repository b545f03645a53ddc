#!/usr/bin/env bash
# Every ```csharp block of README.md and docs/**/*.md compiles the way a user would compile it: in a fresh project
# outside the solution, on the locally packed packages, with exactly the packages the README tells that user to add,
# on every target framework the packages support (net8.0 and net10.0), with the packaged generator and analyzers on.
#
# Which packages a block gets:
#   - by default, those of the `dotnet add package NAME` lines of the README's Quick start not marked "# optional";
#   - a block that needs more names them all in a marker, and every name there must have a `dotnet add package`
#     line in the README (the README must tell the user to add it).
# One fresh project per distinct package set; a project also compiles the blocks of the same pages whose packages
# are a subset of its own, so a block may use a type that an earlier block of the page declared. Each block becomes one C# file; the
# blocks of one page share a namespace of their own (a page reads as one program, and pages may reuse type names).
# Statements that stand at the top of a block are wrapped in a method; `using` directives are hoisted. #line
# directives point every diagnostic back at the Markdown line it came from.
#
# Markers, on the line right before a block's fence:
#   <!-- docs-check: skip -->                                    a deliberate fragment (not compiled)
#   <!-- docs-check: expect LOCK002 -->                          shows a mistake: must raise that diagnostic
#   <!-- docs-check: packages Locking Microsoft.Extensions.Hosting -->  the packages this block needs
# A block on docs/diagnostics/LOCKnnn.md may raise LOCKnnn without a marker. Any other error, and any LOCK
# diagnostic nobody expected, fails the check.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source tests/checks/lib/packed.bash
repo=$(pwd)
frameworks=${DOCS_CHECK_FRAMEWORKS:-net8.0;net10.0}
scratch=artifacts/docs-check
rm -rf "$scratch"
mkdir -p "$scratch/blocks"
scratch=$(cd "$scratch" && pwd)
trap 'forget_packed_locking' EXIT

docs=(README.md)
while IFS= read -r page; do docs+=("$page"); done < <(find docs -name '*.md' 2>/dev/null | sort)

# What the README tells a user to add: every name it gives to `dotnet add package`, and the default set: the lines
# of its "Quick start" section that are not marked "# optional".
told=$(sed -n 's/^[[:space:]]*dotnet add package \([A-Za-z0-9_.-]*\).*/\1/p' README.md | sort -u)
default_packages=$(awk '/^## /{ quick = ($0 ~ /^## Quick start/) } quick' README.md \
  | grep -E '^[[:space:]]*dotnet add package ' | grep -viE '#[[:space:]]*optional' \
  | sed 's/^[[:space:]]*dotnet add package \([A-Za-z0-9_.-]*\).*/\1/' | sort -u | tr '\n' ' ' | sed 's/ $//')
if [ -z "$default_packages" ]; then
  echo "docs.sh: the Quick start of README.md has no \`dotnet add package\` line that is not optional: a user is never told what to add." >&2
  exit 1
fi

# One line per block in blocks.tsv: file, first line, last line, expected ids, block name, packages (sorted).
: > "$scratch/blocks.tsv"
index=0
for page in "${docs[@]}"; do
  index=$((index + 1))
  awk -v page="$page" -v abs="$repo/$page" -v out="$scratch/blocks" -v tsv="$scratch/blocks.tsv" -v prefix="Doc$index" -v defaults="$default_packages" '
    function flush(    i, n, line, kind, name, file, expect, packages, sorted, count_p, j, t) {
      name = prefix "Block" (++blocks)
      file = out "/" name ".cs"
      # Hoisted using directives (not using statements or declarations).
      for (i = 1; i <= count; i++) {
        if (text[i] ~ /^using[ \t]+(static[ \t]+)?[A-Za-z_][A-Za-z0-9_.]*[ \t]*;/ || text[i] ~ /^using[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*=[^;]*;/ || text[i] ~ /^global using /) {
          printf "#line %d \"%s\"\n%s\n", start + i, abs, text[i] > file
          text[i] = ""
        }
      }
      printf "#line default\nnamespace DocsCheck.%s;\n", prefix > file
      # Leading statements (until the first declaration at column 0) go into a method.
      first_decl = count + 1
      for (i = 1; i <= count; i++) {
        if (text[i] ~ /^(\[[A-Za-z]|public |internal |private |protected |file |sealed |abstract |static class|static partial|partial |class |record |struct |interface |enum |readonly |namespace )/) { first_decl = i; break }
      }
      statements = 0
      for (i = 1; i < first_decl; i++) if (text[i] !~ /^[ \t]*(\/\/.*)?$/) statements = 1
      if (statements) {
        printf "file static class Snippet\n{\n#pragma warning disable CS1998, CS8321, CS0168, CS0219\n    public static async Task RunAsync()\n    {\n" > file
        for (i = 1; i < first_decl; i++) printf "#line %d \"%s\"\n%s\n", start + i, abs, text[i] > file
        printf "#line default\n    }\n}\n" > file
      } else {
        first_decl = 1
      }
      for (i = first_decl; i <= count; i++) printf "#line %d \"%s\"\n%s\n", start + i, abs, text[i] > file
      close(file)
      expect = marker_expect
      if (match(page, /LOCK[0-9][0-9][0-9]\.md$/)) expect = expect " " substr(page, RSTART, 7)
      if (expect ~ /^[ \t]*$/) expect = "-"   # never an empty field: read would merge it with the next
      packages = marker_packages != "" ? marker_packages : defaults
      # Sorted, so that equal sets are equal strings.
      count_p = split(packages, p, /[ \t]+/)
      for (i = 1; i <= count_p; i++) for (j = i + 1; j <= count_p; j++) if (p[j] < p[i]) { t = p[i]; p[i] = p[j]; p[j] = t }
      sorted = ""
      for (i = 1; i <= count_p; i++) if (p[i] != "" && p[i] != p[i - 1]) sorted = sorted (sorted == "" ? "" : " ") p[i]
      printf "%s\t%d\t%d\t%s\t%s\t%s\n", page, start + 1, start + count, expect, name, sorted >> tsv
    }
    /^[ \t]*```/ && inside { inside = 0; if (!skip) flush(); skip = 0; marker_expect = ""; marker_packages = ""; next }
    /^[ \t]*```(csharp|cs|c#)[ \t]*$/ && !inside {
      inside = 1; start = NR; count = 0; skip = pending_skip; marker_expect = pending_expect; marker_packages = pending_packages
      pending_skip = 0; pending_expect = ""; pending_packages = ""
      match($0, /^[ \t]*/); indent = RLENGTH   # a block inside a list item is indented as a whole
      next
    }
    inside { line = $0; if (substr(line, 1, indent) ~ /^[ \t]*$/) line = substr(line, indent + 1); text[++count] = line; next }
    /<!--[ \t]*docs-check:[ \t]*skip[ \t]*-->/ { pending_skip = 1; next }
    /<!--[ \t]*docs-check:[ \t]*expect[ \t]/ { s = $0; sub(/.*expect[ \t]+/, "", s); sub(/[ \t]*-->.*/, "", s); gsub(/,/, " ", s); pending_expect = s; next }
    /<!--[ \t]*docs-check:[ \t]*packages[ \t]/ { s = $0; sub(/.*packages[ \t]+/, "", s); sub(/[ \t]*-->.*/, "", s); gsub(/,/, " ", s); pending_packages = s; next }
    /[^ \t]/ { pending_skip = 0; pending_expect = ""; pending_packages = "" }
  ' "$page"
done

blocks=$(wc -l < "$scratch/blocks.tsv")
if [ "$blocks" -eq 0 ]; then
  echo "docs.sh: no csharp blocks found in ${docs[*]}" >&2
  exit 1
fi

failures=0
# A marker may only name packages the README tells the user to add.
while IFS=$'\t' read -r page first last expected name packages; do
  for package in $packages; do
    if ! grep -qxF "$package" <<< "$told"; then
      echo "  $page($first): the block needs $package, but README.md has no \`dotnet add package $package\` line" >&2
      failures=$((failures + 1))
    fi
  done
done < "$scratch/blocks.tsv"

if ! pack_locking "$scratch"; then
  echo "docs.sh: could not pack Locking." >&2
  exit 1
fi

# One fresh project per distinct package set.
cut -f6 "$scratch/blocks.tsv" | sort -u > "$scratch/sets.txt"
sets=$(wc -l < "$scratch/sets.txt")
echo "docs.sh: compiling $blocks csharp blocks from ${#docs[@]} pages in $sets fresh project(s) ($frameworks) on Locking $LOCKING_VERSION"
: > "$scratch/build.log"
number=0
while IFS= read -r set; do
  number=$((number + 1))
  project="$scratch/projects/set$number"
  fresh_project_dir "$project" "$LOCKING_FEED"
  # shellcheck disable=SC2086 # a set is a list of package names
  references=$(package_references $set) || failures=$((failures + 1))
  cat > "$project/DocsCheck.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFrameworks>$frameworks</TargetFrameworks>
    <OutputType>Library</OutputType>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <NoWarn>\$(NoWarn);CS1591</NoWarn>
  </PropertyGroup>
  <ItemGroup>
$references
  </ItemGroup>
</Project>
PROJECT
  # The blocks of this set, and those of the same pages whose packages are all in this set.
  pages=$(awk -F'\t' -v set="$set" '$6 == set { print $1 }' "$scratch/blocks.tsv" | sort -u)
  while IFS=$'\t' read -r page first last expected name packages; do
    grep -qxF "$page" <<< "$pages" || continue
    subset=1
    for package in $packages; do
      [[ " $set " == *" $package "* ]] || subset=0
    done
    [ "$subset" -eq 1 ] && cp "$scratch/blocks/$name.cs" "$project/"
  done < "$scratch/blocks.tsv"
  echo "  [$set]: $(ls "$project"/*.cs | wc -l) blocks"
  if ! dotnet build "$project/DocsCheck.csproj" -c Release -nologo -clp:NoSummary >> "$scratch/build.log" 2>&1; then
    touch "$scratch/build-failed"
  fi
done < "$scratch/sets.txt"

# Diagnostics that point into a Markdown page: "path.md(line,col): error|warning ID: message".
grep -oE "[^ ]+\.md\([0-9]+,[0-9]+\): (error|warning) [A-Z]+[0-9]+: [^[]*" "$scratch/build.log" | sed "s|$repo/||" | sed 's/ *$//' | sort -u > "$scratch/diagnostics.txt"

while IFS= read -r diagnostic; do
  page=${diagnostic%%(*}
  line=$(sed -E 's/^[^(]+\(([0-9]+),.*/\1/' <<< "$diagnostic")
  severity=$(sed -E 's/^[^)]+\): (error|warning) .*/\1/' <<< "$diagnostic")
  id=$(sed -E 's/^[^)]+\): (error|warning) ([A-Z]+[0-9]+):.*/\2/' <<< "$diagnostic")
  expected=$(awk -F'\t' -v p="$page" -v l="$line" '$1 == p && l >= $2 && l <= $3 { print $4 }' "$scratch/blocks.tsv")
  if [[ " $expected " == *" $id "* ]]; then
    continue
  fi
  if [ "$severity" = error ] || [[ "$id" == LOCK* ]]; then
    packages=$(awk -F'\t' -v p="$page" -v l="$line" '$1 == p && l >= $2 && l <= $3 { print $6 }' "$scratch/blocks.tsv")
    echo "  $diagnostic   (packages: $packages)" >&2
    failures=$((failures + 1))
  fi
done < "$scratch/diagnostics.txt"

# A marker that expects a diagnostic is checked too: the mistake the page shows must really be caught.
while IFS=$'\t' read -r page first last expected name packages; do
  for id in $(tr ' ' '\n' <<< "$expected" | grep -E '^LOCK' | sort -u); do
    [[ "$page" == *"$id.md" ]] && continue
    if ! awk -F'[(,]' -v p="$page" -v f="$first" -v l="$last" -v id="$id" \
        '$1 == p && $2 >= f && $2 <= l && index($0, " " id ":") { found = 1 } END { exit !found }' "$scratch/diagnostics.txt"; then
      echo "  $page($first): the block expects $id but the build did not report it" >&2
      failures=$((failures + 1))
    fi
  done
done < "$scratch/blocks.tsv"

# Errors outside the Markdown (restore, the project itself, generated code) are failures as well.
other_errors=$(grep -E ": error [A-Z]+[0-9]*:" "$scratch/build.log" | grep -vE "\.md\([0-9]+,[0-9]+\): error" | sed "s|$repo/||; s| \[.*||" | sort -u)
if [ -n "$other_errors" ] || { [ -f "$scratch/build-failed" ] && [ ! -s "$scratch/diagnostics.txt" ]; }; then
  echo "docs.sh: a fresh project failed to build for a reason outside the Markdown:" >&2
  echo "${other_errors:-$(tail -n 20 "$scratch/build.log")}" | head -n 20 >&2
  failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
  echo "docs.sh: $failures problem(s) in documentation code blocks (generated files: $scratch)" >&2
  exit 1
fi
echo "docs.sh: all $blocks blocks compile for a user who adds what the README says"
