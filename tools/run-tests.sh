#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# run-tests.sh: every test of the project (make test). Builds the C# module and everything the
# real-kernel tests boot (tests/vm/run.sh prepare), starts those boots (tests/vm/run.sh boot: each
# installed Debian kernel, and Debian's arm64 6.1 and 6.12, which make deps-arm64 fetches, in one
# pool of VMs), and while they run, runs the host-side tests (tests/host/*.sh) and the tests of
# the model and of the slab library; then prints the boots' lines. Each check prints one PASS or
# FAIL line; the last lines are the wall time and the tally.

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
mkdir -p build
log=build/test-output.log
: > "$log"
start=$(date +%s)

step() { echo; echo "=== $*"; }

step "building the C# module object (NativeAOT)"
if ! make -s csharp 2>&1 | tee -a "$log"; then
	echo "FAIL the C# module does not build" | tee -a "$log"
fi

# The real-kernel tests: x86-64's 6.1, 6.12 and 6.12 PREEMPT_RT with every suite; arm64's 6.1
# and 6.12 (the same module built on this machine with make ARCH=arm64, booted on
# qemu-system-aarch64) with the module's checks, plain and with slub_debug=FZPU, and the slab
# geometry of slab_matrix.ko's 1316 caches and the kernel's kmalloc caches, with 2 and 4 CPUs.
# Everything they need is built first; then the VMs boot in the background while the host
# tests and the model's run here (they build nothing the boots use: tests/host/make.sh, which
# builds the module for the host's headers, runs before the boots start).
export ARCHS="x86_64 arm64" ARM64_SUITES="module geometry"
step "building what the real-kernel tests boot (tests/vm/run.sh prepare)"
tests/vm/run.sh prepare 2>&1 | tee -a "$log"
prepared=${PIPESTATUS[0]}
[ "$prepared" -eq 0 ] || echo "FAIL the real-kernel tests' builds (tests/vm/run.sh prepare) exited with $prepared" | tee -a "$log"

# Every sub-suite states how many checks it runs (no silent skips): a host script in its
# "# checks: N" line, the model's tests by the list xunit discovers, each VM boot in its guest
# script (tests/vm/run.sh checks those). Fewer or more is a FAIL.
expect_checks() { # expect_checks SUITE WANTED OUTPUT-FILE
	local ran
	ran=$(grep -c -E '^(PASS|FAIL) ' "$3")
	if [ "$ran" -ne "$2" ]; then
		echo "FAIL $1 ran $ran checks; it states $2" | tee -a "$log"
	fi
}

host_test() {
	local t=$1 wanted
	step "$t"
	bash "$t" 2>&1 | tee build/host-test.out | tee -a "$log"
	wanted=$(sed -n 's/^# checks: \([0-9]*\).*/\1/p' "$t")
	if [ -z "$wanted" ]; then
		echo "FAIL $t does not state how many checks it runs (# checks: N)" | tee -a "$log"
	else
		expect_checks "$t" "$wanted" build/host-test.out
	fi
}

host_test tests/host/make.sh
if [ "$prepared" -eq 0 ]; then
	step "real-kernel tests in QEMU, started in the background (tests/vm/run.sh boot; their lines come at the end)"
	tests/vm/run.sh boot > build/vm-run.out 2>&1 &
	boots=$!
fi
for t in tests/host/*.sh; do
	[ "$t" = tests/host/make.sh ] || host_test "$t"
done

# xunit_suite NAME PROJECT TAG: one PASS/FAIL line per xunit test, on the screen and for the
# tally; as many results as xunit discovers test cases (theory rows included), none skipped.
xunit_suite() {
	local name=$1 project=$2 tag=$3 rc wanted
	step "$name (dotnet test $project)"
	dotnet test "$project" -c Release --nologo -v quiet \
		--logger "console;verbosity=normal" > "build/dotnet-test-$tag.log" 2>&1
	rc=$?
	sed -n "s/^ *Passed \(.*\) \[[^]]*\]\$/PASS $tag \1/p; s/^ *Failed \(.*\) \[[^]]*\]\$/FAIL $tag \1/p" "build/dotnet-test-$tag.log" |
		tee "build/$tag-test.out" | tee -a "$log"
	wanted=$(dotnet test "$project" -c Release --nologo -v quiet --no-build --list-tests 2>/dev/null |
		sed -n '/^The following Tests are available:/,$p' | grep -c '^    ')
	expect_checks "$name" "$wanted" "build/$tag-test.out"
	grep -q -E 'Skipped: +[1-9]' "build/dotnet-test-$tag.log" && echo "FAIL $name skipped some: $(grep -E 'Skipped: +[1-9]' "build/dotnet-test-$tag.log")" | tee -a "$log"
	if [ $rc -ne 0 ]; then
		grep -E -A 12 '^ *Failed |error' "build/dotnet-test-$tag.log" | head -n 60
		echo "FAIL $name: the test run exited with $rc (build/dotnet-test-$tag.log)" | tee -a "$log"
	fi
}

xunit_suite "the user-space model's tests" tests/model/SimpleCache.Model.Tests.csproj model
xunit_suite "the slab allocator library's tests" tests/slab/SimpleCache.Slab.Tests.csproj slab

if [ "$prepared" -eq 0 ]; then
	step "real-kernel tests in QEMU: x86-64 6.1, 6.12 and 6.12-rt, arm64 6.1 and 6.12 (tests/vm/run.sh boot)"
	wait "$boots"
	rc=$?
	# One PASS line per cache and kernel from the geometry boots: thousands, so they go to the log
	# and a count to the screen; every other line goes to both.
	tee -a "$log" < build/vm-run.out | grep -v '^PASS .* geometry of '
	[ "$rc" -eq 0 ] || echo "FAIL the real-kernel tests (tests/vm/run.sh boot) exited with $rc" | tee -a "$log"
	echo "($(grep -c '^PASS .* geometry of ' "$log") geometry PASS lines, one per cache and boot, are in $log)"
fi

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo
echo "make test took $(( $(date +%s) - start )) s; output in $log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
