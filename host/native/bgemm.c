/*
 * Tiled binary GEMM driver: blocking, threading and ISA dispatch (kernels: bgemm_<isa>.c).
 *
 * A is repacked once per call into groups of BW_MR rows (word-interleaved, a few KiB to a
 * few hundred KiB: it lives in L2). Loop nest per thread:  panels of BW_NR B rows  >
 * K blocks of <= KC_MAX words  >  A row groups  >  micro-kernel. The packed panel (BW_NR x kc
 * words, at most 16 KiB) stays in L1 while every A group streams past it from L2; each B
 * word is read from memory once per call, and the next block's B rows are prefetched while
 * the current one is computed (this matters once B outgrows the caches, e.g. 20 MB at
 * K = 12800, N = 12800). C is touched once per K block.
 *
 * Threads take chunks of panels (N), and slices of the row groups (M) when N is small,
 * dynamically. Every output is computed by one thread in a fixed order, so results do not
 * depend on the thread count or on which thread ran what.
 */
#include <stdlib.h>
#include <string.h>

#include "bgemm.h"
#include "bgemm_internal.h"
#include "cpu.h"

/* words: panel 16 x 128 x 8 B = 16 KiB, plus an A group (8 KiB) well inside L1 */
#define KC_MAX 128

static void select_kernel(bw_ukernel_fn *uk, bw_pack_fn *pack) {
  *pack = bw_pack_panel_generic;
  switch (bw_isa_current()) {
  case BW_ISA_AVX512: *uk = bw_ukernel_avx512, *pack = bw_pack_panel_avx512; break;
  case BW_ISA_AVX2: *uk = bw_ukernel_avx2; break;
  case BW_ISA_SCALAR: *uk = bw_popcnt_enabled() ? bw_ukernel_popcnt : bw_ukernel_generic; break;
  default: *uk = bw_ukernel_generic; break;
  }
}

static void fallback(int mode, int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                     int32_t *C, int ldc) {
  if (mode == BW_MODE_XNOR) bw_bgemm_xnor_ref(M, N, kwords, A, lda, B, ldb, C, ldc);
  else bw_bgemm_and_ref(M, N, kwords, A, lda, B, ldb, C, ldc);
}

typedef struct {
  int mode, M, N, kwords, lda, ldb, ldc, kcb, ngroups, npanels, pchunk, msplit;
  const uint64_t *A, *Ap, *B;
  int32_t *C;
  bw_ukernel_fn uk;
  bw_pack_fn pack;
} job;

/* Panels [p0, p1) x row groups [g0, g1) of C, with a thread's 64-byte aligned panel buffer. */
static void run_block(const job *j, int p0, int p1, int g0, int g1, uint64_t *buf) {
  const int N = j->N, M = j->M, kwords = j->kwords, kcb = j->kcb;
  const long ldb = j->ldb, ldc = j->ldc;
  for (int p = p0; p < p1; p++) {
    const int n0 = p * BW_NR, nrows = N - n0 < BW_NR ? N - n0 : BW_NR;
    for (int k0 = 0; k0 < kwords; k0 += kcb) {
      const int kc = kwords - k0 < kcb ? kwords - k0 : kcb;
      j->pack(nrows, kc, j->B + n0 * ldb + k0, ldb, buf);
      /* the next block to pack (this panel's next K block, or the next panel): prefetch its
       * rows into L2, a few per row group, so packing does not wait for memory */
      const uint64_t *nb = NULL;
      int nr2 = 0, kc2 = 0;
      if (k0 + kc < kwords) {
        nb = j->B + n0 * ldb + k0 + kc, nr2 = nrows;
        kc2 = kwords - k0 - kc < kcb ? kwords - k0 - kc : kcb;
      } else if (p + 1 < p1) {
        nb = j->B + (n0 + BW_NR) * ldb, nr2 = N - n0 - BW_NR < BW_NR ? N - n0 - BW_NR : BW_NR;
        kc2 = kwords < kcb ? kwords : kcb;
      }
      const int ng = g1 - g0;
      for (int g = g0; g < g1; g++) {
        const int m0 = g * BW_MR, mr = M - m0 < BW_MR ? M - m0 : BW_MR;
        for (int r = (g - g0) * nr2 / ng; r < (g - g0 + 1) * nr2 / ng; r++) {
          const char *row = (const char *)(nb + r * ldb);
          for (int off = 0; off < kc2 * 8; off += 64) __builtin_prefetch(row + off, 0, 2);
          __builtin_prefetch(row + kc2 * 8 - 1, 0, 2);
        }
        j->uk(j->mode, mr, kc, j->Ap + ((size_t)g * kwords + k0) * BW_MR, buf, j->C + m0 * ldc + n0, ldc, nrows, k0 > 0);
      }
    }
  }
}

/* One 16 KiB panel buffer per thread, kept for the thread's lifetime (pool threads persist). */
static __thread uint64_t *tls_panel;

static void run_item(void *ctx, int it) {
  const job *j = ctx;
  const int ch = it / j->msplit, ms = it % j->msplit;
  const int p0 = ch * j->pchunk, p1 = p0 + j->pchunk < j->npanels ? p0 + j->pchunk : j->npanels;
  const int g0 = (int)((long)j->ngroups * ms / j->msplit), g1 = (int)((long)j->ngroups * (ms + 1) / j->msplit);
  if (!tls_panel) tls_panel = aligned_alloc(64, sizeof(uint64_t) * BW_NR * KC_MAX);
  if (tls_panel) {
    run_block(j, p0, p1, g0, g1, tls_panel);
  } else {
    /* no 16 KiB for this thread's panel: still correct, via the reference */
    const int m0 = g0 * BW_MR, m1 = g1 * BW_MR < j->M ? g1 * BW_MR : j->M;
    const int n0 = p0 * BW_NR, n1 = p1 * BW_NR < j->N ? p1 * BW_NR : j->N;
    fallback(j->mode, m1 - m0, n1 - n0, j->kwords, j->A + (long)m0 * j->lda, j->lda, j->B + (long)n0 * j->ldb, j->ldb,
             j->C + (long)m0 * j->ldc + n0, j->ldc);
  }
}

static void bgemm(int mode, int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                  int32_t *C, int ldc, int threads) {
  if (M <= 0 || N <= 0) return;
  if (kwords <= 0) {
    for (int m = 0; m < M; m++) memset(C + (long)m * ldc, 0, sizeof(int32_t) * (size_t)N);
    return;
  }
  job j = {.mode = mode, .M = M, .N = N, .kwords = kwords, .lda = lda, .ldb = ldb, .ldc = ldc, .A = A, .B = B, .C = C};
  select_kernel(&j.uk, &j.pack);

  const int npanels = (N + BW_NR - 1) / BW_NR;
  j.ngroups = (M + BW_MR - 1) / BW_MR;
  const int nkb = (kwords + KC_MAX - 1) / KC_MAX;
  /* equal K blocks, multiples of 8 words (whole transposes) except the last */
  j.kcb = (kwords + nkb - 1) / nkb;
  j.kcb = (j.kcb + 7) & ~7;
  if (j.kcb > KC_MAX) j.kcb = KC_MAX;

  /*
   * Work items: chunks of up to 8 panels (about 8 per thread), and when there are fewer
   * chunks than threads, also slices of the row groups. Threads take items dynamically
   * (bgemm_pool.c), so a thread the OS deschedules on a shared machine does not hold up
   * the others.
   */
  if (threads < 1) threads = 1;
  int pchunk = npanels / (threads * 8);
  pchunk = pchunk < 1 ? 1 : pchunk > 8 ? 8 : pchunk;
  const int nchunks = (npanels + pchunk - 1) / pchunk;
  int msplit = nchunks >= threads ? 1 : (threads + nchunks - 1) / nchunks;
  if (msplit > j.ngroups) msplit = j.ngroups;
  const int items = nchunks * msplit;
  const int nt = threads < items ? threads : items;

  /* A in groups of BW_MR rows, word-interleaved (rows past M zero): one stream per kernel */
  uint64_t *Ap = aligned_alloc(64, sizeof(uint64_t) * BW_MR * (size_t)j.ngroups * (size_t)kwords);
  if (!Ap) {
    fallback(mode, M, N, kwords, A, lda, B, ldb, C, ldc);
    return;
  }
  j.Ap = Ap;

  /* serially: it is small (M x kwords words) */
  for (int g = 0; g < j.ngroups; g++) {
    uint64_t *ap = Ap + (size_t)g * BW_MR * kwords;
    for (int i = 0; i < BW_MR; i++) {
      const int m = g * BW_MR + i;
      const uint64_t *a = A + (long)m * lda;
      if (m < M)
        for (int k = 0; k < kwords; k++) ap[k * BW_MR + i] = a[k];
      else
        for (int k = 0; k < kwords; k++) ap[k * BW_MR + i] = 0;
    }
  }

  j.pchunk = pchunk, j.msplit = msplit, j.npanels = npanels;
  bw_parallel_items(nt, items, run_item, &j);
  free(Ap);
}

void bw_bgemm_xnor(int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb, int32_t *C,
                   int ldc, int threads) {
  bgemm(BW_MODE_XNOR, M, N, kwords, A, lda, B, ldb, C, ldc, threads);
}

void bw_bgemm_and(int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb, int32_t *C,
                  int ldc, int threads) {
  bgemm(BW_MODE_AND, M, N, kwords, A, lda, B, ldb, C, ldc, threads);
}
