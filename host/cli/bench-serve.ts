/** `bitweave bench serve <model>`: images/s through `bitweave serve` beside eval's, same run. */
import { Argv, CommandModule } from 'yargs';
import { BitweaveError } from '../core/errors';
import { availableBackends } from '../backends';
import { benchServe, BenchServeResult, ServeMode } from '../bench/serve';
import { loadNamedModel } from '../zoo/models';
import { intOption, numberOption } from './options';

interface Args { model: string; backend: string; threads?: number; workers?: number; clients: number; seconds: number; runs: number; 'max-batch': number; 'max-delay-ms': number; modes: string; json: boolean }

function text(r: BenchServeResult): string {
  const lines = [
    `model ${r.model} on ${r.backend}, ${r.machine.cores} x ${r.machine.cpu}, node ${r.machine.node}; ${r.clients} clients, one image per request, max batch ${r.maxBatch}, max delay ${r.maxDelayMs} ms`,
    `eval (Session.run, batch ${r.eval.batch}): ${r.eval.imagesPerSecond.toFixed(0)} images/s (median of ${r.eval.runs.length}), ${r.eval.cpuUsPerImage.toFixed(0)} µs CPU per image`,
    'serve mode   images/s   of eval   p50 ms   p99 ms   mean batch   server µs CPU/image (eval\'s / server\'s)',
  ];
  for (const s of r.serve) {
    lines.push(`${s.mode.padEnd(10)} ${s.imagesPerSecond.toFixed(0).padStart(10)} ${(s.ratioToEval * 100).toFixed(1).padStart(8)}% ${s.p50Ms.toFixed(2).padStart(8)} ${s.p99Ms.toFixed(2).padStart(8)} ${s.meanBatch.toFixed(1).padStart(12)}   ${s.serverCpuUsPerImage !== undefined ? `${s.serverCpuUsPerImage.toFixed(0).padStart(6)} (${(s.cpuRatio! * 100).toFixed(0)}%)` : 'n/a'}`);
  }
  lines.push(`logits through the server ${r.identical ? 'identical to' : 'DIFFER from'} the Session's; the clients run on this machine too, so serve and its load generator share its cores`);
  return lines.join('\n');
}

export const benchServeCommand: CommandModule<object, Args> = {
  command: 'serve <model>',
  describe: 'images/s and latency through `bitweave serve` with concurrent one-image clients, beside eval\'s images/s (same run)',
  builder: (y: Argv) =>
    y.positional('model', { type: 'string', demandOption: true, describe: '.bnn file, QONNX .onnx, BMXNet symbol or zoo name' })
      .option('backend', { type: 'string', default: 'native', choices: availableBackends(), describe: 'backend of both the server and eval' })
      .option(...intOption('threads', 'CPU threads per backend instance (default: all cores / workers)', 1, 1024))
      .option(...intOption('workers', 'backend instances in the server (default 1)', 1, 256))
      .option(...intOption('clients', 'concurrent clients, each sending one image per request', 1, 4096, { default: 64 }))
      .option(...numberOption('seconds', 'seconds per timed run', { min: 0, max: 3600, minExclusive: true }, { default: 3 }))
      .option(...intOption('runs', 'timed runs per mode (median reported)', 1, 100, { default: 3 }))
      .option(...intOption('max-batch', 'the server\'s --max-batch (and eval\'s batch)', 1, 65536, { default: 64 }))
      .option(...intOption('max-delay-ms', 'the server\'s --max-delay-ms', 0, 60_000, { default: 2 }))
      .option('modes', { type: 'string', default: 'json,binary', describe: 'request encodings: json (FP32 values), binary (UINT8 pixels, binary tensor extension)' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }) as unknown as Argv<Args>,
  handler: async (a) => {
    const modes = a.modes.split(',').map((m) => m.trim());
    for (const m of modes) if (m !== 'json' && m !== 'binary') throw new BitweaveError(`--modes takes json and/or binary, got '${m}'`);
    const model = await loadNamedModel(a.model, {});
    const r = await benchServe(model, {
      spec: a.model, backend: a.backend, threads: a.threads, workers: a.workers, clients: a.clients, seconds: a.seconds, runs: a.runs,
      maxBatch: a['max-batch'], maxDelayMs: a['max-delay-ms'], modes: modes as ServeMode[],
    });
    process.stdout.write((a.json ? JSON.stringify(r) : text(r)) + '\n');
  },
};
