/**
 * `bitweave deploy`: the whole path from a compiled model to a run on a Xilinx board, as
 * one scripted sequence that prints every step.
 *
 *   emit   the Vitis project (host/build/vitis.ts), the RTL kernel (default) or the HLS kernel
 *   build  make TARGET=<target> xclbin          (rtl: vivado package_xo, hls: v++ -c; then v++ -l;
 *                                                emconfigutil for emulation)
 *   afi    make afi S3_BUCKET=…                  (aws-f1 only: create_vitis_afi.sh → .awsxclbin)
 *   wait   aws ec2 describe-fpga-images until the AFI is 'available'  (aws-f1 only)
 *   run    bitweave eval on the opencl backend with the binary and the project's
 *          bitweave-build.json (array size, kernel, OpenCL device; xbutil must see the card)
 *
 * Before the first step it checks every tool and credential the selected steps need and
 * stops with one line naming what is missing (a BitweaveError: exit 1), never a silent
 * no-op. A failing tool stops the sequence the same way. On F1 the usual split is
 * `--steps emit,build,afi,wait` on a build instance and `--steps run` on the F1 instance.
 */
import { spawnSync, SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Board, loadBoard } from '../boards';
import { packagePath } from '../core/paths';
import { BitweaveError } from '../core/errors';
import { CompiledModel } from '../compile/model';
import { emitVitisProject, VitisKernel, vitisKernel, VitisProject } from './vitis';

export const DEPLOY_STEPS = ['emit', 'build', 'afi', 'wait', 'run'] as const;
export type DeployStep = (typeof DEPLOY_STEPS)[number];
export type VitisTarget = 'sw_emu' | 'hw_emu' | 'hw';

export interface DeployOptions {
  board: string;
  outDir: string;
  target?: VitisTarget;
  /** The kernel the emit step writes (default 'rtl'); later steps use what the project says. */
  kernel?: VitisKernel;
  /** Steps to run, in the fixed order above (default: every step the board has). */
  steps?: DeployStep[];
  s3Bucket?: string;
  s3DcpKey?: string;
  s3LogsKey?: string;
  dataset?: string;
  limit?: number;
  /** AFI polling (wait step). */
  pollSeconds?: number;
  timeoutMinutes?: number;
  /** Environment for every tool (default process.env; tests pass a PATH without the tools). */
  env?: NodeJS.ProcessEnv;
  /** Where step lines go (default stdout). */
  log?: (line: string) => void;
  /** The emit step replaces an earlier project in outDir (and what was built in it). */
  force?: boolean;
}

export interface DeployResult {
  board: string;
  kernel: VitisKernel;
  target: VitisTarget;
  steps: DeployStep[];
  project: VitisProject | null;
  afi?: { afiId: string; agfiId?: string; state: string };
  binary?: string;
}

/** An executable named `name` on PATH (of env), or null. */
export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

const HINT: Record<string, string> = {
  vivado: "source the Vivado / Vitis settings64.sh (on the AWS FPGA Developer AMI: 'source $AWS_FPGA_REPO_DIR/vitis_setup.sh'); it packages the RTL kernel",
  'v++': "source the Vitis settings64.sh (on the AWS FPGA Developer AMI: 'source $AWS_FPGA_REPO_DIR/vitis_setup.sh')",
  make: "install make ('apt-get install make')",
  emconfigutil: 'source the Vitis settings64.sh',
  aws: "install the AWS CLI and run 'aws configure'",
  xbutil: "source the XRT setup ('source /opt/xilinx/xrt/setup.sh'; on F1: 'source $AWS_FPGA_REPO_DIR/vitis_runtime_setup.sh')",
};

function need(tool: string, env: NodeJS.ProcessEnv, step: DeployStep): string {
  const f = findTool(tool, env);
  if (!f) throw new BitweaveError(`deploy: '${tool}' not found on PATH (needed for step '${step}'): ${HINT[tool] ?? 'install it'}`);
  return f;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string, opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new BitweaveError(`deploy: ${what}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
  if (r.status !== 0) {
    const err = String(r.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? '';
    throw new BitweaveError(`deploy: ${what} failed (exit ${r.status ?? r.signal})${err ? `: ${err}` : ''}`);
  }
  return String(r.stdout ?? '');
}

/** Runs a long tool with its output on the terminal. */
function runLoud(cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string): void {
  run(cmd, args, env, what, { stdio: ['ignore', 'inherit', 'pipe'] });
}

function stepsFor(board: Board, target: VitisTarget, wanted?: DeployStep[]): DeployStep[] {
  const f1 = board.name === 'aws-f1';
  const possible = DEPLOY_STEPS.filter((s) => (s === 'afi' || s === 'wait' ? f1 && target === 'hw' : true));
  if (!wanted) return possible;
  for (const s of wanted) {
    if (!DEPLOY_STEPS.includes(s)) throw new BitweaveError(`deploy: unknown step '${s}' (steps: ${DEPLOY_STEPS.join(', ')})`);
    if (!possible.includes(s)) throw new BitweaveError(`deploy: step '${s}' does not apply to ${board.name} with TARGET=${target} (steps: ${possible.join(', ')})`);
  }
  return possible.filter((s) => wanted.includes(s));
}

/** AFI ids from create_vitis_afi.sh's newest <timestamp>_afi_id.txt in dir. */
export function readAfiId(dir: string): { afiId: string; agfiId?: string; file: string } {
  let files: string[] = [];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('_afi_id.txt'));
  } catch {
    // no build directory
  }
  if (files.length === 0) throw new BitweaveError(`deploy: no *_afi_id.txt in ${dir} (run the 'afi' step first)`);
  const file = path.join(dir, files.sort((a, b) => fs.statSync(path.join(dir, b)).mtimeMs - fs.statSync(path.join(dir, a)).mtimeMs)[0]);
  const text = fs.readFileSync(file, 'utf8');
  const afi = /afi-[0-9a-f]+/.exec(text);
  if (!afi) throw new BitweaveError(`deploy: ${file} holds no FpgaImageId (afi-…)`);
  const agfi = /agfi-[0-9a-f]+/.exec(text);
  return { afiId: afi[0], agfiId: agfi?.[0], file };
}

/** The emitted project's bitweave-build.json (what deploy's later steps need of it), checked. */
function readManifest(file: string): VitisProject {
  let m: VitisProject;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as VitisProject;
  } catch (e) {
    throw new BitweaveError(`deploy: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!m || typeof m !== 'object' || typeof m.model !== 'string' || typeof m.board !== 'string') throw new BitweaveError(`deploy: ${file} is not a Vitis project's bitweave-build.json`);
  // projects emitted before the RTL kernel had only the HLS kernel
  m.kernel = (m.kernel as unknown) === undefined || (m.kernel as unknown) === 'bitweave_array' ? 'hls' : vitisKernel(String(m.kernel));
  return m;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function deploy(model: CompiledModel, opts: DeployOptions): Promise<DeployResult> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const board = loadBoard(opts.board);
  if (board.toolchain.name !== 'vitis') throw new BitweaveError(`deploy: board '${board.name}' uses ${board.toolchain.name}; deploy supports Vitis boards (aws-f1, alveo-*)`);
  const target = opts.target ?? 'hw';
  if (!['sw_emu', 'hw_emu', 'hw'].includes(target)) throw new BitweaveError(`deploy: target must be sw_emu, hw_emu or hw, got '${target}'`);
  const steps = stepsFor(board, target, opts.steps);
  const out = path.resolve(opts.outDir);
  const build = path.join(out, 'build', target);
  const f1 = board.name === 'aws-f1';
  const manifestFile = path.join(out, 'bitweave-build.json');
  // the kernel: what the emit step writes, else what the emitted project says
  let kernel = vitisKernel(opts.kernel);
  if (!steps.includes('emit') && fs.existsSync(manifestFile)) {
    const emitted = readManifest(manifestFile);
    if (opts.kernel !== undefined && opts.kernel !== emitted.kernel) {
      throw new BitweaveError(`deploy: ${out} holds a '${emitted.kernel}' kernel project, not '${opts.kernel}' (run the 'emit' step with --force to change it)`);
    }
    if (emitted.board !== board.name) throw new BitweaveError(`deploy: ${out} was emitted for ${emitted.board}, not ${board.name}`);
    kernel = emitted.kernel;
  }
  if (kernel === 'rtl' && target === 'sw_emu') throw new BitweaveError("deploy: an RTL kernel has no software emulation (UG1393): use --target hw_emu, or --kernel hls");

  // preflight: every tool and credential the selected steps need, before doing anything
  log(`deploy ${model.name} -> ${board.name} (${kernel} kernel, TARGET=${target}), steps: ${steps.join(', ')}`);
  if (steps.includes('build')) {
    need('make', env, 'build');
    if (kernel === 'rtl') need('vivado', env, 'build');
    need('v++', env, 'build');
    if (target !== 'hw') need('emconfigutil', env, 'build');
  }
  if (steps.includes('afi')) {
    if (!opts.s3Bucket) throw new BitweaveError("deploy: step 'afi' needs --s3-bucket <bucket> (create_vitis_afi.sh uploads the design checkpoint there)");
    need('make', env, 'afi');
    const repo = env.AWS_FPGA_REPO_DIR;
    const tool = repo ? path.join(repo, 'Vitis', 'tools', 'create_vitis_afi.sh') : '';
    if (!repo || !fs.existsSync(tool)) {
      throw new BitweaveError(`deploy: create_vitis_afi.sh not found (${repo ? tool : 'AWS_FPGA_REPO_DIR is not set'}): clone https://github.com/aws/aws-fpga and 'source vitis_setup.sh'`);
    }
  }
  if (steps.includes('afi') || steps.includes('wait')) {
    const aws = need('aws', env, steps.includes('afi') ? 'afi' : 'wait');
    const r = spawnSync(aws, ['sts', 'get-caller-identity', '--output', 'text'], { env, encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      throw new BitweaveError("deploy: AWS credentials missing or invalid ('aws sts get-caller-identity' failed): run 'aws configure' or set AWS_PROFILE");
    }
  }
  if (steps.includes('run') && target === 'hw') need('xbutil', env, 'run');

  const total = steps.length;
  let n = 0;
  const step = (s: string) => log(`[${++n}/${total}] ${s}`);
  const result: DeployResult = { board: board.name, kernel, target, steps, project: null };

  if (steps.includes('emit')) {
    step(`emit the Vitis project (${kernel} kernel) into ${out}`);
    result.project = emitVitisProject(model, board, out, { force: opts.force, kernel });
    const a = result.project.array;
    log(`      ${result.project.files.length} files, array ${a.rows}x${a.cols}, ${result.project.computeUnits} compute unit(s), platform ${board.platform}`);
  }
  if (!fs.existsSync(path.join(out, 'Makefile'))) throw new BitweaveError(`deploy: ${out} holds no emitted project (run the 'emit' step)`);
  if (steps.includes('build')) {
    step(`build: make TARGET=${target} xclbin${target === 'hw' ? '' : ' emconfig'} (${kernel === 'rtl' ? 'vivado package_xo' : 'v++ -c'}, v++ -l${target === 'hw' ? '; hours' : ''})`);
    runLoud('make', ['-C', out, `TARGET=${target}`, 'xclbin', ...(target === 'hw' ? [] : ['emconfig'])], env, 'make xclbin');
  }
  if (steps.includes('afi')) {
    step(`afi: create_vitis_afi.sh -xclbin=${path.join(build, 'bitweave_array.xclbin')} -s3_bucket=${opts.s3Bucket}`);
    runLoud('make', ['-C', out, 'TARGET=hw', 'afi', `S3_BUCKET=${opts.s3Bucket}`, `S3_DCP_KEY=${opts.s3DcpKey ?? 'bitweave/dcp'}`, `S3_LOGS_KEY=${opts.s3LogsKey ?? 'bitweave/logs'}`], env, 'create_vitis_afi.sh');
  }
  if (steps.includes('wait')) {
    const { afiId, agfiId } = readAfiId(build);
    step(`wait: aws ec2 describe-fpga-images --fpga-image-ids ${afiId} until 'available'`);
    const poll = Math.max(1, opts.pollSeconds ?? 60);
    const deadline = Date.now() + (opts.timeoutMinutes ?? 240) * 60000;
    for (;;) {
      const state = run('aws', ['ec2', 'describe-fpga-images', '--fpga-image-ids', afiId, '--query', 'FpgaImages[0].State.Code', '--output', 'text'], env, 'aws ec2 describe-fpga-images').trim();
      log(`      ${new Date().toISOString().slice(11, 19)} ${afiId}: ${state}`);
      if (state === 'available') {
        result.afi = { afiId, agfiId, state };
        break;
      }
      if (state === 'failed' || state === 'unavailable') throw new BitweaveError(`deploy: AFI ${afiId} is '${state}' (see the logs under s3://${opts.s3Bucket ?? '<bucket>'}/${opts.s3LogsKey ?? 'bitweave/logs'})`);
      if (Date.now() > deadline) throw new BitweaveError(`deploy: AFI ${afiId} still '${state}' after ${opts.timeoutMinutes ?? 240} minutes`);
      await sleep(poll * 1000);
    }
  }
  if (steps.includes('run')) {
    const binary = path.join(build, f1 && target === 'hw' ? 'bitweave_array.awsxclbin' : 'bitweave_array.xclbin');
    if (!fs.existsSync(binary)) throw new BitweaveError(`deploy: ${binary} missing (run the '${f1 && target === 'hw' ? 'afi' : 'build'}' step)`);
    if (target === 'hw') {
      step('run: xbutil examine (the card must be visible)');
      const devices = run('xbutil', ['examine'], env, 'xbutil examine');
      if (!/\[[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.\d\]/i.test(devices)) throw new BitweaveError('deploy: xbutil sees no Xilinx device on this machine');
    }
    const p = result.project ?? readManifest(manifestFile);
    const modelFile = path.join(out, 'model', p.model);
    const cli = packagePath('bin', 'bitweave.js');
    const args = [cli, 'eval', modelFile, '--dataset', opts.dataset ?? 'fashion-mnist', '--backend', 'opencl', ...(opts.limit ? ['--limit', String(opts.limit)] : [])];
    // the project's build (array size, kernel, OpenCL device) reaches the opencl backend
    step(`run: BITWEAVE_OPENCL_BINARY=${binary} BITWEAVE_OPENCL_BUILD=${manifestFile}${target === 'hw' ? '' : ` XCL_EMULATION_MODE=${target}`} bitweave ${args.slice(1).join(' ')}`);
    const runEnv = { ...env, BITWEAVE_OPENCL_BINARY: binary, BITWEAVE_OPENCL_BUILD: manifestFile, ...(target === 'hw' ? {} : { XCL_EMULATION_MODE: target, EMCONFIG_PATH: build }) };
    runLoud(process.execPath, args, runEnv, 'bitweave eval on the board');
    result.binary = binary;
  }
  log('deploy: done');
  return result;
}
