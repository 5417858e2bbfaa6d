# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Inside the VM: runs the commands of /scenario.txt (tests/scenarios/*.txt, as tests/vm/compare.sh
# joined them) as a learner would type them and prints a
# transcript ("$ command", then what it printed), to be diffed with the model's.

. /lib.sh
dmesg -C
echo "TRANSCRIPT-BEGIN"
status=0
while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	echo
	echo "\$ $line"
	# $? in a line is the status of the line before it (a process an oops killed: 139).
	( exit $status )
	eval "$line" 2>&1
	status=$?
done < /scenario.txt
echo "TRANSCRIPT-END"
