# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Sourced by the real-kernel suites (module.sh, compare.sh, geometry.sh, bugs.sh): the QEMU harness, and
# the steps every one of their boots takes the same way. Each helper prints one FAIL line,
# tagged with TAG (e.g. "[6.1.0-56-amd64] compare"), and returns 1 when its step fails.

. "$(dirname "${BASH_SOURCE[0]}")/../../tools/vm/vm.sh"

# need TAG FILE...: every file is there (tests/vm/run.sh builds them before the boots).
need() {
	local tag=$1 file
	shift
	for file in "$@"; do
		[ -f "$file" ] || { echo "FAIL $tag: $file is missing (tests/vm/run.sh builds it)"; return 1; }
	done
}

# model_version TAG RELEASE: prints the kernel version the model follows for RELEASE (its FAIL
# line goes to standard error, since the caller captures standard output).
model_version() {
	vm_model_version "$2" || { echo "FAIL $1: the model follows 6.1 and 6.12 only, not $2" >&2; return 1; }
}

# finished TAG LOG PATTERN: the guest got to its end: its console LOG has a line matching the
# extended regular expression PATTERN. If not (a crash, an oops, a timeout), the console's last
# lines follow the FAIL line.
finished() {
	grep -q -E "$3" "$2" && return 0
	echo "FAIL $1: the VM did not finish (crash or timeout); console log: $2"
	tail -n 40 "$2" | sed 's/^/    | /'
	return 1
}

# transcript LOG: the guest's transcript (tests/vm/guest/transcript.sh) out of a console LOG,
# without its BEGIN and END lines.
transcript() {
	sed -n '/^TRANSCRIPT-BEGIN$/,/^TRANSCRIPT-END$/p' "$1" | sed '1d;$d'
}
