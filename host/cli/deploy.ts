/**
 * `bitweave deploy <model> --board aws-f1 -o <dir> [--steps …]`: emit the Vitis project,
 * build, register the AFI (F1), wait for it and run the model (host/build/deploy.ts).
 * Registered by commands.ts.
 */
import { Argv, CommandModule } from 'yargs';
import { BitweaveError } from '../core/errors';
import { loadModel } from '../runtime/load';
import { intOption, modelLoadOptions, modelOptions, numberOption, stringOption } from './options';
import { deploy, DEPLOY_STEPS, DeployStep, VitisTarget } from '../build/deploy';
import { vitisKernel } from '../build/vitis';

interface DeployArgs {
  model: string;
  board: string;
  output: string;
  target: string;
  kernel?: string;
  steps?: string;
  's3-bucket'?: string;
  's3-dcp-key'?: string;
  's3-logs-key'?: string;
  dataset: string;
  limit?: number;
  'poll-seconds': number;
  'timeout-minutes': number;
  force: boolean;
  json: boolean;
}

export const deployCommand: CommandModule<object, DeployArgs> = {
  command: 'deploy <model>',
  describe: 'build the array (RTL kernel, or --kernel hls) for a Vitis board and run a model on it (emit, build, afi, wait, run)',
  builder: (y) =>
    (modelOptions(y) as Argv)
      .positional('model', { type: 'string', demandOption: true, describe: '.bnn file, QONNX .onnx, BMXNet <prefix>-symbol.json, or a zoo name' })
      .option(...stringOption('board', 'aws-f1, alveo-u250, alveo-u50 (bitweave boards)', { demandOption: true }))
      .option(...stringOption('output', 'project directory', { alias: 'o', demandOption: true }))
      .option('target', { type: 'string', default: 'hw', choices: ['sw_emu', 'hw_emu', 'hw'], describe: 'Vitis target' })
      .option(...stringOption('kernel', "'rtl' (the RTL array as an RTL kernel, default) or 'hls' (the HLS kernel); later steps use the emitted project's"))
      .option('steps', { type: 'string', describe: `comma-separated subset of ${DEPLOY_STEPS.join(',')} (default: all that apply)` })
      .option('s3-bucket', { type: 'string', describe: 'aws-f1: S3 bucket for create_vitis_afi.sh' })
      .option('s3-dcp-key', { type: 'string', describe: 'aws-f1: S3 key (folder) for the design checkpoint' })
      .option('s3-logs-key', { type: 'string', describe: 'aws-f1: S3 key (folder) for the AFI logs' })
      .option('dataset', { type: 'string', default: 'fashion-mnist', describe: 'dataset the run step evaluates' })
      .option(...intOption('limit', 'images the run step evaluates', 1, Number.MAX_SAFE_INTEGER))
      .option(...numberOption('poll-seconds', 'AFI state polling interval', { min: 0, max: 86400, minExclusive: true }, { default: 60 }))
      .option(...numberOption('timeout-minutes', 'give up waiting for the AFI after this', { min: 0, max: 7 * 24 * 60, minExclusive: true }, { default: 240 }))
      .option('force', { type: 'boolean', default: false, describe: 'emit step: replace an earlier project in the output directory' })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON summary at the end' }) as unknown as Argv<DeployArgs>,
  handler: async (a) => {
    const steps = a.steps?.split(',').map((s) => s.trim()).filter(Boolean) as DeployStep[] | undefined;
    if (steps && steps.length === 0) throw new BitweaveError('--steps is empty');
    if (a.limit !== undefined && (!Number.isInteger(a.limit) || a.limit < 1)) throw new BitweaveError(`--limit must be a positive integer, got ${a.limit}`);
    const model = await loadModel(a.model, modelLoadOptions(a as unknown as Record<string, unknown>));
    const log = a.json ? (l: string) => process.stderr.write(l + '\n') : undefined;
    const r = await deploy(model, {
      board: a.board, outDir: a.output, target: a.target as VitisTarget, steps, kernel: a.kernel === undefined ? undefined : vitisKernel(a.kernel),
      s3Bucket: a['s3-bucket'], s3DcpKey: a['s3-dcp-key'], s3LogsKey: a['s3-logs-key'],
      dataset: a.dataset, limit: a.limit, pollSeconds: a['poll-seconds'], timeoutMinutes: a['timeout-minutes'], log, force: a.force,
    });
    if (a.json) {
      const p = r.project;
      process.stdout.write(JSON.stringify({ ...r, project: p ? { ...p, dir: undefined } : null }) + '\n');
    }
  },
};
