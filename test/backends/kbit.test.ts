/**
 * k-bit integer weights and signed k-bit activations (issue 16, stage 1): the native engine
 * against the reference on 1,000 random layers per run across weight widths 1..4 x
 * activation widths 1..4 x signedness (the reference itself is checked against direct
 * integer arithmetic in reference.test.ts); compile of integer IR layers, whose folded
 * thresholds must equal the float path exactly, signed consumers included; the .bnn fields;
 * the accelerator backends run them too (test/backends/contract.ts, kbitLayers).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { NativeBackend } from '../../host/backends/native';
import { isaControl, nativeEngine } from '../../host/backends/native/ffi';
import { ReferenceBackend } from '../../host/backends/reference';
import { compile } from '../../host/compile/compile';
import { BconvOp, CompiledModel } from '../../host/compile/model';
import { validateModel } from '../../host/compile/validate';
import { UnsupportedError } from '../../host/core/errors';
import { decodeBnn, encodeBnn, packBnnContainer, unpackBnnContainer } from '../../host/format/bnn';
import { IRGraph, IRNode, Shape } from '../../host/ir/graph';
import { inferShape } from '../../host/ir/shapes';
import { compareWithReference, kbitCases, kbitCombination, toNHWC } from '../helpers/backend-compare';
import { assertFormatError as formatError } from '../helpers/format-errors';
import { randInt, rng } from '../helpers/naive';
import { BconvCase, bconvModel, bitsOf, logitsOf, randomBits, randomInput, runSegment } from '../helpers/native-models';
import { randomImages } from '../helpers/random-model';
import { assertSuccess, bitweave, scratchDir } from '../helpers/run';
import { requireOrSkip } from '../helpers/skip';

/** Small layers (the reference is plain code) with every option, channel counts at word edges. */
const kbitCase = kbitCases();

describe('k-bit integer weights and signed activations', function () {
  describe('native engine vs reference', function () {
    const natives: NativeBackend[] = [];

    before(function () {
      if (!requireOrSkip(this, () => nativeEngine())) return;
      natives.push(new NativeBackend({ threads: 1 }), new NativeBackend({ threads: 2 }));
      nativeEngine().setParallelNs(0); // small layers: make every parallel loop use its threads
    });

    after(async () => {
      for (const n of natives) await n.dispose();
      if (natives.length) nativeEngine().setParallelNs(-1);
    });

    it('1,000 random layers: wBits 1..4 x inBits 1..4, signed or not, pads, strides, pools, int and threshold epilogues, every ISA', async function () {
      this.timeout(120_000);
      const isa = isaControl();
      const start = isa?.current();
      const levels = isa ? [0, 1, 2].filter((l) => isa.supported(l)) : [];
      const modes = isa ? [...levels.map((level) => ({ level, popcnt: true })), { level: 0, popcnt: false }] : [];
      const ref = new ReferenceBackend();
      const seen = new Set<string>();
      try {
        const cases = fc.sample(kbitCase, { seed: 1616, numRuns: 1000 });
        for (const [i, p] of cases.entries()) {
          const mode = modes.length ? modes[i % modes.length] : null;
          if (mode) {
            isa!.set(mode.level);
            isa!.popcnt(mode.popcnt && isa!.hasPopcnt());
          }
          const native = natives[i % 2];
          const r = rng(p.seed);
          const m = bconvModel(p, r);
          const op = m.ops[1] as BconvOp;
          seen.add(kbitCombination(p));
          const batch = 1 + (i % 3);
          const what = `layer ${i} ${JSON.stringify(p)}${mode ? ` isa ${mode.level}${mode.popcnt ? '' : ' no POPCNT'}` : ''}`;
          if (i % 2 === 0) {
            // through the host binarize (quantised levels)
            await compareWithReference(m, randomInput(r, batch, p.C * p.H * p.W, p.inBits, p.inSigned), native, what);
          } else {
            // arbitrary bit patterns straight into the device segment: every level, -2^(k-1) included
            const seg = m.segments.findIndex((s) => s.kind === 'device');
            const x = randomBits(r, batch * p.H * p.W, p.C, p.inBits);
            const ins = new Map([[op.in, x]]);
            await ref.load(m);
            await native.load(m);
            const want = await runSegment(ref, seg, ins, batch);
            const got = await runSegment(native, seg, ins, batch);
            assert.equal(got.length, want.length);
            for (let k = 0; k < want.length; k++) assert.deepEqual(bitsOf(got[k]), bitsOf(want[k]), `${what}: output ${k} differs`);
          }
        }
      } finally {
        if (isa && start !== undefined) {
          isa.set(start);
          isa.popcnt(isa.hasPopcnt());
        }
      }
      // every combination of activation and weight width and signedness came up
      assert.equal(seen.size, 7 * 7, `combinations seen: ${[...seen].sort().join(' ')}`);
    });

    it('signed quantize and binarize (alone and fused in a chain) on rounding edges, ±0, NaN, ±Infinity', async () => {
      const vals = [0, -0, NaN, Infinity, -Infinity, 0.5, -0.5, -0.51, 0.49, 1, -1, 1.5, -1.5, 1 / 6, -1 / 6, 1 / 14, -1 / 14, 3 / 14, -3 / 14];
      const x = Float32Array.from([...vals, ...Array.from({ length: 200 }, (_, i) => Math.fround(-1.25 + i * 0.0125))]);
      for (const bits of [2, 3, 4]) {
        const n = x.length;
        const base = { name: `q${bits}`, source: { format: 'test', files: [] }, input: 0, softmax: false, floatWeightBytes: 0 };
        const f = (c: number) => ({ kind: 'f32' as const, h: 1, w: 1, c, planes: 0, flat: false });
        // quantize (signed) -> binarize (signed) -> bconv with one-hot weights reading the levels back
        const onehot = new Uint32Array((n + 1) * Math.ceil(n / 64) * 2);
        for (let o = 0; o < n; o++) onehot[o * Math.ceil(n / 64) * 2 + (o >>> 5)] |= 1 << (o & 31);
        const m: CompiledModel = {
          ...base, output: 5,
          tensors: [f(n), f(n), f(n), { kind: 'bits', h: 1, w: 1, c: n, planes: bits, flat: false, signed: true }, { kind: 'i32', h: 1, w: 1, c: n + 1, planes: 0, flat: false }, f(n + 1)],
          ops: [
            { op: 'quantize', in: 0, out: 1, bits, signed: true },
            { op: 'batchnorm', in: 1, out: 2, mean: new Float32Array(n), scale: new Float32Array(n).fill(1), beta: new Float32Array(n) },
            { op: 'binarize', in: 2, out: 3, bits },
            { op: 'bconv', in: 3, out: 4, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 0, inBits: bits, outC: n + 1, weight: onehot, pool: null, epilogue: { kind: 'int' } },
            { op: 'dequantize', in: 4, out: 5, divisor: 1 },
          ],
          opNames: ['q', 'bn', 'bin', 'probe', 'deq'],
          segments: [
            { kind: 'host', start: 0, end: 3, inputs: [0], outputs: [3] },
            { kind: 'device', start: 3, end: 4, inputs: [3], outputs: [4] },
            { kind: 'host', start: 4, end: 5, inputs: [4], outputs: [5] },
          ],
        };
        validateModel(m, 'signed quantize model');
        await compareWithReference(m, x, natives[0], `signed ${bits}-bit quantize + binarize`);
      }
    });
  });

  describe('compile: integer IR layers', function () {
    /** Input -> conv -> BN -> QConv (int weights) -> BN -> pool -> QFC (int weights) -> BN -> FC -> softmax. */
    function intModel(seed: number, a1: number, s1: boolean, w1: number, ws1: boolean, a2: number, s2: boolean, w2: number, ws2: boolean): IRGraph {
      const r = rng(seed);
      const nodes: IRNode[] = [];
      const add = (n: { op: IRNode['op']; name: string; inputs: string[]; shape?: Shape; [k: string]: unknown }): string => {
        const node = { ...n, shape: [] } as unknown as IRNode;
        node.shape = n.op === 'Input' ? (n.shape as Shape) : inferShape(node, n.inputs.map((i) => nodes.find((x) => x.name === i)!.shape));
        nodes.push(node);
        return node.name;
      };
      const u = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
      const ints = (n: number, bits: number, signed: boolean) =>
        Int8Array.from({ length: n }, () => (signed ? randInt(r, -(1 << (bits - 1)), (1 << (bits - 1)) - 1) : randInt(r, 0, (1 << bits) - 1)));
      const weights = (n: number, bits: number, signed: boolean) =>
        bits === 1 ? { kind: 'float' as const, data: u(n, -1, 1) } : { kind: 'int' as const, bits, signed, data: ints(n, bits, signed) };
      const span = (b: number, s: boolean) => (b === 1 ? 1 : s ? 1 << (b - 1) : (1 << b) - 1);
      // BatchNorm around where the integers fall (a divisor-scaled float), some gamma < 0
      const bn = (name: string, input: string, c: number, k: number, ab: number, as: boolean, wb: number, ws: boolean) => {
        const div = ab === 1 ? 1 : as ? (1 << (ab - 1)) - 1 : (1 << ab) - 1;
        const spread = (Math.sqrt(k) * span(ab, as) * span(wb, ws)) / div;
        const centre = ab === 1 && wb === 1 ? k / 2 : 0;
        const gamma = u(c, 0.5, 2).map((g) => (r() < 0.3 ? -g : g));
        return add({ op: 'BatchNorm', name, inputs: [input], gamma, beta: u(c, -0.3, 0.3), mean: u(c, centre - spread, centre + spread), variance: u(c, spread * spread * 0.05 + 0.1, spread * spread * 0.3 + 0.2), eps: 1e-3 });
      };
      const C0 = 2;
      const H = 6;
      const F1 = randInt(r, 3, 7);
      const F2 = randInt(r, 3, 7);
      const hidden = randInt(r, 3, 9);
      const pad = randInt(r, 0, 1);
      const padValue = s1 ? ([0, 1, -1] as const)[randInt(r, 0, 2)] : a1 === 1 ? ([1, -1] as const)[randInt(r, 0, 1)] : ([0, 1] as const)[randInt(r, 0, 1)];
      let x = add({ op: 'Input', name: 'data', inputs: [], shape: [C0, H, H] });
      x = add({ op: 'Convolution', name: 'conv0', inputs: [x], kernel: [3, 3], stride: [1, 1], pad: [1, 1], numFilter: F1, weight: u(F1 * C0 * 9, -1, 1), bias: u(F1, -0.1, 0.1) });
      x = add({ op: 'BatchNorm', name: 'bn0', inputs: [x], gamma: u(F1, 0.5, 2), beta: u(F1, -0.2, 0.2), mean: u(F1, -0.2, 0.2), variance: u(F1, 0.1, 1), eps: 1e-3 });
      x = add({ op: 'QActivation', name: 'qact0', inputs: [x], actBits: a1, ...(s1 ? { signed: true } : {}), backwardOnly: true });
      x = add({
        op: 'QConvolution', name: 'qconv1', inputs: [x], kernel: [3, 3], stride: [1, 1], pad: [pad, pad], padValue, numFilter: F2,
        actBits: a1, ...(s1 ? { actSigned: true } : {}), weight: weights(F2 * F1 * 9, w1, ws1),
      });
      x = bn('bn1', x, F2, 9 * F1, a1, s1, w1, ws1);
      x = add({ op: 'Pooling', name: 'pool1', inputs: [x], poolType: 'max', kernel: [2, 2], stride: [2, 2], pad: [0, 0], global: false, convention: 'valid', countIncludePad: true });
      x = add({ op: 'QActivation', name: 'qact1', inputs: [x], actBits: a2, ...(s2 ? { signed: true } : {}), backwardOnly: true });
      x = add({ op: 'Flatten', name: 'flatten1', inputs: [x] });
      const inF = nodes[nodes.length - 1].shape[0];
      x = add({ op: 'QFullyConnected', name: 'qfc2', inputs: [x], numHidden: hidden, actBits: a2, ...(s2 ? { actSigned: true } : {}), weight: weights(hidden * inF, w2, ws2) });
      x = bn('bn2', x, hidden, inF, a2, s2, w2, ws2);
      x = add({ op: 'FullyConnected', name: 'fc3', inputs: [x], numHidden: 4, weight: u(4 * hidden, -1, 1), bias: u(4, -0.1, 0.1) });
      add({ op: 'Softmax', name: 'softmax', inputs: [x] });
      return { name: `int-${seed}`, source: { format: 'test', files: [] }, nodes, output: 'softmax' };
    }

    it('fused (folded thresholds, signed consumers included) and unfused compiles give identical logits; native equals reference', async function () {
      this.timeout(120_000);
      const natives = (() => {
        try {
          nativeEngine();
          return true;
        } catch {
          return false;
        }
      })();
      const configs: [number, boolean, number, boolean, number, boolean, number, boolean][] = [
        [2, true, 2, true, 2, true, 3, false], [3, true, 4, true, 1, false, 2, true], [1, false, 3, true, 4, true, 1, false],
        [4, false, 2, false, 3, true, 4, true], [2, false, 1, false, 2, true, 2, false], [4, true, 4, true, 4, true, 4, true],
        [3, false, 3, false, 2, false, 3, true], [1, false, 2, true, 3, false, 2, true],
      ];
      let distinct = 0;
      for (const [i, cfg] of configs.entries()) {
        const g = intModel(500 + i, ...cfg);
        const fused = compile(g);
        const plain = compile(g, { fuse: false });
        const q = fused.ops.filter((o): o is BconvOp => o.op === 'bconv');
        assert.ok(q.some((o) => o.epilogue.kind === 'threshold'), `config ${i}: the first layer's output is folded into thresholds`);
        assert.equal(q[0].wBits ?? 1, cfg[2]);
        if (cfg[5]) assert.equal(fused.tensors[q[0].out].signed, true, `config ${i}: the folded output is signed`);
        const t = fused.tensors[fused.input];
        const x = randomImages(600 + i, 7, [t.c, t.h, t.w]);
        const a = await logitsOf(fused, 'reference', x);
        const b = await logitsOf(plain, 'reference', x);
        assert.deepEqual(bitsOf(a), bitsOf(b), `config ${i} ${JSON.stringify(cfg)}: fused and unfused logits differ`);
        // the folded layer's levels vary (the test would be weak if every input gave one level)
        const ref = new ReferenceBackend();
        await ref.load(fused);
        const dev = fused.segments.findIndex((s) => s.kind === 'device');
        assert.equal(dev, 1, 'host, device, host');
        const hostOut = await ref.runSegment(0, new Map([[fused.input, toNHWC(x, 7, fused)]]), 7);
        const mid = (await ref.runSegment(1, hostOut, 7)).values().next().value as Int32Array;
        if (new Set(mid).size > 3) distinct++;
        if (natives) {
          for (const [m, what] of [[fused, 'fused'], [plain, 'unfused']] as const) {
            const n = new NativeBackend({ threads: 1 + (i % 2) });
            await compareWithReference(m, x, n, `config ${i} ${what}`);
            await n.dispose();
          }
        }
      }
      assert.ok(distinct >= configs.length - 2, `the second layer's integers vary in ${distinct} of ${configs.length} models`);
    });

    it('refuses integer weights out of range, bad widths and pad values it cannot represent', () => {
      const g = intModel(7, 2, true, 2, true, 2, false, 2, false);
      const q = g.nodes.find((n) => n.name === 'qconv1') as Extract<IRNode, { op: 'QConvolution' }>;
      const w = q.weight as Extract<typeof q.weight, { kind: 'int' }>;
      w.data[5] = 2; // signed 2-bit: -2..1
      assert.throws(() => compile(g), (e: Error) => e instanceof UnsupportedError && /node 'qconv1' \(QConvolution\): weight 5 is 2, outside the signed 2-bit range -2\.\.1/.test(e.message));
      w.data[5] = 0;
      w.bits = 5;
      assert.throws(() => compile(g), (e: Error) => e instanceof UnsupportedError && /5-bit integer weights are not supported \(2\.\.4/.test(e.message));
      w.bits = 2;
      q.pad = [1, 1];
      q.actSigned = false;
      q.padValue = -1;
      assert.throws(() => compile(g), (e: Error) => e instanceof UnsupportedError && /pad value -1 with unsigned act_bit=2/.test(e.message));
    });
  });

  describe('.bnn and validation', function () {
    function intLayerModel(): CompiledModel {
      const p: BconvCase = {
        H: 3, W: 3, C: 5, outC: 4, kh: 2, kw: 2, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 3, pool: null, outBits: 2, seed: 1,
        wBits: 3, wSigned: true, inSigned: true, outSigned: true,
      };
      return bconvModel(p, rng(9));
    }

    it('round-trips wBits, wSigned and signed tensors as format 2.0; binary models stay 1.0; a 1.x header cannot carry them', () => {
      const m = intLayerModel();
      const buf = encodeBnn(m);
      const c = unpackBnnContainer(buf, 'm');
      assert.deepEqual([c.major, c.minor], [2, 0]);
      // the same JSON and blobs under a 1.1 header: a 1.x reader would misread them, so this one refuses
      assert.throws(() => decodeBnn(packBnnContainer(c.json, c.blobs, 1, 1), 'old.bnn'), /^FormatError: old\.bnn: format 1\.1 cannot hold integer weights or signed activations \(they need format 2\.0\)$/);
      const back = decodeBnn(buf, 'm');
      assert.deepEqual(back, m);
      const op = back.ops[1] as BconvOp;
      assert.equal(op.wBits, 3);
      assert.equal(op.wSigned, true);
      assert.equal(back.tensors[op.in].signed, true);
      assert.equal(back.tensors[op.out].signed, true);
      const binary = bconvModel({ ...{ H: 3, W: 3, C: 5, outC: 4, kh: 2, kw: 2, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: null, outBits: 1, seed: 1 } }, rng(9));
      const bb = encodeBnn(binary);
      assert.deepEqual([unpackBnnContainer(bb, 'b').major, unpackBnnContainer(bb, 'b').minor], [1, 0]);
      assert.ok(!bb.toString('latin1').includes('signed') && !bb.toString('latin1').includes('wBits'), 'no new keys in a binary model');
    });

    it('CLI: inspect shows the integer layer, export-onnx writes it (test/export/onnx.test.ts checks the values)', () => {
      const dir = scratchDir('kbit', true);
      const file = path.join(dir, 'int.bnn');
      fs.writeFileSync(file, encodeBnn(intLayerModel()));
      const ins = bitweave(['inspect', file]);
      assertSuccess(ins);
      assert.match(ins.stdout, /and x3 planes x 3-bit signed weights/);
      assertSuccess(bitweave(['export-onnx', file, '-o', path.join(dir, 'int.onnx')]));
      assert.ok(fs.statSync(path.join(dir, 'int.onnx')).size > 0);
    });

    it('rejects bad integer fields with one line naming the op', () => {
      const cases: [(m: CompiledModel) => void, RegExp][] = [
        [(m) => ((m.ops[1] as BconvOp).wBits = 5), /op 1 \(bconv "bconv1"\): wBits must be an integer in 1\.\.4, got 5/],
        [(m) => Object.assign(m.ops[1], { wBits: 1, wSigned: true, weight: (m.ops[1] as BconvOp).weight.subarray(0, 4 * 4 * 2) }), /wSigned needs wBits >= 2/],
        [(m) => ((m.ops[1] as BconvOp).weight = (m.ops[1] as BconvOp).weight.subarray(2)), /weight has 94 Uint32 values, expected wBits\*outC\*kh\*kw\*ceil\(inC\/64\)\*2 = 3\*4\*2\*2\*1\*2 = 96/],
        [(m) => ((m.ops[1] as BconvOp).weight[2 * 16 * 2 + 2] = 1 << 7), /weight bits past inC = 5 must be 0 \(weight plane 2, output channel 0, kernel pixel 1/],
        [(m) => (m.tensors[1] = { ...m.tensors[1], planes: 3, signed: 'yes' as unknown as boolean }), /tensor 1: signed must be true or false, got the string "yes"/],
        [(m) => (m.tensors[m.tensors.length - 1] = { ...m.tensors[m.tensors.length - 1], signed: true }), /only bits tensors with 2 or more planes can be signed, this is f32/],
      ];
      for (const [change, re] of cases) {
        const m = intLayerModel();
        change(m);
        formatError(() => validateModel(m, 'm'), re);
      }
    });
  });
});
