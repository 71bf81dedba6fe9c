/**
 * `bitweave bench model <file.tflite>` beside LCE's own interpreter: without LCE the bench
 * says why in one note and still times bitweave and onnxruntime; the protocol with the
 * Python helper fails in one clear line. With BITWEAVE_TEST_LCE_PYTHON (a Python that has
 * larq-compute-engine; never set by `make test`) the real helper is timed on a fixture.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packagePath } from '../../host/core/paths';
import { assertUserError, bitweave, Run } from '../helpers/run';

const FIXTURE = packagePath('test', 'fixtures', 'larq', 'resnet_block', 'model.tflite');
const CLASSES = 10;

type Row = Record<string, unknown>;

function jsonRows(r: Run): Row[] {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Row);
}

function bench(env: NodeJS.ProcessEnv, model = FIXTURE, batches = '1,2'): Run {
  return bitweave(['bench', 'model', model, '--backend', 'native', '--threads', '1', '--batches', batches, '--runs', '3', '--json'], { env });
}

/** The rows every bench model run has: bitweave and onnxruntime per batch, their ratio, the machine. */
function assertCommonRows(rows: Row[], batches: number[]): void {
  for (const b of batches) {
    for (const engine of ['bitweave', 'onnxruntime']) {
      const r = rows.filter((x) => x.engine === engine && x.batch === b);
      assert.equal(r.length, 1, `${engine} batch ${b}`);
      assert.equal(r[0].runs, 3);
      assert.equal(r[0].threads, 1);
      assert.ok((r[0].medianMs as number) > 0 && (r[0].imagesPerSecond as number) > 0);
    }
    const q = rows.filter((x) => x.compare === 'bitweave(native)/onnxruntime(cpu)' && x.batch === b);
    assert.equal(q.length, 1);
    assert.ok((q[0].maxAbsDiff as number) < 1e-4 && q[0].top1Agree === b);
  }
  const machine = rows[rows.length - 1];
  assert.ok(machine.machine && Array.isArray(machine.notes), 'the last row: machine and notes');
}

describe('bench model: LCE beside bitweave', function () {
  this.timeout(300000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-lce-bench-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A stand-in "python" that ignores the helper and runs `body` (a protocol test, never a measurement). */
  function fakePython(name: string, body: string): string {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return f;
  }

  it('no Python at BITWEAVE_LCE_PYTHON: one note, exit 0, the bitweave and onnxruntime rows unchanged', () => {
    const r = bench({ BITWEAVE_LCE_PYTHON: path.join(tmp, 'no-such-python') });
    const rows = jsonRows(r);
    assert.deepEqual(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^bitweave: note: LCE not timed: .*no-such-python \(BITWEAVE_LCE_PYTHON\) could not be started \(ENOENT\)/);
    assertCommonRows(rows, [1, 2]);
    assert.equal(rows.filter((x) => x.engine === 'lce' || String(x.compare).includes('/lce')).length, 0);
    assert.equal(rows.length, 2 * 3 + 1);
    const last = rows[rows.length - 1] as { notes: string[]; machine: Row };
    assert.equal(last.notes.length, 1);
    assert.match(last.notes[0], /^LCE not timed: /);
    assert.equal(last.machine.lce, undefined);
  });

  it('a Python without larq_compute_engine: the note names the import error', function () {
    const probe = spawnSync('python3', ['-c', 'import larq_compute_engine'], { encoding: 'utf8' });
    if (probe.error || probe.status === 0) this.skip(); // no python3 here, or it has LCE
    const r = bench({ BITWEAVE_LCE_PYTHON: 'python3' }, FIXTURE, '1');
    assertCommonRows(jsonRows(r), [1]);
    assert.match(r.stderr, /^bitweave: note: LCE not timed: \S*python\S* cannot import larq_compute_engine \(ModuleNotFoundError: .*\); set BITWEAVE_LCE_PYTHON/);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  });

  it('a model that is not a .tflite: LCE is not tried', () => {
    const r = bench({ BITWEAVE_LCE_PYTHON: path.join(tmp, 'no-such-python') }, packagePath('models', 'fashion-mlp.bnn'), '1');
    assertCommonRows(jsonRows(r), [1]);
    assert.equal(r.stderr, '');
  });

  it('protocol: a reply that is not JSON, a helper that dies, shapes that disagree: one error line each', () => {
    assertUserError(bench({ BITWEAVE_LCE_PYTHON: fakePython('garbage', 'echo "Traceback: not json"') }), /LCE helper .*not JSON: Traceback: not json/);
    assertUserError(bench({ BITWEAVE_LCE_PYTHON: fakePython('dies', 'echo "interpreter crashed" >&2; exit 3') }), /LCE helper .*exited \(code 3\): interpreter crashed/);
    const ready = (input: number[]) => JSON.stringify({ ready: true, lce: 'fake', python: 'fake', input, output: [1, CLASSES] });
    assertUserError(bench({ BITWEAVE_LCE_PYTHON: fakePython('wrong-shape', `echo '${ready([1, 8, 8, 3])}'; cat >/dev/null`) }), /LCE's interpreter sees input \[1, 8, 8, 3\].*bitweave \[1, 16, 16, 3\]/);
    // a helper that fails its first request (run): its error is the line
    const failing = `echo '${ready([1, 16, 16, 3])}'; read line; echo '{"error": "ValueError: bad input"}'; cat >/dev/null`;
    assertUserError(bench({ BITWEAVE_LCE_PYTHON: fakePython('fails', failing) }), /^bitweave: error: LCE helper: ValueError: bad input$/);
  });

  it('protocol: a kernel LCE refuses the model with (at load or at run) is dropped with a note; none left, no LCE rows', () => {
    const ready = JSON.stringify({ ready: true, lce: 'fake', python: 'fake', input: [1, 16, 16, 3], output: [1, CLASSES], unsupported: { default: 'RuntimeError: at load' } });
    // the helper was started with both kernels, in the bench's order
    const args = fakePython('args', `echo "$@" > ${path.join(tmp, 'args.txt')}; echo '${ready}'; while read line; do echo '{"unsupported": "RuntimeError: not with this kernel"}'; done`);
    const r = bench({ BITWEAVE_LCE_PYTHON: args }, FIXTURE, '1');
    const rows = jsonRows(r);
    assertCommonRows(rows, [1]);
    assert.equal(rows.filter((x) => x.engine === 'lce' || String(x.compare).includes('/lce')).length, 0);
    const notes = r.stderr.trimEnd().split('\n');
    assert.deepEqual(notes.map((n) => n.replace(/ kernel .*/, '')), ["bitweave: note: LCE's default", "bitweave: note: LCE's indirect-bgemm"]);
    assert.match(notes[0], /refused the model \(RuntimeError: at load\)$/);
    assert.match(notes[1], /refused the model \(RuntimeError: not with this kernel\)$/);
    assert.match(fs.readFileSync(path.join(tmp, 'args.txt'), 'utf8'), /lce_interpreter\.py \S+resnet_block\/model\.tflite 1 default indirect-bgemm$/m);
  });

  it('with LCE (BITWEAVE_TEST_LCE_PYTHON): lce rows, the bitweave/lce ratio, outputs within 1e-4', function () {
    const python = process.env.BITWEAVE_TEST_LCE_PYTHON;
    if (!python) this.skip();
    const r = bench({ BITWEAVE_LCE_PYTHON: python }, FIXTURE, '1,2');
    const rows = jsonRows(r);
    assert.equal(r.stderr, '');
    assertCommonRows(rows, [1, 2]);
    for (const b of [1, 2]) {
      const l = rows.filter((x) => x.engine === 'lce' && x.batch === b);
      assert.deepEqual(l.map((x) => x.backend), ['default', 'indirect-bgemm']);
      for (const x of l) {
        assert.equal(x.runs, 3);
        assert.ok((x.medianMs as number) > 0);
        if (b > 1) assert.match(String(x.note), /2 invocations of the batch-1 model/);
        else assert.equal(x.note, undefined);
        const q = rows.filter((y) => y.compare === `bitweave(native)/lce(${x.backend})` && y.batch === b);
        assert.equal(q.length, 1);
        // resnet_block ends in a softmax: LCE's probabilities against bitweave's logits through one
        assert.ok((q[0].maxAbsDiff as number) < 1e-4, `max diff ${q[0].maxAbsDiff}`);
        assert.equal(q[0].top1Agree, b);
        assert.ok(Math.abs((q[0].speedup as number) - (x.medianMs as number) / (rows.find((y) => y.engine === 'bitweave' && y.batch === b)!.medianMs as number)) < 1e-9);
      }
    }
    const last = rows[rows.length - 1] as { machine: Row; notes: string[] };
    assert.match(String(last.machine.lce), /^\d+\.\d+/);
    assert.deepEqual(last.notes, []);
  });
});
