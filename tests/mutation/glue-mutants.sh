#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# glue-mutants.sh [ID...]: plants each hand-written mutant of tests/mutation/glue-mutants.txt (all,
# or those named) in a copy of the committed tree (HEAD), runs the part of `make test` that must catch it,
# and prints KILLED (with the first FAIL line as evidence) or SURVIVED. A mutant whose original
# text is no longer in its file exactly once is STALE: the list must follow the code. Exit status
# 0 only if every mutant was killed. Logs: build/mutation/glue/<ID>.log.

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIST=$ROOT/tests/mutation/glue-mutants.txt
OUT=$ROOT/build/mutation/glue
mkdir -p "$OUT"
. "$ROOT/tools/vm/vm.sh"

# The installed Debian kernel of a version (not the RT one: it runs the same checks).
kernel_of() {
	local k
	for k in $(vm_kernels); do
		case "$k" in *-rt-*) continue ;; "$1".*) echo "$k"; return 0 ;; esac
	done
	return 1
}

# apply FILE FROM TO: replaces FROM (several lines) by TO in FILE; fails unless FROM is there once.
apply() {
	local file=$1 from=$2 to=$3 content rest
	content=$(cat "$file"; echo x)
	content=${content%x}
	case "$content" in *"$from"*) ;; *) return 1 ;; esac
	rest=${content#*"$from"}
	case "$rest" in *"$from"*) return 1 ;; esac
	printf '%s' "${content%%"$from"*}${to}${rest}" > "$file"
}

# run_mutant ID SUITE KERNEL FILE FROM TO WHAT
run_mutant() {
	local id=$1 suite=$2 version=$3 file=$4 from=$5 to=$6 what=$7 tree log rel status
	log=$OUT/$id.log
	rel=$(kernel_of "$version") || { echo "FAIL $id: no Debian $version kernel installed (make deps)"; return 1; }
	tree=$(mktemp -d /tmp/kcs-mutant-$id.XXXXXX)
	# The base tree with its build outputs, times kept: only what the mutant touches is rebuilt.
	cp -a "$BASE/." "$tree/"
	if ! apply "$tree/$file" "$from" "$to"; then
		echo "STALE $id ($what): its original text is not in $file exactly once"
		rm -rf "$tree"
		return 1
	fi
	case "$suite" in
		host:*) (cd "$tree" && bash "tests/host/${suite#host:}") > "$log" 2>&1 ;;
		*) (cd "$tree" && KERNELS=$rel SUITES=$suite MODULE_MODES=plain tests/vm/run.sh) > "$log" 2>&1 ;;
	esac
	status=$?
	rm -rf "$tree"
	if [ $status -ne 0 ] || grep -q '^FAIL' "$log"; then
		echo "KILLED $id ($what)"
		grep -m 1 '^FAIL' "$log" | cut -c1-200 | sed 's/^/    /'
		return 0
	fi
	echo "SURVIVED $id ($what): $suite on $rel passed with the bug in $file (log: $log)"
	return 1
}

# The base: the committed tree (HEAD, not work in progress) built from scratch, and shown to
# pass the suites the mutants use before any mutant counts as killed.
BASE=$(mktemp -d /tmp/kcs-mutant-base.XXXXXX)
trap 'rm -rf "$BASE"' EXIT
git -C "$ROOT" archive HEAD | tar -C "$BASE" -xf -
k61=$(kernel_of 6.1) && k612=$(kernel_of 6.12) || { echo "FAIL: the mutants need Debian's 6.1 and 6.12 kernels (make deps)"; exit 1; }
echo "== the unmutated tree (HEAD $(git -C "$ROOT" rev-parse --short HEAD)): build, then the compare boots on $k61 and $k612"
if ! (cd "$BASE" && KERNELS="$k61 $k612" SUITES=compare tests/vm/run.sh) > "$OUT/base.log" 2>&1; then
	echo "FAIL: the unmutated tree does not pass (log: $OUT/base.log); no mutant can be judged"
	exit 1
fi

wanted=" $* "
killed=0 survived=0
id= suite= version= what= file= from= to=
flush() {
	[ -n "$id" ] || return 0
	if [ "$wanted" = "  " ] || [[ "$wanted" == *" $id "* ]]; then
		if run_mutant "$id" "$suite" "$version" "$file" "$from" "$to" "$what"; then
			killed=$((killed + 1))
		else
			survived=$((survived + 1))
		fi
	fi
	id= from= to=
}
while IFS= read -r line; do
	case "$line" in
		'## '*)
			flush
			read -r _ id suite version what <<<"$line"
			version=${version%:}
			;;
		'file '*) file=${line#file } ;;
		-*) from+="${line#-}"$'\n' ;;
		+*) to+="${line#+}"$'\n' ;;
	esac
done < "$LIST"
flush
echo "glue and VM-check mutants: $killed killed, $survived not killed"
[ "$survived" -eq 0 ] && [ "$killed" -gt 0 ]
