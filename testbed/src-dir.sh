#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the directory of Debian's linux-source-SERIES (6.1 unless given),
# extracted once into the cache. Usage: src-dir.sh [SERIES]
set -eo pipefail
. "$(dirname "$0")/common.sh"
deps >&2 || exit 1
src_dir "$@"
