#!/usr/bin/env bash
# Every ```csharp block of README.md and docs/**/*.md compiles, with the generator and analyzers on.
#
# Each block becomes one C# file of a scratch project (artifacts/docs-check, git-ignored) that references the
# Locking projects; the blocks of one page share a namespace of their own (a page reads as one program, and
# pages may reuse type names). Statements that stand at
# the top of a block are wrapped in a method; `using` directives are hoisted. #line directives point every
# diagnostic back at the Markdown line it came from.
#
# Markers, on the line right before a block's fence:
#   <!-- docs-check: skip -->            the block is a deliberate fragment (not compiled)
#   <!-- docs-check: expect LOCK002 -->  the block shows a mistake and must raise that diagnostic
# A block on docs/diagnostics/LOCKnnn.md may raise LOCKnnn without a marker. Any other error, and any LOCK
# diagnostic nobody expected, fails the check.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$(pwd)
configuration=${CONFIGURATION:-Release}
scratch=artifacts/docs-check
rm -rf "$scratch"
mkdir -p "$scratch"

docs=(README.md)
while IFS= read -r page; do docs+=("$page"); done < <(find docs -name '*.md' 2>/dev/null | sort)

# One line per block in blocks.tsv: file, first line, last line, expected ids (space separated).
: > "$scratch/blocks.tsv"
index=0
for page in "${docs[@]}"; do
  index=$((index + 1))
  awk -v page="$page" -v abs="$repo/$page" -v out="$scratch" -v prefix="Doc$index" '
    function flush(    i, n, line, kind, name, file, expect) {
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
      printf "%s\t%d\t%d\t%s\n", page, start + 1, start + count, expect >> (out "/blocks.tsv")
    }
    /^[ \t]*```/ && inside { inside = 0; if (!skip) flush(); skip = 0; marker_expect = ""; next }
    /^[ \t]*```(csharp|cs|c#)[ \t]*$/ && !inside {
      inside = 1; start = NR; count = 0; skip = pending_skip; marker_expect = pending_expect; pending_skip = 0; pending_expect = ""
      match($0, /^[ \t]*/); indent = RLENGTH   # a block inside a list item is indented as a whole
      next
    }
    inside { line = $0; if (substr(line, 1, indent) ~ /^[ \t]*$/) line = substr(line, indent + 1); text[++count] = line; next }
    /<!--[ \t]*docs-check:[ \t]*skip[ \t]*-->/ { pending_skip = 1; next }
    /<!--[ \t]*docs-check:[ \t]*expect[ \t]/ { s = $0; sub(/.*expect[ \t]+/, "", s); sub(/[ \t]*-->.*/, "", s); gsub(/,/, " ", s); pending_expect = s; next }
    /[^ \t]/ { pending_skip = 0; pending_expect = "" }
  ' "$page"
done

blocks=$(wc -l < "$scratch/blocks.tsv")
if [ "$blocks" -eq 0 ]; then
  echo "docs.sh: no csharp blocks found in ${docs[*]}" >&2
  exit 1
fi

cat > "$scratch/DocsCheck.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <OutputType>Library</OutputType>
    <IsPackable>false</IsPackable>
    <NoWarn>\$(NoWarn);CS1591</NoWarn>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Microsoft.Extensions.Hosting" />
    <PackageReference Include="Microsoft.Orleans.Server" />
  </ItemGroup>
  <ItemGroup>
    <ProjectReference Include="$repo/src/Locking.Runtime/Locking.Runtime.csproj" />
    <ProjectReference Include="$repo/src/Locking.Grains/Locking.Grains.csproj" />
    <ProjectReference Include="$repo/src/Locking.Generators/Locking.Generators.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
    <ProjectReference Include="$repo/src/Locking.Analyzers/Locking.Analyzers.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
  </ItemGroup>
</Project>
PROJECT

echo "docs.sh: compiling $blocks csharp blocks from ${#docs[@]} pages"
dotnet build "$scratch/DocsCheck.csproj" -c "$configuration" -nologo -clp:NoSummary > "$scratch/build.log" 2>&1
build_status=$?

# Diagnostics that point into a Markdown page: "path.md(line,col): error|warning ID: message".
grep -oE "[^ ]+\.md\([0-9]+,[0-9]+\): (error|warning) [A-Z]+[0-9]+: [^[]*" "$scratch/build.log" | sed "s|$repo/||" | sort -u > "$scratch/diagnostics.txt"

failures=0
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
    echo "  $diagnostic" >&2
    failures=$((failures + 1))
  fi
done < "$scratch/diagnostics.txt"

# A marker that expects a diagnostic is checked too: the mistake the page shows must really be caught.
while IFS=$'\t' read -r page first last expected; do
  for id in $(tr ' ' '\n' <<< "$expected" | grep -E '^LOCK' | sort -u); do
    [[ "$page" == *"$id.md" ]] && continue
    if ! awk -F'[(,]' -v p="$page" -v f="$first" -v l="$last" -v id="$id" \
        '$1 == p && $2 >= f && $2 <= l && index($0, " " id ":") { found = 1 } END { exit !found }' "$scratch/diagnostics.txt"; then
      echo "  $page($first): the block expects $id but the build did not report it" >&2
      failures=$((failures + 1))
    fi
  done
done < "$scratch/blocks.tsv"

# Errors outside the Markdown (the project itself, generated code) are failures as well.
other_errors=$(grep -E ": error [A-Z]+[0-9]*:" "$scratch/build.log" | grep -vE "\.md\([0-9]+,[0-9]+\): error" | sed "s|$repo/||" | sort -u)
if [ -n "$other_errors" ] || { [ "$build_status" -ne 0 ] && [ ! -s "$scratch/diagnostics.txt" ]; }; then
  echo "docs.sh: the scratch project failed to build for a reason outside the Markdown:" >&2
  echo "${other_errors:-$(tail -n 20 "$scratch/build.log")}" | head -n 20 >&2
  failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
  echo "docs.sh: $failures problem(s) in documentation code blocks (generated files: $scratch)" >&2
  exit 1
fi
echo "docs.sh: all $blocks blocks compile"
