import * as assert from 'node:assert/strict';
import { VerilatorBackend } from '../../host/backends/verilator';
import { AxiSimBackend } from '../../host/backends/axi-sim';

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

/** The AXI kernel's array cycles of every call so far equal the cycle model's; the kernel's include them. */
export function checkAxiCycles(b: AxiSimBackend, what: string): void {
  assert.ok(b.calls.length > 0, `${what}: no kernel calls`);
  for (const c of b.calls) {
    assert.equal(c.arrayCycles, c.predictedArray, `${what}: segment ${c.segment}, ${c.images} images: array ${c.arrayCycles} cycles, model ${c.predictedArray}`);
    assert.ok(c.kernelCycles > c.arrayCycles, `${what}: kernel cycles ${c.kernelCycles} do not include the array's ${c.arrayCycles}`);
  }
}
