#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# install-deps.sh: installs what building and testing simple_cache needs, saying what it does.
# Debian packages come from apt (as root). The .NET SDK must already be there (Debian has no
# package for it); the NativeAOT compiler comes from NuGet on the first build.
#
#   kernels       linux-image-amd64 + linux-headers-amd64 (6.1), linux-image-6.12-amd64 +
#                 linux-headers-6.12-amd64, linux-image-6.12-rt-amd64 + linux-headers-6.12-rt-amd64
#                 (PREEMPT_RT): the three kernels the VM tests boot and build for
#   VM            qemu-system-x86, busybox-static, cpio, kmod (insmod/rmmod/lsmod/modinfo)
#   build         make, gcc, binutils, bc, openssl (make sign and its tests)
#   model CLI     procps (slabtop, which tests/host/cli.sh compares with the model's), util-linux
#                 (unshare), bsdutils (script: a terminal for the colour check), chromium and
#                 fonts-dejavu-core (headless screenshots of the pictures, tests/host/pictures.sh)

set -euo pipefail

packages=(linux-image-amd64 linux-headers-amd64 linux-image-6.12-amd64 linux-headers-6.12-amd64
	linux-image-6.12-rt-amd64 linux-headers-6.12-rt-amd64
	qemu-system-x86 busybox-static cpio kmod gzip make gcc binutils bc openssl procps util-linux bsdutils chromium fonts-dejavu-core)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing Debian packages: ${missing[*]}" >&2
		echo "deps: run as root (sudo make deps) or install them with apt-get" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]} (apt-get; this takes a few minutes the first time)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/tmp/simple_cache-apt.log 2>&1 || { cat /tmp/simple_cache-apt.log >&2; exit 1; }
	if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/simple_cache-apt.log 2>&1; then
		tail -n 30 /tmp/simple_cache-apt.log >&2
		exit 1
	fi
	echo "deps: installed"
fi

if ! command -v dotnet >/dev/null 2>&1; then
	echo "deps: the .NET SDK (dotnet, version 10) is not on PATH. Debian has no package for it:" >&2
	echo "deps: install it from https://dot.net, then run this again." >&2
	exit 1
fi
sdk=$(dotnet --version)
case "$sdk" in
10.*) ;;
*) echo "deps: found .NET SDK $sdk; simple_cache needs 10.x (its core library depends on the NativeAOT 10 compiler)" >&2; exit 1 ;;
esac
