/** `bitweave compile <model> --board <name> -o <dir>`: a build directory for a board. */
import { Argv, CommandModule } from 'yargs';
import { loadBoard } from '../boards';
import { compileForBoard } from '../build/compile-board';
import { loadNamedModel } from '../zoo/models';
import { intOption, modelLoadOptions, modelOptions, stringOption } from './options';

interface Args {
  model: string;
  board: string;
  output: string;
  rows?: number;
  cols?: number;
  force: boolean;
  json: boolean;
  kernel?: string;
}

export const compileCommand: CommandModule<object, Args> = {
  command: 'compile <model>',
  describe: 'emit a complete build directory for a board (kernel sources, generated header, vendor commands, README)',
  builder: (y: Argv) =>
    modelOptions(y)
      .positional('model', { type: 'string', demandOption: true, describe: '.bnn file, QONNX .onnx, BMXNet <prefix>-symbol.json, or a zoo name' })
      .option(...stringOption('board', "target board (see 'bitweave boards')", { demandOption: true }))
      .option(...stringOption('output', 'build directory to create', { alias: 'o', demandOption: true }))
      .option(...intOption('rows', "PE rows (default: the board's array)", 1, 4096))
      .option(...intOption('cols', "PE columns (default: the board's array)", 1, 4096))
      .option(...stringOption('kernel', "Vitis boards: 'rtl' (the RTL array as an RTL kernel, default) or 'hls' (the HLS kernel)"))
      .option('force', { type: 'boolean', default: false, describe: 'replace an earlier build in the output directory' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }) as unknown as Argv<Args>,
  handler: async (a) => {
    const board = loadBoard(a.board);
    const model = await loadNamedModel(a.model, modelLoadOptions(a as unknown as Record<string, unknown>));
    const r = compileForBoard(model, board, a.output, {
      rows: a.rows,
      cols: a.cols,
      force: a.force,
      kernel: a.kernel,
      commandLine: `bitweave compile ${a.model} --board ${a.board}${a.kernel ? ` --kernel ${a.kernel}` : ''}${a.rows ? ` --rows ${a.rows}` : ''}${a.cols ? ` --cols ${a.cols}` : ''}`,
    });
    if (a.json) {
      process.stdout.write(JSON.stringify(r) + '\n');
      return;
    }
    const lines = [
      `wrote ${a.output}: ${r.files.length} files for ${r.board} (${r.toolchain}), array ${r.array.rows}x${r.array.cols}x${r.array.word}, kernel ${r.kernel}`,
      `  array: ${r.arrayNote}`,
      ...r.segments.map((s) => `  device segment ${s.segment}: ${s.layers} layers, ${s.weightBytes} weight bytes, ${s.binaryMacsPerImage} binary MACs per image`),
      'next steps (see README.md there):',
      ...Object.values(r.commands).map((c) => `  ${c}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  },
};
