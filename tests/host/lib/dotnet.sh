# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Sourced by the host tests of the .NET tools (cli.sh, pictures.sh, tour.sh).

# build_or_fail WORK PROJECT...: builds each project (a path under $ROOT) in Release; on the
# first that fails, prints one FAIL line with the end of its build log and exits 1.
build_or_fail() {
	local work=$1 p
	shift
	for p in "$@"; do
		if ! dotnet build "$ROOT/$p" -c Release -v q --nologo > "$work/build.log" 2>&1; then
			echo "FAIL $p does not build"
			tail -n 20 "$work/build.log" | sed 's/^/    | /'
			exit 1
		fi
	done
}

# The model's CLI, as build_or_fail tools/cli leaves it.
CLI=$ROOT/build/dotnet/bin/SimpleCache.Cli/Release/net10.0/simple-cache
