/*
 * The seed's (BMXNet v1) CPU GEMMs, rewritten here as benchmark baselines, plus OpenBLAS
 * sgemm. Compiled with -march=native (file name), as the seed was built for its machine:
 * the compiler may vectorise these plain loops with whatever this CPU has.
 *
 * BMXNet layout: A is M rows of K/W packed words (a filter per row, get_binary_row);
 * B is K/W rows of N words, word k of column n at B[k*ldb + n] (get_binary_col packs
 * column n's bits k*W..k*W+W-1); C is float and receives the match count P added on.
 * The GEMM is the plain m-k-n loop with k unrolled by 6; the _omp variant splits m.
 *
 * Each bw_bench_* entry point times one method inside C (clock_gettime, so FFI overhead
 * stays out): reps runs, each run's milliseconds in samples_ms[r]. binarize = 1 includes
 * packing the float inputs (sign(x): x >= 0 -> bit 1, LSB-first) in every timed run;
 * binarize = 0 packs once before timing. result (M x N, may be NULL) receives the match
 * counts P of the last run, so callers can check that every method agrees.
 * Returns 0, -1 on invalid arguments (K must be a multiple of 64), -2 when out of memory.
 */
#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bgemm.h"

#define UNROLL 6

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

/* ---- binarisation (BMXNet get_binary_row / get_binary_col) ------------------------------ */

#define DEFINE_BINARY_ROW(NAME, W)                                                      \
  static void NAME(const float *row, W *out, int size) {                               \
    const int bits = (int)sizeof(W) * 8;                                                \
    for (int i = 0; i < size; i += bits) {                                              \
      W word = 0;                                                                       \
      for (int j = 0; j < bits; j++) word |= (W)(row[i + j] >= 0.0f) << j;              \
      out[i / bits] = word;                                                             \
    }                                                                                   \
  }

/* rows x cols floats (K x N) -> rows/W x cols words; threads > 1 splits word rows */
#define DEFINE_BINARY_COL(NAME, W)                                                      \
  static void NAME(const float *col, W *out, int rows, int cols, int threads) {         \
    const int bits = (int)sizeof(W) * 8;                                                \
    _Pragma("omp parallel for num_threads(threads) if (threads > 1) schedule(static)")  \
    for (int y = 0; y < rows / bits; y++)                                               \
      for (int x = 0; x < cols; x++) {                                                  \
        W word = 0;                                                                     \
        for (int b = 0; b < bits; b++) word |= (W)(col[(long)(y * bits + b) * cols + x] >= 0.0f) << b; \
        out[(long)y * cols + x] = word;                                                 \
      }                                                                                 \
  }

DEFINE_BINARY_ROW(binary_row32, uint32_t)
DEFINE_BINARY_ROW(binary_row64, uint64_t)
DEFINE_BINARY_COL(binary_col32, uint32_t)
DEFINE_BINARY_COL(binary_col64, uint64_t)

/* ---- xnor GEMM (m-k-n, k unrolled by 6) --------------------------------------------------- */

#define DEFINE_XNOR_GEMM(NAME, W, POPC)                                                             \
  void NAME(int M, int N, int K, const W *A, int lda, const W *B, int ldb, float *C, int ldc,        \
            int threads) {                                                                          \
    _Pragma("omp parallel for num_threads(threads) if (threads > 1) schedule(static)")              \
    for (int m = 0; m < M; m++) {                                                                   \
      const W *a = A + (long)m * lda;                                                               \
      float *c = C + (long)m * ldc;                                                                 \
      int k = 0;                                                                                    \
      for (; k + UNROLL <= K; k += UNROLL) {                                                        \
        const W a0 = a[k], a1 = a[k + 1], a2 = a[k + 2], a3 = a[k + 3], a4 = a[k + 4], a5 = a[k + 5]; \
        const W *b0 = B + (long)k * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb,             \
                *b4 = b3 + ldb, *b5 = b4 + ldb;                                                     \
        for (int n = 0; n < N; n++)                                                                 \
          c[n] += POPC((W) ~(a0 ^ b0[n])) + POPC((W) ~(a1 ^ b1[n])) + POPC((W) ~(a2 ^ b2[n])) +      \
                  POPC((W) ~(a3 ^ b3[n])) + POPC((W) ~(a4 ^ b4[n])) + POPC((W) ~(a5 ^ b5[n]));       \
      }                                                                                             \
      for (; k < K; k++) {                                                                          \
        const W a0 = a[k], *b0 = B + (long)k * ldb;                                                 \
        for (int n = 0; n < N; n++) c[n] += POPC((W) ~(a0 ^ b0[n]));                                \
      }                                                                                             \
    }                                                                                               \
  }

/* K here is in words; threads = 1 for the seed's single-threaded xnor_32 / xnor_64 */
DEFINE_XNOR_GEMM(bw_seed_xnor_gemm32, uint32_t, __builtin_popcount)
DEFINE_XNOR_GEMM(bw_seed_xnor_gemm64, uint64_t, __builtin_popcountll)

/* ---- timed methods ------------------------------------------------------------------------- */

static int check_args(int M, int N, int K, const float *A, const float *B, int threads, int reps,
                      const double *samples) {
  return M > 0 && N > 0 && K > 0 && K % 64 == 0 && A && B && threads > 0 && reps > 0 && samples ? 0 : -1;
}

static void to_result(const float *C, long count, int32_t *result) {
  if (result)
    for (long i = 0; i < count; i++) result[i] = (int32_t)C[i];
}

/* word = 32 or 64; threads = 1: the seed's xnor_32 / xnor_64; > 1: xnor_64_omp */
static int bench_xnor(int word, int M, int N, int K, const float *A, const float *B, int binarize, int threads,
                      int reps, double *samples_ms, int32_t *result) {
  if (check_args(M, N, K, A, B, threads, reps, samples_ms)) return -1;
  const int kw = K / word;
  const size_t wb = (size_t)word / 8;
  void *Ab = malloc(wb * (size_t)M * kw), *Bb = malloc(wb * (size_t)kw * N);
  float *C = malloc(sizeof(float) * (size_t)M * N);
  int rc = Ab && Bb && C ? 0 : -2;
  for (int r = -1; r < reps && rc == 0; r++) { /* r = -1: untimed warm-up */
    memset(C, 0, sizeof(float) * (size_t)M * N);
    double t0 = now_ms();
    if (binarize || r < 0) {
      for (int m = 0; m < M; m++) {
        if (word == 32) binary_row32(A + (long)m * K, (uint32_t *)Ab + (long)m * kw, K);
        else binary_row64(A + (long)m * K, (uint64_t *)Ab + (long)m * kw, K);
      }
      if (word == 32) binary_col32(B, Bb, K, N, threads);
      else binary_col64(B, Bb, K, N, threads);
      if (!binarize) t0 = now_ms();
    }
    if (word == 32) bw_seed_xnor_gemm32(M, N, kw, Ab, kw, Bb, N, C, N, threads);
    else bw_seed_xnor_gemm64(M, N, kw, Ab, kw, Bb, N, C, N, threads);
    if (r >= 0) samples_ms[r] = now_ms() - t0;
  }
  if (rc == 0) to_result(C, (long)M * N, result);
  free(Ab), free(Bb), free(C);
  return rc;
}

int bw_bench_xnor32(int M, int N, int K, const float *A, const float *B, int binarize, int threads, int reps,
                    double *samples_ms, int32_t *result) {
  (void)threads;
  return bench_xnor(32, M, N, K, A, B, binarize, 1, reps, samples_ms, result);
}

int bw_bench_xnor64(int M, int N, int K, const float *A, const float *B, int binarize, int threads, int reps,
                    double *samples_ms, int32_t *result) {
  (void)threads;
  return bench_xnor(64, M, N, K, A, B, binarize, 1, reps, samples_ms, result);
}

int bw_bench_xnor64_omp(int M, int N, int K, const float *A, const float *B, int binarize, int threads, int reps,
                        double *samples_ms, int32_t *result) {
  return bench_xnor(64, M, N, K, A, B, binarize, threads, reps, samples_ms, result);
}

/* OpenBLAS's pthread build keeps its workers spinning for a long while (2^28 cycles by
 * default) after each call; shutting them down after the timed runs keeps them from
 * stealing cores from whatever is timed next. Weak: other OpenBLAS builds may lack it. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

/* "OpenBLAS 0.3.21 ... <core>": which build and kernels sgemm uses */
const char *bw_blas_config(void) { return openblas_get_config(); }

/* OpenBLAS sgemm on the float inputs; binarize = 1 first maps both through sign() (the
 * float BNN path), timed. result: P = (K + dot) / 2. */
int bw_bench_sgemm(int M, int N, int K, const float *A, const float *B, int binarize, int threads, int reps,
                   double *samples_ms, int32_t *result) {
  if (check_args(M, N, K, A, B, threads, reps, samples_ms)) return -1;
  openblas_set_num_threads(threads);
  float *As = binarize ? malloc(sizeof(float) * (size_t)M * K) : NULL;
  float *Bs = binarize ? malloc(sizeof(float) * (size_t)K * N) : NULL;
  float *C = malloc(sizeof(float) * (size_t)M * N);
  int rc = C && (!binarize || (As && Bs)) ? 0 : -2;
  for (int r = -1; r < reps && rc == 0; r++) {
    double t0 = now_ms();
    const float *a = A, *b = B;
    if (binarize) {
      const long na = (long)M * K, nb = (long)K * N;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
      for (long i = 0; i < na; i++) As[i] = A[i] >= 0.0f ? 1.0f : -1.0f;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
      for (long i = 0; i < nb; i++) Bs[i] = B[i] >= 0.0f ? 1.0f : -1.0f;
      a = As, b = Bs;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, C, N);
    if (r >= 0) samples_ms[r] = now_ms() - t0;
  }
  if (blas_thread_shutdown_) blas_thread_shutdown_();
  if (rc == 0 && result)
    for (long i = 0; i < (long)M * N; i++) result[i] = (int32_t)((K + (long)C[i]) / 2);
  free(As), free(Bs), free(C);
  return rc;
}
