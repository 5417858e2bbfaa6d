# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Sourced by the host tests of the C# object check (check-object.sh for x86-64,
# check-object-arm64.sh for arm64): the steps both architectures share. The caller sets CHECK,
# ROOT, tmp, LABEL (the check's name in PASS and FAIL lines) and CC (its compiler), and sources
# verdict.sh.

# A stand-in for the glue: defines kcs_printk.
printf 'void kcs_printk(int l, const char *t, int n) { (void)l; (void)t; (void)n; }\n' > "$tmp/glue.c"
$CC -c -O2 -o "$tmp/glue.o" "$tmp/glue.c"

# expect accept|reject NAME OBJECT [MESSAGE [GLUE...]]: runs the check on OBJECT with the glue
# stand-in (and more glue objects).
expect() {
	local want=$1 name=$2 obj=$3 msg=${4:-} out rc=0
	shift $(($# < 4 ? $# : 4))
	out=$("$CHECK" "$obj" "$tmp/glue.o" "$@" 2>&1) || rc=$?
	verdict "$LABEL" "$want" "$name" "$rc" "$out" "$msg"
}

# real_object RELEASE CSHARP_OBJECT DEPS [MAKE_ARG...]: builds the module for RELEASE (an empty
# RELEASE: none installed, run make DEPS) and checks the real C# object with the real glue.
real_object() {
	local rel=$1 csharp=$2 deps=$3 out
	shift 3
	if [ -z "$rel" ]; then
		echo "FAIL no kernel headers installed to build the glue against (run make $deps)"
	elif ! make -s -C "$ROOT" module KDIR="$(vm_kdir "$rel")" "$@" >"$tmp/build.log" 2>&1; then
		echo "FAIL the module does not build for $rel"
		tail -n 20 "$tmp/build.log" | sed 's/^/    | /'
	elif out=$("$CHECK" "$csharp" "$ROOT/build/kernel/$rel/kcs.o" "$ROOT/build/kernel/$rel/entry.o" 2>&1); then
		echo "PASS $LABEL accepts the real C# module object with the real glue ($rel)"
	else
		echo "FAIL $LABEL rejects the real C# module object"
		sed 's/^/    | /' <<<"$out"
	fi
}
