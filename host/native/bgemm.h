/*
 * bitweave xnor-popcount GEMM (binary matrix product over packed 64-bit words).
 *
 * Both operands are K-contiguous rows of packed bits (LSB-first, DESIGN.md §1):
 * row m of A is A[m*lda .. m*lda + kwords), row n of B is B[n*ldb .. n*ldb + kwords).
 * Every output C[m*ldc + n] is written by exactly one thread, so results are identical
 * at any thread count. threads < 1 is treated as 1. kwords * 64 must stay below 2^31.
 * Pointers need only 8-byte alignment. Kernels follow cpu.h's ISA level (bw_isa_set /
 * BITWEAVE_ISA). Threads come from a small persistent pool (bgemm_pool.c), not OpenMP:
 * the caller never waits for a worker that the OS has not scheduled yet. Safe to call from
 * several threads at once.
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

/*
 * Float -> packed operands (sign(x): x >= 0 -> bit 1, NaN -> 0; LSB-first; tail bits 0).
 * rows: out[r*ldo + w] = bits of X row r (rows x cols, leading dimension ldx).
 * cols: out[c*ldo + w] = bits of X column c, i.e. a K x N matrix becomes the N x ceil(K/64)
 *       B operand. Returns 0.
 */
void bw_pack_rows_f32(int rows, int cols, const float *X, long ldx, uint64_t *out, long ldo, int threads);
int bw_pack_cols_f32(int rows, int cols, const float *X, long ldx, uint64_t *out, long ldo, int threads);

/* Plain single-threaded references the fast kernels are tested against. */
void bw_bgemm_xnor_ref(int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                       int32_t *C, int ldc);
void bw_bgemm_and_ref(int M, int N, int kwords, const uint64_t *A, int lda, const uint64_t *B, int ldb,
                      int32_t *C, int ldc);

#endif
