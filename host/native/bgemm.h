/*
 * bitweave xnor-popcount GEMM (binary matrix product over packed 64-bit words).
 *
 * Both operands are K-contiguous rows of packed bits (LSB-first, DESIGN.md §1):
 * row m of A is A[m*lda .. m*lda + kwords), row n of B is B[n*ldb .. n*ldb + kwords).
 * Every output C[m*ldc + n] is written by exactly one thread, so results are identical
 * at any thread count. threads < 1 is treated as 1.
 */
#ifndef BITWEAVE_BGEMM_H
#define BITWEAVE_BGEMM_H

#include <stdint.h>

/* C[m*ldc + n] = sum_{k < kwords} popcount(~(A[m*lda + k] ^ B[n*ldb + k]))  (match count P) */
void bw_bgemm_xnor(int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                   int32_t *C, int ldc, int threads);

/* C[m*ldc + n] = sum_k popcount(A[m*lda + k] & B[n*ldb + k])  (AND mode, bit-plane passes) */
void bw_bgemm_and(int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                  int32_t *C, int ldc, int threads);

/* Plain single-threaded references the fast kernels are tested against. */
void bw_bgemm_xnor_ref(int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                       int32_t *C, int ldc);
void bw_bgemm_and_ref(int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                      int32_t *C, int ldc);

#endif
