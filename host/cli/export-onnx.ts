/** `bitweave export-onnx <model> -o float.onnx`: the float network a binary model computes. */
import { Argv, CommandModule } from 'yargs';
import { checkOutputFile, writeFileAtomic } from '../core/files';
import { exportOnnxModel, ONNX_OPSET } from '../export/onnx';
import { loadNamedModel } from '../zoo/models';
import { modelInputFiles } from '../runtime/load';
import { intOption, modelLoadOptions, modelOptions, stringOption } from './options';

interface Args {
  model: string;
  output: string;
  json: boolean;
  seed?: number;
}


export const exportOnnxCommand: CommandModule<object, Args> = {
  command: 'export-onnx <model>',
  describe: `write the float network a binary model computes as ONNX (opset ${ONNX_OPSET}); model: .bnn, BMXNet symbol, QONNX .onnx or a zoo name (resnet18-cifar|imagenet[-aK], bmxnet-mnist, …)`,
  builder: (y: Argv) =>
    modelOptions(y)
      .positional('model', { type: 'string', demandOption: true, describe: '.bnn file, QONNX .onnx, BMXNet <prefix>-symbol.json, or a zoo name' })
      .option(...stringOption('output', 'output .onnx file', { alias: 'o', demandOption: true }))
      .option(...intOption('seed', 'weight seed of zoo models (default 1)', 0, 0xffffffff))
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }) as unknown as Argv<Args>,
  handler: async (a) => {
    const outputOpts = { inputs: modelInputFiles(a.model, a.params as string | undefined) };
    checkOutputFile(a.output, outputOpts); // before any work
    const model = await loadNamedModel(a.model, { ...modelLoadOptions(a as unknown as Record<string, unknown>), seed: a.seed });
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
