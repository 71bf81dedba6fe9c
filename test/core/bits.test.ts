import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { getBit, packRun, popcount32, unpackRun, wordsFor } from '../../host/core/bits';

describe('bit packing', () => {
  it('packs LSB-first and round-trips any run', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(-1, 1), { minLength: 0, maxLength: 300 }), (vals) => {
        const words = new Uint32Array(wordsFor(vals.length) * 2 + 2).fill(0xffffffff);
        packRun(vals, 0, vals.length, words, 1);
        assert.deepEqual(Array.from(unpackRun(words, 1, vals.length)), vals);
        for (let i = vals.length; i < wordsFor(vals.length) * 64; i++) assert.equal(getBit(words, 1, i), 0, 'tail bits are zero');
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('element i is bit i%64 of 64-bit word i/64 (32- and 64-bit views are byte-identical)', () => {
    const vals = Array.from({ length: 130 }, (_, i) => (i % 3 === 0 || i === 64 || i === 129 ? 1 : -1));
    const words = new Uint32Array(wordsFor(130) * 2);
    packRun(vals, 0, 130, words, 0);
    const w64 = new BigUint64Array(words.buffer);
    for (let i = 0; i < 130; i++) {
      assert.equal(Number((w64[i >> 6] >> BigInt(i % 64)) & 1n), vals[i] === 1 ? 1 : 0);
    }
  });

  it('popcount32 counts bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (x) => {
        let n = 0;
        for (let i = 0; i < 32; i++) n += (x >>> i) & 1;
        assert.equal(popcount32(x), n);
      }),
      { seed: 7, numRuns: 500 },
    );
  });
});
