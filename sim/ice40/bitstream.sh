#!/usr/bin/env bash
# `make bitstream BOARD=icebreaker`: yosys -> nextpnr-ice40 -> icepack -> icetime for the
# PE array self-test (bw_ice40_selftest.sv) at the board's default array size, with the
# array package generated for that size. Writes <out>/bitweave_<board>.bin, the nextpnr
# report (Fmax) and the icetime timing report.
set -euo pipefail
cd "$(dirname "$0")/../.."
BOARD=${1:-icebreaker}
OUT=${2:-build/bitstream/$BOARD}
[ "$BOARD" = icebreaker ] || { echo "bitstream: only BOARD=icebreaker has an open flow (got '$BOARD')" >&2; exit 1; }
for tool in yosys nextpnr-ice40 icepack icetime; do
  command -v "$tool" >/dev/null || { echo "bitstream: $tool not found (make setup installs yosys, nextpnr-ice40, fpga-icestorm)" >&2; exit 1; }
done
read -r ROWS COLS < <(node -e "const b=require('./dist/host/boards').loadBoard('$BOARD'); console.log(b.defaultArray.rows, b.defaultArray.cols)")
mkdir -p "$OUT"
node dist/host/array/write-headers.js "$OUT" "$ROWS" "$COLS"
echo "bitstream: $BOARD, ${ROWS}x${COLS} PE array"
nice yosys -q -l "$OUT/yosys.log" -p "read_verilog -sv -I$OUT $OUT/bitweave_array.svh sim/bw_pe.sv sim/bw_pe_array.sv sim/ice40/bw_ice40_selftest.sv; synth_ice40 -top bw_ice40_selftest -json $OUT/design.json; tee -q -o $OUT/stat.json stat -json" >/dev/null 2>&1
nice nextpnr-ice40 --up5k --package sg48 --pcf sim/ice40/icebreaker.pcf --freq 12 --json "$OUT/design.json" --asc "$OUT/design.asc" \
  --report "$OUT/nextpnr-report.json" --seed 1 -l "$OUT/nextpnr.log" -q
icepack "$OUT/design.asc" "$OUT/bitweave_$BOARD.bin"
icetime -d up5k -P sg48 -p sim/ice40/icebreaker.pcf -t -r "$OUT/icetime.txt" "$OUT/design.asc" >/dev/null
node -e "
const r = require(require('path').resolve('$OUT/nextpnr-report.json'));
const fmax = Object.values(r.fmax)[0];
const u = r.utilization;
const s = { board: '$BOARD', array: '${ROWS}x${COLS}', bin: '$OUT/bitweave_$BOARD.bin', fmaxMHz: fmax.achieved, constraintMHz: fmax.constraint,
  lc: u.ICESTORM_LC, ram: u.ICESTORM_RAM, dsp: u.ICESTORM_DSP };
require('fs').writeFileSync('$OUT/summary.json', JSON.stringify(s, null, 2) + '\n');
console.log('bitstream: ' + s.bin + ' (' + u.ICESTORM_LC.used + '/' + u.ICESTORM_LC.available + ' LCs), nextpnr Fmax ' + fmax.achieved.toFixed(1) + ' MHz');
"
grep -E "^Total path delay" "$OUT/icetime.txt" | sed 's/^/bitstream: icetime /'
