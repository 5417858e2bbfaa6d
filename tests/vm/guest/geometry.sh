# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Inside the VM: load slab_matrix.ko and print what the kernel made of each of its caches:
#   GEOM <name> <object_size> <slab_size> <objs_per_slab> <order> <align>   (from /sys/kernel/slab)
#   SLABINFO <the cache's /proc/slabinfo line>
#   REFUSED <name>, REFUSAL <the kernel's warning>   (a cache kmem_cache_create() refused)
#   KMALLOC <name> <objsize> <objperslab> <pagesperslab>   (the kernel's kmalloc-N caches)
# tests/vm/geometry.sh has simple-cache check-geometry compare these with the model. The sysfs
# files are read with the shell's own `read`: under TCG, a process per file would take minutes.

. /lib.sh
echo "NRCPUS $(grep -c ^processor /proc/cpuinfo)"
if ! insmod /slab_matrix.ko; then
	echo "GEOM-ERROR insmod slab_matrix.ko failed"
	dmesg | tail -n 20
	exit 0
fi
# How many caches slab_matrix.ko says it made: tests/vm/geometry.sh expects a GEOM line for each.
echo "NRCACHES $(dmesg | sed -n 's/.*slab_matrix: \([0-9]*\) caches.*/\1/p' | tail -n 1)"
# The caches the kernel refused, and the kernel's own words for each refusal.
echo "NRREFUSED $(dmesg | sed -n 's/.*slab_matrix: [0-9]* caches, \([0-9]*\) refused.*/\1/p' | tail -n 1)"
dmesg | sed -n 's/.*slab_matrix: refused \(kcsm_[^ ]*\).*/REFUSED \1/p'
dmesg | sed -n 's/^\[[^]]*\] \(.*(kcsm_[^)]*) failed with error .*\)/REFUSAL \1/p'
for dir in /sys/kernel/slab/kcsm_*; do
	read -r object_size < "$dir/object_size"
	read -r slab_size < "$dir/slab_size"
	read -r objs_per_slab < "$dir/objs_per_slab"
	read -r order < "$dir/order"
	read -r align < "$dir/align"
	echo "GEOM ${dir##*/} $object_size $slab_size $objs_per_slab $order $align"
done
grep '^kcsm_' /proc/slabinfo | sed 's/^/SLABINFO /'
rmmod slab_matrix
# The kernel's own kmalloc-N caches (not dma-, -rcl, -cg): which sizes exist differs by
# architecture (arm64's 6.1 starts at kmalloc-128), and their geometry with the CPU count.
grep -E '^kmalloc-[0-9]+k? ' /proc/slabinfo | while read -r name active num objsize perslab pages rest; do
	echo "KMALLOC $name $objsize $perslab $pages"
done
# kmem_cache_alloc against kmalloc, timed in this kernel (tests/kernel/slab_timing.c).
if insmod /slab_timing.ko; then
	dmesg | sed -n -e 's/.*slab_timing: pair /TIMING pair /p' -e 's/.*slab_timing: batch /TIMING batch /p'
	rmmod slab_timing
else
	echo "TIMING-ERROR insmod slab_timing.ko failed"
fi
echo "GEOM-DONE"
