/** The options of every command that runs a model on a backend (run, eval, serve, worker, …). */
import { Argv } from 'yargs';
import { availableBackends } from '../backends';
import { SessionOptions } from '../runtime/session';
import { intOption, modelOptions, stringOption } from './options';

interface RunArgs { backend: string; batch: number; threads?: number; device?: string; port?: string; 'link-baud'?: number; 'one-launch'?: boolean; 'axi-board'?: string }

/** Backend choice and its options, on top of the model options; `--json` too unless `json: false`. */
export const runOptions = (y: Argv, o: { json?: boolean; batch?: boolean; serialPort?: boolean } = {}) => {
  const b = modelOptions(y).option('backend', { type: 'string', default: 'reference', choices: availableBackends(), describe: 'execution backend' });
  // `serve` batches by --max-batch instead
  const m = (o.batch === false ? b : b.option(...intOption('batch', 'images per batch', 1, 65536, { default: 64 })))
    .option(...intOption('threads', 'CPU threads (default: all cores)', 1, 1024))
    .option('device', { type: 'string', describe: 'opencl: OpenCL device name substring (default: env BITWEAVE_OPENCL_DEVICE, else all devices of the first platform)' })
    .option('one-launch', { type: 'boolean', describe: 'opencl: one launch walks each whole layer program (device time per segment instead of per layer)' })
    .option(...intOption('link-baud', 'board: run the UART link at this rate for the work (e.g. 2000000 on the ULX3S), back to the board\'s rate at the end', 1, 100_000_000))
    .option(...stringOption('axi-board', 'axi-sim: the board whose DDR figures (memory.axi) the memory model takes (default aws-f1)'));
  // `serve` has its own --port (HTTP); its boards' serial ports come with --devices
  const r = o.serialPort === false ? m : m.option(...stringOption('port', 'board: serial port of the dev board (e.g. /dev/ttyUSB0, or the pty `bitweave board-sim` prints)'));
  return o.json === false ? r : r.option('json', { type: 'boolean', default: false, describe: 'machine-readable output' });
};

/** The Session options the run options ask for. */
export function sessionOptions(args: unknown): SessionOptions {
  const a = args as RunArgs;
  return {
    backend: a.backend,
    batch: a.batch,
    threads: a.threads,
    backendOptions: { device: a.device, oneLaunch: a['one-launch'], port: a.port, link: a['link-baud'] === undefined ? undefined : { fastBaud: a['link-baud'] }, axiBoard: a['axi-board'] },
  };
}
