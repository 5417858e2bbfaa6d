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
	case "$line" in
	'for '*'; do taskset -c '[0-9]' echo '*'; done')
		# A loop of writes on one CPU (the scenarios' adds and dels) runs as one pinned shell
		# whose echo is its builtin: a taskset and an echo process per write cost ~10 s a boot
		# under TCG. Every write still runs on that CPU, as the line says. (A write that oopses
		# would end the whole loop here, where the model goes on with the next; no scenario's
		# loop oopses: the oopses are tests/vm/bugs.sh's, one boot each.)
		cpu=${line#*'; do taskset -c '}
		cpu=${cpu%% *}
		taskset -c "$cpu" sh -c "$(echo "$line" | sed "s/; do taskset -c $cpu /; do /")" 2>&1 ;;
	*)	eval "$line" 2>&1 ;;
	esac
	status=$?
done < /scenario.txt
echo "TRANSCRIPT-END"
