#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# test.sh: the real-kernel tests. For every Debian kernel installed with its headers (found, not
# named: tools/vm/vm.sh list), builds simple_cache.ko against its headers and boots it twice in
# QEMU: once plain, once with slub_debug=FZPU (sanity checks, red zones, poisoning, user
# tracking). Each boot runs tools/vm/guest/tests.sh and prints one PASS/FAIL line per check.
#
#   tools/vm/test.sh                 all kernels
#   KERNELS="6.1.0-56-amd64" tools/vm/test.sh

set -euo pipefail
. "$(dirname "$0")/vm.sh"

kernels=${KERNELS:-$(vm_kernels)}
if [ -z "$kernels" ]; then
	echo "FAIL no Debian kernel with headers is installed (run make deps)"
	exit 1
fi
if [ "$(echo "$kernels" | wc -w)" -lt 2 ] && [ -z "${KERNELS:-}" ]; then
	echo "FAIL the VM tests need two kernels (6.1 and 6.12); found only: $kernels (run make deps)"
	exit 1
fi

echo "== building simple-cache-ctl (NativeAOT) for the registry tests in the VM"
dotnet publish "$VM_ROOT/tools/ctl" -c Release --nologo -v quiet -o "$VM_ROOT/build/ctl" >"$VM_ROOT/build/ctl-publish.log" 2>&1 ||
	{ cat "$VM_ROOT/build/ctl-publish.log"; echo "FAIL simple-cache-ctl does not build"; exit 1; }
export VM_EXTRA_FILES="$VM_ROOT/build/ctl/simple-cache-ctl"

status=0
for rel in $kernels; do
	echo "== building simple_cache.ko for $rel"
	make -s -C "$VM_ROOT" module KDIR="$(vm_kdir "$rel")" | sed 's/^/   /'
	ko=$VM_ROOT/build/kernel/$rel/simple_cache.ko
	for mode in plain slub_debug=FZPU; do
		extra="kcs.tag=$rel"
		[ "$mode" = plain ] || extra="kcs.tag=$rel+slub_debug $mode"
		echo "== booting $rel ($mode)"
		log=$VM_ROOT/build/vm-test-$rel-${mode%%=*}.log
		start=$(date +%s)
		vm_run "$rel" "$ko" "$VM_ROOT/tools/vm/guest/tests.sh" "$extra" > "$log" 2>&1 || true
		grep -E '^(PASS|FAIL|    )' "$log" || true
		result=$(grep -E '^RESULT ' "$log" || true)
		if [ -z "$result" ]; then
			echo "FAIL [$rel $mode] the guest did not finish (crash or timeout); console log: $log"
			tail -n 60 "$log" | sed 's/^/    | /'
			status=1
		else
			echo "$result in $(( $(date +%s) - start )) s"
			echo "$result" | grep -q ' 0 failed$' || status=1
		fi
	done
done
exit $status
