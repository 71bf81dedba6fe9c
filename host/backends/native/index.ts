/**
 * The native backend: every op of a compiled model runs in the C engine
 * (host/native/engine*.c, build/libbitweave.so) through koffi, host float layers and
 * device bconv ops alike, bit-identical to the reference backend.
 *
 * Safety: the model is validated once at load (validateModel), and every tensor that
 * reaches C is checked here first (typed-array kind, exact length for the batch, 8-byte
 * alignment of bit tensors). Wrong input is a ShapeError, never a native crash.
 */
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { BitweaveError } from '../../core/errors';
import { CompiledModel, CompiledOp, isDeviceOp, PAD_ZERO, PoolOp, TensorInfo, tensorLength } from '../../compile/model';
import { validateModel } from '../../compile/validate';
import { Backend, BackendOptions, checkSegmentCall, checkSegmentInput, LayerStat, ModelSpan, TensorData } from '../../runtime/backend';
import { opInputs } from '../../compile/partition';

/** The native backend's options: the shared ones (threads). */
export type NativeOptions = BackendOptions;
import {
  BW_E_ARG, BW_E_NOMEM, BW_E_SIZE, BW_OK, Engine, EW, EwOp, EwSlot, Handle, nativeEngine, SLOT,
} from './ffi';
import { LayerStats } from '../../runtime/layer-stats';

const ACTIVATIONS = { relu: 0, tanh: 1, sigmoid: 2 } as const;
/** Element-wise host ops: a run of them over one geometry is fused into one native pass. */
const FUSABLE = new Set(['dequantize', 'add', 'batchnorm', 'activation', 'quantize', 'binarize']);

/** Element-wise ops that run inside a float conv/dense (on its input or its output tiles). */
const CONV_FUSABLE = new Set(['batchnorm', 'activation', 'quantize']);
const POOL = new Set(['pool']);
const BINARIZE = new Set(['binarize']);

/**
 * A conv2d/dense op `conv` with the element-wise ops [start, conv) and (conv, end) fused
 * into it; with `pool`, the ops (conv, pool) run on the conv's output, the pool op on
 * theirs, and (pool, end) on the pooled map, the last of them possibly a binarize.
 */
interface FusedConv {
  start: number;
  conv: number;
  end: number;
  pool?: number;
}

/** Ops [start, end) of a host segment run block by block in one native call. */
interface Chain {
  start: number;
  end: number;
  /** Tensors the chain touches; external ones are read from or written to whole arrays. */
  tensors: number[];
  external: boolean[];
  /** Written by the chain (else read from before it). */
  written: boolean[];
  /** The prepared native chain (set at load). */
  handle: Handle | null;
}

/**
 * A tensor buffer the engine will overwrite completely: large ones skip the zero fill
 * (Buffer.allocUnsafeSlow: own, 8-byte aligned ArrayBuffer), which at batch 64 costs as
 * much as the op itself.
 */
function alloc(info: TensorInfo, batch: number): TensorData {
  const n = batch * tensorLength(info);
  return view(info, n >= 1024 ? Buffer.allocUnsafeSlow(n * 4).buffer : new ArrayBuffer(n * 4), n);
}

function view(info: TensorInfo, buf: ArrayBuffer, n: number): TensorData {
  switch (info.kind) {
    case 'f32':
      return new Float32Array(buf, 0, n);
    case 'i32':
      return new Int32Array(buf, 0, n);
    case 'bits':
      return new Uint32Array(buf, 0, n);
  }
}

/** C reads bit tensors as 64-bit words: hand it an 8-byte aligned view (copy if needed). */
function aligned<T extends TensorData>(d: T): T {
  return d.byteOffset % 8 === 0 ? d : (d.slice() as T);
}

export class NativeBackend implements Backend {
  readonly name = 'native';
  readonly threads: number;
  private engine: Engine | null = null;
  private model: CompiledModel | null = null;
  /** Per op: the native object holding its prepared weights (bconv, conv2d, dense). */
  private handles: (Handle | null)[] = [];
  private readonly stats = new LayerStats();
  /** Buffers of tensors that never leave a segment, reused across calls (by tensor id). */
  private scratch = new Map<number, TensorData>();
  /** Fused element-wise chains by first op. */
  private chains = new Map<number, Chain>();
  /** Float convs with fused element-wise neighbours, by first op. */
  private fusedConvs = new Map<number, FusedConv>();
  /**
   * runModel only: bconv ops (by index) whose int32 output feeds the chain right after them
   * and nothing else; the chain then runs inside the bconv (slot: the chain slot it fills).
   */
  private bconvChains = new Map<number, { chain: Chain; slot: number }>();
  /** runModel only: tensors whose buffers go to the caller (the output, and what flatten aliases). */
  private modelEscapes = new Set<number>();
  /** Set while runModel runs (synchronously): buffers follow modelEscapes. */
  private inModel = false;
  /** Segment of each op. */
  private opSegment = new Int32Array(0);
  /** Last op reading each tensor (runModel hands a buffer back once it has run). */
  private lastUse = new Int32Array(0);
  /** runModel: buffers of tensors past their last reader, by byte length, for the next ones. */
  private modelFree = new Map<number, ArrayBuffer[]>();
  /** Tensors some segment returns (their buffers go to the caller). */
  private escapes = new Set<number>();
  /**
   * Buffers this backend allocated for segment outputs -> how many returned tensors still
   * use them (a flatten hands one buffer out under two ids); recycle() takes back only
   * these, and only when the count drops to 0.
   */
  private issued = new WeakMap<ArrayBuffer, number>();
  /** Returned segment-output buffers by byte length, reused before allocating. */
  private free = new Map<number, ArrayBuffer[]>();

  constructor(opts: BackendOptions = {}) {
    const t = opts.threads ?? os.availableParallelism();
    if (!Number.isInteger(t) || t < 1 || t > 1024) throw new BitweaveError(`threads must be an integer in 1..1024, got ${t}`);
    this.threads = t;
  }

  async load(model: CompiledModel): Promise<void> {
    validateModel(model, typeof model?.name === 'string' ? model.name : 'compiled model');
    const e = nativeEngine();
    this.release();
    this.engine = e;
    this.model = model;
    this.handles = model.ops.map(() => null);
    this.escapes = new Set(model.segments.flatMap((sg) => sg.outputs));
    // flatten hands its input array on: that array escapes whenever the flattened one does
    for (let i = model.ops.length - 1; i >= 0; i--) {
      const op = model.ops[i];
      if (op.op === 'flatten' && this.escapes.has(op.out)) this.escapes.add(op.in);
    }
    this.fusedConvs = planConvFusion(model);
    const inConv = new Set([...this.fusedConvs.values()].flatMap((fc) => range(fc.start, fc.end)));
    this.chains = planChains(model, inConv);
    this.modelEscapes = new Set([model.output]);
    for (let i = model.ops.length - 1; i >= 0; i--) {
      const op = model.ops[i];
      if (op.op === 'flatten' && this.modelEscapes.has(op.out)) this.modelEscapes.add(op.in);
    }
    this.bconvChains = planBconvChains(model, this.chains, this.modelEscapes);
    this.lastUse = new Int32Array(model.tensors.length).fill(-1);
    model.ops.forEach((op, i) => opInputs(op).forEach((t) => (this.lastUse[t] = i)));
    this.opSegment = new Int32Array(model.ops.length);
    model.segments.forEach((sg, si) => this.opSegment.fill(si, sg.start, sg.end));
    try {
      model.ops.forEach((op, i) => (this.handles[i] = this.prepare(e, model, op, i)));
      for (const fc of this.fusedConvs.values()) {
        const ew = (k: number) => ewOp(model, k, () => 0);
        const h = this.handles[fc.conv]!;
        const postEnd = fc.pool ?? fc.end;
        let rc = e.fconvFuse(h, range(fc.start, fc.conv).map(ew), range(fc.conv + 1, postEnd).map(ew));
        if (rc === BW_OK && fc.pool !== undefined) {
          const p = model.ops[fc.pool] as PoolOp;
          const last = model.ops[fc.end - 1];
          const bin = last.op === 'binarize';
          const out = model.tensors[last.out];
          rc = e.fconvFusePool(h, poolDesc(p, model.tensors[p.in], model.tensors[p.out]), range(fc.pool + 1, bin ? fc.end - 1 : fc.end).map(ew), bin ? out.planes : 0, bin && out.signed ? 1 : 0);
        }
        this.check(rc, model, fc.conv, `fusing ops ${fc.start}..${fc.end - 1} into`);
      }
      for (const ch of this.chains.values()) ch.handle = this.prepareChain(e, model, ch);
    } catch (err) {
      this.release();
      throw err;
    }
  }

  /** Copy one op's weights into native memory (once, at load). */
  private prepare(e: Engine, m: CompiledModel, op: CompiledOp, i: number): Handle | null {
    let h: Handle | null;
    switch (op.op) {
      case 'bconv': {
        const x = m.tensors[op.in];
        const y = m.tensors[op.out];
        const p = op.pool;
        const ep = op.epilogue;
        h = e.bconvCreate(
          {
            h: x.h, w: x.w, c: x.c, in_bits: op.inBits, kh: op.kh, kw: op.kw, sh: op.sh, sw: op.sw, ph: op.ph, pw: op.pw,
            // zero padding: the engine runs with +1 padding and corrects (pad_zero)
            pad_bit: op.padBit === PAD_ZERO ? 1 : op.padBit, out_c: op.outC, has_pool: p ? 1 : 0,
            pkh: p?.kh ?? 0, pkw: p?.kw ?? 0, psh: p?.sh ?? 0, psw: p?.sw ?? 0, pph: p?.ph ?? 0, ppw: p?.pw ?? 0,
            out_bits: ep.kind === 'threshold' ? ep.bits : 0, out_h: y.h, out_w: y.w,
            in_signed: x.signed ? 1 : 0, w_bits: op.wBits ?? 1, w_signed: op.wSigned ? 1 : 0, out_signed: y.signed ? 1 : 0,
            pad_zero: op.padBit === PAD_ZERO ? 1 : 0,
          },
          aligned(op.weight),
          ep.kind === 'threshold' ? ep.thresholds : null,
          ep.kind === 'threshold' ? ep.flip : null,
          p ? p.useMin : null,
        );
        break;
      }
      case 'conv2d': {
        const x = m.tensors[op.in];
        const y = m.tensors[op.out];
        h = e.conv2dCreate(
          { h: x.h, w: x.w, c: x.c, kh: op.kh, kw: op.kw, sh: op.sh, sw: op.sw, ph: op.ph, pw: op.pw, out_c: y.c, out_h: y.h, out_w: y.w, groups: op.groups },
          op.weight, op.bias,
        );
        break;
      }
      case 'dense':
        h = e.denseCreate(tensorLength(m.tensors[op.in]), m.tensors[op.out].c, op.weight, op.bias);
        break;
      default:
        return null;
    }
    if (!h) throw new BitweaveError(`native backend: cannot prepare op ${i} (${op.op} ${m.opNames[i]}): out of memory or unsupported geometry`);
    return h;
  }

  async runSegment(segment: number, tensors: Map<number, TensorData>, batch: number): Promise<Map<number, TensorData>> {
    const seg = checkSegmentCall(this.name, this.model, segment, batch);
    const m = this.model!;
    const e = this.engine!;
    const local = new Map<number, TensorData>();
    for (const t of seg.inputs) local.set(t, aligned(this.checkTensor(t, tensors.get(t), batch)));
    for (let i = seg.start; i < seg.end; ) i = this.execAt(e, m, i, local, batch, false);
    const out = new Map<number, TensorData>();
    for (const t of seg.outputs) {
      const d = local.get(t)!;
      const refs = this.issued.get(d.buffer as ArrayBuffer);
      if (refs !== undefined) this.issued.set(d.buffer as ArrayBuffer, refs + 1);
      out.set(t, d);
    }
    return out;
  }

  /**
   * Every op of the model in one call, fusing across segments where runSegment cannot:
   * a chain right after the bconv that feeds it runs inside that bconv (bconvChains).
   */
  async runModel(input: TensorData, batch: number): Promise<{ output: TensorData; spans: ModelSpan[] }> {
    checkSegmentCall(this.name, this.model, 0, batch); // a model loaded, the batch in range
    const m = this.model!;
    const e = this.engine!;
    const local = new Map<number, TensorData>([[m.input, aligned(this.checkTensor(m.input, input, batch))]]);
    const spans: ModelSpan[] = m.segments.map((_, segment) => ({ segment, startMs: NaN, endMs: NaN }));
    const t0 = performance.now();
    this.inModel = true;
    try {
      for (let i = 0; i < m.ops.length; ) {
        const a = performance.now() - t0;
        const next = this.execAt(e, m, i, local, batch, true);
        const sp = spans[this.opSegment[i]];
        if (Number.isNaN(sp.startMs)) sp.startMs = a;
        sp.endMs = performance.now() - t0;
        i = next;
        this.releasePast(m, local, i);
      }
    } finally {
      this.inModel = false;
    }
    // a segment run entirely inside a fused call of the one before: an empty span after it
    spans.forEach((sp, k) => {
      if (Number.isNaN(sp.startMs)) sp.startMs = sp.endMs = k > 0 ? spans[k - 1].endMs : 0;
    });
    const output = local.get(m.output)!;
    const refs = this.issued.get(output.buffer as ArrayBuffer);
    if (refs !== undefined) this.issued.set(output.buffer as ArrayBuffer, refs + 1);
    return { output, spans };
  }

  /**
   * runModel: tensors no op from `next` on reads leave `local`, and their buffers (unless
   * the caller's input, the output, or still shared through a flatten) go to modelFree,
   * so memory follows the live tensors, not the model's length.
   */
  private releasePast(m: CompiledModel, local: Map<number, TensorData>, next: number): void {
    for (const [t, d] of local) {
      if (t === m.output || this.lastUse[t] >= next) continue;
      local.delete(t);
      if (t === m.input || this.modelEscapes.has(t)) continue;
      const buf = d.buffer as ArrayBuffer;
      if ([...local.values()].some((o) => o.buffer === buf)) continue;
      const list = this.modelFree.get(buf.byteLength) ?? [];
      if (!list.includes(buf)) list.push(buf);
      this.modelFree.set(buf.byteLength, list);
    }
  }

  /** Run the op (or fused group) starting at op i; returns the next op's index. */
  private execAt(e: Engine, m: CompiledModel, i: number, local: Map<number, TensorData>, batch: number, model: boolean): number {
    const t0 = performance.now();
    const fc = this.fusedConvs.get(i);
    if (fc) {
      this.runFusedConv(e, m, fc, local, batch);
      return this.recordShared(fc.start, fc.end, t0);
    }
    const bc = model ? this.bconvChains.get(i) : undefined;
    if (bc) {
      this.runBconvChain(e, m, i, bc.chain, bc.slot, local, batch);
      // timed as the binary conv (its chain's work is in cache, inside its items)
      this.record(i, performance.now() - t0);
      for (let k = bc.chain.start; k < bc.chain.end; k++) this.record(k, 0);
      return bc.chain.end;
    }
    const chain = this.chains.get(i);
    if (chain) {
      this.runChain(e, m, chain, local, batch);
      return this.recordShared(chain.start, chain.end, t0);
    }
    const op = m.ops[i];
    local.set(op.out, this.runOp(e, m, op, i, local, batch));
    this.record(i, performance.now() - t0);
    return i + 1;
  }

  private checkTensor(id: number, d: TensorData | undefined, batch: number): TensorData {
    return checkSegmentInput(this.name, this.model!.tensors[id], id, d, batch);
  }

  /** Fetch an op input from the segment's tensors, re-checking kind and length. */
  private input(local: Map<number, TensorData>, id: number, batch: number): TensorData {
    return this.checkTensor(id, local.get(id), batch);
  }

  private runOp(e: Engine, m: CompiledModel, op: CompiledOp, i: number, local: Map<number, TensorData>, batch: number): TensorData {
    const T = m.tensors;
    const th = this.threads;
    if (op.op === 'flatten') return this.input(local, op.in, batch); // a pure reshape, as in the reference
    const y = this.output(op.out, batch);
    let rc: number;
    switch (op.op) {
      case 'bconv': {
        const x = this.input(local, op.in, batch) as Uint32Array;
        const yLen = T[op.out].kind === 'bits' ? y.length / 2 : y.length;
        rc = e.bconvRun(this.handles[i]!, batch, x, x.length / 2, y as Uint32Array | Int32Array, yLen, th);
        break;
      }
      case 'conv2d':
      case 'dense': {
        const x = this.input(local, op.in, batch) as Float32Array;
        rc = e.fconvRun(this.handles[i]!, batch, x, x.length, y as Float32Array, y.length, th);
        break;
      }
      case 'batchnorm': {
        const x = this.input(local, op.in, batch) as Float32Array;
        rc = e.batchnorm(x, y as Float32Array, x.length, op.mean.length, op.mean, op.scale, op.beta, th);
        break;
      }
      case 'activation': {
        const x = this.input(local, op.in, batch) as Float32Array;
        rc = e.activation(ACTIVATIONS[op.fn], x, y as Float32Array, x.length, th);
        break;
      }
      case 'pool': {
        const x = this.input(local, op.in, batch) as Float32Array;
        rc = e.pool(poolDesc(op, T[op.in], T[op.out]), batch, x, x.length, y as Float32Array, y.length, th);
        break;
      }
      case 'add': {
        const a = this.input(local, op.in[0], batch) as Float32Array;
        const b = this.input(local, op.in[1], batch) as Float32Array;
        rc = e.add(a, b, y as Float32Array, a.length, th);
        break;
      }
      case 'quantize': {
        const x = this.input(local, op.in, batch) as Float32Array;
        rc = e.quantize(x, y as Float32Array, x.length, op.bits, op.signed ? 1 : 0, th);
        break;
      }
      case 'binarize': {
        const x = this.input(local, op.in, batch) as Float32Array;
        const ti = T[op.in];
        rc = e.binarize(x, batch * ti.h * ti.w, ti.c, op.bits, T[op.out].signed ? 1 : 0, y as Uint32Array, th);
        break;
      }
      case 'dequantize': {
        const x = this.input(local, op.in, batch) as Int32Array;
        rc = e.dequantize(x, y as Float32Array, x.length, op.divisor, th);
        break;
      }
    }
    this.check(rc, m, i, op.op);
    return y;
  }

  /** Describe a chain's ops over its slots and prepare it natively (copies BN params). */
  private prepareChain(e: Engine, m: CompiledModel, ch: Chain): Handle {
    const slotOf = new Map(ch.tensors.map((t, k) => [t, k]));
    const slots: EwSlot[] = ch.tensors.map((t, k) => ({ kind: SLOT[m.tensors[t].kind], planes: m.tensors[t].planes, external: ch.external[k] ? 1 : 0 }));
    const ops = range(ch.start, ch.end).map((i) => ewOp(m, i, (t) => slotOf.get(t)!));
    const h = e.chainCreate(ops, slots, m.tensors[m.ops[ch.start].out].c);
    if (!h) throw new BitweaveError(`native backend: cannot prepare fused ops ${ch.start}..${ch.end - 1}`);
    return h;
  }

  /** A conv/dense with its fused ops: reads the first op's input, writes the last op's output. */
  private runFusedConv(e: Engine, m: CompiledModel, fc: FusedConv, local: Map<number, TensorData>, batch: number): void {
    const x = this.input(local, m.ops[fc.start].in as number, batch) as Float32Array;
    const out = m.ops[fc.end - 1].out;
    const y = this.output(out, batch) as Float32Array | Uint32Array;
    const yLen = m.tensors[out].kind === 'bits' ? y.length / 2 : y.length;
    this.check(e.fconvRun(this.handles[fc.conv]!, batch, x, x.length, y, yLen, this.threads), m, fc.conv, `fused ops ${fc.start}..${fc.end - 1}`);
    local.set(out, y);
  }

  /** One fused chain: whole arrays for external tensors (checked), block scratch for the rest. */
  private runChain(e: Engine, m: CompiledModel, ch: Chain, local: Map<number, TensorData>, batch: number): void {
    const { data, lens } = this.chainTensors(m, ch, local, batch, -1);
    const g = m.tensors[m.ops[ch.start].out];
    this.check(e.chainRun(ch.handle!, data, lens, batch * g.h * g.w, this.threads), m, ch.start, `fused ops ${ch.start}..${ch.end - 1}`);
  }

  /** The external tensors of a chain (slot `skip` left empty: a bconv fills it). */
  private chainTensors(m: CompiledModel, ch: Chain, local: Map<number, TensorData>, batch: number, skip: number) {
    const n = ch.tensors.length;
    const data: (TensorData | null)[] = new Array(n).fill(null);
    const lens = new BigInt64Array(n);
    for (let k = 0; k < n; k++) {
      if (!ch.external[k] || k === skip) continue;
      const t = ch.tensors[k];
      const d = ch.written[k] ? this.output(t, batch) : this.input(local, t, batch);
      if (ch.written[k]) local.set(t, d);
      data[k] = d;
      lens[k] = BigInt(m.tensors[t].kind === 'bits' ? d.length / 2 : d.length);
    }
    return { data, lens };
  }

  /** A bconv whose int32 output runs through the chain after it inside its items. */
  private runBconvChain(e: Engine, m: CompiledModel, i: number, ch: Chain, slot: number, local: Map<number, TensorData>, batch: number): void {
    const op = m.ops[i] as Extract<CompiledOp, { op: 'bconv' }>;
    const x = this.input(local, op.in, batch) as Uint32Array;
    const { data, lens } = this.chainTensors(m, ch, local, batch, slot);
    const rc = e.bconvRunChain(this.handles[i]!, batch, x, x.length / 2, ch.handle!, slot, data, lens, this.threads);
    this.check(rc, m, i, `bconv with fused ops ${ch.start}..${ch.end - 1}`);
  }

  private check(rc: number, m: CompiledModel, i: number, what: string): void {
    if (rc === BW_OK) return;
    const why = rc === BW_E_SIZE ? 'size mismatch' : rc === BW_E_NOMEM ? 'out of memory' : rc === BW_E_ARG ? 'bad argument' : `code ${rc}`;
    throw new BitweaveError(`native backend: op ${i} (${what} ${m.opNames[i]}) failed: ${why}`);
  }

  /**
   * Give back segment outputs the caller no longer reads (optional; Session can call it
   * when it drops a tensor). A fresh buffer costs a page fault per 4 KiB on first write,
   * which at batch 64 is as slow as the op itself; a returned one is reused as is.
   * Buffers this backend did not hand out are ignored.
   */
  recycle(data: Iterable<TensorData>): void {
    for (const d of data) {
      const buf = d.buffer as ArrayBuffer;
      const refs = this.issued.get(buf);
      if (!refs) continue;
      if (refs > 1) {
        this.issued.set(buf, refs - 1);
        continue;
      }
      this.issued.delete(buf);
      const list = this.free.get(buf.byteLength) ?? [];
      if (list.length < 8) list.push(buf);
      this.free.set(buf.byteLength, list);
    }
  }

  /** The output buffer of tensor `id`: a caller-owned one if it leaves the segment, else a reused one. */
  private output(id: number, batch: number): TensorData {
    const info = this.model!.tensors[id];
    if ((this.inModel ? this.modelEscapes : this.escapes).has(id)) {
      const n = batch * tensorLength(info);
      const buf = this.free.get(n * 4)?.pop();
      const y = buf ? view(info, buf, n) : alloc(info, batch);
      this.issued.set(y.buffer as ArrayBuffer, 0); // counted when returned
      return y;
    }
    const n = batch * tensorLength(info);
    if (this.inModel) {
      const buf = this.modelFree.get(n * 4)?.pop();
      return buf ? view(info, buf, n) : alloc(info, batch);
    }
    const old = this.scratch.get(id);
    if (old && old.length === n) return old;
    const y = alloc(info, batch);
    this.scratch.set(id, y);
    return y;
  }

  /** Fused ops [start, end) share the time since t0 evenly; returns end. */
  private recordShared(start: number, end: number, t0: number): number {
    const ms = (performance.now() - t0) / (end - start);
    for (let k = start; k < end; k++) this.record(k, ms);
    return end;
  }

  private record(op: number, ms: number): void {
    this.stats.add(op, this.model!.opNames[op], isDeviceOp(this.model!.ops[op]) ? 'device' : 'host', ms);
  }

  layerStats(): LayerStat[] {
    return this.stats.list();
  }

  private release(): void {
    const e = this.engine;
    if (e && this.model) {
      this.model.ops.forEach((op, i) => {
        const h = this.handles[i];
        if (!h) return;
        if (op.op === 'bconv') e.bconvFree(h);
        else e.fconvFree(h);
      });
    }
    if (e) for (const ch of this.chains.values()) if (ch.handle) e.chainFree(ch.handle);
    this.handles = [];
    this.model = null;
    this.stats.clear();
    this.scratch.clear();
    this.escapes.clear();
    this.free.clear();
    this.chains.clear();
    this.fusedConvs.clear();
    this.bconvChains.clear();
    this.modelEscapes.clear();
    this.modelFree.clear();
  }

  async dispose(): Promise<void> {
    this.release();
    this.engine = null;
  }
}

function range(a: number, b: number): number[] {
  return Array.from({ length: Math.max(0, b - a) }, (_, k) => a + k);
}

/** One element-wise op as the engine describes it; slot(t) numbers its tensors. */
function ewOp(m: CompiledModel, i: number, slot: (t: number) => number): EwOp {
  const op = m.ops[i];
  const o: EwOp = { kind: 0, a: 0, b: 0, y: slot(op.out), param: 0, sgn: 0, divisor: 1, mean: null, scale: null, beta: null };
  switch (op.op) {
    case 'dequantize': return { ...o, kind: EW.dequantize, a: slot(op.in), divisor: op.divisor };
    case 'add': return { ...o, kind: EW.add, a: slot(op.in[0]), b: slot(op.in[1]) };
    case 'batchnorm': return { ...o, kind: EW.batchnorm, a: slot(op.in), mean: op.mean, scale: op.scale, beta: op.beta };
    case 'activation': return { ...o, kind: EW.activation, a: slot(op.in), param: ACTIVATIONS[op.fn] };
    case 'quantize': return { ...o, kind: EW.quantize, a: slot(op.in), param: op.bits, sgn: op.signed ? 1 : 0 };
    case 'binarize': return { ...o, kind: EW.binarize, a: slot(op.in), param: op.bits, sgn: m.tensors[op.out].signed ? 1 : 0 };
    default: throw new Error(`native backend: op ${i} (${op.op}) cannot be fused`);
  }
}

/**
 * Float convs (conv2d, dense) in host segments with the ops next to them that can run
 * inside the conv: a run of BatchNorm/activation/quantize ops feeding a conv2d, a run fed
 * by a conv2d or dense, and after a conv2d's run a pool, a run on the pooled map and a
 * binarize. Each tensor between them is read by nothing else (no later op, segment or
 * caller); at most 8 ops in each run (the engine's limit).
 */
function planConvFusion(m: CompiledModel): Map<number, FusedConv> {
  const uses = new Int32Array(m.tensors.length);
  m.ops.forEach((op) => (op.op === 'add' ? op.in : [op.in]).forEach((t) => uses[t]++));
  const leaves = new Set(m.segments.flatMap((s) => s.outputs));
  leaves.add(m.output);
  const privateLink = (t: number) => uses[t] === 1 && !leaves.has(t);
  const fused = new Map<number, FusedConv>();
  for (const seg of m.segments) {
    if (seg.kind !== 'host') continue;
    for (let c = seg.start; c < seg.end; c++) {
      const conv = m.ops[c];
      if (conv.op !== 'conv2d' && conv.op !== 'dense') continue;
      let start = c;
      while (conv.op === 'conv2d' && start > seg.start && c - start < 8) {
        const prev = m.ops[start - 1];
        if (!CONV_FUSABLE.has(prev.op) || prev.out !== m.ops[start].in || !privateLink(prev.out)) break;
        if ([...fused.values()].some((f) => f.end > start - 1)) break; // already after an earlier conv
        start--;
      }
      // a run of ops, each reading the one before through a private tensor
      const follows = (k: number, ops: Set<string>) => {
        const next = m.ops[k];
        return k < seg.end && ops.has(next.op) && next.in === m.ops[k - 1].out && privateLink(m.ops[k - 1].out);
      };
      let end = c + 1;
      while (end - c <= 8 && follows(end, CONV_FUSABLE)) end++;
      let pool: number | undefined;
      if (conv.op === 'conv2d' && follows(end, POOL)) {
        pool = end++;
        while (end - pool <= 8 && follows(end, CONV_FUSABLE)) end++;
        if (follows(end, BINARIZE)) end++;
      }
      if (end - start > 1) fused.set(start, { start, conv: c, end, ...(pool !== undefined ? { pool } : {}) });
      c = end - 1;
    }
  }
  return fused;
}

/**
 * Maximal runs (two ops or more) of consecutive element-wise ops in host segments whose
 * tensors all have one geometry, outside fused convs (`taken`). A tensor is external when
 * it comes from before the chain, or something after the chain (or the caller) reads it.
 */
function planChains(m: CompiledModel, taken: Set<number>): Map<number, Chain> {
  const lastUse = new Int32Array(m.tensors.length).fill(-1);
  m.ops.forEach((op, i) => (op.op === 'add' ? op.in : [op.in]).forEach((t) => (lastUse[t] = i)));
  const leaves = new Set(m.segments.flatMap((s) => s.outputs));
  leaves.add(m.output);
  const chains = new Map<number, Chain>();
  const T = m.tensors;
  const same = (a: number, b: number) => T[a].h === T[b].h && T[a].w === T[b].w && T[a].c === T[b].c;
  const fits = (i: number, ref: number) => {
    const op = m.ops[i];
    return !taken.has(i) && FUSABLE.has(op.op) && same(op.out, ref) && (op.op === 'add' ? op.in : [op.in]).every((t) => same(t, ref));
  };
  for (const seg of m.segments) {
    if (seg.kind !== 'host') continue;
    for (let i = seg.start; i < seg.end; ) {
      const ref = m.ops[i].out;
      let j = i;
      while (j < seg.end && fits(j, ref)) j++;
      if (j - i >= 2) {
        const tensors: number[] = [];
        for (let k = i; k < j; k++) {
          const op = m.ops[k];
          for (const t of [...(op.op === 'add' ? op.in : [op.in]), op.out]) if (!tensors.includes(t)) tensors.push(t);
        }
        const produced = new Set(m.ops.slice(i, j).map((o) => o.out));
        const external = tensors.map((t) => !produced.has(t) || leaves.has(t) || lastUse[t] >= j || T[t].kind === 'bits');
        chains.set(i, { start: i, end: j, tensors, external, written: tensors.map((t) => produced.has(t)), handle: null });
      }
      i = Math.max(j, i + 1);
    }
  }
  return chains;
}

/**
 * Chains that can run inside the bconv right before them (runModel): the bconv writes raw
 * int32 (no pool, channels in whole 8-blocks) and only the chain reads that tensor, which
 * neither the caller sees nor a later op reads.
 */
function planBconvChains(m: CompiledModel, chains: Map<number, Chain>, escapes: Set<number>): Map<number, { chain: Chain; slot: number }> {
  const out = new Map<number, { chain: Chain; slot: number }>();
  for (const ch of chains.values()) {
    const b = ch.start - 1;
    const op = m.ops[b];
    if (!op || op.op !== 'bconv' || op.pool || op.epilogue.kind !== 'int' || op.outC % 8 !== 0) continue;
    const slot = ch.tensors.indexOf(op.out);
    if (slot < 0 || ch.written[slot] || escapes.has(op.out)) continue;
    const outside = m.ops.some((o, i) => (i < ch.start || i >= ch.end) && opInputs(o).includes(op.out));
    if (!outside) out.set(b, { chain: ch, slot });
  }
  return out;
}

function poolDesc(op: PoolOp, x: TensorInfo, y: TensorInfo) {
  return {
    h: x.h, w: x.w, c: x.c, kh: op.kh, kw: op.kw, sh: op.sh, sw: op.sw, ph: op.ph, pw: op.pw,
    out_h: y.h, out_w: y.w, mode: op.mode === 'max' ? 0 : 1, count_include_pad: op.countIncludePad ? 1 : 0,
  };
}
