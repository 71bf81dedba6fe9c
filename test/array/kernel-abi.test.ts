/**
 * The OpenCL kernels' calling convention (host/array/kernel-abi.ts) parsed from the .cl
 * sources, the generated header in the kernel source, and the descriptor check
 * (host/array/descriptor.ts) accepting encoded programs and rejecting every bad field.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findClang, typeCheckIntel } from '../helpers/intel-cl';
import { ARRAY_KERNELS, CHANNELS_MARKER, declareArg } from '../../host/array/kernel-abi';
import { checkProgram, openclLimits } from '../../host/array/descriptor';
import { DEFAULT_ARRAY, DESC_WORDS, FIELD } from '../../host/array/params';
import { encodeSegment } from '../../host/array/program';
import { KERNEL_FILES, kernelDir, kernelSource } from '../../host/array/sources';
import { BitweaveError } from '../../host/core/errors';
import { rng } from '../helpers/naive';
import {
  bconvModel, BconvCase, } from '../helpers/native-models';

/** The source with every `#ifdef BW_INTEL_FPGA` branch removed (its #else branch kept). */
function withoutIntel(src: string): string {
  return src.replace(/#ifdef BW_INTEL_FPGA\n([\s\S]*?)(?:#else\n([\s\S]*?))?#endif/g, (_m, _intel, other) => other ?? '');
}

describe('OpenCL array kernel ABI', () => {
  it('the kernels in opencl-kernels/ are exactly ARRAY_KERNELS (parsed from the .cl sources)', () => {
    const all = KERNEL_FILES.map((f) => fs.readFileSync(path.join(kernelDir(), f), 'utf8')).join('\n');
    // the FIFO build (no BW_INTEL_FPGA) as PoCL compiles it
    const fifo = withoutIntel(all);
    const kernels = [...fifo.matchAll(/__kernel\b[^{;]*?\bvoid\s+(\w+)\s*\(([^)]*)\)/g)];
    assert.deepEqual(kernels.map((k) => k[1]), Object.values(ARRAY_KERNELS).map((k) => k.name), 'feeder, PE array, output units');
    for (const [i, k] of kernels.entries()) {
      const spec = Object.values(ARRAY_KERNELS)[i];
      const params = k[2].split(',').map((p) => p.replace(/\/\*.*?\*\//g, '').replace(/\s*\brestrict\b\s*/g, '').replace(/\s+/g, ' ').trim());
      assert.deepEqual(params, spec.args.map(declareArg), spec.name);
    }
    assert.equal([...all.matchAll(/reqd_work_group_size\(1, 1, 1\)/g)].length, 3, 'single work-item kernels');
    // the shared header is generated, never copied into the kernel folder
    assert.doesNotMatch(all, /#define BW_ROWS|#define BW_D_/);
    assert.doesNotMatch(all, /#include/);
    const src = kernelSource({ ...DEFAULT_ARRAY, rows: 4, cols: 3 });
    assert.match(src, /#define BW_ROWS 4\b/);
    assert.match(src, /#define BW_COLS 3\b/);
    // no vendor channel / pipe extensions in the path PoCL runs; the Intel build has them
    assert.doesNotMatch(fifo, /cl_intel_channels|read_channel|write_channel|\bpipe\b/);
    assert.match(all, /cl_intel_channels/);
    // no division or modulo by a run-time value inside the kernels' tile loops (aoc builds a divider for each)
    for (const f of ['feeder.cl', 'pe_array.cl', 'output_unit.cl']) {
      const text = fs.readFileSync(path.join(kernelDir(), f), 'utf8');
      const body = text.slice(text.indexOf('__kernel'));
      const divides = [...body.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/[^/*]\s*([/%])\s*([A-Za-z_][\w.>-]*)/g)].filter((m) => !/^BW_[A-Z_]+$/.test(m[2]));
      assert.deepEqual(divides.map((m) => m[0].trim()), [], `${f}: run-time divides in a kernel body`);
    }
  });

  it('the Intel build (channels) type-checks: clang with a stand-in for the channel built-ins', function () {
    const clang = findClang();
    if (!clang) {
      console.log('      (no clang here: the Intel variant was not type-checked)');
      this.skip();
    }
    const src = kernelSource({ ...DEFAULT_ARRAY, rows: 16, cols: 32 });
    const ok = typeCheckIntel(clang!, src);
    assert.equal(ok.status, 0, ok.stderr);
    // the marker kernel that tells the host to run the three kernels at once
    assert.match(src, new RegExp(`__kernel void ${CHANNELS_MARKER}\\(void\\)`));
    // a wrong channel expression is caught (the check can fail)
    assert.notEqual(typeCheckIntel(clang!, src.replace('BW_PUSH(acc, acc_q, col);', 'BW_PUSH(acc, acc_q, col.v);')).status, 0);
  });

  it('checkProgram accepts encoded programs and rejects every out-of-range descriptor', () => {
    const LIM = openclLimits(DEFAULT_ARRAY);
    const p: BconvCase = { H: 6, W: 5, C: 70, outC: 9, kh: 3, kw: 2, sh: 1, sw: 2, ph: 1, pw: 1, padBit: 1, inBits: 1, pool: { kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 }, outBits: 1, seed: 3 };
    const m = bconvModel(p, rng(3));
    const si = m.segments.findIndex((s) => s.kind === 'device');
    const prog = encodeSegment(m, si, DEFAULT_ARRAY);
    const sizes = { weightWords: prog.weights.length / 2, paramEntries: prog.params.length, arenaWords: prog.arenaWords };
    checkProgram(prog.descriptors, prog.layers, LIM, sizes);
    const bad: [keyof typeof FIELD, number, RegExp][] = [
      ['IN_OFF', prog.arenaWords, /input region/],
      ['OUT_OFF', prog.arenaWords - 1, /output region/],
      ['W_OFF', prog.weights.length / 2 - 1, /weights/],
      ['T_OFF', prog.params.length, /thresholds/],
      ['F_OFF', prog.params.length - 1, /channel flags/],
      ['IN_WORDS', 1, /IN_WORDS/],
      ['ACC_H', 99, /ACC_H/],
      ['OUT_W', 7, /OUT_H x OUT_W/],
      ['OPCODE', 64, /opcode/],
      ['TAIL', 0, /TAIL/],
      ['OUT_BITS', 9, /OUT_BITS/],
      ['IN_PLANES', 2, /IN_PLANES/],
      ['KH', 0, /KH/],
      ['PAD_BIT', 2, /PAD_BIT/],
    ];
    for (const [f, v, re] of bad) {
      const d = prog.descriptors.slice();
      d[FIELD[f]] = v;
      assert.throws(() => checkProgram(d, prog.layers, LIM, sizes), (e: Error) => e instanceof BitweaveError && re.test(e.message) && /layer 0/.test(e.message), `${f} = ${v}`);
    }
    assert.throws(() => checkProgram(prog.descriptors.subarray(0, DESC_WORDS - 1), 1, LIM, sizes), /descriptor words/);
    assert.throws(() => checkProgram(prog.descriptors, prog.layers, LIM, { ...sizes, arenaWords: 2 ** 31 }), /2\^31/);
  });
});
