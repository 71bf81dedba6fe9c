/**
 * On-chip RAM of the RTL kernel (sim/axi/bw_axi_kernel.sv) in Xilinx block RAM primitives,
 * and the arena depth a board's SLR can hold. The kernel's memories (module parameters in
 * `AxiKernelBuild`): descriptors, parameters (one copy per PE row), weights (wide rows),
 * and the arena, which dominates: COLS + 1 copies (one per PE column, one for the writes),
 * each in two banks of AW-bit rows. Counted with the primitives' geometry (UltraScale+
 * UltraRAM: 72 bits x 4,096; block RAM in its widest simple-dual-port shape: 72 bits x
 * 512 per RAMB36), each memory wholly in one kind, the split that leaves the most block
 * RAM. An estimate of what Vivado infers, not a Vivado result.
 */
import type { Board } from '../boards';
import { axiArenaRowWords, AxiKernelBuild } from '../array/axi-kernel';

const URAM = { width: 72, depth: 4096 };
const BRAM36 = { width: 72, depth: 512 };

/** One memory of the kernel: `copies` arrays of `depth` words of `width` bits (the arena's two banks count as copies). */
export interface KernelMemory {
  name: string;
  width: number;
  depth: number;
  copies: number;
}

export interface KernelRam {
  memories: (KernelMemory & { primitive: 'uram' | 'bram36'; count: number })[];
  uram: number;
  bram36: number;
}

function prims(m: KernelMemory, p: { width: number; depth: number }): number {
  return Math.ceil(m.width / p.width) * Math.ceil(m.depth / p.depth) * m.copies;
}

/** The kernel's memories at an array size and build (widths and depths as the RTL declares them). */
export function kernelMemories(array: { rows: number; cols: number }, b: AxiKernelBuild): KernelMemory[] {
  const dw = b.dataBits;
  const line = (itemBits: number, items: number) => {
    const lw = Math.max(dw, itemBits);
    return { width: lw, depth: Math.ceil((items * itemBits) / lw) };
  };
  const aw = axiArenaRowWords(array.rows, dw) * 64;
  const arenaRows = (b.arenaWords * 64) / aw;
  return [
    { name: 'descriptors', ...line(32, b.descDepth), copies: 1 },
    { name: 'parameters', ...line(32, b.paramDepth), copies: array.rows },
    { name: 'weights', ...line(array.rows * 64, b.weightRows), copies: 1 },
    // two banks (even and odd rows) per copy
    { name: 'arena', width: aw, depth: Math.ceil(arenaRows / 2), copies: (array.cols + 1) * 2 },
  ];
}

/**
 * Primitives for the kernel's memories with `uramAvailable` UltraRAMs: of every split of
 * the memories between UltraRAM and block RAM that stays within the UltraRAMs, the one
 * that needs the fewest RAMB36 (ties: fewer UltraRAMs).
 */
export function kernelRam(array: { rows: number; cols: number }, b: AxiKernelBuild, uramAvailable = Infinity): KernelRam {
  const mems = kernelMemories(array, b);
  let best: KernelRam | null = null;
  for (let mask = 0; mask < 1 << mems.length; mask++) {
    const memories = mems.map((m, i) => {
      const primitive: 'uram' | 'bram36' = mask & (1 << i) ? 'uram' : 'bram36';
      return { ...m, primitive, count: prims(m, primitive === 'uram' ? URAM : BRAM36) };
    });
    const uram = memories.filter((m) => m.primitive === 'uram').reduce((s, m) => s + m.count, 0);
    const bram36 = memories.filter((m) => m.primitive === 'bram36').reduce((s, m) => s + m.count, 0);
    if (uram > uramAvailable) continue;
    if (!best || bram36 < best.bram36 || (bram36 === best.bram36 && uram < best.uram)) best = { memories, uram, bram36 };
  }
  return best!;
}

/** Fraction of an SLR's block RAM and UltraRAM one compute unit may take (the rest: the DMA's FIFOs, the platform's infrastructure). */
export const RAM_FRACTION = 0.9;

/** UltraRAMs and RAMB36s of one SLR of the board (the part's over its `slrs` SLRs), times RAM_FRACTION; null when the board file lists no block RAM. */
export function slrRam(board: Board, slrs: number): { uram: number; bram36: number } | null {
  const res = board.resources as (Board['resources'] & { uram?: number; bram36k?: number }) | undefined;
  if (!res || res.bram36k === undefined) return null;
  return { uram: Math.floor(((res.uram ?? 0) / slrs) * RAM_FRACTION), bram36: Math.floor((res.bram36k / slrs) * RAM_FRACTION) };
}

/**
 * The kernel build for an array in `budget` (one SLR's RAM): `base` with the deepest arena
 * (halving from base.arenaWords, at least `minWords`) whose memories fit, or null.
 */
export function fitKernelRam(budget: { uram: number; bram36: number }, array: { rows: number; cols: number }, base: AxiKernelBuild, minWords = 2 * axiArenaRowWords(array.rows, base.dataBits)): { build: AxiKernelBuild; ram: KernelRam } | null {
  for (let words = base.arenaWords; words >= minWords; words /= 2) {
    const build = { ...base, arenaWords: words };
    const ram = kernelRam(array, build, budget.uram);
    if (ram.uram <= budget.uram && ram.bram36 <= budget.bram36) return { build, ram };
  }
  return null;
}
