/**
 * Cycles per image of a model on a Vitis board's RTL kernel with its memory traffic: the
 * model's device segments run on the kernel behind its AXI interfaces (the axi-sim backend
 * built for the board's array, `make axi-variant ROWS= COLS=`) with the board's DDR figures,
 * two batches of random images (the cycles do not depend on the data); the second batch is
 * the steady state (a program staged by the first call of a segment stays on chip until
 * another segment's call replaces it). Simulated cycles, projected to a clock by the caller:
 * not a measurement.
 */
import { BitweaveError } from '../core/errors';
import { CompiledModel, tensorLength } from '../compile/model';
import { axiMemory, Board } from '../boards';
import { AxiSimBackend } from '../backends/axi-sim';
import { TensorData } from '../runtime/backend';
import { boardArray, boardKernelBuild } from './sizing';

export interface AxiProjection {
  source: 'axi-sim';
  batch: number;
  /** Steady state: the second batch's kernel cycles (ap_start .. ap_done, memory traffic included) per image. */
  kernelCyclesPerImage: number;
  /** The array's share of them (its runs of the kernel's chunks; the cycle model's). */
  arrayCyclesPerImage: number;
  /** The cycle model's array cycles for the batch in one run: the array-only rate the kernel is measured against. */
  arrayOnlyCyclesPerImage: number;
  /** The first batch, which stages every segment's program: kernel cycles per image. */
  firstKernelCyclesPerImage: number;
  /** Bytes per image over the masters in the steady state. */
  bytesPerImage: number;
  memory: { readLatency: number; writeLatency: number; bytesPerCycle: number };
  /** Per device segment, steady state: kernel and array cycles per image. */
  segments: { segment: number; kernelCyclesPerImage: number; arrayCyclesPerImage: number }[];
}

export async function axiProjection(model: CompiledModel, board: Board, batch: number, array: { rows: number; cols: number } = boardArray(board)): Promise<AxiProjection> {
  const { rows, cols } = array;
  const memory = axiMemory(board);
  // the board build's on-chip memories (fitted to one SLR's RAM) bound every call
  const fit = boardKernelBuild(board, { rows, cols });
  const b = new AxiSimBackend({ threads: 1, axiArray: { rows, cols }, axiMemory: memory, ...(fit ? { axiLimits: fit.build } : {}) });
  try {
    await b.load(model);
    const t = model.tensors[model.input];
    const per = tensorLength(t);
    let seed = 12345;
    const input = Float32Array.from({ length: batch * per }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) / 2 ** 24;
    });
    let mark = 0;
    for (let pass = 0; pass < 2; pass++) {
      if (pass === 1) mark = b.calls.length;
      const tensors = new Map<number, TensorData>([[model.input, input]]);
      // the segments as the kernel runs them (cut before zero-padded convs: 1-bit outputs)
      const segments = b.targetSegments();
      for (let si = 0; si < segments.length; si++) {
        const seg = segments[si];
        const ins = new Map(seg.inputs.map((id) => [id, tensors.get(id)!] as const));
        const out = await b.runSegment(si, ins, batch);
        for (const [id, d] of out) tensors.set(id, d);
      }
    }
    if (mark === 0) throw new BitweaveError(`model '${model.name}' has no binary layers to project`);
    const first = b.calls.slice(0, mark);
    const steady = b.calls.slice(mark);
    const sum = (cs: typeof steady, f: (c: (typeof steady)[0]) => number) => cs.reduce((s, c) => s + f(c), 0);
    const segs = [...new Set(steady.map((c) => c.segment))].map((segment) => {
      const cs = steady.filter((c) => c.segment === segment);
      return { segment, kernelCyclesPerImage: sum(cs, (c) => c.kernelCycles) / batch, arrayCyclesPerImage: sum(cs, (c) => c.arrayCycles) / batch };
    });
    return {
      source: 'axi-sim',
      batch,
      kernelCyclesPerImage: sum(steady, (c) => c.kernelCycles) / batch,
      arrayCyclesPerImage: sum(steady, (c) => c.arrayCycles) / batch,
      arrayOnlyCyclesPerImage: sum(steady, (c) => c.arrayOnly) / batch,
      firstKernelCyclesPerImage: sum(first, (c) => c.kernelCycles) / batch,
      bytesPerImage: sum(steady, (c) => c.bytesRead + c.bytesWritten) / batch,
      memory,
      segments: segs,
    };
  } finally {
    await b.dispose();
  }
}
