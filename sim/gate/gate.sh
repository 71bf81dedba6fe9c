#!/usr/bin/env bash
# Gate-level Verilator models of yosys ECP5 netlists (docs/ARCHITECTURE.md "Gate-level checks").
#
#   sim/gate/gate.sh [options] TOP OUT_DIR [SOURCE...]
#
# Synthesises module TOP from the sources with yosys `synth_ecp5` (flattened), writes the
# netlist (OUT_DIR/netlist.json, the input of nextpnr-ecp5, and OUT_DIR/netlist.v from the same
# design in memory, `write_verilog -noattr`), and builds a Verilator model of netlist.v with
# the ECP5 cell models: yosys's own (cells_sim.v, cells_ff.vh, cells_io.vh from its data
# directory) and ours where yosys has none (sim/gate/cells: DP16KD, MULT18X18D). The model's
# class is V<TOP> with the top's ports exactly as in the RTL, so a C++ harness written for
# the RTL model compiles unchanged against it: include "V<TOP>.h" from OUT_DIR/obj and link
# OUT_DIR/obj/V<TOP>__ALL.a plus the Verilator runtime (verilated.o, verilated_threads.o).
#
# Options:
#   -f LIST            sources listed in LIST (one per line, // comments, relative to the repo
#                      root), read after the SOURCEs
#   -I DIR             include directory (yosys and Verilator)
#   -D NAME[=VALUE]    preprocessor define (yosys and Verilator)
#   -G NAME=VALUE      parameter of TOP (yosys chparam; Verilator -G with --rtl)
#   --nodsp            synth_ecp5 -nodsp (multipliers in LUTs instead of MULT18X18D)
#   --synth "ARGS"     more synth_ecp5 arguments
#   --netlist FILE     skip synthesis: build the model of this yosys netlist (.v, written with
#                      `splitnets` as below, e.g. an edited copy of an OUT_DIR/netlist.v)
#   --rtl              build the Verilator model of the sources themselves, with the same
#                      flags and prefix handling (the reference side of a lockstep check)
#   --prefix NAME      Verilator --prefix (default V<TOP>); two models in one binary need two
#   --trace            Verilator --trace-fst
#   --pll-passthrough  EHXPLLL as wires (sim/gate/cells/passthrough), only where the PLL is
#                      outside what is checked
#   --no-build         stop after the netlist
# Environment: YOSYS_DATDIR (default `yosys-config --datdir`, else <yosys prefix>/share/yosys).
# Prints one line of timings: "gate: TOP synth S s, verilator build S s, cells ...".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GATE=$ROOT/sim/gate

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }
SRC=() LST=() INC=() DEF=() PAR=() SYNTH_EXTRA="" NODSP="" NETLIST="" RTL=0 PREFIX="" TRACE="" PLL=0 BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    -f) while IFS= read -r l; do l=${l%%//*}; l=$(echo "$l" | xargs); [ -n "$l" ] && LST+=("$ROOT/$l"); done < "$2"; shift 2 ;;
    -I) INC+=("$2"); shift 2 ;;
    -D) DEF+=("$2"); shift 2 ;;
    -G) PAR+=("$2"); shift 2 ;;
    --nodsp) NODSP=-nodsp; shift ;;
    --synth) SYNTH_EXTRA=$2; shift 2 ;;
    --netlist) NETLIST=$2; shift 2 ;;
    --rtl) RTL=1; shift ;;
    --prefix) PREFIX=$2; shift 2 ;;
    --trace) TRACE=--trace-fst; shift ;;
    --pll-passthrough) PLL=1; shift ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) usage ;;
    -*) echo "gate.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || usage
TOP=$1 OUT=$2
shift 2
# the sources named on the command line (e.g. a generated package) come before the list's
SRC+=("$@")
SRC+=("${LST[@]}")
PREFIX=${PREFIX:-V$TOP}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

if [ -z "${YOSYS_DATDIR:-}" ]; then
  YOSYS_DATDIR=$(yosys-config --datdir 2>/dev/null || echo "$(dirname "$(command -v yosys)")/../share/yosys")
fi
ECP5=$YOSYS_DATDIR/ecp5
[ -f "$ECP5/cells_sim.v" ] || { echo "gate.sh: no ECP5 cell models in $ECP5 (set YOSYS_DATDIR)" >&2; exit 1; }

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# ---- the netlist ----------------------------------------------------------------------
T_SYNTH=0
if [ "$RTL" = 0 ] && [ -z "$NETLIST" ]; then
  [ ${#SRC[@]} -gt 0 ] || { echo "gate.sh: no sources" >&2; exit 2; }
  RD="read_verilog -sv"
  for i in "${INC[@]}"; do RD+=" -I$i"; done
  for d in "${DEF[@]}"; do RD+=" -D$d"; done
  CH=""
  for p in "${PAR[@]}"; do CH+=" -set ${p%%=*} ${p#*=}"; done
  [ -n "$CH" ] && CH="chparam$CH $TOP;"
  t0=$(now)
  nice yosys -q -l "$OUT/synth.log" -p "$RD ${SRC[*]}; $CH synth_ecp5 -top $TOP $NODSP $SYNTH_EXTRA; rename -top $TOP; splitnets; \
    write_json $OUT/netlist.json; write_verilog -noattr $OUT/netlist.v; tee -q -o $OUT/stat.txt stat" >/dev/null 2>&1 \
    || { echo "gate.sh: yosys failed, see $OUT/synth.log" >&2; exit 1; }
  T_SYNTH=$(secs "$t0" "$(now)")
  NETLIST=$OUT/netlist.v
fi

# the cell census of the netlist: "TYPE COUNT" per line
if [ "$RTL" = 0 ]; then
  [ -f "$NETLIST" ] || { echo "gate.sh: no netlist $NETLIST" >&2; exit 1; }
  if [ "$NETLIST" != "$OUT/netlist.v" ]; then cp "$NETLIST" "$OUT/netlist.v"; NETLIST=$OUT/netlist.v; fi
  grep -oE '^  [A-Za-z_][A-Za-z0-9_$]* ' "$NETLIST" | sed 's/^ *//; s/ *$//' | grep -vE '^(wire|reg|input|output|inout|assign|parameter|localparam)$' \
    | sort | uniq -c | awk '{ print $2, $1 }' > "$OUT/cells.txt"
fi
[ "$BUILD" = 1 ] || { echo "gate: $TOP ($PREFIX) synth ${T_SYNTH} s, cells $(tr '\n' ' ' < "$OUT/cells.txt")"; exit 0; }

# ---- the cell library -------------------------------------------------------------------
# yosys's models minus those we replace (its DP16KD is a parameter-only black box)
LIB=()
if [ "$RTL" = 0 ]; then
  OURS=("$GATE"/cells/*.v)
  [ "$PLL" = 1 ] && OURS+=("$GATE"/cells/passthrough/*.v)
  REPLACED=$(grep -hoE '^module [A-Za-z0-9_]+' "${OURS[@]}" | awk '{ print $2 }' | sort -u | tr '\n' ' ')
  awk -v skip=" $REPLACED" '
    /^(\(\*.*\*\) *)?module / { name = $0; sub(/^.*module +/, "", name); sub(/[ (#;].*$/, "", name); drop = index(skip, " " name " ") > 0 }
    /^\(\* *blackbox *\*\) *$/ { held = $0; next }
    { if (!drop) { if (held != "") print held; print } held = ""; if ($0 ~ /^endmodule/) drop = 0 }
  ' "$ECP5/cells_sim.v" > "$OUT/ecp5_cells_sim.v"
  LIB=("$OUT/ecp5_cells_sim.v" "${OURS[@]}")
  # every cell of the netlist needs a model: name the missing ones (black boxes: cells_bb.v)
  KNOWN=" $(cat "${LIB[@]}" "$ECP5/cells_ff.vh" "$ECP5/cells_io.vh" | grep -oE '^ *(\(\*.*\*\) *)?module +[A-Za-z0-9_]+' | awk '{ print $NF }' | tr '\n' ' ') "
  MISSING=""
  while read -r cell _; do case "$KNOWN" in *" $cell "*) ;; *) MISSING+=" $cell" ;; esac; done < "$OUT/cells.txt"
  if [ -n "$MISSING" ]; then
    echo "gate.sh: no simulation model for:$MISSING (yosys 0.23 ships them as black boxes; see sim/gate/cells," \
         "--nodsp for MULT18X18D, --pll-passthrough for EHXPLLL)" >&2
    exit 1
  fi
fi

# ---- the Verilator model ------------------------------------------------------------------
VFLAGS=(--cc -O3 --x-assign fast --x-initial fast --noassert -Wno-fatal --top-module "$TOP" --prefix "$PREFIX" -Mdir "$OUT/obj")
[ -n "$TRACE" ] && VFLAGS+=("$TRACE")
for i in "${INC[@]}"; do VFLAGS+=("-I$i"); done
for d in "${DEF[@]}"; do VFLAGS+=("-D$d"); done
if [ "$RTL" = 1 ]; then
  for p in "${PAR[@]}"; do VFLAGS+=("-G$p"); done
  FILES=("${SRC[@]}")
else
  # the netlist: lint warnings of generated code are noise (UNOPTFLAT is checked below)
  VFLAGS+=(-Wno-lint -Wno-style -Wno-MULTIDRIVEN "-I$ECP5")
  FILES=("$NETLIST" "${LIB[@]}")
fi
t0=$(now)
rm -rf "$OUT/obj"
nice verilator "${VFLAGS[@]}" -CFLAGS "-fPIC -O2" --build -j 2 "${FILES[@]}" > "$OUT/verilator.log" 2>&1 \
  || { tail -20 "$OUT/verilator.log" >&2; echo "gate.sh: verilator failed, see $OUT/verilator.log" >&2; exit 1; }
T_BUILD=$(secs "$t0" "$(now)")
# Verilator orders logic per variable, not per bit: a vector whose bits feed each other
# through cells (a carry chain's COUT vector, a LUT tree) is a combinational loop to it
# (UNOPTFLAT), and Verilator 5.006 then computes wrong values in some cycles (seen on bw_pe:
# off-by-one accumulator sums). `splitnets` above gives every netlist bit its own wire, so
# a netlist model must show none.
if [ "$RTL" = 0 ] && grep -q UNOPTFLAT "$OUT/verilator.log"; then
  grep -A1 UNOPTFLAT "$OUT/verilator.log" | head -6 >&2
  echo "gate.sh: the netlist still has word-level combinational loops (UNOPTFLAT, above); its model cannot be trusted" >&2
  exit 1
fi
if [ "$RTL" = 1 ]; then
  echo "gate: $TOP RTL model $PREFIX, verilator build ${T_BUILD} s"
else
  echo "gate: $TOP ($PREFIX) synth ${T_SYNTH} s, verilator build ${T_BUILD} s, cells $(tr '\n' ' ' < "$OUT/cells.txt")"
fi
