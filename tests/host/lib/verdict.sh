# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Sourced by the host tests of the build checks (check-object.sh, fpu-sections.sh).

# verdict CHECK WANT NAME RC OUTPUT [MESSAGE]: one PASS or FAIL line for a build check that was
# run on NAME, exited with RC and printed OUTPUT. WANT is accept (RC 0) or reject (RC not 0, and
# OUTPUT says MESSAGE).
verdict() {
	local check=$1 want=$2 name=$3 rc=$4 out=$5 msg=${6:-}
	if [ "$want" = accept ] && [ "$rc" -eq 0 ]; then
		echo "PASS $check accepts $name"
	elif [ "$want" = reject ] && [ "$rc" -ne 0 ] && grep -q -- "$msg" <<<"$out"; then
		echo "PASS $check rejects $name ($msg)"
	else
		echo "FAIL $check on $name: exit $rc, wanted $want${msg:+ with '$msg'}"
		sed 's/^/    | /' <<<"$out"
	fi
}
