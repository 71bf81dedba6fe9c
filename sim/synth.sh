#!/usr/bin/env bash
# Resource estimates of the RTL array with yosys (`make synth`): the PE alone, the PE
# grid with skew, column deskew and drain (bw_pe_array, 4x4, DRAIN 4) and the whole top at
# 2x2, each for Xilinx UltraScale+ (synth_xilinx -family xcup) and Lattice iCE40
# (synth_ice40), and on UltraScale+ the output unit with 4 rows x 4 lanes (bw_output_unit, the
# per-lane cost `compile --board` adds to each PE). Writes yosys `stat -json` reports and
# summary.{json,txt} into the output directory.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/synth}
mkdir -p "$OUT/hdr2x2"
node dist/host/array/write-headers.js "$OUT/hdr2x2" 2 2
SV=$(grep -v '^//' sim/bw_top.f | tr '\n' ' ')
# the generated package: every module's parameters default to its constants, so the
# blocks synthesised on their own (4x4) read one generated for that size
mkdir -p "$OUT/hdr4x4"
node dist/host/array/write-headers.js "$OUT/hdr4x4" 4 4
PKG="-I$OUT/hdr4x4 $OUT/hdr4x4/bitweave_array.svh"
declare -A FLOW=([xcup]="synth_xilinx -family xcup -flatten -noiopad -noclkbuf" [ice40]="synth_ice40 -dsp")
echo 4x4 > "$OUT/array_size.txt"
echo 2x2 > "$OUT/top_size.txt"
echo 4x4 > "$OUT/out_size.txt"
for t in xcup ice40; do
  echo "synth: $t PE"
  nice yosys -q -l "$OUT/pe_$t.log" -p "read_verilog -sv $PKG sim/bw_pe.sv; ${FLOW[$t]} -top bw_pe; tee -q -o $OUT/pe_$t.json stat -json" >/dev/null 2>&1
  echo "synth: $t array 4x4"
  nice yosys -q -l "$OUT/array_$t.log" -p "read_verilog -sv $PKG sim/bw_pe.sv sim/bw_pe_array.sv; chparam -set ROWS 4 -set COLS 4 -set DRAIN 4 bw_pe_array; ${FLOW[$t]} -top bw_pe_array; tee -q -o $OUT/array_$t.json stat -json" >/dev/null 2>&1
  if [ "$t" = xcup ]; then
    echo "synth: $t output unit 4 rows x 4 lanes"
    nice yosys -q -l "$OUT/out_$t.log" -p "read_verilog -sv $PKG sim/bw_row_unit.sv sim/bw_output_unit.sv; chparam -set ROWS 4 -set COLS 4 -set DRAIN 4 -set PDEPTH 64 -set MAX_OUT_BITS 2 bw_output_unit; ${FLOW[$t]} -top bw_output_unit; tee -q -o $OUT/out_$t.json stat -json" >/dev/null 2>&1
  fi
  echo "synth: $t top 2x2"
  nice yosys -q -l "$OUT/top_$t.log" -p "read_verilog -sv -I$OUT/hdr2x2 $OUT/hdr2x2/bitweave_array.svh $SV; chparam -set MAX_OUT_BITS 1 -set PDEPTH 64 -set TS 4 bw_top; ${FLOW[$t]} -top bw_top; tee -q -o $OUT/top_$t.json stat -json" >/dev/null 2>&1
done
node dist/host/array/resources.js "$OUT"
