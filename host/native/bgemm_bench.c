/*
 * `bench gemm` timing of bitweave's kernel, the same contract as the baselines'
 * bw_bench_* (gemm_baseline_march_native.c): A is M x K floats, B is K x N floats (an
 * im2col matrix); binarize = 1 times packing both (bw_pack_rows_f32 / bw_pack_cols_f32)
 * plus the GEMM, 0 times the GEMM on operands packed beforehand. samples_ms[r] per run,
 * result = match counts P of the last run. Returns 0, -1 (bad arguments), -2 (memory).
 */
#include <stdlib.h>
#include <time.h>

#include "bgemm.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

int bw_bench_bitweave(int M, int N, int K, const float *A, const float *B, int binarize, int threads, int reps,
                      double *samples_ms, int32_t *result) {
  if (M <= 0 || N <= 0 || K <= 0 || !A || !B || threads <= 0 || reps <= 0 || !samples_ms) return -1;
  const int kw = (K + 63) / 64;
  uint64_t *Ab = aligned_alloc(64, sizeof(uint64_t) * (size_t)M * kw);
  uint64_t *Bb = aligned_alloc(64, sizeof(uint64_t) * (size_t)N * kw);
  int32_t *C = result ? result : malloc(sizeof(int32_t) * (size_t)M * N);
  int rc = Ab && Bb && C ? 0 : -2;
  for (int r = -1; r < reps && rc == 0; r++) { /* r = -1: untimed warm-up */
    double t0 = now_ms();
    if (binarize || r < 0) {
      bw_pack_rows_f32(M, K, A, K, Ab, kw, threads);
      rc = bw_pack_cols_f32(K, N, B, N, Bb, kw, threads);
      if (!binarize) t0 = now_ms();
    }
    bw_bgemm_xnor(M, N, kw, Ab, kw, Bb, kw, C, N, threads);
    if (r >= 0) samples_ms[r] = now_ms() - t0;
  }
  /* K not a multiple of 64: the zero tail bits of both operands counted as matches */
  if (rc == 0 && K % 64)
    for (long i = 0; i < (long)M * N; i++) C[i] -= 64 * kw - K;
  free(Ab), free(Bb);
  if (C != result) free(C);
  return rc;
}
