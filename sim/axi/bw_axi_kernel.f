// the RTL kernel behind AXI (bw_axi_kernel): after sim/bw_top.f's files, in compile order
sim/axi/bw_axil_ctrl.sv
sim/axi/bw_axi_bursts.sv
sim/axi/bw_axi_rd.sv
sim/axi/bw_axi_wr.sv
sim/axi/bw_fifo.sv
sim/axi/bw_line_mem.sv
sim/axi/bw_arena_mem.sv
sim/axi/bw_axi_kernel.sv
