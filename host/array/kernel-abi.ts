/**
 * The array kernels' calling conventions. The HLS kernel (hls/) and the RTL kernel's
 * staging (axi-kernel.ts) follow KERNEL_ARGS: one kernel `bitweave_array` that walks a layer program
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

/**
 * The OpenCL array (opencl-kernels/) is three kernels linked by streams (stream.cl): the
 * feeder, the PE array and the output units, each walking the same layer program. With
 * Intel channels the three run at once and the FIFO arguments are unused; elsewhere (PoCL)
 * each stream is a FIFO buffer the producer fills before the consumer runs, so the host
 * launches the three in order, one layer at a time. A program built with channels also
 * defines the empty kernel CHANNELS_MARKER, which is how the host tells the variants apart.
 *
 *   bw_feeder(program, layers, arena (read), arena_words, images, act_fifo (ulong, written))
 *   bw_pe_array(program, layers, weights, images, act_fifo (read), acc_fifo (int, written))
 *   bw_output_unit(program, layers, params, arena, arena_words, images, acc_fifo (read))
 *
 * act_fifo holds COLS words per k-step of every tile, acc_fifo ROWS ints per column of
 * every tile (streamFifoWords in host/backends/opencl/array-kernels.ts).
 */
const buf = (name: string, type: KernelArgSpec['type'], readOnly: boolean): KernelArgSpec => ({ name, type, buffer: true, readOnly });
const val = (name: string): KernelArgSpec => ({ name, type: 'uint', buffer: false, readOnly: true });

export const ARRAY_KERNELS = Object.freeze({
  feeder: { name: 'bw_feeder', args: [buf('program', 'uint', true), val('layers'), buf('arena', 'ulong', true), val('arena_words'), val('images'), buf('act_fifo', 'ulong', false)] },
  pe: { name: 'bw_pe_array', args: [buf('program', 'uint', true), val('layers'), buf('weights', 'ulong', true), val('images'), buf('act_fifo', 'ulong', true), buf('acc_fifo', 'int', false)] },
  output: { name: 'bw_output_unit', args: [buf('program', 'uint', true), val('layers'), buf('params', 'int', true), buf('arena', 'ulong', false), val('arena_words'), val('images'), buf('acc_fifo', 'int', true)] },
} as const satisfies Record<string, { name: string; args: readonly KernelArgSpec[] }>);

export type ArrayKernelRole = keyof typeof ARRAY_KERNELS;

/** Defined (empty) only by a program compiled with Intel channels (BW_INTEL_FPGA). */
export const CHANNELS_MARKER = 'bw_streams_are_channels';

/** Argument index of `name` in kernel `role`. */
export function arrayArg(role: ArrayKernelRole, name: string): number {
  const i = ARRAY_KERNELS[role].args.findIndex((a) => a.name === name);
  if (i < 0) throw new Error(`kernel-abi: ${ARRAY_KERNELS[role].name} has no argument '${name}'`);
  return i;
}
