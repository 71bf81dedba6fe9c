import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { arrayHeaderC, arrayHeaderSv } from '../host/array/header';
import { DEFAULT_ARRAY, DESC_FIELDS, DESC_WORDS, FIELD, FLAG_FLIP, OP_AND_PLANES, OP_POOL, OP_THRESHOLD } from '../host/array/params';
import { encodeSegment } from '../host/array/program';
import { compile } from '../host/compile/compile';
import { BconvOp } from '../host/compile/model';
import { randomModel } from './helpers/random-model';

describe('array layer programs', () => {
  for (const bits of [1, 2]) {
    it(`encode every bconv of a ${bits}-bit model into descriptors that carry its geometry`, () => {
      const m = compile(randomModel({ seed: 3, actBits: bits }));
      const segs = m.segments.map((s, i) => ({ s, i })).filter((x) => x.s.kind === 'device');
      assert.ok(segs.length >= 1);
      for (const { s, i } of segs) {
        const prog = encodeSegment(m, i, DEFAULT_ARRAY);
        assert.equal(prog.descriptors.length, prog.layers * DESC_WORDS);
        let weightWords = 0;
        for (let l = 0; l < prog.layers; l++) {
          const op = m.ops[s.start + l] as BconvOp;
          const d = (f: keyof typeof FIELD) => prog.descriptors[l * DESC_WORDS + FIELD[f]];
          assert.equal(d('KH'), op.kh);
          assert.equal(d('OUT_C'), op.outC);
          assert.equal(d('IN_PLANES'), op.inBits);
          assert.equal((d('OPCODE') & OP_AND_PLANES) !== 0, op.inBits > 1);
          assert.equal((d('OPCODE') & OP_POOL) !== 0, op.pool !== null);
          assert.equal((d('OPCODE') & OP_THRESHOLD) !== 0, op.epilogue.kind === 'threshold');
          // weights land at W_OFF unchanged
          const w = prog.weights.subarray(d('W_OFF') * 2, d('W_OFF') * 2 + op.weight.length);
          assert.deepEqual(Array.from(w), Array.from(op.weight));
          weightWords += op.weight.length / 2;
          if (op.epilogue.kind === 'threshold') {
            const t = prog.params.subarray(d('T_OFF'), d('T_OFF') + op.epilogue.thresholds.length);
            assert.deepEqual(Array.from(t), Array.from(op.epilogue.thresholds));
            for (let c = 0; c < op.outC; c++) assert.equal(prog.params[d('F_OFF') + c] & FLAG_FLIP, op.epilogue.flip[c] ? FLAG_FLIP : 0);
          }
          // regions are disjoint and inside the arena
          assert.ok(d('IN_OFF') !== d('OUT_OFF'));
        }
        assert.equal(prog.weights.length / 2, weightWords);
        for (const r of [...prog.inputs, ...prog.outputs]) assert.ok(r.offset + r.words <= prog.arenaWords);
      }
    });
  }

  it('rejects a layer whose accumulator would overflow the array', () => {
    const m = compile(randomModel({ seed: 4 }));
    const dev = m.segments.findIndex((s) => s.kind === 'device');
    assert.throws(() => encodeSegment(m, dev, { ...DEFAULT_ARRAY, accBits: 4 }), /accumulator needs/);
  });
});

describe('generated array headers', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-hdr-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('the C header compiles and agrees with params.ts', () => {
    fs.writeFileSync(path.join(tmp, 'bitweave_array.h'), arrayHeaderC(DEFAULT_ARRAY));
    const checks = DESC_FIELDS.map((f, i) => `_Static_assert(BW_D_${f} == ${i}, "${f}");`).join('\n');
    fs.writeFileSync(path.join(tmp, 't.c'), `#include "bitweave_array.h"\n_Static_assert(BW_DESC_WORDS == ${DESC_WORDS}, "words");\n_Static_assert(BW_ROWS == ${DEFAULT_ARRAY.rows}, "rows");\n${checks}\nint main(void){return 0;}\n`);
    const r = spawnSync('cc', ['-std=c11', '-Wall', '-Werror', '-fsyntax-only', path.join(tmp, 't.c')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('the SystemVerilog package lints under verilator', function () {
    if (spawnSync('verilator', ['--version']).status !== 0) {
      console.log('      SKIPPED: verilator not installed (make setup installs it)');
      this.skip();
    }
    fs.writeFileSync(path.join(tmp, 'bitweave_array.svh'), arrayHeaderSv(DEFAULT_ARRAY));
    fs.writeFileSync(path.join(tmp, 'top.sv'), '`include "bitweave_array.svh"\nmodule top(output logic [31:0] o);\n  import bitweave_array::*;\n  assign o = 32\'(DESC_WORDS + ROWS);\nendmodule\n');
    const r = spawnSync('verilator', ['--lint-only', '-Wall', `-I${tmp}`, path.join(tmp, 'top.sv')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});
