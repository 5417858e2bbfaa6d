#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# run.sh: every real-kernel test, on every Debian kernel installed with its headers (6.1, 6.12
# and 6.12's PREEMPT_RT build; found, not named: tools/vm/vm.sh list). For each kernel:
#   module RELEASE plain        tests/vm/module.sh: the module's checks, booted plain
#   module RELEASE slub_debug   the same, booted with slub_debug=FZPU
#   compare RELEASE CPUS MODE SCENARIOS  tests/vm/compare.sh: the VM's transcripts of
#                               tests/scenarios/*.txt against the model's, with 1 and 2 CPUs,
#                               plain and slub_debug=FZPU
#   geometry RELEASE 2|4        tests/vm/geometry.sh: 1316 caches' geometry against the model's
#   bugs RELEASE MODE BUG CACHE tests/vm/bugs.sh: one classic slab bug (tests/kernel/slab_bugs.c)
#                               against the model's (its C# port), one boot each (6.1 and 6.12)
#   exercises RELEASE GROUP     tests/vm/exercises.sh: the exercises' checkers in the VM (6.1 and
#                               6.12), plain and slub_debug=FZPU: each solution passes, each
#                               untouched exercise fails (EXERCISES_WRONG=1: and the wrong answers)
# First it builds what the boots share, once: the C# object (inside make), simple_cache.ko and
# slab_matrix.ko for each kernel, simple-cache-ctl and the model's CLI. Then it boots the VMs
# VM_JOBS at a time (default: one per CPU; each TCG guest with one vCPU keeps one host CPU busy),
# each into its own log, and prints each boot's lines in a fixed order as the boots end.
#
# ARCHS="x86_64 arm64": both architectures' boots in one pool (make test), the arm64 ones running
# ARM64_SUITES (default: SUITES); without ARCHS, the architecture is VM_ARCH's (tools/vm/vm.sh).
# "run.sh prepare" only checks the kernels, builds, and writes the list of boots
# (build/vm-run/jobs.txt); "run.sh boot" boots that list. make test builds first, then runs the
# host tests while the VMs boot: nothing is built while they run.
#
#   tests/vm/run.sh
#   KERNELS="6.1.0-56-amd64" SUITES="module compare" VM_JOBS=1 tests/vm/run.sh
#   MODULE_MODES=plain tests/vm/run.sh          (the module's boots without slub_debug only)
#   ARCHS="x86_64 arm64" ARM64_SUITES="module geometry" tests/vm/run.sh

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VM_JOBS=${VM_JOBS:-$(nproc)}
SUITES=${SUITES:-module compare geometry bugs exercises}
MODULE_MODES=${MODULE_MODES:-plain slub_debug}
ARCHS=${ARCHS:-${VM_ARCH:-x86_64}}
phase=${1:-all}
case "$phase" in all|prepare|boot) ;; *) echo "usage: tests/vm/run.sh [prepare|boot]" >&2; exit 2 ;; esac
run=$ROOT/build/vm-run
list=$run/jobs.txt

# prepare ARCH: in a subshell with the harness of ARCH (tools/vm/vm.sh reads VM_ARCH): finds the
# kernels, builds, and writes the boots' lines ("ARCH SUITE ARGS...") to standard output; its
# messages go to standard error.
prepare() (
	export VM_ARCH=$1
	unset VM_CTL
	. "$ROOT/tools/vm/vm.sh"
	local suites=$SUITES
	[ "$VM_ARCH" = arm64 ] && suites=${ARM64_SUITES:-$SUITES}
	out=$VM_ROOT/build/vm$VM_SUFFIX
	rm -rf "$out"
	mkdir -p "$out"
	exec 3>&1 1>&2

	kernels=${KERNELS:-$(vm_kernels)}
	if [ -n "${KERNELS:-}" ]; then
		# KERNELS names releases of either architecture: this one's are those it has.
		kernels=$(for rel in $KERNELS; do vm_kernels | grep -qxF "$rel" && echo "$rel"; done)
		[ -n "$kernels" ] || return 0
	else
		# The suite is defined over Debian's three kernels (on arm64, its 6.1 and 6.12): a missing
		# one is a failure, not a skip.
		wanted=('6.1.*' '6.12.*' rt)
		[ "$VM_ARCH" = arm64 ] && wanted=('6.1.*' '6.12.*')
		for want in "${wanted[@]}"; do
			found=
			for rel in $kernels; do
				case "$want" in
				rt) vm_is_rt "$rel" && found=$rel ;;
				*) [[ $rel == $want ]] && ! vm_is_rt "$rel" && found=$rel ;;
				esac
			done
			if [ -z "$found" ]; then
				echo "FAIL the real-kernel tests need Debian's 6.1, 6.12 and (on x86-64) 6.12 PREEMPT_RT kernels with headers; no $VM_ARCH ${want/rt/PREEMPT_RT} kernel among: $(echo $kernels) (run make deps$VM_SUFFIX)"
				return 1
			fi
		done
	fi

	echo "== building what the $VM_ARCH VMs share: simple-cache-ctl, the model's CLI, and for each kernel simple_cache.ko and slab_matrix.ko"
	status=0
	vm_build_ctl || { echo "FAIL simple-cache-ctl ($VM_ARCH) does not build"; status=1; }
	vm_build_cli || { echo "FAIL the model's CLI does not build"; status=1; }
	for rel in $kernels; do
		# A failed build shows all of kbuild's output; a good one, whatever is not the usual three lines.
		if vm_build_module "$rel" >/dev/null 2>"$out/build-$rel.log"; then
			grep -v '^ *\(KBUILD\|DONE\|NOTE\) ' "$out/build-$rel.log" | sed 's/^/   /'
		else
			cat "$out/build-$rel.log"
			echo "FAIL [$rel] simple_cache.ko does not build"
			status=1
		fi
		vm_build_slab_matrix "$rel" >/dev/null || { echo "FAIL [$rel] slab_matrix.ko does not build"; status=1; }
		vm_is_rt "$rel" && echo "   $rel is a PREEMPT_RT kernel: the glue passed check-fpu-sections.sh (no sleeping lock inside C#)"
	done
	if [[ " $suites " == *" exercises "* ]]; then
		plain_kernels=$(for rel in $kernels; do vm_is_rt "$rel" || echo "$rel"; done)
		"$VM_ROOT/tests/vm/exercises.sh" build $plain_kernels || status=1
		exercise_groups=$("$VM_ROOT/tests/vm/exercises.sh" groups)
	fi
	[ $status -eq 0 ] || return 1

	# The bug scenarios of every make test: one of each outcome (the hardened freelist's BUG, the list
	# check's BUG, a double free that goes unseen, a destroy with a live object, and slub_debug's
	# reports: double free, red zone, poison, slab padding, invalid free, kmalloc red zone, corrupt
	# free pointer), two of them again with 2 CPUs. The bugs the kernel survives share a boot
	# (tests/vm/bugs.sh's BUG1+BUG2/CACHE lists). BUGS_ALL=1: every bug with each cache, one boot
	# each. BUGS="MODE BUG CACHE [CPUS],...": these scenarios only.
	SURVIVED_FZPU="double_free/ctor+overflow+use_after_free+pad_overwrite+invalid_free+kmalloc_redzone+freeptr_corrupt"
	BUG_SCENARIOS=("plain double_free plain" "plain list_del_twice ctor" "plain destroy_live/ctor+double_free_live plain"
		"fzpu $SURVIVED_FZPU plain" "plain double_free_live plain 2" "fzpu double_free ctor 2")   # the last two with 2 CPUs
	if [ "${BUGS_ALL:-0}" = 1 ]; then
		BUG_SCENARIOS=()
		for mode in plain fzpu; do
			for bug in destroy_live double_free double_free_live double_free_live_head overflow use_after_free list_del_twice; do
				BUG_SCENARIOS+=("$mode $bug ctor" "$mode $bug plain")
			done
		done
		# Without slub_debug these four corrupt the freelist for good, or do nothing to see.
		for bug in pad_overwrite freeptr_corrupt invalid_free kmalloc_redzone; do
			BUG_SCENARIOS+=("fzpu $bug ctor" "fzpu $bug plain")
		done
		BUG_SCENARIOS+=("plain double_free_live plain 2" "fzpu double_free ctor 2")
	fi
	[ -z "${BUGS:-}" ] || IFS=, read -ra BUG_SCENARIOS <<<"$BUGS"

	# The boots, longest first so that the short ones fill in at the end.
	for suite in $suites; do
		for rel in $kernels; do
			case "$suite" in
			module) for mode in $MODULE_MODES; do echo "$VM_ARCH module $rel $mode"; done ;;
			# The scenarios with one CPU and two, plain and with slub_debug; remote.txt needs two.
			compare) printf "$VM_ARCH %s\n" "compare $rel 1 plain module.txt counts.txt tunables.txt" "compare $rel 2 plain counts.txt remote.txt" \
				"compare $rel 1 fzpu counts.txt tunables.txt" "compare $rel 2 fzpu counts.txt remote.txt" ;;
			geometry) echo "$VM_ARCH geometry $rel 2"; echo "$VM_ARCH geometry $rel 4" ;;
			# Classic slab bugs, one boot each (tests/vm/bugs.sh), on 6.1 and 6.12 (the PREEMPT_RT
			# build's SLUB takes other locks; the model does not follow it there).
			bugs) vm_is_rt "$rel" || for b in "${BUG_SCENARIOS[@]}"; do echo "$VM_ARCH bugs $rel $b"; done ;;
			# The exercises on 6.1 and 6.12 (make check's kernels), one boot per slub_debug setting.
			exercises) vm_is_rt "$rel" || for g in $exercise_groups $([ "${EXERCISES_WRONG:-0}" = 1 ] && for g in $exercise_groups; do echo "wrong-$g"; done); do
				echo "$VM_ARCH exercises $rel $g"; done ;;
			*) echo "FAIL unknown suite '$suite' (module, compare, geometry, bugs, exercises)"; return 1 ;;
			esac
		done
	done >&3
)

if [ "$phase" != boot ]; then
	rm -rf "$run"
	mkdir -p "$run"
	: > "$list.new"
	for arch in $ARCHS; do
		prepare "$arch" >> "$list.new" || exit 1
	done
	# One pool for every architecture: the longest boots first (the module suites, then the
	# comparisons), so that the short ones fill in at the end. A stable sort by the suite's rank:
	# a suite missing from the ranking goes last rather than being lost.
	awk -v order="module compare exercises geometry bugs" '
		BEGIN { n = split(order, o, " "); for (i = 1; i <= n; i++) rank[o[i]] = i }
		{ printf "%d\t%d\t%s\n", ($2 in rank) ? rank[$2] : n + 1, NR, $0 }' "$list.new" |
		sort -n -k1,1 -k2,2 | cut -f3- > "$list"
	rm -f "$list.new"
	[ "$phase" = prepare ] && exit 0
fi

[ -f "$list" ] || { echo "FAIL tests/vm/run.sh boot: no list of boots ($list); run tests/vm/run.sh prepare first"; exit 1; }
mapfile -t jobs < "$list"
[ ${#jobs[@]} -gt 0 ] || { echo "FAIL tests/vm/run.sh: no boots to run (ARCHS=$ARCHS SUITES=$SUITES KERNELS=${KERNELS:-})"; exit 1; }
echo "== ${#jobs[@]} boots, $VM_JOBS at a time"
start=$(date +%s)
for i in "${!jobs[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$VM_JOBS" ]; do
		wait -n
	done
	(
		set -- ${jobs[$i]}
		arch=$1 suite=$2
		shift 2
		t0=$(date +%s)
		VM_ARCH=$arch "$ROOT/tests/vm/$suite.sh" "$@" > "$run/job-$i.out" 2>&1
		echo $? > "$run/job-$i.rc"
		echo "   done: ${jobs[$i]} ($(( $(date +%s) - t0 )) s)"
	) &
done
wait

# Each boot's lines, in the order of the list.
status=0
for i in "${!jobs[@]}"; do
	echo "== ${jobs[$i]}"
	cat "$run/job-$i.out"
	rc=$(cat "$run/job-$i.rc" 2>/dev/null || echo missing)
	if [ "$rc" != 0 ]; then
		grep -q '^FAIL' "$run/job-$i.out" || echo "FAIL ${jobs[$i]}: exited with $rc and reported no failure"
		status=1
	elif ! grep -q '^PASS' "$run/job-$i.out"; then
		echo "FAIL ${jobs[$i]}: reported no check at all"
		status=1
	fi
done
echo "== the ${#jobs[@]} boots took $(( $(date +%s) - start )) s with $VM_JOBS at a time"
exit $status
