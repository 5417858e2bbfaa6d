#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# exercise.sh RELEASE N [SOURCE] [VARIANT]: exercise N's checks in a real kernel. Builds SOURCE
# (default exercises/NN-*/SimpleCache.cs; module/SimpleCache.cs is the module's own build) into
# simple_cache.ko for RELEASE (apart, as build/kernel-VARIANT/), boots RELEASE with the boot
# options the exercise asks for, runs the exercise's script (simple-cache check N --script) in
# the guest as tests/vm/guest/transcript.sh does, and checks the transcript with the model's
# checker (simple-cache check N --transcript): one PASS or FAIL line, and the failures.
# An oops kills the process that caused it and the guest goes on (no oops=panic), as in the model.

set -uo pipefail
. "$(dirname "$0")/lib.sh"

rel=$1 n=$2 src=${3:-} variant=${4:-}
need "[$rel] exercise $n" "$VM_CLI" "$VM_CTL" || exit 1
version=$(model_version "[$rel] exercise $n" "$rel") || exit 1
if [ -z "$src" ]; then
	src=$(ls -d "$VM_ROOT"/exercises/$(printf %02d "$n")-*/SimpleCache.cs 2>/dev/null | head -n 1)
	[ -n "$src" ] || { echo "FAIL [$rel] exercise $n: there is no exercises/$(printf %02d "$n")-*/"; exit 1; }
fi
src=$(realpath "$src")
tag="[$rel] exercise $n ($(realpath --relative-to="$VM_ROOT" "$src"))"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$src" = "$VM_ROOT/module/SimpleCache.cs" ] && [ -z "$variant" ]; then
	ko=$(vm_build_module "$rel") || { echo "FAIL $tag: simple_cache.ko does not build"; exit 1; }
else
	variant=-${variant:-ex$n}
	if ! make -s -C "$VM_ROOT" module KDIR="$(vm_kdir "$rel")" MODULE_SRC="$src" VARIANT="$variant" > "$work/build.log" 2>&1; then
		echo "FAIL $tag: it does not build"
		sed 's/^/    | /' "$work/build.log" | head -n 20
		exit 1
	fi
	ko=$VM_ROOT/build/kernel$variant/$rel/simple_cache.ko
fi

"$VM_CLI" check "$n" --script > "$work/scenario.txt" || { echo "FAIL $tag: no script"; exit 1; }
boot=$(sed -n 's/^# boot: //p' "$work/scenario.txt")
cpus=$(sed -n 's/^# cpus: //p' "$work/scenario.txt")
log=$VM_ROOT/build/vm$VM_SUFFIX/exercise-$n${variant}-$rel.log
mkdir -p "$(dirname "$log")"
VM_SMP=${cpus:-1} VM_OOPS= VM_EXTRA_FILES="$work/scenario.txt $VM_CTL" vm_run "$rel" "$ko" "$VM_ROOT/tests/vm/guest/transcript.sh" "kcs.tag=$rel $boot" > "$log" 2>&1
transcript "$log" > "$work/transcript.txt"
if ! grep -q '^TRANSCRIPT-END$' "$log"; then
	# The guest did not finish: say where it stopped, as the model does when its process dies.
	printf '\n$ (the model stopped)\nthe VM did not finish the script (a hang or a panic); console log: %s\n' "$log" >> "$work/transcript.txt"
fi
"$VM_CLI" check "$n" --kernel "$version" --transcript "$work/transcript.txt" | sed "s|in Linux $version (a VM)|in $rel (a VM)|"
