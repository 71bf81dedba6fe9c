/** `bitweave bench gemm` (the seed's GEMM experiment) and `bitweave bench peak` (popcount ceiling). */
import { Argv, CommandModule } from 'yargs';
import { BitweaveError } from '../core/errors';
import { benchGemm, BenchGemmResult, benchPeak, PeakResult } from '../bench/gemm';
import { intOption } from './options';

const G = (x: number) => (x / 1e9).toFixed(1);

function parseChannels(s: string | undefined): number[] | undefined {
  if (s === undefined) return undefined;
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.length === 0 || v.some((x) => !Number.isInteger(x) || x < 1 || x > 4096)) {
    throw new BitweaveError(`--channels must be positive integers separated by commas, got '${s}'`);
  }
  return v;
}

function checkThreads(t: number | undefined): number | undefined {
  if (t !== undefined && (!Number.isInteger(t) || t < 1 || t > 1024)) throw new BitweaveError(`--threads must be an integer in [1, 1024], got ${t}`);
  return t;
}

function gemmText(r: BenchGemmResult): string {
  const m = r.machine;
  const lines = [
    `${m.cpu}, ${m.cores} cores, kernels: ${m.isa}; popcount ceiling ${G(r.peak.perCore)} G bit-MAC/s per core, ${G(r.peak.allCores)} on ${r.peak.threads} threads`,
    `sgemm: ${m.blas}`,
    `M = ${r.rows[0]?.M}, N = ${r.rows[0]?.N}, K = 25·C; all methods agree (checked at C=${r.check.channels}, and every timed run against bitweave)`,
    '',
    '   C  method        binarize  threads  runs   median ms      G bit-MAC/s  of peak  vs sgemm  vs xnor_64_omp',
  ];
  for (const x of r.rows) {
    lines.push(
      `${String(x.channels).padStart(4)}  ${x.method.padEnd(12)}  ${(x.includesBinarize ? 'yes' : 'no').padEnd(8)}  ${String(x.threads).padStart(7)}  ${String(x.repeats).padStart(4)}  ${x.ms.toFixed(3).padStart(10)}  ${G(x.binaryMacsPerSecond).padStart(15)}  ${(100 * x.fractionOfPeak).toFixed(1).padStart(6)}%  ${x.speedupVsSgemm.toFixed(2).padStart(7)}x  ${x.speedupVsXnor64Omp.toFixed(2).padStart(13)}x`,
    );
  }
  lines.push('');
  for (const s of r.summary) {
    lines.push(`C=${s.channels} ${s.includesBinarize ? 'with   ' : 'without'} binarize: bitweave ${s.bitweaveVsSgemm.toFixed(1)}x sgemm, ${s.bitweaveVsXnor64Omp.toFixed(2)}x xnor_64_omp`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

function peakText(r: PeakResult): string {
  const lines = [`${r.machine.cpu}, ${r.machine.cores} cores; kernels use ${r.machine.isa}`, 'isa      threads   G bit-MAC/s   G FMA/s (fp32)'];
  for (const x of r.rows) lines.push(`${x.isa.padEnd(7)}  ${String(x.threads).padStart(7)}  ${G(x.binaryMacsPerSecond).padStart(12)}  ${G(x.fmaPerSecond).padStart(15)}`);
  return lines.join('\n');
}

interface GemmArgs {
  json: boolean;
  threads?: number;
  repeat: number;
  channels?: string;
  quick: boolean;
  n?: number;
}

export const benchGemmCommand: CommandModule<object, GemmArgs> = {
  command: 'gemm',
  describe: "the seed's xnor GEMM experiment: M=64, N=12800, K=25·C; OpenBLAS sgemm, xnor_32, xnor_64, xnor_64_omp and bitweave, with and without binarising",
  builder: (y: Argv) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'one JSON object per line: rows, summaries, then machine/peak/check' })
      .option(...intOption('threads', 'threads for the multi-threaded methods (default: all cores)', 1, 1024))
      .option(...intOption('repeat', 'timed runs per method (median reported)', 1, 1000, { default: 5 }))
      .option('channels', { type: 'string', describe: 'subset of channel counts C, e.g. 64,128 (default 64,128,256,512)' })
      .option('quick', { type: 'boolean', default: false, hidden: true, describe: 'tiny configuration for tests (N=256, C=64, 2 runs)' })
      .option(...intOption('n', 'override N (tests)', 1, 1 << 20, { hidden: true })) as unknown as Argv<GemmArgs>,
  handler: async (a) => {
    if (!Number.isInteger(a.repeat) || a.repeat < 1 || a.repeat > 1000) throw new BitweaveError(`--repeat must be an integer in [1, 1000], got ${a.repeat}`);
    if (a.n !== undefined && (!Number.isInteger(a.n) || a.n < 1 || a.n > 1 << 20)) throw new BitweaveError(`--n must be a positive integer, got ${a.n}`);
    const r = benchGemm({
      threads: checkThreads(a.threads),
      repeat: a.quick ? Math.min(a.repeat, 2) : a.repeat,
      channels: parseChannels(a.channels) ?? (a.quick ? [64] : undefined),
      N: a.n ?? (a.quick ? 256 : undefined),
      onStep: a.json || !process.stderr.isTTY ? undefined : (s) => process.stderr.write(`\r\x1b[K${s}`),
    });
    if (!a.json && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    if (a.json) {
      for (const row of [...r.rows, ...r.summary, { machine: r.machine, peak: r.peak, check: r.check, notes: r.notes }]) {
        process.stdout.write(JSON.stringify(row) + '\n');
      }
    } else {
      process.stdout.write(gemmText(r) + '\n');
    }
  },
};

interface PeakArgs {
  json: boolean;
  threads?: number;
}

export const benchPeakCommand: CommandModule<object, PeakArgs> = {
  command: 'peak',
  describe: 'measured ceilings: binary MACs (bit-ops) and float32 FMAs per second, per core and on all cores, per ISA',
  builder: (y: Argv) =>
    y
      .option('json', { type: 'boolean', default: false })
      .option(...intOption('threads', 'threads for the all-core figure (default: all cores)', 1, 1024)) as unknown as Argv<PeakArgs>,
  handler: async (a) => {
    const r = benchPeak({ threads: checkThreads(a.threads) });
    if (a.json) process.stdout.write(JSON.stringify(r) + '\n');
    else process.stdout.write(peakText(r) + '\n');
  },
};
