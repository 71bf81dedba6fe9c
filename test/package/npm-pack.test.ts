/**
 * bitweave as users get it from npm: `npm pack`, `npm install <tarball>` into a new
 * project, then the CLI on the reference and native backends, require() and import, the
 * types under the repository's TypeScript, and a machine without a C compiler. One
 * install serves every case and the engine is compiled once (about 12 s here), so the
 * cases run in order: the install script runs without a compiler (the install must
 * succeed), the CLI is tried without one, then the native backend's first use builds it.
 * The install script's own build is the same buildNative() as the first-use one.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NATIVE_CFLAGS } from '../../host/backends/native/build';
import { packagePath, packageRoot } from '../../host/core/paths';
import { assertUserError, Run } from '../helpers/run';
import { requireOrSkip } from '../helpers/skip';

const MODEL = path.join('node_modules', 'bitweave', 'models', 'fashion-cnn.bnn');
const EVAL = ['eval', MODEL, '--dataset', 'fashion-mnist', '--limit', '200', '--json'];

/**
 * This environment without what an outer npm (npm test, npx mocha) exports about *this*
 * project (npm_config_local_prefix would point the inner npm at the repository), keeping
 * the machine's npm settings (cache, registry, certificates, proxies).
 */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const keep = new Set(['cache', 'registry', 'cafile', 'userconfig', 'globalconfig', 'proxy', 'https_proxy', 'noproxy', 'strict_ssl'].map((k) => `npm_config_${k}`));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) || keep.has(k.toLowerCase())) env[k] = v;
  delete env.BITWEAVE_NATIVE_LIB;
  return { ...env, ...extra };
}

/**
 * A new project depending on the tarball and nothing else, with a lockfile that pins its dependencies to
 * the versions of this repository's package-lock.json (its non-dev entries, same layout):
 * npm then resolves nothing, and every packument and tarball it reads is one `npm ci` of
 * this repository put in the cache, so the install works offline after it.
 */
function writeProject(app: string, tarball: string): void {
  const spec = `file:${path.relative(app, tarball)}`;
  const pkg = JSON.parse(fs.readFileSync(packagePath('package.json'), 'utf8')) as { version: string; license: string; dependencies: object; bin: object; engines: object };
  const repoLock = JSON.parse(fs.readFileSync(packagePath('package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const packages: Record<string, object> = {
    '': { name: 'bitweave-user', version: '1.0.0', dependencies: { bitweave: spec } },
    'node_modules/bitweave': { version: pkg.version, resolved: spec, license: pkg.license, hasInstallScript: true, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [k, v] of Object.entries(repoLock.packages)) if (k.startsWith('node_modules/') && !v.dev) packages[k] = v;
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'bitweave-user', version: '1.0.0', private: true, dependencies: { bitweave: spec } }, null, 2));
  fs.writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify({ name: 'bitweave-user', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
}

function spawn(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeout = 180_000): Run {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what}: exit ${r.code ?? r.signal}\n${r.stderr.slice(-3000)}`);
  return r;
}

describe('npm package (pack, install into a new project, use)', function () {
  this.timeout(300_000);
  let tmp = '';
  let app = '';
  let files: string[] = [];
  let version = '';
  /** node_modules/bitweave/build/libbitweave.so of the install. */
  let installedLib = '';
  const npmEnv = () => cleanEnv({ BITWEAVE_CACHE_DIR: path.join(tmp, 'cache') });
  const npm = (args: string[], env = npmEnv()) => spawn('npm', args, app, env);
  /** The installed CLI through npx, as a user runs it. */
  const npx = (args: string[], env: NodeJS.ProcessEnv = {}) => spawn('npx', ['--no-install', 'bitweave', ...args], app, { ...npmEnv(), ...env });
  /** The installed CLI through node alone, for a PATH that has nothing else. */
  const bin = (args: string[], env: NodeJS.ProcessEnv) => spawn(process.execPath, [path.join('node_modules', '.bin', 'bitweave'), ...args], app, { ...npmEnv(), ...env });
  const accuracy = (r: Run) => JSON.parse(r.stdout) as { backend: string; images: number; correct: number; accuracy: number };
  let reference: { correct: number; images: number } | null = null;

  before(function () {
    if (!requireOrSkip(this, () => {
      const v = spawnSync('npm', ['--version'], { encoding: 'utf8', env: cleanEnv() });
      if (v.error || v.status !== 0) throw new Error(`npm is not available (${v.error?.message ?? v.stderr.trim()}); the npm package test needs it`);
    })) return;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-npm-'));
    app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    version = (JSON.parse(fs.readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;

    // dist/ is what this test runs from, compiled already: --ignore-scripts skips prepack's
    // clean rebuild (it would delete the running tests) and prepare's tsc
    const pack = ok(spawn('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], packageRoot(), cleanEnv()), 'npm pack');
    const info = (JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[])[0];
    files = info.files.map((f) => f.path);
    const tarball = path.join(tmp, info.filename);
    writeProject(app, tarball);

    // npm 11.19 runs a dependency's install script after a notice unless allowScripts denies
    // it; here it runs with a CC that does not exist, and the install must still succeed
    const inst = ok(npm(['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], { ...npmEnv(), CC: path.join(tmp, 'no-such-cc') }), 'npm install');
    assert.match(inst.stdout + inst.stderr, /bitweave: the native engine was not built: no C compiler: CC is '.*no-such-cc'.*The reference backend works without it/);
    installedLib = path.join(app, 'node_modules', 'bitweave', 'build', 'libbitweave.so');
    assert.ok(!fs.existsSync(installedLib), 'no library without a compiler');
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the tarball holds the runtime and no development files; installing it needs no dev dependencies', () => {
    const dev = files.filter((f) => /^(test|docs|\.ci|dist\/test|fixtures)\//.test(f) || /(^|\/)fixtures\//.test(f) ||
      /\.map$/.test(f) || (/\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f)) || (f.startsWith('scripts/') && f !== 'scripts/install-native.js') ||
      ['Makefile', 'tsconfig.json', 'package-lock.json'].includes(f) || /^(sim|hls)\/(.*\/)?tb_(?!kernel\.cpp|common\.h)/.test(f) || f.startsWith('sim/gate/'));
    assert.deepEqual(dev, [], 'development files in the tarball');
    for (const f of ['bin/bitweave.js', 'dist/host/index.js', 'dist/host/index.mjs', 'dist/host/index.d.ts', 'dist/host/index.d.mts', 'scripts/install-native.js',
      'host/native/engine.h', 'models/fashion-cnn.bnn', 'models/fashion-mlp.bnn', 'boards/aws-f1.json', 'opencl-kernels/layer.cl', 'hls/bitweave_array.cpp']) {
      assert.ok(files.includes(f), `${f} missing from the tarball`);
    }
    // every C source of the engine, and every RTL file a shipped file list names (bitstream flows, the Vitis RTL kernel)
    for (const f of fs.readdirSync(packagePath('host', 'native'))) assert.ok(files.includes(`host/native/${f}`), `host/native/${f} missing`);
    for (const list of files.filter((f) => f.endsWith('.f'))) {
      for (const line of fs.readFileSync(packagePath(list), 'utf8').split('\n')) {
        const f = line.replace(/\/\/.*$/, '').trim();
        if (f) assert.ok(files.includes(f), `${f} (listed in ${list}) missing from the tarball`);
      }
    }
    for (const dep of ['typescript', 'mocha', '@types/node', 'fast-check']) {
      assert.ok(!fs.existsSync(path.join(app, 'node_modules', dep)), `${dep} (a dev dependency) was installed`);
    }
  });

  it('builds with the Makefile\'s flags', () => {
    const m = /^NATIVE_CFLAGS := (.*)$/m.exec(fs.readFileSync(packagePath('Makefile'), 'utf8'));
    assert.ok(m, 'NATIVE_CFLAGS in the Makefile');
    assert.deepEqual(m[1].split(/\s+/).filter((f) => !f.startsWith('-I')), NATIVE_CFLAGS);
  });

  it('npx bitweave --version', () => {
    assert.equal(ok(npx(['--version']), '--version').stdout.trim(), version);
  });

  it('without a C compiler: the reference backend works, --backend native says what is missing in one line', () => {
    // a PATH with node and nothing else: no cc, gcc or clang
    const onlyNode = path.join(tmp, 'only-node');
    fs.mkdirSync(onlyNode);
    fs.symlinkSync(process.execPath, path.join(onlyNode, 'node'));
    const r = ok(bin(EVAL, { PATH: onlyNode }), 'reference eval without a compiler');
    const ref = accuracy(r);
    assert.equal(ref.backend, 'reference');
    assert.equal(ref.images, 200);
    assert.ok(ref.accuracy > 0.8, `accuracy ${ref.accuracy}`);
    reference = ref;
    assertUserError(bin([...EVAL, '--backend', 'native'], { PATH: onlyNode }), /the native engine is not built and cannot be built here: no C compiler \(cc, gcc or clang\) found on PATH; install one \(Debian\/Ubuntu: apt-get install build-essential\) or set CC$/);
    assertUserError(npx([...EVAL, '--backend', 'native'], { CC: '/nonexistent/cc' }), /no C compiler: CC is '\/nonexistent\/cc', and \/nonexistent\/cc is not an executable file; point CC at a C compiler or unset it$/);
    assert.ok(!fs.existsSync(installedLib));
  });

  it('--backend native builds the engine on first use, into the package, and agrees with the reference', function () {
    if (!reference) this.skip();
    const r = ok(npx([...EVAL, '--backend', 'native']), 'native eval');
    const build = path.dirname(installedLib);
    assert.match(r.stderr, new RegExp(`^bitweave: building the native engine into ${build.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} with \\S+ \\(first use: it was not built at install\\)`, 'm'));
    assert.match(r.stderr, /^bitweave: built .*libbitweave\.so in [\d.]+ s$/m);
    assert.ok(fs.existsSync(installedLib));
    const nat = accuracy(r);
    assert.equal(nat.backend, 'native');
    assert.deepEqual({ images: nat.images, correct: nat.correct }, { images: reference!.images, correct: reference!.correct });
  });

  it("require('bitweave') and its package.json; nothing deeper is exported", () => {
    const r = ok(spawn(process.execPath, ['-e', `
      const b = require('bitweave');
      for (const f of ['Session', 'loadModel', 'compile', 'loadDataset', 'createBackend', 'BitweaveError']) if (typeof b[f] !== 'function') throw new Error(f + ' is ' + typeof b[f]);
      let deep = '';
      try { require('bitweave/dist/host/index.js'); } catch (e) { deep = e.code; }
      console.log(JSON.stringify({ version: require('bitweave/package.json').version, backends: b.availableBackends(), deep }));
    `], app, npmEnv()), 'require');
    const out = JSON.parse(r.stdout) as { version: string; backends: string[]; deep: string };
    assert.equal(out.version, version);
    assert.ok(out.backends.includes('native') && out.backends.includes('reference'));
    assert.equal(out.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('import from an ES module: the CommonJS build re-exported, a Session runs on the built engine', () => {
    fs.writeFileSync(path.join(app, 'use.mjs'), `
      import bitweave, { Session, loadDataset } from 'bitweave';
      import { createRequire } from 'node:module';
      const cjs = createRequire(import.meta.url)('bitweave');
      const ns = await import('bitweave');
      const missing = Object.keys(cjs).filter((k) => !(k in ns) || ns[k] !== cjs[k]);
      const s = await Session.create(${JSON.stringify(MODEL)}, { backend: 'native' });
      const { images, labels } = loadDataset('fashion-mnist', { limit: 32 });
      const { logits, count, classes } = await s.run(images);
      await s.close();
      let correct = 0;
      for (let i = 0; i < count; i++) {
        const row = logits.subarray(i * classes, (i + 1) * classes);
        if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
      }
      console.log(JSON.stringify({ same: bitweave === cjs && Session === cjs.Session, missing, count, correct }));
    `);
    const r = ok(spawn(process.execPath, ['use.mjs'], app, npmEnv()), 'use.mjs');
    assert.equal(r.stderr, '', 'the library is built: no build messages');
    const out = JSON.parse(r.stdout) as { same: boolean; missing: string[]; count: number; correct: number };
    assert.deepEqual({ same: out.same, missing: out.missing, count: out.count }, { same: true, missing: [], count: 32 });
    assert.ok(out.correct >= 24, `${out.correct}/32 correct`);
  });

  it("the types resolve from TypeScript (CommonJS and ES module files) with the repository's compiler", () => {
    const use = (ext: string) => `
      import { Session, loadDataset, BitweaveError } from 'bitweave';
      import type { RunResult, BackendName, CompiledModel } from 'bitweave';
      export async function top1(file: string, backend: BackendName): Promise<number> {
        const s = await Session.create(file, { backend, threads: 2 });
        const r: RunResult = await s.run(loadDataset('fashion-mnist', { limit: 1 }).images);
        const m: CompiledModel = s.model;
        return r.logits.length + m.ops.length;
      }
      export const e: Error = new BitweaveError('${ext}');
      // @ts-expect-error: backend names are checked, so the types are not 'any'
      export const bad: BackendName = 'gpu';
    `;
    fs.writeFileSync(path.join(app, 'use-cjs.ts'), use('cts'));
    fs.writeFileSync(path.join(app, 'use-esm.mts'), use('mts'));
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'ES2022', module: 'node16', moduleResolution: 'node16', lib: ['ES2022'],
        // the user's @types/node: this repository's
        typeRoots: [packagePath('node_modules', '@types')], types: ['node'],
      },
      files: ['use-cjs.ts', 'use-esm.mts'],
    }));
    const tsc = require.resolve('typescript/bin/tsc', { paths: [packageRoot()] });
    const r = spawn(process.execPath, [tsc, '-p', 'tsconfig.json'], app, npmEnv());
    assert.equal(r.code, 0, `tsc:\n${r.stdout}${r.stderr}`);
  });

  it('bitweave compile reads the shipped RTL and HLS sources', () => {
    for (const kernel of ['rtl', 'hls']) {
      const out = path.join(tmp, `f1-${kernel}`);
      ok(npx(['compile', MODEL, '--board', 'aws-f1', '--kernel', kernel, '-o', out]), `compile --kernel ${kernel}`);
      assert.ok(fs.existsSync(path.join(out, kernel === 'rtl' ? 'rtl/bw_top.sv' : 'kernel/bitweave_array.cpp')), `${kernel} sources emitted`);
    }
  });
});
