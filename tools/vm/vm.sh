#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# vm.sh: boots a Debian kernel in a throwaway QEMU VM with a tiny initramfs (busybox for the
# shell, kmod for insmod/rmmod/lsmod/modinfo as on a real system) and runs one guest script.
# Sourced by test.sh and demo.sh; also usable by hand:
#
#   tools/vm/vm.sh list                              kernels that have both an image and headers
#   tools/vm/vm.sh run RELEASE KO SCRIPT [CMDLINE]   boot RELEASE, run SCRIPT with KO at /simple_cache.ko
#
# QEMU runs under TCG (-accel tcg -cpu max): KVM hangs on these machines. The guest's console
# is the serial port; everything the guest script prints arrives on standard output.

VM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_TIMEOUT=${VM_TIMEOUT:-600}
VM_SMP=${VM_SMP:-1}          # CPUs of the VM
VM_EXTRA_FILES=${VM_EXTRA_FILES:-}   # more files to put in the VM's / (space-separated paths)

# Kernel releases with both /boot/vmlinuz-RELEASE and a kbuild tree, oldest first.
vm_kernels() {
	local img rel
	for img in /boot/vmlinuz-*; do
		[ -e "$img" ] || continue
		rel=${img#/boot/vmlinuz-}
		if [ -f "/usr/src/linux-headers-$rel/Makefile" ] || [ -f "/lib/modules/$rel/build/Makefile" ]; then
			echo "$rel"
		fi
	done | sort -V
}

vm_kdir() {
	if [ -f "/usr/src/linux-headers-$1/Makefile" ]; then
		echo "/usr/src/linux-headers-$1"
	else
		echo "/lib/modules/$1/build"
	fi
}

# vm_initramfs OUT KO SCRIPT: builds a gzip'd cpio archive at OUT.
vm_initramfs() {
	local out=$1 ko=$2 script=$3 stage lib file
	stage=$(mktemp -d)
	mkdir -p "$stage"/{bin,sbin,proc,sys,dev,tmp,lib,lib64,etc}
	cp /bin/busybox "$stage/bin/busybox"
	# kmod (insmod, rmmod, lsmod, modinfo) and util-linux's dmesg, as on a Debian system. They
	# are dynamically linked: bring their libraries and the dynamic loader along.
	mkdir -p "$stage/usr/bin"
	cp /usr/bin/kmod "$stage/sbin/kmod"
	cp /usr/bin/dmesg "$stage/usr/bin/dmesg"
	for lib in $(ldd /usr/bin/kmod /usr/bin/dmesg | grep -o '/[^ ]*' | sort -u); do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
	for tool in insmod rmmod lsmod modinfo; do
		ln -s kmod "$stage/sbin/$tool"
	done
	cp "$ko" "$stage/simple_cache.ko"
	for file in $VM_EXTRA_FILES; do
		cp "$file" "$stage/"
		# A dynamically linked program (simple-cache-ctl) needs its libraries too.
		for lib in $(ldd "$file" 2>/dev/null | grep -o '/[^ ]*'); do
			mkdir -p "$stage$(dirname "$lib")"
			[ -e "$stage$lib" ] || cp -L "$lib" "$stage$lib"
		done
	done
	cp "$script" "$stage/guest.sh"
	cp "$VM_ROOT/tools/vm/guest/lib.sh" "$stage/lib.sh"
	cat > "$stage/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "== KCS-GUEST-BEGIN $(uname -r) =="
cd / && sh /guest.sh
echo "== KCS-GUEST-END rc=$? =="
poweroff -f
INIT
	chmod +x "$stage/init" "$stage/guest.sh"
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
	rm -rf "$stage"
}

# vm_run RELEASE KO SCRIPT [EXTRA_CMDLINE]: boots and prints the console.
vm_run() {
	local rel=$1 ko=$2 script=$3 extra=${4:-} initrd rc=0
	initrd=$(mktemp --suffix=.cpio.gz)
	vm_initramfs "$initrd" "$ko" "$script"
	timeout --foreground "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -smp "$VM_SMP" -m 512 \
		-nographic -no-reboot -kernel "/boot/vmlinuz-$rel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 oops=panic loglevel=3 $extra" </dev/null | tr -d '\r' || rc=$?
	rm -f "$initrd"
	return $rc
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case "${1:-}" in
	list) vm_kernels ;;
	run) shift; vm_run "$@" ;;
	*) sed -n '4,12p' "$0" >&2; exit 2 ;;
	esac
fi
