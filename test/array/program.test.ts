import * as assert from 'node:assert/strict';
import { DEFAULT_ARRAY, DESC_WORDS, FIELD, FLAG_FLIP, OP_AND_PLANES, OP_POOL, OP_THRESHOLD } from '../../host/array/params';
import { encodeSegment } from '../../host/array/program';
import { compile } from '../../host/compile/compile';
import { BconvOp } from '../../host/compile/model';
import { randomModel } from '../helpers/random-model';

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
