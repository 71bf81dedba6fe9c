/** `bitweave bench model <model>`: a bitweave backend vs onnxruntime on the exported float network. */
import { Argv, CommandModule } from 'yargs';
import { BitweaveError } from '../core/errors';
import { benchModel, BenchModelResult } from '../bench/model';
import { availableBackends } from '../backends';
import { loadNamedModel } from '../zoo/models';
import { parseShape } from './options';

interface Args {
  model: string;
  backend: string;
  threads?: number;
  batches: string;
  runs: number;
  budget: number;
  seed?: number;
  params?: string;
  'input-shape'?: string;
  layers: boolean;
  json: boolean;
}

function parseList(s: string, what: string): number[] {
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.length === 0 || v.some((x) => !Number.isInteger(x) || x < 1 || x > 4096)) throw new BitweaveError(`${what} must be positive integers separated by commas, got '${s}'`);
  return v;
}


function text(r: BenchModelResult): string {
  const lines = [
    `model ${r.model} on ${r.machine.cpus} x ${r.machine.cpu}, node ${r.machine.node}, onnxruntime ${r.machine.onnxruntime}`,
    'engine        backend     batch  threads  runs  latency ms   images/s',
  ];
  for (const x of r.rows) {
    lines.push(`${x.engine.padEnd(12)}  ${x.backend.padEnd(10)}  ${String(x.batch).padStart(5)}  ${String(x.threads).padStart(7)}  ${String(x.runs).padStart(4)}  ${x.medianMs.toFixed(2).padStart(10)}  ${x.imagesPerSecond.toFixed(1).padStart(9)}`);
  }
  for (const q of r.ratios) {
    lines.push(`batch ${q.batch}: ${q.compare} = ${q.speedup.toFixed(2)}x (max |logit diff| ${q.maxAbsDiff.toExponential(2)}, top-1 agrees on ${q.top1Agree}/${q.batch})`);
  }
  for (const b of new Set(r.layers.map((l) => l.batch))) {
    const top = r.layers.filter((l) => l.batch === b);
    const total = top.reduce((a, l) => a + l.ms, 0);
    lines.push(`batch ${b}: ${top[0]?.backend ?? ''} time per op (ms per call, slowest first; host ${top.filter((l) => l.where === 'host').reduce((a, l) => a + l.ms, 0).toFixed(2)} of ${total.toFixed(2)})`);
    for (const l of top.slice(0, 10)) lines.push(`  ${String(l.op).padStart(3)}  ${l.layer.padEnd(28).slice(0, 28)}  ${l.where.padEnd(6)}  ${l.ms.toFixed(3).padStart(9)}`);
  }
  return lines.join('\n');
}

export const benchModelCommand: CommandModule<object, Args> = {
  command: 'model <model>',
  describe: 'images/s and latency at batch 1 and 64: a bitweave backend vs onnxruntime on the exported float network (model: file, resnet18-cifar[-aK] or bmxnet-mnist)',
  builder: (y: Argv) =>
    y
      .positional('model', { type: 'string', demandOption: true })
      .option('backend', { type: 'string', default: 'reference', choices: availableBackends(), describe: 'bitweave backend' })
      .option('threads', { type: 'number', describe: 'threads for both engines (default: all cores)' })
      .option('batches', { type: 'string', default: '1,64', describe: 'batch sizes, comma-separated' })
      .option('runs', { type: 'number', default: 5, describe: 'timed calls per engine and batch size (median reported)' })
      .option('budget', { type: 'number', default: 30, describe: 'seconds per batch size before stopping at 3 runs' })
      .option('seed', { type: 'number', describe: 'weight seed of zoo models (default 1)' })
      .option('params', { type: 'string', describe: 'BMXNet .params file' })
      .option('input-shape', { type: 'string', describe: 'BMXNet input shape C,H,W' })
      .option('layers', { type: 'boolean', default: false, describe: "also report the bitweave backend's time per op" })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON row per line' }) as unknown as Argv<Args>,
  handler: async (a) => {
    if (!(a.budget > 0)) throw new BitweaveError(`--budget must be a positive number of seconds, got ${a.budget}`);
    const model = await loadNamedModel(a.model, { params: a.params, inputShape: parseShape(a['input-shape']), seed: a.seed });
    const r = await benchModel(a.model, model, {
      backend: a.backend, threads: a.threads, batches: parseList(a.batches, '--batches'), runs: a.runs, budgetSeconds: a.budget, layers: a.layers,
    });
    if (a.json) {
      for (const row of [...r.rows, ...r.ratios, ...r.layers, { model: r.model, machine: r.machine }]) process.stdout.write(JSON.stringify(row) + '\n');
    } else {
      process.stdout.write(text(r) + '\n');
    }
  },
};
