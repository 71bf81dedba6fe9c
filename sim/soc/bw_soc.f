// the dev-board SoC around the array (after sim/bw_top.f): the UART link, then the SoC
sim/soc/bw_crc16.sv
sim/soc/bw_uart_rx.sv
sim/soc/bw_uart_tx.sv
sim/soc/bw_link.sv
sim/soc/bw_soc.sv
