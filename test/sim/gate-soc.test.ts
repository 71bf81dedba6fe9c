/**
 * Gate level, whole SoC: the netlist that `make bitstream BOARD=ulx3s` synthesised and
 * nextpnr placed and routed (build/bitstream/ulx3s/netlist.v, written in the same yosys run
 * as the JSON nextpnr read) is simulated by Verilator with the ECP5 cell models behind the
 * SoC's pty harness (sim/gate/soc-gate.sh), and the board backend runs Fashion-MNIST images
 * through it over the UART protocol: the logits must equal the reference's bit for bit, and
 * the cycles the SoC counts must equal the cycle model's. The link starts at the bitstream's
 * rate (30 clocks per bit at 30 MHz / 1 Mbaud) and the backend raises it to 4 clocks per
 * bit with BAUD, as a user may on a board. Needs `make bitstream BOARD=ulx3s` first and
 * BITWEAVE_LONG=1 (`make gate-soc-test`): the netlist model runs a few thousand cycles per
 * second, so the weights alone take tens of minutes.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BoardBackend } from '../../host/backends/board';
import { startSimulatedBoard } from '../../host/board/sim';
import { BitstreamReport } from '../../host/build/open-flow';
import { packagePath } from '../../host/core/paths';
import { loadDataset } from '../../host/data/datasets';
import { readBnn } from '../../host/format/bnn';
import { Session } from '../../host/runtime/session';
import { bitsOf, logitsOf } from '../helpers/native-models';
import { requireOrSkip } from '../helpers/skip';

const LONG = process.env.BITWEAVE_LONG === '1';
const IMAGES = Number(process.env.BITWEAVE_GATE_IMAGES ?? 20);

describe('gate level: the ULX3S SoC netlist behind the pty, driven by the board backend', function () {
  it('sim/gate/soc-gate.sh: a board without a SoC top, or no arguments, is one line and a non-zero exit', () => {
    const run = (args: string[]) => spawnSync(packagePath('sim', 'gate', 'soc-gate.sh'), args, { encoding: 'utf8' });
    const ice = run(['icebreaker', packagePath('build', 'gate', 'soc-icebreaker')]);
    assert.equal(ice.status, 1);
    assert.equal(ice.stderr, "soc-gate: board 'icebreaker' has no SoC top (ulx3s has)\n");
    const bare = run([]);
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /^usage: sim\/gate\/soc-gate\.sh BOARD OUT_DIR\n$/);
  });

  it(`${IMAGES} Fashion-MNIST images over the UART: logits identical to the reference, cycles as the cycle model`, async function () {
    const bit = packagePath('build', 'bitstream', 'ulx3s');
    if (!requireOrSkip(this, () => {
      if (!LONG) throw new Error('set BITWEAVE_LONG=1 (make gate-soc-test, after make bitstream BOARD=ulx3s) for the gate-level run of the SoC netlist');
      for (const f of ['netlist.v', 'report.json']) if (!fs.existsSync(path.join(bit, f))) throw new Error(`no ${path.join(bit, f)}: run make bitstream BOARD=ulx3s first`);
    })) return;
    this.timeout(6 * 3600_000);
    const report = JSON.parse(fs.readFileSync(path.join(bit, 'report.json'), 'utf8')) as BitstreamReport;
    // the netlist simulated is the one the report's place and route used
    assert.equal(report.files.netlistVerilog, 'netlist.v');
    const out = packagePath('build', 'gate', 'soc-ulx3s');
    const t0 = Date.now();
    const b = spawnSync(packagePath('sim', 'gate', 'soc-gate.sh'), ['ulx3s', out], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(b.status, 0, `${b.stdout}\n${b.stderr}`);
    console.log(`      ${b.stdout.trim().split('\n').join('; ')} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);

    const ds = loadDataset('fashion-mnist', { limit: IMAGES });
    const m = readBnn(packagePath('models', 'fashion-cnn.bnn'));
    const want = await logitsOf(m, 'reference', ds.images);
    process.env.BITWEAVE_SOC_SIM = path.join(out, 'bitweave-soc-gate');
    const sim = await startSimulatedBoard({ timeoutMs: 60_000 });
    try {
      const clockHz = Math.round(report.clock.clockMHz * 1e6);
      const s = await Session.create(m, {
        backend: 'board',
        batch: 64,
        // a slow model: minutes per reply at the reset rate are possible, a run takes seconds
        backendOptions: { port: sim.port, link: { fastBaud: clockHz / 4, replyTimeoutMs: 600_000, attempts: 1 }, runTimeoutMs: 3600_000 },
      });
      try {
        const t1 = Date.now();
        const got = (await s.run(ds.images)).logits;
        const runs = (Reflect.get(s, 'backend') as BoardBackend).measuredCycles();
        const cycles = runs.reduce((a, r) => a + r.cycles, 0);
        console.log(`      ${IMAGES} images in ${((Date.now() - t1) / 1000).toFixed(0)} s (weights included), ${runs.length} runs, ${cycles} array cycles`);
        assert.deepEqual(bitsOf(got), bitsOf(want));
        for (const r of runs) assert.equal(r.cycles, r.predicted, `segment ${r.segment}, ${r.images} images`);
      } finally {
        await s.close();
      }
    } finally {
      delete process.env.BITWEAVE_SOC_SIM;
      await sim.stop();
    }
  });
});
