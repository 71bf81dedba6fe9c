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
  'OPCODE', // OP_* bits: epilogue, pool, PE mode and the operands' signedness
  'IN_H', 'IN_W', 'IN_C', // input geometry (channels = real bits per plane)
  'IN_WORDS', // 64-bit words per plane of one input pixel = ceil(IN_C / 64)
  'IN_PLANES', // input activation bits (1 = bipolar ±1)
  'KH', 'KW', 'SH', 'SW', 'PH', 'PW',
  'PAD_BIT', // bit every plane of a padded pixel holds in its real channel bits
  'OUT_C',
  'ACC_H', 'ACC_W', // accumulator map before the pool
  'OUT_H', 'OUT_W', // output map (after the pool)
  'POOL_KH', 'POOL_KW', 'POOL_SH', 'POOL_SW', 'POOL_PH', 'POOL_PW',
  'OUT_BITS', // threshold epilogue: output activation bits (thresholds per channel = 2^OUT_BITS - 1)
  'TAIL', // xnor correction: KH*KW*(64*IN_WORDS - IN_C), subtracted from the popcount
  'IN_OFF', 'OUT_OFF', 'W_OFF', 'T_OFF', 'F_OFF',
  'W_BITS', // weight bit-planes (1 = bipolar ±1 weights), each [OUT_C] x KH x KW x IN_WORDS words
] as const;

export type DescField = (typeof DESC_FIELDS)[number];
export const DESC_WORDS = DESC_FIELDS.length;
export const FIELD: Readonly<Record<DescField, number>> = Object.fromEntries(DESC_FIELDS.map((f, i) => [f, i])) as Record<DescField, number>;

/** Threshold epilogue (else int32 outputs). */
export const OP_THRESHOLD = 1;
/** Integer max / min pool before the epilogue. */
export const OP_POOL = 2;
/**
 * AND mode: some operand is a k-bit integer (IN_PLANES > 1 or W_BITS > 1), so the PEs add
 * AND popcounts per (activation plane, weight plane) pass; without it, 1-bit x 1-bit XNOR.
 */
export const OP_AND_PLANES = 4;
/** Activations are two's complement (IN_PLANES >= 2): plane IN_PLANES-1 weighs -2^(IN_PLANES-1). */
export const OP_IN_SIGNED = 8;
/** Weights are two's complement (W_BITS >= 2): plane W_BITS-1 weighs -2^(W_BITS-1). */
export const OP_W_SIGNED = 16;
/** Signed threshold outputs (OUT_BITS >= 2): level n is stored as n - 2^(OUT_BITS-1), its top bit inverted. */
export const OP_OUT_SIGNED = 32;

/**
 * The PE's term in AND mode, by which operand is bipolar (a 1-bit ±1 operand x = 2·bit − 1
 * contributes 2·popcount(a AND w) minus the other operand's ones); each pass (activation
 * plane p, weight plane q) adds ±2^(p+q) times it, negative when exactly one of the two
 * planes is a signed top plane. XNOR mode (1-bit x 1-bit) adds popcount(~(a XOR w)).
 */
export const PE_MODE = {
  /** 1-bit x 1-bit: popcount(~(a ^ w)), no shift or sign. */
  XNOR: 0,
  /** k-bit activations x ±1 weights: 2·popcount(a & w) − popcount(a). */
  AND_SUB_A: 1,
  /** ±1 activations x k-bit weights: 2·popcount(a & w) − popcount(w). */
  AND_SUB_W: 2,
  /** k-bit activations x k-bit weights: popcount(a & w). */
  AND: 3,
} as const;

/** The PE mode of a layer with `inPlanes` activation and `wBits` weight planes. */
export function peMode(inPlanes: number, wBits: number): number {
  if (inPlanes === 1) return wBits === 1 ? PE_MODE.XNOR : PE_MODE.AND_SUB_W;
  return wBits === 1 ? PE_MODE.AND_SUB_A : PE_MODE.AND;
}

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
