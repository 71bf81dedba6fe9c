/**
 * Layer programs: a device segment encoded as descriptors (params.ts) plus the buffers
 * they point into, so one kernel launch can walk every layer for a whole batch.
 *
 * Memory per launch:
 *  - weights: one buffer of 64-bit words, each layer's canonical packed weights at W_OFF;
 *  - params: int32 entries, each layer's thresholds at T_OFF and per-channel flags
 *    (FLAG_FLIP | FLAG_POOL_MIN) at F_OFF;
 *  - arena: per image `arenaWords` 64-bit words; every tensor of the segment has a region
 *    (bits tensors in canonical layout, int32 tensors two values per word, low first).
 */
import { BitweaveError } from '../core/errors';
import { wordsFor } from '../core/bits';
import { BconvOp, CompiledModel, TensorInfo } from '../compile/model';
import { ArrayParams, DESC_WORDS, FIELD, FLAG_FLIP, FLAG_POOL_MIN, OP_AND_PLANES, OP_POOL, OP_THRESHOLD } from './params';

export interface ArenaRegion {
  tensor: number;
  /** Offset and size in 64-bit words within one image's arena. */
  offset: number;
  words: number;
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
  /** Useful binary MACs per image (sum of outC * accH * accW * kh * kw * inC * planes). */
  macsPerImage: number;
}

/** 64-bit words one image of a tensor takes in the arena. */
export function arenaWordsOf(t: TensorInfo): number {
  if (t.kind === 'bits') return t.h * t.w * t.planes * wordsFor(t.c);
  if (t.kind === 'i32') return Math.ceil((t.h * t.w * t.c) / 2);
  throw new Error('arena: float tensors never enter a device segment');
}

/** Largest |accumulator| a layer can reach. */
function accMagnitude(op: BconvOp, inC: number): number {
  const k = op.kh * op.kw * inC;
  return op.inBits === 1 ? k : ((1 << op.inBits) - 1) * k;
}

export function encodeSegment(m: CompiledModel, segment: number, p: ArrayParams): LayerProgram {
  const seg = m.segments[segment];
  if (!seg || seg.kind !== 'device') throw new Error(`segment ${segment} is not a device segment`);
  const ops = m.ops.slice(seg.start, seg.end) as BconvOp[];
  const regions = new Map<number, ArenaRegion>();
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
  seg.inputs.forEach(region);

  const descriptors = new Uint32Array(ops.length * DESC_WORDS);
  let weightWords = 0;
  let paramEntries = 0;
  for (const op of ops) {
    weightWords += op.weight.length / 2;
    paramEntries += (op.epilogue.kind === 'threshold' ? op.epilogue.thresholds.length : 0) + op.outC;
  }
  const weights = new Uint32Array(weightWords * 2);
  const params = new Int32Array(paramEntries);
  let wOff = 0;
  let pOff = 0;
  let macs = 0;
  ops.forEach((op, l) => {
    const ti = m.tensors[op.in];
    const to = m.tensors[op.out];
    const acc = accMagnitude(op, ti.c);
    if (acc >= 2 ** (p.accBits - 1)) {
      throw new BitweaveError(
        `layer '${m.opNames[seg.start + l]}': accumulator needs ${Math.ceil(Math.log2(acc + 1)) + 1} bits, the array has ${p.accBits}`,
      );
    }
    const accH = Math.floor((ti.h + 2 * op.ph - op.kh) / op.sh) + 1;
    const accW = Math.floor((ti.w + 2 * op.pw - op.kw) / op.sw) + 1;
    macs += op.outC * accH * accW * op.kh * op.kw * ti.c * op.inBits;
    const d = descriptors.subarray(l * DESC_WORDS, (l + 1) * DESC_WORDS);
    const set = (f: keyof typeof FIELD, v: number) => (d[FIELD[f]] = v);
    set('OPCODE', (op.epilogue.kind === 'threshold' ? OP_THRESHOLD : 0) | (op.pool ? OP_POOL : 0) | (op.inBits > 1 ? OP_AND_PLANES : 0));
    set('IN_H', ti.h); set('IN_W', ti.w); set('IN_C', ti.c);
    set('IN_WORDS', wordsFor(ti.c)); set('IN_PLANES', op.inBits);
    set('KH', op.kh); set('KW', op.kw); set('SH', op.sh); set('SW', op.sw); set('PH', op.ph); set('PW', op.pw);
    set('PAD_BIT', op.padBit);
    set('OUT_C', op.outC);
    set('ACC_H', accH); set('ACC_W', accW);
    set('OUT_H', to.h); set('OUT_W', to.w);
    if (op.pool) {
      set('POOL_KH', op.pool.kh); set('POOL_KW', op.pool.kw); set('POOL_SH', op.pool.sh);
      set('POOL_SW', op.pool.sw); set('POOL_PH', op.pool.ph); set('POOL_PW', op.pool.pw);
    }
    set('OUT_BITS', op.epilogue.kind === 'threshold' ? op.epilogue.bits : 0);
    set('TAIL', op.inBits === 1 ? op.kh * op.kw * (64 * wordsFor(ti.c) - ti.c) : 0);
    set('IN_OFF', region(op.in).offset);
    set('OUT_OFF', region(op.out).offset);
    set('W_OFF', wOff);
    weights.set(op.weight, wOff * 2);
    wOff += op.weight.length / 2;
    if (op.epilogue.kind === 'threshold') {
      set('T_OFF', pOff);
      params.set(op.epilogue.thresholds, pOff);
      pOff += op.epilogue.thresholds.length;
    }
    set('F_OFF', pOff);
    for (let c = 0; c < op.outC; c++) {
      const flip = op.epilogue.kind === 'threshold' && op.epilogue.flip[c] ? FLAG_FLIP : 0;
      const min = op.pool && op.pool.useMin[c] ? FLAG_POOL_MIN : 0;
      params[pOff + c] = flip | min;
    }
    pOff += op.outC;
  });
  return {
    segment,
    layers: ops.length,
    descriptors,
    weights,
    params,
    arenaWords: arena,
    inputs: seg.inputs.map((t) => regions.get(t)!),
    outputs: seg.outputs.map((t) => region(t)),
    macsPerImage: macs,
  };
}
