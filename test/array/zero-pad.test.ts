/**
 * Zero padding (PAD_ZERO) on the array as 2-bit signed layers (host/array/zero-pad.ts):
 * the level encoding and the threshold rewrites exhaustively, the layer program a zero-padded
 * conv becomes (and that older partitions with it on the host stay valid), where an array cuts
 * a device segment (1-bit outputs, or a tensor read in both forms) and where it does not, and
 * random models (test/helpers/zero-pad-models.ts: single layers, chains where a device layer
 * writes the signed planes, an input read in both forms, a signed-planes tensor crossing a
 * host segment, a device-written tensor read in both forms) on opencl (PoCL), hls-csim and
 * verilator, and on axi-sim (1-bit outputs: every chain from a device layer cut), against the
 * reference, bit for bit: 150 per backend, about 20 s in all; BITWEAVE_LONG=1 runs 1000.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { BackendName, createBackend } from '../../host/backends';
import { axiInfo } from '../../host/backends/axi-sim/ffi';
import { hlsLib } from '../../host/backends/hls-csim/ffi';
import { ReferenceBackend } from '../../host/backends/reference';
import { rtlInfo } from '../../host/backends/verilator/ffi';
import { encodeSegment } from '../../host/array/program';
import { checkProgram, rtlLimits } from '../../host/array/descriptor';
import { DEFAULT_ARRAY, OP_AND_PLANES, OP_IN_SIGNED, OP_OUT_SIGNED } from '../../host/array/params';
import { fromSignedPlanes, shiftThresholds, signedPairThresholds, targetSegments, toSignedPlanes, zeroPadCuts } from '../../host/array/zero-pad';
import { BconvOp, CompiledModel, PAD_ZERO } from '../../host/compile/model';
import { validateModel } from '../../host/compile/validate';
import { OpenCLUnavailableError, platforms } from '../../host/opencl';
import { Backend, TensorData } from '../../host/runtime/backend';
import { Session } from '../../host/runtime/session';
import { compareWithReference, runModelSegment } from '../helpers/backend-compare';
import { rng } from '../helpers/naive';
import { bits, bitsOf, logitsOf, ModelBuilder, randomBits, randomInput, runSegment } from '../helpers/native-models';
import { addInts, addLayer, ZeroPadLayer as Layer, zeroPadCases as cases, zeroPadModel } from '../helpers/zero-pad-models';
import { requireOrSkip } from '../helpers/skip';

const LONG = !!process.env.BITWEAVE_LONG;

/** Value of channel ch of pixel px in a 1-bit tensor (+1 / -1) and in signed planes (-2·b1 + b0). */
function bipolar(w: Uint32Array, halves: number, px: number, ch: number): number {
  return (w[px * halves + (ch >>> 5)] >>> (ch & 31)) & 1 ? 1 : -1;
}
function signedLevel(w: Uint32Array, halves: number, px: number, ch: number): number {
  const b = (plane: number) => (w[(2 * px + plane) * halves + (ch >>> 5)] >>> (ch & 31)) & 1;
  return b(0) - 2 * b(1);
}

describe('zero padding on the array: the level encoding', () => {
  it('a 1-bit tensor as signed planes: +1 = (0,1), -1 = (1,1), tail bits 0, and back', () => {
    for (const c of [1, 5, 31, 32, 33, 63, 64, 65, 130]) {
      const t = bits(2, 3, c, 1);
      const halves = 2 * Math.ceil(c / 64);
      const x = randomBits(rng(c), 6, c, 1);
      const planes = new Uint32Array(2 * x.length);
      toSignedPlanes(x, t, planes);
      for (let px = 0; px < 6; px++) {
        for (let ch = 0; ch < c; ch++) assert.equal(signedLevel(planes, halves, px, ch), bipolar(x, halves, px, ch), `c=${c} px=${px} ch=${ch}`);
        for (let ch = c; ch < 64 * Math.ceil(c / 64); ch++) assert.equal(signedLevel(planes, halves, px, ch), 0, `tail c=${c} ch=${ch}`);
      }
      const back = new Uint32Array(x.length);
      fromSignedPlanes(planes, t, back);
      assert.deepEqual(back, x);
    }
  });

  it('thresholds on Q moved onto v = Q - K, and (t0, τ, τ) giving the levels -1 / +1, for every v and τ', () => {
    const K = 7;
    const taus = Int32Array.from([...Array.from({ length: 2 * K + 6 }, (_, i) => i - 2), -(2 ** 31), 2 ** 31 - 1]);
    const shifted = shiftThresholds(taus, K);
    for (let j = 0; j < taus.length; j++)
      for (let q = 0; q <= 2 * K; q++) assert.equal(q - K >= shifted[j], q >= taus[j], `Q=${q} τ=${taus[j]}`);
    for (const flip of [0, 1]) {
      const f = new Uint8Array(taus.length).fill(flip);
      const t3 = signedPairThresholds(shifted, f, -K, K);
      for (let j = 0; j < taus.length; j++) {
        const [a, b, c] = t3.subarray(3 * j, 3 * j + 3);
        assert.ok(flip ? a >= b && b >= c : a <= b && b <= c, 'in order');
        for (let v = -K; v <= K; v++) {
          const n = [a, b, c].filter((t) => (flip ? v < t : v >= t)).length;
          const bit = (v >= shifted[j] ? 1 : 0) ^ flip;
          assert.equal(n - 2, bit ? 1 : -1, `v=${v} τ=${shifted[j]} flip=${flip}`);
        }
      }
    }
  });
});

// ---- random models (test/helpers/zero-pad-models.ts) -------------------------------

const ARRAYS: [string, () => unknown, (new (...a: never[]) => Error) | undefined][] = [
  ['opencl', () => platforms(), OpenCLUnavailableError],
  ['hls-csim', () => hlsLib(), undefined],
  ['verilator', () => rtlInfo(), undefined],
  // 1-bit outputs: every chain from a device layer into a zero-padded conv is cut
  ['axi-sim', () => axiInfo(), undefined],
];

describe('zero padding on the array: layer programs', () => {
  it('a zero-padded conv is a device op, encoded as 2-bit signed activations with pad level 0 (fails if the rewrite is dropped)', () => {
    const p = fc.sample(cases.filter((c) => c.shape === 'chain' && c.first.padBit === PAD_ZERO && c.first.ph > 0), { seed: 5, numRuns: 1 })[0];
    const m = zeroPadModel(p);
    const si = m.segments.findIndex((s) => s.kind === 'device');
    const seg = m.segments[si];
    const devOps = m.ops.slice(seg.start, seg.end);
    assert.deepEqual(devOps.slice(0, 2).map((op) => op.op === 'bconv' && op.padBit), [PAD_ZERO, PAD_ZERO], 'both zero-padded convs in one device segment');
    const prog = encodeSegment(m, si, DEFAULT_ARRAY);
    const [first, second] = prog.layerDescriptors;
    for (const d of [first, second]) {
      assert.equal(d.IN_PLANES, 2);
      assert.equal(d.PAD_BIT, 0);
      assert.equal(d.TAIL, 0);
      assert.ok(d.OPCODE & OP_AND_PLANES && d.OPCODE & OP_IN_SIGNED);
    }
    // the first writes the second's input as 2-bit signed levels
    assert.equal(first.OUT_BITS, 2);
    assert.ok(first.OPCODE & OP_OUT_SIGNED);
    assert.equal(first.OUT_OFF, second.IN_OFF);
    assert.deepEqual(prog.inputs.map((r) => r.arrayForm?.kind), ['signed-planes']);
  });
  it('a zero-padded conv in a host segment (.bnn 2.1 files written before) stays valid and runs on the host engine', async function () {
    const l: Layer = { kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: PAD_ZERO, outC: 5, pool: null, outBits: 0 };
    const m = zeroPadModel({ shape: 'single', H: 4, W: 5, C: 70, first: l, second: l, seed: 7 });
    const old: CompiledModel = { ...m, segments: [{ kind: 'host', start: 0, end: m.ops.length, inputs: [m.input], outputs: [m.output] }] };
    validateModel(old, 'old');
    assert.throws(() => validateModel({ ...old, ops: old.ops.map((op) => (op.op === 'bconv' ? { ...op, padBit: 1 } : op)) }, 'plus-one'), /runs on the device/);
    if (!requireOrSkip(this, () => hlsLib())) return;
    const x = randomInput(rng(3), 2, 70 * 4 * 5, 1);
    assert.deepEqual(bitsOf(await logitsOf(old, 'hls-csim', x)), bitsOf(await logitsOf(m, 'reference', x)));
  });
});

describe('zero padding on the array: where an array cuts a device segment', () => {
  const conv = (padBit: BconvOp['padBit'], outBits: number): Layer => ({ kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit, outC: 7, pool: null, outBits });
  const chain = (second: BconvOp['padBit']) => zeroPadModel({ shape: 'chain', H: 6, W: 5, C: 20, first: conv(1, 1), second: conv(second, 0), seed: 3 });
  const parts = (segs: readonly { kind: string; start: number; end: number; inputs: number[]; outputs: number[] }[]) =>
    segs.map((g) => `${g.kind}[${g.start}..${g.end - 1}] ${g.inputs.join(',')}->${g.outputs.join(',')}`);
  const rtl1 = rtlLimits({ rows: DEFAULT_ARRAY.rows, accBits: DEFAULT_ARRAY.accBits, maxOutBits: 1 });
  const check = (m: CompiledModel, si: number) => {
    const p = encodeSegment(m, si, DEFAULT_ARRAY);
    checkProgram(p.descriptors, p.layers, rtl1, { weightWords: p.weights.length / 2, paramEntries: p.params.length, arenaWords: p.arenaWords }, 'test', (l) => `layer ${l}`);
    return p;
  };

  it('1-bit outputs: a device-written tensor a zero-padded conv reads crosses the host, cut right before that conv; 2-bit outputs: no cut', () => {
    // ops: binarize, first (±1 padding, 1-bit out: tensor 2), second (zero padding, reads 2), dequantize, flatten
    const m = chain(PAD_ZERO);
    assert.deepEqual(parts(m.segments), ['host[0..0] 0->1', 'device[1..2] 1->3', 'host[3..4] 3->5']);
    assert.throws(() => check(m, 1), /OUT_BITS = 2: the RTL array is built for 1\.\.1-bit outputs/);
    assert.deepEqual(zeroPadCuts(m, 1), [2]);
    const cut = targetSegments(m, 1);
    assert.deepEqual(parts(cut), ['host[0..0] 0->1', 'device[1..1] 1->2', 'device[2..2] 2->3', 'host[3..4] 3->5']);
    const v: CompiledModel = { ...m, segments: cut };
    assert.equal(check(v, 1).layerDescriptors[0].OUT_BITS, 1, 'the writer emits bits');
    assert.deepEqual(check(v, 2).inputs.map((r) => [r.tensor, r.arrayForm?.kind]), [[2, 'signed-planes']], 'the host packs them as signed planes');
    for (const bitsOut of [2, 8]) {
      assert.deepEqual(zeroPadCuts(m, bitsOut), []);
      assert.equal(targetSegments(m, bitsOut), m.segments, 'the model\'s own segments, unchanged');
    }
    // a ±1-padded reader takes the bits as they are: no cut anywhere
    const plain = chain(0);
    assert.deepEqual(zeroPadCuts(plain, 1), []);
    assert.equal(targetSegments(plain, 1), plain.segments);
  });

  it('a device-written tensor read by a zero-padded and a ±1-padded conv: cut on every array, the later part reading it in both forms', () => {
    const m = zeroPadModel({ shape: 'fork', H: 5, W: 6, C: 9, first: conv(PAD_ZERO, 1), second: conv(PAD_ZERO, 1), seed: 4 });
    // ops: binarize, first (tensor 2), second (zero padding, reads 2), twin (±1 padding, reads 2), ...
    assert.throws(() => encodeSegment(m, 1, DEFAULT_ARRAY), /read on the array both by a zero-padded conv and by another layer/);
    for (const bitsOut of [1, 2]) {
      assert.deepEqual(zeroPadCuts(m, bitsOut), [2]);
      const v: CompiledModel = { ...m, segments: targetSegments(m, bitsOut) };
      assert.deepEqual(parts(v.segments).slice(1, 3), ['device[1..1] 1->2', 'device[2..3] 2->3,4']);
      assert.deepEqual(check(v, 2).inputs.map((r) => [r.tensor, r.arrayForm?.kind ?? 'bits']), [[2, 'bits'], [2, 'signed-planes']]);
    }
  });

  it('the fewest cuts: one serves two tensors when it lies after both writers and before both readers; a chain of three needs two', () => {
    const b = new ModelBuilder(4, 4, 10);
    const x = b.add({ op: 'binarize', in: 0, bits: 1 }, bits(4, 4, 10, 1));
    const r = rng(9);
    const p = addLayer(b, r, x, conv(1, 1), 'p'); // op 1
    const q = addLayer(b, r, x, conv(0, 1), 'q'); // op 2
    const c = addLayer(b, r, p, conv(PAD_ZERO, 0), 'c'); // op 3 reads p
    addInts(b, c, addLayer(b, r, q, conv(PAD_ZERO, 0), 'd')); // op 4 reads q
    const m = b.build('two-writers');
    validateModel(m, m.name);
    assert.deepEqual(zeroPadCuts(m, 1), [3]);
    assert.deepEqual(parts(targetSegments(m, 1)).slice(1, 3), ['device[1..2] 1->2,3', 'device[3..4] 2,3->4,5']);
    const three = zeroPadModel({ shape: 'chain', H: 6, W: 6, C: 5, first: conv(PAD_ZERO, 1), second: conv(PAD_ZERO, 1), seed: 5 });
    // ops: binarize, first, second (1-bit, read by the probe: a ±1-padded 1x1 conv), ...
    assert.deepEqual(zeroPadCuts(three, 1), [2]);
    const c3 = new ModelBuilder(6, 6, 5);
    const y = c3.add({ op: 'binarize', in: 0, bits: 1 }, bits(6, 6, 5, 1));
    const r3 = rng(2);
    let t = y;
    for (const name of ['a', 'b', 'c']) t = addLayer(c3, r3, t, conv(PAD_ZERO, name === 'c' ? 0 : 1), name);
    addInts(c3, t, t);
    const m3 = c3.build('three');
    validateModel(m3, m3.name);
    assert.deepEqual(zeroPadCuts(m3, 1), [2, 3]);
    assert.deepEqual(zeroPadCuts(m3, 2), []);
  });

  it('on backends: opencl runs a zero-padded chain as the model\'s one device segment, axi-sim cut in two with a note', async function () {
    const m = chain(PAD_ZERO);
    const x = randomInput(rng(4), 3, 20 * 6 * 5, 1);
    const want = bitsOf(await logitsOf(m, 'reference', x));
    for (const [name, probe, kind, parts] of [['opencl', () => platforms(), OpenCLUnavailableError, 3], ['axi-sim', () => axiInfo(), undefined, 4]] as const) {
      if (!requireOrSkip(this, probe, kind)) return;
      const s = await Session.create(m, { backend: name, threads: 1 });
      try {
        assert.equal(s.segments.length, parts, name);
        if (parts === 3) assert.equal(s.segments, m.segments, `${name}: the model's segments`);
        assert.deepEqual(s.stats().notes, parts === 3 ? [] : [`axi-sim runs device segment 1 (ops 1..2) as 2 segments (ops 1..1, 2..2): tensor 2 crosses the host between them, as its array cannot hand it on to the zero-padded convs reading it`]);
        assert.deepEqual(bitsOf((await s.run(x)).logits), want, name);
        assert.deepEqual(s.stats().timeline.map((t) => `${t.segment} ${t.kind}`), s.segments.map((g, i) => `${i} ${g.kind}`), `${name}: the timeline`);
      } finally {
        await s.close();
      }
    }
  });
});

describe('zero padding on the array: random models bit-identical to the reference', function () {
  const runs = LONG ? 1000 : 150;
  for (const [name, probe, kind] of ARRAYS) {
    it(`${name}: ${runs} random models (single, chained, shared, crossing and forked zero-padded convs)`, async function () {
      if (!requireOrSkip(this, probe, kind)) return;
      const b: Backend = await createBackend(name as BackendName, { threads: 1 });
      const ref = new ReferenceBackend();
      const seen = { single: 0, chain: 0, shared: 0, crossing: 0, fork: 0, pooled: 0, thresholds: 0, ints: 0, strided: 0, wideC: 0, chainFromDevice: 0, cut: 0 };
      try {
        for (const [i, p] of fc.sample(cases, { seed: 2024, numRuns: runs }).entries()) {
          const m = zeroPadModel(p);
          const r = rng(p.seed ^ 0x5bd1);
          const batch = 1 + (i % 3);
          const what = `case ${i} ${JSON.stringify(p)}`;
          await compareWithReference(m, randomInput(r, batch, p.C * p.H * p.W, 1), b, what);
          // arbitrary bit patterns straight into the first device segment (all its parts where the array cuts it)
          const dev = m.segments.findIndex((s) => s.kind === 'device');
          const ins = new Map<number, TensorData>(m.segments[dev].inputs.map((t) => [t, randomBits(r, batch * p.H * p.W, m.tensors[t].c, m.tensors[t].planes, [0.5, 0.1, 0.9][i % 3])]));
          await ref.load(m);
          const want = await runSegment(ref, dev, ins, batch);
          const got = await runModelSegment(b, m, dev, ins, batch);
          seen.cut += b.targetSegments!().length > m.segments.length ? 1 : 0;
          for (let k = 0; k < want.length; k++) assert.deepEqual(bitsOf(got[k]), bitsOf(want[k]), `${what}: random bits`);
          seen[p.shape]++;
          const layers = p.shape === 'single' ? [p.first] : [p.first, p.second];
          seen.pooled += layers.some((l) => l.pool) ? 1 : 0;
          seen.thresholds += layers.some((l) => l.outBits === 1 && l.padBit === PAD_ZERO) ? 1 : 0;
          seen.ints += layers.some((l) => l.outBits === 0 && l.padBit === PAD_ZERO) ? 1 : 0;
          seen.strided += layers.some((l) => l.sh + l.sw > 2 && l.padBit === PAD_ZERO) ? 1 : 0;
          seen.wideC += p.C > 64 ? 1 : 0;
          seen.chainFromDevice += p.shape === 'chain' && p.first.padBit !== PAD_ZERO ? 1 : 0;
        }
      } finally {
        await b.dispose();
        await ref.dispose();
      }
      console.log(`      ${JSON.stringify(seen)}`);
      for (const [k, v] of Object.entries(seen)) assert.ok(v >= 3, `coverage: only ${v} cases of ${k}`);
    });
  }
});
