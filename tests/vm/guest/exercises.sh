# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Inside the VM: several builds of the module, each with an exercise's script (tests/vm/exercises.sh
# put /ex-NN-N-VARIANT.ko and .txt beside this script, in the order to run them). For each: it
# becomes /simple_cache.ko and /scenario.txt, and /transcript.sh runs the script; the host checks
# each transcript with the model's checker.

for ko in $(ls /ex-*.ko | sort); do
	name=${ko%.ko}
	cp "$ko" /simple_cache.ko
	cp "$name.txt" /scenario.txt
	echo "EXERCISE-BEGIN ${name#/}"
	sh /transcript.sh
	echo "EXERCISE-END ${name#/}"
done
