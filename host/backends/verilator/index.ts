/**
 * The verilator backend: device segments run on the RTL array (sim/) simulated by
 * Verilator (build/libbitweave_rtl.so). Each device segment's layer program — the same
 * program the OpenCL and HLS kernels execute — lives in one RTL instance (descriptors,
 * parameters, weights); a run writes the batch's arena, starts the sequencer and reads the
 * outputs back. Layer statistics carry the cycles the RTL counted.
 */
import { performance } from 'node:perf_hooks';
import { BitweaveError } from '../../core/errors';
import { ArrayParams } from '../../array/params';
import { KernelLimits, rtlLimits } from '../../array/descriptor';
import { LayerProgram } from '../../array/program';
import { programCycles } from '../../array/cycles';
import { AcceleratorBackend, AcceleratorOptions, DeviceSegment } from '../accelerator';
import { RtlInfo, rtlInfo, RtlModel } from './ffi';

export interface VerilatorOptions extends AcceleratorOptions {
  /** Write an FST waveform of every run to this file (env BITWEAVE_RTL_TRACE). */
  trace?: string;
}

export class VerilatorBackend extends AcceleratorBackend<RtlModel> {
  readonly name = 'verilator';
  readonly info: RtlInfo;
  /** Per device op: the cycle model's prediction for the runs so far. */
  private predicted = new Map<number, number>();
  private readonly traceFile: string | null;

  constructor(opts: VerilatorOptions = {}) {
    super('verilator', opts, 'rtl');
    this.info = rtlInfo();
    this.traceFile = opts.trace ?? process.env.BITWEAVE_RTL_TRACE ?? null;
  }

  protected array(): ArrayParams {
    return this.info;
  }

  protected limits(): KernelLimits {
    return rtlLimits(this.info);
  }

  protected prepare(prog: LayerProgram): RtlModel {
    const rtl = new RtlModel();
    try {
      rtl.alloc('desc', prog.descriptors.length);
      rtl.write('desc', 0, prog.descriptors);
      rtl.alloc('param', prog.params.length);
      rtl.write('param', 0, prog.params);
      rtl.alloc('weight', prog.weights.length / 2);
      rtl.write('weight', 0, prog.weights);
    } catch (e) {
      rtl.free();
      throw e;
    }
    return rtl;
  }

  protected async execute({ prog, dev: rtl }: DeviceSegment<RtlModel>, arena: Uint32Array, images: number): Promise<void> {
    const t0 = performance.now();
    rtl.alloc('arena', images * prog.arenaWords);
    rtl.write('arena', 0, arena);
    const model = programCycles(prog, images, this.info);
    const predicted = model.reduce((s, l) => s + l.cycles, 0);
    const budget = 2 * predicted + 100000;
    if (this.traceFile) rtl.trace(this.traceFile);
    rtl.start(prog.layers, images, prog.arenaWords);
    const finished = rtl.run(budget);
    if (this.traceFile) rtl.trace(null);
    if (!finished) throw new BitweaveError(`verilator backend: segment ${prog.segment} did not finish within ${budget} cycles (the cycle model predicts ${predicted})`);
    rtl.read('arena', 0, arena);
    const cycles = rtl.layerCycles();
    // the call's wall time, shared by the layers in proportion to their cycles
    const ms = performance.now() - t0;
    const total = cycles.reduce((a, b) => a + b, 0) || 1;
    const start = this.model!.segments[prog.segment].start;
    for (let l = 0; l < prog.layers; l++) {
      this.record(start + l, (ms * cycles[l]) / total, cycles[l], model[l].macs);
      this.predicted.set(start + l, (this.predicted.get(start + l) ?? 0) + model[l].cycles);
    }
  }

  /** The cycle model's predicted cycles per device op for the runs so far (for tests and reports). */
  predictedCycles(): Map<number, number> {
    return new Map(this.predicted);
  }

  protected releaseSegment(rtl: RtlModel): void {
    rtl.free();
  }

  protected override close(): void {
    this.predicted.clear();
  }
}
