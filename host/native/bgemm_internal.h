/*
 * Internals of the tiled binary GEMM (bgemm.c drives, bgemm_<isa>.c compute).
 *
 * Outer-product formulation: B is repacked, one panel of BW_NR rows at a time, so that
 * word k of panel rows j = 0..15 is contiguous (panel[k*BW_NR + j]). A micro-kernel then
 * broadcasts one A word and combines it with whole vectors of panel words: vector lanes are
 * distinct outputs, so there is no horizontal sum and no waste when kwords is not a
 * multiple of the vector width. Panel rows past N are zero and their outputs never stored.
 * A is repacked once per call likewise, in groups of BW_MR rows (Ap[k*BW_MR + i]), so a
 * micro-kernel reads one contiguous stream of A (one cache line per word k).
 */
#ifndef BITWEAVE_BGEMM_INTERNAL_H
#define BITWEAVE_BGEMM_INTERNAL_H

#include <stdint.h>

#define BW_NR 16 /* panel width (outputs per A row per micro-kernel call) */
#define BW_MR 8  /* max A rows per micro-kernel call */

enum { BW_MODE_XNOR = 0, BW_MODE_AND = 1 };

/*
 * C[i*ldc + j] (=|+=) f(A row i, panel column j) for i < mr (1..BW_MR), j < ncols (1..BW_NR),
 * over kc words: word k of A row i is Ap[k*BW_MR + i], of panel column j Bp[k*BW_NR + j]
 * (both 64-byte aligned). f = sum popcount(~(a ^ b)) (XNOR) or popcount(a & b) (AND).
 * accumulate: add to C instead of storing.
 */
typedef void (*bw_ukernel_fn)(int mode, int mr, int kc, const uint64_t *Ap, const uint64_t *Bp, int32_t *C,
                              long ldc, int ncols, int accumulate);

/* Copy B rows n < nrows (<= BW_NR), words k0..k0+kc, into a panel (rows >= nrows zero). */
typedef void (*bw_pack_fn)(int nrows, int kc, const uint64_t *B, long ldb, uint64_t *Bp);

void bw_ukernel_generic(int mode, int mr, int kc, const uint64_t *Ap, const uint64_t *Bp, int32_t *C, long ldc,
                        int ncols, int accumulate);
void bw_ukernel_popcnt(int mode, int mr, int kc, const uint64_t *Ap, const uint64_t *Bp, int32_t *C, long ldc,
                       int ncols, int accumulate);
void bw_ukernel_avx2(int mode, int mr, int kc, const uint64_t *Ap, const uint64_t *Bp, int32_t *C, long ldc,
                     int ncols, int accumulate);
void bw_ukernel_avx512(int mode, int mr, int kc, const uint64_t *Ap, const uint64_t *Bp, int32_t *C, long ldc,
                       int ncols, int accumulate);

void bw_pack_panel_generic(int nrows, int kc, const uint64_t *B, long ldb, uint64_t *Bp);
void bw_pack_panel_avx512(int nrows, int kc, const uint64_t *B, long ldb, uint64_t *Bp);

/*
 * Run fn(ctx, i) for i < nitems on the caller and up to threads-1 pool workers (bgemm_pool.c).
 * Returns when every item is done; each item runs exactly once, on some thread.
 */
typedef void (*bw_item_fn)(void *ctx, int item);
void bw_parallel_items(int threads, int nitems, bw_item_fn fn, void *ctx);

/* Store helper shared by the kernels: counts -> C (XNOR: P = 64*kc - popcount(a^b)). */
static inline void bw_store_row(int mode, int kc, const int64_t *cnt, int32_t *C, int ncols, int accumulate) {
  int64_t base = mode == BW_MODE_XNOR ? 64 * (int64_t)kc : 0;
  int64_t sgn = mode == BW_MODE_XNOR ? -1 : 1;
  for (int j = 0; j < ncols; j++) {
    int32_t v = (int32_t)(base + sgn * cnt[j]);
    C[j] = accumulate ? C[j] + v : v;
  }
}

#endif
