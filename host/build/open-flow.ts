/**
 * The open bitstream flow, one for every board with a `flow` in its description
 * (`make bitstream BOARD=<board>` runs `node dist/host/build/open-flow.js <board> <dir>`):
 *
 *   array package (write-headers, at the board's array size)
 *   -> yosys synth_<family> + splitnets (netlist JSON for nextpnr + `write_verilog -noattr` of
 *      the same design, the netlist the gate-level check simulates: sim/gate/gate.sh --netlist)
 *   -> nextpnr-<family> (placed and routed at the target clock, its JSON report)
 *   -> ecppack (ECP5 .bit) / icepack (+ icetime, iCE40 .bin)
 *   -> report.json (resources used / available, Fmax, timing pass, tool versions, seconds per step).
 *
 * The family switch is the table FAMILIES: tool names, the yosys command, nextpnr's
 * options and the packer's, and how nextpnr's resource names map onto LUT4 / FF / EBR / DSP.
 * ECP5 boards derive their clock with a PLL: the dividers for the target clock
 * (host/build/ecp5-pll.ts) and the link's baud rate become the top's parameters.
 *
 * Tools come from PATH with the project's own `.tools/bin` first (scripts/setup.sh puts
 * the YoWASP nextpnr-ecp5 and ecppack there). Every failure (unknown board, board without
 * a flow, missing tool or source, a tool's error) is one line `bitstream: …` and exit 1.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Board, boardConstraints, boardFlow, FlowFamily, loadBoard } from '../boards';
import { BitweaveError } from '../core/errors';
import { packagePath, packageRoot } from '../core/paths';
import { oneLineMessage } from '../core/text';
import { writeArrayHeaders } from '../array/write-headers';
import { DEFAULT_ARRAY } from '../array/params';
import { boardArray } from './sizing';
import { ecp5Pll, Ecp5Pll } from './ecp5-pll';

/** The project-local tools folder (git-ignored; scripts/setup.sh fills it). */
export const TOOLS_BIN = path.join('.tools', 'bin');

/** PATH with the project's .tools/bin first. */
export function toolsPath(env: NodeJS.ProcessEnv = process.env): string {
  return [packagePath(TOOLS_BIN), env.PATH ?? ''].filter(Boolean).join(path.delimiter);
}

/** The executable `name` on `searchPath` (default: toolsPath()), or null. */
export function findTool(name: string, searchPath = toolsPath()): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const f = path.join(dir, name);
    try {
      if (fs.statSync(f).isFile()) {
        fs.accessSync(f, fs.constants.X_OK);
        return f;
      }
    } catch {
      // not here
    }
  }
  return null;
}

interface Family {
  synth: string;
  nextpnr: string;
  /** nextpnr options every build of the family gets. */
  nextpnrArgs: string[];
  pack: string;
  /** Extra timing tool run after packing (iCE40: icetime). */
  timer?: string;
  ext: 'bit' | 'bin';
  /** nextpnr utilisation names of LUT4s, flip-flops, block RAMs, DSPs, I/Os, PLLs. */
  resources: { lut4: string; ff: string | null; ebr: string; dsp: string; io: string; pll: string };
  /** Where the tools come from, for the missing-tool message. */
  install: string;
}

const FAMILIES: Record<FlowFamily, Family> = {
  ecp5: {
    // not -abc9: on the PE array (yosys 0.23) it mapped 8% more LUT4s and routed 4% slower
    synth: 'synth_ecp5',
    nextpnr: 'nextpnr-ecp5',
    // router2: router1 made little progress on the block-RAM-heavy SoC; router2 routes it at 2x4
    nextpnrArgs: ['--router', 'router2'],
    pack: 'ecppack',
    ext: 'bit',
    resources: { lut4: 'TRELLIS_COMB', ff: 'TRELLIS_FF', ebr: 'DP16KD', dsp: 'MULT18X18D', io: 'TRELLIS_IO', pll: 'EHXPLLL' },
    install: 'make setup installs the YoWASP build into .tools/bin',
  },
  ice40: {
    synth: 'synth_ice40',
    nextpnr: 'nextpnr-ice40',
    nextpnrArgs: [],
    pack: 'icepack',
    timer: 'icetime',
    ext: 'bin',
    // an iCE40 logic cell is one LUT4 and its flip-flop: nextpnr counts cells (FFs: from yosys)
    resources: { lut4: 'ICESTORM_LC', ff: null, ebr: 'ICESTORM_RAM', dsp: 'ICESTORM_DSP', io: 'SB_IO', pll: 'ICESTORM_PLL' },
    install: 'make setup installs the Debian packages yosys, nextpnr-ice40 and fpga-icestorm',
  },
};

/** Where `make bitstream` leaves a board's bitstream (and `bitweave flash` looks for it). */
export function bitstreamDir(board: Board): string {
  return packagePath('build', 'bitstream', board.name);
}
export function bitstreamFile(board: Board, dir = bitstreamDir(board)): string {
  return path.join(dir, `bitweave_${board.name}.${FAMILIES[boardFlow(board).family].ext}`);
}

/** The files of a file list (.f: one path a line, relative to the package root; '//' comments). */
export function readFileList(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(packageRoot(), file), 'utf8');
  } catch (e) {
    throw new BitweaveError(`cannot read the file list ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return text.split('\n').map((l) => l.replace(/\/\/.*$/, '').trim()).filter(Boolean);
}

export interface FlowOptions {
  /** Output folder (default build/bitstream/<board>). */
  outDir?: string;
  /** Target clock in MHz (default the board's clock.kernelMHz). */
  targetMHz?: number;
  /** Another file list (a scratch top, say) instead of the board's flow.sources. */
  sources?: string;
  /** Another top module instead of the board's flow.top. */
  top?: string;
  seed?: number;
  /** Another array size than the board's default (a sizing trial). */
  array?: { rows: number; cols: number };
  /** Progress lines (default: stdout). */
  log?: (line: string) => void;
}

export interface FlowStep {
  name: 'synth' | 'pnr' | 'pack' | 'timing';
  tool: string;
  args: string[];
}

/** Everything a run does, decided before any tool runs (pure: tests check it without tools). */
export interface FlowPlan {
  board: string;
  part: string;
  family: FlowFamily;
  top: string;
  sources: string;
  files: string[];
  array: { rows: number; cols: number; word: number };
  outDir: string;
  bitstream: string;
  oscillatorMHz: number;
  targetMHz: number;
  pll: Ecp5Pll | null;
  /** Parameters set on the top (chparam). */
  params: Record<string, number>;
  seed: number;
  steps: FlowStep[];
}

export function planFlow(board: Board, opts: FlowOptions = {}): FlowPlan {
  const flow = boardFlow(board);
  const fam = FAMILIES[flow.family];
  const outDir = path.resolve(opts.outDir ?? bitstreamDir(board));
  const targetMHz = opts.targetMHz ?? board.clock.kernelMHz!;
  if (!(Number.isFinite(targetMHz) && targetMHz > 0)) throw new BitweaveError(`target clock must be a positive number of MHz, got ${targetMHz}`);
  const seed = opts.seed ?? 1;
  const top = opts.top ?? flow.top;
  if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(top)) throw new BitweaveError(`'${top}' is not a module name`);
  const sources = opts.sources ?? flow.sources;
  const files = readFileList(sources);
  if (files.length === 0) throw new BitweaveError(`the file list ${sources} names no file`);
  for (const f of files) {
    if (!fs.existsSync(path.resolve(packageRoot(), f))) throw new BitweaveError(`${f} (listed in ${sources}) does not exist`);
    if (/\s/.test(f)) throw new BitweaveError(`${f} (listed in ${sources}): file names with blanks are not supported`);
  }
  const constraints = boardConstraints(board);
  if (!fs.existsSync(constraints)) throw new BitweaveError(`the pin constraints ${constraints} do not exist`);
  if (!flow.pll && targetMHz !== flow.oscillatorMHz) {
    throw new BitweaveError(`board '${board.name}' runs at its ${flow.oscillatorMHz} MHz oscillator (no PLL in its top); the target must be ${flow.oscillatorMHz} MHz, got ${targetMHz}`);
  }
  const pll = flow.pll ? ecp5Pll(flow.oscillatorMHz, targetMHz) : null;
  const params: Record<string, number> = {};
  if (pll) Object.assign(params, { CLKI_DIV: pll.clkiDiv, CLKFB_DIV: pll.clkfbDiv, CLKOP_DIV: pll.clkopDiv, CLKOP_CPHASE: pll.clkopCphase });
  if (board.link) params.BAUD = board.link.baud;
  const { rows, cols } = opts.array ?? boardArray(board);
  for (const [k, v] of Object.entries({ rows, cols })) {
    if (!Number.isInteger(v) || v < 1 || v > 64) throw new BitweaveError(`--${k} must be an integer in 1..64, got ${v}`);
  }
  if ((rows & (rows - 1)) !== 0) throw new BitweaveError(`--rows must be a power of two (a channel group lies in one 64-bit word), got ${rows}`);

  // paths relative to the package root, where the tools run: the YoWASP (WebAssembly) tools
  // see the real file system through preopened directories, but their /tmp is a private one
  const rel = (p: string) => path.relative(packageRoot(), p) || '.';
  const o = (f: string) => rel(path.join(outDir, f));
  const bitstream = bitstreamFile(board, outDir);
  const chparam = Object.keys(params).length ? `chparam ${Object.entries(params).map(([k, v]) => `-set ${k} ${v}`).join(' ')} ${top}; ` : '';
  const yosysScript =
    `read_verilog -sv -I${rel(outDir)} ${o('bitweave_array.svh')} ${files.join(' ')}; ${chparam}` +
    `${fam.synth} -top ${top}; splitnets; write_json ${o('design.json')}; write_verilog -noattr ${o('netlist.v')}; tee -q -o ${o('stat.json')} stat -json`;
  const steps: FlowStep[] = [{ name: 'synth', tool: 'yosys', args: ['-q', '-l', o('yosys.log'), '-p', yosysScript] }];
  const common = ['--json', o('design.json'), '--freq', String(targetMHz), '--report', o('nextpnr-report.json'), '--seed', String(seed), '--timing-allow-fail', '-l', o('nextpnr.log'), '-q', ...fam.nextpnrArgs];
  if (flow.family === 'ecp5') {
    steps.push({ name: 'pnr', tool: fam.nextpnr, args: [`--${flow.device}`, '--package', flow.package, ...(flow.speed ? ['--speed', String(flow.speed)] : []), '--lpf', rel(constraints), '--textcfg', o('design.config'), ...common] });
    steps.push({ name: 'pack', tool: fam.pack, args: ['--compress', '--input', o('design.config'), '--bit', rel(bitstream)] });
  } else {
    steps.push({ name: 'pnr', tool: fam.nextpnr, args: [`--${flow.device}`, '--package', flow.package, '--pcf', rel(constraints), '--asc', o('design.asc'), ...common] });
    steps.push({ name: 'pack', tool: fam.pack, args: [o('design.asc'), rel(bitstream)] });
    steps.push({ name: 'timing', tool: fam.timer!, args: ['-d', flow.device, '-P', flow.package, '-p', rel(constraints), '-t', '-r', o('icetime.txt'), o('design.asc')] });
  }
  return {
    board: board.name, part: board.part!, family: flow.family, top, sources, files,
    array: { rows, cols, word: board.defaultArray.word }, outDir, bitstream,
    oscillatorMHz: flow.oscillatorMHz, targetMHz, pll, params, seed, steps,
  };
}

/** used / available of one resource. */
export interface Usage {
  used: number;
  available: number | null;
}

export interface BitstreamReport {
  schema: 'bitweave-bitstream-report/1';
  board: string;
  part: string;
  family: FlowFamily;
  top: string;
  sources: string;
  array: { rows: number; cols: number; word: number };
  /** File names relative to the report's folder. */
  files: { bitstream: string; netlistJson: string; netlistVerilog: string; nextpnrReport: string; yosysLog: string; nextpnrLog: string };
  bitstreamBytes: number;
  clock: {
    oscillatorMHz: number;
    targetMHz: number;
    /** The clock the design runs at: the PLL's output (ECP5) or the oscillator. */
    clockMHz: number;
    pll: Ecp5Pll | null;
  };
  timing: {
    /** Every constrained clock met its constraint (nextpnr, post-route). */
    pass: boolean;
    /** Post-route Fmax of the design clock (the one with the least margin), MHz. */
    fmaxMHz: number | null;
    clocks: { net: string; achievedMHz: number; constraintMHz: number; pass: boolean }[];
    /** iCE40 only: icetime's estimate, MHz. */
    icetimeMHz: number | null;
  };
  resources: { lut4: Usage; ff: Usage; ebr: Usage; dsp: Usage; io: Usage; pll: Usage };
  tools: { yosys: string; nextpnr: string; pack: string };
  seconds: { headers: number; synth: number; pnr: number; pack: number; timing: number | null; total: number };
  seed: number;
  date: string;
}

/** First line a tool prints for its version (`yosys -V`, `nextpnr-… --version`, `ecppack --version`). */
function toolVersion(tool: string, args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(tool, args, { encoding: 'utf8', env, timeout: 120_000 });
  const line = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').map((l) => l.trim()).find((l) => l && !/^Preparing to run/.test(l));
  return line ? oneLineMessage(line, 200) : 'unknown';
}

function packageVersion(pkg: string): string | null {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout ? r.stdout.trim() : null;
}

/** The last lines of a log that say what went wrong. */
function failureLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const err = lines.filter((l) => /^(ERROR|Error|error)\b|ERROR:/.test(l));
  return oneLineMessage((err.length ? err[err.length - 1] : lines[lines.length - 1]) ?? 'no message', 300);
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BitweaveError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

type NextpnrReport = { utilization?: Record<string, { used: number; available: number }>; fmax?: Record<string, { achieved: number; constraint: number }> };

/** report.json from nextpnr's report, yosys' stat and the run's times (exported for tests). */
export function buildReport(plan: FlowPlan, nextpnr: NextpnrReport, yosysStat: Record<string, unknown>, extra: {
  seconds: BitstreamReport['seconds']; tools: BitstreamReport['tools']; bitstreamBytes: number; icetimeMHz: number | null; date?: string;
}, board: Board): BitstreamReport {
  const fam = FAMILIES[plan.family];
  const u = nextpnr.utilization ?? {};
  const usage = (name: string): Usage => ({ used: u[name]?.used ?? 0, available: u[name]?.available ?? null });
  const cells = ((yosysStat.design as { num_cells_by_type?: Record<string, number> } | undefined)?.num_cells_by_type) ?? {};
  const ff: Usage = fam.resources.ff
    ? usage(fam.resources.ff)
    : { used: Object.entries(cells).filter(([k]) => /^SB_DFF/.test(k)).reduce((s, [, n]) => s + n, 0), available: board.resources?.ff ?? null };
  const clocks = Object.entries(nextpnr.fmax ?? {}).map(([net, f]) => ({ net, achievedMHz: f.achieved, constraintMHz: f.constraint, pass: f.achieved >= f.constraint }));
  // the design clock: the one with the least margin (on the ULX3S the PLL output, not the 25 MHz input)
  const worst = clocks.slice().sort((a, b) => a.achievedMHz / a.constraintMHz - b.achievedMHz / b.constraintMHz)[0];
  return {
    schema: 'bitweave-bitstream-report/1',
    board: plan.board,
    part: plan.part,
    family: plan.family,
    top: plan.top,
    sources: plan.sources,
    array: plan.array,
    files: {
      bitstream: path.basename(plan.bitstream), netlistJson: 'design.json', netlistVerilog: 'netlist.v',
      nextpnrReport: 'nextpnr-report.json', yosysLog: 'yosys.log', nextpnrLog: 'nextpnr.log',
    },
    bitstreamBytes: extra.bitstreamBytes,
    clock: { oscillatorMHz: plan.oscillatorMHz, targetMHz: plan.targetMHz, clockMHz: plan.pll ? plan.pll.outMHz : plan.oscillatorMHz, pll: plan.pll },
    timing: { pass: clocks.length > 0 && clocks.every((c) => c.pass), fmaxMHz: worst ? worst.achievedMHz : null, clocks, icetimeMHz: extra.icetimeMHz },
    resources: {
      lut4: usage(fam.resources.lut4), ff, ebr: usage(fam.resources.ebr), dsp: usage(fam.resources.dsp), io: usage(fam.resources.io), pll: usage(fam.resources.pll),
    },
    tools: extra.tools,
    seconds: extra.seconds,
    seed: plan.seed,
    date: extra.date ?? new Date().toISOString(),
  };
}

const round = (s: number) => Math.round(s * 10) / 10;

/** A path for messages: relative to the working directory when inside it. */
function shortPath(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : p;
}

/** Runs the whole flow; throws BitweaveError (one line) on any failure. */
export function runFlow(boardName: string, opts: FlowOptions = {}): BitstreamReport {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const board = loadBoard(boardName);
  const plan = planFlow(board, opts);
  const fam = FAMILIES[plan.family];
  const env = { ...process.env, PATH: toolsPath() };
  for (const s of plan.steps) {
    if (!findTool(s.tool, env.PATH)) throw new BitweaveError(`${s.tool} not found (${fam.install})`);
  }
  if (!findTool('nice', env.PATH)) throw new BitweaveError('nice not found (coreutils)');

  const t0 = Date.now();
  fs.mkdirSync(plan.outDir, { recursive: true });
  // nothing of an earlier run may pass for this one's
  for (const f of [plan.bitstream, 'report.json', 'design.json', 'netlist.v', 'stat.json', 'nextpnr-report.json', 'design.config', 'design.asc', 'icetime.txt']) {
    fs.rmSync(path.resolve(plan.outDir, f), { force: true });
  }
  log(`bitstream: ${plan.board} (${plan.part}), ${plan.array.rows}x${plan.array.cols} array, top ${plan.top}, target ${plan.targetMHz} MHz` +
    (plan.pll ? ` (PLL ${plan.oscillatorMHz} MHz / ${plan.pll.clkiDiv} x ${plan.pll.clkfbDiv} = ${+plan.pll.outMHz.toFixed(4)} MHz, VCO ${+plan.pll.vcoMHz.toFixed(1)} MHz)` : ''));

  let t = Date.now();
  writeArrayHeaders(plan.outDir, { ...DEFAULT_ARRAY, rows: plan.array.rows, cols: plan.array.cols });
  const seconds: BitstreamReport['seconds'] = { headers: (Date.now() - t) / 1000, synth: 0, pnr: 0, pack: 0, timing: null, total: 0 };

  for (const s of plan.steps) {
    log(`bitstream: ${s.name}: ${s.tool}${s.name === 'synth' ? ` ${fam.synth.split(' ')[0]}` : ''} …`);
    t = Date.now();
    // niced: place and route runs for minutes beside other work
    const r = spawnSync('nice', ['-n', '10', s.tool, ...s.args], { cwd: packageRoot(), env, encoding: 'utf8', maxBuffer: 256 << 20 });
    const secs = (Date.now() - t) / 1000;
    seconds[s.name] = round(secs);
    if (r.error) throw new BitweaveError(`${s.tool} could not run: ${r.error.message}`);
    if (r.status !== 0) {
      const logFile = s.name === 'synth' ? path.join(plan.outDir, 'yosys.log') : s.name === 'pnr' ? path.join(plan.outDir, 'nextpnr.log') : null;
      const logText = logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      throw new BitweaveError(`${s.tool} failed (exit ${r.status ?? r.signal}): ${failureLine(`${logText}\n${r.stdout}\n${r.stderr}`)}${logFile ? ` (log: ${shortPath(logFile)})` : ''}`);
    }
    log(`bitstream: ${s.name}: ${round(secs)} s`);
  }
  seconds.total = round((Date.now() - t0) / 1000);
  seconds.headers = round(seconds.headers);

  let icetimeMHz: number | null = null;
  if (plan.family === 'ice40') {
    const m = /Total path delay: ([\d.]+) ns \(([\d.]+) MHz\)/.exec(fs.readFileSync(path.join(plan.outDir, 'icetime.txt'), 'utf8'));
    if (m) icetimeMHz = Number(m[2]);
  }
  const tools = {
    yosys: toolVersion('yosys', ['-V'], env),
    nextpnr: toolVersion(fam.nextpnr, ['--version'], env),
    pack: plan.family === 'ecp5' ? toolVersion(fam.pack, ['--version'], env) : `icepack (fpga-icestorm ${packageVersion('fpga-icestorm') ?? 'version unknown'})`,
  };
  const report = buildReport(plan, readJson(path.join(plan.outDir, 'nextpnr-report.json')) as NextpnrReport, readJson(path.join(plan.outDir, 'stat.json')), {
    seconds, tools, bitstreamBytes: fs.statSync(plan.bitstream).size, icetimeMHz,
  }, board);
  fs.writeFileSync(path.join(plan.outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  const r = report.resources;
  const pct = (x: Usage) => (x.available ? ` (${((100 * x.used) / x.available).toFixed(1)}%)` : '');
  log(`bitstream: ${shortPath(plan.bitstream)}: ${r.lut4.used}/${r.lut4.available} LUT4${pct(r.lut4)}, ${r.ff.used} FF, ${r.ebr.used} EBR, ${r.dsp.used} DSP; ` +
    `Fmax ${report.timing.fmaxMHz?.toFixed(1) ?? '?'} MHz at ${report.clock.clockMHz.toFixed(2)} MHz: timing ${report.timing.pass ? 'met' : 'FAILED'}; ${seconds.total} s`);
  return report;
}

function usage(): never {
  process.stderr.write('usage: node dist/host/build/open-flow.js <board> [out-dir] [--mhz N] [--rows R --cols C] [--sources file.f] [--top module] [--seed N]\n');
  process.exit(1);
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const positional: string[] = [];
  const opts: FlowOptions = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => (i + 1 < args.length ? args[++i] : usage());
    if (a === '--mhz') opts.targetMHz = Number(value());
    else if (a === '--sources') opts.sources = value();
    else if (a === '--top') opts.top = value();
    else if (a === '--seed') opts.seed = Number(value());
    else if (a === '--rows') opts.array = { rows: Number(value()), cols: opts.array?.cols ?? NaN };
    else if (a === '--cols') opts.array = { rows: opts.array?.rows ?? NaN, cols: Number(value()) };
    else if (a.startsWith('-')) usage();
    else positional.push(a);
  }
  if (positional.length < 1 || positional.length > 2) usage();
  if (positional[1]) opts.outDir = positional[1];
  try {
    const report = runFlow(positional[0], opts);
    if (!report.timing.pass) {
      process.stderr.write(`bitstream: timing not met: Fmax ${report.timing.fmaxMHz?.toFixed(1) ?? '?'} MHz < ${report.clock.clockMHz.toFixed(2)} MHz (the bitstream is written but may not work; try a lower MHZ=)\n`);
      process.exitCode = 1;
    }
  } catch (e) {
    if (!(e instanceof BitweaveError)) throw e;
    process.stderr.write(`bitstream: ${oneLineMessage(e.message)}\n`);
    process.exitCode = 1;
  }
}
