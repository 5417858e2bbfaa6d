#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# run-tests.sh: every test of the project (make test). Builds the C# module, runs the host-side
# tests (tests/host/*.sh), then the real-kernel tests in QEMU on each installed Debian kernel
# (tools/vm/test.sh). Each check prints one PASS or FAIL line; the last line is the tally.

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

step "real-kernel tests in QEMU (tools/vm/test.sh)"
tools/vm/test.sh 2>&1 | tee -a "$log"

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo
echo "make test took $(( $(date +%s) - start )) s; output in $log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
