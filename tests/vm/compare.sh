#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# compare.sh RELEASE: the same module source in both backends, side by side. Runs the commands of
# tests/scenarios/module.txt (loads, unloads, parameters, fault injection, bad names) in the VM on
# kernel RELEASE, and in the model following that kernel's version, and diffs the two
# transcripts: what insmod, rmmod and lsmod printed, and the module's kernel log lines.
# tests/vm/run.sh runs this for every kernel, after building the module and the CLI.

set -uo pipefail
. "$(dirname "$0")/lib.sh"

rel=$1
ko=$VM_ROOT/build/kernel/$rel/simple_cache.ko
scenario=$VM_ROOT/tests/scenarios/module.txt
need "[$rel] compare" "$ko" "$VM_CLI" || exit 1
version=$(model_version "[$rel] compare" "$rel") || exit 1

log=$VM_ROOT/build/vm/compare-$rel.log
VM_EXTRA_FILES="$scenario" vm_run "$rel" "$ko" "$VM_ROOT/tests/vm/guest/transcript.sh" "kcs.tag=$rel" >"$log" 2>&1
finished "[$rel] compare" "$log" '^TRANSCRIPT-END$' || exit 1
real=$(sed -n '/^TRANSCRIPT-BEGIN$/,/^TRANSCRIPT-END$/p' "$log" | sed '1d;$d')
model=$("$VM_CLI" run --kernel "$version" --cpus 1 "$scenario")
if [ "$real" = "$model" ]; then
	echo "PASS [$rel] compare: the model ($version) prints what the kernel prints ($(grep -c '^\$ ' <<<"$real") commands, $(grep -c '^kern  :[a-z ]*: CACHE: ' <<<"$real") CACHE lines with their log levels)"
else
	echo "FAIL [$rel] compare: the model's transcript ($version) differs from the kernel's (< kernel, > model)"
	diff <(echo "$real") <(echo "$model") | sed 's/^/    | /' | head -n 40
	exit 1
fi
