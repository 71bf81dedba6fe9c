/** `bitweave project <model> --board pynq-z1`: FINN's networks projected on the PYNQ-Z1, labelled as projections. */
import * as assert from 'node:assert/strict';
import { bitweave } from '../helpers/run';

describe('bitweave project on pynq-z1', function () {
  this.timeout(120000);

  for (const model of ['tfc-w1a1', 'cnv-w1a1']) {
    it(`${model}: prints projected images/s, labelled, in seconds; --json parses`, () => {
      const t0 = Date.now();
      const r = bitweave(['project', model, '--board', 'pynq-z1']);
      const ms = Date.now() - t0;
      assert.equal(r.code, 0, r.stderr);
      const m = /^pynq-z1: projected ([\d,]+) images\/s at 100 MHz \((\d+)x(\d+) array, ([\d,]+) cycles\/image/.exec(r.stdout);
      assert.ok(m, r.stdout);
      assert.ok(Number(m[1].replace(/,/g, '')) > 0);
      assert.match(r.stdout, /not measured on an FPGA/);
      assert.ok(ms < 30000, `took ${ms} ms`);
      if (model === 'cnv-w1a1') assert.match(r.stdout, /the pynq-z1 build as emitted cannot run it: device segment \d+ needs/);
      else assert.match(r.stdout, /64 images per call/);

      const j = bitweave(['project', model, '--board', 'pynq-z1', '--json']);
      assert.equal(j.code, 0, j.stderr);
      const rows = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(rows.length, 1);
      const p = rows[0];
      assert.equal(p.board, 'pynq-z1');
      assert.equal(p.projected, true);
      assert.equal(p.bound, 'kernel');
      assert.equal(p.imagesPerSecond, p.zynq.imagesPerSecond);
      assert.equal(p.imagesPerSecond, (p.clockMHz * 1e6) / p.cyclesPerImage);
      assert.equal(Math.round(p.imagesPerSecond).toLocaleString('en-US'), m[1], 'the text and the JSON agree');
      assert.ok(p.zynq.arrayImagesPerSecond >= p.imagesPerSecond);
      assert.equal(p.zynq.fits, model === 'tfc-w1a1');
    });
  }

  it('FINN networks with 2-bit weights project with 2 x 2 passes per window word (the array runs integer weight planes)', () => {
    for (const [w2, w1] of [['cnv-w2a2', 'cnv-w1a2'], ['tfc-w2a2', 'tfc-w1a2']]) {
      const run = (model: string) => {
        const r = bitweave(['project', model, '--board', 'pynq-z1', '--json']);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout.trim().split('\n')[0]) as { cyclesPerImage: number; imagesPerSecond: number; zynq: { fits: boolean; arrayImagesPerSecond: number } };
      };
      const a = run(w2);
      const b = run(w1);
      assert.ok(a.imagesPerSecond > 0);
      // the same topology with 1-bit weights: the integer one streams twice the words through the PEs
      assert.ok(a.cyclesPerImage > b.cyclesPerImage, `${w2}: ${a.cyclesPerImage} cycles/image, ${w1}: ${b.cyclesPerImage}`);
      assert.equal(a.zynq.fits, false, 'the emitted Zynq build computes 1-bit outputs only');
    }
    const t = bitweave(['project', 'cnv-w2a2', '--board', 'pynq-z1']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^pynq-z1: projected [\d,]+ images\/s at 100 MHz/);
    assert.match(t.stdout, /cannot run it: layer 'conv0' has 2-bit outputs/);
  });
});
