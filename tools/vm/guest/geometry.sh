# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Inside the VM: load slab_matrix.ko and print, for each of its caches, what the kernel made of
# it, one line each: GEOM <name> <object_size> <slab_size> <objs_per_slab> <order> <align>
# <slabinfo objsize> <slabinfo objperslab> <slabinfo pagesperslab>. tools/vm/geometry.sh
# compares these with the model.

. /lib.sh
echo "NRCPUS $(grep -c ^processor /proc/cpuinfo)"
if ! insmod /slab_matrix.ko; then
	echo "GEOM-ERROR insmod slab_matrix.ko failed"
	dmesg | tail -n 20
	exit 0
fi
for dir in /sys/kernel/slab/kcsm_*; do
	name=${dir##*/}
	info=$(grep "^$name " /proc/slabinfo | awk '{ print $4, $5, $6 }')
	echo "GEOM $name $(cat $dir/object_size) $(cat $dir/slab_size) $(cat $dir/objs_per_slab) $(cat $dir/order) $(cat $dir/align) $info"
done
rmmod slab_matrix
echo "GEOM-DONE"
