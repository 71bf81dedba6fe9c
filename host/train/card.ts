/** The model card (models/<name>.md) written after `bitweave train --card`. */
import * as path from 'node:path';
import { describeModel } from '../compile/describe';
import { CompiledModel } from '../compile/model';
import { BackendEval } from './evaluate';
import { TrainResult } from './trainer';

export interface CardInput {
  name: string;
  command: string;
  arch: { name: string; description: string };
  epochs: number;
  seed: number;
  batch: number;
  result: TrainResult;
  model: CompiledModel;
  files: { path: string; bytes: number }[];
  evals: BackendEval[];
  /** Backends that could not run the model. */
  failed?: { backend: string; error: string }[];
  /** Exported-model predictions that equal the training-time (tfjs) network's. */
  agreement?: { same: number; images: number };
  machine: { cpus: number; loadBefore: number[]; loadAfter: number[]; cpuSeconds: number; node: string };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
const min = (s: number) => `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;

export function renderCard(c: CardInput): string {
  const r = c.result;
  const s = describeModel(c.model);
  const lines = [
    `# ${c.name}`,
    '',
    `${c.arch.description}.`,
    '',
    `Trained by bitweave itself (\`bitweave train\`, TensorFlow.js ${r.simd ? 'WebAssembly SIMD' : 'WebAssembly'} backend, ${r.threads} thread${r.threads === 1 ? '' : 's'}) with straight-through estimators, latent weights clipped to [-1, 1], BatchNorm and Adam, by this command (the shipped models: \`make models\`):`,
    '',
    '```sh',
    c.command,
    '```',
    '',
    '| | |',
    '|---|---|',
    `| dataset | Fashion-MNIST (Debian package dataset-fashion-mnist): ${r.trainImages.toLocaleString('en-US')} training images, evaluated on the 10,000 test images; input uint8/255, NCHW 1x28x28 |`,
    `| epochs, batch, seed | ${c.epochs}, ${c.batch}, ${c.seed} |`,
    `| training time | ${min(r.trainSeconds)} wall for the epochs, ${min(r.totalSeconds)} including BatchNorm statistics and the test pass; ${Math.round(c.machine.cpuSeconds)} s CPU; ${c.machine.cpus} cores shared with other work (load average ${c.machine.loadBefore[0].toFixed(1)} before, ${c.machine.loadAfter[0].toFixed(1)} after), Node ${c.machine.node} |`,
  ];
  if (r.test) lines.push(`| training-time network (tfjs, inference mode) | ${pct(r.test.accuracy)} (${r.test.correct.toLocaleString('en-US')} / ${r.test.images.toLocaleString('en-US')}) |`);
  if (c.agreement) lines.push(`| exported model vs training-time network | same prediction on ${c.agreement.same.toLocaleString('en-US')} / ${c.agreement.images.toLocaleString('en-US')} test images |`);
  lines.push('', '## Accuracy per backend (10,000 test images, `bitweave eval --dataset fashion-mnist`)', '', '| backend | accuracy | correct | images/s |', '|---|---|---|---|');
  for (const e of c.evals) lines.push(`| ${e.backend} | **${pct(e.accuracy)}** | ${e.correct.toLocaleString('en-US')} / ${e.images.toLocaleString('en-US')} | ${e.imagesPerSecond.toFixed(0)} |`);
  const same = c.evals.every((e) => e.predictions.every((p, i) => p === c.evals[0].predictions[i]));
  for (const f of c.failed ?? []) lines.push(`| ${f.backend} | failed: ${f.error.replace(/\|/g, '/')} | | |`);
  if (c.evals.length > 1) lines.push('', same ? 'All backends give identical predictions.' : 'Backends DISAGREE on some predictions.');
  lines.push(
    '',
    '## Training',
    '',
    '| epoch | loss | train accuracy | learning rate (end) | seconds |',
    '|---|---|---|---|---|',
    ...r.history.map((h) => `| ${h.epoch} | ${h.loss.toFixed(4)} | ${pct(h.accuracy)} | ${h.learningRate.toExponential(2)} | ${h.seconds.toFixed(0)} |`),
    '',
    '## Files and sizes',
    '',
    '| file | bytes |',
    '|---|---|',
    ...c.files.map((f) => `| \`${path.basename(f.path)}\` | ${f.bytes.toLocaleString('en-US')} |`),
    '',
    `Binary weights ${kib(s.packedWeightBytes)} packed vs ${kib(s.floatWeightBytes)} as float32 (${s.packedRatio.toFixed(1)}x smaller); whole model ${kib(s.modelCompiledBytes)} compiled vs ${kib(s.modelFloatBytes)} float32 (${s.modelRatio.toFixed(1)}x; float host layers ${kib(s.hostWeightBytes)}, thresholds ${kib(s.thresholdBytes)}).`,
    '',
    `Segments: ${s.segments.map((g) => `${g.kind}[${g.ops[0]}..${g.ops[1] - 1}]`).join(' ')}.`,
    '',
  );
  return lines.join('\n');
}
