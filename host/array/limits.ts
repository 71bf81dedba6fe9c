/**
 * Every limit, build parameter and error code that the array's implementations share,
 * written once. header.ts writes them into the generated headers (bitweave_array.h for C,
 * OpenCL C and HLS C++; bitweave_array.svh for SystemVerilog), the FFI bindings import
 * them from here, and descriptor.ts checks layer programs against them, so no kernel,
 * harness or binding restates a number. (The array's shape, ROWS × COLS, WORD and the
 * accumulator width, is in params.ts.)
 */

/** Activation and output bits (bit-planes) of any layer: the model validator and every kernel. */
export const MAX_BITS = 8;

/** Weight bits (bit-planes) of any layer: the model validator and every kernel. */
export const MAX_W_BITS = 4;

/** Offsets, sizes and loop bounds the kernels compute in unsigned 32-bit arithmetic stay below this. */
export const INDEX_LIMIT = 2 ** 31;

/** Images in one call into a backend (a caller bug beyond this). */
export const MAX_BATCH = 65536;

/**
 * Bytes of one activation arena an accelerator backend hands to its kernel in one call;
 * a larger batch is run as several calls (one image must fit).
 */
export const ARENA_CALL_BYTES = 2 ** 30;

/** The HLS kernel's on-chip buffers (one compute unit); a layer beyond them is refused before it runs. */
export const HLS_BUFFERS = {
  /** Input feature map of one image, 64-bit words over all planes. */
  maxFmWords: 65536,
  /** Weight words of one output channel (W_BITS·KH·KW·IN_WORDS). */
  maxKWords: 4096,
  /** Output channels of one layer. */
  maxOutC: 4096,
} as const;

/** The OpenCL array kernels' on-chip buffers (opencl-kernels/). */
export const OPENCL_BUFFERS = {
  /** K-steps of one slot's activation words the PE array stores to replay them for every channel group (stream.cl). */
  replaySteps: 256,
  /** 64-bit words of one layer's weights the PE array holds on chip (as wide rows of ROWS words); larger layers stream them per tile. */
  weightWords: 32768,
} as const;

/** Array shapes the HLS C-simulation library carries besides the header's (tests move every tile edge). */
export const HLS_CSIM_SHAPES: readonly { rows: number; cols: number }[] = [
  { rows: 3, cols: 5 },
  { rows: 1, cols: 1 },
];

/** Build parameters of the RTL array (sim/bw_top.sv takes them from the generated package). */
export const RTL_BUILD = {
  /** Output activation bits the row units' threshold registers hold. */
  maxOutBits: 2,
  /** Channel groups (of ROWS channels) the row units' parameter RAM holds. */
  paramDepth: 512,
  /** Tile-ring slots between the sequencer and the feeder / output unit. */
  tileSlots: 16,
  /** Output columns the drain moves per cycle; 0 means COLS (a whole tile per cycle). */
  drain: 0,
  /** Width of the sequencer's loop fields (geometry, words per window / row / pixel). */
  loopBits: 16,
} as const;

/** Bits of the RTL sequencer's `err` output: why it refused a layer program. */
export const RTL_ERR_BITS = {
  /** output bits 0 or above RTL_BUILD.maxOutBits */
  OUT_BITS: 1,
  /** more channel groups than RTL_BUILD.paramDepth */
  GROUPS: 2,
  /** input planes 0 or above MAX_BITS, or weight planes 0 or above MAX_W_BITS */
  PLANES: 4,
  /** a loop field above 2^loopBits - 1 */
  LOOP: 8,
} as const;

/**
 * The dev-board SoC's build of the array (sim/soc/bw_soc.sv): one output column leaves the
 * array per cycle and outputs are 1-bit, so the on-chip arena takes one write per cycle.
 */
export const SOC_BUILD = {
  /** Output columns drained per cycle. */
  drain: 1,
  /** Output activation bits of threshold layers. */
  maxOutBits: 1,
} as const;

/** One error code of a native ABI: its value and what it means. */
export interface ErrorCode {
  code: number;
  meaning: string;
}

/** Return codes of the Verilator model's C ABI (sim/bw_rtl.h): BWRTL_<name>. */
export const RTL_ERRORS = {
  OK: { code: 0, meaning: 'ok' },
  E_ARG: { code: -1, meaning: 'bad argument' },
  E_RANGE: { code: -2, meaning: 'out of range' },
  E_NOMEM: { code: -3, meaning: 'out of memory' },
  E_STATE: { code: -4, meaning: 'bad state' },
  E_ACCESS: { code: -5, meaning: 'bad memory access by the RTL' },
  E_RTL: { code: -6, meaning: 'program rejected by the RTL' },
} as const satisfies Record<string, ErrorCode>;

/** Return codes of the AXI kernel model's C ABI (sim/axi/bw_axi_sim.h): BWAXI_<name>. */
export const AXI_SIM_ERRORS = {
  OK: { code: 0, meaning: 'ok' },
  E_ARG: { code: -1, meaning: 'bad argument' },
  E_RANGE: { code: -2, meaning: 'outside a buffer' },
  E_NOMEM: { code: -3, meaning: 'out of memory' },
  E_ACCESS: { code: -4, meaning: 'the kernel accessed memory outside a buffer or broke the AXI rules' },
  E_TIMEOUT: { code: -5, meaning: 'no answer within the cycles given' },
} as const satisfies Record<string, ErrorCode>;

/** Return codes of the HLS C-simulation library's C ABI (hls/csim/bw_hls_csim.cpp): BW_HLS_<name>. */
export const HLS_ERRORS = {
  OK: { code: 0, meaning: 'ok' },
  E_ARG: { code: -1, meaning: 'bad argument' },
  E_PROGRAM: { code: -2, meaning: 'inconsistent layer program' },
  E_LIMIT: { code: -3, meaning: 'layer exceeds an on-chip buffer of the kernel' },
} as const satisfies Record<string, ErrorCode>;

/** Return codes of the native CPU engine's run functions (host/native/engine.h): BW_<name>. */
export const NATIVE_ERRORS = {
  OK: { code: 0, meaning: 'ok' },
  E_SIZE: { code: -1, meaning: "an element count does not match the op's geometry" },
  E_NOMEM: { code: -2, meaning: 'scratch allocation failed' },
  E_ARG: { code: -3, meaning: 'a scalar argument is out of range' },
} as const satisfies Record<string, ErrorCode>;

/** The meaning of `code` in one of the tables above. */
export function errorMeaning(table: Record<string, ErrorCode>, code: number): string {
  return Object.values(table).find((e) => e.code === code)?.meaning ?? `error code ${code}`;
}
