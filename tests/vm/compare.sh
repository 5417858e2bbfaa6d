#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# compare.sh RELEASE [CPUS plain|fzpu SCENARIO...]: the same module source in both backends, side
# by side. Runs the commands of the scenarios (tests/scenarios/*.txt, one after another; default
# module.txt) in the VM on kernel RELEASE with CPUS CPUs (default 1), booted with slab_nomerge and,
# for fzpu, slub_debug=FZPU; runs them in the model following that kernel's version with the same
# CPUs and slub_debug; and diffs the two transcripts: what each command printed (insmod, rmmod,
# lsmod, /proc/slabinfo, /sys/kernel/slab) and the kernel log lines with their levels.
# tests/vm/run.sh runs this for every kernel, after building the module and the CLI.

set -uo pipefail
. "$(dirname "$0")/lib.sh"

rel=$1 cpus=${2:-1} mode=${3:-plain}
shift $(( $# < 3 ? $# : 3 ))
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(module.txt)
tag="$rel, $cpus CPU$([ "$cpus" = 1 ] || echo s)$([ "$mode" = fzpu ] && echo ", slub_debug=FZPU")"
ko=$VM_ROOT/build/kernel/$rel/simple_cache.ko
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scenario=$work/scenario.txt
for name in "${names[@]}"; do
	cat "$VM_ROOT/tests/scenarios/$name" >> "$scenario" || { echo "FAIL [$tag] compare: no scenario tests/scenarios/$name"; exit 1; }
done
need "[$tag] compare" "$ko" "$VM_CLI" || exit 1
version=$(model_version "[$tag] compare" "$rel") || exit 1
debug= model_debug=
if [ "$mode" = fzpu ]; then
	debug="slub_debug=FZPU"
	model_debug="--slub-debug FZPU"
fi

log=$VM_ROOT/build/vm$VM_SUFFIX/compare-$rel-$cpus-$mode.log
VM_SMP=$cpus VM_EXTRA_FILES="$scenario" vm_run "$rel" "$ko" "$VM_ROOT/tests/vm/guest/transcript.sh" \
	"kcs.tag=$rel slab_nomerge $debug" >"$log" 2>&1
finished "[$tag] compare" "$log" '^TRANSCRIPT-END$' || exit 1
real=$(transcript "$log")
model=$("$VM_CLI" run --kernel "$version" --cpus "$cpus" $model_debug "$scenario")
if [ "$real" = "$model" ]; then
	echo "PASS [$tag] compare: the model ($version) prints what the kernel prints (${names[*]}: $(grep -c '^\$ ' <<<"$real") commands, $(grep -c '^kern  :[a-z ]*: CACHE: ' <<<"$real") CACHE lines with their log levels)"
else
	echo "FAIL [$tag] compare: the model's transcript ($version) differs from the kernel's (${names[*]}; < kernel, > model)"
	diff <(echo "$real") <(echo "$model") | sed 's/^/    | /' | head -n 40
	exit 1
fi
