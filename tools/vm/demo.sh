#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# demo.sh (make demo): builds the C# module for a Debian kernel, boots that kernel in a throwaway
# QEMU VM and walks through the brief there: insmod, lsmod, dmesg, /proc/slabinfo, where the kernel
# put the objects (the slab map) and procps's slabtop, rmmod, dmesg.
#
#   KERNEL=6.1.0-56-amd64 tools/vm/demo.sh     pick the kernel (default: the newest installed
#                                              that is not a PREEMPT_RT build)

set -euo pipefail
. "$(dirname "$0")/vm.sh"

rel=${KERNEL:-$(for r in $(vm_kernels); do vm_is_rt "$r" || echo "$r"; done | tail -n 1)}
if [ -z "$rel" ]; then
	echo "demo: no Debian kernel with headers is installed (run make deps)" >&2
	exit 1
fi
echo "demo: building simple_cache.ko (C# -> NativeAOT -> kbuild) for Linux $rel"
mkdir -p "$VM_ROOT/build"
ko=$(vm_build_module "$rel" 2>"$VM_ROOT/build/demo-build.log") || { cat "$VM_ROOT/build/demo-build.log" >&2; exit 1; }
vm_build_ctl || exit 1   # simple-cache-ctl, which draws the slab map in the VM
sed 's/^/      /' "$VM_ROOT/build/demo-build.log"
echo "demo: booting Linux $rel in QEMU (software emulation, about 10 seconds)"
out=$(VM_EXTRA_FILES=$VM_CTL vm_run "$rel" "$ko" "$VM_ROOT/tools/vm/guest/demo.sh" "kcs.tag=demo")
if ! grep -q '== KCS-GUEST-END' <<<"$out"; then
	echo "demo: the VM did not finish; its console:" >&2
	echo "$out" | tail -n 60 >&2
	exit 1
fi
echo "$out" | sed -n '/== KCS-GUEST-BEGIN/,/== KCS-GUEST-END/p' | sed '1d;$d'
echo
echo "demo: done; the VM is gone. On your own machine: make && sudo insmod simple_cache.ko"
