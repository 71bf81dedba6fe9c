/**
 * The OpenCL kernels' calling convention (host/array/kernel-abi.ts) parsed from the .cl
 * sources, the generated header in the kernel source, and the descriptor check
 * (host/array/descriptor.ts) accepting encoded programs and rejecting every bad field.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { declareArg, KERNEL_ARGS, KERNEL_NAME } from '../../host/array/kernel-abi';
import { checkProgram, openclLimits } from '../../host/array/descriptor';
import { DEFAULT_ARRAY, DESC_WORDS, FIELD } from '../../host/array/params';
import { encodeSegment } from '../../host/array/program';
import { KERNEL_FILES, kernelDir, kernelSource } from '../../host/array/sources';
import { BitweaveError } from '../../host/core/errors';
import { rng } from '../helpers/naive';
import {
  bconvModel, BconvCase, } from '../helpers/native-models';

describe('OpenCL array kernel ABI', () => {
  it('the kernel signature in opencl-kernels/ is exactly KERNEL_ARGS (parsed from the .cl source)', () => {
    const all = KERNEL_FILES.map((f) => fs.readFileSync(path.join(kernelDir(), f), 'utf8')).join('\n');
    const kernels = [...all.matchAll(/__kernel\b[^{;]*?\bvoid\s+(\w+)\s*\(([^)]*)\)/g)];
    assert.deepEqual(kernels.map((k) => k[1]), [KERNEL_NAME], 'one kernel, the array');
    const params = kernels[0][2].split(',').map((p) => p.replace(/\/\*.*?\*\//g, '').replace(/\s+/g, ' ').trim());
    assert.deepEqual(params, KERNEL_ARGS.map(declareArg));
    assert.match(all, /reqd_work_group_size\(1, 1, 1\)/, 'single work-item');
    // the shared header is generated, never copied into the kernel folder
    assert.doesNotMatch(all, /#define BW_ROWS|#define BW_D_/);
    assert.doesNotMatch(all, /#include/);
    const src = kernelSource({ ...DEFAULT_ARRAY, rows: 4, cols: 3 });
    assert.match(src, /#define BW_ROWS 4\b/);
    assert.match(src, /#define BW_COLS 3\b/);
    // no vendor channel / pipe extensions in the path PoCL runs
    assert.doesNotMatch(all, /cl_intel_channels|read_channel|write_channel|\bpipe\b/);
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
