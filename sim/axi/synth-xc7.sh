#!/usr/bin/env bash
# yosys (synth_xilinx -family xc7) figures of the RTL kernel behind AXI for a Zynq-7000 board
# (boards/pynq-z1.json): the kernel (bw_axi_kernel) at ROWS x COLS with 64-bit AXI masters (the
# width of the PS's HP ports) and the on-chip memory depths given, and the PE grid alone
# (bw_pe_array 4x4, the kernel's one-column drain) for a per-PE figure. Block RAMs are counted
# as yosys maps them (RAMB36E1 / RAMB18E1). Writes yosys `stat -json` reports and
# xc7-ROWSxCOLS.json into the output directory. Estimates of yosys' mapping, not Vivado.
#   sim/axi/synth-xc7.sh OUT ROWS COLS [DESC_DEPTH PARAM_DEPTH WEIGHT_ROWS ARENA_WORDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-build/synth-xc7}
ROWS=${2:-4}
COLS=${3:-4}
DESC=${4:-512}
PARAM=${5:-1024}
WROWS=${6:-1024}
ARENA=${7:-4096}
TAG="${ROWS}x${COLS}"
mkdir -p "$OUT/hdr-$TAG"
node dist/host/array/write-headers.js "$OUT/hdr-$TAG" "$ROWS" "$COLS"
PKG="-I$OUT/hdr-$TAG $OUT/hdr-$TAG/bitweave_array.svh"
TOP=$(grep -v '^//' sim/bw_top.f | tr '\n' ' ')
AXI=$(grep -v '^//' sim/axi/bw_axi_kernel.f | tr '\n' ' ')
FLOW="synth_xilinx -family xc7 -flatten -noiopad -noclkbuf"
MEMS="-set DATA_BITS 64 -set DESC_DEPTH $DESC -set PARAM_DEPTH $PARAM -set WEIGHT_ROWS $WROWS -set ARENA_WORDS $ARENA"
if [ ! -f "$OUT/grid.json" ]; then
  mkdir -p "$OUT/hdr4x4"
  node dist/host/array/write-headers.js "$OUT/hdr4x4" 4 4
  echo "synth: xc7 bw_pe_array 4x4 (DRAIN 1)"
  nice yosys -q -l "$OUT/grid.log" -p "read_verilog -sv -I$OUT/hdr4x4 $OUT/hdr4x4/bitweave_array.svh sim/bw_pe.sv sim/bw_pe_array.sv; chparam -set ROWS 4 -set COLS 4 -set DRAIN 1 bw_pe_array; $FLOW -top bw_pe_array; tee -q -o $OUT/grid.json stat -json" >/dev/null 2>&1
fi
echo "synth: xc7 bw_axi_kernel $TAG ($MEMS)"
nice yosys -q -l "$OUT/kernel-$TAG.log" -p "read_verilog -sv $PKG $TOP $AXI; chparam $MEMS bw_axi_kernel; $FLOW -top bw_axi_kernel; tee -q -o $OUT/kernel-$TAG.json stat -json" >/dev/null 2>&1
node -e '
const fs = require("fs"); const [out, tag, mems] = process.argv.slice(1);
const cells = (f) => { const j = JSON.parse(fs.readFileSync(out + "/" + f, "utf8")); const m = j.design ?? Object.values(j.modules)[0]; return m.num_cells_by_type ?? {}; };
const sum = (c, re) => Object.entries(c).filter(([k]) => re.test(k)).reduce((s, [, v]) => s + v, 0);
const lutram = { RAM32X1D: 2, RAM64X1D: 2, RAM128X1D: 4, RAM32M: 4, RAM64M: 4 };
const fig = (c) => ({ lut: sum(c, /^LUT[1-6]$/) + sum(c, /^SRL/) + Object.entries(lutram).reduce((s, [k, n]) => s + (c[k] ?? 0) * n, 0) + sum(c, /^RAM(32|64|128|256)X1S$/), ff: sum(c, /^FD[RSCP]E$/), carry: sum(c, /^CARRY/), bram36: sum(c, /^RAMB36/), bram18: sum(c, /^RAMB18/), dsp: sum(c, /^DSP/) });
const grid = fig(cells("grid.json")), kernel = fig(cells("kernel-" + tag + ".json"));
const r = { family: "xc7", array: tag, memories: mems, grid4x4: grid, kernel };
fs.writeFileSync(out + "/xc7-" + tag + ".json", JSON.stringify(r, null, 2) + "\n");
console.log(JSON.stringify(r));
' "$OUT" "$TAG" "$MEMS"
