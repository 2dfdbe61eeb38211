#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build (once) a Debian system to install the packages on, and print its
# directory: rootfs.img (raw ext4, the guest's /dev/vda), vmlinuz and
# initrd.img (its own kernel, to boot it with). Usage: rootfs.sh SUITE, e.g.
# bookworm or trixie. The system has Debian's stock kernel with its headers,
# DKMS, systemd and udev, and what a program is built with (build-essential,
# pkg-config, libkmod-dev), so that the packages install offline; at boot,
# memalloc-testbed.service runs /root/memalloc-install/run from the disk
# labelled MEMALLOC-TEST (/dev/vdb), if there is one. Cached under $CACHE,
# keyed by the suite, this script's hash (its package list and set-up) and
# the month: a machine pays once a month for each suite.
set -eo pipefail
. "$(dirname "$0")/common.sh"

suite=${1:?usage: rootfs.sh SUITE}
pkgs=linux-image-amd64,linux-headers-amd64,initramfs-tools,systemd,systemd-sysv,udev
pkgs+=,kmod,dkms,build-essential,pkg-config,libkmod-dev,sudo
hash=$(sha256sum "$0" | cut -c1-12)
out=$CACHE/rootfs-$suite-$(date +%Y%m)-$hash

mkdir -p "$CACHE"
exec 9>"$CACHE/rootfs-$suite.lock"
flock 9
if [ -e "$out/.built" ]; then
	echo "$out"
	exit 0
fi
note "building a $suite system in $out with mmdebstrap"
rm -rf --one-file-system "$out" && mkdir -p "$out"
dir=$out/tree
log=$out/build.log
start=$SECONDS

# The unit and the script that run the test bed's payload at boot.
cat >"$out/memalloc-testbed.service" <<'UNIT'
[Unit]
Description=memalloc test bed: run the payload of the disk MEMALLOC-TEST
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/memalloc-testbed
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
UNIT
cat >"$out/memalloc-testbed" <<'RUN'
#!/bin/sh
# Copy the payload off its disk, run it (results on ttyS1), power off.
set -u
d=/root/memalloc-install
udevadm settle -t 60
[ -e /dev/disk/by-label/MEMALLOC-TEST ] || exit 0
mkdir -p /mnt/payload "$d"
mount -o ro /dev/disk/by-label/MEMALLOC-TEST /mnt/payload &&
	cp -a /mnt/payload/. "$d/" && umount /mnt/payload
stty -F /dev/ttyS1 raw -echo 2>/dev/null
echo "memalloc-testbed: payload begins" >/dev/kmsg
bash "$d/run" >/dev/ttyS1 2>&1
echo "@@ done" >/dev/ttyS1
sync
systemctl poweroff --no-block
RUN

# Without documentation while it is built (faster); a real system's dpkg
# settings afterwards, so that the packages install all their files.
if ! mmdebstrap --variant=minbase --components=main \
	--include="$pkgs" \
	--hook-dir=/usr/share/mmdebstrap/hooks/eatmydata \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--customize-hook='rm -f "$1/etc/dpkg/dpkg.cfg.d/99mmdebstrap"' \
	--customize-hook='echo memalloc-test >"$1/etc/hostname"' \
	--customize-hook='printf "/dev/vda / ext4 rw,errors=remount-ro 0 1\n" >"$1/etc/fstab"' \
	--customize-hook='passwd -R "$1" -d root' \
	--customize-hook="install -D -m 755 '$out/memalloc-testbed' \"\$1/usr/local/sbin/memalloc-testbed\"" \
	--customize-hook="install -m 644 '$out/memalloc-testbed.service' \"\$1/etc/systemd/system/\"" \
	--customize-hook='systemctl --root="$1" enable memalloc-testbed.service' \
	--customize-hook='systemctl --root="$1" mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer 2>/dev/null || true' \
	"$suite" "$dir" \
	"deb http://deb.debian.org/debian $suite main" \
	"deb http://deb.debian.org/debian-security $suite-security main" \
	>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	die "mmdebstrap $suite failed, see $log"
fi
cp "$(ls "$dir"/boot/vmlinuz-* | sort -V | tail -n 1)" "$out/vmlinuz"
cp "$(ls "$dir"/boot/initrd.img-* | sort -V | tail -n 1)" "$out/initrd.img"
# A sparse image with room for DKMS's builds and the packages.
mkfs.ext4 -q -F -L memalloc-root -d "$dir" "$out/rootfs.img" 4G >>"$log" 2>&1 ||
	die "mkfs.ext4 of $dir failed, see $log"
rm -rf --one-file-system "$dir"
note "$suite system built in $((SECONDS - start)) s"
touch "$out/.built"
# Systems of this suite from an older month or set-up are of no more use.
for old in "$CACHE/rootfs-$suite-"*; do
	case $old in "$out"|*.lock) ;; *) rm -rf --one-file-system "$old" ;; esac
done
echo "$out"
