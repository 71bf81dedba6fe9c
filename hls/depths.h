/*
 * Depths of the kernel's m_axi ports in 32/64-bit elements: the size of the arrays the C
 * test bench (tb/tb_kernel.cpp, run_hls.tcl's csim/cosim bench) passes, which C/RTL
 * co-simulation reads and writes (UG1399, INTERFACE pragma, "depth"). The pragmas in
 * bitweave_array.cpp and the bench both use these names (test/backends/hls-csim.test.ts checks).
 * program and params share the bundle gmem0 and therefore have the same options
 * (UG1448 message 200-466: ports of one bundle need the same latency, depth, outstanding).
 */
#ifndef BW_DEPTHS_H
#define BW_DEPTHS_H

#define BW_DEPTH_GMEM0 4096   /* program (uint32) and params (int32) */
#define BW_DEPTH_WEIGHTS 4096 /* weights (uint64) */
#define BW_DEPTH_ARENA 16384  /* arena (uint64): images * arena_words of the bench */

#endif
