/**
 * `bitweave bench model <model>`: a bitweave backend vs onnxruntime on the exported float
 * network, and on a Larq .tflite also vs LCE's own interpreter where Python has LCE.
 */
import * as fs from 'node:fs';
import { Argv, CommandModule } from 'yargs';
import { BitweaveError } from '../core/errors';
import { oneLineMessage } from '../core/text';
import { benchModel, BenchModelResult } from '../bench/model';
import { availableBackends } from '../backends';
import { loadNamedModel } from '../zoo/models';
import { intOption, modelLoadOptions, modelOptions, numberOption } from './options';

interface Args {
  model: string;
  backend: string;
  threads?: number;
  batches: string;
  runs: number;
  budget: number;
  seed?: number;
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
    `model ${r.model} on ${r.machine.cpus} x ${r.machine.cpu}, node ${r.machine.node}, onnxruntime ${r.machine.onnxruntime}${r.machine.lce ? `, LCE ${r.machine.lce} (Python ${r.machine.python})` : ''}`,
    'engine        backend         batch  threads  runs  latency ms   images/s',
  ];
  for (const x of r.rows) {
    lines.push(`${x.engine.padEnd(12)}  ${x.backend.padEnd(14)}  ${String(x.batch).padStart(5)}  ${String(x.threads).padStart(7)}  ${String(x.runs).padStart(4)}  ${x.medianMs.toFixed(2).padStart(10)}  ${x.imagesPerSecond.toFixed(1).padStart(9)}`);
  }
  for (const x of r.rows) if (x.note) lines.push(`batch ${x.batch}: ${x.engine} ${x.backend}: ${x.note}`);
  for (const q of r.ratios) {
    const what = q.compare.includes('/lce(') ? 'output' : 'logit';
    lines.push(`batch ${q.batch}: ${q.compare} = ${q.speedup.toFixed(2)}x (max |${what} diff| ${q.maxAbsDiff.toExponential(2)}, top-1 agrees on ${q.top1Agree}/${q.batch})`);
  }
  for (const sp of r.splits) {
    const top = r.layers.filter((l) => l.batch === sp.batch);
    const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
    lines.push(`batch ${sp.batch}: ${sp.backend} time per op (ms per call, slowest first; host ${sp.hostMs.toFixed(2)} of ${(sp.hostMs + sp.deviceMs).toFixed(2)}, ${pct(sp.hostShare)}; seg: the segment it ran in)`);
    for (const l of top.slice(0, 10)) lines.push(`  ${String(l.op).padStart(3)}  ${l.layer.padEnd(28).slice(0, 28)}  ${l.where.padEnd(6)}  seg ${String(l.segment).padStart(2)}  ${l.ms.toFixed(3).padStart(9)}`);
    const c = sp.ceilings;
    if (c) {
      lines.push(
        `batch ${sp.batch}: at this machine's ceilings (${c.isa}, ${c.threads} threads: ${(c.fmaPerSecond / 1e9).toFixed(1)} G FMA/s, ${(c.binaryMacsPerSecond / 1e9).toFixed(0)} G bit-MAC/s) ` +
          `${sp.batch} x ${(sp.floatFmaPerImage / 1e6).toFixed(1)} M float multiply-adds need >= ${c.hostFloorMs.toFixed(2)} ms (host layers took ${sp.hostMs.toFixed(2)}: ${pct(c.hostFloorMs / sp.hostMs)} of the ceiling rate), ` +
          `${sp.batch} x ${(sp.binaryMacsPerImage / 1e9).toFixed(2)} G binary MACs >= ${c.deviceFloorMs.toFixed(2)} ms (device layers ${sp.deviceMs.toFixed(2)}: ${pct(c.deviceFloorMs / sp.deviceMs)}); ` +
          `with both at their ceilings the host share would be ${pct(c.hostShareAtCeilings)}`,
      );
    }
  }
  return lines.join('\n');
}

export const benchModelCommand: CommandModule<object, Args> = {
  command: 'model <model>',
  describe: "images/s and latency at batch 1 and 64: a bitweave backend vs onnxruntime on the exported float network, and on a Larq .tflite vs LCE's interpreter (Python from BITWEAVE_LCE_PYTHON, else python3) (model: file, resnet18-cifar|imagenet[-aK], bmxnet-mnist or another zoo name)",
  builder: (y: Argv) =>
    modelOptions(y)
      .positional('model', { type: 'string', demandOption: true, describe: '.bnn file, QONNX .onnx, BMXNet <prefix>-symbol.json, or a zoo name' })
      .option('backend', { type: 'string', default: 'reference', choices: availableBackends(), describe: 'bitweave backend' })
      .option(...intOption('threads', 'threads for both engines (default: all cores)', 1, 1024))
      .option('batches', { type: 'string', default: '1,64', describe: 'batch sizes, comma-separated' })
      .option(...intOption('runs', 'timed calls per engine and batch size (median reported)', 1, 1000, { default: 5 }))
      .option(...numberOption('budget', 'seconds per batch size before stopping at 3 runs', { min: 0, max: 86400, minExclusive: true }, { default: 30 }))
      .option(...intOption('seed', 'weight seed of zoo models (default 1)', 0, 0xffffffff))
      .option('layers', { type: 'boolean', default: false, describe: "also report the bitweave backend's time per op" })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON row per line' }) as unknown as Argv<Args>,
  handler: async (a) => {
    if (!(a.budget > 0)) throw new BitweaveError(`--budget must be a positive number of seconds, got ${a.budget}`);
    const model = await loadNamedModel(a.model, { ...modelLoadOptions(a as unknown as Record<string, unknown>), seed: a.seed });
    // LCE runs the file itself, so only a model read from a .tflite (not a .bnn made from one)
    const tflite = model.source.format === 'larq-tflite' && /\.tflite$/i.test(a.model) && fs.existsSync(a.model) ? a.model : undefined;
    const r = await benchModel(a.model, model, {
      backend: a.backend, threads: a.threads, batches: parseList(a.batches, '--batches'), runs: a.runs, budgetSeconds: a.budget, layers: a.layers, tflite,
    });
    // notes go to stderr in both modes: --json output stays rows only
    for (const n of r.notes) process.stderr.write(`bitweave: note: ${oneLineMessage(n)}\n`);
    if (a.json) {
      for (const row of [...r.rows, ...r.ratios, ...r.layers, ...r.splits, { model: r.model, machine: r.machine, notes: r.notes }]) process.stdout.write(JSON.stringify(row) + '\n');
    } else {
      process.stdout.write(text(r) + '\n');
    }
  },
};
