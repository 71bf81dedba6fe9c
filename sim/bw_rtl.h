/*
 * C ABI of the Verilator model of the bitweave array (build/libbitweave_rtl.so).
 * Every function checks its arguments (handle, memory id, offsets, lengths) and returns
 * a negative BWRTL_E_* code instead of crashing; bwrtl_error() explains the last one.
 */
#ifndef BW_RTL_H
#define BW_RTL_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/* return codes BWRTL_OK, BWRTL_E_ARG, … and the build parameters BW_RTL_* come from the
   generated bitweave_array.h (host/array/limits.ts) */
#include "bitweave_array.h"

/* memories */
#define BWRTL_MEM_DESC 0   /* uint32 descriptors */
#define BWRTL_MEM_PARAM 1  /* int32 thresholds and flags */
#define BWRTL_MEM_WEIGHT 2 /* 64-bit weight words */
#define BWRTL_MEM_ARENA 3  /* 64-bit arena words of the whole batch */

/* info[0..8] = rows, cols, word, acc_bits, max_out_bits, pdepth, tile slots, desc_words,
   drain (columns leaving the array per cycle); returns the number of fields (9) */
int bwrtl_info(int32_t *info, int32_t n);
void *bwrtl_create(void);
int bwrtl_free(void *h);
/* (re)allocate a memory of `count` elements, zero-filled */
int bwrtl_alloc(void *h, int32_t mem, uint64_t count);
int bwrtl_write(void *h, int32_t mem, uint64_t offset, const void *data, uint64_t count);
int bwrtl_read(void *h, int32_t mem, uint64_t offset, void *out, uint64_t count);
/* reset the model and start a layer program of `layers` descriptors on `batch` images */
int bwrtl_start(void *h, uint32_t layers, uint32_t batch, uint32_t arena_words);
/* run up to max_cycles: 1 = done, 0 = still running, < 0 error */
int bwrtl_run(void *h, uint64_t max_cycles);
/* cycles since start; per-layer cycles into out[0..n) (returns the layer count) */
int bwrtl_cycles(void *h, uint64_t *out);
int bwrtl_layer_cycles(void *h, uint64_t *out, int32_t n);
/* FST waveform to a file (path NULL closes it); only cycles run while open are traced */
int bwrtl_trace(void *h, const char *path);
/* the RTL's error bits (bw_layer) */
int bwrtl_rtl_err(void *h, uint32_t *out);
/* last error message of h (or of the library when h is unknown) */
const char *bwrtl_error(void *h);

#ifdef __cplusplus
}
#endif
#endif
