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
 * The kernel trusts the descriptors it walks, so every backend checks each one on the host
 * before any upload (descriptor.ts checkProgram): an out-of-range offset would otherwise
 * become an out-of-bounds access in device (or, on PoCL, host-process) memory.
 */

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
