/*
 * The session's input handling on the engine's threads: the finiteness check of a whole
 * input and its NCHW -> NHWC copy (the layout every backend reads). In JavaScript both
 * passes took about as long as several layers of a 224x224 network (3 ms at batch 8).
 */
#include <stdint.h>

#include "engine.h"

#define CHUNK 16384 /* elements per work item: a few items per image, each in L1/L2 */

int64_t bw_first_nonfinite(const float *x, int64_t n, int32_t threads) {
  if (n < 0 || (!x && n > 0) || threads < 1) return BW_E_ARG; /* an empty array may come as NULL */
  const int64_t items = (n + CHUNK - 1) / CHUNK;
  int64_t first = n; /* the smallest bad index over all items */
  const int nt = bw_team((double)n * 0.1, threads, items);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static) reduction(min : first)
  for (int64_t it = 0; it < items; it++) {
    const int64_t end = (it + 1) * CHUNK < n ? (it + 1) * CHUNK : n;
    int bad = 0;
    for (int64_t i = it * CHUNK; i < end; i++) bad |= x[i] - x[i] != 0; /* NaN and +-inf; vectorises */
    if (!bad) continue;
    for (int64_t i = it * CHUNK; i < end; i++)
      if (x[i] - x[i] != 0) {
        if (i < first) first = i;
        break;
      }
  }
  return first;
}

int bw_nchw_to_nhwc(const float *x, float *y, int32_t n, int32_t c, int64_t hw, int32_t threads) {
  if (n < 0 || c < 1 || hw < 0 || threads < 1) return BW_E_ARG;
  if ((!x || !y) && (int64_t)n * c * hw > 0) return BW_E_ARG;
  const int64_t per = (hw + CHUNK - 1) / CHUNK, items = (int64_t)n * per;
  const int nt = bw_team((double)n * c * hw * 0.3, threads, items);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t it = 0; it < items; it++) {
    const int64_t b = it / per, i0 = (it % per) * CHUNK, i1 = i0 + CHUNK < hw ? i0 + CHUNK : hw;
    const float *xb = x + b * c * hw;
    float *yb = y + b * c * hw;
    if (c == 3) { /* RGB: three streams into one, the common case */
      const float *r = xb, *g = xb + hw, *bl = xb + 2 * hw;
      for (int64_t i = i0; i < i1; i++) yb[3 * i] = r[i], yb[3 * i + 1] = g[i], yb[3 * i + 2] = bl[i];
    } else {
      for (int64_t i = i0; i < i1; i++)
        for (int32_t ch = 0; ch < c; ch++) yb[i * c + ch] = xb[ch * hw + i];
    }
  }
  return BW_OK;
}
