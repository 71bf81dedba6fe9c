/**
 * Layer programs: a device segment encoded as descriptors (params.ts) plus the buffers
 * they point into, so one kernel launch can walk every layer for a whole batch.
 *
 * Memory per launch:
 *  - weights: one buffer of 64-bit words, each layer's packed weights at W_OFF, channel by
 *    channel: [OUT_C][W_BITS][KH][KW][IN_WORDS] (the .bnn holds the planes outermost; here
 *    a channel's planes are adjacent, so a feeder walks one contiguous run per channel and
 *    a plane starts KH·KW·IN_WORDS words after the previous one);
 *  - params: int32 entries, each layer's thresholds at T_OFF and per-channel flags
 *    (FLAG_FLIP | FLAG_POOL_MIN) at F_OFF;
 *  - arena: per image `arenaWords` 64-bit words; every tensor of the segment has a region
 *    (bits tensors in canonical layout, int32 tensors two values per word, low first), the
 *    segment's inputs first. Zero-padded convs run as 2-bit signed layers (zero-pad.ts): the
 *    1-bit tensors they read are held as two signed planes, a segment input in both forms
 *    when other layers read it too.
 */
import { BitweaveError } from '../core/errors';
import { wordsFor } from '../core/bits';
import { windowOut } from '../core/window';
import { accumulatorRange, BconvOp, CompiledModel, TensorInfo, weightBits } from '../compile/model';
import { ArrayParams, DESC_WORDS, FLAG_FLIP, FLAG_POOL_MIN, OP_AND_PLANES, OP_IN_SIGNED, OP_OUT_SIGNED, OP_POOL, OP_THRESHOLD, OP_W_SIGNED } from './params';
import { accMagnitude, decodeDescriptor, Descriptor, DescriptorFields, encodeDescriptor } from './descriptor';
import { bothFormsError, padsWithZero, shiftThresholds, signedPairThresholds, signedPlanesWords, zeroPadOffset } from './zero-pad';

export interface ArenaRegion {
  tensor: number;
  /** Offset and size in 64-bit words within one image's arena. */
  offset: number;
  words: number;
  /**
   * How the arena holds the tensor where that differs from the model (zero padding,
   * zero-pad.ts): a 1-bit tensor as two signed planes, or a zero-padded conv's int32 output
   * as v = Q - `less`. The host converts on the way in and out (SegmentIO).
   */
  arrayForm?: { kind: 'signed-planes' } | { kind: 'less'; less: number };
}

export interface LayerProgram {
  segment: number;
  layers: number;
  /** DESC_WORDS uint32 per layer. */
  descriptors: Uint32Array;
  /** Packed weights, as Uint32 halves of 64-bit words. */
  weights: Uint32Array;
  /** Thresholds and per-channel flags. */
  params: Int32Array;
  arenaWords: number;
  inputs: ArenaRegion[];
  outputs: ArenaRegion[];
  /** Every layer's descriptor, decoded. */
  layerDescriptors: Descriptor[];
  /** Useful binary MACs per image (sum of the layers' Descriptor.macs). */
  macsPerImage: number;
}

/** 64-bit words one image of a tensor takes in the arena. */
export function arenaWordsOf(t: TensorInfo): number {
  if (t.kind === 'bits') return t.h * t.w * t.planes * wordsFor(t.c);
  if (t.kind === 'i32') return Math.ceil((t.h * t.w * t.c) / 2);
  throw new Error('arena: float tensors never enter a device segment');
}

export function encodeSegment(m: CompiledModel, segment: number, p: ArrayParams): LayerProgram {
  const seg = m.segments[segment];
  if (!seg || seg.kind !== 'device') throw new Error(`segment ${segment} is not a device segment`);
  const ops = m.ops.slice(seg.start, seg.end) as BconvOp[];
  // which form each tensor takes in the arena: zero-padded convs read signed planes
  const signedIn = new Set(ops.filter(padsWithZero).map((op) => op.in));
  const plainIn = new Set(ops.filter((op) => !padsWithZero(op)).map((op) => op.in));
  const producedIn = new Set(ops.map((op) => op.out));
  const regions = new Map<number, ArenaRegion>();
  const signedRegions = new Map<number, ArenaRegion>();
  let arena = 0;
  const region = (t: number): ArenaRegion => {
    let r = regions.get(t);
    if (!r) {
      r = { tensor: t, offset: arena, words: arenaWordsOf(m.tensors[t]) };
      arena += r.words;
      regions.set(t, r);
    }
    return r;
  };
  const signedRegion = (t: number): ArenaRegion => {
    let r = signedRegions.get(t);
    if (!r) {
      r = { tensor: t, offset: arena, words: signedPlanesWords(m.tensors[t]), arrayForm: { kind: 'signed-planes' } };
      arena += r.words;
      signedRegions.set(t, r);
    }
    return r;
  };
  const inputRegions: ArenaRegion[] = [];
  for (const t of seg.inputs) {
    if (plainIn.has(t)) inputRegions.push(region(t));
    if (signedIn.has(t)) inputRegions.push(signedRegion(t));
  }
  ops.forEach((op, l) => {
    if (signedIn.has(op.out) && plainIn.has(op.out)) throw bothFormsError(m.opNames[seg.start + l], op.out);
  });
  // a zero-padded conv's int32 output leaves the arena as v = Q - K
  const less = new Map<number, number>();
  for (const op of ops) if (padsWithZero(op) && op.epilogue.kind === 'int') less.set(op.out, zeroPadOffset(op, m.tensors[op.in]));
  const outputRegion = (t: number): ArenaRegion => {
    if (producedIn.has(t) && signedIn.has(t)) return signedRegion(t);
    const r = region(t);
    const k = less.get(t);
    return k === undefined ? r : { ...r, arrayForm: { kind: 'less', less: k } };
  };

  const descriptors = new Uint32Array(ops.length * DESC_WORDS);
  let weightWords = 0;
  let paramEntries = 0;
  for (const op of ops) {
    weightWords += op.weight.length / 2;
    paramEntries += (op.epilogue.kind === 'threshold' ? (signedIn.has(op.out) ? 3 * op.outC : op.epilogue.thresholds.length) : 0) + op.outC;
  }
  const weights = new Uint32Array(weightWords * 2);
  const params = new Int32Array(paramEntries);
  const layerDescriptors: Descriptor[] = [];
  let wOff = 0;
  let pOff = 0;
  ops.forEach((op, l) => {
    const ti = m.tensors[op.in];
    const to = m.tensors[op.out];
    const threshold = op.epilogue.kind === 'threshold';
    const wBits = weightBits(op);
    // zero padding: 2-bit signed activations, padded pixels level 0 (zero-pad.ts)
    const zeroPad = padsWithZero(op);
    const inPlanes = zeroPad ? 2 : op.inBits;
    const inSigned = zeroPad || ti.signed === true;
    // the output feeds a zero-padded conv: 2-bit signed levels -1 / +1 (signed planes)
    const signedOut = threshold && signedIn.has(op.out);
    const outBits = op.epilogue.kind === 'threshold' ? (signedOut ? 2 : op.epilogue.bits) : 0;
    const f: Partial<DescriptorFields> = {
      OPCODE: (threshold ? OP_THRESHOLD : 0) | (op.pool ? OP_POOL : 0) | (inPlanes > 1 || wBits > 1 ? OP_AND_PLANES : 0) |
        (inSigned ? OP_IN_SIGNED : 0) | (op.wSigned ? OP_W_SIGNED : 0) | (threshold && (to.signed || signedOut) ? OP_OUT_SIGNED : 0),
      IN_H: ti.h, IN_W: ti.w, IN_C: ti.c, IN_WORDS: wordsFor(ti.c), IN_PLANES: inPlanes, W_BITS: wBits,
      KH: op.kh, KW: op.kw, SH: op.sh, SW: op.sw, PH: op.ph, PW: op.pw,
      PAD_BIT: zeroPad ? 0 : op.padBit,
      OUT_C: op.outC,
      ACC_H: windowOut(ti.h, op.kh, op.sh, op.ph), ACC_W: windowOut(ti.w, op.kw, op.sw, op.pw),
      OUT_H: to.h, OUT_W: to.w,
      ...(op.pool ? { POOL_KH: op.pool.kh, POOL_KW: op.pool.kw, POOL_SH: op.pool.sh, POOL_SW: op.pool.sw, POOL_PH: op.pool.ph, POOL_PW: op.pool.pw } : {}),
      OUT_BITS: outBits,
      TAIL: inPlanes === 1 && wBits === 1 ? op.kh * op.kw * (64 * wordsFor(ti.c) - ti.c) : 0,
      IN_OFF: (zeroPad ? signedRegion(op.in) : region(op.in)).offset,
      OUT_OFF: (signedOut ? signedRegion(op.out) : region(op.out)).offset,
      W_OFF: wOff,
    };
    const acc = accMagnitude({ KH: op.kh, KW: op.kw, IN_C: ti.c, IN_PLANES: op.inBits, W_BITS: wBits, OPCODE: f.OPCODE! });
    if (acc >= 2 ** (p.accBits - 1)) {
      throw new BitweaveError(
        `layer '${m.opNames[seg.start + l]}': accumulator needs ${Math.ceil(Math.log2(acc + 1)) + 1} bits, the array has ${p.accBits}`,
      );
    }
    // [W_BITS][OUT_C][run] -> [OUT_C][W_BITS][run], run = KH·KW·IN_WORDS words
    const run = (op.weight.length / wBits / op.outC);
    for (let q = 0; q < wBits; q++)
      for (let oc = 0; oc < op.outC; oc++) weights.set(op.weight.subarray((q * op.outC + oc) * run, (q * op.outC + oc + 1) * run), wOff * 2 + (oc * wBits + q) * run);
    wOff += op.weight.length / 2;
    if (op.epilogue.kind === 'threshold') {
      const thresholds = arrayThresholds(op, ti, wBits, signedOut);
      f.T_OFF = pOff;
      params.set(thresholds, pOff);
      pOff += thresholds.length;
    }
    f.F_OFF = pOff;
    for (let c = 0; c < op.outC; c++) {
      const flip = op.epilogue.kind === 'threshold' && op.epilogue.flip[c] ? FLAG_FLIP : 0;
      const min = op.pool && op.pool.useMin[c] ? FLAG_POOL_MIN : 0;
      params[pOff + c] = flip | min;
    }
    pOff += op.outC;
    descriptors.set(encodeDescriptor(f), l * DESC_WORDS);
    layerDescriptors.push(decodeDescriptor(descriptors, l));
  });
  return {
    segment,
    layers: ops.length,
    descriptors,
    weights,
    params,
    arenaWords: arena,
    inputs: inputRegions,
    outputs: seg.outputs.map(outputRegion),
    layerDescriptors,
    macsPerImage: layerDescriptors.reduce((sum, d) => sum + d.macs, 0),
  };
}

/**
 * A threshold layer's thresholds as the array compares them: on v = Q - K for a zero-padded
 * conv, and as (t0, τ, τ) where its 1-bit output feeds a zero-padded conv (zero-pad.ts).
 */
function arrayThresholds(op: BconvOp, ti: TensorInfo, wBits: number, signedOut: boolean): Int32Array {
  if (op.epilogue.kind !== 'threshold') throw new Error('arrayThresholds: not a threshold layer');
  const K = op.kh * op.kw * ti.c;
  const zeroPad = padsWithZero(op);
  const t = zeroPad ? shiftThresholds(op.epilogue.thresholds, K) : op.epilogue.thresholds;
  if (!signedOut) return t;
  const range = zeroPad ? { lo: -K, hi: K } : accumulatorRange(op.inBits, ti.signed === true, wBits, op.wSigned === true, K);
  return signedPairThresholds(t, op.epilogue.flip, range.lo, range.hi);
}
