/**
 * Resource estimates of the RTL array from yosys (`make synth`, sim/synth.sh): parses
 * yosys `stat -json` reports into LUT / FF / carry / RAM / DSP counts, and records the
 * per-PE figures board sizing uses (host/build/sizing.ts). These are estimates of yosys' generic
 * technology mapping (synth_xilinx -family xcup, synth_ice40), not Vivado / Quartus
 * results: real place-and-route numbers differ, and the sizing keeps a margin for that.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError } from '../core/errors';

export interface CellCounts {
  /** Logic LUTs plus LUT sites used as shift registers or distributed RAM (`lutram`). */
  lut: number;
  lutram: number;
  ff: number;
  carry: number;
  bram: number;
  dsp: number;
  cells: Record<string, number>;
}

/** LUT sites of Xilinx shift-register and distributed-RAM primitives (UltraScale+ CLB guide). */
const LUT_SITES: Record<string, number> = {
  SRL16E: 1, SRLC32E: 1, RAM32X1S: 1, RAM32X1D: 2, RAM64X1S: 1, RAM64X1D: 2, RAM128X1S: 2, RAM128X1D: 4,
  RAM256X1S: 4, RAM256X1D: 8, RAM512X1S: 8, RAM32M: 4, RAM64M: 4, RAM32M16: 8, RAM64M8: 8,
};

/** Counts of one module in a yosys `stat -json` report (the top when module is omitted). */
export function parseYosysStat(json: unknown, module?: string): CellCounts {
  const mods = (json as { modules?: Record<string, { num_cells_by_type?: Record<string, number> }> })?.modules;
  if (!mods || typeof mods !== 'object') throw new BitweaveError('yosys stat: no modules in the report');
  const key = module ? Object.keys(mods).find((k) => k.replace(/^\\/, '') === module) : Object.keys(mods)[Object.keys(mods).length - 1];
  if (!key) throw new BitweaveError(`yosys stat: module ${module} not in the report`);
  const cells = mods[key].num_cells_by_type ?? {};
  const c: CellCounts = { lut: 0, lutram: 0, ff: 0, carry: 0, bram: 0, dsp: 0, cells };
  for (const [t, n] of Object.entries(cells)) {
    if (/^(LUT[1-6]|SB_LUT4)$/.test(t)) c.lut += n;
    else if (t in LUT_SITES) {
      c.lut += n * LUT_SITES[t];
      c.lutram += n * LUT_SITES[t];
    }
    else if (/^(FD[RSCP]E?|SB_DFF\w*)$/.test(t)) c.ff += n;
    else if (/^(CARRY[48]|SB_CARRY)$/.test(t)) c.carry += n;
    else if (/^(RAMB\w+|SB_RAM\w+|SB_SPRAM\w+)$/.test(t)) c.bram += n;
    else if (/^(DSP48E\w*|SB_MAC16)$/.test(t)) c.dsp += n;
  }
  return c;
}

/** What `make synth` measures, per target family. */
export interface SynthSummary {
  generator: string;
  note: string;
  targets: Record<string, {
    perPE: { lut: number; ff: number };
    array?: { rows: number; cols: number; lut: number; ff: number };
    /** bw_output_unit with `rows` rows x `lanes` drained columns, and its cost per lane. */
    output?: { rows: number; lanes: number; lut: number; ff: number; perLane: { lut: number; ff: number } };
    top?: { rows: number; cols: number; lut: number; ff: number; bram: number; dsp: number };
  }>;
}

/**
 * What `make synth` measured for the default RTL build (DRAIN = COLS) on UltraScale+,
 * recorded here so that `bitweave compile --board` sizes arrays without yosys (the
 * figures a fresh `make synth` prints are compared with these, and a test re-synthesises
 * them): `grid` per PE of the 4x4 bw_pe_array (PE, skew, column deskew, drain), `lane` per
 * output lane of the 4-row, 4-lane bw_output_unit (row-unit datapath, packing, its share of the
 * parameter RAM and control); the RTL with DRAIN = COLS has one output lane per PE.
 */
export const RECORDED_XCUP = { grid: { lut: 429, ff: 253 }, lane: { lut: 216, ff: 131 } } as const;

/**
 * LUTs / FFs per PE that board sizing uses: the PE grid's. Output units are left to the
 * rest of the budget: the HLS kernel that Xilinx builds contain has one per PE row, not
 * the RTL's lane per PE.
 */
export function xcupCostPerPE(): { lut: number; ff: number } {
  return { ...RECORDED_XCUP.grid };
}

/** Reads build/synth/summary.json (written by `make synth`). */
export function readSynthSummary(file: string): SynthSummary {
  if (!fs.existsSync(file)) throw new BitweaveError(`${file} not found (run 'make synth')`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SynthSummary;
}

/** `node dist/host/array/resources.js <synth dir>`: summary.json and summary.txt from the stat reports. */
if (require.main === module) {
  const dir = process.argv[2] ?? 'build/synth';
  const stat = (f: string) => parseYosysStat(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
  const summary: SynthSummary = {
    generator: 'make synth (yosys; sim/synth.sh)',
    note: 'yosys technology mapping estimates, not vendor place-and-route results',
    targets: {},
  };
  const lines: string[] = [];
  for (const t of ['xcup', 'ice40']) {
    const pe = stat(`pe_${t}.json`);
    const entry: SynthSummary['targets'][string] = { perPE: { lut: pe.lut, ff: pe.ff } };
    lines.push(`${t}: PE (WORD 64, ACC 24): ${pe.lut} LUT, ${pe.ff} FF, ${pe.carry} carry`);
    const arrFile = `array_${t}.json`;
    if (fs.existsSync(path.join(dir, arrFile))) {
      const a = stat(arrFile);
      const [rows, cols] = fs.readFileSync(path.join(dir, 'array_size.txt'), 'utf8').trim().split('x').map(Number);
      entry.array = { rows, cols, lut: a.lut, ff: a.ff };
      entry.perPE = { lut: Math.round(a.lut / (rows * cols)), ff: Math.round(a.ff / (rows * cols)) };
      lines.push(`${t}: array ${rows}x${cols} with skew and drain: ${a.lut} LUT, ${a.ff} FF -> ${entry.perPE.lut} LUT, ${entry.perPE.ff} FF per PE`);
    }
    const outFile = `out_${t}.json`;
    if (fs.existsSync(path.join(dir, outFile))) {
      const a = stat(outFile);
      const [rows, lanes] = fs.readFileSync(path.join(dir, 'out_size.txt'), 'utf8').trim().split('x').map(Number);
      const perLane = { lut: Math.round(a.lut / (rows * lanes)), ff: Math.round(a.ff / (rows * lanes)) };
      entry.output = { rows, lanes, lut: a.lut, ff: a.ff, perLane };
      lines.push(`${t}: output unit ${rows} rows x ${lanes} lanes: ${a.lut} LUT, ${a.ff} FF -> ${perLane.lut} LUT, ${perLane.ff} FF per lane`);
    }
    if (t === 'xcup' && entry.array && entry.output) {
      const r = RECORDED_XCUP;
      const same = entry.perPE.lut === r.grid.lut && entry.perPE.ff === r.grid.ff && entry.output.perLane.lut === r.lane.lut && entry.output.perLane.ff === r.lane.ff;
      lines.push(same ? 'xcup: equal to the figures recorded in host/array/resources.ts (RECORDED_XCUP)' : `xcup: differs from RECORDED_XCUP (grid ${r.grid.lut} LUT / ${r.grid.ff} FF, lane ${r.lane.lut} / ${r.lane.ff}): update it so compile --board sizes with these`);
    }
    const topFile = `top_${t}.json`;
    if (fs.existsSync(path.join(dir, topFile))) {
      const a = stat(topFile);
      const [rows, cols] = fs.readFileSync(path.join(dir, 'top_size.txt'), 'utf8').trim().split('x').map(Number);
      entry.top = { rows, cols, lut: a.lut, ff: a.ff, bram: a.bram, dsp: a.dsp };
      lines.push(`${t}: whole top ${rows}x${cols}: ${a.lut} LUT, ${a.ff} FF, ${a.bram} RAM blocks, ${a.dsp} DSP`);
    }
    summary.targets[t] = entry;
  }
  fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'summary.txt'), lines.join('\n') + '\n');
  process.stdout.write(lines.join('\n') + '\n');
}
