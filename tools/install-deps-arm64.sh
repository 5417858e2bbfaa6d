#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# install-deps-arm64.sh: what building simple_cache.ko for arm64 and booting it needs, on this
# x86-64 machine (as root). Host packages from apt:
#
#   gcc-aarch64-linux-gnu   the cross compiler kbuild links the module with (and its binutils)
#   libc6-dev-arm64-cross   the arm64 C library to link simple-cache-ctl (NativeAOT) against
#   qemu-system-arm         qemu-system-aarch64, which boots the arm64 kernels (-M virt, TCG)
#
# and, for each x86-64 6.1 and 6.12 kernel the VM tests use (make deps installs them), Debian's
# arm64 build of the same release, fetched with apt-get download and unpacked with dpkg-deb -x
# into build/arm64/root (nothing arm64 is installed on the system):
#
#   linux-image-<release>-arm64-unsigned   /boot/vmlinuz-<release>-arm64: an uncompressed arm64
#                                          Image, which qemu's -kernel takes as it is
#   linux-headers-<release>-arm64 (+ -common)  the kbuild tree; its scripts/ and tools/ are links
#                                          into /usr/lib/linux-kbuild-<version>, the host's amd64
#                                          linux-kbuild of the same version (make deps has it)
#   busybox-static:arm64                   the VM's shell and tools (insmod, rmmod, lsmod, dmesg)
#
# The arm64 architecture is added to dpkg (dpkg --add-architecture arm64) so that apt can fetch
# these; that installs nothing by itself.

set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ARM64_ROOT=${ARM64_ROOT:-$ROOT/build/arm64/root}
. "$ROOT/tools/vm/vm.sh"

need=()
for p in gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ! dpkg --print-foreign-architectures | grep -qx arm64 || [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps-arm64: needs root: dpkg --add-architecture arm64, apt-get install ${need[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		echo "deps-arm64: dpkg --add-architecture arm64 (apt may then fetch arm64 packages; none is installed)"
		dpkg --add-architecture arm64
	fi
	echo "deps-arm64: apt-get update"
	apt-get update -q >/tmp/simple_cache-apt-arm64.log 2>&1 || { tail -n 30 /tmp/simple_cache-apt-arm64.log >&2; exit 1; }
	if [ ${#need[@]} -gt 0 ]; then
		echo "deps-arm64: installing ${need[*]}"
		apt-get install -y -q --no-install-recommends "${need[@]}" >>/tmp/simple_cache-apt-arm64.log 2>&1 ||
			{ tail -n 30 /tmp/simple_cache-apt-arm64.log >&2; exit 1; }
	fi
fi

# The arm64 releases: the host's 6.1 and 6.12 x86-64 kernels, -amd64 for -arm64 (not the RT one).
releases=$(vm_kernels | grep -- '-amd64$' | grep -v -- '-rt-amd64$' | sed 's/-amd64$/-arm64/')
[ -n "$releases" ] || { echo "deps-arm64: no x86-64 kernel installed to match (run make deps first)" >&2; exit 1; }

mkdir -p "$ARM64_ROOT" "$ROOT/build/arm64/debs"
fetch() { # fetch PACKAGE: downloads PACKAGE (once) and unpacks it into the arm64 root
	local pkg=$1 deb
	deb=$(ls "$ROOT/build/arm64/debs/${pkg%%:*}"_*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		(cd "$ROOT/build/arm64/debs" && apt-get download -q "$pkg" >/dev/null 2>>/tmp/simple_cache-apt-arm64.log) ||
			{ echo "deps-arm64: apt-get download $pkg failed:" >&2; tail -n 5 /tmp/simple_cache-apt-arm64.log >&2; return 1; }
		deb=$(ls "$ROOT/build/arm64/debs/${pkg%%:*}"_*.deb | head -n 1)
	fi
	dpkg-deb -x "$deb" "$ARM64_ROOT"
}
for rel in $releases; do
	if [ -f "$ARM64_ROOT/boot/vmlinuz-$rel" ] && [ -f "$ARM64_ROOT/usr/src/linux-headers-$rel/Makefile" ]; then
		continue
	fi
	echo "deps-arm64: fetching Debian's arm64 $rel (image and headers)"
	common=$(apt-cache depends "linux-headers-$rel:arm64" 2>/dev/null | sed -n 's/^ *Depends: \(linux-headers-.*-common\).*/\1/p' | head -n 1)
	fetch "linux-image-$rel-unsigned:arm64"
	fetch "linux-headers-$rel:arm64"
	[ -z "$common" ] || fetch "$common"
done
# The headers' scripts/ and tools/ are relative links (../../lib/linux-kbuild-<version>): in the
# arm64 root they lead to the host's amd64 linux-kbuild of the same version, which make deps
# installed with the x86-64 headers (kbuild's host programs run on this machine).
for link in "$ARM64_ROOT"/usr/src/linux-headers-*/scripts; do
	[ -L "$link" ] || continue
	kbuild=$(readlink "$link"); kbuild=${kbuild%/scripts}; kbuild=${kbuild##*/}
	if [ ! -d "/usr/lib/$kbuild" ]; then
		echo "deps-arm64: /usr/lib/$kbuild (the amd64 linux-kbuild the arm64 headers need) is not installed (make deps)" >&2
		exit 1
	fi
	mkdir -p "$ARM64_ROOT/usr/lib"
	[ -e "$ARM64_ROOT/usr/lib/$kbuild" ] || ln -s "/usr/lib/$kbuild" "$ARM64_ROOT/usr/lib/$kbuild"
done

# The guest's tools, as the x86-64 VMs have them: busybox, kmod (insmod, rmmod, lsmod, modinfo),
# util-linux's dmesg and procps's slabtop, with the packages of every library they link (the
# host's own copies name them: ldd, then dpkg -S), and the C++ runtime simple-cache-ctl may need.
if [ ! -x "$ARM64_ROOT/usr/bin/slabtop" ] || [ ! -x "$ARM64_ROOT/bin/busybox" ]; then
	echo "deps-arm64: fetching the guest's tools for arm64 (busybox, kmod, dmesg, slabtop and their libraries)"
	tools="busybox-static kmod util-linux procps libstdc++6 libgcc-s1"
	for bin in /usr/bin/kmod /usr/bin/dmesg /usr/bin/slabtop; do
		for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
			tools="$tools $( (dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null) | head -n 1 | cut -d: -f1)"
		done
	done
	for pkg in $(printf '%s\n' $tools | sort -u); do
		fetch "$pkg:arm64"
	done
fi
echo "deps-arm64: arm64 kernels in $ARM64_ROOT: $releases"
