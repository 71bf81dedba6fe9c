/*
 * hls::stream: the real Vitis HLS class when its header is on the include path (Vitis HLS
 * csim, csynth, cosim), the in-project stand-in otherwise (plain g++ C-simulation).
 */
#ifndef BW_STREAM_H
#define BW_STREAM_H

#if defined(__has_include)
#if __has_include(<hls_stream.h>)
#include <hls_stream.h>
#define BW_REAL_HLS_STREAM 1
#endif
#endif

#ifndef BW_REAL_HLS_STREAM
#include "hls_stream_sim.h"
#endif

#endif
