/**
 * `bitweave project <model> [--board b] [--batch N] [--json]`: projected FPGA throughput
 * of a model's device layers on each board with a fixed kernel clock, from the RTL cycle
 * model (host/array/cycles.ts) at the board's default array size. A projection, not a
 * measurement: no host layers, transfers, memory stalls or achieved clock.
 */
import { CommandModule } from 'yargs';
import { Board, listBoards, loadBoard } from '../boards';
import { MAX_BATCH } from '../array/limits';
import { BitweaveError } from '../core/errors';
import { CompiledModel } from '../compile/model';
import { programCycles } from '../array/cycles';
import { projectThroughput } from '../build/projection';
import { boardArray } from '../build/sizing';
import { ArrayParams, DEFAULT_ARRAY } from '../array/params';
import { encodeSegment } from '../array/program';
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
  /** null where the board has no fixed kernel clock (Intel boards, emulators). */
  imagesPerSecond: number | null;
  projected: true;
}

export function projectModel(model: CompiledModel, board: Board, batch: number): BoardProjection {
  const { rows, cols } = boardArray(board);
  const array: ArrayParams = { ...DEFAULT_ARRAY, rows, cols };
  let cycles = 0;
  let macs = 0;
  let pes = 0;
  model.segments.forEach((s, i) => {
    if (s.kind !== 'device') return;
    for (const l of programCycles(encodeSegment(model, i, array), batch, array)) {
      cycles += l.cycles;
      macs += l.macs;
      pes += array.rows * array.cols * array.word * l.cycles;
    }
  });
  if (cycles === 0) throw new BitweaveError(`model '${model.name}' has no binary layers to project`);
  const perImage = cycles / batch;
  const clock = board.clock.kernelMHz;
  return {
    board: board.name,
    array: { rows: array.rows, cols: array.cols, word: array.word },
    batch,
    cyclesPerImage: perImage,
    utilization: macs / pes,
    clockMHz: clock,
    imagesPerSecond: clock === null ? null : projectThroughput(board, perImage, clock).imagesPerSecond,
    projected: true,
  };
}

interface Args {
  model: string;
  board?: string;
  batch: number;
  json: boolean;
}

export const projectCommand: CommandModule<object, Args> = {
  command: 'project <model>',
  describe: 'projected FPGA images/s per board from the RTL cycle model (not a measurement)',
  builder: (y) =>
    modelOptions(y)
      .positional('model', { type: 'string', demandOption: true, describe: '.bnn file, BMXNet <prefix>-symbol.json, or a zoo name' })
      .option(...stringOption('board', 'one board (default: every FPGA board)'))
      .option(...intOption('batch', 'images per launch', 1, 65536, { default: 64 }))
      .option('json', { type: 'boolean', default: false, describe: 'one JSON row per board' }) as never,
  handler: async (a) => {
    if (!Number.isInteger(a.batch) || a.batch < 1 || a.batch > MAX_BATCH) throw new BitweaveError(`--batch must be an integer in 1..${MAX_BATCH}, got ${a.batch}`);
    const boards = a.board ? [loadBoard(a.board)] : listBoards().filter((b) => b.kind === 'fpga');
    const model = await loadNamedModel(a.model, modelLoadOptions(a as unknown as Record<string, unknown>));
    // the iCE40 flow builds a PE self-test: the whole array does not fit there (README)
    const skipped = a.board ? [] : boards.filter((b) => b.toolchain.name === 'icestorm');
    const rows = boards.filter((b) => !skipped.includes(b)).map((b) => projectModel(model, b, a.batch));
    if (a.json) {
      process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      return;
    }
    const lines = rows.map((r) => {
      const arr = `${r.array.rows}x${r.array.cols}`;
      const util = `${(100 * r.utilization).toFixed(1)}% PE utilisation`;
      const cyc = `${Math.round(r.cyclesPerImage).toLocaleString('en-US')} cycles/image`;
      const why = boards.find((b) => b.name === r.board)!.kind === 'emulator' ? 'a software emulator' : 'no fixed kernel clock (aoc sets it at compile time)';
      return r.imagesPerSecond === null
        ? `${r.board}: ${arr} array, ${cyc}, ${util}; ${why}, no projection`
        : `${r.board}: projected ${Math.round(r.imagesPerSecond).toLocaleString('en-US')} images/s at ${r.clockMHz} MHz (${arr} array, ${cyc}, ${util})`;
    });
    for (const b of skipped) lines.push(`${b.name}: not projected (its bitstream is a PE-array self-test; the whole array does not fit the part)`);
    lines.push('projected from the RTL cycle model (device layers only, no host layers or transfers); not measured on an FPGA');
    process.stdout.write(lines.join('\n') + '\n');
  },
};
