#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the QEMU accelerator to use: kvm only when a guest really boots with
# it (a probe, cached per host boot), tcg otherwise.
set -eo pipefail
. "$(dirname "$0")/common.sh"

cache=/tmp/memalloc-accel.$(cat /proc/sys/kernel/random/boot_id)
if [ -s "$cache" ]; then
	cat "$cache"
	exit 0
fi
accel=tcg
kernel=/boot/vmlinuz-$STOCK_RELEASE
if [ -w /dev/kvm ] && [ -r "$kernel" ]; then
	dir=$(mktemp -d)
	mkdir -p "$dir/root/bin"
	cp /bin/busybox "$dir/root/bin/"
	printf '#!/bin/busybox sh\n/bin/busybox echo memalloc-kvm-ok\n/bin/busybox poweroff -f\n' >"$dir/root/init"
	chmod +x "$dir/root/init"
	(cd "$dir/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initrd"
	timeout --kill-after=5 30 qemu-system-x86_64 -accel kvm -cpu host -m 512M \
		-nodefaults -display none -no-reboot -kernel "$kernel" -initrd "$dir/initrd" \
		-append "console=ttyS0 panic=-1 quiet" -serial "file:$dir/log" \
		</dev/null >/dev/null 2>&1 || true
	grep -q memalloc-kvm-ok "$dir/log" 2>/dev/null && accel=kvm
	rm -rf "$dir"
fi
echo "$accel" >"$cache"
echo "$accel"
