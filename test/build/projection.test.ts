/** Projected FPGA throughput (host/build/projection.ts): clock / cycles, always labelled a projection. */
import * as assert from 'node:assert/strict';
import { projectThroughput } from '../../host/build/projection';
import { loadBoard } from '../../host/boards';
import { BitweaveError } from '../../host/core/errors';

describe('projections', () => {
  it('projects throughput from cycles, labelled as a projection', () => {
    const p = projectThroughput(loadBoard('aws-f1'), 2000);
    assert.equal(p.projected, true);
    assert.equal(p.imagesPerSecond, (p.clockMHz * 1e6) / 2000);
    assert.match(p.label, /^projected .* not measured/);
    assert.throws(() => projectThroughput(loadBoard('aws-f1'), 0), BitweaveError);
  });
});
