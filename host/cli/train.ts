/**
 * `bitweave train`: train a BMXNet-style binary network on Fashion-MNIST, export it
 * (.bnn + BMXNet files), and check the exported model against the training-time
 * network on the test set.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { CommandModule } from 'yargs';
import { BitweaveError } from '../core/errors';
import { loadDataset } from '../data/datasets';
import { standaloneBackends } from '../backends';
import { ARCH_NAMES, getArch } from '../train/arch';
import { renderCard } from '../train/card';
import { agreement, BackendEval, evaluate } from '../train/evaluate';
import { bmxnetPaths, saveTrained } from '../train/save';
import { checkOutputFile, writeFileAtomic } from '../core/files';
import { LR_SCHEDULES, LrSchedule, train, TrainProgress } from '../train/trainer';
import { intOption, numberOption, stringOption } from './options';

/** Option defaults; the model card's command spells out every flag that differs. */
const DEFAULTS = { batch: 100, lr: 2e-3, 'lr-end': 2e-5, 'lr-schedule': 'exp', limit: undefined, 'test-limit': undefined } as const;

const clock = (s: number) => (Number.isFinite(s) ? `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}` : '?');

/** Progress on stderr: a rewritten line on a terminal, a line every 30 s otherwise. */
function progressPrinter(): { update(p: TrainProgress): void; done(): void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  let lastEpoch = 0;
  return {
    update(p) {
      const now = Date.now();
      const epochEnd = p.phase === 'train' && p.step === p.steps;
      if (!epochEnd && now - last < (tty ? 250 : 30000) && p.epoch === lastEpoch) return;
      last = now;
      lastEpoch = p.epoch;
      const line =
        p.phase === 'train'
          ? `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}  acc ${(100 * p.accuracy).toFixed(2)}%  elapsed ${clock(p.elapsedSeconds)}  left ~${clock(p.etaSeconds)}`
          : `${p.phase === 'bn' ? 'BatchNorm statistics' : 'test pass (tfjs)'} ${p.step}/${p.steps}  elapsed ${clock(p.elapsedSeconds)}`;
      if (tty) process.stderr.write(`\r\x1b[K${line}${epochEnd ? '\n' : ''}`);
      else process.stderr.write(line + '\n');
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}

export const trainCommand: CommandModule = {
  command: 'train',
  describe: 'train a binary network (mlp | cnn) on Fashion-MNIST and export .bnn + BMXNet files',
  builder: (y) =>
    y
      .option('arch', { type: 'string', demandOption: true, choices: ARCH_NAMES as string[], describe: 'architecture' })
      .option('dataset', { type: 'string', demandOption: true, choices: ['fashion-mnist'], describe: 'training data' })
      .option(...stringOption('output', 'output .bnn file (BMXNet files go beside it)', { alias: 'o', demandOption: true }))
      .option(...intOption('epochs', 'passes over the training set (default per arch)', 1, 10000))
      .option(...intOption('seed', 'seed for initial weights and shuffling', 0, 0xffffffff, { default: 1 }))
      .option(...intOption('batch', 'images per step (at most the training set)', 2, 60000, { default: DEFAULTS.batch }))
      .option(...numberOption('lr', 'Adam learning rate at the start', { min: 0, max: 10, minExclusive: true }, { default: DEFAULTS.lr }))
      .option(...numberOption('lr-end', 'learning rate at the last step', { min: 0, max: 10, minExclusive: true }, { default: DEFAULTS['lr-end'] }))
      .option('lr-schedule', { type: 'string', default: DEFAULTS['lr-schedule'], choices: LR_SCHEDULES as string[], describe: 'how the learning rate falls: exponentially or on a half cosine' })
      .option(...intOption('limit', 'train on the first N training images only', 1, 1e9))
      .option(...intOption('test-limit', 'evaluate on the first N test images only', 1, 1e9))
      .option(...intOption('threads', 'TensorFlow.js wasm threads (default: all cores, at most 4)', 1, 64))
      .option('bmxnet', { type: 'boolean', default: true, describe: 'also write <name>-symbol.json and <name>-0000.params' })
      .option(...stringOption('card', 'write a model card (markdown) after evaluating on every backend'))
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable summary on stdout' }),
  handler: async (raw) => {
    const a = raw as unknown as {
      arch: string; output: string; epochs?: number; seed: number; batch: number; lr: number; 'lr-end': number; 'lr-schedule': LrSchedule; limit?: number;
      'test-limit'?: number; threads?: number; bmxnet: boolean; card?: string; json: boolean;
    };
    if (!a.output.endsWith('.bnn')) throw new BitweaveError(`--output must name a .bnn file, got '${a.output}'`);
    // every output path is checked before hours of training, not after
    const outputs = [a.output, ...(a.bmxnet ? Object.values(bmxnetPaths(a.output)) : []), ...(a.card ? [a.card] : [])];
    for (const f of outputs) checkOutputFile(f, { mkdirs: true });
    const arch = getArch(a.arch);
    const epochs = a.epochs ?? arch.defaultEpochs;
    const loadBefore = os.loadavg();
    const cpu0 = process.cpuUsage();
    const test = loadDataset('fashion-mnist', { split: 'test', limit: a['test-limit'] });
    const printer = progressPrinter();
    const result = await train({
      arch: arch.name, epochs, seed: a.seed, batch: a.batch, lr: a.lr, lrEnd: a['lr-end'], lrSchedule: a['lr-schedule'], limit: a.limit, threads: a.threads,
      test, onProgress: (p) => printer.update(p),
    });
    printer.done();
    const saved = saveTrained(result.trained, a.output, { bmxnet: a.bmxnet });
    result.dispose();

    // the exported model on the reference backend (and on every backend for a card)
    const backends = a.card ? standaloneBackends() : ['reference'];
    const evals: BackendEval[] = [];
    const failed: { backend: string; error: string }[] = [];
    for (const b of backends) {
      process.stderr.write(`evaluating ${a.output} on ${b} (${test.count} test images)...\n`);
      try {
        evals.push(await evaluate(saved.model, b, test));
      } catch (e) {
        // a broken optional backend must not lose a finished training run
        if (b === 'reference') throw e;
        failed.push({ backend: b, error: (e as Error).message });
        process.stderr.write(`bitweave: warning: ${b} backend failed: ${(e as Error).message}\n`);
      }
    }
    const ref = evals[0];
    const agree = result.test ? { same: agreement(result.test.predictions, ref.predictions), images: ref.images } : undefined;
    const cpu = process.cpuUsage(cpu0);
    const files = [saved.bnn, saved.symbol, saved.params].filter((f): f is string => !!f).map((p) => ({ path: p, bytes: fs.statSync(p).size }));

    if (a.card) {
      const nonDefault = (Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[])
        .map((k) => (a[k] !== DEFAULTS[k] ? ` --${k} ${a[k]}` : ''))
        .join('');
      const command = `bitweave train --arch ${arch.name} --dataset fashion-mnist --epochs ${epochs} --seed ${a.seed}${nonDefault} -o ${a.output}`;
      writeFileAtomic(a.card, renderCard({
        name: saved.model.name, command, arch, epochs, seed: a.seed, batch: a.batch, result, model: saved.model, files, evals, failed, agreement: agree,
        machine: { cpus: os.cpus().length, loadBefore, loadAfter: os.loadavg(), cpuSeconds: (cpu.user + cpu.system) / 1e6, node: process.version },
      }), { mkdirs: true });
    }
    const summary = {
      arch: arch.name, epochs, seed: a.seed, batch: a.batch, threads: result.threads, simd: result.simd,
      trainSeconds: result.trainSeconds, totalSeconds: result.totalSeconds, history: result.history,
      tfjs: result.test ? { images: result.test.images, correct: result.test.correct, accuracy: result.test.accuracy } : null,
      exported: evals.map((e) => ({ backend: e.backend, images: e.images, correct: e.correct, accuracy: e.accuracy, imagesPerSecond: e.imagesPerSecond })),
      agreement: agree ?? null,
      failedBackends: failed,
      files,
      ...(a.card ? { card: a.card } : {}),
    };
    if (a.json) {
      process.stdout.write(JSON.stringify(summary) + '\n');
    } else {
      const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
      const lines = [
        `trained ${arch.name} for ${epochs} epochs in ${clock(result.trainSeconds)} (${result.threads} thread${result.threads === 1 ? '' : 's'})`,
        ...(result.test ? [`training-time network (tfjs): ${pct(result.test.accuracy)} on ${result.test.images} test images`] : []),
        ...evals.map((e) => `exported model on ${e.backend}: ${pct(e.accuracy)} (${e.correct}/${e.images})`),
        ...(agree ? [`same prediction on ${agree.same}/${agree.images} test images`] : []),
        `wrote ${files.map((f) => `${f.path} (${f.bytes} bytes)`).join(', ')}${a.card ? `, ${a.card}` : ''}`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    }
  },
};
