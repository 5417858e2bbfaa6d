#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# run-tests.sh: every test of the project (make test). Builds the C# module, runs the host-side
# tests (tests/host/*.sh) and the model's tests (tests/model), then the real-kernel tests in
# QEMU on each installed Debian kernel (tests/vm/run.sh, several VMs at once). Each check prints
# one PASS or FAIL line; the last lines are the wall time and the tally.

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

for t in tests/host/*.sh; do
	step "$t"
	bash "$t" 2>&1 | tee -a "$log"
done

step "the user-space model's tests (dotnet test tests/model)"
dotnet test tests/model/SimpleCache.Model.Tests.csproj -c Release --nologo -v quiet \
	--logger "console;verbosity=normal" > build/dotnet-test.log 2>&1
rc=$?
# One PASS/FAIL line per xunit test, on the screen and for the tally.
sed -n 's/^ *Passed \(.*\) \[[^]]*\]$/PASS model \1/p; s/^ *Failed \(.*\) \[[^]]*\]$/FAIL model \1/p' build/dotnet-test.log | tee -a "$log"
if [ $rc -ne 0 ]; then
	grep -E -A 12 '^ *Failed |error' build/dotnet-test.log | head -n 60
	echo "FAIL the model's test run exited with $rc (build/dotnet-test.log)" | tee -a "$log"
fi

step "real-kernel tests in QEMU on 6.1, 6.12 and 6.12-rt (tests/vm/run.sh)"
# One PASS line per cache and kernel from the geometry boots: thousands, so they go to the log
# and a count to the screen; every other line goes to both.
tests/vm/run.sh 2>&1 | tee -a "$log" | grep --line-buffered -v '^PASS .* geometry of '
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || echo "FAIL the real-kernel tests (tests/vm/run.sh) exited with $rc" | tee -a "$log"
echo "($(grep -c '^PASS .* geometry of ' "$log") geometry PASS lines, one per cache and boot, are in $log)"

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo
echo "make test took $(( $(date +%s) - start )) s; output in $log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
