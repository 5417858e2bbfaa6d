#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# exercises.sh build RELEASE...: builds each untouched exercise (exercises/NN-*/SimpleCache.cs),
#   each solution that is not the module itself and, with EXERCISES_WRONG=1, each wrong answer
#   (tests/exercises/wrong/N-*.sed applied to the solution), into
#   build/kernel-VARIANT/RELEASE/simple_cache.ko.
# exercises.sh groups: the groups of boot options the exercises need (plain, fzpu: slub_debug=FZPU,
#   -smp: two CPUs).
# exercises.sh RELEASE GROUP: one boot of RELEASE that runs the scripts of the exercises whose
#   boot options GROUP names against several builds: the
#   reference solution (the module's own simple_cache.ko) and the untouched exercise; with GROUP
#   wrong-plain or wrong-fzpu, the wrong answers instead. Each transcript goes to the model's
#   checker (simple-cache check N --transcript): the solution must pass, the untouched exercise
#   fail, a wrong answer fail saying what its "# expect:" line says. One PASS or FAIL line each.
# A variant that leaves the kernel unclean (an insmod that oopsed leaves its module stuck
# loading; a failed load that leaks /proc/simple_cache makes the next one fail; 6.1 keeps a
# cache destroyed with objects in /proc/slabinfo) ends its boot,
# and the next boot runs the rest. tests/host/exercises.sh does the same in the model;
# tests/vm/exercise.sh checks any one source (make check).

set -uo pipefail
. "$(dirname "$0")/lib.sh"

# The exercises, with their boot group: "N SLUG GROUP".
exercise_list() {
	local dir n group script
	script=$(mktemp)
	for dir in "$VM_ROOT"/exercises/[0-9]*-*/; do
		dir=$(basename "$dir")
		n=$((10#${dir%%-*}))
		group=plain
		"$VM_CLI" check "$n" --script > "$script"
		grep -q '^# boot: .*slub_debug=FZPU' "$script" && group=fzpu
		grep -q '^# cpus: 2$' "$script" && group+=-smp
		echo "$n $dir $group"
	done
	rm -f "$script"
}

# The source of a wrong answer of exercise N, made from its solution.
wrong_source() {
	local sed=$1 out=$2 n
	n=$(basename "$sed"); n=${n%%-*}
	sed -f "$sed" "$(solution_source "$n")" > "$out"
}

# The reference solution of exercise N (exercises/solutions/NN-*/SimpleCache.cs, most of them a
# link to module/SimpleCache.cs, whose build is the module's own).
solution_source() {
	realpath "$(ls "$VM_ROOT"/exercises/solutions/$(printf %02d "$1")-*/SimpleCache.cs | head -n 1)"
}

# The solution's simple_cache.ko for RELEASE.
solution_ko() {
	if [ "$(solution_source "$1")" = "$VM_ROOT/module/SimpleCache.cs" ]; then
		echo "$VM_ROOT/build/kernel/$2/simple_cache.ko"
	else
		echo "$VM_ROOT/build/kernel-sol$1/$2/simple_cache.ko"
	fi
}

# exercises.sh groups: the boots there are (the exercises' slub_debug and CPUs).
if [ "${1:-}" = groups ]; then
	exercise_list | cut -d' ' -f3 | sort -u
	exit 0
fi

if [ "${1:-}" = build ]; then
	shift
	status=0
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	variants=()
	while read -r n slug group; do
		variants+=("-ex$n:$VM_ROOT/exercises/$slug/SimpleCache.cs")
		sol=$(solution_source "$n")
		[ "$sol" = "$VM_ROOT/module/SimpleCache.cs" ] || variants+=("-sol$n:$sol")
	done < <(exercise_list)
	if [ "${EXERCISES_WRONG:-0}" = 1 ]; then
		# The sources are kept (build/exercises/wrong/), and rewritten only when they change, so
		# that make does not compile them again.
		mkdir -p "$VM_ROOT/build/exercises/wrong"
		for sed in "$VM_ROOT"/tests/exercises/wrong/*.sed; do
			name=$(basename "$sed" .sed)
			wrong_source "$sed" "$work/$name.cs"
			cmp -s "$work/$name.cs" "$VM_ROOT/build/exercises/wrong/$name.cs" || cp "$work/$name.cs" "$VM_ROOT/build/exercises/wrong/$name.cs"
			variants+=("-wrong-$name:$VM_ROOT/build/exercises/wrong/$name.cs")
		done
	fi
	# build_variant VARIANT SRC RELEASE...: one variant's object, then its module for each kernel.
	# The variants build one per CPU at once: each has its own directories (VARIANT).
	build_variant() {
		local variant=$1 src=$2 rel log=$work/build$1.log
		shift 2
		make -s -C "$VM_ROOT" csharp MODULE_SRC="$src" VARIANT="$variant" > "$log" 2>&1 ||
			{ echo "FAIL the exercise build $variant does not compile"; sed 's/^/    | /' "$log" | head; return 1; }
		for rel in "$@"; do
			make -s -C "$VM_ROOT" module KDIR="$(vm_kdir "$rel")" MODULE_SRC="$src" VARIANT="$variant" > "$log" 2>&1 ||
				{ echo "FAIL [$rel] the exercise build $variant does not link"; sed 's/^/    | /' "$log" | head; return 1; }
		done
	}
	for i in "${!variants[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n; done
		v=${variants[$i]}
		( build_variant "${v%%:*}" "${v#*:}" "$@" > "$work/out.$i" 2>&1; echo $? > "$work/rc.$i" ) &
	done
	wait
	for i in "${!variants[@]}"; do
		cat "$work/out.$i"
		[ "$(cat "$work/rc.$i")" = 0 ] || status=1
	done
	exit $status
fi

rel=$1 group=$2
tag="[$rel $group] exercises"
need "$tag" "$VM_CLI" "$VM_CTL" "$VM_ROOT/build/kernel/$rel/simple_cache.ko" || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A expect number label
ids=()
# add N LABEL KO EXPECT: one variant; they run in the order added, solutions first.
add() {
	local id
	id=ex-$(printf %03d $((${#ids[@]} + 100)))-$1
	cp "$3" "$work/$id.ko" || return 1
	"$VM_CLI" check "$1" --script > "$work/$id.txt"
	ids+=("$id")
	number[$id]=$1 label[$id]=$2 expect[$id]=$4
}
untouched=()
while read -r n slug g; do
	if [ "$group" = "$g" ]; then
		add "$n" "the reference solution" "$(solution_ko "$n" "$rel")" PASS
		untouched+=("$n")
	elif [ "$group" = "wrong-$g" ]; then
		for sed in "$VM_ROOT"/tests/exercises/wrong/$n-*.sed; do
			name=$(basename "$sed" .sed)
			add "$n" "the wrong answer $name" "$VM_ROOT/build/kernel-wrong-$name/$rel/simple_cache.ko" "$(sed -n 's/^# expect: //p' "$sed")"
		done
	fi
done < <(exercise_list)
for n in "${untouched[@]}"; do
	add "$n" "the untouched exercise" "$VM_ROOT/build/kernel-ex$n/$rel/simple_cache.ko" FAIL
done
[ ${#ids[@]} -gt 0 ] || { echo "FAIL $tag: no exercise in group $group"; exit 1; }
boot=$(sed -n 's/^# boot: //p' "$work/${ids[0]}.txt")
cpus=$(sed -n 's/^# cpus: //p' "$work/${ids[0]}.txt")

# Boots until every variant has run: the guest stops after a variant that leaves the kernel
# unclean (its module stuck loading after an oops, or a /proc file left behind: the next insmod
# could not create its own), and the next boot runs the rest.
log=$VM_ROOT/build/vm$VM_SUFFIX/exercises-$rel-$group.log
: > "$log"
left=("${ids[@]}")
boots=0
while [ ${#left[@]} -gt 0 ]; do
	files=()
	for id in "${left[@]}"; do files+=("$work/$id.ko" "$work/$id.txt"); done
	boots=$((boots + 1))
	VM_SMP=${cpus:-1} VM_OOPS= VM_EXTRA_FILES="${files[*]} $VM_CTL $VM_ROOT/tests/vm/guest/transcript.sh" \
		vm_run "$rel" "$VM_ROOT/build/kernel/$rel/simple_cache.ko" "$VM_ROOT/tests/vm/guest/exercises.sh" "kcs.tag=$rel $boot" > "$work/boot.log" 2>&1
	cat "$work/boot.log" >> "$log"
	rest=()
	ran=0
	for id in "${left[@]}"; do
		if grep -q "^EXERCISE-BEGIN $id\$" "$work/boot.log"; then
			ran=1
			sed -n "/^EXERCISE-BEGIN $id\$/,/^EXERCISE-END $id\$/p" "$work/boot.log" > "$work/$id.out"
		elif [ $ran = 1 ] || ! grep -q '^EXERCISE-BEGIN ' "$work/boot.log"; then
			rest+=("$id")
		fi
	done
	# A boot that ran nothing at all would only repeat itself: what is left stays unrun.
	[ $ran = 1 ] || break
	left=("${rest[@]}")
done
version=$(model_version "$tag" "$rel") || exit 1
status=0
for id in "${ids[@]}"; do
	n=${number[$id]}
	touch "$work/$id.out"
	sed -n '/^TRANSCRIPT-BEGIN$/,/^TRANSCRIPT-END$/p' "$work/$id.out" | sed '1d;$d' > "$work/$id.transcript"
	if ! grep -q "^EXERCISE-END $id\$" "$work/$id.out"; then
		printf '\n$ (the model stopped)\nthe VM did not finish the script (a hang or a panic)\n' >> "$work/$id.transcript"
	fi
	"$VM_CLI" check "$n" --kernel "$version" --transcript "$work/$id.transcript" > "$work/$id.verdict"
	failures=$(grep -c '^  - ' "$work/$id.verdict")
	case "${expect[$id]}" in
	PASS) grep -q '^PASS ' "$work/$id.verdict" ;;
	FAIL) grep -q '^FAIL ' "$work/$id.verdict" && [ "$failures" -gt 0 ] ;;
	*) grep -q '^FAIL ' "$work/$id.verdict" && grep -q -F -- "${expect[$id]}" "$work/$id.verdict" ;;
	esac
	if [ $? -eq 0 ]; then
		case "${expect[$id]}" in
		PASS) echo "PASS [$rel] exercise $n: ${label[$id]} passes its checker in the VM" ;;
		FAIL) echo "PASS [$rel] exercise $n: ${label[$id]} fails its checker in the VM ($failures failures, e.g. $(grep -m1 '^  - ' "$work/$id.verdict" | cut -c5-80)...)" ;;
		*) echo "PASS [$rel] exercise $n: ${label[$id]} fails in the VM, saying \"${expect[$id]}\"" ;;
		esac
	else
		echo "FAIL [$rel] exercise $n: ${label[$id]} should $([ "${expect[$id]}" = PASS ] && echo pass || echo "fail$([ "${expect[$id]}" = FAIL ] || echo " saying \"${expect[$id]}\"")") in the VM (console log: $log)"
		sed 's/^/    | /' "$work/$id.verdict" | head -n 12
		status=1
	fi
done
echo "   ($boots boot$([ $boots = 1 ] || echo s) for ${#ids[@]} builds)"
exit $status
