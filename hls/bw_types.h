/*
 * Types, limits and small pure functions shared by the blocks of the HLS array.
 * Standard fixed-width types only, so the same source builds with plain g++ (C-simulation)
 * and with Vitis HLS. Array parameters and the descriptor layout come from the generated
 * bitweave_array.h (host/array/header.ts), never from constants written here.
 */
#ifndef BW_TYPES_H
#define BW_TYPES_H

#include <stdint.h>

#include "bitweave_array.h"

/* On-chip buffer bounds of one compute unit (BW_HLS_MAX_FM_WORDS, BW_HLS_MAX_KWORDS,
 * BW_HLS_MAX_OUT_C) and BW_MAX_BITS come from the generated header (host/array/limits.ts);
 * a build may override the buffer bounds with -D. A layer program that exceeds one is
 * refused before the kernel runs (host/array/descriptor.ts, and bw_hls_check in C). */

/* Large on-chip buffers. Under synthesis they are plain local arrays (BRAM / URAM); under
 * C-simulation they live in thread-local storage instead of a thread stack that could be
 * too small for them (the C ABI may run images on several threads). */
#ifdef __SYNTHESIS__
#define BW_BUFFER
#else
#define BW_BUFFER static thread_local
#endif

namespace bw {

typedef uint64_t word_t; /* one WORD-bit operand (BW_WORD = 64) */
typedef int32_t acc_t;   /* accumulator; the program never needs more than BW_ACC_BITS of it */

/* Population count of a 64-bit word as an adder tree of 4-bit LUT popcounts: no
 * multiplication, so synthesis cannot bind it to DSPs (the array has 2-3 per PE). */
inline uint32_t popcount4(uint32_t x) { return (x & 1) + ((x >> 1) & 1) + ((x >> 2) & 1) + ((x >> 3) & 1); }

inline uint32_t popcount64_tree(word_t x) {
  uint32_t s8[8];
#pragma HLS ARRAY_PARTITION variable = s8 complete
bytes:
  for (int i = 0; i < 8; i++) {
#pragma HLS UNROLL
    const uint32_t b = (uint32_t)(x >> (8 * i)) & 0xff;
    s8[i] = popcount4(b & 0xf) + popcount4(b >> 4);
  }
  return ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]));
}

/* The PEs' popcount: the adder tree under synthesis; in C-simulation the same count by
 * SWAR shifts and a multiply, 3x faster on a CPU (tb_pe_array checks the tree against it
 * and against the compiler's popcount). */
inline uint32_t popcount64(word_t x) {
#ifdef __SYNTHESIS__
  return popcount64_tree(x);
#else
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (uint32_t)((x * 0x0101010101010101ULL) >> 56);
#endif
}

/* Word j of a padded pixel's plane: pad_bit in the real channel bits, 0 in the tail. */
inline word_t pad_word(uint32_t pad_bit, uint32_t in_c, uint32_t j) {
  if (!pad_bit) return 0;
  uint32_t real = in_c - 64 * j; /* channels left from word j on */
  return real >= 64 ? ~(word_t)0 : (((word_t)1 << real) - 1);
}

}  // namespace bw

#endif
