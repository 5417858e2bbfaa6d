#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# checks: 3   (make test fails unless exactly this many PASS or FAIL lines come out)
#
# The slab allocator library as a NuGet package: `dotnet pack` makes it, with its README; a new
# console project that references the package (from a local source, as a user would from
# nuget.org) compiles the README's example as it stands and runs it, with the output the README
# promises.

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/kcs-slab-package.XXXXXX)
trap 'rm -rf "$work"' EXIT

dotnet pack "$ROOT/lib/SimpleCache.Slab" -c Release -o "$work/feed" --nologo -v q > "$work/pack.log" 2>&1
pkg=$(ls "$work"/feed/SimpleCache.Slab.*.nupkg 2>/dev/null)
files=$([ -n "$pkg" ] && unzip -l "$pkg")
if grep -q ' README.md$' <<<"$files" && grep -q 'lib/net10.0/SimpleCache.Slab.dll$' <<<"$files"; then
	echo "PASS dotnet pack makes $(basename "$pkg") with the library and its README"
else
	echo "FAIL dotnet pack of lib/SimpleCache.Slab: no package with the library and its README"
	tail -n 20 "$work/pack.log" | sed 's/^/    | /'
	exit 0
fi

# The README's C# blocks, each as a user's Program.cs: the first, then (below) the debugging one.
block() {
	awk -v n="$1" '/^```csharp$/ { k++; inside = k == n; next } /^```$/ { inside = 0 } inside' "$ROOT/lib/SimpleCache.Slab/README.md"
}
mkdir -p "$work/app"
block 1 > "$work/app/Program.cs"
version=$(basename "$pkg" .nupkg | sed 's/^SimpleCache\.Slab\.//')
cat > "$work/app/app.csproj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
    <ImplicitUsings>disable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="SimpleCache.Slab" Version="$version" />
  </ItemGroup>
</Project>
PROJ
cat > "$work/app/nuget.config" <<CONF
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$work/feed" />
  </packageSources>
</configuration>
CONF
# Outside the repository: none of its Directory.Build.props applies, as for a user. A package
# cache of its own, or NuGet would reuse an older build of the same version.
out=$(cd "$work/app" && NUGET_PACKAGES=$work/packages dotnet run -c Release --nologo 2>&1)
want='fresh node: id -1
reused: True, id 7
24-byte slots, 2730 per 65536-byte slab'
if [ "$out" = "$want" ]; then
	echo "PASS the README's example compiles against the package and prints what the README says"
else
	echo "FAIL the README's example, against the package, printed something else"
	diff <(echo "$want") <(echo "$out") | head -n 20 | sed 's/^/    | /'
fi

# The debugging example: slub_debug's checks through the package, as the README shows them.
rm -rf "$work/app/bin" "$work/app/obj"
block 2 > "$work/app/Program.cs"
out=$(cd "$work/app" && NUGET_PACKAGES=$work/packages dotnet run -c Release --nologo 2>&1)
want='RightRedZoneOverwritten at offset 16
DoubleFree at offset 0'
if [ "$out" = "$want" ]; then
	echo "PASS the README's debugging example compiles against the package and prints what the README says"
else
	echo "FAIL the README's debugging example, against the package, printed something else"
	diff <(echo "$want") <(echo "$out") | head -n 20 | sed 's/^/    | /'
fi
