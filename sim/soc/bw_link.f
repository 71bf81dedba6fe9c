// The RTL sources of the host link bw_link in compile order (packages first), one per line,
// relative to the repository root; read by test/sim/link.test.ts (and usable as
// `verilator -f sim/soc/bw_link.f`). No generated package: the link does not depend on the
// array's parameters.
sim/soc/bw_crc16.sv
sim/soc/bw_uart_rx.sv
sim/soc/bw_uart_tx.sv
sim/soc/bw_link.sv
