# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Inside the VM: several builds of the module, each with an exercise's script (tests/vm/exercises.sh
# put /ex-ORDER-N.ko and .txt beside this script; they run in ORDER). For each: it
# becomes /simple_cache.ko and /scenario.txt, and /transcript.sh runs the script; the host checks
# each transcript with the model's checker.

for ko in $(ls /ex-*.ko | sort); do
	name=${ko%.ko}
	cp "$ko" /simple_cache.ko
	cp "$name.txt" /scenario.txt
	echo "EXERCISE-BEGIN ${name#/}"
	sh /transcript.sh
	echo "EXERCISE-END ${name#/}"
	# Unclean (a module stuck loading, a /proc file left, or on 6.1 a cache destroyed with objects
	# in it, which stays in /proc/slabinfo): the host boots again for the rest.
	if grep -q '^simple_cache ' /proc/modules || ls /proc | grep -q '^simple_cache' || grep -q '^simple_cache ' /proc/slabinfo; then
		echo "EXERCISE-UNCLEAN ${name#/}"
		break
	fi
done
