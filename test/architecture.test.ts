/**
 * The layout docs/ARCHITECTURE.md describes, checked: host/ has no import cycle, the layers
 * import only downwards (core ← ir/array ← compile ← runtime/backends ← cli), and every
 * kernel limit, build parameter and error code is defined once (host/array/limits.ts) and
 * reaches C, OpenCL C and SystemVerilog only through the generated headers.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packagePath } from '../host/core/paths';

/** Every .ts file under dir, relative to the package root. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const f of fs.readdirSync(packagePath(d))) {
      const rel = path.join(d, f);
      if (fs.statSync(packagePath(rel)).isDirectory()) walk(rel);
      else if (f.endsWith('.ts')) out.push(rel);
    }
  };
  walk(dir);
  return out;
}

/** Relative imports of each host/ module (value and type imports, re-exports), as package paths. */
function importGraph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of tsFiles('host')) {
    const text = fs.readFileSync(packagePath(f), 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm)) {
      const base = path.join(path.dirname(f), m[1]);
      const file = [`${base}.ts`, path.join(base, 'index.ts')].find((p) => fs.existsSync(packagePath(p)));
      assert.ok(file, `${f}: import '${m[1]}' resolves to no module`);
      deps.push(file);
    }
    g.set(f, deps);
  }
  return g;
}

const layer = (f: string) => f.split(path.sep)[1].replace(/\.ts$/, '');

describe('architecture', () => {
  const graph = importGraph();

  it('host/ has no import cycle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') assert.fail(`import cycle: ${[...stack.slice(stack.indexOf(f)), f].join(' -> ')}`);
      state.set(f, 'open');
      stack.push(f);
      for (const d of graph.get(f) ?? []) visit(d);
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f);
  });

  it('layers import only downwards', () => {
    // what each folder of host/ may import besides itself
    const allowed: Record<string, string[]> = {
      core: [],
      ir: ['core'],
      array: ['core', 'compile'], // compile: the model types a program is encoded from
      compile: ['core', 'ir', 'array'], // array: limits.ts, a leaf
      format: ['core', 'compile', 'array'],
      import: ['core', 'ir', 'compile', 'array', 'format'], // format: the ONNX messages
      data: ['core', 'compile'], // compile: the model's preprocessing type and its check
      opencl: ['core', 'boards'],
      board: ['core', 'array'], // the dev-board link: protocol, serial driver, memory layout
      runtime: ['core', 'compile', 'format', 'import', 'backends', 'array', 'data', 'zoo'],
      backends: ['core', 'compile', 'array', 'opencl', 'board', 'boards', 'runtime/backend', 'runtime/layer-stats'],
      boards: ['core', 'opencl'],
      build: ['core', 'compile', 'array', 'format', 'boards', 'opencl', 'board', 'runtime', 'backends'],
      zoo: ['core', 'ir', 'compile', 'runtime', 'import', 'data', 'format'],
      export: ['core', 'compile', 'ir', 'array', 'format'], // format: the ONNX messages
      train: ['core', 'ir', 'compile', 'format', 'import', 'data', 'runtime', 'backends', 'export'],
      bench: ['core', 'compile', 'runtime', 'backends', 'zoo', 'data', 'export', 'array', 'serve'], // serve: `bench serve` names the model as the server does
      serve: ['core', 'compile', 'runtime', 'data'],
      jobs: ['core', 'compile', 'format', 'data', 'runtime'], // batch inference over Redis: Sessions on shards
    };
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      const from = layer(f);
      if (from === 'cli' || from === 'index') continue; // the top: may use everything
      for (const d of deps) {
        const to = layer(d);
        if (to === from) continue;
        const ok = (allowed[from] ?? []).some((a) => (a.includes('/') ? d === path.join('host', `${a}.ts`) : a === to));
        if (!ok) bad.push(`${f} imports ${d}`);
      }
    }
    assert.deepEqual(bad, [], 'imports against the layering of docs/ARCHITECTURE.md');
  });

  it('every kernel limit, build parameter and error code is defined once (limits.ts, through the generated headers)', () => {
    const defines = [
      /#define\s+BW_MAX_BITS\b/, /#define\s+BW_(OK|E_\w+)\s/, /#define\s+BW_HLS_MAX_\w+\s+\d/, /#define\s+BWRTL_(OK|E_\w+)\s/, /#define\s+BW_HLS_(OK|E_\w+)\s/, /#define\s+BW_RTL_\w+\s+\d/,
      /localparam\s+int\s+(MAX_BITS|RTL_\w+|ERR_\w+)\s*=/, /\bMAX_OUT_BITS\s*=\s*\d/, /\bPDEPTH\s*=\s*\d/, /\bTS\s*=\s*\d/,
    ];
    const sources = ['hls', 'opencl-kernels', 'sim', 'host/native'].flatMap((d) => {
      const out: string[] = [];
      const walk = (rel: string) => {
        for (const f of fs.readdirSync(packagePath(rel))) {
          const p = path.join(rel, f);
          // test benches choose their own (small) sizes
          if (fs.statSync(packagePath(p)).isDirectory()) { if (f !== 'tb') walk(p); }
          else if (/\.(h|hpp|cpp|c|cl|sv|svh|v|sh)$/.test(f)) out.push(p);
        }
      };
      walk(d);
      return out;
    });
    const found: string[] = [];
    for (const f of [...sources, 'Makefile']) {
      const text = fs.readFileSync(packagePath(f), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
      for (const re of defines) if (re.test(text)) found.push(`${f}: ${re}`);
    }
    assert.deepEqual(found, [], 'limits restated outside host/array/limits.ts');
    // and in TypeScript: the numbers live in limits.ts only
    // (OpenCL's own status codes, host/opencl/constants.ts and errors.ts, are the API's, not ours)
    const ts = tsFiles('host').filter((f) => f !== path.join('host', 'array', 'limits.ts') && !f.startsWith(path.join('host', 'opencl')));
    for (const f of ts) {
      const text = fs.readFileSync(packagePath(f), 'utf8');
      assert.doesNotMatch(text, /\b(MAX_BITS|MAX_BATCH|maxBits)\s*[:=]\s*\d/, f);
      assert.doesNotMatch(text, /\[-[1-6]\]\s*:\s*'/, `${f}: an FFI error-code table`);
    }
  });

  it('the scripts (bin/, scripts/, sim/, Makefile) name only modules that exist', () => {
    const files = ['Makefile', 'bin/bitweave.js', ...['scripts', 'sim', 'sim/ice40', 'sim/axi'].flatMap((d) => fs.readdirSync(packagePath(d)).filter((f) => f.endsWith('.sh')).map((f) => path.join(d, f)))];
    const missing: string[] = [];
    for (const f of files) {
      for (const m of fs.readFileSync(packagePath(f), 'utf8').matchAll(/dist\/(host\/[\w/-]+?)(?:\.js)?['"\s)]/g)) {
        if (m[1].includes('%')) continue; // a make pattern rule
        if (![`${m[1]}.ts`, path.join(m[1], 'index.ts')].some((p) => fs.existsSync(packagePath(p)))) missing.push(`${f}: ${m[1]}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
