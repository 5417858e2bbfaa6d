#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# compare.sh: the same module source in both backends, side by side. Runs the commands of
# tests/scenarios/module.txt (loads, unloads, parameters, fault injection, bad names) in the VM
# on each installed kernel, and in the model following that kernel version, and diffs the two
# transcripts: what insmod, rmmod and lsmod printed, and the module's kernel log lines.

set -euo pipefail
. "$(dirname "$0")/vm.sh"
CLI=$VM_ROOT/build/dotnet/bin/SimpleCache.Cli/Release/net10.0/simple-cache
SCENARIO=$VM_ROOT/tests/scenarios/module.txt

dotnet build -c Release --nologo -v quiet "$VM_ROOT/tools/cli/SimpleCache.Cli.csproj" >/dev/null
status=0
for rel in ${KERNELS:-$(vm_kernels)}; do
	case "$rel" in
	6.1.*) version=6.1 ;;
	*) version=6.12 ;;
	esac
	make -s -C "$VM_ROOT" module KDIR="$(vm_kdir "$rel")" >/dev/null
	echo "== $rel: the module's scenarios in the VM and in the model ($version)"
	log=$VM_ROOT/build/vm-compare-$rel.log
	VM_EXTRA_FILES="$SCENARIO" vm_run "$rel" "$VM_ROOT/build/kernel/$rel/simple_cache.ko" \
		"$VM_ROOT/tools/vm/guest/transcript.sh" "kcs.tag=$rel" >"$log" 2>&1 || true
	real=$(sed -n '/^TRANSCRIPT-BEGIN$/,/^TRANSCRIPT-END$/p' "$log" | sed '1d;$d')
	model=$("$CLI" run --kernel "$version" --cpus 1 "$SCENARIO" || true)
	if [ -z "$real" ]; then
		echo "FAIL [$rel] compare: the VM printed no transcript; console log: $log"
		status=1
	elif [ "$real" = "$model" ]; then
		echo "PASS [$rel] compare: the model's transcript equals the kernel's ($(grep -c '^\$ ' <<<"$real") commands, $(grep -c '^CACHE: ' <<<"$real") CACHE lines)"
	else
		echo "FAIL [$rel] compare: the model's transcript differs from the kernel's (< kernel, > model)"
		diff <(echo "$real") <(echo "$model") | sed 's/^/    | /' | head -n 40
		status=1
	fi
done
exit $status
