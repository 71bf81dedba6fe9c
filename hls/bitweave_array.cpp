/*
 * bitweave_array: the Vitis HLS top function (one compute unit of the xnor-popcount array).
 * The signature is the fixed kernel ABI shared with opencl-kernels/ and the host: the host
 * reads it from this file (host/array/abi.ts) rather than from a copy.
 *
 * For each layer l it executes descriptor l over the batch of `images` images, image i at
 * arena + i*arena_words (IN_OFF / OUT_OFF in 64-bit words of one image's arena, W_OFF in
 * 64-bit words of weights, T_OFF / F_OFF in int32 entries of params), in the RTL array's
 * tile order (layer.h).
 *
 * m_axi depths: depths.h (the C test bench's array sizes, for co-simulation); pragma values
 * may be #define constants (UG1399, "Using #define with Pragma Directives").
 */
#include "bw_types.h"
#include "depths.h"
#include "sequencer.h"

extern "C" void bitweave_array(const uint32_t *program, uint32_t layers, const uint64_t *weights, const int32_t *params,
                               uint64_t *arena, uint32_t arena_words, uint32_t images) {
#pragma HLS INTERFACE m_axi port = program offset = slave bundle = gmem0 depth = BW_DEPTH_GMEM0
#pragma HLS INTERFACE m_axi port = params offset = slave bundle = gmem0 depth = BW_DEPTH_GMEM0
#pragma HLS INTERFACE m_axi port = weights offset = slave bundle = gmem1 depth = BW_DEPTH_WEIGHTS
#pragma HLS INTERFACE m_axi port = arena offset = slave bundle = gmem2 depth = BW_DEPTH_ARENA
#pragma HLS INTERFACE s_axilite port = program bundle = control
#pragma HLS INTERFACE s_axilite port = layers bundle = control
#pragma HLS INTERFACE s_axilite port = weights bundle = control
#pragma HLS INTERFACE s_axilite port = params bundle = control
#pragma HLS INTERFACE s_axilite port = arena bundle = control
#pragma HLS INTERFACE s_axilite port = arena_words bundle = control
#pragma HLS INTERFACE s_axilite port = images bundle = control
#pragma HLS INTERFACE s_axilite port = return bundle = control
  bw::run_program<BW_ROWS, BW_COLS, BW_HLS_MAX_FM_WORDS, BW_HLS_MAX_KWORDS, BW_HLS_MAX_OUT_C>(
      program, layers, weights, params, arena, arena_words, images);
}
