#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# vm.sh: the QEMU harness. Boots a Debian kernel in a throwaway VM with a tiny initramfs (busybox
# for the shell, kmod for insmod/rmmod/lsmod/modinfo as on a real system) and runs one guest
# script. Sourced by the demo (tools/vm/demo.sh) and the real-kernel tests (tests/vm/); also
# usable by hand:
#
#   tools/vm/vm.sh list                              kernels that have both an image and headers
#   tools/vm/vm.sh run RELEASE KO SCRIPT [CMDLINE]   boot RELEASE, run SCRIPT with KO at /simple_cache.ko
#
# QEMU runs under TCG (-accel tcg -cpu max): KVM hangs on these machines. The guest's console
# is the serial port; everything the guest script prints arrives on standard output.
#
# VM_ARCH=arm64: Debian's arm64 kernels, fetched by make deps-arm64 into build/arm64/root (their
# images, headers, and the arm64 busybox, kmod, dmesg and slabtop the guest runs), booted by
# qemu-system-aarch64 -M virt; the module is built with make ARCH=arm64 and simple-cache-ctl
# for linux-arm64. Everything else is the same: the guest scripts, the checks, the model.
#
# Everything the VM scripts share lives here, once: finding kernels and their headers, building
# the module, the slab_matrix test module, the CLI and simple-cache-ctl, and naming the model
# version that follows a kernel release.

VM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_TIMEOUT=${VM_TIMEOUT:-600}
VM_SMP=${VM_SMP:-1}          # CPUs of the VM
VM_EXTRA_FILES=${VM_EXTRA_FILES:-}   # more files to put in the VM's / (space-separated paths)
# The model's command line (tools/cli), as vm_build_cli leaves it.
VM_CLI=$VM_ROOT/build/dotnet/bin/SimpleCache.Cli/Release/net10.0/simple-cache
# simple-cache-ctl (tools/ctl), compiled by NativeAOT to run in the VM, as vm_build_ctl leaves it.
VM_ARCH=${VM_ARCH:-x86_64}
case "$VM_ARCH" in
x86_64|amd64) VM_ARCH=x86_64; VM_SYSROOT= VM_SUFFIX= ;;
arm64|aarch64) VM_ARCH=arm64; VM_SYSROOT=${ARM64_ROOT:-$VM_ROOT/build/arm64/root} VM_SUFFIX=-arm64 ;;
*) echo "vm.sh: VM_ARCH=$VM_ARCH: x86_64 or arm64" >&2; exit 2 ;;
esac
VM_CTL=${VM_CTL:-$VM_ROOT/build/ctl$VM_SUFFIX/simple-cache-ctl}

# Kernel releases with both /boot/vmlinuz-RELEASE and a kbuild tree, oldest first (for arm64,
# in the arm64 root).
vm_kernels() {
	local img rel
	for img in "$VM_SYSROOT"/boot/vmlinuz-*; do
		[ -e "$img" ] || continue
		rel=${img#"$VM_SYSROOT"/boot/vmlinuz-}
		if [ -f "$VM_SYSROOT/usr/src/linux-headers-$rel/Makefile" ]; then
			echo "$rel"
		elif [ -z "$VM_SYSROOT" ] && [ -f "/lib/modules/$rel/build/Makefile" ]; then
			echo "$rel"
		fi
	done | sort -V
}

# vm_kdir RELEASE: the kernel's kbuild tree.
vm_kdir() {
	if [ -f "$VM_SYSROOT/usr/src/linux-headers-$1/Makefile" ]; then
		echo "$VM_SYSROOT/usr/src/linux-headers-$1"
	else
		echo "/lib/modules/$1/build"
	fi
}

# vm_make_arch: make's ARCH= for the VM's architecture (nothing for x86-64).
vm_make_arch() {
	[ "$VM_ARCH" = arm64 ] && echo "ARCH=arm64"
	return 0
}

# vm_model_version RELEASE: the kernel version the model follows for this release (6.1 or 6.12;
# a PREEMPT_RT build has its base version's slab allocator), or nothing and status 1.
vm_model_version() {
	case "$1" in
	6.1.*) echo 6.1 ;;
	6.12.*) echo 6.12 ;;
	*) return 1 ;;
	esac
}

# vm_is_rt RELEASE: whether the release is a PREEMPT_RT build (its config says so).
vm_is_rt() {
	grep -q '^CONFIG_PREEMPT_RT=y' "$VM_SYSROOT/boot/config-$1" 2>/dev/null
}

# vm_build_module RELEASE: builds simple_cache.ko for RELEASE (make is incremental: the C#
# object is compiled once and shared by every kernel) and prints its path.
vm_build_module() {
	make -s -C "$VM_ROOT" module KDIR="$(vm_kdir "$1")" $(vm_make_arch) >&2 || return 1
	echo "$VM_ROOT/build/kernel/$1/simple_cache.ko"
}

# vm_build_slab_matrix RELEASE: builds the test modules of tests/kernel/ for RELEASE (slab_matrix.ko
# and, beside it, slab_bugs.ko) and prints slab_matrix.ko's path.
vm_build_slab_matrix() {
	local out=$VM_ROOT/build/kernel/$1/slab_matrix
	mkdir -p "$out"
	cp "$VM_ROOT/tests/kernel/slab_matrix.c" "$VM_ROOT/tests/kernel/slab_bugs.c" "$VM_ROOT/tests/kernel/slab_timing.c" "$VM_ROOT/tests/kernel/Kbuild" "$out/"
	local cross=
	[ "$VM_ARCH" = arm64 ] && cross="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"
	make -s -C "$(vm_kdir "$1")" M="$out" $cross modules >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; return 1; }
	echo "$out/slab_matrix.ko"
}

# vm_build_cli: builds the model's command line at $VM_CLI.
vm_build_cli() {
	dotnet build -c Release --nologo -v quiet "$VM_ROOT/tools/cli/SimpleCache.Cli.csproj" >"$VM_ROOT/build/cli-build.log" 2>&1 ||
		{ cat "$VM_ROOT/build/cli-build.log" >&2; return 1; }
}

# vm_build_ctl: builds simple-cache-ctl at $VM_CTL (NativeAOT: a native program, no .NET in the
# VM). For arm64, NativeAOT cross-compiles and links with the cross gcc against the arm64 root.
vm_build_ctl() {
	local args=(-o "$(dirname "$VM_CTL")")
	[ "$VM_ARCH" = arm64 ] && args+=(-r linux-arm64 -p:CppCompilerAndLinker=aarch64-linux-gnu-gcc -p:ObjCopyName=aarch64-linux-gnu-objcopy -p:KcsVariant=-arm64)
	dotnet publish "$VM_ROOT/tools/ctl" -c Release --nologo -v quiet "${args[@]}" >"$VM_ROOT/build/ctl-publish$VM_SUFFIX.log" 2>&1 ||
		{ cat "$VM_ROOT/build/ctl-publish$VM_SUFFIX.log" >&2; return 1; }
}

# vm_copy_libs STAGE FILE: copies the shared libraries and the dynamic loader FILE needs into
# STAGE (ldd on one file at a time: given several, ldd prints a "file:" line for each, which is
# not a library). For arm64 the libraries come from the arm64 root, found by their DT_NEEDED
# names (readelf), one level after another.
vm_copy_libs() {
	local stage=$1 lib name dir found
	if [ "$VM_ARCH" = arm64 ]; then
		for name in $(readelf -d "$2" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p') $(readelf -l "$2" 2>/dev/null | sed -n 's/.*interpreter: \(.*\)\]/\1/p'); do
			found=
			for dir in /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu /lib /usr/lib; do
				lib=$dir/${name##*/}
				[ -e "$VM_SYSROOT$lib" ] && { found=$lib; break; }
			done
			[ -n "$found" ] || { echo "vm.sh: $2 needs $name, which the arm64 root lacks (make deps-arm64)" >&2; continue; }
			[ -e "$stage$found" ] && continue
			mkdir -p "$stage$(dirname "$found")"
			cp -L "$VM_SYSROOT$found" "$stage$found"
			vm_copy_libs "$stage" "$VM_SYSROOT$found"
		done
		# The loader's own path (/lib/ld-linux-aarch64.so.1).
		[ -e "$VM_SYSROOT/lib/ld-linux-aarch64.so.1" ] && [ ! -e "$stage/lib/ld-linux-aarch64.so.1" ] && cp -L "$VM_SYSROOT/lib/ld-linux-aarch64.so.1" "$stage/lib/"
		return 0
	fi
	for lib in $(ldd "$2" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

# vm_initramfs OUT KO SCRIPT: builds a gzip'd cpio archive at OUT.
vm_initramfs() {
	local out=$1 ko=$2 script=$3 stage file tool src
	stage=$(mktemp -d)
	mkdir -p "$stage"/{bin,sbin,proc,sys,dev,tmp,lib,lib64,etc}
	cp "$VM_SYSROOT/bin/busybox" "$stage/bin/busybox"
	# kmod (insmod, rmmod, lsmod, modinfo), util-linux's dmesg and procps's slabtop, as on a
	# Debian system; and a user who is not root (nobody), for su.
	mkdir -p "$stage/usr/bin"
	printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$stage/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$stage/etc/group"
	for file in /usr/bin/kmod /usr/bin/dmesg /usr/bin/slabtop; do
		# A root unpacked from .debs is not usr-merged: kmod and dmesg are in its /bin.
		src=$VM_SYSROOT$file
		[ -e "$src" ] || src=$VM_SYSROOT/bin/${file##*/}
		cp "$src" "$stage$file"
		vm_copy_libs "$stage" "$src"
	done
	for tool in insmod rmmod lsmod modinfo; do
		ln -s /usr/bin/kmod "$stage/sbin/$tool"
	done
	ln -s /usr/bin/slabtop "$stage/bin/slabtop"
	cp "$ko" "$stage/simple_cache.ko"
	for file in $VM_EXTRA_FILES; do
		cp "$file" "$stage/"
		# simple-cache-ctl on the PATH, as the scripts the model also runs call it.
		[ "$(basename "$file")" = simple-cache-ctl ] && ln -s /simple-cache-ctl "$stage/bin/simple-cache-ctl"
		# A dynamically linked program (simple-cache-ctl) needs its libraries too.
		vm_copy_libs "$stage" "$file"
	done
	cp "$script" "$stage/guest.sh"
	cp "$VM_ROOT/tools/vm/guest/lib.sh" "$stage/lib.sh"
	cp "$VM_ROOT/tests/vm/guest/checks.sh" "$stage/checks.sh"
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

# vm_run RELEASE KO SCRIPT [EXTRA_CMDLINE]: boots and prints the console. An oops panics the
# kernel (oops=panic), unless VM_OOPS says otherwise (VM_OOPS= : the oopsing process is killed and
# the guest goes on, as the model does; the exercises' checks need that). A kernel that dies
# while booting, before the guest script starts (no module of ours loaded yet), is booted once
# more: under TCG with several vCPUs Debian's kernels now and then oops in the early text
# patching (int3 in sched_clock_tick). The retry is announced; a second death stands.
# noirqdebug: under TCG the PREEMPT_RT kernel now and then decides that the serial port's IRQ 4
# is stuck ("irq 4: nobody cared", "Disabling IRQ #4"); the guest's output then stalls in the
# tty and is lost at poweroff. noirqdebug keeps the IRQ on.
vm_run() {
	local rel=$1 ko=$2 script=$3 extra=${4:-} initrd console rc attempt
	initrd=$(mktemp --suffix=.cpio.gz)
	console=$(mktemp)
	vm_initramfs "$initrd" "$ko" "$script"
	local qemu=(qemu-system-x86_64 -accel tcg -cpu max) tty=ttyS0
	# arm64: the virt board; -cpu max with QEMU's own pointer-authentication algorithm
	# (pauth-impdef), which TCG runs far faster than the architected QARMA5.
	[ "$VM_ARCH" = arm64 ] && qemu=(qemu-system-aarch64 -M virt -accel tcg -cpu max,pauth-impdef=on) tty=ttyAMA0
	for attempt in 1 2; do
		rc=0
		timeout --foreground "$VM_TIMEOUT" "${qemu[@]}" -smp "$VM_SMP" -m 512 \
			-nographic -no-reboot -kernel "$VM_SYSROOT/boot/vmlinuz-$rel" -initrd "$initrd" \
			-append "console=$tty noirqdebug panic=-1 ${VM_OOPS-oops=panic} loglevel=3 $extra" </dev/null | tr -d '\r' > "$console" || rc=$?
		cat "$console"
		if [ $attempt = 1 ] && ! grep -q '== KCS-GUEST-BEGIN ' "$console" && grep -q 'Kernel panic - not syncing' "$console"; then
			echo "NOTE: $rel died while booting, before the guest ran; booting it once more"
			continue
		fi
		break
	done
	rm -f "$initrd" "$console"
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
