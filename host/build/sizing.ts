/**
 * Array sizes for boards from the recorded yosys per-PE figures (host/array/resources.ts):
 * estimates of yosys' technology mapping, not Vivado / Quartus results; the sizing keeps a
 * margin for what place-and-route adds.
 */
import { BitweaveError } from '../core/errors';
import type { Board } from '../boards';
import { xcupCostPerPE } from '../array/resources';
import { DEFAULT_AXI_BUILD, AxiKernelBuild } from '../array/axi-kernel';
import { fitKernelRam, KernelRam, RAM_FRACTION, slrRam } from './kernel-ram';
import { INTEL_ARRAY_FRACTION, IntelResources, intelFit, sizeIntelArray } from './intel-estimate';

export interface ArraySize {
  rows: number;
  cols: number;
  pes: number;
  luts: number;
  ffs: number;
  estimate: true;
  note: string;
}

/**
 * The largest ROWS x COLS (powers of two, ROWS <= 64, COLS in [ROWS/4, 4·ROWS]; of equal
 * PE counts the one with fewer columns, which needs fewer arena copies) whose PEs fit
 * `fraction` of the board's LUTs and FFs with the measured per-PE cost, after `fixed`
 * LUTs / FFs for the sequencer, feeder and output units. An estimate, not a Vivado result.
 */
export function sizeArray(board: Board, perPE: { lut: number; ff: number }, opts: { fraction?: number; fixed?: { lut: number; ff: number }; accept?: (rows: number, cols: number) => boolean } = {}): ArraySize {
  const res = board.resources;
  if (!res || !res.lut) throw new BitweaveError(`board '${board.name}' lists no LUT count to size the array with`);
  if (!(perPE.lut > 0) || !(perPE.ff >= 0)) throw new BitweaveError('per-PE LUT / FF figures must be positive');
  const fraction = opts.fraction ?? 0.6;
  if (!(fraction > 0 && fraction <= 1)) throw new BitweaveError(`fraction must be in (0, 1], got ${fraction}`);
  const fixed = opts.fixed ?? { lut: 0, ff: 0 };
  const lutBudget = res.lut * fraction - fixed.lut;
  const ffBudget = (res.ff ?? Infinity) * fraction - fixed.ff;
  let best: ArraySize | null = null;
  for (let rows = 1; rows <= 64; rows *= 2) {
    for (let cols = Math.max(1, rows / 4); cols <= 4 * rows; cols *= 2) {
      const pes = rows * cols;
      const luts = pes * perPE.lut;
      const ffs = pes * perPE.ff;
      if (luts > lutBudget || ffs > ffBudget) continue;
      if (opts.accept && !opts.accept(rows, cols)) continue;
      if (!best || pes > best.pes || (pes === best.pes && cols < best.cols)) {
        best = { rows, cols, pes, luts: Math.round(luts + fixed.lut), ffs: Math.round(ffs + fixed.ff), estimate: true, note: '' };
      }
    }
  }
  if (!best) throw new BitweaveError(`board '${board.name}': not even a 1x1 array fits ${Math.round(fraction * 100)}% of its LUTs${opts.accept ? ' and the other limits' : ''}`);
  best.note = `estimate from yosys per-PE figures (${perPE.lut} LUT, ${perPE.ff} FF per PE) using ${Math.round(fraction * 100)}% of ${res.lut} LUTs; not a Vivado/Quartus result`;
  return best;
}

export interface BoardArray {
  rows: number;
  cols: number;
  /** How the size was chosen, one line (always says estimate where it is one). */
  note: string;
  estimate: boolean;
}

/**
 * The super logic regions (dies) of a board's part, from its file (`slrs`): how many there
 * are and which ones the platform's shell (static region) sits in. Stacked-silicon parts
 * (VU9P: 3 SLRs, U250: 4, U50: 2) cannot route one kernel across dies cheaply, so an array
 * must fit one SLR (UG1393 "Determining Where to Place the Kernels": size kernels per SLR
 * from the platform's per-SLR resources; keep about 10% for the infrastructure).
 */
export interface BoardSlrs {
  count: number;
  /** SLR indices that hold the shell (static region); no compute unit is placed there. */
  shell: number[];
  note?: string;
}

/** The board's SLR description, or null when the file has none (a single-die part). */
export function boardSlrs(board: Board): BoardSlrs | null {
  const raw = (board as Board & { slrs?: unknown }).slrs;
  if (raw === undefined || raw === null) return null;
  const s = raw as Partial<BoardSlrs>;
  const where = `board '${board.name}': slrs`;
  if (!Number.isInteger(s.count) || s.count! < 1 || s.count! > 8) throw new BitweaveError(`${where}.count must be an integer in 1..8`);
  if (!Array.isArray(s.shell) || s.shell.some((i) => !Number.isInteger(i) || i < 0 || i >= s.count!)) throw new BitweaveError(`${where}.shell must list SLR indices below ${s.count}`);
  if (s.shell.length >= s.count!) throw new BitweaveError(`${where}: the shell takes every SLR, no room for a kernel`);
  return { count: s.count!, shell: [...s.shell], note: s.note };
}

/** SLRs a compute unit may be placed in ('SLR0', …): every SLR without the shell, in order. */
export function kernelSlrs(board: Board): string[] {
  const s = boardSlrs(board);
  if (!s) return [];
  return Array.from({ length: s.count }, (_, i) => i).filter((i) => !s.shell.includes(i)).map((i) => `SLR${i}`);
}

/** Fraction of one SLR's (or the device's) LUTs and FFs the PEs of one array may take. */
export const ARRAY_FRACTION = 0.6;

/**
 * Arena words per PE-column copy the RTL kernel of a Vitis board must keep at least: 512 KiB,
 * a batch of 64 fashion-cnn-sized images (660 words each) in one call. Deeper is better
 * (fewer calls, larger models); an array whose memories leave less is not chosen.
 */
export const MIN_ARENA_WORDS = 1 << 16;

/**
 * The memories a Vitis board's RTL kernel starts from before its arena is fitted: the
 * default build with parameter and weight memories sized for one segment of a ResNet-18
 * (about 3,000 parameter words and 3,600 wide weight rows at 16 rows), since every PE row
 * keeps its own parameter copy and the arena needs the rest.
 */
export const VITIS_KERNEL_BASE: AxiKernelBuild = { ...DEFAULT_AXI_BUILD, paramDepth: 4096, weightRows: 8192 };

/**
 * The RTL kernel's build for a Vitis board's array: the default build with the deepest
 * arena whose on-chip memories fit one SLR's block RAM and UltraRAM (host/build/kernel-ram.ts),
 * or null when the board lists no RAM or nothing fits.
 */
export function boardKernelBuild(board: Board, array: { rows: number; cols: number }, base: AxiKernelBuild = VITIS_KERNEL_BASE, minWords?: number): { build: AxiKernelBuild; ram: KernelRam; budget: { uram: number; bram36: number } } | null {
  const budget = slrRam(board, boardSlrs(board)?.count ?? 1);
  if (!budget) return null;
  const fit = fitKernelRam(budget, array, base, minWords);
  return fit && { ...fit, budget };
}

/**
 * The array a board's builds and projections use: for Xilinx boards (Vitis flow, LUT
 * counts) the largest array `sizeArray` fits in 60% of the LUTs / FFs of one SLR (the
 * part's LUTs over its SLRs; one compute unit per SLR without the shell, see
 * `kernelSlrs`) with the recorded yosys per-PE cost, whose RTL kernel's memories also fit
 * the SLR's block RAM and UltraRAM with an arena of MIN_ARENA_WORDS per copy (the arena is
 * copied per PE column, so columns cost RAM as well as LUTs); elsewhere the board's
 * `defaultArray`. Estimates, not Vivado results.
 */
export function boardArray(board: Board): BoardArray {
  if (board.toolchain.name === 'vitis' && board.resources?.lut) {
    const pe = xcupCostPerPE();
    const fraction = ARRAY_FRACTION;
    const slrs = boardSlrs(board);
    const n = slrs?.count ?? 1;
    const res = board.resources;
    const perDie = { ...res, lut: Math.floor(res.lut! / n), ...(res.ff ? { ff: Math.floor(res.ff / n) } : {}) };
    const ramOk = (rows: number, cols: number) => slrRam(board, n) === null || boardKernelBuild(board, { rows, cols }, VITIS_KERNEL_BASE, MIN_ARENA_WORDS) !== null;
    const s = sizeArray({ ...board, resources: perDie }, pe, { fraction, accept: ramOk });
    const fmt = (v: number) => v.toLocaleString('en-US');
    const scope = slrs
      ? `${fraction * 100}% of one SLR's ${fmt(perDie.lut)} LUTs (the part's ${fmt(res.lut!)} over ${n} SLRs; one compute unit per SLR without the shell: ${kernelSlrs(board).join(', ')})`
      : `${fraction * 100}% of the board's ${fmt(res.lut!)} LUTs`;
    const ram = boardKernelBuild(board, s);
    const ramText = ram ? `, and whose RTL kernel's memories fit ${Math.round(100 * RAM_FRACTION)}% of that SLR's RAM with an arena of ${fmt((ram.build.arenaWords * 8) / 1024)} KiB per PE column (${ram.ram.uram} UltraRAM, ${ram.ram.bram36} RAMB36 of ${ram.budget.uram} and ${ram.budget.bram36})` : '';
    return { rows: s.rows, cols: s.cols, estimate: true, note: `the largest array whose PEs fit ${scope} at ${pe.lut} LUT / ${pe.ff} FF per PE (yosys figures of the RTL's PE grid)${ramText}; an estimate, not a Vivado result` };
  }
  const a = board.defaultArray;
  if (board.toolchain.name === 'intel-fpga-sdk-opencl' && board.resources?.alm) {
    // the board's array if the structural estimate says it fits with margin, else the largest that does
    const fmt = (v: number) => v.toLocaleString('en-US');
    const basis = (r: IntelResources) =>
      `estimated ${fmt(r.alm)} ALMs (${fmt(r.parts.pes)} for the PEs, ${fmt(r.parts.lsus)} for ${r.lsus.total} load/store units) and ${fmt(r.m20k)} M20Ks ` +
      `(a weight store of ${fmt(r.weightWords)} words) within ${INTEL_ARRAY_FRACTION * 100}% of the device; ` +
      'counted from the kernels\' structure (host/build/intel-estimate.ts), not an aoc report';
    const own = intelFit(board, a);
    if (own) return { rows: a.rows, cols: a.cols, estimate: true, note: `the board's default array: ${basis(own)}` };
    const s = sizeIntelArray(board);
    if (s) return { rows: s.rows, cols: s.cols, estimate: true, note: `the largest array that fits (the board's ${a.rows}x${a.cols} does not): ${basis(s)}` };
  }
  return { rows: a.rows, cols: a.cols, estimate: a.estimate, note: `the board's default array${a.estimate ? ' (an estimate)' : ''}` };
}
