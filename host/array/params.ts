/**
 * Parameters and the layer-descriptor layout shared by the three implementations of the
 * array (opencl-kernels/, hls/, sim/). This file is the single source: header.ts turns it
 * into bitweave_array.h (C, OpenCL C, HLS C++) and bitweave_array.svh (SystemVerilog), so
 * the three cannot drift.
 */

export interface ArrayParams {
  /** Output channels per tile (PE rows). */
  rows: number;
  /** Output pixels per tile (PE columns). */
  cols: number;
  /** Bits per weight / activation word each PE consumes per cycle. */
  word: 64;
  /** Accumulator width in bits (holds P up to kh*kw*inC, or the k-bit dot product). */
  accBits: number;
  /** RTL only: output columns the drain moves per cycle (divides cols; default cols). */
  drain?: number;
}

export const DEFAULT_ARRAY: ArrayParams = { rows: 8, cols: 8, word: 64, accBits: 24 };

/**
 * One layer descriptor = DESC_WORDS uint32 fields, in this order. Offsets are in 64-bit
 * words of the image's activation arena (IN_OFF, OUT_OFF) or of the weight buffer
 * (W_OFF), and in int32 entries of the parameter buffer (T_OFF, F_OFF).
 */
export const DESC_FIELDS = [
  'OPCODE', // bit 0: threshold epilogue (else int32 out); bit 1: integer pool; bit 2: AND bit-plane mode
  'IN_H', 'IN_W', 'IN_C', // input geometry (channels = real bits per plane)
  'IN_WORDS', // 64-bit words per plane of one input pixel = ceil(IN_C / 64)
  'IN_PLANES', // input activation bits (1 = xnor mode)
  'KH', 'KW', 'SH', 'SW', 'PH', 'PW',
  'PAD_BIT', // bit every plane of a padded pixel holds in its real channel bits
  'OUT_C',
  'ACC_H', 'ACC_W', // accumulator map before the pool
  'OUT_H', 'OUT_W', // output map (after the pool)
  'POOL_KH', 'POOL_KW', 'POOL_SH', 'POOL_SW', 'POOL_PH', 'POOL_PW',
  'OUT_BITS', // threshold epilogue: output activation bits (thresholds per channel = 2^OUT_BITS - 1)
  'TAIL', // xnor correction: KH*KW*(64*IN_WORDS - IN_C), subtracted from the popcount
  'IN_OFF', 'OUT_OFF', 'W_OFF', 'T_OFF', 'F_OFF',
  'RESERVED',
] as const;

export type DescField = (typeof DESC_FIELDS)[number];
export const DESC_WORDS = DESC_FIELDS.length;
export const FIELD: Readonly<Record<DescField, number>> = Object.fromEntries(DESC_FIELDS.map((f, i) => [f, i])) as Record<DescField, number>;

export const OP_THRESHOLD = 1;
export const OP_POOL = 2;
export const OP_AND_PLANES = 4;

/** Per-channel flag word at F_OFF: bit 0 flip, bit 1 pool with min. */
export const FLAG_FLIP = 1;
export const FLAG_POOL_MIN = 2;

/**
 * Why an array geometry is unsupported, or null. The kernels pack one tile's ROWS output
 * channels into one 64-bit output word (so ROWS divides 64) and keep 64-bit row and
 * column masks (so COLS <= 64).
 */
export function arrayGeometryProblem(p: Pick<ArrayParams, 'rows' | 'cols'>): string | null {
  const { rows, cols } = p;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || rows > 64 || cols > 64 || 64 % rows !== 0) {
    return `array ROWS x COLS = ${rows}x${cols} unsupported (ROWS must divide 64, COLS in 1..64)`;
  }
  return null;
}
