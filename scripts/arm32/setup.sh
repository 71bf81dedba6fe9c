#!/usr/bin/env bash
# Prepares a 32-bit ARM (armhf) userland in .arm32/ (git-ignored) so the OpenCL host runtime
# can be run the way a DE10-Nano's Cortex-A9 runs it: Debian's armhf Node, ocl-icd and PoCL,
# executed by qemu-user on this machine. Nothing outside .arm32/ is changed except installing
# qemu-user (as root) when qemu-arm is missing: the armhf packages are fetched with a private
# apt configuration (no `dpkg --add-architecture`) and unpacked with `dpkg -x`, not installed.
# koffi's armhf prebuild (@koromix/koffi-linux-arm, same version as the installed koffi) goes
# into .arm32/node_modules with a private copy of koffi, leaving the shared node_modules alone.
# Re-running skips the steps already done; scripts/arm32/run.sh runs a command inside.
set -euo pipefail
cd "$(dirname "$0")/../.."

ENV_DIR=.arm32
SUITE="${BITWEAVE_ARM32_SUITE:-bookworm}"
MIRROR="${BITWEAVE_ARM32_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${BITWEAVE_ARM32_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# What the OpenCL path needs at run time (binutils and libc6-dev: the linker PoCL runs for
# every kernel, and what it links); apt adds the dependency closure.
ROOT_PACKAGES=(nodejs pocl-opencl-icd ocl-icd-libopencl1 libc6 libstdc++6 binutils libc6-dev)

say() { echo "bitweave arm32: $*"; }
start=$(date +%s)

if ! command -v qemu-arm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bitweave arm32: qemu-arm is missing; run: sudo apt-get install -y --no-install-recommends qemu-user" >&2
    exit 1
  fi
  say "installing qemu-user"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user
fi
[ -r "$KEYRING" ] || { echo "bitweave arm32: $KEYRING missing (package debian-archive-keyring)" >&2; exit 1; }

mkdir -p "$ENV_DIR"
ENV_ABS="$(cd "$ENV_DIR" && pwd)"
APT_DIR="$ENV_ABS/apt"
SYSROOT="$ENV_ABS/sysroot"

# A private apt: its own sources, lists, cache and an empty dpkg status, armhf only.
mkdir -p "$APT_DIR/state/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/parts" "$APT_DIR/debs"
touch "$APT_DIR/state/status"
cat > "$APT_DIR/sources.list" <<LIST
deb [arch=armhf signed-by=$KEYRING] $MIRROR $SUITE main
deb [arch=armhf signed-by=$KEYRING] $MIRROR $SUITE-updates main
deb [arch=armhf signed-by=$KEYRING] $SECURITY_MIRROR $SUITE-security main
LIST
APT_OPTS=(
  -o "Dir::State=$APT_DIR/state" -o "Dir::State::status=$APT_DIR/state/status"
  -o "Dir::Cache=$APT_DIR/cache" -o "Dir::Etc::SourceList=$APT_DIR/sources.list"
  -o "Dir::Etc::SourceParts=$APT_DIR/parts" -o "Dir::Etc::PreferencesParts=$APT_DIR/parts"
  -o "Dir::Etc::Preferences=$APT_DIR/parts/none" -o "APT::Architecture=armhf"
  -o "APT::Architectures=armhf" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
)

if [ ! -f "$SYSROOT/.bitweave-complete" ]; then
  say "fetching the armhf package lists ($SUITE)"
  apt-get "${APT_OPTS[@]}" -qq update
  # Depends and Pre-Depends only; virtual names (<...>) are dropped, their providers are listed.
  mapfile -t closure < <(apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests \
      --no-conflicts --no-breaks --no-replaces --no-enhances "${ROOT_PACKAGES[@]}" | grep -E '^[a-z0-9]' | sort -u)
  say "downloading ${#closure[@]} armhf packages"
  (cd "$APT_DIR/debs" && apt-get "${APT_OPTS[@]}" -qq download "${closure[@]}")
  say "unpacking into $ENV_DIR/sysroot"
  rm -rf "$SYSROOT" && mkdir -p "$SYSROOT"
  for deb in "$APT_DIR"/debs/*.deb; do dpkg -x "$deb" "$SYSROOT"; done
  # usrmerge is a maintainer-script job that dpkg -x skips; the loader is looked up as /lib/...
  for d in lib bin sbin; do
    if [ -d "$SYSROOT/$d" ] && [ ! -L "$SYSROOT/$d" ]; then
      cp -a "$SYSROOT/$d/." "$SYSROOT/usr/$d/" && rm -rf "${SYSROOT:?}/$d"
    fi
    [ -e "$SYSROOT/$d" ] || ln -s "usr/$d" "$SYSROOT/$d"
  done
  touch "$SYSROOT/.bitweave-complete"
fi

# The ICD file and the linker script below name this checkout's absolute path, so every run
# rewrites them.
#
# The ICD file run.sh points ocl-icd at. It names libpocl by its path on this machine, not
# the guest's /usr/lib/...: PoCL finds its headers relative to its own file, and clang
# stat()s them with statx, which qemu-arm 7.2 does not redirect into the -L sysroot (open
# is redirected); a path that exists as-is on the host satisfies both.
echo "$SYSROOT/usr/lib/arm-linux-gnueabihf/libpocl.so.2" > "$ENV_ABS/pocl.icd"
# PoCL links each kernel into a .so by running the linker named for its target triple. A
# process under qemu-user cannot exec an ARM binary without binfmt_misc (which containers
# lack), so this host script runs the sysroot's armhf ld under qemu-arm instead; run.sh puts
# it first on PATH. clang also stat()s its way to the GCC install, untranslated (see
# above), so the libgcc and libc folders it would have added are given here.
gcc_dir="$(ls -d "$SYSROOT"/usr/lib/gcc/arm-linux-gnueabihf/*/ | head -1)"
gcc_dir="/${gcc_dir#"$SYSROOT"/}"
mkdir -p "$ENV_ABS/bin"
cat > "$ENV_ABS/bin/armv7-unknown-linux-gnueabihf-ld" <<LD
#!/bin/sh
exec qemu-arm -L "$SYSROOT" "$SYSROOT/usr/bin/arm-linux-gnueabihf-ld" "\$@" -L${gcc_dir%/} -L/usr/lib/arm-linux-gnueabihf
LD
chmod +x "$ENV_ABS/bin/armv7-unknown-linux-gnueabihf-ld"

# koffi for armhf: a private copy of the installed koffi next to its armhf prebuild, so
# require('koffi') from .arm32/node_modules loads linux_armhf/koffi.node.
KOFFI_VERSION="$(node -p "require('./node_modules/koffi/package.json').version")"
if [ "$(cat "$ENV_DIR/node_modules/.bitweave-koffi" 2>/dev/null)" != "$KOFFI_VERSION" ]; then
  say "fetching @koromix/koffi-linux-arm@$KOFFI_VERSION"
  rm -rf "$ENV_DIR/node_modules" && mkdir -p "$ENV_DIR/node_modules/@koromix/koffi-linux-arm" "$ENV_DIR/pack"
  cp -a node_modules/koffi "$ENV_DIR/node_modules/koffi"
  tarball="$(cd "$ENV_DIR/pack" && npm pack --silent "@koromix/koffi-linux-arm@$KOFFI_VERSION")"
  tar -xzf "$ENV_DIR/pack/$tarball" -C "$ENV_DIR/node_modules/@koromix/koffi-linux-arm" --strip-components=1
  echo "$KOFFI_VERSION" > "$ENV_DIR/node_modules/.bitweave-koffi"
fi

say "ready in $(( $(date +%s) - start ))s; $(du -sh "$ENV_DIR" | cut -f1) in $ENV_DIR ($(du -sh "$SYSROOT" | cut -f1) sysroot)"
scripts/arm32/run.sh node --version
