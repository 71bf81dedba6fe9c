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
import { BitweaveError } from '../core/errors';
import { CompiledModel } from '../compile/model';
import { arrayHeaderC } from '../array/header';
import { ArrayParams, DEFAULT_ARRAY } from '../array/params';
import { encodeSegment } from '../array/program';

/** Package root: dist/host/build -> three levels up. */
const ROOT = path.resolve(__dirname, '../../..');

export function kernelsDir(): string {
  return process.env.BITWEAVE_KERNELS_DIR ?? path.join(ROOT, 'opencl-kernels');
}

/** The name of the one kernel every bitstream exposes (host/opencl backend and hls/ agree). */
export const KERNEL_NAME = 'bitweave_array';

export interface BoardBuildOptions {
  /** Override the board's default array geometry. */
  rows?: number;
  cols?: number;
  /** Replace an existing bitweave build directory (never a directory bitweave did not write). */
  force?: boolean;
  /** Command line that produced the build, recorded in the manifest. */
  commandLine?: string;
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
  kernel: string;
  files: EmittedFile[];
  segments: SegmentSummary[];
  /** Named shell commands of the flow (e.g. emulator, report, hardware, program). */
  commands: Record<string, string>;
}

/** One file of a build directory, relative path -> contents. */
export type ProjectFiles = Map<string, string | Uint8Array>;

export function arrayFor(board: Board, opts: BoardBuildOptions): ArrayParams {
  const rows = opts.rows ?? board.defaultArray.rows;
  const cols = opts.cols ?? board.defaultArray.cols;
  for (const [k, v] of [['rows', rows], ['cols', cols]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 256) throw new BitweaveError(`--${k} must be an integer in 1..256, got ${v}`);
  }
  if (board.defaultArray.word !== 64) throw new BitweaveError(`board ${board.name}: array word ${board.defaultArray.word} is not supported (64 only)`);
  return { ...DEFAULT_ARRAY, rows, cols };
}

/** Encode every device segment for the array: refuses models the array cannot run. */
export function summariseSegments(model: CompiledModel, array: ArrayParams): SegmentSummary[] {
  const out: SegmentSummary[] = [];
  model.segments.forEach((s, i) => {
    if (s.kind !== 'device') return;
    const p = encodeSegment(model, i, array);
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
 * The kernel sources (every .cl and .h under opencl-kernels/, relative paths kept) and
 * the top file: the one that defines the `bitweave_array` kernel.
 */
export function kernelSources(): { files: Map<string, string>; top: string } {
  const dir = kernelsDir();
  if (!fs.existsSync(dir)) throw new BitweaveError(`kernel sources not found: ${dir} is missing`);
  const files = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (/\.(cl|h)$/.test(e.name)) files.set(r, fs.readFileSync(path.join(dir, r), 'utf8'));
    }
  };
  walk('');
  const kernelRe = new RegExp(`(__kernel|\\bkernel)\\s+void\\s+${KERNEL_NAME}\\s*\\(`);
  const tops = [...files].filter(([f, src]) => f.endsWith('.cl') && kernelRe.test(src)).map(([f]) => f);
  if (tops.length !== 1) {
    throw new BitweaveError(`kernel sources in ${dir}: expected one .cl file defining kernel ${KERNEL_NAME}, found ${tops.length}`);
  }
  return { files, top: tops[0] };
}

/** Kernel sources plus the generated header, under `kernels/`. */
export function kernelFiles(array: ArrayParams): { files: ProjectFiles; top: string } {
  const { files, top } = kernelSources();
  const out: ProjectFiles = new Map();
  for (const [f, src] of files) out.set(`kernels/${f}`, src);
  out.set('kernels/bitweave_array.h', arrayHeaderC(array));
  return { files: out, top: `kernels/${top}` };
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
  const dir = path.resolve(outDir);
  if (fs.existsSync(dir)) {
    const st = fs.statSync(dir);
    if (!st.isDirectory()) throw new BitweaveError(`output ${outDir} exists and is not a directory`);
    const entries = fs.readdirSync(dir);
    if (entries.length > 0) {
      if (!entries.includes(MANIFEST)) throw new BitweaveError(`output ${outDir} is a non-empty directory bitweave did not write; choose another -o`);
      if (!force) throw new BitweaveError(`output ${outDir} holds an earlier build; pass --force to replace it`);
    }
  }
  const parent = path.dirname(dir);
  try {
    fs.mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw new BitweaveError(`cannot create ${parent}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
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
