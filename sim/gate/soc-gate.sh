#!/usr/bin/env bash
# The gate-level model of a dev board's SoC behind the pty harness (docs/ARCHITECTURE.md
# "Gate-level checks"):
#
#   sim/gate/soc-gate.sh BOARD OUT_DIR
#
# Builds the Verilator model of the netlist that `make bitstream BOARD=<board>` synthesised
# and nextpnr placed and routed (build/bitstream/<board>/netlist.v: written in the same yosys
# run as the JSON nextpnr read), with the ECP5 cell models (sim/gate/gate.sh) and the PLL as
# wires (the harness drives the clock the PLL would make), and links it with the SoC harness
# sim/soc/bw_soc_sim.cpp into OUT_DIR/bitweave-soc-gate, to be run like build/soc/bitweave-soc-sim
# (BITWEAVE_SOC_SIM=OUT_DIR/bitweave-soc-gate). The harness starts at the board's CLK_HZ / BAUD
# clocks per bit (from report.json's clock and the board's link baud; printed last) and follows
# BAUD, so a host can raise the rate to 4 clocks per bit for the bulk of the bytes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -eq 2 ] || { echo "usage: sim/gate/soc-gate.sh BOARD OUT_DIR" >&2; exit 2; }
BOARD=$1 OUT=$2
BIT=$ROOT/build/bitstream/$BOARD
case "$BOARD" in
  # the board top's ports: clock, reset (high = held), UART in, UART out, LEDs (bit 0 busy)
  ulx3s) TOP=bw_ulx3s PORTS=(clk_25mhz btn_fire1 ftdi_txd ftdi_rxd led) ;;
  *) echo "soc-gate: board '$BOARD' has no SoC top (ulx3s has)" >&2; exit 1 ;;
esac
for f in netlist.v report.json; do
  [ -f "$BIT/$f" ] || { echo "soc-gate: no $BIT/$f; run: make bitstream BOARD=$BOARD" >&2; exit 1; }
done
# CLK_HZ / BAUD of the build, and bw_soc's link timeout (its default: the board top sets none)
CPB=$(node -e '
  const r = require(process.argv[1]), b = require(process.argv[2]);
  const hz = Math.round(r.clock.clockMHz * 1e6), cpb = Math.floor(hz / b.link.baud);
  if (!(cpb >= 4)) { console.error("soc-gate: no whole clocks per bit"); process.exit(1); }
  console.log(cpb);' "$BIT/report.json" "$ROOT/boards/$BOARD.json")
TIMEOUT=$((1 << 20))
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# the model of this very netlist is built already: keep it (a build takes many minutes)
if cmp -s "$BIT/netlist.v" "$OUT/netlist.v" && [ -f "$OUT/obj/V${TOP}__ALL.a" ]; then
  echo "gate: $TOP model of this netlist is up to date ($OUT/obj)"
else
  "$ROOT/sim/gate/gate.sh" --pll-passthrough --netlist "$BIT/netlist.v" "$TOP" "$OUT"
fi
INC=$(verilator --getenv VERILATOR_ROOT)/include
RT=()
for n in verilated verilated_threads; do
  o=$ROOT/build/rtl/vl/$n.o
  if [ ! -f "$o" ]; then
    o=$OUT/$n.o
    [ -f "$o" ] || nice g++ -O2 -fPIC -std=c++17 -I"$INC" -I"$INC/vltstd" -c "$INC/$n.cpp" -o "$o"
  fi
  RT+=("$o")
done
nice g++ -O2 -std=c++17 -I"$INC" -I"$INC/vltstd" -I"$OUT/obj" \
  -DBW_SOC_MODEL="V$TOP" -DBW_SOC_HEADER="\"V$TOP.h\"" -DBW_SOC_TRACE=0 \
  -DBW_PORT_CLK="${PORTS[0]}" -DBW_PORT_RST="${PORTS[1]}" -DBW_PORT_RX="${PORTS[2]}" -DBW_PORT_TX="${PORTS[3]}" -DBW_PORT_LED="${PORTS[4]}" \
  -DBW_SOC_CLKS_PER_BIT="$CPB" -DBW_SOC_TIMEOUT="$TIMEOUT" \
  -o "$OUT/bitweave-soc-gate" "$ROOT/sim/soc/bw_soc_sim.cpp" "$OUT/obj/V${TOP}__ALL.a" "${RT[@]}" -lpthread
echo "clocks-per-bit $CPB"
