import * as assert from 'node:assert/strict';
import { compile } from '../../host/compile/compile';
import { BconvOp, CompiledModel } from '../../host/compile/model';
import { decodeBnn, encodeBnn } from '../../host/format/bnn';
import { importBmxnet } from '../../host/import/bmxnet';
import { loadDataset } from '../../host/data/datasets';
import { Session } from '../../host/runtime/session';
import { bmxnetMnist, requireBmxnetMnist } from '../helpers/shared-models';

function argmax(logits: Float32Array, classes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < logits.length / classes; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[i * classes + k] > logits[i * classes + best]) best = k;
    out.push(best);
  }
  return out;
}

describe('BMXNet binarized MNIST model (real third-party files)', function () {
  let m32: CompiledModel;
  let m64: CompiledModel;

  before(function () {
    requireBmxnetMnist(this);
    const a = bmxnetMnist(32);
    const b = bmxnetMnist(64);
    m32 = compile(importBmxnet(a.symbol, a.params));
    m64 = compile(importBmxnet(b.symbol, b.params));
  });

  it('compiles to host conv -> device [qconv + BN + pool + sign folded, qfc -> int] -> host BN, tanh, fc', () => {
    const kinds = m64.segments.map((s) => s.kind);
    assert.deepEqual(kinds, ['host', 'device', 'host']);
    const bconvs = m64.ops.filter((o): o is BconvOp => o.op === 'bconv');
    assert.equal(bconvs.length, 2);
    assert.equal(bconvs[0].epilogue.kind, 'threshold');
    assert.ok(bconvs[0].pool, 'the max-pool after BatchNorm runs on integers in the array');
    assert.equal(bconvs[1].epilogue.kind, 'int');
    assert.equal(bconvs[1].kh, 4, 'the binary dense layer covers the whole 4x4x64 map');
    assert.equal(m64.tensors[m64.output].c, 10);
  });

  it('32-bit and 64-bit files give byte-identical packed weights', () => {
    const w32 = m32.ops.filter((o): o is BconvOp => o.op === 'bconv').map((o) => Buffer.from(o.weight.buffer));
    const w64 = m64.ops.filter((o): o is BconvOp => o.op === 'bconv').map((o) => Buffer.from(o.weight.buffer));
    assert.equal(w32.length, 2);
    for (let i = 0; i < w32.length; i++) assert.ok(w32[i].equals(w64[i]), `bconv ${i}`);
  });

  it('classifies real digits: identical predictions from 32/64-bit files and after a .bnn round trip', async () => {
    const ds = loadDataset('mnist', { limit: 500 });
    // any backend: they are bit-identical (the backend contract); native is the fast one
    const run = async (m: CompiledModel) => (await Session.create(m, { backend: 'native' })).run(ds.images);
    const r64 = await run(m64);
    const r32 = await run(m32);
    const rBnn = await run(decodeBnn(encodeBnn(m64), 'roundtrip.bnn'));
    assert.deepEqual(Array.from(r32.logits), Array.from(r64.logits));
    assert.deepEqual(Array.from(rBnn.logits), Array.from(r64.logits));
    const pred = argmax(r64.logits, 10);
    const acc = pred.filter((p, i) => p === ds.labels[i]).length / ds.count;
    assert.ok(acc >= 0.95, `accuracy on 500 digits ${acc}`);
  });
});
