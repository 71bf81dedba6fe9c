/**
 * Board descriptions (boards/*.json, one per target): part, platform or BSP, clock,
 * resources, memory, toolchain and the array size to start from. Loaded and validated
 * here; everything else (compile, backends, CLI) reads boards through this module.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packagePath } from './core/paths';
import { FormatError, BitweaveError } from './core/errors';
import type { DeviceFilter } from './opencl/platform';

/** 'vivado': a Zynq SoC board whose RTL kernel sits on the PS's AXI ports (host/build/zynq.ts). */
export type Toolchain = 'vitis' | 'intel-fpga-sdk-opencl' | 'pocl' | 'icestorm' | 'trellis' | 'vivado';
const TOOLCHAINS: readonly Toolchain[] = ['vitis', 'intel-fpga-sdk-opencl', 'pocl', 'icestorm', 'trellis', 'vivado'];

/**
 * Resource counts of the part; keys depend on the vendor (Xilinx LUT/BRAM/URAM, Intel
 * ALM/M20K, Lattice LUT4/EBR). `dsp` counts the part's DSP unit as its vendor does (ECP5:
 * MULT18X18D multipliers).
 */
export interface BoardResources {
  scope: string;
  lut?: number;
  alm?: number;
  ff?: number;
  bram36k?: number;
  uram?: number;
  m20k?: number;
  /** Lattice ECP5 sysMEM EBR blocks (DP16KD, 18 Kbit each). */
  ebr18k?: number;
  memKbits?: number;
  dsp?: number;
}
const RESOURCE_KEYS = ['lut', 'alm', 'ff', 'bram36k', 'uram', 'm20k', 'ebr18k', 'memKbits', 'dsp'] as const;

/** How the host reaches a dev board that has no OpenCL runtime (docs/BOARD-PROTOCOL.md). */
export interface BoardLink {
  kind: 'uart';
  /** Bits per second; the SoC is built for it (bw_soc's BAUD) and the host opens the port at it. */
  baud: number;
  /** The USB-UART bridge on the board (e.g. FT231X). */
  bridge?: string;
  note?: string;
}

export type FlowFamily = 'ice40' | 'ecp5';
const FLOW_FAMILIES: readonly FlowFamily[] = ['ice40', 'ecp5'];

/**
 * The open bitstream flow of a board (`make bitstream BOARD=<name>`, host/build/open-flow.ts):
 * yosys synth_<family>, nextpnr-<family>, icepack / ecppack; flashed by openFPGALoader.
 */
export interface OpenFlow {
  family: FlowFamily;
  /** nextpnr's device option without dashes: 'up5k' (iCE40), '85k' (ECP5). */
  device: string;
  /** nextpnr's --package: 'sg48', 'CABGA381'. */
  package: string;
  /** ECP5 speed grade (nextpnr --speed); the part number's. */
  speed?: number;
  /** Pin constraints (.pcf / .lpf), relative to boards/: '<board>/<file>'. */
  constraints: string;
  /** The RTL file list (one file a line, '//' comments), relative to the package root. */
  sources: string;
  /** The top module. */
  top: string;
  /** The board's oscillator; the clock the top gets on its clock pin. */
  oscillatorMHz: number;
  /** Whether the top derives its clock with a PLL whose dividers the flow computes (ECP5 EHXPLLL). */
  pll: boolean;
  /** The programmer: openFPGALoader's board name (`openFPGALoader -b <board>`). */
  programmer: { tool: 'openFPGALoader'; board: string; note?: string };
}

export interface BoardSource {
  title: string;
  url?: string;
  /** Vendor document id when no stable URL is given (e.g. DS962). */
  document?: string;
  facts: string[];
}

export interface Board {
  name: string;
  title: string;
  kind: 'fpga' | 'emulator';
  vendor: string;
  part: string | null;
  platform: string;
  /**
   * `release`: the toolchain release a build is pinned to (README, Makefile); `aocVersion`:
   * the aoc version it names, which the Intel build's check-env.sh compares with `aoc -version`.
   */
  toolchain: { name: Toolchain; compiler: string; runtime: string; binary: string; release?: string; aocVersion?: string };
  clock: { kernelMHz: number | null; note?: string };
  resources: BoardResources | null;
  memory: {
    type: string;
    banks: number;
    bankNames: string[];
    bankBytes: number | null;
    totalBytes: number | null;
    bandwidthGBps: number | null;
    note?: string;
    /** The memory an AXI4 master of a kernel sees (the axi-sim backend's DDR model). */
    axi?: BoardAxiMemory;
  };
  /** Where to start; `estimate: true` until the resource model or a real build confirms it. */
  defaultArray: { rows: number; cols: number; word: number; estimate: boolean; note?: string };
  /** Substrings that find this board's OpenCL device (platform name, device name). */
  opencl: { platform: string; device: string | null };
  /** Dev boards: the host link (the UART of bw_soc). */
  link?: BoardLink;
  /** Boards with an open bitstream flow (yosys + nextpnr). */
  flow?: OpenFlow;
  notes: string[];
  sources: BoardSource[];
  /** The file it was read from. */
  file: string;
}

/**
 * One memory bank as an AXI4 master sees it: its theoretical bandwidth, the fraction a
 * stream of long bursts sustains, and the latencies in kernel cycles.
 */
export interface BoardAxiMemory {
  bankGBps: number;
  efficiency: number;
  readLatencyCycles: number;
  writeLatencyCycles: number;
  note?: string;
}

/** The axi-sim backend's DDR model for a board: latencies, and bytes per kernel cycle at the board's kernel clock. */
export function axiMemory(board: Board): { readLatency: number; writeLatency: number; bytesPerCycle: number } {
  const m = board.memory.axi;
  const mhz = board.clock.kernelMHz;
  if (!m || !mhz) throw new BitweaveError(`board ${board.name} has no AXI memory figures (memory.axi and clock.kernelMHz); the axi-sim backend needs them`);
  return { readLatency: m.readLatencyCycles, writeLatency: m.writeLatencyCycles, bytesPerCycle: (m.bankGBps * m.efficiency * 1000) / mhz };
}

export function boardsDir(): string {
  return process.env.BITWEAVE_BOARDS_DIR ?? packagePath('boards');
}

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
const MAX_BOARD_FILE = 1 << 20;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates one parsed board description; throws FormatError naming the field. */
export function validateBoard(raw: unknown, file: string): Board {
  const bad = (field: string, why: string): never => {
    throw new FormatError(file, `${field}: ${why}`);
  };
  const str = (o: Obj, k: string, where: string, nullable = false): string | null => {
    const v = o[k];
    if (v === null && nullable) return null;
    if (typeof v !== 'string' || v.trim() === '') bad(`${where}${k}`, 'expected a non-empty string');
    return v as string;
  };
  const num = (o: Obj, k: string, where: string, opts: { nullable?: boolean; integer?: boolean; min?: number; max?: number } = {}): number | null => {
    const v = o[k];
    if (v === null && opts.nullable) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`${where}${k}`, `expected a number${opts.nullable ? ' or null' : ''}`);
    if (opts.integer && !Number.isSafeInteger(v)) bad(`${where}${k}`, 'expected an integer');
    if (opts.min !== undefined && v < opts.min) bad(`${where}${k}`, `must be >= ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) bad(`${where}${k}`, `must be <= ${opts.max}`);
    return v;
  };
  const obj = (o: Obj, k: string, where: string): Obj => (isObj(o[k]) ? (o[k] as Obj) : bad(`${where}${k}`, 'expected an object'));
  const strings = (o: Obj, k: string, where: string): string[] => {
    const v = o[k];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) bad(`${where}${k}`, 'expected an array of strings');
    return v as string[];
  };

  if (!isObj(raw)) bad('board', 'expected a JSON object');
  const b = raw as Obj;
  const name = str(b, 'name', '')!;
  if (!NAME_RE.test(name)) bad('name', `'${name}' must be lower-case letters, digits and dashes`);
  if (path.basename(file) !== `${name}.json`) bad('name', `'${name}' does not match the file name`);
  const kind = b.kind;
  if (kind !== 'fpga' && kind !== 'emulator') bad('kind', "expected 'fpga' or 'emulator'");

  const tc = obj(b, 'toolchain', '');
  const tcName = str(tc, 'name', 'toolchain.') as Toolchain;
  if (!TOOLCHAINS.includes(tcName)) bad('toolchain.name', `expected one of ${TOOLCHAINS.join(', ')}`);
  for (const k of ['release', 'aocVersion']) if (k in tc && typeof tc[k] !== 'string') bad(`toolchain.${k}`, 'expected a string');

  const clock = obj(b, 'clock', '');
  num(clock, 'kernelMHz', 'clock.', { nullable: true, min: 1, max: 2000 });
  if (kind === 'fpga' && tcName === 'vitis' && clock.kernelMHz === null) bad('clock.kernelMHz', 'a Vitis platform has a target kernel clock');

  let resources: BoardResources | null = null;
  if (b.resources !== null) {
    const r = obj(b, 'resources', '');
    str(r, 'scope', 'resources.');
    for (const k of Object.keys(r)) if (k !== 'scope' && !(RESOURCE_KEYS as readonly string[]).includes(k)) bad(`resources.${k}`, `unknown resource (known: ${RESOURCE_KEYS.join(', ')})`);
    for (const k of RESOURCE_KEYS) if (k in r) num(r, k, 'resources.', { integer: true, min: 0 });
    if (!('lut' in r) && !('alm' in r)) bad('resources', 'needs lut (Xilinx) or alm (Intel)');
    resources = r as unknown as BoardResources;
  } else if (kind === 'fpga') {
    bad('resources', 'an FPGA board lists its resources');
  }

  const mem = obj(b, 'memory', '');
  str(mem, 'type', 'memory.');
  const banks = num(mem, 'banks', 'memory.', { integer: true, min: 1, max: 1024 })!;
  const bankNames = strings(mem, 'bankNames', 'memory.');
  if (bankNames.length !== banks && !bankNames.includes('...')) bad('memory.bankNames', `lists ${bankNames.length} names for ${banks} banks`);
  const bankBytes = num(mem, 'bankBytes', 'memory.', { nullable: true, integer: true, min: 1 });
  const totalBytes = num(mem, 'totalBytes', 'memory.', { nullable: true, integer: true, min: 1 });
  if (bankBytes !== null && totalBytes !== null && bankBytes * banks !== totalBytes) bad('memory.totalBytes', `${totalBytes} is not banks x bankBytes = ${bankBytes * banks}`);
  num(mem, 'bandwidthGBps', 'memory.', { nullable: true, min: 0 });
  if (mem.axi !== undefined) {
    const axi = obj(mem, 'axi', 'memory.');
    num(axi, 'bankGBps', 'memory.axi.', { min: 0.001 });
    num(axi, 'efficiency', 'memory.axi.', { min: 0.01, max: 1 });
    num(axi, 'readLatencyCycles', 'memory.axi.', { integer: true, min: 0, max: 100000 });
    num(axi, 'writeLatencyCycles', 'memory.axi.', { integer: true, min: 0, max: 100000 });
  }

  const arr = obj(b, 'defaultArray', '');
  num(arr, 'rows', 'defaultArray.', { integer: true, min: 1, max: 1024 });
  num(arr, 'cols', 'defaultArray.', { integer: true, min: 1, max: 1024 });
  const word = num(arr, 'word', 'defaultArray.', { integer: true });
  if (word !== 32 && word !== 64) bad('defaultArray.word', 'must be 32 or 64');
  if (typeof arr.estimate !== 'boolean') bad('defaultArray.estimate', 'expected true or false');

  const ocl = obj(b, 'opencl', '');
  str(ocl, 'platform', 'opencl.');
  str(ocl, 'device', 'opencl.', true);

  if (b.link !== undefined) {
    const l = obj(b, 'link', '');
    if (l.kind !== 'uart') bad('link.kind', "expected 'uart'");
    num(l, 'baud', 'link.', { integer: true, min: 300, max: 12_000_000 });
    if (l.bridge !== undefined) str(l, 'bridge', 'link.');
  }
  if (b.flow !== undefined) {
    const f = obj(b, 'flow', '');
    if (!FLOW_FAMILIES.includes(f.family as FlowFamily)) bad('flow.family', `expected one of ${FLOW_FAMILIES.join(', ')}`);
    for (const k of ['device', 'package', 'top']) if (!/^[A-Za-z0-9_]+$/.test(str(f, k, 'flow.')!)) bad(`flow.${k}`, 'letters, digits and underscores only');
    if (f.speed !== undefined) num(f, 'speed', 'flow.', { integer: true, min: 1, max: 9 });
    for (const k of ['constraints', 'sources']) {
      const p = str(f, k, 'flow.')!;
      if (path.isAbsolute(p) || p.split(/[\\/]/).includes('..') || !/^[\w./-]+$/.test(p)) bad(`flow.${k}`, `'${p}' must be a relative path inside the package, without '..'`);
    }
    num(f, 'oscillatorMHz', 'flow.', { min: 1, max: 1000 });
    if (typeof f.pll !== 'boolean') bad('flow.pll', 'expected true or false');
    const pr = obj(f, 'programmer', 'flow.');
    if (pr.tool !== 'openFPGALoader') bad('flow.programmer.tool', "expected 'openFPGALoader'");
    if (!/^[A-Za-z0-9_-]+$/.test(str(pr, 'board', 'flow.programmer.')!)) bad('flow.programmer.board', 'letters, digits, dashes and underscores only');
    if (clock.kernelMHz === null) bad('clock.kernelMHz', 'a board with an open flow has a target clock');
  }

  strings(b, 'notes', '');
  if (!Array.isArray(b.sources) || b.sources.length === 0) bad('sources', 'at least one source is required');
  (b.sources as unknown[]).forEach((s, i) => {
    if (!isObj(s)) return bad(`sources[${i}]`, 'expected an object');
    str(s, 'title', `sources[${i}].`);
    if (typeof s.url !== 'string' && typeof s.document !== 'string') bad(`sources[${i}]`, 'needs a url or a document id');
    if (typeof s.url === 'string' && !/^https?:\/\//.test(s.url)) bad(`sources[${i}].url`, 'must be an http(s) URL');
    strings(s, 'facts', `sources[${i}].`);
  });
  str(b, 'title', '');
  str(b, 'vendor', '');
  str(b, 'part', '', kind === 'emulator');
  str(b, 'platform', '');
  return { ...(b as unknown as Board), resources, file };
}

/** Reads and validates one board file. */
export function readBoardFile(file: string): Board {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (st.size > MAX_BOARD_FILE) throw new FormatError(file, `board description of ${st.size} bytes is too large`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof BitweaveError) throw e;
    throw new BitweaveError(`cannot read board description ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FormatError(file, `invalid JSON: ${(e as Error).message}`);
  }
  return validateBoard(raw, file);
}

/** Every board, sorted by name. */
export function listBoards(dir = boardsDir()): Board[] {
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch (e) {
    throw new BitweaveError(`cannot list board descriptions in ${dir}: ${(e as Error).message}`);
  }
  return files.sort().map((f) => readBoardFile(path.join(dir, f)));
}

/** One board by name; an unknown name lists the known ones. */
export function loadBoard(name: string, dir = boardsDir()): Board {
  if (typeof name !== 'string' || !NAME_RE.test(name)) throw new BitweaveError(`invalid board name ${JSON.stringify(name)}`);
  const file = path.join(dir, `${name}.json`);
  if (!fs.existsSync(file)) {
    const known = listBoards(dir).map((b) => b.name);
    throw new BitweaveError(`unknown board '${name}' (known: ${known.join(', ')})`);
  }
  return readBoardFile(file);
}

/**
 * A board's open flow, or a one-line error saying it has none (`make bitstream`,
 * `bitweave flash`).
 */
export function boardFlow(board: Board): OpenFlow {
  if (!board.flow) {
    const open = listBoards(path.dirname(board.file)).filter((b) => b.flow).map((b) => b.name);
    throw new BitweaveError(`board '${board.name}' has no open bitstream flow (boards with one: ${open.join(', ')})`);
  }
  return board.flow;
}

/** A board's pin constraints file (boards/<board>/…, beside its description). */
export function boardConstraints(board: Board): string {
  return path.join(path.dirname(board.file), boardFlow(board).constraints);
}

/** The OpenCL device filter that finds this board's device (for selectDevices). */
export function boardDeviceFilter(board: Board): DeviceFilter {
  return { platform: board.opencl.platform, name: board.opencl.device ?? undefined };
}
