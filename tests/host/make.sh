#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# checks: 6   (make test fails unless exactly this many PASS or FAIL lines come out)
#
# The Makefile's user-facing behaviour: a clear message when there are no kernel headers, a
# build for another kernel with KDIR=, and `make sign` with a throwaway key and certificate
# (the brief's Secure Boot step), after which modinfo names the signer.

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tools/vm/vm.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$(make -C "$ROOT" -s KDIR="$tmp/no-such-headers" 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "no kernel headers at $tmp/no-such-headers" <<<"$out" && grep -q 'make KDIR=' <<<"$out"; then
	echo "PASS make without kernel headers stops with exit 2 and says what to do"
else
	echo "FAIL make without kernel headers: exit $rc"
	sed 's/^/    | /' <<<"$out"
fi

rel=$(vm_kernels | tail -n 1)
if [ -z "$rel" ]; then
	echo "FAIL no kernel headers installed to build against (run make deps)"
	exit 0
fi
kdir=$(vm_kdir "$rel")
rm -f "$ROOT/simple_cache.ko"
if make -C "$ROOT" -s KDIR="$kdir" >"$tmp/build.log" 2>&1 && [ -f "$ROOT/simple_cache.ko" ]; then
	echo "PASS make KDIR=$kdir builds simple_cache.ko"
else
	echo "FAIL make KDIR=$kdir"
	tail -n 30 "$tmp/build.log" | sed 's/^/    | /'
	exit 0
fi
vermagic=$(modinfo -F vermagic "$ROOT/simple_cache.ko")
if [ "${vermagic%% *}" = "$rel" ]; then
	echo "PASS the module's vermagic names the kernel it was built for ($rel)"
else
	echo "FAIL vermagic '$vermagic' does not start with $rel"
fi
parms=$(modinfo -F parm "$ROOT/simple_cache.ko")
if grep -q '^names:.*(charp)$' <<<"$parms" && grep -q '^fail_nth:.*(int)$' <<<"$parms" && [ "$(modinfo -F license "$ROOT/simple_cache.ko")" = "Dual MIT/GPL" ]; then
	echo "PASS modinfo describes the names and fail_nth parameters and the Dual MIT/GPL license"
else
	echo "FAIL modinfo: parameters or license missing"
	modinfo "$ROOT/simple_cache.ko" | sed 's/^/    | /'
fi

openssl req -new -x509 -newkey rsa:2048 -nodes -days 1 -outform PEM -subj "/CN=simple_cache throwaway test key/" \
	-keyout "$tmp/MOK.key" -out "$tmp/MOK.crt" >/dev/null 2>&1
if make -C "$ROOT" -s sign KDIR="$kdir" KEY="$tmp/MOK.key" CERT="$tmp/MOK.crt" >"$tmp/sign.log" 2>&1 &&
	[ "$(modinfo -F signer "$ROOT/simple_cache.ko")" = "simple_cache throwaway test key" ]; then
	echo "PASS make sign signs the module; modinfo shows the signer"
else
	echo "FAIL make sign"
	sed 's/^/    | /' "$tmp/sign.log"
	modinfo "$ROOT/simple_cache.ko" | grep -i sig | sed 's/^/    | /'
fi

out=$(make -C "$ROOT" -s sign KDIR="$kdir" KEY="$tmp/none.key" CERT="$tmp/none.crt" 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q 'need a signing key and certificate' <<<"$out"; then
	echo "PASS make sign without a key says what it needs"
else
	echo "FAIL make sign without a key: exit $rc"
	sed 's/^/    | /' <<<"$out"
fi
