/** FINN's BNN-PYNQ networks as zoo models (host/zoo/finn.ts): topologies, input handling, names. */
import * as assert from 'node:assert/strict';
import { finnNetwork, parseFinnName } from '../../host/zoo/finn';
import { loadNamedModel, ZOO_NAMES } from '../../host/zoo/models';
import { IRGraph, QConvolutionNode, QFullyConnectedNode } from '../../host/ir/graph';
import { BitweaveError } from '../../host/core/errors';
import { Session } from '../../host/runtime/session';
import { BconvOp } from '../../host/compile/model';

const binary = (g: IRGraph) => g.nodes.filter((n): n is QConvolutionNode | QFullyConnectedNode => n.op === 'QConvolution' || n.op === 'QFullyConnected');

describe('FINN networks in the zoo', () => {
  it('TFC, SFC, LFC: 784 -> 3 hidden layers of 64 / 256 / 1024 -> 10, the input read as a 784-bit vector', () => {
    for (const [arch, w] of [['tfc', 64], ['sfc', 256], ['lfc', 1024]] as const) {
      const g = finnNetwork(arch);
      const qs = binary(g);
      assert.deepEqual(qs.map((q) => q.op), ['QFullyConnected', 'QFullyConnected', 'QFullyConnected', 'QFullyConnected'], arch);
      assert.deepEqual(qs.map((q) => (q as QFullyConnectedNode).numHidden), [w, w, w, 10], arch);
      const first = g.nodes.find((n) => n.name === qs[0].inputs[0])!;
      assert.deepEqual(first.shape, [784], `${arch}: the first layer reads a flattened vector`);
      assert.deepEqual(qs.map((q) => q.actBits), [1, 1, 1, 1]);
      // sign(2x - 1): a host BatchNorm subtracts 0.5 before the input is binarised
      const centre = g.nodes.find((n) => n.name === 'input_centre');
      assert.ok(centre && centre.op === 'BatchNorm' && centre.mean[0] === 0.5, 'w1a1 binarises the pixels at 0.5');
    }
    const a2 = binary(finnNetwork('tfc', { actBits: 2 }));
    assert.deepEqual(a2.map((q) => q.actBits), [2, 2, 2, 2], 'w1a2: 2-bit input (IN_BIT_WIDTH 2) and 2-bit activations');
  });

  it('CNV: six valid 3x3 convolutions 64,64,pool,128,128,pool,256,256 on 32x32x3 (8-bit input), then dense 512, 512, 10', () => {
    const g = finnNetwork('cnv');
    const qs = binary(g);
    const convs = qs.filter((q): q is QConvolutionNode => q.op === 'QConvolution');
    assert.deepEqual(convs.map((c) => c.numFilter), [64, 64, 128, 128, 256, 256]);
    assert.ok(convs.every((c) => c.kernel[0] === 3 && c.kernel[1] === 3 && c.pad[0] === 0 && c.pad[1] === 0 && c.stride[0] === 1));
    assert.deepEqual(convs.map((c) => c.shape), [[64, 30, 30], [64, 28, 28], [128, 12, 12], [128, 10, 10], [256, 3, 3], [256, 1, 1]]);
    const pools = g.nodes.filter((n) => n.op === 'Pooling');
    assert.deepEqual(pools.map((p) => p.shape), [[64, 14, 14], [128, 5, 5]]);
    assert.deepEqual(convs.map((c) => c.actBits), [8, 1, 1, 1, 1, 1], 'the first convolution reads 8-bit pixels');
    const dense = qs.filter((q): q is QFullyConnectedNode => q.op === 'QFullyConnected');
    assert.deepEqual(dense.map((d) => d.numHidden), [512, 512, 10]);
    assert.deepEqual(g.nodes.find((n) => n.name === dense[0].inputs[0])!.shape, [256]);
    assert.deepEqual(binary(finnNetwork('cnv', { actBits: 2 })).map((q) => q.actBits), [8, 2, 2, 2, 2, 2, 2, 2, 2]);
  });

  it('compiles every binary layer into one device segment, in seconds, with seeded weights', async function () {
    this.timeout(60000);
    for (const name of ['tfc-w1a1', 'sfc-w1a2', 'lfc-w1a1', 'cnv-w1a1', 'cnv-w1a2']) {
      const t0 = Date.now();
      const m = await loadNamedModel(name);
      const ms = Date.now() - t0;
      assert.ok(ms < 5000, `${name} compiled in ${ms} ms`);
      const dev = m.segments.filter((s) => s.kind === 'device');
      assert.equal(dev.length, 1, `${name}: one device segment`);
      const bconvs = m.ops.filter((o) => o.op === 'bconv').length;
      assert.equal(bconvs, name.startsWith('cnv') ? 9 : 4, `${name}: every binary layer on the device`);
    }
    const a = await loadNamedModel('tfc-w1a1', { seed: 7 });
    const b = await loadNamedModel('tfc-w1a1', { seed: 7 });
    const c = await loadNamedModel('tfc-w1a1', { seed: 8 });
    assert.equal(a.name, b.name);
    assert.notEqual(a.name, c.name);
  });

  it('runs on the reference backend: ten logits per image, binarised input below / above 0.5 decides', async () => {
    const m = await loadNamedModel('tfc-w1a1');
    const s = await Session.create(m, { backend: 'reference' });
    const x = new Float32Array(3 * 784);
    x.fill(0.49, 0, 784); // every pixel -1
    x.fill(0.5, 784, 1568); // every pixel +1 (sign(0) = +1)
    x.fill(0.0, 1568); // every pixel -1 again
    const { logits } = await s.run(x);
    assert.equal(logits.length, 30);
    assert.deepEqual(Array.from(logits.subarray(0, 10)), Array.from(logits.subarray(20, 30)), '0.49 and 0 both binarise to -1');
    assert.notDeepEqual(Array.from(logits.subarray(0, 10)), Array.from(logits.subarray(10, 20)), '0.5 binarises to +1');
    await s.close();
  });

  it('names: w1a1, w1a2 and w2a2 of tfc, sfc, lfc, cnv; others refused in one line', async () => {
    for (const a of ['tfc', 'sfc', 'lfc', 'cnv']) for (const k of ['w1a1', 'w1a2', 'w2a2']) assert.ok((ZOO_NAMES as readonly string[]).includes(`${a}-${k}`));
    assert.deepEqual(parseFinnName('cnv-w2a2'), { arch: 'cnv', weightBits: 2, actBits: 2 });
    assert.equal(parseFinnName('cnv-w1a1x'), null);
    await assert.rejects(loadNamedModel('tfc-w1a3'), (e: Error) => e instanceof BitweaveError && /come as w1a1, w1a2 and w2a2/.test(e.message) && !e.message.includes('\n'));
    await assert.rejects(loadNamedModel('cnv-w2a1'), (e: Error) => e instanceof BitweaveError && /come as w1a1, w1a2 and w2a2/.test(e.message));
    await assert.rejects(loadNamedModel('tfc-w1a1', { inputShape: [1, 28, 28] } as never), /does not apply to the zoo model tfc-w1a1/);
  });

  it('w2a2: ternary 2-bit weights on every layer, bit-identical on reference, native and the HLS array', async function () {
    this.timeout(120000);
    for (const arch of ['tfc', 'cnv'] as const) {
      const m = await loadNamedModel(`${arch}-w2a2`);
      const b = m.ops.filter((o): o is BconvOp => o.op === 'bconv');
      assert.ok(b.length >= 4);
      for (const o of b) {
        assert.equal(o.wBits, 2);
        assert.equal(o.wSigned, true);
      }
      const t = m.tensors[m.input];
      const x = Float32Array.from({ length: 3 * t.c * t.h * t.w }, (_, i) => ((i * 2654435761) >>> 0) / 2 ** 32);
      const ref = await (await Session.create(m, { backend: 'reference' })).run(x);
      for (const backend of ['native', 'hls-csim'] as const) {
        const s = await Session.create(m, { backend });
        const got = await s.run(x);
        await s.close();
        assert.ok(Buffer.from(got.logits.buffer).equals(Buffer.from(ref.logits.buffer)), `${arch}: ${backend} differs from the reference`);
      }
      assert.ok(ref.logits.every(Number.isFinite));
    }
  });
});
