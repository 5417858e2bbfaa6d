#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# checks: 34   (make test fails unless exactly this many PASS or FAIL lines come out)
#
# The exercises' checkers in the model (simple-cache check N, on the models of 6.1 and 6.12):
# each fails on the untouched exercise, passes on the reference solution, and fails with the
# right message on typical wrong answers (tests/exercises/wrong/N-*.sed, each a sed script that
# turns the solution into one, with the words the checker must say on its "# expect:" line).
# Writing new int[4] in an exercise is a build error at that line (the freestanding analyzer).
# The checks run two at a time (each is a build and two model sessions); tests/vm/exercises.sh
# runs the same in the VM.

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/kcs-exercises.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$ROOT/tests/host/lib/dotnet.sh"
build_or_fail "$work" tools/cli
cd "$ROOT"

# The jobs: "N KIND SOURCE EXPECT", KIND untouched, solution or the wrong answer's name.
jobs=()
for dir in exercises/[0-9]*-*/; do
	slug=$(basename "$dir")
	n=$((10#${slug%%-*}))
	solution=exercises/solutions/$slug/SimpleCache.cs
	jobs+=("$n|untouched|$dir/SimpleCache.cs|" "$n|solution|$solution|")
	for wrong in tests/exercises/wrong/$n-*.sed; do
		name=$(basename "$wrong" .sed)
		sed -f "$wrong" "$solution" > "$work/$name.cs"
		if cmp -s "$work/$name.cs" "$solution"; then
			echo "FAIL $wrong changes nothing in $solution"
			continue
		fi
		jobs+=("$n|$name|$work/$name.cs|$(sed -n 's/^# expect: //p' "$wrong")")
	done
done
for i in "${!jobs[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n; done
	IFS='|' read -r n kind src expect <<<"${jobs[$i]}"
	( "$CLI" check "$n" --source "$src" > "$work/out.$i" 2>&1; echo $? > "$work/rc.$i" ) &
done
wait

for i in "${!jobs[@]}"; do
	IFS='|' read -r n kind src expect <<<"${jobs[$i]}"
	out=$work/out.$i rc=$(cat "$work/rc.$i")
	verdicts=$(grep -c '^\(PASS\|FAIL\) exercise ' "$out")
	case "$kind" in
	untouched)
		if [ "$rc" = 1 ] && grep -q '^FAIL exercise ' "$out" && [ "$(grep -c '^  - ' "$out")" -gt 0 ]; then
			echo "PASS exercise $n: the untouched exercise fails its checker ($(grep -c '^  - ' "$out") failures, e.g. $(grep -m1 '^  - ' "$out" | cut -c5-90)...)"
		else
			echo "FAIL exercise $n: the untouched exercise ($src) does not fail its checker with a verdict"
			sed 's/^/    | /' "$out" | head -n 10
		fi ;;
	solution)
		if [ "$rc" = 0 ] && [ "$(grep -c '^PASS exercise ' "$out")" -eq 2 ]; then
			echo "PASS exercise $n: the reference solution passes on 6.1 and 6.12"
		else
			echo "FAIL exercise $n: the reference solution ($src) does not pass"
			sed 's/^/    | /' "$out" | head -n 10
		fi ;;
	*)
		if [ "$rc" = 1 ] && [ "$(grep -c '^FAIL exercise ' "$out")" -eq 2 ] && grep -q -F -- "$expect" "$out"; then
			echo "PASS exercise $n: the wrong answer $kind fails on 6.1 and 6.12, saying \"$expect\""
		else
			echo "FAIL exercise $n: the wrong answer $kind does not fail saying \"$expect\" ($verdicts verdicts)"
			sed 's/^/    | /' "$out" | head -n 12
		fi ;;
	esac
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
