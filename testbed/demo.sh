#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo in a guest of Debian's stock kernel: load memalloc and show, with
# the memalloc tool, what it hands out.
set -eo pipefail
. "$(dirname "$0")/common.sh"

deps || exit 1
b=$TOP/build/demo
rm -rf "$b" && mkdir -p "$b/payload"
ko=$(build_module "/lib/modules/$STOCK_RELEASE/build" "$b/src")
cp "$ko" "$b/payload/"
make -s -C "$TOP/tools" >/dev/null
cp "$TOP/tools/memalloc" "$TOP/tools/demo.sh" "$b/payload/"
cat >"$b/payload/run" <<'RUN'
insmod /opt/memalloc/memalloc.ko && echo "# insmod memalloc.ko" && echo
MEMALLOC_TOOL=/opt/memalloc/memalloc sh /opt/memalloc/demo.sh
rmmod memalloc && echo "# rmmod memalloc"
RUN
rc=0
GUEST_TIMEOUT=600 "$TOP/testbed/guest.sh" "/boot/vmlinuz-$STOCK_RELEASE" "$b/payload" "$b" || rc=$?
grep -v '^@@' "$b/results.log"
[ $rc = 0 ] || die "the guest did not finish (exit $rc); its console is in $b/console.log"
