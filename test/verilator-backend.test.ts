/**
 * The RTL array (sim/) under Verilator against the reference backend: integers, bits
 * and logits bit-identical on random layers and on the shipped / BMXNet models; the cycle
 * model against the cycles the RTL counts; the C ABI's bad-argument paths.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { ReferenceBackend } from '../host/backends/reference';
import { VerilatorBackend } from '../host/backends/verilator';
import { MEM, rtlAbi, rtlInfo, RtlModel } from '../host/backends/verilator/ffi';
import { DEFAULT_ARRAY, DESC_WORDS, FIELD } from '../host/array/params';
import { encodeSegment } from '../host/array/program';
import { programCycles } from '../host/array/cycles';
import { projectThroughput } from '../host/build/projection';
import { parseYosysStat, RECORDED_XCUP } from '../host/array/resources';
import { sizeArray } from '../host/build/sizing';
import { writeArrayHeaders } from '../host/array/write-headers';
import { loadBoard } from '../host/boards';
import { compile } from '../host/compile/compile';
import { CompiledModel } from '../host/compile/model';
import { BitweaveError } from '../host/core/errors';
import { loadDataset } from '../host/data/datasets';
import { importBmxnet } from '../host/import/bmxnet';
import { TensorData } from '../host/runtime/backend';
import { createBackend } from '../host/backends';
import { loadModel } from '../host/runtime/load';
import { loadNamedModel } from '../host/zoo/models';
import { rng } from './helpers/naive';
import { denseChain, randomImages, randomModel } from './helpers/random-model';
import { Session } from '../host/runtime/session';
import { bconvModel, BconvCase, bitsOf, caseFits, logitsOf, randomBits, randomInput, runSegment } from './helpers/native-models';
import { bmxnetMnist, requireBmxnetMnist } from './helpers/shared-models';
import { checkCycleModel } from './backends/cycle-check';

const ROOT = path.resolve(__dirname, '../..');


/** Every segment of m on both backends, each fed the reference's tensors; device outputs must match bit for bit. */
async function compareSegments(m: CompiledModel, input: Float32Array, rtl: VerilatorBackend, what: string): Promise<void> {
  const ref = new ReferenceBackend();
  await ref.load(m);
  await rtl.load(m);
  const { h, w, c } = m.tensors[m.input];
  const batch = input.length / (h * w * c);
  const x = new Float32Array(input.length);
  for (let n = 0; n < batch; n++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) x[(n * h * w + i) * c + ch] = input[(n * c + ch) * h * w + i];
  const tensors = new Map<number, TensorData>([[m.input, x]]);
  for (let si = 0; si < m.segments.length; si++) {
    const seg = m.segments[si];
    const ins = new Map(seg.inputs.map((t) => [t, tensors.get(t)!] as const));
    const want = await runSegment(ref, si, ins, batch);
    if (seg.kind === 'device') {
      const got = await runSegment(rtl, si, ins, batch);
      for (let k = 0; k < want.length; k++) {
        assert.equal(got[k].constructor, want[k].constructor, `${what}: segment ${si} output ${k} type`);
        assert.deepEqual(bitsOf(got[k]), bitsOf(want[k]), `${what}: segment ${si} output ${seg.outputs[k]} differs`);
      }
    }
    seg.outputs.forEach((t, k) => tensors.set(t, want[k]));
  }
}

/** The RTL sources of bw_top in compile order (sim/bw_top.f, the list the Makefile and sim/synth.sh read). */
function rtlSources(): string[] {
  const lines = fs.readFileSync(path.join(ROOT, 'sim', 'bw_top.f'), 'utf8').split('\n').map((l) => l.trim());
  return lines.filter((l) => l && !l.startsWith('//')).map((f) => path.join(ROOT, f));
}

describe('verilator backend (RTL array)', function () {
  before(function () {
    try {
      rtlInfo();
    } catch (e) {
      console.log(`      SKIPPED: ${(e as Error).message}`);
      this.skip();
    }
  });

  it('is registered as "verilator" and reports the array it was built for', async () => {
    const b = await createBackend('verilator', { threads: 1 });
    assert.equal(b.name, 'verilator');
    const info = rtlInfo();
    // make rtl builds the default array; make rtl-variant others (selected with BITWEAVE_RTL_LIB)
    if (!process.env.BITWEAVE_RTL_LIB) {
      assert.deepEqual({ rows: info.rows, cols: info.cols, word: info.word, accBits: info.accBits }, DEFAULT_ARRAY);
      assert.equal(info.drain, info.cols, 'the default build drains every column in one cycle');
    }
    assert.ok(info.drain! >= 1 && info.cols % info.drain! === 0);
    assert.equal(info.descWords, DESC_WORDS);
    await b.dispose();
  });

  it('chains of tiny dense layers: identical bits, cycle model exact (descriptor prefetch cut short by a short layer)', async () => {
    const rtl = new VerilatorBackend({ threads: 1 });
    // widths: 1-word layers of one channel group run a few dozen cycles, fewer than the
    // next descriptor's 32 words; wider ones run long enough to prefetch all of it
    for (const [seed, widths, batch] of [[1, [64, 8, 8, 5], 1], [2, [70, 3, 130, 9, 17], 2], [3, [64, 64, 64], 1], [4, [200, 8, 40], 9]] as const) {
      const m = compile(denseChain(seed, [...widths]));
      const dev = m.segments.findIndex((s) => s.kind === 'device');
      assert.equal(m.segments[dev].end - m.segments[dev].start, widths.length - 1, `seed ${seed}: one device segment of every layer`);
      const r = rng(seed);
      await compareSegments(m, randomInput(r, batch, widths[0], 1), rtl, `chain ${seed}`);
      checkCycleModel(rtl, `chain ${seed}`, 0);
    }
    await rtl.dispose();
  });

  it('the BMXNet MNIST model: identical logits on 200 real digits through the RTL; conv utilisation >= 90%', async function () {
    requireBmxnetMnist(this);
    const f = bmxnetMnist(64);
    const m = compile(importBmxnet(f.symbol, f.params));
    const ds = loadDataset('mnist', { limit: 200 });
    const want = await logitsOf(m, 'native', ds.images, { threads: 1 });
    const ref = await logitsOf(m, 'reference', ds.images.subarray(0, 20 * 784));
    assert.deepEqual(bitsOf(want.subarray(0, ref.length)), bitsOf(ref), 'native engine vs reference');
    const s = await Session.create(m, { backend: 'verilator', batch: 64, threads: 1 });
    const r = await s.run(ds.images);
    const st = s.stats();
    await s.close();
    assert.deepEqual(bitsOf(r.logits), bitsOf(want));
    const dev = st.layers.filter((l) => l.where === 'device');
    assert.equal(dev.length, 2);
    const conv = dev.find((l) => l.name === 'qconvolution0')!;
    assert.ok(conv.utilization! >= 0.9, `qconvolution0 utilisation ${conv.utilization}`);
    assert.ok(dev.every((l) => l.cyclesKind === 'rtl'));
  });

  it('cycle model within 2% of the RTL on every layer of the reference networks (MNIST, fashion-cnn, ResNet-18)', async function () {
    const specs: [string, number][] = [[path.join(ROOT, 'models', 'fashion-cnn.bnn'), 8], ['resnet18-cifar', 1]];
    if (fs.existsSync(bmxnetMnist(64).symbol)) specs.push(['bmxnet-mnist', 3]);
    else console.log('      (BMXNet MNIST model absent: skipped in this test)');
    for (const [spec, batch] of specs) {
      const m = await loadNamedModel(spec);
      const b = new VerilatorBackend({ threads: 1 });
      await b.load(m);
      const r = rng(9);
      for (const [si, seg] of m.segments.entries()) {
        if (seg.kind !== 'device') continue;
        const t = m.tensors[seg.inputs[0]];
        await b.runSegment(si, new Map([[seg.inputs[0], randomBits(r, batch * t.h * t.w, t.c, t.planes)]]), batch);
      }
      checkCycleModel(b, spec);
      const info = rtlInfo();
      if (spec === 'resnet18-cifar' && info.rows === DEFAULT_ARRAY.rows && info.cols === DEFAULT_ARRAY.cols && info.drain === info.cols) {
        // every binary convolution keeps the PEs >= 90% busy even at batch 1, the 1x1
        // projection shortcuts (K = 1-4 words per tile) included
        for (const s of b.layerStats().filter((l) => l.where === 'device')) {
          assert.ok(s.utilization! >= 0.9, `${s.name}: utilisation ${s.utilization}`);
        }
      }
      await b.dispose();
    }
  });

  it('projects throughput from cycles, labelled as a projection', () => {
    const p = projectThroughput(loadBoard('aws-f1'), 2000);
    assert.equal(p.projected, true);
    assert.equal(p.imagesPerSecond, (p.clockMHz * 1e6) / 2000);
    assert.match(p.label, /^projected .* not measured/);
    assert.throws(() => projectThroughput(loadBoard('aws-f1'), 0), BitweaveError);
  });

  it('the cycle model refuses a DRAIN that does not divide COLS, and a slower drain costs cycles', async () => {
    const m = await loadModel(path.join(ROOT, 'models', 'fashion-mlp.bnn'));
    const dev = m.segments.findIndex((s) => s.kind === 'device');
    const prog = encodeSegment(m, dev, DEFAULT_ARRAY);
    for (const drain of [3, 0, 1.5]) assert.throws(() => programCycles(prog, 4, { ...DEFAULT_ARRAY, drain }), /drain .* must divide COLS = 8/);
    const cyc = (drain: number) => programCycles(prog, 4, { ...DEFAULT_ARRAY, drain }).reduce((s, l) => s + l.cycles, 0);
    assert.ok(cyc(1) > cyc(8), 'one column per cycle is slower than the whole tile');
    assert.equal(cyc(8), programCycles(prog, 4, DEFAULT_ARRAY).reduce((s, l) => s + l.cycles, 0), 'drain defaults to COLS');
  });

  it('rejects layers the RTL cannot run with one clear error', async () => {
    const m = bconvModel({ H: 3, W: 3, C: 5, outC: 4, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, pool: null, outBits: 3, seed: 1 }, rng(1));
    const b = new VerilatorBackend({ threads: 1 });
    await assert.rejects(b.load(m), /verilator backend: layer .*: OUT_BITS = 3: the RTL array is built for 1\.\.2-bit outputs/);
    await b.dispose();
  });

  it('C ABI: bad handles, memories, ranges and programs give errors, never a crash', () => {
    const abi = rtlAbi();
    const buf = new Uint32Array(8);
    // null handle
    assert.equal(abi.alloc(null, 0, 4), -1);
    assert.equal(abi.write(null, 0, 0, buf, 1), -1);
    assert.equal(abi.run(null, 10), -1);
    assert.equal(abi.free(null), -1);
    assert.match(abi.error(null), /null handle/);
    const h = abi.create()!;
    try {
      assert.equal(abi.alloc(h, 7, 4), -1, 'bad memory id');
      assert.equal(abi.alloc(h, -1, 4), -1);
      assert.equal(abi.alloc(h, MEM.arena, 2n ** 40n), -3, 'too large');
      assert.equal(abi.alloc(h, MEM.arena, 4), 0);
      assert.equal(abi.write(h, MEM.arena, 0, buf, 4), 0);
      assert.equal(abi.write(h, MEM.arena, 1, buf, 4), -2, 'past the end');
      assert.equal(abi.write(h, MEM.arena, 2n ** 63n, buf, 1), -2, 'huge offset');
      assert.equal(abi.write(h, MEM.arena, 0, null, 1), -1, 'null data');
      assert.equal(abi.read(h, MEM.desc, 0, buf, 1), -2, 'empty memory');
      assert.equal(abi.run(h, 10), -4, 'run before start');
      assert.equal(abi.start(h, 1, 1, 4), -2, 'no descriptors');
      assert.equal(abi.cycles(h, null), -1);
      assert.equal(abi.trace(h, '/nonexistent-dir/x.fst'), -1);
      // a program whose input offset points outside the arena: the harness stops the RTL
      const m = bconvModel({ H: 3, W: 3, C: 5, outC: 4, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, pool: null, outBits: 0, seed: 1 }, rng(1));
      const prog = encodeSegment(m, m.segments.findIndex((s) => s.kind === 'device'), DEFAULT_ARRAY);
      const desc = prog.descriptors.slice();
      desc[FIELD.IN_OFF] = 1 << 30;
      assert.equal(abi.alloc(h, MEM.desc, desc.length), 0);
      assert.equal(abi.write(h, MEM.desc, 0, desc, desc.length), 0);
      assert.equal(abi.alloc(h, MEM.weight, prog.weights.length / 2), 0);
      assert.equal(abi.write(h, MEM.weight, 0, prog.weights, prog.weights.length / 2), 0);
      assert.equal(abi.alloc(h, MEM.param, 0), 0);
      assert.equal(abi.alloc(h, MEM.arena, prog.arenaWords), 0);
      assert.equal(abi.start(h, prog.layers, 1, prog.arenaWords), 0);
      assert.equal(abi.run(h, 100000), -5);
      assert.match(abi.error(h), /RTL read arena word/);
      // unsupported output bits: the RTL flags the program instead of computing garbage
      desc.set(prog.descriptors);
      desc[FIELD.OPCODE] |= 1;
      desc[FIELD.OUT_BITS] = 5;
      assert.equal(abi.write(h, MEM.desc, 0, desc, desc.length), 0);
      assert.equal(abi.start(h, prog.layers, 1, prog.arenaWords), 0);
      assert.equal(abi.run(h, 100000), -6);
    } finally {
      assert.equal(abi.free(h), 0);
    }
    assert.equal(abi.free(h), -1, 'double free is detected');
    assert.equal(abi.alloc(h, 0, 1), -1, 'use after free is detected');
    // the TypeScript wrapper refuses before calling C
    const rtl = new RtlModel();
    try {
      assert.throws(() => rtl.alloc('arena', -1), BitweaveError);
      assert.throws(() => rtl.alloc('bogus' as 'arena', 1), /unknown memory/);
      rtl.alloc('arena', 2);
      assert.throws(() => rtl.write('arena', 1, new Uint32Array(4)), /outside the memory/);
      assert.throws(() => rtl.write('arena', 0, new Uint32Array(3)), /whole number/);
      assert.throws(() => rtl.write('arena', 0, new Float32Array(4) as unknown as Uint32Array), /Uint32Array/);
      assert.throws(() => rtl.run(10), /run before start/);
      assert.throws(() => rtl.start(1, 1, 2), /start failed .*descriptor/);
    } finally {
      rtl.free();
    }
    assert.throws(() => rtl.alloc('arena', 1), /after free/);
  });

  it('writes an FST waveform when asked', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-fst-'));
    try {
      const file = path.join(tmp, 'run.fst');
      const p: BconvCase = { H: 3, W: 3, C: 5, outC: 4, kh: 2, kw: 2, sh: 1, sw: 1, ph: 0, pw: 0, padBit: 1, inBits: 1, pool: null, outBits: 1, seed: 2 };
      const r = rng(2);
      const m = bconvModel(p, r);
      const b = new VerilatorBackend({ threads: 1, trace: file } as never);
      await compareSegments(m, randomInput(r, 1, 45, 1), b, 'traced');
      await b.dispose();
      assert.ok(fs.statSync(file).size > 1000, 'trace file written');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('RTL synthesis (yosys)', function () {
  it('every RTL file is listed in sim/bw_top.f and lint-clean under verilator -Wall, with the package generated for 8x8, 2x2, 4x16 and 1x4, at every DRAIN', function () {
    if (spawnSync('verilator', ['--version']).status !== 0) {
      console.log('      SKIPPED: verilator not installed (make setup installs it)');
      this.skip();
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-lint-'));
    try {
      const sim = (f: string) => path.join(ROOT, 'sim', f);
      const top = rtlSources();
      const files = fs.readdirSync(path.join(ROOT, 'sim')).filter((f) => f.endsWith('.sv')).map(sim);
      assert.deepEqual([...top].sort(), files.sort(), 'sim/bw_top.f lists every sim/*.sv');
      for (const [rows, cols, drains] of [[8, 8, [0, 1, 2]], [2, 2, [0, 1]], [4, 16, [0, 1, 4]], [1, 4, [0]]] as const) {
        writeArrayHeaders(tmp, { ...DEFAULT_ARRAY, rows, cols });
        const svh = path.join(tmp, 'bitweave_array.svh');
        const lint = (files: readonly string[], name: string, params: string[], what: string) => {
          const r = spawnSync('verilator', ['--lint-only', '-Wall', ...params, `-I${tmp}`, svh, ...files, '--top-module', name], { encoding: 'utf8' });
          assert.equal(r.status, 0, `${what}: ${r.stderr}`);
        };
        for (const d of drains) lint(top, 'bw_top', [`-GDRAIN=${d}`], `bw_top ${rows}x${cols} DRAIN ${d}`);
        lint([sim('bw_pe.sv'), sim('bw_pe_array.sv'), sim('ice40/bw_ice40_selftest.sv')], 'bw_ice40_selftest', [], `bw_ice40_selftest ${rows}x${cols}`);
      }
      // a DRAIN that does not divide COLS is refused at elaboration
      writeArrayHeaders(tmp, { ...DEFAULT_ARRAY, rows: 8, cols: 8 });
      const r = spawnSync('verilator', ['--lint-only', '-GDRAIN=3', `-I${tmp}`, path.join(tmp, 'bitweave_array.svh'), ...top, '--top-module', 'bw_top'], { encoding: 'utf8' });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /DRAIN must divide COLS/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the per-PE cost compile --board sizes with equals a fresh yosys run (4x4 grid; the output lane with BITWEAVE_LONG=1)', function () {
    if (spawnSync('yosys', ['-V']).status !== 0) {
      console.log('      SKIPPED: yosys not installed (make setup installs it)');
      this.skip();
    }
    this.timeout(900_000);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-synth-'));
    writeArrayHeaders(tmp, { ...DEFAULT_ARRAY, rows: 4, cols: 4 });
    const pkg = path.join(tmp, 'bitweave_array.svh');
    // the flow, package and parameters of sim/synth.sh
    const xcup = (files: string[], chparam: string, top: string) => {
      const out = path.join(tmp, `${top}.json`);
      const script = `read_verilog -sv -I${tmp} ${pkg} ${files.map((f) => path.join(ROOT, 'sim', f)).join(' ')}; chparam ${chparam} ${top}; synth_xilinx -family xcup -flatten -noiopad -noclkbuf -top ${top}; tee -q -o ${out} stat -json`;
      const r = spawnSync('nice', ['yosys', '-q', '-p', script], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return parseYosysStat(JSON.parse(fs.readFileSync(out, 'utf8')));
    };
    try {
      const grid = xcup(['bw_pe.sv', 'bw_pe_array.sv'], '-set ROWS 4 -set COLS 4 -set DRAIN 4', 'bw_pe_array');
      assert.deepEqual({ lut: Math.round(grid.lut / 16), ff: Math.round(grid.ff / 16) }, RECORDED_XCUP.grid, 'update RECORDED_XCUP.grid (make synth prints the figures)');
      if (!process.env.BITWEAVE_LONG) {
        console.log('      (output lane: set BITWEAVE_LONG=1 to re-synthesise bw_output_unit, ~3 min)');
        return;
      }
      const out = xcup(['bw_row_unit.sv', 'bw_output_unit.sv'], '-set ROWS 4 -set COLS 4 -set DRAIN 4 -set PDEPTH 64 -set MAX_OUT_BITS 2', 'bw_output_unit');
      assert.deepEqual({ lut: Math.round(out.lut / 16), ff: Math.round(out.ff / 16) }, RECORDED_XCUP.lane, 'update RECORDED_XCUP.lane (make synth prints the figures)');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the stat parser counts shift-register and distributed-RAM primitives as the LUT sites they occupy', () => {
    const c = parseYosysStat({ modules: { '\\bw_pe_array': { num_cells_by_type: { LUT6: 10, SRL16E: 3, SRLC32E: 2, RAM64M8: 1, FDRE: 7, CARRY8: 1 } } } }, 'bw_pe_array');
    assert.deepEqual([c.lut, c.lutram, c.ff, c.carry], [10 + 3 + 2 + 8, 3 + 2 + 8, 7, 1]);
  });

  it('the PE synthesises for iCE40 with exactly its registers, and the stat parser counts it', function () {
    if (spawnSync('yosys', ['-V']).status !== 0) {
      console.log('      SKIPPED: yosys not installed (make setup installs it)');
      this.skip();
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-synth-'));
    try {
      const out = path.join(tmp, 'pe.json');
      writeArrayHeaders(tmp);
      const r = spawnSync('yosys', ['-q', '-p', `read_verilog -sv -I${tmp} ${path.join(tmp, 'bitweave_array.svh')} ${path.join(ROOT, 'sim', 'bw_pe.sv')}; synth_ice40 -top bw_pe; tee -q -o ${out} stat -json`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const c = parseYosysStat(JSON.parse(fs.readFileSync(out, 'utf8')), 'bw_pe');
      // a, w (64 each), popcount(a) 7, en/first/last/b 6, accumulator and result buffer 24 each
      assert.equal(c.ff, 64 + 64 + 7 + 6 + 24 + 24);
      assert.ok(c.lut > 64 && c.lut < 1000, `${c.lut} LUTs`);
      // sizing from the measured figure: the array fits the budget it was given
      const board = loadBoard('aws-f1');
      const s = sizeArray(board, { lut: c.lut, ff: c.ff }, { fraction: 0.5 });
      assert.ok(s.luts <= board.resources!.lut! * 0.5 && s.rows * s.cols === s.pes && s.estimate);
      assert.ok(sizeArray(board, { lut: c.lut, ff: c.ff }, { fraction: 0.9 }).pes >= s.pes);
      assert.throws(() => sizeArray(loadBoard('pocl-emulator'), { lut: c.lut, ff: c.ff }), /no LUT count/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
