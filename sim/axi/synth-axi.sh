#!/usr/bin/env bash
# yosys (synth_xilinx -family xcup) figures of the RTL kernel behind AXI beside the array's
# (`make synth-axi`): bw_top in the kernel's build (DRAIN 1, 1-bit outputs, wide weights) and
# the whole bw_axi_kernel at the same array size with small on-chip memories; the wrapper
# (control, DMA, memories' logic) is the difference. Block RAMs count separately. Writes
# yosys `stat -json` reports and axi.json into the output directory.
#   sim/axi/synth-axi.sh [OUT] [ROWS] [COLS]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-build/synth-axi}
ROWS=${2:-2}
COLS=${3:-2}
mkdir -p "$OUT/hdr"
node dist/host/array/write-headers.js "$OUT/hdr" "$ROWS" "$COLS"
PKG="-I$OUT/hdr $OUT/hdr/bitweave_array.svh"
TOP=$(grep -v '^//' sim/bw_top.f | tr '\n' ' ')
AXI=$(grep -v '^//' sim/axi/bw_axi_kernel.f | tr '\n' ' ')
FLOW="synth_xilinx -family xcup -flatten -noiopad -noclkbuf"
# small memories: the figures are of logic, not of how deep the buffers are
MEMS="-set DESC_DEPTH 512 -set PARAM_DEPTH 1024 -set WEIGHT_ROWS 1024 -set ARENA_WORDS 4096"
echo "synth: xcup bw_top ${ROWS}x${COLS} (the AXI kernel's build)"
nice yosys -q -l "$OUT/top.log" -p "read_verilog -sv $PKG $TOP; chparam -set MAX_OUT_BITS 1 -set DRAIN 1 -set WIDE_WEIGHTS 1 bw_top; $FLOW -top bw_top; tee -q -o $OUT/top.json stat -json" >/dev/null 2>&1
echo "synth: xcup bw_axi_kernel ${ROWS}x${COLS}"
nice yosys -q -l "$OUT/kernel.log" -p "read_verilog -sv $PKG $TOP $AXI; chparam $MEMS bw_axi_kernel; $FLOW -top bw_axi_kernel; tee -q -o $OUT/kernel.json stat -json" >/dev/null 2>&1
node -e '
const fs = require("fs"); const out = process.argv[1];
const cells = (f) => { const j = JSON.parse(fs.readFileSync(out + "/" + f, "utf8")); const m = j.design ?? Object.values(j.modules)[0]; return m.num_cells_by_type ?? {}; };
const sum = (c, re) => Object.entries(c).filter(([k]) => re.test(k)).reduce((s, [, v]) => s + v, 0);
const fig = (c) => ({ lut: sum(c, /^LUT[1-6]$/) + sum(c, /^SRL/) + sum(c, /^RAM(32|64|128|256)/), ff: sum(c, /^FD[RSCP]E$/), carry: sum(c, /^CARRY/), bram36: sum(c, /^RAMB36/), bram18: sum(c, /^RAMB18/), uram: sum(c, /^URAM/), dsp: sum(c, /^DSP/) });
const top = fig(cells("top.json")), kernel = fig(cells("kernel.json"));
const wrapper = Object.fromEntries(Object.keys(top).map((k) => [k, kernel[k] - top[k]]));
const r = { array: process.argv[2], top, kernel, wrapper };
fs.writeFileSync(out + "/axi.json", JSON.stringify(r, null, 2) + "\n");
console.log(JSON.stringify(r));
' "$OUT" "${ROWS}x${COLS}"
