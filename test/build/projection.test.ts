/** Projected FPGA throughput (host/build/projection.ts): clock / cycles, always labelled a projection. */
import * as assert from 'node:assert/strict';
import { projectThroughput } from '../../host/build/projection';
import { loadBoard } from '../../host/boards';
import { BitweaveError } from '../../host/core/errors';
import { axiProjection } from '../../host/build/axi-projection';
import { axiInfo } from '../../host/backends/axi-sim/ffi';
import { programCycles } from '../../host/array/cycles';
import { encodeSegment } from '../../host/array/program';
import { DEFAULT_ARRAY } from '../../host/array/params';
import { AXI_BUILD } from '../../host/array/axi-kernel';
import { loadNamedModel } from '../../host/zoo/models';
import { requireOrSkip } from '../helpers/skip';
import { packagePath } from '../../host/core/paths';
import { projectModel } from '../../host/cli/project';

describe('projections', () => {
  it('projects throughput from cycles, labelled as a projection', () => {
    const p = projectThroughput(loadBoard('aws-f1'), 2000);
    assert.equal(p.projected, true);
    assert.equal(p.imagesPerSecond, (p.clockMHz * 1e6) / 2000);
    assert.match(p.label, /^projected .* not measured/);
    assert.throws(() => projectThroughput(loadBoard('aws-f1'), 0), BitweaveError);
  });

  it('on a Vitis board, the RTL kernel behind AXI: the array cycles of the model plus the DDR traffic of aws-f1, steady state after staging', async function () {
    if (!requireOrSkip(this, () => axiInfo())) return;
    const m = await loadNamedModel('models/fashion-cnn.bnn');
    const p = await axiProjection(m, loadBoard('aws-f1'), 64, DEFAULT_ARRAY);
    const array = { ...DEFAULT_ARRAY, drain: AXI_BUILD.drain };
    const si = m.segments.findIndex((s) => s.kind === 'device');
    const model = programCycles(encodeSegment(m, si, array), 64, array).reduce((a, l) => a + l.cycles, 0);
    assert.equal(p.arrayOnlyCyclesPerImage, model / 64, 'the array-only rate is the cycle model of the batch in one run');
    // the kernel runs the batch in chunks (copies overlapping the array): a little more array time
    assert.ok(p.arrayCyclesPerImage >= p.arrayOnlyCyclesPerImage && p.arrayCyclesPerImage < 1.05 * p.arrayOnlyCyclesPerImage);
    assert.ok(p.kernelCyclesPerImage > p.arrayCyclesPerImage, 'DDR traffic costs cycles');
    assert.ok(p.firstKernelCyclesPerImage >= p.kernelCyclesPerImage, 'the first batch stages the program (its weights load beside the arena)');
    assert.ok(p.arrayOnlyCyclesPerImage / p.kernelCyclesPerImage >= 0.8, `steady state keeps ${(100 * p.arrayOnlyCyclesPerImage / p.kernelCyclesPerImage).toFixed(1)}%`);
    assert.equal(p.segments.length, 1);
    assert.ok(p.bytesPerImage > 0);
  });

  it('zero-padded convs on the 1-bit RTL kernel and SoC: projected over the device segments the host runs, cut before those convs', async function () {
    const m = await loadNamedModel(packagePath('test', 'fixtures', 'larq', 'fashion_bnn', 'model.tflite'));
    // the SoC's link carries the tensors between the parts too: more bytes per image than the model's one segment would move
    const ulx3s = projectModel(m, loadBoard('ulx3s'), 8);
    const whole = projectModel({ ...m, ops: m.ops.map((op) => (op.op === 'bconv' ? { ...op, padBit: 1 as const } : op)) }, loadBoard('ulx3s'), 8);
    assert.ok(ulx3s.link!.bytesPerImage > whole.link!.bytesPerImage, `${ulx3s.link!.bytesPerImage} vs ${whole.link!.bytesPerImage}`);
    if (!requireOrSkip(this, () => axiInfo())) return;
    const p = await axiProjection(m, loadBoard('aws-f1'), 8, DEFAULT_ARRAY);
    assert.deepEqual(p.segments.map((s) => s.segment), [1, 2, 3]);
  });
});
