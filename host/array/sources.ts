/**
 * Where the kernel sources of the array live (opencl-kernels/, hls/), and the OpenCL C
 * source as the host builds it: the generated bitweave_array.h (header.ts) followed by
 * the blocks in opencl-kernels/, concatenated in dependency order. The header is generated
 * at run time from the array parameters, never copied by hand, so the kernels cannot drift
 * from the descriptors the host encodes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError } from '../core/errors';
import { packagePath } from '../core/paths';
import { arrayHeaderC } from './header';
import { ArrayParams, DEFAULT_ARRAY } from './params';

/** One block per file, in the order the compiler must see them. */
export const KERNEL_FILES = ['layer.cl', 'stream.cl', 'sequencer.cl', 'feeder.cl', 'weight_feeder.cl', 'pe_array.cl', 'output_unit.cl'] as const;

/** opencl-kernels/ of this package, or BITWEAVE_KERNELS_DIR (a build directory's kernels/, see host/build/pocl.ts). */
export function kernelDir(): string {
  if (process.env.BITWEAVE_KERNELS_DIR) return path.resolve(process.env.BITWEAVE_KERNELS_DIR);
  return packagePath('opencl-kernels');
}

/** hls/ of this package (the HLS kernel sources). */
export function hlsDir(): string {
  return packagePath('hls');
}

export function kernelSource(p: ArrayParams = DEFAULT_ARRAY): string {
  const dir = kernelDir();
  const parts = [arrayHeaderC(p)];
  for (const f of KERNEL_FILES) {
    const file = path.join(dir, f);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new BitweaveError(`opencl backend: cannot read kernel source ${file}: ${(e as Error).message}`);
    }
    parts.push(`/* ---- ${f} ---- */\n#line 1 "${f}"\n${text}`);
  }
  return parts.join('\n');
}
