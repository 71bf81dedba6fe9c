/**
 * The hls-csim backend: device segments run on the Vitis HLS kernel (hls/) C-simulated
 * with g++ (build/libbitweave_hls.so), driven exactly as the FPGA would be: one layer
 * program per device segment, images packed into per-image arenas, one kernel call per
 * slice of the batch (split over threads as compute units would be). The library
 * re-checks every program in C before the kernel touches memory. The kernel walks the RTL
 * array's tile schedule, so its cycles are the cycle model's tile phase
 * (host/array/cycles.ts scheduleCycles; no fill or drain).
 */
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { BitweaveError } from '../../core/errors';
import { ArrayParams } from '../../array/params';
import { scheduleCycles } from '../../array/cycles';
import { hlsLimits, KernelLimits } from '../../array/descriptor';
import { LayerProgram } from '../../array/program';
import { AcceleratorBackend, AcceleratorOptions, DeviceSegment } from '../accelerator';
import { HLS_OK, hlsLib } from './ffi';

export interface HlsCsimOptions extends AcceleratorOptions {
  /**
   * PE array shape to simulate: the header's (default) or another shape compiled into the
   * library (limits.ts HLS_CSIM_SHAPES; tests use them to move every tile edge).
   */
  array?: { rows: number; cols: number };
}

/** Images per kernel call when bw_hls_run splits `images` over `threads` (hls/csim/bw_hls_csim.cpp). */
export function threadSlices(images: number, threads: number): number[] {
  const nt = Math.max(1, Math.min(threads, images));
  return Array.from({ length: nt }, (_, t) => Math.floor(images / nt) + (t < images % nt ? 1 : 0));
}

export class HlsCsimBackend extends AcceleratorBackend<null> {
  readonly name = 'hls-csim';
  readonly threads: number;
  readonly rows: number;
  readonly cols: number;
  private readonly params: ArrayParams;

  constructor(opts: HlsCsimOptions = {}) {
    super('hls-csim', opts, 'schedule');
    this.threads = opts.threads ?? os.availableParallelism();
    const lib = hlsLib();
    const a = opts.array ?? { rows: lib.info.rows, cols: lib.info.cols };
    if (!lib.variants.some((v) => v.rows === a.rows && v.cols === a.cols)) {
      throw new BitweaveError(`hls-csim: array ${a.rows}x${a.cols} is not compiled into the library (available: ${lib.variants.map((v) => `${v.rows}x${v.cols}`).join(', ')})`);
    }
    this.rows = a.rows;
    this.cols = a.cols;
    this.params = { rows: a.rows, cols: a.cols, word: 64, accBits: lib.info.accBits };
  }

  protected array(): ArrayParams {
    return this.params;
  }

  protected limits(): KernelLimits {
    const { info } = hlsLib();
    return hlsLimits({ ...this.params, maxFmWords: info.maxFmWords, maxKWords: info.maxKWords, maxOutC: info.maxOutC });
  }

  protected prepare(prog: LayerProgram, names: string[]): null {
    // the library's own check (C ABI): it must agree with checkProgram's
    const { rc, msg } = hlsLib().check(prog.descriptors, prog.layers, prog.weights.length / 2, prog.params.length, prog.arenaWords);
    if (rc !== HLS_OK) {
      const m = /^layer (\d+): (.*)$/.exec(msg);
      throw new BitweaveError(`hls-csim: ${m ? `layer '${names[Number(m[1])]}'` : `segment ${prog.segment}`}: ${m ? m[2] : msg || `error ${rc}`}`);
    }
    return null;
  }

  protected async execute({ prog }: DeviceSegment<null>, arena: Uint32Array, images: number): Promise<void> {
    const t0 = performance.now();
    // slices (compute units) of at least COLS images: a dense layer's tiles then fill the columns
    const threads = Math.max(1, Math.min(this.threads, Math.floor(images / this.cols)));
    const { rc, msg } = hlsLib().run(this.rows, this.cols, prog.descriptors, prog.layers, prog.weights, prog.params, arena, prog.arenaWords, images, threads);
    const ms = performance.now() - t0;
    if (rc !== HLS_OK) throw new BitweaveError(`hls-csim: kernel refused segment ${prog.segment}: ${msg || `error ${rc}`}`);
    // the tile phase of the cycle model for each kernel call (one per thread's slice, as the
    // library splits them: each walks its own pixel stream); kernel time split by it
    const cycles = scheduleCycles(prog, threadSlices(images, threads), this.params);
    const total = cycles.reduce((a, b) => a + b, 0) || 1;
    const start = this.model!.segments[prog.segment].start;
    prog.layerDescriptors.forEach((d, l) => this.record(start + l, (ms * cycles[l]) / total, cycles[l], d.macs * images));
  }

  protected releaseSegment(): void {}
}
