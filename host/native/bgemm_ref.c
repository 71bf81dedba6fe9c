/* Plain reference xnor / and GEMM: the oracle for the tiled kernels (no ISA extensions). */
#include "bgemm.h"

void bw_bgemm_xnor_ref(int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                       int32_t *C, int ldc) {
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      int32_t acc = 0;
      for (int k = 0; k < kwords; k++) acc += __builtin_popcountll(~(A[(long)m * lda + k] ^ B[(long)n * ldb + k]));
      C[(long)m * ldc + n] = acc;
    }
}

void bw_bgemm_and_ref(int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                      int32_t *C, int ldc) {
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) {
      int32_t acc = 0;
      for (int k = 0; k < kwords; k++) acc += __builtin_popcountll(A[(long)m * lda + k] & B[(long)n * ldb + k]);
      C[(long)m * ldc + n] = acc;
    }
}
