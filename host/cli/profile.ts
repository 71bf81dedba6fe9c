/** `bitweave profile <model> --backend b --html out.html`: per-layer profile as a self-contained page. */
import { Argv, CommandModule } from 'yargs';
import { checkOutputFile, writeFileAtomic } from '../core/files';
import { oneLineMessage } from '../core/text';
import { loadInputFile } from '../data/datasets';
import { profileHtml, profileModel } from '../bench/profile';
import { loadModel, modelInputFiles } from '../runtime/load';
import { intOption, modelLoadOptions, stringOption } from './options';
import { runOptions, sessionOptions } from './run-options';

interface Args { model: string; html?: string; input?: string; images?: number; params?: string; json: boolean }

export const profileCommand: CommandModule = {
  command: 'profile <model>',
  describe: 'time every layer of a model on a backend (host vs device, cycles, PE utilisation, one batch\'s segment timeline); --html writes one self-contained page',
  builder: (y: Argv) =>
    runOptions(y)
      .positional('model', { type: 'string', demandOption: true, describe: '.bnn file, QONNX .onnx, BMXNet <prefix>-symbol.json, or a zoo name' })
      .option(...stringOption('html', 'write the profile page to this .html file'))
      .option(...stringOption('input', 'images to run (.npy, IDX, .png/.jpg; default: seeded random pictures)', { alias: 'i' }))
      .option(...intOption('images', 'random pictures to run when no --input is given (default: one batch)', 1, 1_000_000)),
  handler: async (argv) => {
    const a = argv as unknown as Args;
    const outputOpts = { inputs: [...modelInputFiles(a.model, a.params), ...(a.input ? [a.input] : [])] };
    if (a.html) checkOutputFile(a.html, outputOpts); // before any work
    const model = await loadModel(a.model, modelLoadOptions(argv));
    const t = model.tensors[model.input];
    const images = a.input ? loadInputFile(a.input, { channels: t.c, height: t.h, width: t.w }, { preprocess: model.preprocess }).images : undefined;
    const s = sessionOptions(argv);
    const p = await profileModel(model, { ...s, images, count: a.images ?? s.batch });
    if (a.html) writeFileAtomic(a.html, profileHtml(p), outputOpts);
    if (a.json) {
      process.stdout.write(JSON.stringify({ ...p, ...(a.html ? { html: a.html } : {}) }) + '\n');
      return;
    }
    for (const n of p.notes) process.stderr.write(`bitweave: note: ${oneLineMessage(n)}\n`);
    const top = [...p.layers].sort((x, y) => y.ms - x.ms).slice(0, 8);
    const lines = [
      `${p.model.name} on ${p.backend}: ${p.images} images, ${p.imagesPerSecond.toFixed(1)} images/s; host layers ${p.hostMs.toFixed(2)} ms, device layers ${p.deviceMs.toFixed(2)} ms`,
      ...top.map((l) => `  ${String(l.op).padStart(3)}  ${p.model.layers[l.op].name.padEnd(28).slice(0, 28)}  ${l.where.padEnd(6)}  ${l.ms.toFixed(3).padStart(9)} ms`),
      ...(a.html ? [`wrote ${a.html}`] : []),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  },
};
