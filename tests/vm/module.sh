#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# module.sh RELEASE plain|slub_debug: one boot of the real-kernel checks of simple_cache.ko
# (tests/vm/guest/module.sh: load and unload as the brief shows them, 50 cycles, fault injection
# at every allocation point, custom and bad names, the registry battery, writers and readers at
# once). "slub_debug" boots with slub_debug=FZPU: sanity checks, red zones, poisoning and user
# tracking on every cache, so a module bug that overwrites or double-frees shows in the log.
# Prints the guest's PASS and FAIL lines, then its RESULT line; tests/vm/run.sh runs this for
# every kernel, after building the module and simple-cache-ctl.

set -uo pipefail
. "$(dirname "$0")/../../tools/vm/vm.sh"

rel=$1 mode=$2
ko=$VM_ROOT/build/kernel/$rel/simple_cache.ko
case "$mode" in
plain) extra="kcs.tag=$rel" ;;
slub_debug) extra="kcs.tag=$rel+slub_debug slub_debug=FZPU" ;;
*) echo "usage: $0 RELEASE plain|slub_debug" >&2; exit 2 ;;
esac
for file in "$ko" "$VM_CTL"; do
	[ -f "$file" ] || { echo "FAIL [$rel $mode] module: $file is missing (tests/vm/run.sh builds it)"; exit 1; }
done

log=$VM_ROOT/build/vm/module-$rel-$mode.log
VM_EXTRA_FILES=$VM_CTL vm_run "$rel" "$ko" "$VM_ROOT/tests/vm/guest/module.sh" "$extra" > "$log" 2>&1
grep -E '^(PASS|FAIL|    )' "$log"
result=$(grep -E '^RESULT ' "$log")
if [ -z "$result" ]; then
	echo "FAIL [$rel $mode] module: the guest did not finish (crash or timeout); console log: $log"
	tail -n 60 "$log" | sed 's/^/    | /'
	exit 1
fi
echo "$result"
grep -E '^TIMES ' "$log" | sed 's/^TIMES /    time: /'
grep -q ' 0 failed$' <<<"$result"
