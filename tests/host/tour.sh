#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# checks: 3   (make test fails unless exactly this many PASS or FAIL lines come out)
#
# The guided tour (simple-cache tour): docs/tour.md is its real output, and must stay so (after a
# change to the module, the model or the tour, regenerate it: make tour > docs/tour.md); it covers
# the brief's seven learning outcomes; in a terminal it waits for Enter after each step.

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/kcs-tour.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$ROOT/tests/host/lib/dotnet.sh"
build_or_fail "$work" tools/cli

"$CLI" tour > "$work/tour.md" 2>&1
if [ -s "$work/tour.md" ] && cmp -s "$work/tour.md" "$ROOT/docs/tour.md"; then
	echo "PASS docs/tour.md is simple-cache tour's output ($(grep -c '^## [0-9]' "$work/tour.md") steps, $(wc -l < "$work/tour.md") lines)"
else
	echo "FAIL docs/tour.md differs from simple-cache tour's output (make tour > docs/tour.md; < docs, > now)"
	diff "$ROOT/docs/tour.md" "$work/tour.md" | head -n 20 | sed 's/^/    | /'
fi

# The brief's outcomes, each with a step: allocation, lifecycle, lists, reuse, cleanup, constructors, errors.
missing=
for topic in 'Kernel memory allocation' 'The object lifecycle' 'A list in kernel space' 'Object reuse' 'Cleanup' \
	'The constructor' 'Error handling' 'slub_debug' 'What /proc/slabinfo' 'Where the real kernel'; do
	grep -q "^## [0-9]*\. $topic" "$work/tour.md" || missing+="'$topic' "
done
steps=$(grep -c '^## [0-9]' "$work/tour.md")
if [ -z "$missing" ] && [ "$steps" -eq 10 ] && [ "$(grep -c '^\*\*Think about it:\*\*' "$work/tour.md")" -eq 10 ] &&
	[ "$(grep -c '^```csharp$' "$work/tour.md")" -eq 10 ]; then
	echo "PASS the tour has a step for each of the brief's outcomes, each with the module's C#, a picture and a question"
else
	echo "FAIL the tour: $steps steps, missing ${missing:-nothing}"
fi

# In a terminal (script(1) gives it one) the tour stops after step 1 when the learner types q.
printf 'q\n' | timeout 120 script -qec "$CLI tour" /dev/null 2>&1 | tr -d '\r' > "$work/tty.out"
if grep -q '^\[step 1 of 10: Enter for the next, q to stop\]' "$work/tty.out" && ! grep -q '^## 2\.' "$work/tty.out" && grep -q '^## 1\.' "$work/tty.out"; then
	echo "PASS in a terminal the tour waits after each step, and q stops it"
else
	echo "FAIL the tour in a terminal did not wait for Enter after step 1 (or did not stop on q)"
	head -n 5 "$work/tty.out" | sed 's/^/    | /'
fi
