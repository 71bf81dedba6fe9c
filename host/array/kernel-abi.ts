/**
 * The array kernel's calling convention, shared by the OpenCL kernels (opencl-kernels/)
 * and the HLS kernel (hls/): one kernel `bitweave_array` that walks a layer program
 * (program.ts) for a slice of images. Hosts set arguments in KERNEL_ARGS order; a test
 * parses the kernel sources and checks their signature against this list.
 *
 *   __kernel void bitweave_array(__global const uint *program,  // layers * BW_DESC_WORDS
 *                                const uint layers,
 *                                __global const ulong *weights,
 *                                __global const int *params,
 *                                __global ulong *arena,          // images * arena_words
 *                                const uint arena_words,
 *                                const uint images)
 *
 * For each image i < images and each layer l < layers the kernel executes descriptor l
 * on `arena + i * arena_words` (IN_OFF / OUT_OFF in 64-bit words of one image's arena,
 * W_OFF in 64-bit words of weights, T_OFF / F_OFF in int32 entries of params).
 *
 * The kernel trusts the descriptors it walks, so checkLayerProgram verifies every one on
 * the host before any upload: an out-of-range offset would otherwise become an
 * out-of-bounds access in device (or, on PoCL, host-process) memory.
 */
import { BitweaveError } from '../core/errors';
import { DESC_WORDS, FIELD, OP_AND_PLANES, OP_POOL, OP_THRESHOLD } from './params';

export const KERNEL_NAME = 'bitweave_array';

export interface KernelArgSpec {
  name: string;
  /** OpenCL C element type (pointee type for buffers). */
  type: 'uint' | 'int' | 'ulong';
  /** A __global buffer (else a by-value scalar). */
  buffer: boolean;
  /** The kernel only reads it (const). */
  readOnly: boolean;
}

export const KERNEL_ARGS: readonly KernelArgSpec[] = Object.freeze([
  { name: 'program', type: 'uint', buffer: true, readOnly: true },
  { name: 'layers', type: 'uint', buffer: false, readOnly: true },
  { name: 'weights', type: 'ulong', buffer: true, readOnly: true },
  { name: 'params', type: 'int', buffer: true, readOnly: true },
  { name: 'arena', type: 'ulong', buffer: true, readOnly: false },
  { name: 'arena_words', type: 'uint', buffer: false, readOnly: true },
  { name: 'images', type: 'uint', buffer: false, readOnly: true },
]);

/** Argument index by name. */
export const ARG = Object.freeze(Object.fromEntries(KERNEL_ARGS.map((a, i) => [a.name, i]))) as Readonly<Record<string, number>>;

/** The C parameter declaration of one argument, as the OpenCL source spells it. */
export function declareArg(a: KernelArgSpec): string {
  return a.buffer ? `__global ${a.readOnly ? 'const ' : ''}${a.type} *${a.name}` : `const ${a.type} ${a.name}`;
}

/** Largest value a 32-bit index in the kernels may reach (they compute offsets in uint). */
const INDEX_LIMIT = 2 ** 31;
/** validate.ts LIMITS.maxBits, also the kernels' BW_MAX_BITS. */
const MAX_BITS = 8;

const windowOut = (size: number, k: number, s: number, p: number) => Math.floor((size + 2 * p - k) / s) + 1;

/**
 * Checks a layer program against the buffers it will run with: every descriptor's
 * geometry is consistent and every region it reads or writes lies inside its buffer, with
 * all offsets below 2^31. Throws a one-line BitweaveError naming the layer and field.
 */
export function checkLayerProgram(descriptors: Uint32Array, layers: number, sizes: { weightWords: number; paramEntries: number; arenaWords: number }): void {
  if (!(descriptors instanceof Uint32Array)) throw new BitweaveError('layer program: descriptors must be a Uint32Array');
  if (!Number.isInteger(layers) || layers < 1 || descriptors.length !== layers * DESC_WORDS) {
    throw new BitweaveError(`layer program: ${descriptors.length} descriptor words for ${layers} layers (expected ${DESC_WORDS} each)`);
  }
  for (const [k, v] of Object.entries(sizes)) {
    if (!Number.isSafeInteger(v) || v < 0 || v >= INDEX_LIMIT) throw new BitweaveError(`layer program: ${k} = ${v} is outside 0..2^31-1`);
  }
  for (let l = 0; l < layers; l++) {
    const d = (f: keyof typeof FIELD) => descriptors[l * DESC_WORDS + FIELD[f]];
    const fail = (msg: string): never => {
      throw new BitweaveError(`layer program: layer ${l}: ${msg}`);
    };
    const op = d('OPCODE');
    if (op & ~(OP_THRESHOLD | OP_POOL | OP_AND_PLANES)) fail(`unknown opcode bits 0x${op.toString(16)}`);
    const positive = ['IN_H', 'IN_W', 'IN_C', 'IN_WORDS', 'IN_PLANES', 'KH', 'KW', 'SH', 'SW', 'OUT_C', 'ACC_H', 'ACC_W', 'OUT_H', 'OUT_W'] as const;
    for (const f of positive) if (d(f) < 1 || d(f) >= INDEX_LIMIT) fail(`${f} = ${d(f)} must be in 1..2^31-1`);
    if (d('IN_WORDS') !== Math.ceil(d('IN_C') / 64)) fail(`IN_WORDS = ${d('IN_WORDS')} but IN_C = ${d('IN_C')} needs ${Math.ceil(d('IN_C') / 64)}`);
    const planes = d('IN_PLANES');
    if (planes > MAX_BITS) fail(`IN_PLANES = ${planes} exceeds ${MAX_BITS}`);
    if ((planes > 1) !== ((op & OP_AND_PLANES) !== 0)) fail(`IN_PLANES = ${planes} does not match the AND bit-plane opcode bit`);
    if (d('PAD_BIT') > 1) fail(`PAD_BIT = ${d('PAD_BIT')} must be 0 or 1`);
    if (d('PH') >= d('KH') || d('PW') >= d('KW')) fail('padding must be smaller than the kernel window');
    if (d('ACC_H') !== windowOut(d('IN_H'), d('KH'), d('SH'), d('PH')) || d('ACC_W') !== windowOut(d('IN_W'), d('KW'), d('SW'), d('PW'))) {
      fail(`ACC_H x ACC_W = ${d('ACC_H')}x${d('ACC_W')} does not follow from the input and window`);
    }
    let oh = d('ACC_H');
    let ow = d('ACC_W');
    if (op & OP_POOL) {
      for (const f of ['POOL_KH', 'POOL_KW', 'POOL_SH', 'POOL_SW'] as const) if (d(f) < 1 || d(f) > 1024) fail(`${f} = ${d(f)} must be in 1..1024`);
      if (d('POOL_PH') >= d('POOL_KH') || d('POOL_PW') >= d('POOL_KW')) fail('pool padding must be smaller than the pool window');
      oh = windowOut(oh, d('POOL_KH'), d('POOL_SH'), d('POOL_PH'));
      ow = windowOut(ow, d('POOL_KW'), d('POOL_SW'), d('POOL_PW'));
    }
    if (d('OUT_H') !== oh || d('OUT_W') !== ow) fail(`OUT_H x OUT_W = ${d('OUT_H')}x${d('OUT_W')}, expected ${oh}x${ow}`);
    const words = d('IN_WORDS');
    const tail = planes === 1 ? d('KH') * d('KW') * (64 * words - d('IN_C')) : 0;
    if (d('TAIL') !== tail) fail(`TAIL = ${d('TAIL')}, expected ${tail}`);
    const outC = d('OUT_C');
    const pixels = d('OUT_H') * d('OUT_W');
    const threshold = (op & OP_THRESHOLD) !== 0;
    const outBits = d('OUT_BITS');
    if (threshold ? outBits < 1 || outBits > MAX_BITS : outBits !== 0) fail(`OUT_BITS = ${outBits} does not fit the ${threshold ? 'threshold' : 'integer'} epilogue`);
    const region = (what: string, off: number, n: number, size: number, unit: string) => {
      if (!Number.isSafeInteger(off + n) || off + n > size || n >= INDEX_LIMIT) fail(`${what} [${off}, ${off + n}) lies outside the ${size} ${unit}`);
    };
    region('input region', d('IN_OFF'), d('IN_H') * d('IN_W') * planes * words, sizes.arenaWords, 'words of the arena');
    region('output region', d('OUT_OFF'), threshold ? pixels * outBits * Math.ceil(outC / 64) : Math.ceil((pixels * outC) / 2), sizes.arenaWords, 'words of the arena');
    region('weights', d('W_OFF'), outC * d('KH') * d('KW') * words, sizes.weightWords, 'weight words');
    if (threshold) region('thresholds', d('T_OFF'), outC * (2 ** outBits - 1), sizes.paramEntries, 'parameter entries');
    region('channel flags', d('F_OFF'), outC, sizes.paramEntries, 'parameter entries');
  }
}
