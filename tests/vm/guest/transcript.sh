# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Inside the VM: runs the commands of /module.txt (tests/scenarios/module.txt) as a learner would type them and prints a
# transcript ("$ command", then what it printed), to be diffed with the model's.

. /lib.sh
dmesg -C
echo "TRANSCRIPT-BEGIN"
while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	echo
	echo "\$ $line"
	eval "$line" 2>&1
done < /module.txt
echo "TRANSCRIPT-END"
