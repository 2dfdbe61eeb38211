#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Show a person what memalloc does. Needs /dev/memalloc (the module loaded)
# and the memalloc tool (MEMALLOC_TOOL, default: tools/memalloc beside this).
tool=${MEMALLOC_TOOL:-$(dirname "$0")/memalloc}

run() {
	echo "\$ memalloc $*"
	"$tool" "$@"
	echo
}

ls -l /dev/memalloc
echo
run info
run alloc 4096
run alloc 10000001
run alloc 64M
run alloc 1G
run alloc 16M --contiguous
run alloc 1M --pinned
run alloc 4M --super-pages
run alloc 4M --super-pages --pinned
run alloc 1M --pinned --write-combine
run alloc 256M --contiguous --align 30
run alloc 4M --super-pages --contiguous
run alloc 0
run alloc 4K --align 40
run alloc 3M --quota 2M
run alloc 1500K --quota 2M

# Dataspaces held by two processes, as the administrator sees them.
hold() { # SIZE OPTION...: a process holding a dataspace, once it holds it
	out=$(mktemp)
	"$tool" alloc "$@" --hold >"$out" &
	held="$held $!"
	while ! grep -q '^pattern:' "$out" && kill -0 $! 2>/dev/null; do
		sleep 0.2
	done
	rm -f "$out"
}
hold 16M --contiguous
hold 4M --super-pages --pinned
run list
run stats
# shellcheck disable=SC2086
kill -INT $held
wait
