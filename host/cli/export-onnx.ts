/** `bitweave export-onnx <model> -o float.onnx`: the float network a binary model computes. */
import * as fs from 'node:fs';
import { Argv, CommandModule } from 'yargs';
import { FormatError } from '../core/errors';
import { exportOnnxModel, ONNX_OPSET } from '../export/onnx';
import { loadNamedModel } from '../zoo/models';
import { intOption, modelLoadOptions, modelOptions, stringOption } from './options';

interface Args {
  model: string;
  output: string;
  json: boolean;
  seed?: number;
}


/** Write through a temp file so a failed export never leaves half a model behind. */
function writeAtomic(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new FormatError(file, `cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export const exportOnnxCommand: CommandModule<object, Args> = {
  command: 'export-onnx <model>',
  describe: `write the float network a binary model computes as ONNX (opset ${ONNX_OPSET}); model: .bnn, BMXNet symbol, resnet18-cifar[-aK] or bmxnet-mnist`,
  builder: (y: Argv) =>
    modelOptions(y)
      .positional('model', { type: 'string', demandOption: true, describe: '.bnn file, BMXNet <prefix>-symbol.json, or a zoo name' })
      .option(...stringOption('output', 'output .onnx file', { alias: 'o', demandOption: true }))
      .option(...intOption('seed', 'weight seed of zoo models (default 1)', 0, 0xffffffff))
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }) as unknown as Argv<Args>,
  handler: async (a) => {
    const model = await loadNamedModel(a.model, { ...modelLoadOptions(a as unknown as Record<string, unknown>), seed: a.seed });
    const ex = exportOnnxModel(model);
    writeAtomic(a.output, ex.bytes);
    const summary = {
      output: a.output, bytes: ex.bytes.length, opset: ex.opset, input: ex.input, logits: ex.output,
      nodes: Object.values(ex.ops).reduce((s, n) => s + n, 0), ops: ex.ops, initializers: ex.initializers, parameters: ex.parameters,
    };
    process.stdout.write(
      a.json
        ? JSON.stringify(summary) + '\n'
        : `wrote ${a.output} (${ex.bytes.length} bytes, opset ${ex.opset}, ${summary.nodes} nodes: ` +
            `${Object.entries(ex.ops).map(([k, v]) => `${k} ${v}`).join(', ')}; input ${ex.input.name} [N,${ex.input.shape.join(',')}], output ${ex.output.name} [N,${ex.output.classes}])\n`,
    );
  },
};
