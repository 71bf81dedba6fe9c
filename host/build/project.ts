/**
 * What every board build directory shares: the array size chosen for the board, the
 * model's layer programs checked against it, the OpenCL kernel sources with the
 * generated parameter header, a manifest describing everything emitted, and an atomic
 * write so a failed emit never leaves half a directory behind or clobbers user files.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Board } from '../boards';
import { encodeBnn } from '../format/bnn';
import { BitweaveError } from '../core/errors';
import { prepareOutputDir } from '../core/files';
import { CompiledModel } from '../compile/model';
import { arrayHeaderC } from '../array/header';
import { ArrayParams, arrayGeometryProblem, DEFAULT_ARRAY } from '../array/params';
import { encodeSegment } from '../array/program';
import { MAX_BITS } from '../array/limits';
import { targetModel } from '../array/zero-pad';
import { KERNEL_NAME } from '../array/kernel-abi';
import { KERNEL_FILES, kernelDir } from '../array/sources';
import { boardArray } from './sizing';

export { KERNEL_NAME };

export interface BoardBuildOptions {
  /** Override the board's array geometry (default: `boardArray`, sized from yosys figures on Xilinx boards). */
  rows?: number;
  cols?: number;
  /** Replace an existing bitweave build directory (never a directory bitweave did not write). */
  force?: boolean;
  /** Command line that produced the build, recorded in the manifest. */
  commandLine?: string;
  /** Vitis boards: the kernel to build, 'rtl' (default) or 'hls' (host/build/vitis.ts). */
  kernel?: string;
}

export interface EmittedFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface SegmentSummary {
  segment: number;
  layers: number;
  weightBytes: number;
  paramEntries: number;
  arenaWordsPerImage: number;
  binaryMacsPerImage: number;
}

export interface BoardBuildResult {
  board: string;
  toolchain: string;
  outDir: string;
  array: ArrayParams;
  /** How the array size was chosen (an estimate unless given on the command line). */
  arrayNote: string;
  kernel: string;
  files: EmittedFile[];
  segments: SegmentSummary[];
  /** Named shell commands of the flow (e.g. emulator, report, hardware, program). */
  commands: Record<string, string>;
}

/** One file of a build directory, relative path -> contents. */
export type ProjectFiles = Map<string, string | Uint8Array>;

/** What an OpenCL board flow (intel.ts, pocl.ts) emits a build directory from. */
export interface KernelProjectInput {
  model: CompiledModel;
  board: Board;
  array: ArrayParams;
  kernels: { files: ProjectFiles; top: string };
  segments: SegmentSummary[];
  modelFile: string;
}

/** The files of a build directory and the commands its README names. */
export interface KernelProject {
  files: ProjectFiles;
  commands: Record<string, string>;
}

/** The kernel sources and the model, which every OpenCL flow's directory starts with. */
export function kernelProjectFiles(p: KernelProjectInput): ProjectFiles {
  const files: ProjectFiles = new Map(p.kernels.files);
  files.set(p.modelFile, encodeBnn(p.model));
  return files;
}

export function arrayFor(board: Board, opts: BoardBuildOptions): ArrayParams & { note: string } {
  const sized = opts.rows !== undefined && opts.cols !== undefined ? null : boardArray(board);
  const rows = opts.rows ?? sized!.rows;
  const cols = opts.cols ?? sized!.cols;
  for (const [k, v] of [['rows', rows], ['cols', cols]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 256) throw new BitweaveError(`--${k} must be an integer in 1..256, got ${v}`);
  }
  const problem = arrayGeometryProblem({ rows, cols });
  if (problem) throw new BitweaveError(`board ${board.name}: ${problem}`);
  if (board.defaultArray.word !== 64) throw new BitweaveError(`board ${board.name}: array word ${board.defaultArray.word} is not supported (64 only)`);
  const given = opts.rows !== undefined ? 'rows' : opts.cols !== undefined ? 'cols' : null;
  const note = !sized ? 'given on the command line' : given ? `${given} given on the command line, the other from ${sized.note}` : sized.note;
  return { ...DEFAULT_ARRAY, rows, cols, note };
}

/**
 * Encode every device segment for the array, as a build with `maxOutBits` output bits runs
 * them (cut before zero-padded convs where needed, host/array/zero-pad.ts): refuses models the
 * array cannot run.
 */
export function summariseSegments(model: CompiledModel, array: ArrayParams, maxOutBits = MAX_BITS): SegmentSummary[] {
  const out: SegmentSummary[] = [];
  const target = targetModel(model, maxOutBits);
  target.segments.forEach((s, i) => {
    if (s.kind !== 'device') return;
    const p = encodeSegment(target, i, array);
    out.push({
      segment: i,
      layers: p.layers,
      weightBytes: p.weights.byteLength,
      paramEntries: p.params.length,
      arenaWordsPerImage: p.arenaWords,
      binaryMacsPerImage: p.macsPerImage,
    });
  });
  if (out.length === 0) throw new BitweaveError(`model '${model.name}' has no binary layers for the array (nothing to build)`);
  return out;
}

/**
 * The kernel blocks (opencl-kernels/, or BITWEAVE_KERNELS_DIR), the header generated for
 * `array`, and a top file that includes them in the order the compiler must see them:
 * the sources the opencl backend concatenates at run time, kept as separate files.
 */
export function kernelFiles(array: ArrayParams): { files: ProjectFiles; top: string } {
  const dir = kernelDir();
  const out: ProjectFiles = new Map();
  for (const f of KERNEL_FILES) {
    try {
      out.set(`kernels/${f}`, fs.readFileSync(path.join(dir, f), 'utf8'));
    } catch (e) {
      throw new BitweaveError(`cannot read kernel source ${path.join(dir, f)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  out.set('kernels/bitweave_array.h', arrayHeaderC(array));
  const top = `kernels/${KERNEL_NAME}.cl`;
  out.set(
    top,
    [
      `/* Generated by bitweave compile: the array kernels (feeder, PE array, output units) for a ${array.rows} x ${array.cols} array;`,
      ' * with -DBW_INTEL_FPGA=1 (aoc) their streams are channels, without it FIFO buffers (PoCL). */',
      '#include "bitweave_array.h"',
      ...KERNEL_FILES.map((f) => `#include "${f}"`),
      '',
    ].join('\n'),
  );
  return { files: out, top };
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const MANIFEST = 'bitweave-build.json';

/**
 * Write `files` to `outDir` as one step: into a sibling temp directory, then renamed.
 * An existing directory is replaced only with `force` and only if bitweave wrote it.
 */
export function writeProject(outDir: string, files: ProjectFiles, manifest: object, force: boolean): EmittedFile[] {
  // symbolic links followed; a file, device or pseudo file system refused; parents made without looping
  const dir = prepareOutputDir(outDir);
  if (fs.existsSync(dir)) {
    const st = fs.statSync(dir);
    if (!st.isDirectory()) throw new BitweaveError(`output ${outDir} exists and is not a directory`);
    const entries = fs.readdirSync(dir);
    if (entries.length > 0) {
      if (!entries.includes(MANIFEST)) throw new BitweaveError(`output ${outDir} is a non-empty directory bitweave did not write; choose another -o`);
      if (!force) throw new BitweaveError(`output ${outDir} holds an earlier build; pass --force to replace it`);
    }
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  const emitted: EmittedFile[] = [];
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    for (const [rel, data] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
      const f = path.join(tmp, rel);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, data);
      if (rel.endsWith('.sh')) fs.chmodSync(f, 0o755);
      emitted.push({ path: rel, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, sha256: sha256(data) });
    }
    fs.writeFileSync(path.join(tmp, MANIFEST), JSON.stringify({ ...manifest, files: emitted }, null, 2) + '\n');
    if (fs.existsSync(dir)) fs.rmSync(dir, { recursive: true });
    fs.renameSync(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (e instanceof BitweaveError) throw e;
    throw new BitweaveError(`cannot write ${outDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return emitted;
}

export function manifestName(): string {
  return MANIFEST;
}

/** The layer programs of a build as a Markdown table (for the build's README). */
export function segmentTable(segments: SegmentSummary[]): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return [
    '| device segment | layers | weight bytes | arena words per image | binary MACs per image |',
    '|---|---|---|---|---|',
    ...segments.map((s) => `| ${s.segment} | ${s.layers} | ${n(s.weightBytes)} | ${n(s.arenaWordsPerImage)} | ${n(s.binaryMacsPerImage)} |`),
  ].join('\n');
}
