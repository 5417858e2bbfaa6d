# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Inside the VM: runs the commands of /scenario.txt (tests/scenarios/*.txt, as tests/vm/compare.sh
# joined them) as a learner would type them and prints a
# transcript ("$ command", then what it printed), to be diffed with the model's.

. /lib.sh
dmesg -C
echo "TRANSCRIPT-BEGIN"
while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	echo
	echo "\$ $line"
	eval "$line" 2>&1
done < /scenario.txt
echo "TRANSCRIPT-END"
