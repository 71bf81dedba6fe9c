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
import { checkOutputFile, readFileBounded } from '../host/core/files';
import * as jpeg from 'jpeg-js';
import { decodeImage, encodePng } from '../host/data/image';
import { BitweaveError, FormatError, ShapeError } from '../host/core/errors';
import { readBnn, writeBnn } from '../host/format/bnn';
import { ReferenceBackend } from '../host/backends/reference';
import { convertBmxnet } from '../host/runtime/load';
import { planBatch, Session } from '../host/runtime/session';
import { LIMITS } from '../host/compile/validate';
import { CompiledModel } from '../host/compile/model';
import { escapeControls, jsonNestedDeeperThan, jsonPreview, oneLineMessage } from '../host/core/text';
import { packagePath } from '../host/core/paths';
import { assertSuccess as ok, assertUserError as userError, bitweave, Run } from './helpers/run';

const bw = (args: string[], o: { timeout?: number; env?: NodeJS.ProcessEnv; preload?: string } = {}): Run =>
  bitweave(args, { timeout: o.timeout ?? 120000, env: o.env, flags: o.preload ? ['-r', o.preload] : [] });

const BIN = packagePath('bin/bitweave.js');

// ---- a small BMXNet model written from scratch -----------------------------------------

interface JsonNode { op: string; name: string; inputs: unknown[]; attrs?: Record<string, unknown> }

interface MiniOptions {
  /** Values replaced in the float parameters: name -> (index -> value). */
  poison?: Record<string, Record<number, number>>;
  /** Attributes of conv0 (kernel 3x3, 4 filters by default). */
  conv0?: Record<string, unknown>;
  /** Input size (square, 1 channel) the FC weights are sized for. */
  size?: number;
  /** Global average pooling before the flatten: the model then takes any input size. */
  globalPool?: boolean;
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
  if (o.globalPool) op('Pooling', 'gpool', ['bn1'], { global_pool: 'True', pool_type: 'avg', kernel: '(1, 1)' }, []);
  op('Flatten', 'flat', [o.globalPool ? 'gpool' : 'bn1'], {}, []);
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
  f('arg:fc_weight', [10, o.globalPool ? 8 : 8 * oh * oh]);
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
  /** The mini model compiled (by the library, so a broken CLI cannot take every test down). */
  const bnn = path.join(tmp, 'out-model.bnn');
  writeBnn(bnn, convertBmxnet(mini.symbol));

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

  describe('output files: atomic, checked, never a device or an input', () => {
    /** A preload that makes the disk under `dir` hold only `free` more bytes (ENOSPC after). */
    function fullDiskPreload(): string {
      const f = path.join(tmp, 'full-disk-preload.js');
      fs.writeFileSync(f, `
const fs = require('fs');
const path = require('path');
const dir = process.env.FAKE_FULL_DIR;
let room = Number(process.env.FAKE_FULL_FREE);
const fds = new Set();
const under = (p) => typeof p === 'string' && path.resolve(p).startsWith(dir + path.sep);
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
const open = fs.openSync;
fs.openSync = function (p, ...rest) { const fd = open.call(fs, p, ...rest); if (under(p)) fds.add(fd); return fd; };
const close = fs.closeSync;
fs.closeSync = function (fd) { fds.delete(fd); return close.call(fs, fd); };
const write = fs.writeSync;
fs.writeSync = function (fd, buf, off, len, ...rest) {
  if (!fds.has(fd) || typeof buf === 'string') return write.call(fs, fd, buf, off, len, ...rest);
  off = off ?? 0; len = len ?? buf.byteLength - off;
  if (room <= 0) throw enospc();
  const n = write.call(fs, fd, buf, off, Math.min(len, room));
  room -= n;
  return n;
};
const writeFile = fs.writeFileSync;
fs.writeFileSync = function (p, data, ...rest) {
  if (!under(p)) return writeFile.call(fs, p, data, ...rest);
  const b = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  writeFile.call(fs, p, b.subarray(0, Math.max(0, room)));
  room -= b.length;
  if (room < 0) throw enospc();
};
`);
      return f;
    }


    it('run -o into a missing directory or onto a directory: one line naming the path and the reason', () => {
      const missing = path.join(tmp, 'no', 'such', 'dir', 'logits.npy');
      userError(bw(['run', bnn, '-i', images, '-o', missing]), /no\/such\/dir\/logits\.npy: cannot write: no such file or directory \(ENOENT\): the directory .*no\/such\/dir does not exist/);
      const dir = path.join(tmp, 'a-directory');
      fs.mkdirSync(dir);
      userError(bw(['run', bnn, '-i', images, '-o', dir]), /a-directory: cannot write: it is a directory/);
    });

    it('run -o in a read-only directory is a permission error, not an internal one', function () {
      const ro = path.join(tmp, 'read-only');
      fs.mkdirSync(ro);
      fs.chmodSync(ro, 0o555);
      // root writes anywhere: show it as an ordinary user (root can switch; others are one already)
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      fs.chmodSync(tmp, 0o755);
      if (process.getuid?.() === 0 && spawnSync(process.execPath, [BIN, '--version'], { ...asUser, timeout: 30000 }).status !== 0) {
        console.log('      SKIPPED: user nobody cannot run bitweave from this checkout (permissions)');
        this.skip();
      }
      const r = spawnSync(process.execPath, [BIN, 'run', bnn, '-i', images, '-o', path.join(ro, 'logits.npy')], { encoding: 'utf8', timeout: 60000, ...asUser });
      fs.chmodSync(ro, 0o755);
      userError({ code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }, /read-only\/logits\.npy: cannot write: permission denied \(EACCES\)/);
      assert.deepEqual(fs.readdirSync(ro), []);
    });

    it('a disk that fills up mid-write leaves the earlier logits file whole and no temp file', () => {
      const dir = path.join(tmp, 'full');
      fs.mkdirSync(dir);
      const out = path.join(dir, 'logits.npy');
      fs.writeFileSync(out, 'the logits of yesterday');
      const r = bw(['run', bnn, '-i', images, '-o', out], { preload: fullDiskPreload(), env: { FAKE_FULL_DIR: dir, FAKE_FULL_FREE: '150' } });
      userError(r, /full\/logits\.npy: cannot write: no space left on the device \(ENOSPC\)$/);
      assert.equal(fs.readFileSync(out, 'utf8'), 'the logits of yesterday');
      assert.deepEqual(fs.readdirSync(dir), ['logits.npy']);
      // with room on the disk the same command writes the whole file
      ok(bw(['run', bnn, '-i', images, '-o', out], { preload: fullDiskPreload(), env: { FAKE_FULL_DIR: dir, FAKE_FULL_FREE: '100000' } }));
      assert.equal(fs.statSync(out).size, 128 + 3 * 10 * 4);
      assert.deepEqual(fs.readdirSync(dir), ['logits.npy']);
    });

    it('convert, export-onnx and train outputs all go through the same writer (ENOSPC: one line, nothing left behind)', () => {
      const dir = path.join(tmp, 'full2');
      fs.mkdirSync(dir);
      const env = { FAKE_FULL_DIR: dir, FAKE_FULL_FREE: '1000' };
      userError(bw(['convert', mini.symbol, '-o', path.join(dir, 'x.bnn')], { preload: fullDiskPreload(), env }), /x\.bnn: cannot write: no space left on the device \(ENOSPC\)$/);
      userError(bw(['export-onnx', bnn, '-o', path.join(dir, 'x.onnx')], { preload: fullDiskPreload(), env }), /x\.onnx: cannot write: no space left on the device \(ENOSPC\)$/);
      assert.deepEqual(fs.readdirSync(dir), []);
      // train prints progress first; its last line is the one error
      const t = bw(['train', '--arch', 'mlp', '--dataset', 'fashion-mnist', '--epochs', '1', '--limit', '100', '--test-limit', '10', '-o', path.join(dir, 'sub', 't.bnn')], { preload: fullDiskPreload(), env });
      assert.equal(t.code, 1, t.stderr);
      assert.match(t.stderr.trimEnd().split('\n').pop()!, /^bitweave: error: .*t\.bnn: cannot write: no space left on the device \(ENOSPC\)$/);
      assert.deepEqual(fs.readdirSync(path.join(dir, 'sub')), []);
    });

    it('never hangs on output locations under pseudo file systems (compile, train, run)', function () {
      if (process.platform !== 'linux' || !fs.existsSync('/proc/self')) this.skip();
      const t = { timeout: 30000 };
      userError(bw(['compile', bnn, '--board', 'pocl-emulator', '-o', '/proc/sub'], t), /\/proc\/sub: cannot write under \/proc: it is on the proc pseudo file system/);
      userError(bw(['compile', bnn, '--board', 'pocl-emulator', '-o', '/proc/a/b/c'], t), /proc pseudo file system/);
      // refused before any training starts
      const t0 = Date.now();
      userError(bw(['train', '--arch', 'mlp', '--dataset', 'fashion-mnist', '--epochs', '1', '--limit', '100', '-o', '/proc/a/x.bnn'], t), /\/proc\/a\/x\.bnn: cannot write under \/proc/);
      assert.ok(Date.now() - t0 < 20000);
      userError(bw(['run', bnn, '-i', images, '-o', '/proc/logits.npy'], t), /proc pseudo file system/);
      if (fs.existsSync('/sys/kernel')) userError(bw(['convert', mini.symbol, '-o', '/sys/kernel/x/m.bnn'], t), /sysfs pseudo file system|cannot write/);
    });

    it('refuses devices, FIFOs, sockets and directories as outputs, leaving them as they were', async function () {
      const dir = path.join(tmp, 'special');
      fs.mkdirSync(dir);
      const targets: [string, RegExp][] = [[dir, /it is a directory/]];
      const fifo = path.join(dir, 'fifo');
      if (spawnSync('mkfifo', [fifo]).status === 0) targets.push([fifo, /it is a FIFO/]);
      const sock = path.join(dir, 'sock');
      const net = await import('node:net');
      const server = net.createServer();
      await new Promise<void>((res) => server.listen(sock, res));
      targets.push([sock, /it is a socket/]);
      // a character device of our own (the null device's numbers), where the container allows it
      const dev = path.join(dir, 'null-device');
      if (spawnSync('mknod', [dev, 'c', '1', '3']).status === 0) targets.push([dev, /it is a character device/]);
      try {
        for (const [t, why] of targets) {
          const before = fs.lstatSync(t);
          userError(bw(['convert', mini.symbol, '-o', t], { timeout: 30000 }), why);
          userError(bw(['run', bnn, '-i', images, '-o', t], { timeout: 30000 }), why);
          userError(bw(['export-onnx', bnn, '-o', t], { timeout: 30000 }), why);
          const after = fs.lstatSync(t);
          assert.equal(after.mode, before.mode, `${t} is still what it was`);
          assert.equal(after.ino, before.ino);
        }
        // through a symbolic link too
        const link = path.join(dir, 'link-to-socket');
        fs.symlinkSync(sock, link);
        userError(bw(['convert', mini.symbol, '-o', link]), /a symbolic link to .*sock\): it is a socket/);
        assert.ok(fs.lstatSync(link).isSymbolicLink());
      } finally {
        server.close();
      }
      // /dev/null and /dev/full themselves: only ever checked, never written (a test run as root
      // against a broken writer must not be able to replace them)
      for (const d of ['/dev/null', '/dev/full']) {
        if (!fs.existsSync(d)) continue;
        assert.throws(() => checkOutputFile(d), (e: Error) => e instanceof FormatError && /it is a character device/.test(e.message));
        assert.ok(fs.statSync(d).isCharacterDevice());
      }
    });

    it('writes through a symbolic link to its target, atomically in the target\'s directory', () => {
      const real = path.join(tmp, 'real-dir');
      const links = path.join(tmp, 'links');
      fs.mkdirSync(real);
      fs.mkdirSync(links);
      const target = path.join(real, 'model.bnn');
      fs.writeFileSync(target, 'old');
      fs.chmodSync(target, 0o640);
      const link = path.join(links, 'model.bnn');
      fs.symlinkSync(path.relative(links, target), link);
      ok(bw(['convert', mini.symbol, '-o', link]));
      assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link is still a link');
      assert.ok(readBnn(target).ops.length > 0, 'the target holds the model');
      assert.equal(fs.statSync(target).mode & 0o777, 0o640, 'and keeps its permissions');
      // a dangling link: the file appears where it points
      const dangling = path.join(links, 'logits.npy');
      fs.symlinkSync(path.join(real, 'logits.npy'), dangling);
      ok(bw(['run', target, '-i', images, '-o', dangling]));
      assert.ok(fs.lstatSync(dangling).isSymbolicLink());
      assert.equal(fs.statSync(path.join(real, 'logits.npy')).size, 128 + 120);
      assert.deepEqual(fs.readdirSync(links).sort(), ['logits.npy', 'model.bnn']);
      assert.deepEqual(fs.readdirSync(real).sort(), ['logits.npy', 'model.bnn']);
    });

    it('refuses an output that is one of the command\'s inputs (directly, by link or by hard link)', () => {
      const dir = path.join(tmp, 'inputs');
      const m = writeMiniBmxnet(dir);
      const model = path.join(dir, 'm.bnn');
      ok(bw(['convert', m.symbol, '-o', model]));
      const input = path.join(dir, 'images.npy');
      fs.copyFileSync(images, input);
      const link = path.join(dir, 'link.npy');
      fs.symlinkSync(input, link);
      const hard = path.join(dir, 'hard.bnn');
      fs.linkSync(model, hard);
      const saved = new Map([m.symbol, m.params, model, input].map((f) => [f, fs.readFileSync(f)]));
      const cases: string[][] = [
        ['convert', m.symbol, '-o', m.symbol],
        ['convert', m.symbol, '-o', m.params],
        ['convert', m.symbol, m.params, '-o', m.params],
        ['run', model, '-i', input, '-o', model],
        ['run', model, '-i', input, '-o', input],
        ['run', model, '-i', input, '-o', link],
        ['run', model, '-i', input, '-o', hard],
        ['run', m.symbol, '-i', input, '-o', m.params],
        ['export-onnx', model, '-o', model],
        ['export-onnx', m.symbol, '-o', m.params],
      ];
      for (const args of cases) userError(bw(args), /cannot write.*: it is the input file .*; choose another output path/);
      for (const [f, bytes] of saved) assert.ok(fs.readFileSync(f).equals(bytes), `${f} is intact`);
    });
  });

  describe('every model is validated before any backend runs it', () => {
    it('NaN / Inf weights and BatchNorm parameters are refused at import, naming the parameter and the .params file', () => {
      const cases: [string, Record<string, Record<number, number>>, RegExp][] = [
        ['nan-conv', { 'arg:conv0_weight': { 5: NaN } }, /nan-conv\/m-0000\.params: parameter 'arg:conv0_weight' \(weight of node 'conv0'\) holds NaN at index 5/],
        ['inf-fc', { 'arg:fc_bias': { 7: -Infinity } }, /inf-fc\/m-0000\.params: parameter 'arg:fc_bias' \(bias of node 'fc'\) holds -Infinity at index 7/],
        ['nan-bn', { 'aux:bn1_moving_mean': { 3: NaN } }, /nan-bn\/m-0000\.params: parameter 'aux:bn1_moving_mean' \(moving_mean of node 'bn1'\) holds NaN at index 3/],
        ['inf-gamma', { 'arg:bn0_gamma': { 1: Infinity } }, /inf-gamma\/m-0000\.params: parameter 'arg:bn0_gamma' .* holds Infinity at index 1/],
        ['neg-var', { 'aux:bn0_moving_var': { 2: -1 } }, /neg-var\/m-0000\.params: moving_var of node 'bn0' \(BatchNorm\) holds -1 at index 2: with eps 0\.001 the variance is not positive/],
      ];
      for (const [name, poison, re] of cases) {
        const m = writeMiniBmxnet(path.join(tmp, name), { poison });
        const out = path.join(tmp, name, 'out.bnn');
        const line = userError(bw(['convert', m.symbol, '-o', out]), re);
        assert.doesNotMatch(line, /out\.bnn/, 'the fault is in the input, not the output');
        assert.ok(!fs.existsSync(out));
        // the default backend used to run these and print "NaN%"
        userError(bw(['run', m.symbol, '-i', images]), re);
        userError(bw(['run', m.symbol, '-i', images, '--backend', 'native']), re);
      }
    });

    it('pad >= kernel is refused on every backend (it ran on the reference only)', () => {
      const m = writeMiniBmxnet(path.join(tmp, 'pad'), { conv0: { pad: '(3, 3)' }, globalPool: true });
      for (const backend of ['reference', 'native']) {
        userError(bw(['run', m.symbol, '-i', images, '--input-shape', '1,28,28', '--backend', backend]), /pad\/m-symbol\.json: op 0 \(conv2d "conv0"\): ph must be an integer in 0\.\.2 \(pad < kernel\)/);
      }
      userError(bw(['inspect', m.symbol, '--input-shape', '1,28,28']), /pad < kernel/);
    });

    it('an input shape beyond the tensor limit is refused at load (it ran to 6-10 GB on the reference)', () => {
      const m = writeMiniBmxnet(path.join(tmp, 'huge-input'), { globalPool: true });
      // the model itself is fine at 28x28
      ok(bw(['run', m.symbol, '-i', images, '--input-shape', '1,28,28']));
      const t0 = Date.now();
      userError(bw(['run', m.symbol, '-i', images, '--input-shape', '1,16384,16384']), /huge-input\/m-symbol\.json: tensor 1: f32 16382x16382x4 holds \d+ elements per image, the limit is 268435456/);
      assert.ok(Date.now() - t0 < 30000);
    });

    it('the library refuses invalid models on the reference backend too', async () => {
      const m = convertBmxnet(mini.symbol);
      (m.ops[0] as { weight: Float32Array }).weight[2] = NaN;
      const ref = new ReferenceBackend();
      await assert.rejects(ref.load(m), /op 0 \(conv2d "conv0"\): weight\[2\] is NaN, must be finite/);
    });
  });

  describe('memory over long models', () => {
    /**
     * Peak RSS (bytes) of a child process that runs a model of n chained ops `opJs` (an
     * expression of i) over one 1x1xC map on `backend`, `runs` times, checking logits 1 and 5.
     */
    const peakOfChain = (opJs: string, backend: string, want: [number, number], runs: number, n: number): number => {
      const script = `
        const { Session } = require(${JSON.stringify(path.resolve(__dirname, '../host/runtime/session'))});
        const [n, c, batch] = process.argv.slice(1).map(Number);
        const f = { kind: 'f32', h: 1, w: 1, c, planes: 0, flat: false };
        const m = {
          name: 'chain', source: { format: 'hand-built', files: [] }, input: 0, output: n, softmax: false,
          tensors: Array.from({ length: n + 1 }, () => ({ ...f })),
          ops: Array.from({ length: n }, (_, i) => (${opJs})),
          segments: [{ kind: 'host', start: 0, end: n, inputs: [0], outputs: [n] }],
          opNames: Array.from({ length: n }, (_, i) => 'op' + i), floatWeightBytes: 0,
        };
        (async () => {
          const s = await Session.create(m, { backend: '${backend}', batch, threads: 1 });
          const x = new Float32Array(batch * c).map((_, i) => (i % 7) - 3);
          for (let k = 0; k < ${runs}; k++) {
            const r = await s.run(x);
            if (r.logits[1] !== ${want[0]} || r.logits[5] !== ${want[1]}) throw new Error('wrong result');
          }
          const kb = Number(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]);
          console.log(kb);
        })().catch((e) => { console.error(e); process.exit(3); });`;
      const r = spawnSync(process.execPath, ['-e', script, String(n), '65536', '4'], { encoding: 'utf8', timeout: 120000 });
      assert.equal(r.status, 0, r.stderr);
      return Number(r.stdout.trim()) * 1024;
    };
    const mib = (b: number) => (b / 2 ** 20).toFixed(0);

    it('frees intermediate tensors after their last reader: a long chain of ops runs in bounded memory', function () {
      if (process.platform !== 'linux') this.skip(); // peak RSS from /proc/self/status
      // 600 chained relu ops on 4 images of 65,536 floats: 630 MB if every intermediate is kept
      const relu = "{ op: 'activation', in: i, out: i + 1, fn: 'relu' }";
      const one = peakOfChain(relu, 'reference', [0, 2], 1, 1);
      const many = peakOfChain(relu, 'reference', [0, 2], 1, 600);
      assert.ok(many - one < 200 * 2 ** 20, `600 ops peak ${mib(many)} MiB RSS vs ${mib(one)} MiB for one op`);
    });

    it('native runModel hands buffers back after their last reader: 400 unfusable ops run in bounded memory', function () {
      if (process.platform !== 'linux') this.skip();
      // 1x1 max pools do not fuse: each output is a real tensor (1 MiB at batch 4); 400 MiB if all were kept
      const pool = "{ op: 'pool', in: i, out: i + 1, mode: 'max', kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, countIncludePad: false }";
      const one = peakOfChain(pool, 'native', [-2, 2], 2, 1);
      const many = peakOfChain(pool, 'native', [-2, 2], 2, 400);
      assert.ok(many - one < 100 * 2 ** 20, `400 ops peak ${mib(many)} MiB RSS vs ${mib(one)} MiB for one op`);
    });
  });

  describe('batch x tensor size', () => {
    /** input 1xSxS -> 1x1 conv to `channels` -> SxS average pool -> dense 10. */
    function wideModel(S: number, channels: number): CompiledModel {
      const f32 = (h: number, w: number, c: number) => ({ kind: 'f32' as const, h, w, c, planes: 0, flat: false });
      const weight = new Float32Array(channels).map((_, i) => ((i % 5) - 2) / 4);
      const dense = new Float32Array(10 * channels).map((_, i) => ((i * 7) % 11) / 11 - 0.5);
      return {
        name: `wide-${channels}`, source: { format: 'hand-built', files: [] }, input: 0, output: 3, softmax: false,
        tensors: [f32(S, S, 1), f32(S, S, channels), f32(1, 1, channels), f32(1, 1, 10)],
        ops: [
          { op: 'conv2d', groups: 1, in: 0, out: 1, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, weight, bias: null },
          { op: 'pool', in: 1, out: 2, mode: 'avg', kh: S, kw: S, sh: S, sw: S, ph: 0, pw: 0, countIncludePad: true },
          { op: 'dense', in: 2, out: 3, weight: dense, bias: null },
        ],
        segments: [{ kind: 'host', start: 0, end: 3, inputs: [0], outputs: [3] }],
        opNames: ['expand', 'gpool', 'fc'],
        floatWeightBytes: 4 * (channels + 10 * channels),
      };
    }

    it('a 1x1 conv to 65,536 channels on 64x64 gets batch 1 instead of a RangeError at batch 64 (nothing allocated here)', async () => {
      for (const backend of ['reference', 'native']) {
        const s = await Session.create(wideModel(64, 65536), { backend });
        assert.equal(s.batchSize, 1);
        const st = s.stats();
        assert.equal(st.batch, 1);
        assert.deepEqual(st.notes, ["batch 64 reduced to 1: tensor 1 (output of op 0 'expand', f32 64x64x65536) needs 1.0 GiB per image and one batch of a tensor may hold 1.0 GiB"]);
        await s.close();
      }
      assert.equal(planBatch(wideModel(64, 65536), 64, LIMITS.maxBatchTensorBytes).batch, 1);
      assert.equal(planBatch(wideModel(64, 4096), 64, LIMITS.maxBatchTensorBytes).batch, 16);
      assert.deepEqual(planBatch(wideModel(8, 16), 64, LIMITS.maxBatchTensorBytes), { batch: 64 });
      assert.throws(() => planBatch(wideModel(8, 16), 64, 1000), (e: Error) =>
        e instanceof ShapeError && /tensor 1 \(output of op 0 'expand', f32 8x8x16\) needs 4\.0 KiB per image, more than the 1000 bytes one batch of a tensor may hold/.test(e.message));
    });

    it('a smaller batch gives the same logits and says so in the stats', async () => {
      const m = convertBmxnet(mini.symbol);
      const x = new Float32Array(5 * 28 * 28).map((_, i) => ((i * 31) % 256) / 255);
      const full = await Session.create(m, { batch: 64 });
      const want = (await full.run(x)).logits;
      // qconv1's integers, 24x24x8 Int32 = 18,432 bytes per image, are the largest tensor
      const small = await Session.create(m, { batch: 64, maxBatchTensorBytes: 40000 });
      assert.equal(small.batchSize, 2);
      assert.deepEqual((await small.run(x)).logits, want);
      assert.equal(small.stats().batches, 3);
      assert.match(small.stats().notes[0], /^batch 64 reduced to 2: tensor 5 \(output of op 4 'qconv1', i32 24x24x8\) needs 18\.0 KiB per image/);
    });

    it('run notes the smaller batch on stderr and in --json', () => {
      const file = path.join(tmp, 'wide.bnn');
      writeBnn(file, wideModel(32, 5120)); // 20 MiB per image: 51 images per 1 GiB
      const input = path.join(tmp, 'wide-input.npy');
      writeNpy(input, { dtype: 'float32', shape: [2, 1, 32, 32], data: new Float32Array(2 * 1024).fill(0.5) });
      const r = bw(['run', file, '-i', input]);
      ok(r);
      assert.equal(r.stderr, "bitweave: note: batch 64 reduced to 51: tensor 1 (output of op 0 'expand', f32 32x32x5120) needs 20.0 MiB per image and one batch of a tensor may hold 1.0 GiB\n");
      const j = bw(['run', file, '-i', input, '--json', '--backend', 'native']);
      ok(j);
      const out = JSON.parse(j.stdout);
      assert.equal(out.batch, 51);
      assert.match(out.notes[0], /^batch 64 reduced to 51/);
    });
  });

  describe('train options', () => {
    it('out-of-range numbers are one-line errors before any work, and nothing is written', () => {
      const out = path.join(tmp, 'train-opts', 'x.bnn');
      const cases: [string[], RegExp][] = [
        [['--batch', '1e9'], /--batch must be an integer in 2\.\.60000, got '1e9'/],
        [['--batch', '1'], /--batch must be an integer in 2\.\.60000, got '1'$/],
        [['--epochs', '0'], /--epochs must be an integer in 1\.\.10000, got '0'/],
        [['--epochs', '2.5'], /--epochs must be an integer/],
        [['--seed', '-1'], /--seed must be an integer in 0\.\.4294967295, got '-1'/],
        [['--lr', '0'], /--lr must be a number in \(0, 10\], got '0'/],
        [['--lr-end', 'NaN'], /--lr-end must be a number in \(0, 10\], got 'NaN'/],
        [['--lr', '1e400'], /--lr must be .*, got '1e400'/],
        [['--threads', '1000'], /--threads must be an integer in 1\.\.64, got '1000'/],
        [['--limit', '0.5'], /--limit must be an integer in 1\.\.1000000000, got '0\.5'/],
        [['--test-limit', '-3'], /--test-limit must be an integer/],
      ];
      for (const [opt, re] of cases) {
        const t0 = Date.now();
        userError(bw(['train', '--arch', 'mlp', '--dataset', 'fashion-mnist', '-o', out, ...opt], { timeout: 60000 }), re);
        assert.ok(Date.now() - t0 < 15000, `${opt.join(' ')} is refused before training`);
      }
      assert.ok(!fs.existsSync(path.dirname(out)));
    });
  });

  describe('library API', () => {
    it('Session.run refuses NaN / Inf inputs with a ShapeError naming the first bad index', async () => {
      const s = await Session.create(convertBmxnet(mini.symbol));
      const x = new Float32Array(3 * 784).fill(0.5);
      x[1000] = NaN;
      x[2000] = Infinity;
      await assert.rejects(s.run(x), (e: Error) => e instanceof ShapeError && e.message === 'input[1000] (image 1) is NaN; inputs must be finite');
      x[1000] = 0.5;
      x[5] = -Infinity;
      await assert.rejects(s.run(x), (e: Error) => e instanceof ShapeError && /^input\[5\] \(image 0\) is -Infinity/.test(e.message));
      x[5] = 0.5;
      x[2000] = 0.5;
      assert.equal((await s.run(x)).count, 3);
      await s.close();
    });

    it('run after close is a BitweaveError "session is closed" (reference backend included)', async () => {
      const s = await Session.create(convertBmxnet(mini.symbol), { backend: 'reference' });
      await s.close();
      await s.close(); // twice is fine
      await assert.rejects(s.run(new Float32Array(784)), (e: Error) => e instanceof BitweaveError && e.message === 'session is closed');
      const ref = new ReferenceBackend();
      await ref.load(convertBmxnet(mini.symbol));
      await ref.dispose();
      await assert.rejects(ref.runSegment(0, new Map([[0, new Float32Array(784)]]), 1), (e: Error) => e instanceof BitweaveError && /session is closed/.test(e.message));
    });
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

    it('damaged images are described in our words, not the decoders\' internals', () => {
      const raw = new Uint8Array(16 * 16 * 4).map((_, i) => (i * 37) & 255);
      const jpg = Buffer.from(jpeg.encode({ width: 16, height: 16, data: raw }, 90).data);
      const bad = Buffer.from(jpg);
      bad[164] = 0; // jpeg-js: "Cannot set properties of undefined (setting 'huffmanTableDC')"
      assert.throws(() => decodeImage(bad, 'x.jpg'), (e: Error) => {
        assert.equal(e.message, 'x.jpg: corrupt or unsupported JPEG: its headers refer to tables or components that are not there (damaged file)');
        return true;
      });
      assert.throws(() => decodeImage(jpg.subarray(0, 600), 'cut.jpg'), /^FormatError: cut\.jpg: corrupt or unsupported JPEG: the file ends before its end-of-image marker \(truncated\)$/);
      const png = encodePng({ width: 16, height: 16, channels: 3, data: raw.subarray(0, 16 * 16 * 3) });
      // pngjs: "There are some read requests waitng on finished stream"
      assert.throws(() => decodeImage(png.subarray(0, png.length - 30), 'cut.png'), (e: Error) => {
        assert.equal(e.message, 'cut.png: corrupt PNG: the file ends inside the image data (truncated)');
        return true;
      });
      const crc = Buffer.from(png);
      crc[50] ^= 0xff; // pngjs: "unrecognised content at end of stream"
      assert.throws(() => decodeImage(crc, 'crc.png'), /crc\.png: corrupt PNG: a chunk is damaged \(its checksum or structure is wrong\)$/);
      // and through the CLI
      const f = path.join(tmp, 'broken.jpg');
      fs.writeFileSync(f, bad);
      const line = userError(bw(['run', bnn, '-i', f]));
      assert.doesNotMatch(line, /huffmanTableDC|undefined|waitng/);
    });

    it('a 2 GiB file gets a size or format message, not "Received -2147483648"', () => {
      const sparse = (name: string, size: number) => {
        const f = path.join(tmp, name);
        const fd = fs.openSync(f, 'w');
        fs.ftruncateSync(fd, size); // sparse: costs no disk
        fs.closeSync(fd);
        return f;
      };
      const model = sparse('huge.bnn', 2 ** 31);
      const t0 = Date.now();
      userError(bw(['inspect', model]), /huge\.bnn: not a bitweave \.bnn model/);
      assert.ok(Date.now() - t0 < 6000, 'refused from its header, without reading 2 GiB');
      fs.unlinkSync(model);
      const img = sparse('huge.png', 2 ** 31);
      userError(bw(['run', bnn, '-i', img]), /huge\.png: file is 2\.0 GiB \(2147483648 bytes\), more than the 1\.0 GiB limit$/);
      fs.unlinkSync(img);
      assert.throws(() => readFileBounded(path.join(tmp, 'images.npy'), 100), /images\.npy: file is 9\.3 KiB \(9536 bytes\), more than the 100-byte limit$/);
    });

    it('convert of a symbol in a missing directory is a user error (it was a raw ENOENT from scandir)', () => {
      userError(bw(['convert', path.join(tmp, 'nowhere', 'x-symbol.json'), '-o', path.join(tmp, 'x.bnn')]), /model file not found: .*nowhere\/x-symbol\.json( \(|$)/);
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
