/**
 * Zero padding (PAD_ZERO) on the array, with no kernel change: the array runs a zero-padded
 * 1-bit conv as a layer with 2-bit signed activations in AND mode. The bipolar input x = ±1
 * is the two's complement level (b1, b0) = (!bit, 1), so +1 = (0,1) and -1 = (1,1), and a
 * padded pixel is PAD_BIT 0 in both planes, level 0: the AND-mode accumulator is
 * v = Σ a·w = dot over the real positions exactly (tail bits 0 in both planes add nothing).
 * The layer's integer is Q = K + dot = v + K, so its thresholds move by -K and its int32
 * outputs get +K on the way back to the host.
 *
 * The compiled model keeps the 1-bit tensor; only the arena holds it in this "signed
 * planes" form: the host side converts a segment's inputs and outputs (SegmentIO), and a
 * device layer feeding such a conv writes the form itself with a 2-bit signed threshold
 * epilogue whose levels are only -1 and +1. Where it cannot (an array built for 1-bit
 * outputs, or a tensor other device layers read as bits too), the target cuts the device
 * segment so that the tensor crosses the host instead (`targetSegments`).
 */
import { BitweaveError } from '../core/errors';
import { wordsFor } from '../core/bits';
import { BconvOp, CompiledModel, PAD_ZERO, Segment, TensorInfo } from '../compile/model';
import { cutSegments } from '../compile/partition';

/** A bconv the array runs in the 2-bit signed form. */
export function padsWithZero(op: BconvOp): boolean {
  return op.padBit === PAD_ZERO;
}

/** Real input positions per output (K = kh·kw·inC): Q = dot + K. */
export function zeroPadOffset(op: BconvOp, input: TensorInfo): number {
  return op.kh * op.kw * input.c;
}

/** Arena words of one image of a 1-bit tensor held as two signed planes. */
export function signedPlanesWords(t: TensorInfo): number {
  return t.h * t.w * 2 * wordsFor(t.c);
}

/** The mask of real channel bits in word j of a pixel (as two Uint32 halves). */
function realBits(c: number, j: number, half: number): number {
  const from = j * 64 + half * 32;
  const n = Math.min(32, Math.max(0, c - from));
  return n === 32 ? 0xffffffff : ((1 << n) - 1) >>> 0;
}

/**
 * 1-bit tensor (one plane, bit 1 = +1) -> signed planes: per pixel plane 0 = every real
 * channel set, plane 1 = the inverted bits (set for -1); tail bits 0 in both.
 */
export function toSignedPlanes(bits: Uint32Array, t: TensorInfo, out: Uint32Array): void {
  const halves = 2 * wordsFor(t.c);
  for (let px = 0; px < t.h * t.w; px++) {
    const src = px * halves;
    const dst = 2 * src;
    for (let i = 0; i < halves; i++) {
      const mask = realBits(t.c, i >> 1, i & 1);
      out[dst + i] = mask;
      out[dst + halves + i] = (~bits[src + i] & mask) >>> 0;
    }
  }
}

/** Signed planes holding only -1 / +1 -> the 1-bit tensor (bit 1 where plane 1 is clear). */
export function fromSignedPlanes(planes: Uint32Array, t: TensorInfo, out: Uint32Array): void {
  const halves = 2 * wordsFor(t.c);
  for (let px = 0; px < t.h * t.w; px++) {
    const src = 2 * px * halves;
    for (let i = 0; i < halves; i++) out[px * halves + i] = (~planes[src + halves + i] & realBits(t.c, i >> 1, i & 1)) >>> 0;
  }
}

/**
 * Thresholds on Q moved onto v = Q - K. v spans [lo, hi] = [-K, K]; a threshold beyond
 * either end is clamped to lo or hi + 1, which every v passes or fails alike, so the
 * result is exact and stays inside int32.
 */
export function shiftThresholds(t: Int32Array, K: number): Int32Array {
  return t.map((x) => Math.min(K + 1, Math.max(-K, x - K)));
}

/**
 * A 1-bit threshold epilogue (bit = (v >= τ) XOR flip) as a 2-bit signed one that writes the
 * signed planes: thresholds (t0, τ, τ) with t0 passed by every v in [lo, hi] (lo rising,
 * hi + 1 falling), so the count n = #{j : v >= t_j} (#{j : v < t_j} when flipped) is 3 where
 * the bit is 1 and 1 where it is 0, and the stored level n - 2 is +1 or -1. τ is clamped to
 * [lo, hi + 1], which every v compares with alike; each channel's thresholds stay in order.
 */
export function signedPairThresholds(t: Int32Array, flip: Uint8Array, lo: number, hi: number): Int32Array {
  const out = new Int32Array(3 * t.length);
  t.forEach((tau, c) => {
    const tc = Math.min(hi + 1, Math.max(lo, tau));
    out.set([flip[c] ? hi + 1 : lo, tc, tc], 3 * c);
  });
  return out;
}

/**
 * Where an array must cut the model's device segments (the ops that start a new one): for
 * every tensor that a device layer writes and a zero-padded conv of the same segment reads,
 * when the array cannot write it as signed planes (`maxOutBits` < 2: the writer would need OUT_BITS = 2) or
 * another layer of the segment reads it as bits (the arena holds one form of a tensor a
 * layer writes). The tensor then leaves its segment as 1-bit bits and enters a later one as
 * an input, which the host packs in each form its readers need. A cut serves a tensor when
 * it lies after the writer and at or before the first zero-padded reader; the fewest cuts
 * serving all are taken, each as late as it may be.
 */
export function zeroPadCuts(m: CompiledModel, maxOutBits: number): number[] {
  const need: { writer: number; by: number }[] = [];
  for (const s of m.segments) {
    if (s.kind !== 'device') continue;
    for (let w = s.start; w < s.end; w++) {
      const readers: number[] = [];
      for (let r = w + 1; r < s.end; r++) if ((m.ops[r] as BconvOp).in === m.ops[w].out) readers.push(r);
      const zero = readers.filter((r) => padsWithZero(m.ops[r] as BconvOp));
      if (zero.length > 0 && (maxOutBits < 2 || zero.length < readers.length)) need.push({ writer: w, by: zero[0] });
    }
  }
  const cuts: number[] = [];
  for (const n of need.sort((a, b) => a.by - b.by)) if (!(cuts.length > 0 && cuts[cuts.length - 1] > n.writer)) cuts.push(n.by);
  return cuts;
}

/** The segments an array with `maxOutBits` output bits runs the model as: the model's, cut where `zeroPadCuts` says. */
export function targetSegments(m: CompiledModel, maxOutBits: number): Segment[] {
  const cuts = zeroPadCuts(m, maxOutBits);
  return cuts.length > 0 ? cutSegments(m, cuts) : m.segments;
}

/**
 * The model as an array with `maxOutBits` output bits runs it (its segments `targetSegments`),
 * for encoding, checking and projecting programs; the model itself where nothing is cut. Never
 * written to a file: a cut model's segments are not the maximal runs a .bnn holds.
 */
export function targetModel(m: CompiledModel, maxOutBits: number): CompiledModel {
  const segments = targetSegments(m, maxOutBits);
  return segments === m.segments ? m : { ...m, segments };
}

/** A tensor the segment must hold in both forms, which only a host-side input can be (targetSegments cuts there). */
export function bothFormsError(name: string, tensor: number): BitweaveError {
  return new BitweaveError(
    `layer '${name}': its output (tensor ${tensor}) is read on the array both by a zero-padded conv and by another layer; the array holds one form of it (run the model with a host segment between them)`,
  );
}
