/** `bitweave export-onnx <model> -o float.onnx`: the float network a binary model computes. */
import { Argv, CommandModule } from 'yargs';
import { checkOutputFile, writeFileAtomic } from '../core/files';
import { exportOnnxModel, ONNX_OPSET } from '../export/onnx';
import { loadNamedModel } from '../zoo/models';
import { modelInputFiles } from '../runtime/load';
import { parseShape } from './options';

interface Args {
  model: string;
  output: string;
  json: boolean;
  params?: string;
  'input-shape'?: string;
  seed?: number;
}


export const exportOnnxCommand: CommandModule<object, Args> = {
  command: 'export-onnx <model>',
  describe: `write the float network a binary model computes as ONNX (opset ${ONNX_OPSET}); model: .bnn, BMXNet symbol, resnet18-cifar[-aK] or bmxnet-mnist`,
  builder: (y: Argv) =>
    y
      .positional('model', { type: 'string', demandOption: true, describe: '.bnn file, BMXNet <prefix>-symbol.json, or a zoo name' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'output .onnx file' })
      .option('params', { type: 'string', describe: 'BMXNet .params file (default: <prefix>-NNNN.params beside the symbol)' })
      .option('input-shape', { type: 'string', describe: 'BMXNet input shape C,H,W (default 1,28,28)' })
      .option('seed', { type: 'number', describe: 'weight seed of zoo models (default 1)' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }) as unknown as Argv<Args>,
  handler: async (a) => {
    const outputOpts = { inputs: modelInputFiles(a.model, a.params) };
    checkOutputFile(a.output, outputOpts); // before any work
    const model = await loadNamedModel(a.model, { params: a.params, inputShape: parseShape(a['input-shape']), seed: a.seed });
    const ex = exportOnnxModel(model);
    writeFileAtomic(a.output, ex.bytes, outputOpts);
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
