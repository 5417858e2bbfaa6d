#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# geometry.sh: compares the model's slab geometry with the real kernels'. For each installed
# Debian kernel, builds tests/kernel/slab_matrix.ko, boots the kernel with 2 and with 4 CPUs
# (GEOMETRY_CPUS; the CPU count changes calculate_order()'s min_objects) and slab_nomerge, reads object_size, slab_size, objs_per_slab, order and align of every cache it
# made (and the objsize, objperslab, pagesperslab columns of /proc/slabinfo), and has
# `simple-cache check-geometry` compare each with the model. One PASS or FAIL line per cache.

set -euo pipefail
. "$(dirname "$0")/vm.sh"
CLI=$VM_ROOT/build/dotnet/bin/SimpleCache.Cli/Release/net10.0/simple-cache

dotnet build -c Release --nologo -v quiet "$VM_ROOT/tools/cli/SimpleCache.Cli.csproj" >/dev/null
status=0
for rel in ${KERNELS:-$(vm_kernels)}; do
	case "$rel" in
	6.1.*) version=6.1 ;;
	6.12.*) version=6.12 ;;
	*) echo "FAIL [$rel] geometry: the model follows 6.1 and 6.12 only"; status=1; continue ;;
	esac
	out=$VM_ROOT/build/kernel/$rel/slab_matrix
	mkdir -p "$out"
	cp "$VM_ROOT/tests/kernel/slab_matrix.c" "$VM_ROOT/tests/kernel/Kbuild" "$out/"
	make -s -C "$(vm_kdir "$rel")" M="$out" modules >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
	make -s -C "$VM_ROOT" module KDIR="$(vm_kdir "$rel")" >/dev/null
	for smp in ${GEOMETRY_CPUS:-2 4}; do
		echo "== booting $rel with $smp CPUs and slab_nomerge: the slab geometry matrix"
		log=$VM_ROOT/build/vm-geometry-$rel-$smp.log
		VM_SMP=$smp VM_EXTRA_FILES="$out/slab_matrix.ko" vm_run "$rel" "$VM_ROOT/build/kernel/$rel/simple_cache.ko" \
			"$VM_ROOT/tools/vm/guest/geometry.sh" "kcs.tag=$rel slab_nomerge" >"$log" 2>&1 || true
		if ! grep -q '^GEOM-DONE' "$log"; then
			echo "FAIL [$rel, $smp CPUs] geometry: the VM did not finish; console log: $log"
			tail -n 30 "$log" | sed 's/^/    | /'
			status=1
			continue
		fi
		cpus=$(sed -n 's/^NRCPUS \([0-9]*\).*/\1/p' "$log")
		grep -E '^(GEOM|SLABINFO) ' "$log" | "$CLI" check-geometry --kernel "$version" --cpus "$cpus" --tag "$rel, $cpus CPUs" - || status=1
	done
done
exit $status
