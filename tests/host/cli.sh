#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# checks: 23   (make test fails unless exactly this many PASS or FAIL lines come out)
#
# The model's command line (tools/cli) as a learner meets it:
# - `simple-cache slabtop -s KEY` against the real procps slabtop -o -s KEY reading the same
#   /proc/slabinfo (the model's, bind-mounted over the host's in a private mount namespace), for
#   every sort key;
# - the commands, their help, their errors, colour in a terminal and plain text in a pipe;
# - simple-cache-ctl map (the VM's slab map) on the model's /proc/simple_cache_map and sysfs
#   files, and on a crafted view it must refuse;
# - the .NET tool package: dotnet pack, dotnet tool install from that folder, and the installed
#   simple-cache runs.

set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/kcs-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT

. "$ROOT/tests/host/lib/dotnet.sh"
build_or_fail "$work" tools/cli

# A session with something in several caches: 40 objects of simple_cache (two slabs), a few
# deleted, on 2 CPUs; the module's write buffers come from kmalloc.
cat > "$work/script" <<'EOF'
insmod simple_cache.ko
for i in $(seq 1 40); do echo add object$i > /proc/simple_cache; done
for i in $(seq 3 4 23); do echo del $i > /proc/simple_cache; done
EOF
{ cat "$work/script"; echo "cat /proc/slabinfo"; } | "$CLI" run --manual-clock - | sed -n '/^\$ cat \/proc\/slabinfo$/,$p' | tail -n +2 > "$work/slabinfo"

for key in a b c l v n o p s u; do
	real=$(unshare -m sh -c "mount --bind '$work/slabinfo' /proc/slabinfo && slabtop -o -s $key" 2>&1)
	model=$("$CLI" slabtop -s $key --script "$work/script" 2>&1)
	if [ -n "$real" ] && [ "$real" = "$model" ]; then
		echo "PASS slabtop -s $key: the model's output is procps slabtop's, byte for byte ($(grep -c . <<<"$model") lines)"
	else
		echo "FAIL slabtop -s $key differs from procps slabtop on the same /proc/slabinfo (< procps, > model)"
		diff <(echo "$real") <(echo "$model") | head -n 20 | sed 's/^/    | /'
	fi
done

# check NAME WANT-RC COMMAND...: runs COMMAND; PASS if it exits WANT-RC and prints every line of
# $want (fixed strings), else FAIL with the output.
check() {
	local name=$1 rc_want=$2 out rc missing=
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		grep -qF -- "$line" <<<"$out" || missing+="'$line' "
	done <<<"$want"
	if [ "$rc" -eq "$rc_want" ] && [ -z "$missing" ]; then
		echo "PASS $name"
	else
		echo "FAIL $name: exit $rc (wanted $rc_want)${missing:+, missing $missing}"
		sed 's/^/    | /' <<<"$out" | head -n 30
	fi
}

want='run <SCRIPT>
shell
slabs <CACHE>
layout <CACHE>
slabtop
geometry <SIZE>
check-geometry <FILE>'
check "simple-cache --help names every command" 0 "$CLI" --help

# Tab completion: System.CommandLine's [suggest] directive, which dotnet-suggest's shell scripts call.
if [ "$("$CLI" '[suggest:3]' 'sla' | tr '\n' ' ')" = "slabs slabtop " ] &&
	[ "$("$CLI" '[suggest:15]' 'slabtop --sort ' | tr -d '\n')" = "abclnopsuv" ]; then
	echo "PASS completion: 'sla' completes to slabs and slabtop, and slabtop --sort to its ten keys"
else
	echo "FAIL completion: '$("$CLI" '[suggest:3]' 'sla' | tr '\n' ' ')'"
fi

want='simple_cache: 64-byte objects in 128-byte slots, 32 per slab (order 0: 4096 bytes), 2 CPUs
2 of 32 slots in use, in 1 slab
CPU 0 slab  page
CPU 1: no slab, no partial slabs
node partial list: empty
the module'"'"'s list, head to tail (2 objects; not the slab'"'"'s order):
    1 alpha (slot'
check "simple-cache slabs maps the brief's two objects and the list" 0 "$CLI" slabs

want='36 of 64 slots in use, in 2 slabs
full slabs on no list: none'
check "simple-cache slabs after a script" 0 "$CLI" slabs --script "$work/script"

want='Left Redzone
Right Redzone
Tracking data (alloc)
Object padding'
check "simple-cache layout --slub-debug FZPU names the debug regions" 0 "$CLI" layout --slub-debug FZPU

want="slabs: no cache named 'nosuch'"
check "simple-cache slabs of an unknown cache is an error" 1 "$CLI" slabs nosuch

want='--cpus takes a number of at least 1'
check "simple-cache slabs --cpus 0 is refused" 1 "$CLI" slabs --cpus 0

# run --follow: slabtop follows the script. Piped, the rows that changed after each command
# (simple_cache's appears with the module, and grows to 2 slabs with 40 objects on one CPU);
# in a terminal, a footer redrawn in place (cursor up, clear, draw).
printf 'taskset -c 0 insmod simple_cache.ko\nfor i in $(seq 1 40); do taskset -c 0 echo add o$i > /proc/simple_cache; done\n' > "$work/follow"
out=$("$CLI" run --follow --manual-clock "$work/follow" 2>&1)
rows=$(grep -E '^  slabtop \| .* simple_cache$' <<<"$out" | awk '{ print $3 "/" $7 }' | tr '\n' ' ')
if [ "$rows" = "32/1 64/2 " ]; then
	echo "PASS run --follow, piped: slabtop's simple_cache row after each command that changed it (objects/slabs: $rows)"
else
	echo "FAIL run --follow, piped: simple_cache's slabtop rows were '$rows', wanted '32/1 64/2 '"
	grep 'slabtop |' <<<"$out" | head -n 10 | sed 's/^/    | /'
fi
tty_out=$(script -qec "$CLI run --follow --manual-clock $work/follow" /dev/null 2>&1 | tr -d '\r')
redraws=$(grep -o $'\e\[[0-9]*F\e\[J' <<<"$tty_out" | wc -l)
if [ "$redraws" -eq 1 ] && [ "$(grep -c '^---- slabtop (model, refreshed after each command) ----$' <<<"$tty_out")" -eq 2 ]; then
	echo "PASS run --follow in a terminal: slabtop's top is drawn after each of the 2 commands, the first taken away before the second"
else
	echo "FAIL run --follow in a terminal: $redraws redraws"
fi

# Colour: escapes in a terminal (script(1) gives the command a pseudo-terminal), none in a pipe.
tty_out=$(script -qec "$CLI slabs" /dev/null 2>&1)
pipe_out=$("$CLI" slabs 2>&1)
if grep -q $'\e\[' <<<"$tty_out" && ! grep -q $'\e' <<<"$pipe_out" && grep -q 'slots' <<<"$tty_out"; then
	echo "PASS slabs colours a terminal's output and leaves a pipe's plain"
else
	echo "FAIL slabs: escapes in a terminal: $(grep -c $'\e\[' <<<"$tty_out"), in a pipe: $(grep -c $'\e' <<<"$pipe_out")"
fi

# The .NET tool: packed, installed from the package folder alone, run.
if dotnet pack "$ROOT/tools/cli" -c Release -v q --nologo -o "$work/nupkg" > "$work/pack.log" 2>&1 &&
	dotnet tool install simple-cache --tool-path "$work/tool" --add-source "$work/nupkg" > "$work/install.log" 2>&1 &&
	"$work/tool/simple-cache" slabs > "$work/tool.out" 2>&1 && grep -q '1 alpha' "$work/tool.out" &&
	"$work/tool/simple-cache" tour > "$work/tour.out" 2>&1 && grep -q '^## 10\. What /proc/slabinfo' "$work/tour.out"; then
	echo "PASS dotnet pack makes a .NET tool; installed from its folder, simple-cache slabs and simple-cache tour run ($(ls "$work/nupkg"))"
else
	echo "FAIL the .NET tool: pack, install or run failed"
	cat "$work/pack.log" "$work/install.log" "$work/tool.out" 2>/dev/null | tail -n 20 | sed 's/^/    | /'
fi

# simple-cache-ctl map, fed the model's view (kptr_restrict 1: the addresses) and its sysfs
# figures from the same session; then a view with two objects in one slot, which it must refuse.
if dotnet build "$ROOT/tools/ctl" -c Release -v q --nologo > "$work/ctl.log" 2>&1; then
	CTL="dotnet exec $ROOT/build/dotnet/bin/SimpleCache.Ctl/Release/net10.0/linux-x64/simple-cache-ctl.dll"
	mkdir -p "$work/sysfs"
	{ cat "$work/script"; echo "echo 1 > /proc/sys/kernel/kptr_restrict"; echo "cat /proc/simple_cache_map"
	  for a in slab_size objs_per_slab order slabs; do echo "cat /sys/kernel/slab/simple_cache/$a"; done; } |
		"$CLI" run --seed 4 - > "$work/session"
	sed -n '/^\$ cat \/proc\/simple_cache_map$/,/^$/p' "$work/session" | sed '1d;$d' > "$work/view"
	for a in slab_size objs_per_slab order slabs; do
		sed -n "/^\\\$ cat \/sys\/kernel\/slab\/simple_cache\/$a\$/{n;p}" "$work/session" > "$work/sysfs/$a"
	done
	out=$($CTL map "$work/view" "$work/sysfs" 2>&1)
	rc=$?
	cells=$(grep -E '^    slots  ' <<<"$out" | awk '{ print $2 }' | tr -cd '#' | wc -c)
	if [ $rc -eq 0 ] && [ "$cells" -eq 36 ] && grep -q '^simple_cache in the running kernel: 36 objects; 128-byte slots' <<<"$out"; then
		echo "PASS simple-cache-ctl map draws the model's 36 objects in their slots, consistent with sysfs"
	else
		echo "FAIL simple-cache-ctl map on the model's view: exit $rc, $cells objects drawn"
		sed 's/^/    | /' <<<"$out" | head -n 20
	fi
	# The view with its last row copied onto the next id: two objects in one slot.
	{ cat "$work/view"; tail -n 1 "$work/view" | sed 's/^[0-9]*/999/'; } | sed '1s/^objects: [0-9]*/objects: 37/' > "$work/bad"
	out=$($CTL map "$work/bad" "$work/sysfs" 2>&1)
	if [ $? -eq 1 ] && grep -q 'PROBLEM: object 999 is in slot [0-9]*, which another object holds' <<<"$out"; then
		echo "PASS simple-cache-ctl map refuses a view with two objects in one slot"
	else
		echo "FAIL simple-cache-ctl map accepted two objects in one slot"
		sed 's/^/    | /' <<<"$out" | tail -n 5
	fi
else
	echo "FAIL simple-cache-ctl does not build"
	echo "FAIL simple-cache-ctl map not checked"
	tail -n 10 "$work/ctl.log" | sed 's/^/    | /'
fi
