/**
 * `bitweave project <model> [--board b] [--batch N] [--json]`: projected FPGA throughput
 * of a model's device layers on each board with a fixed kernel clock, from the RTL cycle
 * model (host/array/cycles.ts) at the board's default array size. Dev boards: at the
 * post-route clock of `make bitstream` when its report says timing passed, and no faster
 * than the UART link moves each image's inputs and outputs. A projection, not a
 * measurement: no host layers, no memory stalls.
 */
import { CommandModule } from 'yargs';
import { Board, listBoards, loadBoard } from '../boards';
import { MAX_BATCH, MAX_BITS } from '../array/limits';
import { BitweaveError } from '../core/errors';
import { CompiledModel } from '../compile/model';
import { programCycles } from '../array/cycles';
import { projectThroughput } from '../build/projection';
import { boardArray } from '../build/sizing';
import { ArrayParams, DEFAULT_ARRAY } from '../array/params';
import { encodeSegment, LayerProgram } from '../array/program';
import { SOC_BUILD } from '../array/limits';
import { AXI_BUILD } from '../array/axi-kernel';
import { targetModel } from '../array/zero-pad';
import { AxiProjection, axiProjection } from '../build/axi-projection';
import { ZynqProjection, zynqProjection } from '../build/zynq';
import { axiLibrary } from '../backends/axi-sim/ffi';
import { libraryPath } from '../core/native-lib';
import { linkBytesPerImage } from '../board/layout';
import { bitstreamDir, BitstreamReport } from '../build/open-flow';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadNamedModel } from '../zoo/models';
import { intOption, modelLoadOptions, modelOptions, stringOption } from './options';

export interface BoardProjection {
  board: string;
  array: { rows: number; cols: number; word: number };
  batch: number;
  cyclesPerImage: number;
  /** MAC-weighted PE utilisation over the device layers. */
  utilization: number;
  clockMHz: number | null;
  /** Where the clock comes from: the board file's target, or the post-route clock of make bitstream's report. */
  clockSource: 'board' | 'post-route';
  /** The array's rate alone (clock / cycles per image); null without a fixed clock. */
  computeImagesPerSecond: number | null;
  /** Dev boards: bytes per image over the UART link and the rate the link allows. */
  link: { baud: number; bytesPerImage: number; imagesPerSecond: number } | null;
  /** The projection: the lower of the array's and the link's rate (null where the board has no fixed kernel clock). */
  imagesPerSecond: number | null;
  /** Vitis boards: the RTL kernel simulated behind its AXI interfaces with the board's DDR figures (null where not simulated). */
  axi: AxiProjection | null;
  /** Why a Vitis board's projection is the array's alone. */
  axiNote?: string;
  /** Zynq boards: the cycle model with the kernel's DDR traffic at the board's HP-port figures. */
  zynq?: ZynqProjection;
  /** What limits it: the array alone, the UART link, or the kernel with its DDR traffic. */
  bound: 'array' | 'link' | 'kernel' | null;
  projected: true;
}

/** The clock make bitstream placed and routed at (when its report is of this array and says timing passed). */
function postRouteMHz(board: Board, rows: number, cols: number): number | null {
  if (!board.flow) return null;
  try {
    const r = JSON.parse(fs.readFileSync(path.join(bitstreamDir(board), 'report.json'), 'utf8')) as BitstreamReport;
    const same = r.board === board.name && r.array?.rows === rows && r.array?.cols === cols;
    return same && r.timing?.pass && r.clock?.clockMHz > 0 ? r.clock.clockMHz : null;
  } catch {
    return null;
  }
}

export function projectModel(source: CompiledModel, board: Board, batch: number, linkBaud?: number): BoardProjection {
  const { rows, cols } = boardArray(board);
  // a dev board runs the SoC's build of the array and a Vitis board the RTL kernel's (one column drained per cycle)
  const build = board.link ? SOC_BUILD : board.toolchain.name === 'vitis' || board.toolchain.name === 'vivado' ? AXI_BUILD : undefined;
  const array: ArrayParams = { ...DEFAULT_ARRAY, rows, cols, ...(build ? { drain: build.drain } : {}) };
  // its device segments as the host runs them there (cut before zero-padded convs on 1-bit outputs)
  const model = targetModel(source, build?.maxOutBits ?? MAX_BITS);
  let cycles = 0;
  let macs = 0;
  let pes = 0;
  const progs: LayerProgram[] = [];
  model.segments.forEach((s, i) => {
    if (s.kind !== 'device') return;
    const prog = encodeSegment(model, i, array);
    progs.push(prog);
    for (const l of programCycles(prog, batch, array)) {
      cycles += l.cycles;
      macs += l.macs;
      pes += array.rows * array.cols * array.word * l.cycles;
    }
  });
  if (cycles === 0) throw new BitweaveError(`model '${model.name}' has no binary layers to project`);
  const perImage = cycles / batch;
  const routed = postRouteMHz(board, array.rows, array.cols);
  const clock = routed ?? board.clock.kernelMHz;
  const compute = clock === null ? null : projectThroughput(board, perImage, clock).imagesPerSecond;
  let link: BoardProjection['link'] = null;
  if (board.link) {
    const bytesPerImage = linkBytesPerImage(progs);
    const baud = linkBaud ?? board.link.baud;
    link = { baud, bytesPerImage, imagesPerSecond: baud / 10 / bytesPerImage };
  }
  const ips = compute === null ? null : link ? Math.min(compute, link.imagesPerSecond) : compute;
  return {
    board: board.name,
    array: { rows: array.rows, cols: array.cols, word: array.word },
    batch,
    cyclesPerImage: perImage,
    utilization: macs / pes,
    clockMHz: clock,
    clockSource: routed !== null ? 'post-route' : 'board',
    computeImagesPerSecond: compute,
    link,
    imagesPerSecond: ips,
    axi: null,
    bound: ips === null ? null : link && link.imagesPerSecond < compute! ? 'link' : 'array',
    projected: true,
  };
}

/**
 * projectModel, and on a Vitis board with DDR figures the RTL kernel behind AXI simulated
 * (array + DDR cycles) when its model is built for the board's array; otherwise the array
 * alone, with a note saying how to build it.
 */
export async function projectModelWithMemory(model: CompiledModel, board: Board, batch: number, linkBaud?: number): Promise<BoardProjection> {
  const p = projectModel(model, board, batch, linkBaud);
  if (board.toolchain.name === 'vivado' && board.memory.axi && p.clockMHz !== null) {
    const z = zynqProjection(model, board, batch, p.array);
    return { ...p, zynq: z, cyclesPerImage: z.kernelCyclesPerImage, imagesPerSecond: z.imagesPerSecond, bound: 'kernel' };
  }
  if (board.toolchain.name !== 'vitis' || !board.memory.axi || p.clockMHz === null) return p;
  const { rows, cols } = p.array;
  if (!fs.existsSync(libraryPath(axiLibrary({ rows, cols })))) {
    return { ...p, axiNote: `the array alone: the AXI kernel model for ${rows}x${cols} is not built (make axi-variant ROWS=${rows} COLS=${cols})` };
  }
  const axi = await axiProjection(model, board, batch);
  const ips = (p.clockMHz * 1e6) / axi.kernelCyclesPerImage;
  return { ...p, axi, cyclesPerImage: axi.kernelCyclesPerImage, imagesPerSecond: ips, bound: 'kernel' };
}

interface Args {
  model: string;
  board?: string;
  batch: number;
  'link-baud'?: number;
  json: boolean;
}

export const projectCommand: CommandModule<object, Args> = {
  command: 'project <model>',
  describe: 'projected FPGA images/s per board from the RTL cycle model (not a measurement)',
  builder: (y) =>
    modelOptions(y)
      .positional('model', { type: 'string', demandOption: true, describe: '.bnn file, QONNX .onnx, BMXNet <prefix>-symbol.json, or a zoo name' })
      .option(...stringOption('board', 'one board (default: every FPGA board)'))
      .option(...intOption('batch', 'images per launch', 1, 65536, { default: 64 }))
      .option(...intOption('link-baud', 'dev boards: the UART rate the link would run at (the board backend\'s --link-baud; default the board\'s)', 1, 100_000_000))
      .option('json', { type: 'boolean', default: false, describe: 'one JSON row per board' }) as never,
  handler: async (a) => {
    if (!Number.isInteger(a.batch) || a.batch < 1 || a.batch > MAX_BATCH) throw new BitweaveError(`--batch must be an integer in 1..${MAX_BATCH}, got ${a.batch}`);
    const boards = a.board ? [loadBoard(a.board)] : listBoards().filter((b) => b.kind === 'fpga');
    const model = await loadNamedModel(a.model, modelLoadOptions(a as unknown as Record<string, unknown>));
    // the iCE40 flow builds a PE self-test: the whole array does not fit there (README)
    const skipped = a.board ? [] : boards.filter((b) => b.toolchain.name === 'icestorm');
    const rows: BoardProjection[] = [];
    for (const b of boards.filter((x) => !skipped.includes(x))) rows.push(await projectModelWithMemory(model, b, a.batch, b.link ? a['link-baud'] : undefined));
    if (a.json) {
      process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      return;
    }
    const lines = rows.map((r) => {
      const arr = `${r.array.rows}x${r.array.cols}`;
      const util = `${(100 * r.utilization).toFixed(1)}% PE utilisation`;
      const cyc = `${Math.round(r.cyclesPerImage).toLocaleString('en-US')} cycles/image`;
      const why = boards.find((b) => b.name === r.board)!.kind === 'emulator' ? 'a software emulator' : 'no fixed kernel clock (aoc sets it at compile time)';
      const n = (x: number) => Math.round(x).toLocaleString('en-US');
      const clock = `${r.clockMHz} MHz${r.clockSource === 'post-route' ? ' (post-route)' : ''}`;
      const axi = r.axi
        ? `; the RTL kernel with ${r.board}'s DDR figures (AXI simulation): ${n(r.axi.kernelCyclesPerImage)} cycles/image, the array busy ${n(r.axi.arrayCyclesPerImage)} of them; ${(100 * r.axi.arrayOnlyCyclesPerImage / r.axi.kernelCyclesPerImage).toFixed(1)}% of the array-only rate (${n(r.axi.arrayOnlyCyclesPerImage)} cycles/image, ${n(r.computeImagesPerSecond!)} images/s)`
        : r.axiNote ? `; ${r.axiNote}` : '';
      const zynq = r.zynq
        ? `; the array alone ${n(r.zynq.arrayCyclesPerImage)} cycles/image (${n(r.zynq.arrayImagesPerSecond)} images/s), with ${n(r.zynq.bytesPerImage)} bytes/image over the HP ports at ${r.zynq.memory.bytesPerCycle.toFixed(1)} B/cycle (${r.board}'s assumed DDR figures)${r.zynq.fits ? `, ${r.zynq.imagesPerCall} images per call` : `; the ${r.board} build as emitted cannot run it: ${r.zynq.fitNote}`}`
        : '';
      const link = r.link ? `; the ${r.link.baud.toLocaleString('en-US')}-baud link moves ${n(r.link.bytesPerImage)} bytes/image: ${r.link.imagesPerSecond.toFixed(1)} images/s, the array alone ${n(r.computeImagesPerSecond!)}` : '';
      return r.imagesPerSecond === null
        ? `${r.board}: ${arr} array, ${cyc}, ${util}; ${why}, no projection`
        : `${r.board}: projected ${r.imagesPerSecond < 100 ? r.imagesPerSecond.toFixed(1) : n(r.imagesPerSecond)} images/s at ${clock}${r.bound === 'link' ? ', bound by the link' : ''} (${arr} array, ${cyc}, ${util}${link}${axi}${zynq})`;
    });
    for (const b of skipped) lines.push(`${b.name}: not projected (its bitstream is a PE-array self-test; the whole array does not fit the part)`);
    lines.push('projected from the RTL cycle model and, on Vitis boards, the RTL kernel simulated behind its AXI interfaces with assumed DDR figures (on Zynq boards, the kernel\'s DDR traffic estimated at assumed HP-port figures; device layers only, no host layers or PCIe transfers); not measured on an FPGA');
    process.stdout.write(lines.join('\n') + '\n');
  },
};
