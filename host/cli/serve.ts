/** `bitweave serve <model…>`: the models behind the Open Inference Protocol v2 (host/serve/). */
import * as os from 'node:os';
import { Argv, CommandModule } from 'yargs';
import { BitweaveError } from '../core/errors';
import { oneLineMessage } from '../core/text';
import { loadModel } from '../runtime/load';
import { SessionOptions } from '../runtime/session';
import { ModelServer, SERVE_DEFAULTS, ServedModel, servedName } from '../serve/server';
import { intOption, modelLoadOptions, stringOption } from './options';
import { runOptions, sessionOptions } from './run-options';

interface Args {
  models: string[];
  port: number;
  host: string;
  name?: string;
  backend: string;
  threads?: number;
  workers?: number;
  devices?: string;
  'max-batch': number;
  'max-delay-ms': number;
  'max-queue': number;
  'timeout-ms': number;
  'max-body-mb': number;
  'client-timeout-ms': number;
}

/**
 * One Session option set per backend instance: one per --devices entry (OpenCL device name
 * substring, or a board's serial port), else --workers copies; CPU threads shared out.
 */
export function instanceOptions(a: Args): SessionOptions[] {
  const base = sessionOptions(a);
  if (a.devices !== undefined) {
    const list = a.devices.split(',').map((d) => d.trim());
    if (list.some((d) => d === '')) throw new BitweaveError(`--devices '${a.devices}' has an empty entry`);
    if (a.backend !== 'opencl' && a.backend !== 'board') throw new BitweaveError(`--devices names OpenCL devices or board serial ports; backend '${a.backend}' takes --workers`);
    if (a.workers !== undefined) throw new BitweaveError('give --devices or --workers, not both');
    return list.map((d) => ({ ...base, backendOptions: { ...base.backendOptions, ...(a.backend === 'board' ? { port: d } : { device: d }) } }));
  }
  const n = a.workers ?? 1;
  const threads = a.threads ?? Math.max(1, Math.floor(os.availableParallelism() / n));
  return Array.from({ length: n }, () => ({ ...base, threads }));
}

export const serveCommand: CommandModule = {
  command: 'serve <models..>',
  describe: 'serve models over the KServe Open Inference Protocol v2 (HTTP/REST) with dynamic batching and Prometheus /metrics',
  builder: (y: Argv) =>
    runOptions(y, { json: false, batch: false, serialPort: false })
      .positional('models', { type: 'string', array: true, demandOption: true, describe: '.bnn, QONNX .onnx, BMXNet symbol or zoo name; served under its file stem' })
      .option(...intOption('port', 'HTTP port (0: any free port)', 0, 65535, { default: 8000 }))
      .option(...stringOption('host', 'address to listen on (0.0.0.0 for every interface)', { default: '127.0.0.1' }))
      .option(...stringOption('name', 'names the models are served under, comma-separated in model order (default: file stems)'))
      .option(...intOption('workers', 'backend instances per model, each in its own thread (default 1; CPU threads are shared out)', 1, 256))
      .option(...stringOption('devices', 'one instance per entry: OpenCL device name substrings (opencl) or serial ports (board), comma-separated'))
      .option(...intOption('max-batch', 'images merged into one batch at most', 1, 65536, { default: SERVE_DEFAULTS.maxBatch }))
      .option(...intOption('max-delay-ms', 'how long a request may wait for others to join its batch', 0, 60_000, { default: SERVE_DEFAULTS.maxDelayMs }))
      .option(...intOption('max-queue', 'requests that may wait per model (beyond: 429)', 1, 1_000_000, { default: SERVE_DEFAULTS.maxQueue }))
      .option(...intOption('timeout-ms', 'a request not answered in this time gets 504 (0: no limit)', 0, 3_600_000, { default: SERVE_DEFAULTS.timeoutMs }))
      .option(...intOption('max-body-mb', 'largest request body in MiB (beyond: 413)', 1, 4096, { default: SERVE_DEFAULTS.maxBodyBytes >> 20 }))
      .option(...intOption('client-timeout-ms', 'a client must send its whole request within this time (beyond: 408)', 100, 3_600_000, { default: SERVE_DEFAULTS.clientTimeoutMs })),
  handler: async (argv) => {
    const a = argv as unknown as Args;
    const names = a.name !== undefined ? a.name.split(',').map((n) => n.trim()) : a.models.map(servedName);
    if (names.length !== a.models.length) throw new BitweaveError(`--name gives ${names.length} names for ${a.models.length} models`);
    const instances = instanceOptions(a);
    const models: ServedModel[] = [];
    for (const [i, spec] of a.models.entries()) models.push({ name: names[i], model: await loadModel(spec, modelLoadOptions(argv)) });
    const server = await ModelServer.create({
      models, instances, maxBatch: a['max-batch'], maxDelayMs: a['max-delay-ms'], maxQueue: a['max-queue'], timeoutMs: a['timeout-ms'],
      maxBodyBytes: a['max-body-mb'] << 20, clientTimeoutMs: a['client-timeout-ms'],
    });
    let url: string;
    try {
      url = await server.listen({ port: a.port, host: a.host });
    } catch (e) {
      await server.shutdown();
      throw e;
    }
    const backend = instances.length === 1 ? a.backend : `${a.backend} x${instances.length}`;
    process.stdout.write(`bitweave: serving ${names.join(', ')} (${backend}) at ${url}/v2 (metrics: ${url}/metrics)\n`);
    // SIGTERM / SIGINT: stop taking requests, answer those in flight, then exit
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        process.stderr.write(`bitweave: ${sig}: draining requests in flight\n`);
        server.shutdown().then(resolve, (e) => {
          process.stderr.write(`bitweave: error: shutdown: ${oneLineMessage(String((e as Error)?.message ?? e))}\n`);
          process.exitCode = 1;
          resolve();
        });
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  },
};
