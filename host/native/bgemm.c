/* Temporary: correct but unoptimised entry points (OpenMP over rows of C). */
#include "bgemm.h"

void bw_bgemm_xnor(int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                   int32_t *C, int ldc, int threads) {
  if (threads < 1) threads = 1;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int m = 0; m < M; m++) bw_bgemm_xnor_ref(1, N, kwords, A + (long)m * lda, lda, B, ldb, C + (long)m * ldc, ldc);
}

void bw_bgemm_and(int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                  int32_t *C, int ldc, int threads) {
  if (threads < 1) threads = 1;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int m = 0; m < M; m++) bw_bgemm_and_ref(1, N, kwords, A + (long)m * lda, lda, B, ldb, C + (long)m * ldc, ldc);
}
