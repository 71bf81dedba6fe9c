/*
 * The streams that link the array's three kernels (DESIGN section 3):
 *   act: feeder -> PE array, one bw_act per k-step (the BW_COLS activation words of a cycle)
 *   acc: PE array -> output units, one bw_acc per tile column (its BW_ROWS accumulators)
 *
 * Intel FPGA (aoc, BW_INTEL_FPGA defined by the build's AOC_FLAGS): channels, so the three
 * kernels run at once as a spatial pipeline and a tile's drain overlaps the next tile's
 * compute. Everywhere else (PoCL): the "FIFO" argument of each stream is a buffer in global
 * memory that the producer fills and the consumer, launched after it on the in-order queue,
 * drains; the host sizes it for one layer over one launch's images. The kernel bodies are
 * the same in both variants; only BW_PUSH / BW_POP differ, so PoCL checks the arithmetic
 * of the code aoc compiles.
 *
 * Every kernel takes its FIFO arguments in both variants (one ABI, host/array/kernel-abi.ts);
 * on Intel they are unused and cost no load/store unit.
 */

typedef struct { ulong w[BW_COLS]; } bw_act;
typedef struct { int v[BW_ROWS]; } bw_acc;

/* The PE array's on-chip store of one slot's activation words (BW_REPLAY_STEPS k-steps of
 * BW_COLS words, from the generated header): a layer without pool uses a slot for every
 * channel group, so when its k-steps fit, the feeder streams them once and the PE array
 * replays them for the other groups. */

/* Whether a layer's slots are streamed once and replayed (the feeder and the PE array
 * decide alike). */
inline bool bw_replays(uint ksteps, uint reps) { return reps > 1 && ksteps <= BW_REPLAY_STEPS; }

#ifdef BW_INTEL_FPGA
#pragma OPENCL EXTENSION cl_intel_channels : enable
channel bw_act bw_act_ch __attribute__((depth(64)));
channel bw_acc bw_acc_ch __attribute__((depth(2 * BW_COLS)));
/* output units -> feeder: layer l's outputs are in memory, layer l+1 may read them */
channel uint bw_layer_ch __attribute__((depth(1)));
#define BW_STREAM_STATE(name)
#define BW_PUSH(name, fifo, v) write_channel_intel(bw_##name##_ch, v)
#define BW_POP(name, fifo) read_channel_intel(bw_##name##_ch)
#define BW_LAYER_DONE(l)                                        \
  do {                                                          \
    mem_fence(CLK_GLOBAL_MEM_FENCE | CLK_CHANNEL_MEM_FENCE);    \
    write_channel_intel(bw_layer_ch, l);                        \
  } while (0)
#define BW_LAYER_WAIT()                                         \
  do {                                                          \
    (void)read_channel_intel(bw_layer_ch);                      \
    mem_fence(CLK_GLOBAL_MEM_FENCE | CLK_CHANNEL_MEM_FENCE);    \
  } while (0)
/* the feeder reads what the output units of the previous layer wrote during the same
 * launch: no cached load unit may serve it stale words */
#define BW_ARENA_IN volatile
#else
#define BW_STREAM_STATE(name) uint name##_n = 0
#define BW_PUSH(name, fifo, v) (fifo[name##_n++] = (v))
#define BW_POP(name, fifo) (fifo[name##_n++])
/* PoCL runs one layer per launch of each kernel, in order: nothing to wait for */
#define BW_LAYER_DONE(l)
#define BW_LAYER_WAIT()
#define BW_ARENA_IN
#endif

#ifdef BW_INTEL_FPGA
/* Tells the host (host/array/kernel-abi.ts CHANNELS_MARKER) that the streams are channels:
 * the three kernels must run at once, on separate queues. */
__kernel void bw_streams_are_channels(void) {}
#endif
