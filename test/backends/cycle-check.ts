import * as assert from 'node:assert/strict';
import { VerilatorBackend } from '../../host/backends/verilator';

/** Cycle model vs counted cycles of every device layer the backend ran. */
export function checkCycleModel(b: VerilatorBackend, what: string, tolerance = 0.02): void {
  const pred = b.predictedCycles();
  const dev = b.layerStats().filter((s) => s.where === 'device');
  assert.ok(dev.length > 0, `${what}: no device layers ran`);
  for (const s of dev) {
    const p = pred.get(s.op)!;
    assert.ok(Math.abs(p - s.cycles!) <= tolerance * s.cycles!, `${what}: layer ${s.name}: model ${p} cycles, RTL ${s.cycles}`);
  }
}
