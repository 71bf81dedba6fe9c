#!/usr/bin/env bash
# Logic depth of the RTL (`make sta`): yosys `synth_xilinx -family xcup -abc9` of a top, then
# yosys' static timing analysis (`sta`) with the delays of yosys' Xilinx cell library. Those
# delays are Artix-7 figures (prjxray's timing database, cited in the library) and cover
# cells only, no routing: the report names the longest register-to-register path and its
# logic levels, which is what pipelining changes; it is not a timing closure for any part.
#   sim/sta.sh [OUT] [TOP] [ROWS] [COLS]    TOP: bw_top (the kernel's build) | bw_axi_kernel
# Writes OUT/sta-TOP.log and OUT/sta-TOP.json.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/sta}
TOP=${2:-bw_top}
ROWS=${3:-4}
COLS=${4:-4}
if [ "$TOP" != bw_top ] && [ "$TOP" != bw_axi_kernel ]; then echo "sim/sta.sh: TOP must be bw_top or bw_axi_kernel" >&2; exit 1; fi
mkdir -p "$OUT/hdr"
node dist/host/array/write-headers.js "$OUT/hdr" "$ROWS" "$COLS" >/dev/null
PKG="-I$OUT/hdr $OUT/hdr/bitweave_array.svh"
SRC=$(grep -v '^//' sim/bw_top.f | tr '\n' ' ')
case "$TOP" in
  bw_top) PARAMS="chparam -set MAX_OUT_BITS 1 -set DRAIN 1 -set WIDE_WEIGHTS 1 bw_top" ;;
  bw_axi_kernel)
    SRC="$SRC $(grep -v '^//' sim/axi/bw_axi_kernel.f | tr '\n' ' ')"
    PARAMS="chparam -set DESC_DEPTH 512 -set PARAM_DEPTH 1024 -set WEIGHT_ROWS 1024 -set ARENA_WORDS 4096 bw_axi_kernel" ;;
esac
LOG="$OUT/sta-$TOP.log"
echo "sta: yosys synth_xilinx -family xcup -abc9, then sta: $TOP ${ROWS}x${COLS}"
nice yosys -q -l "$LOG" -p "read_verilog -sv $PKG $SRC; $PARAMS; synth_xilinx -family xcup -flatten -noiopad -noclkbuf -abc9 -top $TOP; read_verilog -lib -specify +/xilinx/cells_sim.v; sta" >/dev/null 2>&1
node - "$LOG" "$OUT/sta-$TOP.json" "$TOP" "${ROWS}x${COLS}" <<'EOF'
const fs = require('fs');
const [log, out, top, array] = process.argv.slice(2);
const lines = fs.readFileSync(log, 'utf8').split('\n');
const at = lines.findIndex((l) => /^Latest arrival time in /.test(l));
if (at < 0) { console.error(`sim/sta.sh: no 'Latest arrival time' in ${log}`); process.exit(1); }
const latestPs = Number(/is (\d+):/.exec(lines[at])[1]);
// the path, from its end back to the clock: "<ps> <cell> (<TYPE>.<pin>-><pin>)" then the net
const path = [];
// (an endpoint yosys has no timing for, such as a DSP input, shows as "(<unknown>)" with a warning)
let unknownEnd = false;
for (let i = at + 1; i < lines.length; i++) {
  if (/^Warning: Critical-path/.test(lines[i])) continue;
  if (/^\s+\d+ \(<unknown>\)/.test(lines[i])) { unknownEnd = true; continue; }
  const m = /^\s+(\d+) (\S+) \((\w+)\.([^)]*)\)/.exec(lines[i]);
  if (!m) { if (/primary input/.test(lines[i]) || !/^\s/.test(lines[i])) break; continue; }
  path.push({ ps: Number(m[1]), type: m[3], pin: m[4], net: (lines[i + 1] || '').trim() });
}
path.reverse();
// logic levels: LUTs and muxes one each, a run of carry cells one
let luts = 0, carries = 0;
path.forEach((c, k) => {
  if (/^(LUT\d|MUXF\d)$/.test(c.type)) luts++;
  if (/^CARRY\d$/.test(c.type) && !(k > 0 && /^CARRY\d$/.test(path[k - 1].type))) carries++;
});
// where the path runs: the hierarchy names its nets carry
const where = [...new Set(path.map((c) => (/\\?([a-z_]+[a-z0-9_]*)\./i.exec(c.net.replace(/^\$[^ ]*\$/, '')) || [])[1]).filter(Boolean))];
const r = { top, array, delays: 'Artix-7 cell delays of yosys xilinx/cells_sim.v (no routing)', latestPs, unknownEnd, levels: { lut: luts, carryChains: carries, total: luts + carries }, start: path[0] && path[0].type, end: lines[at + 1].trim(), through: where, path };
fs.writeFileSync(out, JSON.stringify(r, null, 2) + '\n');
console.log(JSON.stringify({ top, array, latestPs, unknownEnd, levels: r.levels, start: r.start, through: where }));
EOF
