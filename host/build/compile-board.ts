/**
 * `bitweave compile <model> --board <name> -o <dir>`: one self-describing build directory
 * per board, by toolchain. Every flow starts from the same checked layer programs and the
 * same kernel sources plus generated header; only the vendor steps differ.
 */
import * as path from 'node:path';
import { Board } from '../boards';
import { BitweaveError } from '../core/errors';
import { CompiledModel } from '../compile/model';
import { emitIntelProject } from './intel';
import { emitPoclProject } from './pocl';
import { emitVitisProject, vitisKernel } from './vitis';
import { emitZynqProject } from './zynq';
import * as fs from 'node:fs';
import { ARRAY_KERNELS } from '../array/kernel-abi';
import { AXI_BUILD } from '../array/axi-kernel';
import { MAX_BITS } from '../array/limits';
import { arrayFor, BoardBuildOptions, BoardBuildResult, EmittedFile, manifestName, KERNEL_NAME, kernelFiles, summariseSegments, writeProject } from './project';

function readManifestFiles(outDir: string): EmittedFile[] {
  return (JSON.parse(fs.readFileSync(path.join(outDir, manifestName()), 'utf8')) as { files: EmittedFile[] }).files;
}

/** A file name for the model inside the build directory. */
function modelFileName(model: CompiledModel): string {
  const base = model.name.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[._]+/, '') || 'model';
  return `model/${base}.bnn`;
}

export function compileForBoard(model: CompiledModel, board: Board, outDir: string, opts: BoardBuildOptions = {}): BoardBuildResult {
  if (board.toolchain.name === 'vitis') {
    // the HLS kernel (hls/) instead of the OpenCL C one; same checks, same atomic write
    const kernel = vitisKernel(opts.kernel);
    const { note, ...array } = arrayFor(board, opts);
    const segments = summariseSegments(model, array, kernel === 'rtl' ? AXI_BUILD.maxOutBits : MAX_BITS);
    const p = emitVitisProject(model, board, outDir, { array, arrayNote: note, force: opts.force, kernel });
    const f1 = board.name === 'aws-f1';
    return {
      board: board.name,
      toolchain: board.toolchain.name,
      outDir: path.resolve(outDir),
      array: p.array,
      arrayNote: note,
      kernel: kernel === 'rtl' ? 'rtl (package_xo.tcl, kernel.xml)' : 'hls (kernel/bitweave_array.cpp)',
      files: readManifestFiles(outDir),
      segments,
      commands: {
        ...(kernel === 'rtl' ? { xo: 'make xo                  # vivado -mode batch -source package_xo.tcl' } : { swEmu: 'make TARGET=sw_emu run   # software emulation' }),
        hwEmu: 'make TARGET=hw_emu run   # hardware emulation (slow)',
        hw: 'make TARGET=hw xclbin     # synthesis and implementation (hours)',
        ...(f1 ? { afi: 'make TARGET=hw afi S3_BUCKET=<bucket> && make afi-wait   # .awsxclbin' } : { run: 'make TARGET=hw run' }),
      },
    };
  }
  if (board.toolchain.name === 'vivado') return emitZynqProject(model, board, outDir, opts);
  if (opts.kernel !== undefined) throw new BitweaveError(`--kernel applies to Vitis boards (aws-f1, alveo-*); ${board.name} uses ${board.toolchain.name}`);
  const { note, ...array } = arrayFor(board, opts);
  const segments = summariseSegments(model, array);
  const kernels = kernelFiles(array);
  const modelFile = modelFileName(model);
  let project: { files: Map<string, string | Uint8Array>; commands: Record<string, string> };
  switch (board.toolchain.name) {
    case 'intel-fpga-sdk-opencl':
      project = emitIntelProject({ model, board, array, kernels, segments, modelFile });
      break;
    case 'pocl':
      project = emitPoclProject({ model, board, array, kernels, segments, modelFile });
      break;
    default:
      throw new BitweaveError(`board ${board.name}: the ${board.toolchain.name} flow is not available in this build`);
  }
  const manifest = {
    generator: 'bitweave compile',
    commandLine: opts.commandLine ?? null,
    board: board.name,
    title: board.title,
    toolchain: board.toolchain,
    platform: board.platform,
    array,
    arrayNote: note,
    // No `kernel` key: the opencl backend reads `kernel` as a Vitis project's 'rtl' | 'hls' and
    // takes its absence as the fixed ABI (host/array/kernel-abi.ts) these OpenCL C kernels have.
    kernelSources: { name: KERNEL_NAME, top: kernels.top, header: 'kernels/bitweave_array.h', kernels: Object.values(ARRAY_KERNELS).map((k) => k.name) },
    // the board file's OpenCL device: BITWEAVE_OPENCL_BUILD selects it rather than the first device listed
    opencl: board.opencl,
    model: { name: model.name, file: modelFile, source: model.source },
    segments,
    commands: project.commands,
  };
  const files = writeProject(outDir, project.files, manifest, opts.force ?? false);
  return {
    board: board.name,
    toolchain: board.toolchain.name,
    outDir: path.resolve(outDir),
    array,
    arrayNote: note,
    kernel: kernels.top,
    files,
    segments,
    commands: project.commands,
  };
}
