/**
 * The kernel ABI every implementation of the array exposes (HLS C++ top function, OpenCL C
 * kernel) and the host sets arguments by:
 *
 *   bitweave_array(const uint32_t *program, uint32_t layers, const uint64_t *weights,
 *                  const int32_t *params, uint64_t *arena, uint32_t arena_words, uint32_t images)
 *
 * KERNEL_ABI is the contract (derived from kernel-abi.ts); parseKernelSignature reads the signature out of a kernel's
 * source (hls/bitweave_array.cpp, or an OpenCL C file), so tests can prove that the sources
 * and the host agree instead of trusting a copy. kernelPorts reads the HLS INTERFACE pragmas
 * (m_axi bundles) the Vitis project emitter maps to memory banks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError } from '../core/errors';
import { KERNEL_ARGS, KERNEL_NAME, KernelArgSpec } from './kernel-abi';
import { hlsDir } from './sources';

export { KERNEL_NAME };

export type AbiScalar = 'uint32_t' | 'uint64_t' | 'int32_t';

export interface KernelArg {
  name: string;
  /** Element type (of the pointee for pointers). */
  type: AbiScalar;
  pointer: boolean;
  /** A pointer the kernel only reads. */
  readonly: boolean;
}

const C_TYPE: Record<KernelArgSpec['type'], AbiScalar> = { uint: 'uint32_t', ulong: 'uint64_t', int: 'int32_t' };

/** The contract (kernel-abi.ts, which the opencl backend sets arguments by) in C terms. */
export const KERNEL_ABI: readonly KernelArg[] = KERNEL_ARGS.map((a) => ({
  name: a.name,
  type: C_TYPE[a.type],
  pointer: a.buffer,
  readonly: a.buffer && a.readOnly,
}));

/** C / C++ / OpenCL C spellings of the ABI's scalar types. */
const TYPE_NAMES: Record<string, AbiScalar> = {
  uint32_t: 'uint32_t', uint: 'uint32_t', 'unsigned int': 'uint32_t',
  uint64_t: 'uint64_t', ulong: 'uint64_t', 'unsigned long long': 'uint64_t',
  int32_t: 'int32_t', int: 'int32_t',
};

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
}

/**
 * The parameter list of `void <name>(...)` in a kernel source (an `extern "C"` HLS top
 * function or an OpenCL `__kernel`). Exactly one definition must exist.
 */
export function parseKernelSignature(source: string, name = KERNEL_NAME, file = 'kernel source'): KernelArg[] {
  const src = stripComments(source);
  const re = new RegExp(`(?:extern\\s+"C"\\s+|__kernel\\s+|kernel\\s+)(?:__attribute__\\s*\\(\\(.*?\\)\\)\\s*)*void\\s+${name}\\s*\\(([^)]*)\\)\\s*\\{`, 'g');
  const found = [...src.matchAll(re)];
  if (found.length !== 1) throw new BitweaveError(`${file}: expected one definition of kernel '${name}', found ${found.length}`);
  return found[0][1].split(',').map((raw, i) => {
    const p = raw.replace(/\b(__global|global|__restrict__|__restrict|restrict|volatile)\b/g, ' ').replace(/\s+/g, ' ').trim();
    const m = /^(const\s+)?([A-Za-z_][A-Za-z0-9_ ]*?)\s*(\*)?\s*(?:const\s+)?([A-Za-z_][A-Za-z0-9_]*)$/.exec(p);
    if (!m) throw new BitweaveError(`${file}: cannot parse argument ${i} of '${name}': '${raw.trim()}'`);
    const type = TYPE_NAMES[m[2].trim()];
    if (!type) throw new BitweaveError(`${file}: argument '${m[4]}' of '${name}' has type '${m[2].trim()}', not one of ${Object.keys(TYPE_NAMES).join(', ')}`);
    const pointer = m[3] === '*';
    return { name: m[4], type, pointer, readonly: pointer && m[1] !== undefined };
  });
}

/** Differences between a parsed signature and KERNEL_ABI (empty when they agree). */
export function abiMismatches(args: readonly KernelArg[]): string[] {
  const out: string[] = [];
  if (args.length !== KERNEL_ABI.length) out.push(`${args.length} arguments, the ABI has ${KERNEL_ABI.length}`);
  KERNEL_ABI.forEach((want, i) => {
    const got = args[i];
    if (!got) return;
    const show = (a: KernelArg) => `${a.readonly ? 'const ' : ''}${a.type}${a.pointer ? ' *' : ''} ${a.name}`;
    if (got.name !== want.name || got.type !== want.type || got.pointer !== want.pointer || got.readonly !== want.readonly) {
      out.push(`argument ${i}: '${show(got)}', the ABI has '${show(want)}'`);
    }
  });
  return out;
}

export interface KernelPort {
  /** Kernel argument name (what v++ --connectivity.sp names). */
  arg: string;
  /** m_axi bundle (one AXI master per bundle). */
  bundle: string;
}

/** The m_axi ports of an HLS top function, from its INTERFACE pragmas, in argument order. */
export function kernelPorts(source: string, file = 'kernel source'): KernelPort[] {
  const args = parseKernelSignature(source, KERNEL_NAME, file);
  const ports = new Map<string, string>();
  for (const m of stripComments(source).matchAll(/#pragma\s+HLS\s+INTERFACE\s+m_axi\s+([^\n]*)/g)) {
    const kv = Object.fromEntries([...m[1].matchAll(/(\w+)\s*=\s*(\w+)/g)].map((x) => [x[1], x[2]]));
    if (kv.port) ports.set(kv.port, kv.bundle ?? 'gmem');
  }
  for (const p of ports.keys()) if (!args.some((a) => a.name === p)) throw new BitweaveError(`${file}: m_axi pragma names '${p}', which is not an argument`);
  for (const a of args) if (a.pointer && !ports.has(a.name)) throw new BitweaveError(`${file}: pointer argument '${a.name}' has no m_axi INTERFACE pragma`);
  return args.filter((a) => a.pointer).map((a) => ({ arg: a.name, bundle: ports.get(a.name)! }));
}


export function hlsTopSource(): { file: string; text: string } {
  const file = path.join(hlsDir(), 'bitweave_array.cpp');
  if (!fs.existsSync(file)) throw new BitweaveError(`HLS kernel source missing: ${file}`);
  return { file, text: fs.readFileSync(file, 'utf8') };
}

/** The HLS top function's signature, read from the source; throws if it left the ABI. */
export function hlsKernelAbi(): KernelArg[] {
  const { file, text } = hlsTopSource();
  const args = parseKernelSignature(text, KERNEL_NAME, file);
  const bad = abiMismatches(args);
  if (bad.length) throw new BitweaveError(`${file}: kernel signature differs from the ABI: ${bad.join('; ')}`);
  return args;
}
