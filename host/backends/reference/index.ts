import { performance } from 'node:perf_hooks';
import { CompiledModel, HostOp } from '../../compile/model';
import { validateModel } from '../../compile/validate';
import { opInputs } from '../../compile/partition';
import { Backend, checkSegmentCall, checkSegmentInput, LayerStat, TensorData } from '../../runtime/backend';
import { bconv } from './bconv';
import { runHostOp } from './float-ops';
import { LayerStats } from '../../runtime/layer-stats';

/** The oracle: every op in plain TypeScript, float layers and the array model alike. */
export class ReferenceBackend implements Backend {
  readonly name = 'reference';
  private model: CompiledModel | null = null;
  private readonly stats = new LayerStats();
  /** Per tensor, the last op that reads it (-1: none), so a segment drops what it is done with. */
  private lastRead = new Int32Array(0);

  async load(model: CompiledModel): Promise<void> {
    // however the model was made, nothing runs that validateModel did not pass
    validateModel(model, typeof model?.name === 'string' ? model.name : 'compiled model');
    this.model = model;
    this.lastRead = new Int32Array(model.tensors.length).fill(-1);
    model.ops.forEach((op, i) => opInputs(op).forEach((t) => (this.lastRead[t] = i)));
    this.stats.clear();
  }

  async runSegment(segment: number, tensors: Map<number, TensorData>, batch: number): Promise<Map<number, TensorData>> {
    const seg = checkSegmentCall(this.name, this.model, segment, batch);
    const m = this.model!;
    const local = new Map<number, TensorData>();
    for (const t of seg.inputs) local.set(t, checkSegmentInput(this.name, m.tensors[t], t, tensors.get(t), batch));
    const keep = new Set(seg.outputs);
    for (let i = seg.start; i < seg.end; i++) {
      const op = m.ops[i];
      const t0 = performance.now();
      if (op.op === 'bconv') {
        const x = local.get(op.in);
        if (!(x instanceof Uint32Array)) throw new Error(`reference backend: op ${i} input is not a bits tensor`);
        local.set(op.out, bconv(op, m.tensors[op.in], m.tensors[op.out], x, batch));
      } else {
        local.set(op.out, runHostOp(op as HostOp, m, local, batch));
      }
      this.record(i, seg.kind, performance.now() - t0);
      // an intermediate tensor goes as soon as its last reader ran: memory stays bounded
      // however many ops a segment holds
      for (const t of opInputs(op)) if (this.lastRead[t] === i && !keep.has(t)) local.delete(t);
    }
    const out = new Map<number, TensorData>();
    for (const t of seg.outputs) out.set(t, local.get(t)!);
    return out;
  }

  private record(op: number, where: 'host' | 'device', ms: number): void {
    this.stats.add(op, this.model!.opNames[op], where, ms);
  }

  layerStats(): LayerStat[] {
    return this.stats.list();
  }

  async dispose(): Promise<void> {
    this.model = null;
  }
}
