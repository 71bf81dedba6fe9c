// The RTL sources of the iCEBreaker bitstream (bw_ice40_selftest, boards/icebreaker.json
// flow.sources), in compile order, relative to the repository root; the generated package
// bitweave_array.svh comes first.
sim/bw_pe.sv
sim/bw_pe_array.sv
sim/ice40/bw_ice40_selftest.sv
