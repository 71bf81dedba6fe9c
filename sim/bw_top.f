// The RTL sources of bw_top in compile order (packages first), one per line, relative to
// the repository root; read by the Makefile, sim/synth.sh and the tests (and usable as
// `verilator -f sim/bw_top.f`). The generated package bitweave_array.svh comes first.
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
