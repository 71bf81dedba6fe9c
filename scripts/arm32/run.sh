#!/usr/bin/env bash
# Runs a command of the armhf userland prepared by scripts/arm32/setup.sh under qemu-user,
# e.g. `scripts/arm32/run.sh node dist/test/...`. `node` is Debian's armhf Node; it resolves
# require('koffi') to .arm32/node_modules/koffi (the armhf prebuild) through a preload, every
# other module from the project's node_modules. The OpenCL loader finds the sysroot's PoCL.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SYSROOT="$ROOT/.arm32/sysroot"
if [ ! -f "$SYSROOT/.bitweave-complete" ]; then
  echo "bitweave arm32: no armhf environment in .arm32/; run: make arm32" >&2
  exit 2
fi
cmd="$1"; shift
case "$cmd" in
  node) set -- "$SYSROOT/usr/bin/node" -r "$ROOT/scripts/arm32/koffi-armhf.cjs" "$@" ;;
  /*) set -- "$SYSROOT$cmd" "$@" ;;
  *) set -- "$SYSROOT/usr/bin/$cmd" "$@" ;;
esac
export BITWEAVE_ARM32_KOFFI="$ROOT/.arm32/node_modules/koffi"
# One ICD file (written by setup.sh), not a folder: ocl-icd is built without large-file support, and
# readdir() of a 64-bit host's ext4 folder fails with EOVERFLOW under qemu-arm (64-bit
# directory cookies), so the loader would list no platform (CL_PLATFORM_NOT_FOUND_KHR).
export OCL_ICD_VENDORS="$ROOT/.arm32/pocl.icd"
# PoCL's kernel cache: per environment, so armhf binaries never meet the host's amd64 cache.
export POCL_CACHE_DIR="$ROOT/.arm32/pocl-cache"
# PoCL's kernel linker (an armhf ld run by qemu-arm; see setup.sh)
export PATH="$ROOT/.arm32/bin:$PATH"
exec qemu-arm -L "$SYSROOT" "$@"
