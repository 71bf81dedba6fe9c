/*
 * Fused element-wise chains (bw_chain_* in engine.h). A residual unit's host glue -
 * dequantize, dequantize, add, BatchNorm, binarize - otherwise streams several full
 * feature maps through memory per op; here each block of pixels passes through all of
 * them while it is in cache, and only the tensors later ops need are written out.
 * The chain is prepared once (ops checked, BatchNorm parameters copied), so a run only
 * passes the external tensors.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct bw_chain {
  int32_t nops, nslots, c;
  bw_ew_op *ops;     /* BatchNorm pointers point into params */
  bw_ew_slot *slots;
  float *params;
};

/* rough single-core ns per element of each op kind, for bw_team */
static const double COST[] = {0.3, 0.2, 0.3, 3.0, 1.0, 0.2};

/* Every op reads slots already written (or external) and writes a slot of its output kind. */
static int valid(const bw_ew_op *ops, int32_t nops, const bw_ew_slot *slots, int32_t nslots, int32_t c) {
  if (!ops || !slots || nops < 1 || nops > 4096 || nslots < 1 || nslots > 4096 || c < 1 || c > (1 << 24)) return 0;
  char *ready = calloc((size_t)nslots, 1);
  if (!ready) return 0;
  int ok = 1;
  for (int32_t s = 0; s < nslots && ok; s++) {
    const bw_ew_slot *sl = &slots[s];
    if (sl->kind < BW_SLOT_F32 || sl->kind > BW_SLOT_BITS) ok = 0;
    else if (sl->kind == BW_SLOT_BITS && (!sl->external || sl->planes < 1 || sl->planes > BW_MAX_BITS)) ok = 0;
    ready[s] = sl->external != 0;
  }
  for (int32_t i = 0; i < nops && ok; i++) {
    const bw_ew_op *o = &ops[i];
    if (o->kind < BW_EW_DEQUANTIZE || o->kind > BW_EW_BINARIZE || o->a < 0 || o->a >= nslots || o->y < 0 ||
        o->y >= nslots || !ready[o->a] || o->y == o->a) {
      ok = 0;
      break;
    }
    int32_t in = o->kind == BW_EW_DEQUANTIZE ? BW_SLOT_I32 : BW_SLOT_F32;
    int32_t out = o->kind == BW_EW_BINARIZE ? BW_SLOT_BITS : BW_SLOT_F32;
    if (slots[o->a].kind != in || slots[o->y].kind != out) ok = 0;
    else if (o->kind == BW_EW_ADD && (o->b < 0 || o->b >= nslots || !ready[o->b] || slots[o->b].kind != BW_SLOT_F32 || o->y == o->b)) ok = 0;
    else if (o->kind == BW_EW_BATCHNORM && (!o->mean || !o->scale || !o->beta)) ok = 0;
    else if (o->kind == BW_EW_ACTIVATION && (o->param < 0 || o->param > 2)) ok = 0;
    else if ((o->kind == BW_EW_QUANTIZE || o->kind == BW_EW_BINARIZE) && (o->param < 1 || o->param > BW_MAX_BITS)) ok = 0;
    else if (o->kind == BW_EW_BINARIZE && slots[o->y].planes != o->param) ok = 0;
    else if ((o->kind == BW_EW_QUANTIZE || o->kind == BW_EW_BINARIZE) ? (o->sgn != 0 && o->sgn != 1) || (o->sgn && o->param < 2) : o->sgn != 0) ok = 0;
    else if (o->kind == BW_EW_DEQUANTIZE && !(o->divisor != 0 && o->divisor - o->divisor == 0)) ok = 0; /* finite, non-zero */
    ready[o->y] = 1;
  }
  free(ready);
  return ok;
}

bw_chain *bw_chain_create(const bw_ew_op *ops, int32_t nops, const bw_ew_slot *slots, int32_t nslots, int32_t c) {
  if (!valid(ops, nops, slots, nslots, c)) return NULL;
  int32_t nbn = 0;
  for (int32_t i = 0; i < nops; i++) nbn += ops[i].kind == BW_EW_BATCHNORM;
  bw_chain *ch = calloc(1, sizeof *ch);
  if (!ch) return NULL;
  ch->nops = nops;
  ch->nslots = nslots;
  ch->c = c;
  ch->ops = malloc((size_t)nops * sizeof *ch->ops);
  ch->slots = malloc((size_t)nslots * sizeof *ch->slots);
  ch->params = malloc((size_t)(3 * nbn > 0 ? 3 * nbn : 1) * (size_t)c * sizeof(float));
  if (!ch->ops || !ch->slots || !ch->params) {
    bw_chain_free(ch);
    return NULL;
  }
  memcpy(ch->ops, ops, (size_t)nops * sizeof *ch->ops);
  memcpy(ch->slots, slots, (size_t)nslots * sizeof *ch->slots);
  float *p = ch->params;
  for (int32_t i = 0; i < nops; i++) {
    bw_ew_op *o = &ch->ops[i];
    if (o->kind != BW_EW_BATCHNORM) continue;
    memcpy(p, o->mean, (size_t)c * 4);
    memcpy(p + c, o->scale, (size_t)c * 4);
    memcpy(p + 2 * c, o->beta, (size_t)c * 4);
    o->mean = p;
    o->scale = p + c;
    o->beta = p + 2 * c;
    p += 3 * c;
  }
  return ch;
}

void bw_chain_free(bw_chain *ch) {
  if (!ch) return;
  free(ch->ops);
  free(ch->slots);
  free(ch->params);
  free(ch);
}

/* Bytes of block scratch a thread needs to run `ch` (one block per slot). */
static size_t block_bytes(const bw_chain *ch, int64_t *bp_out) {
  const int64_t bp = ch->c >= 4096 ? 1 : 4096 / ch->c; /* pixels per block: ~16 KiB per slot */
  if (bp_out) *bp_out = bp;
  return (size_t)ch->nslots * (size_t)(bp * ch->c) * 4;
}

/* Length check of every external slot but `skip` (-1: none). */
static int check_lens(const bw_chain *ch, void *const *data, const int64_t *lens, int64_t pixels, int32_t skip) {
  const int64_t words = (ch->c + 63) / 64;
  for (int32_t s = 0; s < ch->nslots; s++) {
    const bw_ew_slot *sl = &ch->slots[s];
    if (!sl->external || s == skip) continue;
    if (!data[s]) return BW_E_ARG;
    if (lens[s] != (sl->kind == BW_SLOT_BITS ? pixels * sl->planes * words : pixels * ch->c)) return BW_E_SIZE;
  }
  return BW_OK;
}

/*
 * Pixels [p0, p0 + np) through every op, block by block; slot `ov` (when >= 0) reads the
 * int32 values at ov_data (pixel p0 first) instead of its external tensor.
 */
static void run_span(const bw_chain *ch, void *const *data, int64_t p0, int64_t np, int32_t ov, const int32_t *ov_data,
                     char *scratch, int isa) {
  const int32_t c = ch->c;
  const int64_t words = (c + 63) / 64;
  int64_t bp;
  const size_t slot_bytes = block_bytes(ch, &bp) / (size_t)ch->nslots;
  for (int64_t b0 = p0; b0 < p0 + np; b0 += bp) {
    const int64_t nb = p0 + np - b0 < bp ? p0 + np - b0 : bp, n = nb * c;
#define VAL(s, T)                                                                            \
  ((s) == ov ? (T *)(void *)(ov_data + (b0 - p0) * c)                                       \
             : ch->slots[s].external ? (T *)data[s] + b0 * c : (T *)(void *)(scratch + (size_t)(s) * slot_bytes))
    for (int32_t i = 0; i < ch->nops; i++) {
      const bw_ew_op *o = &ch->ops[i];
      switch (o->kind) {
        case BW_EW_DEQUANTIZE: bw_span_dequantize(isa, VAL(o->a, int32_t), VAL(o->y, float), n, o->divisor); break;
        case BW_EW_ADD: bw_span_add(isa, VAL(o->a, float), VAL(o->b, float), VAL(o->y, float), n); break;
        case BW_EW_BATCHNORM: bw_span_batchnorm(isa, VAL(o->a, float), VAL(o->y, float), n, c, o->mean, o->scale, o->beta); break;
        case BW_EW_ACTIVATION: bw_span_activation(isa, o->param, VAL(o->a, float), VAL(o->y, float), n); break;
        case BW_EW_QUANTIZE: bw_span_quantize(isa, VAL(o->a, float), VAL(o->y, float), n, o->param, o->sgn); break;
        default:
          bw_span_binarize(isa, VAL(o->a, float), nb, c, o->param, o->sgn,
                           (uint64_t *)data[o->y] + b0 * ch->slots[o->y].planes * words);
      }
    }
#undef VAL
  }
}

int bw_chain_run(const bw_chain *ch, void *const *data, const int64_t *lens, int64_t pixels, int32_t threads) {
  if (!ch || !data || !lens || pixels < 0 || threads < 1) return BW_E_ARG;
  int rc = check_lens(ch, data, lens, pixels, -1);
  if (rc != BW_OK) return rc;
  if (pixels == 0) return BW_OK;
  const int isa = bw_engine_isa();
  int64_t bp;
  const size_t bytes = block_bytes(ch, &bp);
  const int64_t nb = (pixels + bp - 1) / bp;
  double ns = 0;
  for (int32_t i = 0; i < ch->nops; i++) ns += COST[ch->ops[i].kind];
  const int nt = bw_team(ns * (double)pixels * ch->c, threads, nb);
  int failed = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    char *scratch = bw_scratch(0, bytes);
    if (!scratch) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t blk = 0; blk < nb; blk++) {
      if (!scratch) continue;
      const int64_t p0 = blk * bp;
      run_span(ch, data, p0, pixels - p0 < bp ? pixels - p0 : bp, -1, NULL, scratch, isa);
    }
  }
  return failed ? BW_E_NOMEM : BW_OK;
}

int bw_chain_int_slot(const bw_chain *ch, int32_t slot) {
  return ch && slot >= 0 && slot < ch->nslots && ch->slots[slot].external && ch->slots[slot].kind == BW_SLOT_I32;
}
int32_t bw_chain_channels(const bw_chain *ch) { return ch ? ch->c : 0; }
int bw_chain_check(const bw_chain *ch, void *const *data, const int64_t *lens, int64_t pixels, int32_t skip) {
  if (!ch || !data || !lens || pixels < 0) return BW_E_ARG;
  return check_lens(ch, data, lens, pixels, skip);
}
size_t bw_chain_scratch_bytes(const bw_chain *ch) { return block_bytes(ch, NULL); }
void bw_chain_span(const bw_chain *ch, void *const *data, int64_t p0, int64_t np, int32_t slot, const int32_t *values,
                   char *scratch, int isa) {
  run_span(ch, data, p0, np, slot, values, scratch, isa);
}
