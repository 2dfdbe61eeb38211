#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest (busybox sh): load memalloc and the selftests'
# dma-buf importer, run the selftests through the kselftest runner, unload,
# and scan for leaks.
ko=/opt/memalloc/memalloc.ko
importer=/opt/memalloc/memalloc_importer.ko
# Settings of this kernel's run (MEMALLOC_STRESS_SECONDS).
[ -r /opt/memalloc/env ] && . /opt/memalloc/env
leaks=/sys/kernel/debug/kmemleak
# memalloc.ko installed as modprobe expects it, for libkmod.
mkdir -p /lib/modules && cp -a /opt/memalloc/modroot/lib/modules/. /lib/modules/

if insmod "$ko"; then
	echo "@@ insmod ok"
else
	echo "@@ insmod failed"
	exit 0
fi
# memalloc_vmap_test fails without it.
insmod "$importer" || echo "@@ insmod $importer failed"
[ -e $leaks ] && echo clear >$leaks
# Only the programs named in MEMALLOC_TESTS, when it names any.
only=
for t in ${MEMALLOC_TESTS:-}; do
	only="$only -t memalloc:$t"
done
(cd /opt/memalloc/selftests && MEMALLOC_KO=$ko ./run_kselftest.sh $only)
if rmmod memalloc; then
	echo "@@ rmmod ok"
else
	echo "@@ rmmod failed"
fi
rmmod memalloc_importer || echo "@@ rmmod memalloc_importer failed"
if [ -e $leaks ]; then
	# kmemleak reports objects at least 5 s old, unreferenced in a scan.
	sleep 6
	echo scan >$leaks
	echo scan >$leaks
	echo "@@ kmemleak begin"
	cat $leaks
	echo "@@ kmemleak end"
fi
