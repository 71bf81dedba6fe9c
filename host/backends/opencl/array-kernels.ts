/**
 * The OpenCL array's three kernels on one lane (host/array/kernel-abi.ts ARRAY_KERNELS):
 * created from the program, bound to a segment's buffers, launched one layer at a time.
 *
 * Two builds of the same source exist (opencl-kernels/stream.cl). With Intel channels the
 * feeder, PE array and output units run at once: each gets its own in-order queue, and
 * only the feeder waits (for the arena upload or the previous layer's outputs). With FIFO
 * buffers (PoCL) the three run one after the other on the lane's in-order queue, and the
 * FIFOs hold one layer's streams for one launch's images.
 */
import { ArrayParams } from '../../array/params';
import { programCycles, streamedTiles } from '../../array/cycles';
import { ARRAY_KERNELS, ArrayKernelRole, arrayArg } from '../../array/kernel-abi';
import { LayerProgram } from '../../array/program';
import { BitweaveError } from '../../core/errors';
import { CLBuffer, CLEvent, Context, Device, Kernel, Program, Queue } from '../../opencl';

const ROLES: readonly ArrayKernelRole[] = ['feeder', 'pe', 'output'];

/**
 * FIFO sizes one launch of `images` images needs, the largest over the program's layers:
 * act in 64-bit words (COLS per k-step of every tile), acc in int32 (ROWS x COLS per tile).
 */
export function streamFifoWords(p: LayerProgram, images: number, a: ArrayParams): { act: number; acc: number } {
  let act = 1;
  let acc = 1;
  for (const l of programCycles(p, images, a)) {
    act = Math.max(act, streamedTiles(p.layerDescriptors[l.layer], l, a) * l.k * a.cols);
    acc = Math.max(acc, l.tiles * a.rows * a.cols);
  }
  return { act, acc };
}

/** Device time of one launch's events (launch order): in order their sum, at once (channels) their span. */
export function launchMs(events: readonly CLEvent[], channels: boolean): number {
  const p = events.map((e) => e.profile());
  if (!channels) return p.reduce((s, x) => s + x.durationNs, 0) / 1e6;
  const start = p.reduce((m, x) => (x.start < m ? x.start : m), p[0].start);
  const end = p.reduce((m, x) => (x.end > m ? x.end : m), p[0].end);
  return Number(end - start) / 1e6;
}

export class ArrayKernels {
  private readonly kernels: Record<ArrayKernelRole, Kernel>;
  /** Channels: the PE array's and output units' own queues (the feeder uses the lane's). */
  private readonly queues: Queue[] = [];

  private constructor(kernels: Record<ArrayKernelRole, Kernel>, readonly channels: boolean) {
    this.kernels = kernels;
  }

  static create(program: Program, ctx: Context, device: Device, channels: boolean): ArrayKernels {
    const made: Partial<Record<ArrayKernelRole, Kernel>> = {};
    try {
      for (const role of ROLES) {
        const spec = ARRAY_KERNELS[role];
        const k = program.createKernel(spec.name);
        made[role] = k;
        if (k.numArgs !== spec.args.length) throw new BitweaveError(`opencl backend: kernel '${spec.name}' takes ${k.numArgs} arguments, the host ABI has ${spec.args.length}`);
      }
      const ak = new ArrayKernels(made as Record<ArrayKernelRole, Kernel>, channels);
      if (channels) for (let i = 0; i < 2; i++) ak.queues.push(Queue.create(ctx, device));
      return ak;
    } catch (e) {
      for (const k of Object.values(made)) k.release();
      throw e;
    }
  }

  /** The segment's weights and parameters (bound before their upload, like every buffer). */
  bindSegment(weights: CLBuffer, params: CLBuffer): void {
    this.kernels.pe.setArg(arrayArg('pe', 'weights'), weights);
    this.kernels.output.setArg(arrayArg('output', 'params'), params);
  }

  /** A layer program (bound before its upload; each launch binds the one it walks). */
  bindProgram(program: CLBuffer): void {
    for (const role of ROLES) this.kernels[role].setArg(arrayArg(role, 'program'), program);
  }

  bindFifos(act: CLBuffer, acc: CLBuffer): void {
    this.kernels.feeder.setArg(arrayArg('feeder', 'act_fifo'), act);
    this.kernels.pe.setArg(arrayArg('pe', 'act_fifo'), act).setArg(arrayArg('pe', 'acc_fifo'), acc);
    this.kernels.output.setArg(arrayArg('output', 'acc_fifo'), acc);
  }

  bindArena(arena: CLBuffer): void {
    this.kernels.feeder.setArg(arrayArg('feeder', 'arena'), arena);
    this.kernels.output.setArg(arrayArg('output', 'arena'), arena);
  }

  /**
   * Launches the three kernels over `layers` descriptors of `program` (with FIFOs: one
   * layer, the host walks the layers) on `arena`; the feeder waits for `waitFor`. Returns
   * the feeder's, PE array's and output units' events: the last one ends the layer.
   */
  launch(queue: Queue, program: CLBuffer, layers: number, arenaWords: number, images: number, waitFor: readonly CLEvent[]): CLEvent[] {
    if (!this.channels && layers !== 1) throw new BitweaveError('opencl backend: FIFO streams hold one layer: launch the array kernels one layer at a time');
    const u = (value: number) => ({ type: 'uint' as const, value });
    this.bindProgram(program);
    for (const role of ROLES) this.kernels[role].setArg(arrayArg(role, 'layers'), u(layers)).setArg(arrayArg(role, 'images'), u(images));
    this.kernels.feeder.setArg(arrayArg('feeder', 'arena_words'), u(arenaWords));
    this.kernels.output.setArg(arrayArg('output', 'arena_words'), u(arenaWords));
    const [qp, qo] = this.channels ? this.queues : [queue, queue];
    const events = [queue.task(this.kernels.feeder, { waitFor })];
    events.push(qp.task(this.kernels.pe));
    events.push(qo.task(this.kernels.output));
    if (this.channels) for (const q of this.queues) q.flush();
    return events;
  }

  release(): void {
    for (const role of ROLES) this.kernels[role].release();
    for (const q of this.queues) q.release();
    this.queues.length = 0;
  }
}
