import * as assert from 'node:assert/strict';
import { DEFAULT_ARRAY, DESC_WORDS, FIELD, FLAG_FLIP, OP_AND_PLANES, OP_IN_SIGNED, OP_OUT_SIGNED, OP_POOL, OP_THRESHOLD, OP_W_SIGNED } from '../../host/array/params';
import { checkProgram, decodeDescriptor, openclLimits } from '../../host/array/descriptor';
import { programCycles } from '../../host/array/cycles';
import { encodeSegment } from '../../host/array/program';
import { rng } from '../helpers/naive';
import { bconvModel, BconvCase } from '../helpers/native-models';
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

  it('integer layers: signedness opcode bits, W_BITS, a channel\'s weight planes adjacent, K and MACs x W_BITS, the accumulator bound from both operands', () => {
    const p: BconvCase = { H: 4, W: 3, C: 70, outC: 5, kh: 2, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, padBit: 1, inBits: 3, inSigned: true, wBits: 3, wSigned: true, pool: null, outBits: 2, outSigned: true, seed: 1 };
    const m = bconvModel(p, rng(5));
    const dev = m.segments.findIndex((s) => s.kind === 'device');
    const prog = encodeSegment(m, dev, DEFAULT_ARRAY);
    const d = decodeDescriptor(prog.descriptors, 0);
    assert.equal(d.OPCODE, OP_THRESHOLD | OP_AND_PLANES | OP_IN_SIGNED | OP_W_SIGNED | OP_OUT_SIGNED);
    assert.equal(d.W_BITS, 3);
    assert.equal(d.TAIL, 0, 'no xnor tail correction in AND mode');
    assert.equal(d.kSteps, 3 * 3 * 2 * 3 * 2);
    assert.equal(d.kWords, 3 * 2 * 3 * 2);
    assert.equal(d.weightWords, 3 * 5 * 2 * 3 * 2);
    // the probe layer reads the signed output: signed activations, 1-bit weights
    const probe = decodeDescriptor(prog.descriptors, 1);
    assert.equal(probe.OPCODE, OP_AND_PLANES | OP_IN_SIGNED);
    // [plane][channel][run] in the model -> [channel][plane][run] in the program
    const op = m.ops[dev === 1 ? 1 : dev] as BconvOp;
    const run = 2 * 3 * 2 * 2; // Uint32 halves of KH·KW·IN_WORDS words
    for (let q = 0; q < 3; q++)
      for (let oc = 0; oc < 5; oc++)
        assert.deepEqual(Array.from(prog.weights.subarray((oc * 3 + q) * run, (oc * 3 + q + 1) * run)), Array.from(op.weight.subarray((q * 5 + oc) * run, (q * 5 + oc + 1) * run)));
    // |v| <= K·4·4 with 3-bit signed operands
    const K = 2 * 3 * 70;
    assert.throws(() => encodeSegment(m, dev, { ...DEFAULT_ARRAY, accBits: Math.ceil(Math.log2(K * 16)) }), /accumulator needs/);
    encodeSegment(m, dev, { ...DEFAULT_ARRAY, accBits: Math.ceil(Math.log2(K * 16 + 1)) + 1 });
    // the cycle model streams W_BITS·IN_PLANES passes per window word
    const cyc = programCycles(prog, 1, DEFAULT_ARRAY);
    assert.equal(cyc[0].k, 36 * 3);
    assert.equal(cyc[0].macs, 5 * (5 * 3) * K * 3 * 3, "OUT_C · ACC_H·ACC_W · K · IN_PLANES · W_BITS");
    // the descriptor check: signedness bits need planes to be signed, OUT_SIGNED a k-bit threshold output
    const sizes = { weightWords: prog.weights.length / 2, paramEntries: prog.params.length, arenaWords: prog.arenaWords };
    checkProgram(prog.descriptors, prog.layers, openclLimits(DEFAULT_ARRAY), sizes);
    const bad: [keyof typeof FIELD, number, RegExp][] = [
      ['W_BITS', 0, /W_BITS = 0/],
      ['W_BITS', 5, /W_BITS = 5: the OpenCL kernel takes up to 4-bit weights/],
      ['W_BITS', 1, /W_SIGNED needs W_BITS >= 2/],
      ['IN_PLANES', 1, /IN_SIGNED needs IN_PLANES >= 2/],
      ['OUT_BITS', 1, /OUT_SIGNED needs a threshold epilogue with OUT_BITS >= 2/],
      ['OPCODE', OP_THRESHOLD | OP_IN_SIGNED | OP_W_SIGNED | OP_OUT_SIGNED, /does not match the AND bit-plane opcode bit/],
      ['OPCODE', 64 | OP_AND_PLANES, /unknown opcode bits 0x40/],
    ];
    for (const [f, v, re] of bad) {
      const w = prog.descriptors.slice();
      w[FIELD[f]] = v;
      assert.throws(() => checkProgram(w, prog.layers, openclLimits(DEFAULT_ARRAY), sizes), re, `${f} = ${v}`);
    }
  });

  it('rejects a layer whose accumulator would overflow the array', () => {
    const m = compile(randomModel({ seed: 4 }));
    const dev = m.segments.findIndex((s) => s.kind === 'device');
    assert.throws(() => encodeSegment(m, dev, { ...DEFAULT_ARRAY, accBits: 4 }), /accumulator needs/);
  });
});
