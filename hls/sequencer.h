/*
 * Sequencer: walks the layer program. For each image and each layer it reads the layer's
 * descriptor, decodes it and runs the layer as one dataflow region
 *
 *   feeder ──act──▶ pe_array ──acc rows──▶ output_unit
 *   weight_feeder ──wgt──▶ ┘
 *
 * on that image's slice of the arena. Layers of one image run in order: layer l + 1 reads
 * what layer l wrote, so the regions never overlap in time.
 */
#ifndef BW_SEQUENCER_H
#define BW_SEQUENCER_H

#include "bw_stream.h"
#include "feeder.h"
#include "layer.h"
#include "output_unit.h"
#include "pe_array.h"
#include "tokens.h"
#include "weight_feeder.h"

namespace bw {

/*
 * ROWS:       PE rows (output channels per tile).
 * COLS:       PE columns (output pixels per tile).
 * MAX_FM:     feeder's feature-map buffer, 64-bit words.
 * MAX_KWORDS: weight feeder's buffer, words per output channel.
 * MAX_OUT_C:  output unit's channel capacity.
 */
template <int ROWS, int COLS, int MAX_FM, int MAX_KWORDS, int MAX_OUT_C>
void run_layer(const Layer L, const word_t *weights, const int32_t *params, const word_t *arena_in, word_t *arena_out) {
#pragma HLS DATAFLOW
  hls::stream<ActVec<COLS> > act("act");
  hls::stream<WgtVec<ROWS> > wgt("wgt");
  hls::stream<AccRow<COLS> > acc("acc");
#pragma HLS STREAM variable = act depth = 4
#pragma HLS STREAM variable = wgt depth = 4
#pragma HLS STREAM variable = acc depth = 2 * ROWS
  feeder<COLS, MAX_FM>(L, arena_in, act);
  weight_feeder<ROWS, MAX_KWORDS>(L, weights, wgt);
  pe_array<ROWS, COLS>(L, act, wgt, acc);
  output_unit<ROWS, COLS, MAX_OUT_C, BW_MAX_BITS>(L, params, acc, arena_out);
}

/* Same template parameters as run_layer; the arguments are the kernel's (bitweave_array.cpp). */
template <int ROWS, int COLS, int MAX_FM, int MAX_KWORDS, int MAX_OUT_C>
void run_program(const uint32_t *program, uint32_t layers, const word_t *weights, const int32_t *params, word_t *arena,
                 uint32_t arena_words, uint32_t images) {
images:
  for (uint32_t i = 0; i < images; i++) {
#pragma HLS LOOP_TRIPCOUNT max = 64
    word_t *img = arena + (uint64_t)i * arena_words;
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
      const Layer L = decode_layer<ROWS, COLS>(d);
      run_layer<ROWS, COLS, MAX_FM, MAX_KWORDS, MAX_OUT_C>(L, weights, params, img, img);
    }
  }
}

}  // namespace bw

#endif
