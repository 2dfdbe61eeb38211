#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs as root at boot in a Debian system built by rootfs.sh (the install
# test, check.sh install-debian12 and install-debian13): installs the
# packages from /root/memalloc-install/debs as an administrator would, uses
# them as users would, removes and purges them. One line per check:
# "ok - NAME" or "not ok - NAME # WHY", with "# " lines of detail.
set -u
d=/root/memalloc-install
. "$d/env" # VERSION
export DEBIAN_FRONTEND=noninteractive
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
release=$(uname -r)
pkgs="memalloc-dkms memalloc-tools libmemalloc-dev libmemalloc1"
t0=$SECONDS

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1${2:+ # $2}"; }
detail() { sed 's/^/# /' | tail -n "${1:-25}"; }

# check NAME COMMAND...: ok when COMMAND succeeds; what it printed otherwise.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		echo "$out" | detail
		notok "$name"
	fi
}

# as USER COMMAND: COMMAND (a shell line) as USER, through PAM as runuser
# does it (pam_limits applies /etc/security/limits.d), in the user's home.
as() {
	runuser -u "$1" -- sh -c "cd && $2"
}

echo "# $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $release"

# --- Install, offline (the guest has no network): everything they depend
# on is in the system already. (apt-get's --no-download, which would say so,
# fails on .deb files in apt 2.6.) Without the packages, nothing else can
# be checked.
install_pkgs() {
	local s=$SECONDS out
	if out=$(apt-get install -y "$d"/debs/*.deb 2>&1); then
		ok "$1"
		echo "# apt-get install took $((SECONDS - s)) s"
	else
		echo "$out" | detail 40
		notok "$1"
		exit 0
	fi
}

dkms_installed() {
	local out
	out=$(dkms status memalloc 2>&1)
	echo "$out"
	echo "$out" | grep -q "^memalloc/$VERSION, $release, [^:]*: installed"
}

modinfo_version() {
	local v f
	v=$(modinfo -F version memalloc) && f=$(modinfo -n memalloc) || return 1
	echo "$f: version $v"
	[ "$v" = "$VERSION" ] && case $f in */modules/$release/updates/dkms/memalloc.ko*) ;; *) false ;; esac
}

install_pkgs "apt-get install of the packages, offline"
# Every file the packages installed, to find none of them after removal.
for p in $pkgs; do
	dpkg -L "$p"
done 2>/dev/null | while read -r f; do
	[ -d "$f" ] || echo "$f"
done >/root/memalloc-files
check "dkms status: memalloc $VERSION installed for $release" dkms_installed
check "modinfo memalloc: version $VERSION, in updates/dkms of $release" modinfo_version
check "sysusers.d made the group memalloc" getent group memalloc

# --- Loaded by the modules-load.d entry: what happens at boot, without one.
if [ -e /sys/module/memalloc ]; then
	echo "# memalloc was loaded already after the installation; unloading it"
	rmmod memalloc
fi
loaded_by_modules_load() {
	systemctl restart systemd-modules-load.service || return 1
	[ -e /sys/module/memalloc ] || { journalctl -b -u systemd-modules-load --no-pager; return 1; }
}
check "modules-load.d loads memalloc (systemctl restart systemd-modules-load)" \
	loaded_by_modules_load

dev_mode() {
	udevadm settle
	stat -c '%U:%G %a %F' /dev/memalloc || return 1
	[ "$(stat -c '%U:%G %a %F' /dev/memalloc)" = "root:memalloc 660 character special file" ]
}
check "udev made /dev/memalloc root:memalloc 0660" dev_mode

# --- Users: alice is in the group, bob is not.
useradd -m -s /bin/bash -G memalloc alice && useradd -m -s /bin/bash bob ||
	notok "useradd alice and bob"

# Pinned memory counts against RLIMIT_MEMLOCK, whatever the system's default
# (systemd's: an eighth of the memory on Debian 12, 8 MiB on Debian 13):
# within it a group member pins, over it the message names the limit, and
# a limits.d entry, the administrator's way, gives more.
memlock=$(as alice 'ulimit -l')
echo "# alice's RLIMIT_MEMLOCK by default: $memlock KiB"
check "alice (group memalloc): memalloc alloc 4M --pinned" \
	as alice 'memalloc alloc 4M --pinned'
over_limit() {
	local out
	out=$(as alice "memalloc alloc $1 --pinned" 2>&1) && { echo "$out"; return 1; }
	echo "$out"
	echo "$out" | grep -q 'RLIMIT_MEMLOCK'
}
if [ "$memlock" != unlimited ]; then
	over=$((memlock / 1024 + 4))M
	check "alice: $over --pinned, over RLIMIT_MEMLOCK, fails naming it" over_limit "$over"
	echo "alice - memlock $((memlock + 65536))" >/etc/security/limits.d/memalloc-test.conf
	check "alice, memlock 64M more in limits.d: memalloc alloc $over --pinned" \
		as alice "memalloc alloc $over --pinned"
else
	ok "alice: over RLIMIT_MEMLOCK fails naming it # SKIP memlock unlimited"
fi
check "alice: memalloc alloc 64M --pinned" as alice 'memalloc alloc 64M --pinned'

cat >/home/alice/prog.c <<'PROG'
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <memalloc.h>

int main(void)
{
	struct memalloc_ds_info info = { .size = sizeof(info) };
	struct memalloc_ds *ds;
	struct memalloc *ma;
	size_t len = 4 << 20, i;
	unsigned char *p;
	int ret;

	ret = memalloc_open(&ma);
	if (ret)
		return fprintf(stderr, "open: %s\n", memalloc_strerror(ret)), 1;
	ret = memalloc_alloc(ma, len, MEMALLOC_PINNED, 0, &ds);
	if (ret)
		return fprintf(stderr, "alloc: %s\n", memalloc_strerror(ret)), 1;
	ret = memalloc_ds_map(ds, 0, len, PROT_READ | PROT_WRITE, (void **)&p);
	if (ret)
		return fprintf(stderr, "map: %s\n", memalloc_strerror(ret)), 1;
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + 1);
	for (i = 0; i < len; i++)
		if (p[i] != (unsigned char)(i * 7 + 1))
			return fprintf(stderr, "byte %zu reads back wrong\n", i), 1;
	ret = memalloc_ds_info(ds, &info);
	if (ret || info.resident != len)
		return fprintf(stderr, "info: %s, resident %llu\n", memalloc_strerror(ret),
			       (unsigned long long)info.resident), 1;
	memalloc_ds_unmap(ds, p, len);
	memalloc_free(ma, ds);
	memalloc_close(ma);
	printf("libmemalloc %s: 4 MiB pinned, written and read back\n",
	       memalloc_version_string());
	return 0;
}
PROG
chown alice: /home/alice/prog.c
check "alice: a program built with pkg-config libmemalloc allocates, maps, writes, reads" \
	as alice 'gcc -Wall -Werror -o prog prog.c $(pkg-config --cflags --libs libmemalloc) &&
		ldd ./prog | grep "libmemalloc.so.1 => /" && ./prog'

outsider() {
	local out
	out=$(as bob 'memalloc alloc 4M' 2>&1) && { echo "$out"; return 1; }
	echo "$out"
	echo "$out" | grep -q 'access denied' && echo "$out" | grep -q 'memalloc group'
}
check "bob (not in the group): EACCES, told to ask for the group memalloc" outsider
check "bob cannot open /dev/memalloc, even to read" \
	as bob '! (exec 3</dev/memalloc) 2>/dev/null'

# --- Removal while a dataspace is held: removed, the module stays loaded.
gone() { # the files the packages had, and the DKMS tree
	local f left=0
	for f in /var/lib/dkms/memalloc /usr/src/memalloc-* \
		/lib/modules/*/updates/dkms/memalloc.ko* /usr/lib/modules-load.d/memalloc.conf \
		/lib/udev/rules.d/60-memalloc.rules /usr/lib/udev/rules.d/60-memalloc.rules \
		/usr/lib/sysusers.d/memalloc.conf /usr/bin/memalloc /usr/include/memalloc.h \
		/usr/include/memalloc /usr/include/l4re /usr/lib/*/libmemalloc* \
		/usr/lib/*/pkgconfig/libmemalloc.pc /usr/share/man/man1/memalloc.1* \
		/usr/share/doc/memalloc-* /usr/share/doc/libmemalloc*; do
		[ -e "$f" ] && { echo "left: $f"; left=1; }
	done
	# And every file dpkg -L listed after the installation.
	while read -r f; do
		[ -e "$f" ] && { echo "left: $f"; left=1; }
	done </root/memalloc-files
	[ -z "$(modinfo -n memalloc 2>/dev/null)" ] ||
		{ echo "modinfo finds $(modinfo -n memalloc)"; left=1; }
	return $left
}
not_installed() {
	local p bad=0
	for p in $pkgs; do
		if dpkg -L "$p" >/dev/null 2>&1; then
			echo "dpkg -L $p: $(dpkg-query -W -f='${Status}' "$p")"
			bad=1
		fi
	done
	return $bad
}

# setpriv execs the tool: $! is its pid, and SIGTERM reaches it.
setpriv --reuid=alice --regid=alice --init-groups memalloc alloc 4M --pinned --hold \
	>/tmp/hold.log 2>&1 &
holder=$!
for _ in $(seq 60); do grep -q holding /tmp/hold.log && break; sleep 1; done
grep -q holding /tmp/hold.log || { detail </tmp/hold.log; notok "alice holds a dataspace"; }
s=$SECONDS
check "apt-get remove of the packages while a dataspace is held" \
	apt-get remove -y $pkgs
echo "# apt-get remove took $((SECONDS - s)) s"
check "the module in use stays loaded, the dataspace's holder runs on" \
	sh -c "[ -e /sys/module/memalloc ] && kill -0 $holder"
kill "$holder"
wait "$holder"
check "the holder frees its dataspace and exits" test $? = 0
check "after remove: no file of the packages, no DKMS tree" gone
check "after remove: dpkg -L lists no package" not_installed

# --- Installed again over the module still loaded, then purged unused.
install_pkgs "apt-get install again, the removed version's module still loaded"
check "dkms status: installed again for $release" dkms_installed
s=$SECONDS
check "apt-get purge of the packages, the module unused" apt-get purge -y $pkgs
echo "# apt-get purge took $((SECONDS - s)) s"
check "the module unused is unloaded on removal" test ! -e /sys/module/memalloc
check "after purge: no file of the packages, no DKMS tree" gone
check "after purge: dpkg -L lists no package" not_installed
echo "# group memalloc after purge: $(getent group memalloc || echo none)"
echo "# the guest's tests took $((SECONDS - t0)) s"
