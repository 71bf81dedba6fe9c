import { LayerStat } from './backend';

/** Per-op time accumulated by a backend across batches (what layerStats() returns). */
export class LayerStats {
  private readonly byOp = new Map<number, LayerStat>();

  add(op: number, name: string, where: 'host' | 'device', ms: number): void {
    const s = this.byOp.get(op) ?? { op, name, where, ms: 0 };
    s.ms += ms;
    this.byOp.set(op, s);
  }

  clear(): void {
    this.byOp.clear();
  }

  list(): LayerStat[] {
    return [...this.byOp.values()].sort((a, b) => a.op - b.op);
  }
}
