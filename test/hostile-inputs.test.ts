/**
 * Issue 13, "Bad input": what a new user (or a hostile file) can throw at bitweave. The
 * rule: a clear one-line error (exit 1) and nothing lost; exit 2 only for internal bugs;
 * never a native crash, never a hang.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeValues, writeNDArrayList, WriteEntry } from '../host/import/ndarray';
import { writeNpy } from '../host/data/npy';
import { importBmxnet } from '../host/import/bmxnet';
import { escapeControls, jsonNestedDeeperThan, jsonPreview, oneLineMessage } from '../host/core/text';

const BIN = path.resolve(__dirname, '../../bin/bitweave.js');

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function bw(args: string[], opts: { timeout?: number; env?: NodeJS.ProcessEnv; preload?: string } = {}): Run {
  const pre = opts.preload ? ['-r', opts.preload] : [];
  const r = spawnSync(process.execPath, [...pre, BIN, ...args], {
    encoding: 'utf8', timeout: opts.timeout ?? 120000, env: { ...process.env, ...opts.env }, maxBuffer: 64 << 20,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A user error: exit 1 and exactly one line on stderr starting `bitweave: error: `. */
function userError(r: Run, pattern?: RegExp): string {
  assert.equal(r.signal, null, `killed by ${r.signal} (hang?); stderr: ${r.stderr.slice(0, 2000)}`);
  assert.equal(r.code, 1, `exit code 1, got ${r.code}; stderr: ${r.stderr.slice(0, 2000)}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr.slice(0, 2000)}`);
  assert.match(lines[0], /^bitweave: error: /);
  if (pattern) assert.match(lines[0], pattern);
  return lines[0];
}

function ok(r: Run): void {
  assert.equal(r.signal, null, `killed by ${r.signal}; stderr: ${r.stderr.slice(0, 2000)}`);
  assert.equal(r.code, 0, r.stderr.slice(0, 2000));
}

// ---- a small BMXNet model written from scratch -----------------------------------------

interface JsonNode { op: string; name: string; inputs: unknown[]; attrs?: Record<string, unknown> }

interface MiniOptions {
  /** Values replaced in the float parameters: name -> (index -> value). */
  poison?: Record<string, Record<number, number>>;
  /** Attributes of conv0 (kernel 3x3, 4 filters by default). */
  conv0?: Record<string, unknown>;
  /** Input size (square, 1 channel) the FC weights are sized for. */
  size?: number;
}

/**
 * data 1xSxS -> conv0 3x3x4 -> bn0 -> QActivation -> QConvolution 3x3x8 -> bn1 -> flatten -> fc 10,
 * as `<dir>/m-symbol.json` + `<dir>/m-0000.params`.
 */
function writeMiniBmxnet(dir: string, o: MiniOptions = {}): { symbol: string; params: string; json: { nodes: JsonNode[]; heads: unknown[] } } {
  fs.mkdirSync(dir, { recursive: true });
  const nodes: JsonNode[] = [];
  const idx = new Map<string, number>();
  const add = (n: JsonNode) => {
    idx.set(n.name, nodes.length);
    nodes.push(n);
    return n.name;
  };
  const op = (kind: string, name: string, data: string[], attrs: Record<string, unknown>, params: string[]) => {
    const vars = params.map((p) => add({ op: 'null', name: `${name}_${p}`, inputs: [] }));
    return add({ op: kind, name, inputs: [...data, ...vars].map((n) => [idx.get(n)!, 0, 0]), attrs });
  };
  add({ op: 'null', name: 'data', inputs: [] });
  const conv0 = { kernel: '(3, 3)', num_filter: '4', ...o.conv0 };
  op('Convolution', 'conv0', ['data'], conv0, ['weight', 'bias']);
  op('BatchNorm', 'bn0', ['conv0'], { fix_gamma: 'False' }, ['gamma', 'beta', 'moving_mean', 'moving_var']);
  op('QActivation', 'qa0', ['bn0'], {}, []);
  op('QConvolution', 'qconv1', ['qa0'], { kernel: '(3, 3)', num_filter: '8', no_bias: 'True' }, ['weight']);
  op('BatchNorm', 'bn1', ['qconv1'], { fix_gamma: 'False' }, ['gamma', 'beta', 'moving_mean', 'moving_var']);
  op('Flatten', 'flat', ['bn1'], {}, []);
  op('FullyConnected', 'fc', ['flat'], { num_hidden: '10' }, ['weight', 'bias']);
  const json = { nodes, arg_nodes: [], heads: [[idx.get('fc')!, 0, 0]], attrs: { mxnet_version: ['int', 10200] } };

  let seed = 12345;
  const r = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 31 - 1;
  };
  const S = o.size ?? 28;
  const oh = S - 4;
  const entries: WriteEntry[] = [];
  const f = (name: string, shape: number[], fill?: (i: number) => number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const vals = Array.from({ length: n }, (_, i) => (fill ? fill(i) : r()));
    for (const [i, v] of Object.entries(o.poison?.[name] ?? {})) vals[Number(i)] = v;
    entries.push({ name, dtype: 'float32', shape, data: encodeValues('float32', vals) });
  };
  f('arg:conv0_weight', [4, 1, 3, 3]);
  f('arg:conv0_bias', [4]);
  f('arg:bn0_gamma', [4]);
  f('arg:bn0_beta', [4]);
  f('aux:bn0_moving_mean', [4]);
  f('aux:bn0_moving_var', [4], () => 1);
  f('arg:qconv1_weight', [8, 4, 3, 3]);
  f('arg:bn1_gamma', [8]);
  f('arg:bn1_beta', [8]);
  f('aux:bn1_moving_mean', [8], () => 0);
  f('aux:bn1_moving_var', [8], () => 1);
  f('arg:fc_weight', [10, 8 * oh * oh]);
  f('arg:fc_bias', [10]);
  const symbol = path.join(dir, 'm-symbol.json');
  const params = path.join(dir, 'm-0000.params');
  fs.writeFileSync(symbol, JSON.stringify(json));
  fs.writeFileSync(params, writeNDArrayList(entries));
  return { symbol, params, json };
}

/** N grey 28x28 images as a float32 .npy file. */
function writeImages(file: string, n: number, size = 28): string {
  const data = new Float32Array(n * size * size);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 256) / 255;
  writeNpy(file, { dtype: 'float32', shape: [n, 1, size, size], data });
  return file;
}

describe('hostile inputs (issue 13)', function () {
  this.timeout(180000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-hostile-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const mini = writeMiniBmxnet(path.join(tmp, 'mini'));
  const images = writeImages(path.join(tmp, 'images.npy'), 3);

  it('the synthetic BMXNet model converts and runs (baseline for the cases below)', () => {
    const out = path.join(tmp, 'mini.bnn');
    ok(bw(['convert', mini.symbol, '-o', out]));
    ok(bw(['run', out, '-i', images]));
  });

  describe('symbol JSON nested thousands of levels deep', () => {
    const deep = (n: number) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown;

    it('jsonNestedDeeperThan and jsonPreview never recurse into the whole value', () => {
      const v = deep(200000);
      assert.equal(jsonNestedDeeperThan(v, 64), true);
      assert.equal(jsonNestedDeeperThan([[1, [2]], { a: { b: [3] } }], 4), false);
      assert.equal(jsonNestedDeeperThan([[1, [2]], { a: { b: [3] } }], 3), true);
      assert.equal(jsonPreview(v), '[[[[[…]]]]]');
      assert.ok(jsonPreview({ k: 'x'.repeat(1e6) }).length <= 80);
    });

    for (const where of ['attribute', 'inputs entry'] as const) {
      it(`an ${where} nested 6,000 deep is one user error for convert, inspect, run and compile`, () => {
        const dir = path.join(tmp, `deep-${where.split(' ')[0]}`);
        const m = writeMiniBmxnet(dir);
        const nest = '['.repeat(6000) + ']'.repeat(6000);
        let text = JSON.stringify(m.json);
        text = where === 'attribute'
          ? text.replace('"num_filter":"4"', `"num_filter":${nest}`)
          : text.replace('"inputs":[[0,0,0]', `"inputs":[${'['.repeat(6000)}0${']'.repeat(6000)}`);
        assert.ok(text.length > 12000);
        fs.writeFileSync(m.symbol, text);
        const cases = [
          ['convert', m.symbol, '-o', path.join(dir, 'x.bnn')],
          ['inspect', m.symbol],
          ['run', m.symbol, '-i', images],
          ['compile', m.symbol, '--board', 'pocl-emulator', '-o', path.join(dir, 'build')],
        ];
        for (const args of cases) userError(bw(args), /m-symbol\.json: JSON nested more than 64 levels deep/);
        assert.ok(!fs.existsSync(path.join(dir, 'x.bnn')));
      });
    }
  });

  describe('error lines', () => {
    it('oneLineMessage joins lines, escapes control characters and caps the length', () => {
      assert.equal(oneLineMessage('a\n  b\r\nc'), 'a b c');
      assert.equal(oneLineMessage('bell\x07 esc\x1b[2J del\x7f'), 'bell\\x07 esc\\x1b[2J del\\x7f');
      const long = oneLineMessage('x'.repeat(7e6));
      assert.equal(long.length, 500);
      assert.ok(long.endsWith('…'));
      assert.equal(escapeControls('\u2028\u009b'), '\\u2028\\x9b');
    });

    it('a file name with terminal escapes is printed escaped, on one bounded line', () => {
      const name = path.join(tmp, 'evil\x1b[2J\x07name.bnn');
      const line = userError(bw(['inspect', name]), /not found/);
      assert.ok(!/[\x00-\x1f]/.test(line), line);
      assert.ok(line.includes('evil\\x1b[2J\\x07name.bnn'), line);
      const longName = path.join(tmp, `${'a'.repeat(200)}/${'b'.repeat(200)}/${'c'.repeat(200)}.bnn`);
      const l2 = userError(bw(['inspect', longName]));
      assert.ok(l2.length <= 'bitweave: error: '.length + 500, `${l2.length} characters`);
    });

    it('a 7 MB attribute value with control characters gives a short, escaped line', () => {
      const dir = path.join(tmp, 'huge-attr');
      const m = writeMiniBmxnet(dir);
      const text = JSON.stringify(m.json).replace('"num_filter":"4"', `"num_filter":${JSON.stringify('\x1b[31m' + '9'.repeat(7e6))}`);
      fs.writeFileSync(m.symbol, text);
      const line = userError(bw(['convert', m.symbol, '-o', path.join(dir, 'x.bnn')]), /num_filter/);
      assert.ok(line.length < 600, `${line.length} characters`);
      assert.ok(!/[\x00-\x1f]/.test(line), line);
    });

    it('node names with control characters are refused with an escaped quote', () => {
      const dir = path.join(tmp, 'ctl-name');
      const m = writeMiniBmxnet(dir);
      m.json.nodes[1].name = 'conv\x1b]0;pwned\x07';
      fs.writeFileSync(m.symbol, JSON.stringify(m.json));
      assert.throws(() => importBmxnet(m.symbol, m.params), (e: Error) => {
        assert.match(e.message, /node 1: "name" 'conv\\x1b\]0;pwned\\x07' is not a plain name/);
        return true;
      });
    });
  });
});
