#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a guest kernel in QEMU with an initramfs holding busybox and a payload
# directory, run the payload's /run script in it, and bring back what it
# printed. Usage:
#   guest.sh KERNEL_IMAGE PAYLOAD_DIR OUT_DIR [EXTRA_MODULE_RELEASE]
# Environment: GUEST_MEM (4G), GUEST_SMP (2), GUEST_TIMEOUT (seconds, 1800),
# GUEST_APPEND (more kernel arguments), GUEST_QEMU (more QEMU arguments),
# MEMALLOC_ACCEL (kvm or tcg; probed when unset).
# OUT_DIR receives console.log (the kernel's console, ttyS0), results.log
# (what /run printed, ttyS1) and initramfs.cpio.gz. The exit code is 0 when
# the guest powered off by itself, 124 when it was killed at its time limit.
set -eo pipefail
. "$(dirname "$0")/common.sh"

kernel=$1 payload=$2 out=$3 release=${4:-}
[ -r "$kernel" ] && [ -d "$payload" ] && [ -n "$out" ] ||
	die "usage: guest.sh KERNEL_IMAGE PAYLOAD_DIR OUT_DIR [MODULE_RELEASE]"

root=$out/root
rm -rf "$root" && mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,etc,root,usr/bin,opt}
cp /bin/busybox "$root/bin/busybox"
cp -a "$payload" "$root/opt/memalloc"
cp /usr/bin/timeout "$root/usr/bin/timeout"

# Kernel modules the tests import from (stock kernel: vgem and brd are modules).
: > "$root/opt/memalloc/modules"
if [ -n "$release" ]; then
	mkdir -p "$root/lib/extra"
	for m in vgem brd; do
		modprobe -S "$release" --show-depends "$m" | while read -r cmd ko _; do
			[ "$cmd" = insmod ] || continue
			base=$(basename "$ko")
			case $ko in
			*.xz) xz -dc "$ko" >"$root/lib/extra/${base%.xz}"; base=${base%.xz} ;;
			*) cp "$ko" "$root/lib/extra/$base" ;;
			esac
			grep -qx "/lib/extra/$base" "$root/opt/memalloc/modules" ||
				echo "/lib/extra/$base" >>"$root/opt/memalloc/modules"
		done
	done
fi

# The shared libraries of every dynamic program in the initramfs.
find "$root" -type f -perm -u+x | while read -r f; do
	ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true
done | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
exec >/dev/ttyS1 2>&1
stty -F /dev/ttyS1 raw -echo 2>/dev/null
echo "@@ guest $(uname -r)"
# Marks in the kernel's log where the test bed's own work begins.
echo "memalloc-testbed: payload begins" >/dev/kmsg
while read -r ko; do
	insmod "$ko" || echo "@@ cannot load $ko"
done </opt/memalloc/modules
sh /opt/memalloc/run
echo "@@ done"
sync
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.cpio.gz"
rm -rf "$root"

accel=${MEMALLOC_ACCEL:-$("$TOP/testbed/accel.sh")}
case $accel in
kvm) accel_args=(-accel kvm -cpu host) ;;
*) accel_args=(-accel tcg -cpu max) ;;
esac
# boot: one run of the guest, in the background; its pid in $qemu.
boot() {
	rm -f "$out/console.log" "$out/results.log"
	timeout --kill-after=10 "${GUEST_TIMEOUT:-1800}" \
		qemu-system-x86_64 "${accel_args[@]}" -nodefaults -display none \
		-m "${GUEST_MEM:-4G}" -smp "${GUEST_SMP:-2}" -no-reboot ${GUEST_QEMU:-} \
		-kernel "$kernel" -initrd "$out/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 rdinit=/init ${GUEST_APPEND:-}" \
		-serial "file:$out/console.log" -serial "file:$out/results.log" \
		</dev/null >"$out/qemu.log" 2>&1 &
	qemu=$!
}

# Whether the guest reached its payload within GUEST_BOOT_LIMIT seconds
# (300): under TCG a kernel now and then stalls early in its boot, before
# anything of memalloc runs, and would sit there until GUEST_TIMEOUT.
reached_payload() {
	local i
	for ((i = 0; i < ${GUEST_BOOT_LIMIT:-300}; i++)); do
		grep -qs 'memalloc-testbed: payload begins' "$out/console.log" && return 0
		kill -0 "$qemu" 2>/dev/null || return 0
		sleep 1
	done
	return 1
}

note "booting $(basename "$kernel") with $accel, ${GUEST_MEM:-4G}, limit ${GUEST_TIMEOUT:-1800} s"
set +e
boot
if ! reached_payload; then
	note "the guest's boot stalled before its payload; booting it once more"
	kill "$qemu" 2>/dev/null
	wait "$qemu"
	cp "$out/console.log" "$out/console.stalled.log" 2>/dev/null
	boot
fi
wait "$qemu"
rc=$?
set -e
sed -i 's/\r$//' "$out/console.log" "$out/results.log" 2>/dev/null || true
exit $rc
