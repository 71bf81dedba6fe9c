/*
 * Sequencer: walks the layer program. For each layer it reads the descriptor, decodes it
 * for the call's `images` images and runs the layer over the whole batch as one dataflow
 * region
 *
 *   walker ──slots──▶ feeder ──act──▶ pe_array ──tiles──▶ output_unit
 *      └──────────slots────────────────────────────────────▲
 *   weight_feeder ──wgt──▶ ┘
 *
 * in the RTL array's tile order (layer.h). A layer starts after the previous one's last
 * write: layer l + 1 reads what layer l wrote, so the regions never overlap in time.
 */
#ifndef BW_SEQUENCER_H
#define BW_SEQUENCER_H

#include "bw_stream.h"
#include "feeder.h"
#include "layer.h"
#include "output_unit.h"
#include "pe_array.h"
#include "tokens.h"
#include "walker.h"
#include "weight_feeder.h"

namespace bw {

/*
 * ROWS:       PE rows (output channels per tile).
 * COLS:       PE columns (entries per slot).
 * MAX_FM:     words of each column's feature-map copy.
 * MAX_KWORDS: weight feeder's buffer, words per output channel.
 * MAX_OUT_C:  output unit's channel capacity.
 */
template <int ROWS, int COLS, int MAX_FM, int MAX_KWORDS, int MAX_OUT_C>
void run_layer(const Layer L, const word_t *weights, const int32_t *params, const word_t *arena_in, word_t *arena_out,
               uint32_t arena_words) {
#pragma HLS DATAFLOW
  hls::stream<Slot<COLS> > slots_f("slots_f");
  hls::stream<Slot<COLS> > slots_o("slots_o");
  hls::stream<ActVec<COLS> > act("act");
  hls::stream<WgtVec<ROWS> > wgt("wgt");
  hls::stream<AccTile<ROWS, COLS> > acc("acc");
  /* slots in flight between the walker and the output unit: the RTL's tile ring (TS) */
#pragma HLS STREAM variable = slots_f depth = 2
#pragma HLS STREAM variable = slots_o depth = BW_RTL_TS
#pragma HLS STREAM variable = act depth = 4
#pragma HLS STREAM variable = wgt depth = 4
#pragma HLS STREAM variable = acc depth = 2
  walker<COLS>(L, slots_f, slots_o);
  feeder<COLS, MAX_FM>(L, arena_in, arena_words, slots_f, act);
  weight_feeder<ROWS, MAX_KWORDS>(L, weights, wgt);
  pe_array<ROWS, COLS>(L, act, wgt, acc);
  output_unit<ROWS, COLS, MAX_OUT_C, BW_MAX_BITS>(L, params, slots_o, acc, arena_out, arena_words);
}

/* Same template parameters as run_layer; the arguments are the kernel's (bitweave_array.cpp). */
template <int ROWS, int COLS, int MAX_FM, int MAX_KWORDS, int MAX_OUT_C>
void run_program(const uint32_t *program, uint32_t layers, const word_t *weights, const int32_t *params, word_t *arena,
                 uint32_t arena_words, uint32_t images) {
  if (images == 0) return;
layers:
  for (uint32_t l = 0; l < layers; l++) {
#pragma HLS LOOP_TRIPCOUNT max = 16
    uint32_t d[BW_DESC_WORDS];
#pragma HLS ARRAY_PARTITION variable = d complete
  fetch:
    for (int k = 0; k < BW_DESC_WORDS; k++) {
#pragma HLS PIPELINE II = 1
      d[k] = program[(uint64_t)l * BW_DESC_WORDS + k];
    }
    const Layer L = decode_layer<ROWS, COLS>(d, images);
    run_layer<ROWS, COLS, MAX_FM, MAX_KWORDS, MAX_OUT_C>(L, weights, params, arena, arena, arena_words);
  }
}

}  // namespace bw

#endif
