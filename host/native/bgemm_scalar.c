/*
 * Scalar micro-kernels, 2 rows x 4 columns of accumulators per inner loop: one built for
 * the POPCNT instruction (target attribute; called only when cpuid reports it), one
 * portable (SWAR count, for baseline x86-64 without POPCNT). Plus the portable packer.
 */
#include "bgemm_internal.h"

static inline __attribute__((always_inline)) int swar_popcount(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (int)((x * 0x0101010101010101ull) >> 56);
}

/* popcount(a ^ b) (XNOR: complemented at store) or popcount(a & b) */
#define COMBINE(mode, a, b) ((mode) == BW_MODE_XNOR ? ((a) ^ (b)) : ((a) & (b)))

/* POP is a macro so each instantiation picks its own count (instruction or SWAR). */
#define SCALAR_KERNEL(NAME, ATTR, POP)                                                               \
  ATTR void NAME(int mode, int mr, int kc, const uint64_t *Ap, const uint64_t *Bp, int32_t *C, long ldc, \
                 int ncols, int accumulate) {                                                        \
    for (int i = 0; i < mr; i += 2) {                                                                 \
      int two = i + 1 < mr;                                                                           \
      const uint64_t *a = Ap + i, *a1 = two ? a + 1 : a;                                             \
      int64_t cnt0[BW_NR], cnt1[BW_NR];                                                               \
      for (int j = 0; j < ncols; j += 4) {                                                            \
        int64_t s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;               \
        const uint64_t *b = Bp + j;                                                                   \
        for (int k = 0; k < kc; k++, b += BW_NR) {                                                    \
          uint64_t x = a[k * BW_MR], y = a1[k * BW_MR];                                               \
          s00 += POP(COMBINE(mode, x, b[0]));                                                         \
          s01 += POP(COMBINE(mode, x, b[1]));                                                         \
          s02 += POP(COMBINE(mode, x, b[2]));                                                         \
          s03 += POP(COMBINE(mode, x, b[3]));                                                         \
          s10 += POP(COMBINE(mode, y, b[0]));                                                         \
          s11 += POP(COMBINE(mode, y, b[1]));                                                         \
          s12 += POP(COMBINE(mode, y, b[2]));                                                         \
          s13 += POP(COMBINE(mode, y, b[3]));                                                         \
        }                                                                                             \
        cnt0[j] = s00, cnt0[j + 1] = s01, cnt0[j + 2] = s02, cnt0[j + 3] = s03;                       \
        cnt1[j] = s10, cnt1[j + 1] = s11, cnt1[j + 2] = s12, cnt1[j + 3] = s13;                       \
      }                                                                                               \
      bw_store_row(mode, kc, cnt0, C + i * ldc, ncols, accumulate);                                   \
      if (two) bw_store_row(mode, kc, cnt1, C + (i + 1) * ldc, ncols, accumulate);                    \
    }                                                                                                 \
  }

SCALAR_KERNEL(bw_ukernel_generic, , swar_popcount)
SCALAR_KERNEL(bw_ukernel_popcnt, __attribute__((target("popcnt"))), __builtin_popcountll)

void bw_pack_panel_generic(int nrows, int kc, const uint64_t *B, long ldb, uint64_t *Bp) {
  for (int k = 0; k < kc; k++) {
    int j = 0;
    for (; j < nrows; j++) Bp[k * BW_NR + j] = B[j * ldb + k];
    for (; j < BW_NR; j++) Bp[k * BW_NR + j] = 0;
  }
}
