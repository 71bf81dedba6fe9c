/**
 * compile: IR graph -> CompiledModel.
 *
 *  1. plan fusions: a binary layer whose output reaches the next binary layer only
 *     through foldable per-channel float layers gets a threshold epilogue (fold.ts), so
 *     bits flow from layer to layer without leaving the array;
 *  2. emit ops in the IR's topological order, repacking weights (pack.ts);
 *  3. partition the op list into host and device segments (partition.ts).
 */
import { UnsupportedError } from '../core/errors';
import { wordsFor } from '../core/bits';
import {
  AffineNode, IRGraph, IRNode, MultiThresholdNode, PoolingNode, QConvolutionNode, QFullyConnectedNode,
} from '../ir/graph';
import { windowOut } from '../ir/shapes';
import { batchNormScale, levelDivisor } from '../core/scalar';
import { Folded, foldThresholds, FoldStep, NotMonotoneError } from './fold';
import {
  accumulatorRange, BconvOp, CompiledModel, CompiledOp, IntPool, PAD_ZERO, TensorInfo, TensorKind,
} from './model';
import { convWeightsOHWI, denseWeightsHWC, featureParamsHWC, Geom, packBinaryWeights, packIntWeights, sourceFeatureIndex } from './pack';
import { partition } from './partition';

type QNode = QConvolutionNode | QFullyConnectedNode;

/** A binary layer whose output is folded into the input of the next binary layer. */
interface Fusion {
  chain: IRNode[];
  consumer: QNode;
}

const FOLDABLE = new Set(['BatchNorm', 'Affine', 'MultiThreshold', 'Activation', 'QActivation', 'Pooling', 'Flatten']);

function isQ(n: IRNode): n is QNode {
  return n.op === 'QConvolution' || n.op === 'QFullyConnected';
}

/** The layer's input activations are signed k-bit levels (1-bit ones are always bipolar). */
function actSigned(q: QNode): boolean {
  return q.actSigned === true && q.actBits > 1;
}

/** Weight bits and signedness of a binary / integer layer (1-bit weights are bipolar). */
function weightKind(q: QNode): { bits: number; signed: boolean } {
  return q.weight.kind === 'int' ? { bits: q.weight.bits, signed: q.weight.signed } : { bits: 1, signed: false };
}

/** A 1-bit conv with pad value 0: its integer is Q = K + dot (PAD_ZERO), in [0, 2K], padded or not. */
function padsWithZero(q: QNode): boolean {
  return q.op === 'QConvolution' && q.actBits === 1 && q.padValue === 0;
}

/** Pool windows whose floor and ceil output sizes agree can run on integers in the array. */
function poolFitsArray(p: PoolingNode, h: number, w: number): boolean {
  if (p.poolType !== 'max') return false;
  if (p.global) return true;
  return (
    windowOut(h, p.kernel[0], p.stride[0], p.pad[0], false) === windowOut(h, p.kernel[0], p.stride[0], p.pad[0], p.convention === 'full') &&
    windowOut(w, p.kernel[1], p.stride[1], p.pad[1], false) === windowOut(w, p.kernel[1], p.stride[1], p.pad[1], p.convention === 'full')
  );
}

/** An affine as the host's batchnorm op: (x - 0) * scale + bias is x * scale + bias exactly. */
function affineParams(n: AffineNode) {
  return { mean: new Float32Array(n.scale.length), scale: Float32Array.from(n.scale), beta: Float32Array.from(n.bias) };
}

class Compiler {
  private readonly nodes = new Map<string, IRNode>();
  private readonly consumers = new Map<string, string[]>();
  private readonly tensors: TensorInfo[] = [];
  private readonly ops: CompiledOp[] = [];
  private readonly opNames: string[] = [];
  /** Node name -> tensor holding its output (f32, i32 or bits). */
  private readonly value = new Map<string, number>();
  /** i32 tensor -> its dequantized float tensor, and the divisor to use. */
  private readonly floatOf = new Map<number, number>();
  private readonly divisorOf = new Map<number, number>();
  /** Float vectors made by Flatten -> the map they flattened (for source-order weights). */
  private readonly flatFrom = new Map<number, Geom>();
  private readonly fusions = new Map<string, Fusion>();
  private readonly absorbed = new Set<string>();
  /** Thresholds folded while planning, by producer node. */
  private readonly folded = new Map<string, Folded>();
  /** Float tensor and act bits -> its packed tensor, so two binary layers reading the same
   *  floats (a residual unit's first conv and its projection shortcut) share one binarize
   *  and can sit in one device segment. */
  private readonly binarized = new Map<string, number>();
  private floatWeightBytes = 0;

  constructor(private readonly g: IRGraph, private readonly opts: CompileOptions) {
    for (const n of g.nodes) {
      this.nodes.set(n.name, n);
      for (const i of n.inputs) {
        const list = this.consumers.get(i) ?? [];
        list.push(n.name);
        this.consumers.set(i, list);
      }
    }
  }

  run(): CompiledModel {
    if (this.opts.fuse !== false) this.planFusions();
    const first = this.g.nodes[0];
    if (!first || first.op !== 'Input') throw new UnsupportedError('model graph must start with its data input');
    const input = this.tensor('f32', this.geomOfShape(first.shape), 0);
    this.value.set(first.name, input);
    let softmax = false;
    let outputNode = this.g.output;
    const out = this.nodes.get(outputNode);
    if (out && out.op === 'Softmax') {
      softmax = true;
      outputNode = out.inputs[0];
    }
    for (const n of this.g.nodes.slice(1)) {
      if (this.absorbed.has(n.name)) continue;
      if (n.op === 'Softmax') {
        if (n.name === this.g.output) continue;
        throw new UnsupportedError(`node '${n.name}' (Softmax): softmax is only supported as the last layer`);
      }
      this.emitNode(n);
    }
    const output = this.floatValue(outputNode);
    const segments = partition(this.ops, this.tensors, input, output);
    return {
      name: this.g.name,
      source: this.g.source,
      input,
      output,
      softmax,
      tensors: this.tensors,
      ops: this.ops,
      segments,
      opNames: this.opNames,
      floatWeightBytes: this.floatWeightBytes,
    };
  }

  // ---- fusion planning ------------------------------------------------------------

  private planFusions(): void {
    for (const n of this.g.nodes) {
      if (!isQ(n)) continue;
      const chain: IRNode[] = [];
      let cur = this.nodes.get(n.inputs[0]);
      let pools = 0;
      let ok = true;
      while (cur && FOLDABLE.has(cur.op)) {
        if ((this.consumers.get(cur.name) ?? []).length !== 1) { ok = false; break; }
        if (cur.op === 'Pooling') pools++;
        chain.unshift(cur);
        cur = this.nodes.get(cur.inputs[0]);
      }
      if (!ok || !cur || !isQ(cur) || (this.consumers.get(cur.name) ?? []).length !== 1) continue;
      if (pools > 1) continue;
      // per-channel folding needs BatchNorm and pooling before any Flatten
      let seenFlatten = false;
      let foldable = true;
      let h = cur.shape[1] ?? 1;
      let w = cur.shape[2] ?? 1;
      for (const c of chain) {
        if (c.op === 'Flatten') seenFlatten = true;
        else if ((c.op === 'BatchNorm' || c.op === 'Affine' || c.op === 'Pooling') && seenFlatten) foldable = false;
        if (c.op === 'Pooling') {
          if (!poolFitsArray(c, h, w)) foldable = false;
          h = c.shape[1];
          w = c.shape[2];
        }
      }
      // a MultiThreshold is the consumer's quantiser: last in the chain, with its levels' format
      const mt = chain.findIndex((c) => c.op === 'MultiThreshold');
      if (mt >= 0) {
        const m = chain[mt] as MultiThresholdNode;
        if (mt !== chain.length - 1 || m.bits !== n.actBits || m.signed !== actSigned(n)) foldable = false;
      }
      if (!foldable) continue;
      if (!this.foldsMonotone(cur, chain, n)) continue;
      this.fusions.set(cur.name, { chain, consumer: n });
      for (const c of chain) this.absorbed.add(c.name);
    }
  }

  /**
   * Fold at planning time so a chain that is not monotone stays on the host; the result is
   * kept for emission (folding walks every integer of the accumulator's range, which for
   * integer weights is up to 225x that of a binary layer).
   */
  private foldsMonotone(producer: QNode, chain: IRNode[], consumer: QNode): boolean {
    try {
      this.folded.set(producer.name, this.fold(producer, chain, consumer));
      return true;
    } catch (e) {
      if (e instanceof NotMonotoneError) return false;
      throw e;
    }
  }

  private fold(producer: QNode, chain: IRNode[], consumer: QNode) {
    const outC = producer.op === 'QConvolution' ? producer.numFilter : producer.numHidden;
    const K = this.accumulatorK(producer);
    const wk = weightKind(producer);
    const range = accumulatorRange(producer.actBits, actSigned(producer), wk.bits, wk.signed, K, padsWithZero(producer));
    const pre: FoldStep[] = [];
    const post: FoldStep[] = [];
    let steps = pre;
    const last = chain[chain.length - 1];
    const mt = last?.op === 'MultiThreshold' ? last : null;
    for (const c of chain) {
      if (c.op === 'Pooling') {
        steps = post;
      } else if (c.op === 'BatchNorm') {
        steps.push({ kind: 'bn', ...this.bnParams(c) });
      } else if (c.op === 'Affine') {
        steps.push({ kind: 'bn', ...affineParams(c) });
      } else if (c.op === 'Activation') {
        steps.push({ kind: 'act', fn: c.actType });
      } else if (c.op === 'QActivation' && !c.backwardOnly) {
        steps.push({ kind: 'quantize', bits: c.actBits, signed: c.signed === true && c.actBits > 1 });
      }
    }
    return foldThresholds({
      outC,
      vmin: range.lo,
      vmax: range.hi,
      divisor: levelDivisor(producer.actBits, actSigned(producer)),
      pre,
      post,
      bits: consumer.actBits,
      signed: actSigned(consumer),
      levels: mt ? { thresholds: mt.thresholds, count: mt.count } : undefined,
    });
  }

  /** Real input bits per output of a binary layer (K). */
  private accumulatorK(q: QNode): number {
    const inShape = this.nodes.get(q.inputs[0])!.shape;
    const C = inShape[0];
    if (q.op === 'QConvolution') return q.kernel[0] * q.kernel[1] * C;
    return inShape.reduce((a, b) => a * b, 1);
  }

  private bnParams(n: Extract<IRNode, { op: 'BatchNorm' }>) {
    const scale = new Float32Array(n.gamma.length);
    for (let c = 0; c < scale.length; c++) scale[c] = batchNormScale(n.gamma[c], n.variance[c], n.eps);
    return { mean: Float32Array.from(n.mean), scale, beta: Float32Array.from(n.beta) };
  }

  // ---- emission ---------------------------------------------------------------------

  private tensor(kind: TensorKind, g: Geom, planes: number, flat = false, signed = false): number {
    // `signed` only where true: models without signed tensors keep their 1.0 form
    this.tensors.push(signed ? { kind, h: g.h, w: g.w, c: g.c, planes, flat, signed } : { kind, h: g.h, w: g.w, c: g.c, planes, flat });
    return this.tensors.length - 1;
  }

  private emit(op: CompiledOp, name: string): void {
    this.ops.push(op);
    this.opNames.push(name);
  }

  private geomOfShape(s: number[]): Geom {
    if (s.length === 3) return { c: s[0], h: s[1], w: s[2] };
    if (s.length === 1) return { h: 1, w: 1, c: s[0] };
    throw new UnsupportedError(`tensor shape [${s.join(', ')}] is not supported (need [C, H, W] or [N])`);
  }

  private geomOf(t: number): Geom {
    const { h, w, c } = this.tensors[t];
    return { h, w, c };
  }

  /** The float tensor holding a node's output (dequantizing array integers on demand). */
  private floatValue(name: string): number {
    const t = this.value.get(name);
    if (t === undefined) throw new Error(`compile: no value for node '${name}'`);
    const info = this.tensors[t];
    if (info.kind === 'f32') return t;
    if (info.kind === 'i32') {
      let ft = this.floatOf.get(t);
      if (ft === undefined) {
        ft = this.tensor('f32', this.geomOf(t), 0);
        this.emit({ op: 'dequantize', in: t, out: ft, divisor: this.divisorOf.get(t) ?? 1 }, name);
        this.floatOf.set(t, ft);
      }
      return ft;
    }
    throw new Error(`compile: node '${name}' holds packed bits where a float is needed`);
  }

  private emitNode(n: IRNode): void {
    switch (n.op) {
      case 'Input':
        throw new UnsupportedError(`node '${n.name}': more than one data input is not supported`);
      case 'Convolution': {
        const x = this.floatValue(n.inputs[0]);
        const gi = this.geomOf(x);
        const [oc, oh, ow] = n.shape;
        const groups = n.numGroup ?? 1;
        const out = this.tensor('f32', { h: oh, w: ow, c: oc }, 0);
        this.emit({
          op: 'conv2d', in: x, out, kh: n.kernel[0], kw: n.kernel[1], sh: n.stride[0], sw: n.stride[1], ph: n.pad[0], pw: n.pad[1], groups,
          weight: convWeightsOHWI(n.weight, oc, gi.c / groups, n.kernel[0], n.kernel[1]), bias: n.bias ? Float32Array.from(n.bias) : null,
        }, n.name);
        this.value.set(n.name, out);
        return;
      }
      case 'FullyConnected': {
        const x = this.floatValue(n.inputs[0]);
        const gi = this.geomOf(x);
        const out = this.tensor('f32', { h: 1, w: 1, c: n.numHidden }, 0);
        this.emit({
          op: 'dense', in: x, out, weight: denseWeightsHWC(n.weight, n.numHidden, gi, this.flatFrom.get(x) ?? null),
          bias: n.bias ? Float32Array.from(n.bias) : null,
        }, n.name);
        this.value.set(n.name, out);
        return;
      }
      case 'BatchNorm':
      case 'Affine': {
        const x = this.floatValue(n.inputs[0]);
        const gi = this.geomOf(x);
        const src = this.flatFrom.get(x) ?? null;
        const p = n.op === 'BatchNorm' ? this.bnParams(n) : affineParams(n);
        const out = this.tensor('f32', gi, 0, this.tensors[x].flat);
        if (src) this.flatFrom.set(out, src);
        this.emit({
          op: 'batchnorm', in: x, out,
          mean: featureParamsHWC(p.mean, gi, src), scale: featureParamsHWC(p.scale, gi, src), beta: featureParamsHWC(p.beta, gi, src),
        }, n.name);
        this.value.set(n.name, out);
        return;
      }
      case 'Activation':
      case 'QActivation': {
        const x = this.floatValue(n.inputs[0]);
        if (n.op === 'QActivation' && n.backwardOnly) {
          this.value.set(n.name, x);
          return;
        }
        const out = this.tensor('f32', this.geomOf(x), 0, this.tensors[x].flat);
        const src = this.flatFrom.get(x);
        if (src) this.flatFrom.set(out, src);
        if (n.op === 'Activation') this.emit({ op: 'activation', in: x, out, fn: n.actType }, n.name);
        else if (n.signed === true && n.actBits > 1) this.emit({ op: 'quantize', in: x, out, bits: n.actBits, signed: true }, n.name);
        else this.emit({ op: 'quantize', in: x, out, bits: n.actBits }, n.name);
        this.value.set(n.name, out);
        return;
      }
      case 'Pooling': {
        const x = this.floatValue(n.inputs[0]);
        const gi = this.geomOf(x);
        const [c, oh, ow] = n.shape;
        const out = this.tensor('f32', { h: oh, w: ow, c }, 0);
        const k = n.global ? [gi.h, gi.w] : n.kernel;
        const s = n.global ? [1, 1] : n.stride;
        const p = n.global ? [0, 0] : n.pad;
        this.emit({
          op: 'pool', in: x, out, mode: n.poolType, kh: k[0], kw: k[1], sh: s[0], sw: s[1], ph: p[0], pw: p[1],
          countIncludePad: n.countIncludePad,
        }, n.name);
        this.value.set(n.name, out);
        return;
      }
      case 'Flatten': {
        const x = this.floatValue(n.inputs[0]);
        const gi = this.geomOf(x);
        if (gi.h === 1 && gi.w === 1) {
          this.value.set(n.name, x);
          return;
        }
        const out = this.tensor('f32', { h: 1, w: 1, c: gi.h * gi.w * gi.c }, 0, true);
        this.flatFrom.set(out, gi);
        this.emit({ op: 'flatten', in: x, out }, n.name);
        this.value.set(n.name, out);
        return;
      }
      case 'Add': {
        const a = this.floatValue(n.inputs[0]);
        const b = this.floatValue(n.inputs[1]);
        const out = this.tensor('f32', this.geomOf(a), 0, this.tensors[a].flat);
        this.emit({ op: 'add', in: [a, b], out }, n.name);
        this.value.set(n.name, out);
        return;
      }
      case 'Softmax':
        return;
      case 'MultiThreshold':
        throw new UnsupportedError(`node '${n.name}' (MultiThreshold): ${n.count} thresholds per channel run only between two binary layers, folded into the first one's thresholds (here it is not: ${this.mtWhy(n)})`);
      case 'QConvolution':
      case 'QFullyConnected':
        this.emitBinary(n);
        return;
    }
  }

  /** Why a MultiThreshold did not fold (for its error message). */
  private mtWhy(n: MultiThresholdNode): string {
    const users = (this.consumers.get(n.name) ?? []).map((u) => this.nodes.get(u)!);
    if (users.length !== 1 || !isQ(users[0])) return 'its output does not feed one binary layer';
    const q = users[0];
    if (q.actBits !== n.bits || actSigned(q) !== n.signed) return `the layer reads ${q.actBits}-bit ${actSigned(q) ? 'signed' : 'unsigned'} levels, it makes ${n.bits}-bit ${n.signed ? 'signed' : 'unsigned'} ones`;
    return 'no binary layer produces its input through per-channel steps';
  }

  /** The packed input of a binary layer: bits from a fused producer, or binarized floats. */
  private binaryInput(q: QNode): number {
    const t = this.value.get(q.inputs[0]);
    if (t !== undefined && this.tensors[t].kind === 'bits') return t;
    // find a fused producer: walk up the absorbed chain
    let cur = this.nodes.get(q.inputs[0]);
    while (cur && this.absorbed.has(cur.name)) cur = this.nodes.get(cur.inputs[0]);
    if (cur && this.fusions.get(cur.name)?.consumer === q) return this.value.get(cur.name)!;
    const x = this.floatValue(q.inputs[0]);
    const signed = actSigned(q);
    const key = `${x}/${q.actBits}/${signed}`;
    const shared = this.binarized.get(key);
    if (shared !== undefined) return shared;
    const out = this.tensor('bits', this.geomOf(x), q.actBits, false, signed);
    const src = this.flatFrom.get(x);
    if (src) this.flatFrom.set(out, src);
    this.emit({ op: 'binarize', in: x, out, bits: q.actBits }, q.name);
    this.binarized.set(key, out);
    return out;
  }

  private emitBinary(q: QNode): void {
    if (q.actBits < 1 || q.actBits > 8) {
      throw new UnsupportedError(`node '${q.name}' (${q.op}): act_bit=${q.actBits} is not supported (1..8)`);
    }
    const wk = weightKind(q);
    if (q.weight.kind === 'int' && (!Number.isInteger(wk.bits) || wk.bits < 2 || wk.bits > 4)) {
      throw new UnsupportedError(`node '${q.name}' (${q.op}): ${wk.bits}-bit integer weights are not supported (2..4; 1-bit weights are bipolar float or packed)`);
    }
    const x = this.binaryInput(q);
    const gi = this.geomOf(x);
    let kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, outC: number;
    let sourceIndex: (o: number, ky: number, kx: number, c: number) => number;
    if (q.op === 'QConvolution') {
      if (padsWithZero(q) && wk.bits !== 1) {
        throw new UnsupportedError(`node '${q.name}' (QConvolution): pad value 0 with 1-bit activations needs 1-bit weights`);
      }
      if (this.tensors[x].flat) throw new UnsupportedError(`node '${q.name}' (QConvolution): input is a flattened vector`);
      [kh, kw] = q.kernel;
      [sh, sw] = q.stride;
      [ph, pw] = q.pad;
      outC = q.numFilter;
      const C = gi.c;
      sourceIndex = (o, ky, kx, c) => ((o * C + c) * kh + ky) * kw + kx;
      if (ph > 0 || pw > 0) {
        if (q.actBits > 1 && !actSigned(q) && q.padValue === -1) {
          throw new UnsupportedError(`node '${q.name}' (QConvolution): pad value -1 with unsigned act_bit=${q.actBits} is not supported`);
        }
      }
    } else {
      [kh, kw] = [gi.h, gi.w];
      [sh, sw, ph, pw] = [1, 1, 0, 0];
      outC = q.numHidden;
      const feature = sourceFeatureIndex(gi, this.flatFrom.get(x) ?? null);
      const K = gi.h * gi.w * gi.c;
      sourceIndex = (o, ky, kx, c) => o * K + feature(ky, kx, c);
    }
    const K = kh * kw * gi.c;
    const w = q.weight;
    if (w.kind === 'packed' ? w.words.length * 32 < outC * K : w.data.length !== outC * K) {
      throw new UnsupportedError(`node '${q.name}' (${q.op}): weights do not match ${outC} outputs x ${K} inputs`);
    }
    this.floatWeightBytes += outC * K * 4;
    let weight: Uint32Array;
    if (w.kind === 'int') {
      const lo = w.signed ? -(1 << (w.bits - 1)) : 0;
      const hi = w.signed ? (1 << (w.bits - 1)) - 1 : (1 << w.bits) - 1;
      const bad = w.data.findIndex((v) => v < lo || v > hi);
      if (bad >= 0) {
        throw new UnsupportedError(`node '${q.name}' (${q.op}): weight ${bad} is ${w.data[bad]}, outside the ${w.signed ? 'signed' : 'unsigned'} ${w.bits}-bit range ${lo}..${hi}`);
      }
      weight = packIntWeights(w, outC, kh, kw, gi.c, sourceIndex);
    } else {
      weight = packBinaryWeights(w, outC, kh, kw, gi.c, sourceIndex);
    }
    // the pad value as the bit every plane of a padded pixel holds (docs/FORMAT.md §5):
    // 1-bit +1 -> 1, -1 -> 0; k-bit level 0 -> 0; signed k-bit -1 -> all ones
    // 1-bit zero padding: Q = K + dot (PAD_ZERO)
    const padValue = q.op === 'QFullyConnected' ? 1 : q.padValue;
    const padBit: BconvOp['padBit'] = q.actBits === 1
      ? (padValue === 1 ? 1 : padValue === 0 ? PAD_ZERO : 0)
      : actSigned(q) && padValue === -1 ? 1 : 0;
    const ah = windowOut(gi.h, kh, sh, ph);
    const aw = windowOut(gi.w, kw, sw, pw);
    const fusion = this.fusions.get(q.name);
    // integer weight fields only on integer layers: binary models keep their 1.0 form
    const wFields = wk.bits > 1 ? { wBits: wk.bits, ...(wk.signed ? { wSigned: true } : {}) } : {};
    const base = { op: 'bconv' as const, in: x, kh, kw, sh, sw, ph, pw, padBit, inBits: q.actBits, outC, ...wFields, weight };
    let op: BconvOp;
    if (fusion) {
      const folded = this.folded.get(q.name) ?? this.fold(q, fusion.chain, fusion.consumer);
      const poolNode = fusion.chain.find((c): c is PoolingNode => c.op === 'Pooling');
      let pool: IntPool | null = null;
      let oh = ah;
      let ow = aw;
      if (poolNode) {
        const k = poolNode.global ? [ah, aw] : poolNode.kernel;
        const s = poolNode.global ? [1, 1] : poolNode.stride;
        const p = poolNode.global ? [0, 0] : poolNode.pad;
        pool = { kh: k[0], kw: k[1], sh: s[0], sw: s[1], ph: p[0], pw: p[1], useMin: folded.useMin };
        oh = windowOut(ah, k[0], s[0], p[0]);
        ow = windowOut(aw, k[1], s[1], p[1]);
      }
      const out = this.tensor('bits', { h: oh, w: ow, c: outC }, fusion.consumer.actBits, false, actSigned(fusion.consumer));
      op = { ...base, out, pool, epilogue: { kind: 'threshold', bits: fusion.consumer.actBits, thresholds: folded.thresholds, flip: folded.flip } };
      this.value.set(q.name, out);
    } else {
      const out = this.tensor('i32', { h: ah, w: aw, c: outC }, 0);
      this.divisorOf.set(out, levelDivisor(q.actBits, actSigned(q)));
      op = { ...base, out, pool: null, epilogue: { kind: 'int' } };
      this.value.set(q.name, out);
    }
    if (wk.bits * wordsFor(gi.c) * 2 * kh * kw * outC !== weight.length) throw new Error('compile: packed weight size mismatch');
    this.emit(op, q.name);
  }
}

export interface CompileOptions {
  /** Fold float layers between binary layers into thresholds (default true; false keeps them on the host). */
  fuse?: boolean;
}

export function compile(g: IRGraph, opts: CompileOptions = {}): CompiledModel {
  return new Compiler(g, opts).run();
}
