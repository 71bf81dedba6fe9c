// The RTL sources of the ULX3S bitstream (bw_ulx3s, boards/ulx3s.json flow.sources) in
// compile order, one per line, relative to the repository root: the array (the files of
// sim/bw_top.f, in its order; a test checks they agree), the UART link, the SoC and the
// board top. The generated package bitweave_array.svh comes first; the ECP5 primitives
// (EHXPLLL) are yosys' (synth_ecp5).
sim/bw_pkg.sv
sim/bw_pe.sv
sim/bw_pe_array.sv
sim/bw_row_unit.sv
sim/bw_output_unit.sv
sim/bw_feeder.sv
sim/bw_weight_feeder.sv
sim/bw_layer.sv
sim/bw_param_load.sv
sim/bw_pixel_walker.sv
sim/bw_tile_ring.sv
sim/bw_sequencer.sv
sim/bw_top.sv
sim/soc/bw_crc16.sv
sim/soc/bw_uart_rx.sv
sim/soc/bw_uart_tx.sv
sim/soc/bw_link.sv
sim/soc/bw_soc.sv
sim/soc/ecp5/bw_ulx3s.sv
