/**
 * The RTL array as a Vitis RTL kernel (sim/axi/bw_axi_kernel.sv): its AXI4-Lite register
 * map, its AXI4 master ports and its build. One source for the SystemVerilog wrapper (the
 * offsets reach it through the generated package), the Vitis packaging (kernel.xml,
 * package_xo.tcl, the v++ connectivity) and the hosts that drive it (XRT on a board, the
 * `axi-sim` backend in simulation).
 *
 * Control follows Vitis' ap_ctrl_hs protocol (UG1393, "RTL Kernels": kernel interface
 * requirements and the register map of the control block):
 *   0x00 control  bit 0 ap_start (host sets; the kernel clears it when it takes the start),
 *                 bit 1 ap_done (clear on read), bit 2 ap_idle, bit 3 ap_ready
 *   0x04 GIE      global interrupt enable (bit 0)
 *   0x08 IER      interrupt enable (bit 0: ap_done)
 *   0x0C ISR      interrupt status (bit 0: ap_done; toggle on write)
 *   0x10 …        the arguments below, 8 bytes apart (pointers: low word, then high word)
 *
 * The arguments are the array kernel's (kernel-abi.ts: program, layers, weights, params,
 * arena, arena_words, images) and more that the RTL needs because it stages buffers in
 * on-chip memories: how many weight and parameter words to stage, and whether to stage
 * them at all (a second call on the same program skips it); and which part of each
 * image's arena to copy in (its first in_words: a segment's inputs come first) and back
 * (out_off, out_words: its outputs' window), so only what crosses the segment's boundary
 * moves over DDR; and how many images the array takes per run (chunk): a chunk runs while
 * the next chunks' inputs arrive and the last one's outputs leave (axiChunk picks it).
 * Weights are in wide rows of ROWS 64-bit words (the array's WIDE_WEIGHTS layout,
 * host/array/wide.ts), W_OFF in rows. arena_words must be whole arena rows
 * (axiArenaRowWords): each image's copies start on a row and a beat.
 */
import { KERNEL_NAME } from './kernel-abi';
import { programCycles } from './cycles';
import { ArrayParams } from './params';
import { LayerProgram } from './program';

export { KERNEL_NAME };

/** The AXI4 master ports (Vitis m_axi interfaces) and what each carries. */
export const AXI_MASTERS = ['m_axi_gmem0', 'm_axi_gmem1', 'm_axi_gmem2'] as const;
export type AxiMaster = (typeof AXI_MASTERS)[number];

export interface AxiKernelArg {
  name: string;
  /** Byte offset of the argument in the AXI4-Lite control space. */
  offset: number;
  /** Bytes the argument occupies (8: a 64-bit device address). */
  size: 4 | 8;
  /** The master a pointer is read or written through, or null for a scalar. */
  master: AxiMaster | null;
  /** kernel.xml type. */
  type: 'uint' | 'uint*' | 'int*' | 'ulong*';
  /** What it means, one line (also the kernel.xml / docs text). */
  doc: string;
}

export const AXI_CONTROL = {
  /** ap_start / ap_done / ap_idle / ap_ready. */
  CTRL: 0x00,
  GIE: 0x04,
  IER: 0x08,
  ISR: 0x0c,
} as const;

/** Bits of the control register. */
export const AP = { START: 1, DONE: 2, IDLE: 4, READY: 8 } as const;

export const AXI_KERNEL_ARGS: readonly AxiKernelArg[] = Object.freeze([
  { name: 'program', offset: 0x10, size: 8, master: 'm_axi_gmem0', type: 'uint*', doc: 'layer descriptors, layers x DESC_WORDS uint32' },
  { name: 'layers', offset: 0x18, size: 4, master: null, type: 'uint', doc: 'descriptors in program' },
  { name: 'weights', offset: 0x20, size: 8, master: 'm_axi_gmem1', type: 'ulong*', doc: 'weights in wide rows of ROWS 64-bit words' },
  { name: 'params', offset: 0x28, size: 8, master: 'm_axi_gmem0', type: 'int*', doc: 'thresholds and per-channel flags, int32' },
  { name: 'arena', offset: 0x30, size: 8, master: 'm_axi_gmem2', type: 'ulong*', doc: 'activation arenas of the images, images x arena_words 64-bit words' },
  { name: 'arena_words', offset: 0x38, size: 4, master: null, type: 'uint', doc: "64-bit words of one image's arena" },
  { name: 'images', offset: 0x40, size: 4, master: null, type: 'uint', doc: 'images in this call' },
  { name: 'weight_words', offset: 0x48, size: 4, master: null, type: 'uint', doc: '64-bit weight words to stage (a multiple of ROWS)' },
  { name: 'param_words', offset: 0x50, size: 4, master: null, type: 'uint', doc: 'int32 parameter words to stage' },
  { name: 'stage', offset: 0x58, size: 4, master: null, type: 'uint', doc: '1: stage program, params and weights before running; 0: run on what the last call staged' },
  { name: 'in_words', offset: 0x60, size: 4, master: null, type: 'uint', doc: "64-bit words at the start of each image's arena copied in (the segment's inputs)" },
  { name: 'out_off', offset: 0x68, size: 4, master: null, type: 'uint', doc: "first 64-bit word of each image's arena copied back (its outputs' window)" },
  { name: 'out_words', offset: 0x70, size: 4, master: null, type: 'uint', doc: '64-bit words of that window' },
  { name: 'chunk', offset: 0x78, size: 4, master: null, type: 'uint', doc: 'images per array run (0: all): copies overlap the runs of other chunks' },
]);

/**
 * Read-only status registers after the arguments (not kernel arguments: XRT does not set
 * them; a host reads them with xrt::ip / xclRegRead, and the simulation does).
 */
export const AXI_STATUS = {
  /** Kernel cycles of the last call, from ap_start to ap_done (low, high word). */
  CYCLES_LO: 0x80,
  CYCLES_HI: 0x84,
  /** Array cycles of the last call (bw_top busy), low word. */
  ARRAY_CYCLES: 0x88,
  /** The array's error bits (RTL_ERR_BITS) of the last call; 0 when it ran. */
  ERR: 0x8c,
  /** Build facts: ROWS | COLS << 8 | log2(data bytes) << 16 | version << 24. */
  INFO: 0x90,
} as const;

/** Bits of the ERR status register besides the array's own (RTL_ERR_BITS, bits 0..7). */
export const AXI_ERR_BITS = {
  /** the arguments do not fit the on-chip memories (or layers / images / arena_words is 0): nothing ran */
  SIZE: 1 << 16,
  /** a read or write response was SLVERR / DECERR, or a copy overran its memory */
  BUS: 1 << 17,
} as const;

/** Width of the control space's addresses (bits). */
export const AXI_CONTROL_ADDR_BITS = 8;

/** The kernel's build (the parameters of bw_axi_kernel a board build sets). */
export interface AxiKernelBuild {
  /** AXI4 master data width in bits (64..512, a power of two). */
  dataBits: number;
  /** Read bursts a master keeps in flight. */
  outstanding: number;
  /** Beats per burst at most (AXI4: 256; bursts never cross a 4 KiB boundary). */
  maxBurst: number;
  /** On-chip memories: descriptor words, parameter words (per PE row), wide weight rows, arena words (per PE column). */
  descDepth: number;
  paramDepth: number;
  weightRows: number;
  arenaWords: number;
}

/** The kernel's array build: like the dev-board SoC, one output column per cycle, 1-bit outputs (the on-chip arena takes one write per cycle). */
export const AXI_BUILD = { drain: 1, maxOutBits: 1 } as const;

export const AXI_KERNEL_VERSION = 3;

/** 64-bit words per on-chip arena row (and per DMA unit): max(data width, ROWS int32) / 64; arena_words is a multiple. */
export function axiArenaRowWords(rows: number, dataBits: number): number {
  return Math.max(dataBits, rows * 32) / 64;
}

/** The default build (the simulation's and a board's unless its file says otherwise). */
export const DEFAULT_AXI_BUILD: AxiKernelBuild = {
  dataBits: 512,
  outstanding: 8,
  maxBurst: 64,
  descDepth: 2048,
  paramDepth: 16384,
  weightRows: 16384,
  arenaWords: 1 << 17,
};

/** What crosses a segment's boundary in each image's arena: its inputs (first) and the window of its outputs. */
export function arenaWindows(prog: LayerProgram): { in_words: number; out_off: number; out_words: number } {
  const inEnd = Math.max(0, ...prog.inputs.map((r) => r.offset + r.words));
  if (prog.inputs.reduce((s, r) => s + r.words, 0) !== inEnd) throw new Error(`segment ${prog.segment}'s inputs do not fill the start of its arena`);
  const lo = Math.min(...prog.outputs.map((r) => r.offset));
  const hi = Math.max(...prog.outputs.map((r) => r.offset + r.words));
  return prog.outputs.length ? { in_words: inEnd, out_off: lo, out_words: hi - lo } : { in_words: inEnd, out_off: 0, out_words: 0 };
}

/** A DDR channel as the kernel sees it: latencies in cycles, sustained bytes per cycle (boards' memory.axi). */
export interface AxiChannel {
  readLatency: number;
  writeLatency: number;
  bytesPerCycle: number;
}

/**
 * Images per array run (the `chunk` argument) for a call of `images` images: the one that
 * minimises an estimate of the call, the array's runs (the cycle model) overlapped with the
 * copies of the other chunks (the next chunk's inputs and the last chunk's outputs share
 * the channel), plus the first chunk's inputs and the last chunk's outputs, which nothing
 * overlaps. More chunks hide more traffic but each run pays the array's per-layer fill and
 * drain again, and chunks smaller than COLS leave tiles of image-per-pixel layers part empty.
 */
export function axiChunk(prog: LayerProgram, images: number, p: ArrayParams & { dataBits: number }, ch: AxiChannel): number {
  const w = arenaWindows(prog);
  const row = axiArenaRowWords(p.rows, p.dataBits);
  // bytes per image each way: whole on-chip rows, as the kernel copies them
  const inB = Math.ceil(w.in_words / row) * row * 8;
  const outB = w.out_words ? (Math.ceil((w.out_off + w.out_words) / row) - Math.floor(w.out_off / row)) * row * 8 : 0;
  const tin = (n: number) => (inB ? ch.readLatency + (n * inB) / ch.bytesPerCycle : 0);
  const tout = (n: number) => (outB ? ch.writeLatency + (n * outB) / ch.bytesPerCycle : 0);
  const runs = new Map<number, number>();
  const run = (n: number) => {
    if (!runs.has(n)) runs.set(n, programCycles(prog, n, p).reduce((s, l) => s + l.cycles, 0));
    return runs.get(n)!;
  };
  let best = images;
  let bestT = Infinity;
  const tried = new Set<number>();
  for (let k = 1; k <= Math.min(images, 64); k++) {
    const c = Math.ceil(images / k);
    if (tried.has(c)) continue;
    tried.add(c);
    const sizes = Array.from({ length: Math.ceil(images / c) }, (_, i) => Math.min(c, images - i * c));
    let t = tin(sizes[0]);
    sizes.forEach((n, i) => {
      const dma = (i + 1 < sizes.length ? tin(sizes[i + 1]) : 0) + (i > 0 ? tout(sizes[i - 1]) : 0);
      t += Math.max(run(n), dma);
    });
    t += tout(sizes[sizes.length - 1]);
    if (t < bestT) {
      bestT = t;
      best = c;
    }
  }
  return best;
}
