/**
 * What every backend's property tests share: random binary-layer cases, and a walk over a
 * model's segments on the reference and on the backend under test, each segment fed the
 * reference's tensors so a difference is pinned to the segment that makes it.
 */
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReferenceBackend } from '../../host/backends/reference';
import { CompiledModel } from '../../host/compile/model';
import { Backend, TensorData } from '../../host/runtime/backend';
import { BconvCase, bitsOf, caseFits, perImage, runSegment } from './native-models';

export interface BconvCaseOptions {
  /** Channel counts (default: small, word edges and 60..140). */
  channels?: fc.Arbitrary<number>;
  /** Input activation bits to draw from (repeat a value to weight it). */
  inBits: number[];
  /** Also draw pool windows wider than tall (kw = k + 1 when the stride is 1). */
  asymmetricPool?: boolean;
  /** Output bits to draw from (0: int32 outputs; default 0, 1, 1, 2). */
  outBits?: number[];
}

export function bconvCases(o: BconvCaseOptions): fc.Arbitrary<BconvCase> {
  const small = fc.integer({ min: 1, max: 9 });
  const channels = o.channels ?? fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(63, 64, 65, 127, 128, 130), fc.integer({ min: 60, max: 140 }));
  const win = fc.record({ k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), p: fc.nat(2) });
  return fc
    .record({
      H: small, W: small, C: channels, outC: channels,
      kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }),
      sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 2 }), ph: fc.nat(2), pw: fc.nat(2),
      padBit: fc.constantFrom<0 | 1>(0, 1), inBits: fc.constantFrom(...o.inBits),
      pool: fc.option(win.map((w) => ({ kh: w.k, kw: w.k + (o.asymmetricPool && w.s === 1 ? 1 : 0), sh: w.s, sw: w.s, ph: w.p, pw: w.p })), { freq: 2 }),
      outBits: fc.constantFrom(...(o.outBits ?? [0, 1, 1, 2])),
      seed: fc.integer(),
    })
    .filter(caseFits);
}

/**
 * Random integer layers (issue 16): weights 1..4 bits x activations 1..4 bits, signed or
 * not, signed threshold outputs, pads, strides, pools, channel counts at word edges; small,
 * because every backend runs many of them. `outBits` as in BconvCaseOptions (default 0, 0,
 * 1, 2, 3, 4).
 */
export function kbitCases(o: { outBits?: number[] } = {}): fc.Arbitrary<BconvCase> {
  const win = fc.record({ k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), p: fc.nat(1) });
  return fc
    .record({
      H: fc.integer({ min: 1, max: 6 }), W: fc.integer({ min: 1, max: 6 }),
      C: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(63, 64, 65, 127, 129), fc.integer({ min: 6, max: 40 })),
      outC: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(16, 63, 64, 65), fc.integer({ min: 10, max: 40 })),
      kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
      sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 2 }), ph: fc.nat(2), pw: fc.nat(2),
      padBit: fc.constantFrom<0 | 1>(0, 1),
      inBits: fc.integer({ min: 1, max: 4 }), inSigned: fc.boolean(),
      wBits: fc.integer({ min: 1, max: 4 }), wSigned: fc.boolean(),
      pool: fc.option(win.map((w) => ({ kh: w.k, kw: w.k, sh: w.s, sw: w.s, ph: w.p, pw: w.p })), { freq: 3 }),
      outBits: fc.constantFrom(...(o.outBits ?? [0, 0, 1, 2, 3, 4])), outSigned: fc.boolean(),
      seed: fc.integer(),
    })
    .filter(caseFits);
}

/** The combination a k-bit case exercises, e.g. `2sx3u` (activations x weights; 1-bit operands are bipolar). */
export function kbitCombination(p: BconvCase): string {
  return `${p.inBits}${p.inSigned && p.inBits > 1 ? 's' : 'u'}x${p.wBits ?? 1}${p.wSigned && (p.wBits ?? 1) > 1 ? 's' : 'u'}`;
}

/** NCHW float images to the NHWC layout of the model's input tensor. */
export function toNHWC(x: Float32Array, n: number, m: CompiledModel): Float32Array {
  const { h: H, w: W, c: C } = m.tensors[m.input];
  const y = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H * W; i++) y[(b * H * W + i) * C + c] = x[(b * C + c) * H * W + i];
  return y;
}

/**
 * Model segment `si` on a backend that may run it as several (Backend.targetSegments, e.g. an
 * array with 1-bit outputs cutting it at a zero-padded conv's input): its parts in order, each
 * fed what the earlier ones made. Returns the model segment's outputs by tensor id, as runSegment does.
 */
export async function runModelSegment(backend: Backend, m: CompiledModel, si: number, inputs: Map<number, TensorData>, batch: number): Promise<TensorData[]> {
  const s = m.segments[si];
  const tensors = new Map(inputs);
  for (const [ti, t] of (backend.targetSegments?.() ?? m.segments).entries()) {
    if (t.start < s.start || t.end > s.end) continue;
    const out = await backend.runSegment(ti, new Map(t.inputs.map((x) => [x, tensors.get(x)!] as const)), batch);
    for (const [k, v] of out) tensors.set(k, v);
  }
  return [...s.outputs].sort((a, b) => a - b).map((t) => tensors.get(t)!);
}

/**
 * Same inputs through the reference and `backend`, segment by segment (the model's; a backend
 * running one as several parts runs them all), compared bit for bit.
 */
export async function compareWithReference(m: CompiledModel, input: Float32Array, backend: Backend, what: string): Promise<void> {
  const ref = new ReferenceBackend();
  await ref.load(m);
  await backend.load(m);
  const batch = input.length / perImage(m, m.input);
  const tensors = new Map<number, TensorData>([[m.input, toNHWC(input, batch, m)]]);
  for (let si = 0; si < m.segments.length; si++) {
    const seg = m.segments[si];
    const ins = new Map(seg.inputs.map((t) => [t, tensors.get(t)!] as const));
    const want = await runSegment(ref, si, ins, batch);
    const got = await runModelSegment(backend, m, si, ins, batch);
    assert.equal(got.length, want.length);
    for (let k = 0; k < want.length; k++) {
      assert.equal(got[k].constructor, want[k].constructor, `${what}: segment ${si} output ${k} type`);
      assert.deepEqual(bitsOf(got[k]), bitsOf(want[k]), `${what}: segment ${si} (${seg.kind}) output ${seg.outputs[k]} differs`);
    }
    seg.outputs.forEach((t, k) => tensors.set(t, want[k]));
  }
}
