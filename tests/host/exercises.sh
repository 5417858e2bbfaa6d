#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# checks: 34   (make test fails unless exactly this many PASS or FAIL lines come out)
#
# The exercises' checkers in the model (simple-cache check N, on the models of 6.1 and 6.12):
# each fails on the untouched exercise, passes on the reference solution, and fails with the
# right message on typical wrong answers (tests/exercises/wrong/N-*.sed, each a sed script that
# turns the solution into one, with the words the checker must say on its "# expect:" line).
# Writing new int[4] in an exercise is a build error at that line (the freestanding analyzer).
# tests/vm/exercises.sh runs the same in the VM.

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/kcs-exercises.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$ROOT/tests/host/lib/dotnet.sh"
build_or_fail "$work" tools/cli
cd "$ROOT"

for dir in exercises/[0-9]*-*/; do
	slug=$(basename "$dir")
	n=$((10#${slug%%-*}))
	solution=exercises/solutions/$slug/SimpleCache.cs
	if "$CLI" check "$n" > "$work/out" 2>&1; then
		echo "FAIL exercise $n ($slug): the untouched exercise passes its checker"
	elif grep -q '^FAIL exercise ' "$work/out" && [ "$(grep -c '^  - ' "$work/out")" -gt 0 ]; then
		echo "PASS exercise $n ($slug): the untouched exercise fails its checker ($(grep -c '^  - ' "$work/out") failures, e.g. $(grep -m1 '^  - ' "$work/out" | cut -c5-90)...)"
	else
		echo "FAIL exercise $n ($slug): the untouched exercise does not get a checker's verdict"
		sed 's/^/    | /' "$work/out" | head -n 10
	fi
	if "$CLI" check "$n" --source "$solution" > "$work/out" 2>&1 && [ "$(grep -c '^PASS exercise ' "$work/out")" -eq 2 ]; then
		echo "PASS exercise $n ($slug): the reference solution passes on 6.1 and 6.12"
	else
		echo "FAIL exercise $n ($slug): the reference solution ($solution) does not pass"
		sed 's/^/    | /' "$work/out" | head -n 10
	fi
	for wrong in tests/exercises/wrong/$n-*.sed; do
		expect=$(sed -n 's/^# expect: //p' "$wrong")
		sed -f "$wrong" "$solution" > "$work/SimpleCache.cs"
		if cmp -s "$work/SimpleCache.cs" "$solution"; then
			echo "FAIL $wrong changes nothing in $solution"
			continue
		fi
		"$CLI" check "$n" --source "$work/SimpleCache.cs" > "$work/out" 2>&1
		if [ "$(grep -c '^FAIL exercise ' "$work/out")" -eq 2 ] && grep -q -F -- "$expect" "$work/out"; then
			echo "PASS exercise $n: the wrong answer $(basename "$wrong" .sed) fails on 6.1 and 6.12, saying \"$expect\""
		else
			echo "FAIL exercise $n: the wrong answer $(basename "$wrong" .sed) does not fail saying \"$expect\""
			sed 's/^/    | /' "$work/out" | head -n 12
		fi
	done
done

# The analyzer, at the learner's line: a GC allocation in an exercise does not build.
sed 's|^            // TODO(1): put the new object p|            int[] scratch = new int[4]; _ = scratch;\n&|' exercises/01-constructor/SimpleCache.cs > "$work/SimpleCache.cs"
line=$(grep -n 'new int\[4\]' "$work/SimpleCache.cs" | cut -d: -f1)
"$CLI" check 1 --source "$work/SimpleCache.cs" > "$work/out" 2>&1
if grep -q "does not build" "$work/out" && grep -q "SimpleCache.cs($line,[0-9]*): error KCS0001: .*stackalloc" "$work/out"; then
	echo "PASS new int[4] in an exercise fails its check with KCS0001 at line $line, saying what to use instead"
else
	echo "FAIL new int[4] in an exercise: no KCS0001 at line $line"
	sed 's/^/    | /' "$work/out" | head -n 8
fi
