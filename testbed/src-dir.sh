#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the directory of Debian's linux-source-6.1, extracted once into the cache.
set -eo pipefail
. "$(dirname "$0")/common.sh"
deps >&2 || exit 1
src_dir
