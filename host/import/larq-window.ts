/**
 * TensorFlow's window geometry for the Larq importer: SAME / VALID padding, dilation and
 * asymmetric pads, mapped onto the IR's symmetric pad by widening the kernel.
 *
 * TF's SAME pads `total = max((ceil(in/s) - 1)·s + k_eff - in, 0)` positions, `floor(total/2)`
 * before and the rest after, so the two sides can differ by one. The IR pads both sides
 * alike; a kernel widened by `after - before` leading zero taps, padded by `after` on both
 * sides, reads exactly the windows TF reads (its first taps fall on positions TF does not
 * read, and carry zero weight).
 */

/** One spatial axis of a window: kernel taps, stride, dilation, input size. */
export interface AxisIn {
  k: number;
  s: number;
  d: number;
  size: number;
}

/** Where each original tap sits in the widened kernel, and the IR's symmetric pad. */
export interface AxisOut {
  /** Taps of the widened kernel. */
  k: number;
  pad: number;
  /** Position of original tap t: offset + t·d. */
  offset: number;
  out: number;
}

/** TF's output size and pads on one axis ([before, after]). */
export function tfPads(a: AxisIn, same: boolean): { out: number; before: number; after: number } {
  const kEff = (a.k - 1) * a.d + 1;
  if (!same) return { out: Math.floor((a.size - kEff) / a.s) + 1, before: 0, after: 0 };
  const out = Math.ceil(a.size / a.s);
  const total = Math.max((out - 1) * a.s + kEff - a.size, 0);
  const before = Math.floor(total / 2);
  return { out, before, after: total - before };
}

/** The IR geometry of one axis: the widened kernel and its symmetric pad. */
export function irAxis(a: AxisIn, same: boolean): AxisOut {
  const { out, before, after } = tfPads(a, same);
  const kEff = (a.k - 1) * a.d + 1;
  const offset = after - before;
  return { k: kEff + offset, pad: after, offset, out };
}

/** The axis needs zero taps (dilation or unequal pads): the kernel is not dense. */
export function axisIsSparse(a: AxisIn, o: AxisOut): boolean {
  return a.d > 1 || o.offset > 0;
}
