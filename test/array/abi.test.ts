/**
 * The kernel ABI read back out of the HLS source (host/array/abi.ts): signature and m_axi
 * bundles equal KERNEL_ARGS.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { abiMismatches, hlsKernelAbi, hlsTopSource, KERNEL_ABI, KERNEL_NAME, kernelPorts, parseKernelSignature } from '../../host/array/abi';
import { packageRoot } from '../../host/core/paths';

const ROOT = packageRoot();

describe('kernel ABI', () => {
  it('the HLS top function in hls/bitweave_array.cpp has exactly the fixed ABI (names, order, types, constness)', () => {
    const args = hlsKernelAbi();
    assert.deepEqual(args, KERNEL_ABI);
    assert.deepEqual(
      args.map((a) => `${a.readonly ? 'const ' : ''}${a.type}${a.pointer ? ' *' : ''} ${a.name}`),
      ['const uint32_t * program', 'uint32_t layers', 'const uint64_t * weights', 'const int32_t * params', 'uint64_t * arena', 'uint32_t arena_words', 'uint32_t images'],
    );
    // m_axi bundles: program + params / weights / arena separate
    const ports = kernelPorts(hlsTopSource().text);
    const bundle = Object.fromEntries(ports.map((p) => [p.arg, p.bundle]));
    assert.equal(bundle.program, bundle.params);
    assert.equal(new Set([bundle.program, bundle.weights, bundle.arena]).size, 3);
    assert.match(hlsTopSource().text, /#pragma HLS INTERFACE s_axilite port = return bundle = control/);
  });

  it('detects drift: a renamed, reordered, retyped or de-consted argument is reported', () => {
    const src = hlsTopSource().text;
    const variants: [string, string][] = [
      ['uint32_t arena_words', 'uint32_t arena_len'],
      ['const uint64_t *weights, const int32_t *params', 'const int32_t *params, const uint64_t *weights'],
      ['uint32_t images)', 'uint64_t images)'],
      ['const uint32_t *program', 'uint32_t *program'],
      [', uint32_t images)', ')'],
    ];
    for (const [from, to] of variants) {
      assert.ok(src.includes(from), from);
      assert.ok(abiMismatches(parseKernelSignature(src.replace(from, to))).length > 0, `${from} -> ${to}`);
    }
    assert.throws(() => parseKernelSignature('void other(int a) {}'), /expected one definition/);
  });

  it('parses OpenCL C spellings of the same signature (and the OpenCL kernel source when present)', () => {
    const cl = '__kernel __attribute__((max_global_work_dim(0))) void bitweave_array(__global const uint *restrict program, const uint layers, ' +
      '__global const ulong *restrict weights, __global const int *restrict params, __global ulong *restrict arena, uint arena_words, uint images) { }';
    assert.deepEqual(abiMismatches(parseKernelSignature(cl.replace('const uint layers', 'uint layers'))), []);
    const dir = path.join(ROOT, 'opencl-kernels');
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cl')).map((f) => path.join(dir, f)) : [];
    const withKernel = files.filter((f) => /void\s+bitweave_array\s*\(/.test(fs.readFileSync(f, 'utf8')));
    if (withKernel.length === 0) {
      console.log('      (no opencl-kernels/*.cl defines bitweave_array in this tree: only the HLS source was checked)');
      return;
    }
    for (const f of withKernel) assert.deepEqual(abiMismatches(parseKernelSignature(fs.readFileSync(f, 'utf8'), KERNEL_NAME, f)), [], f);
  });
});
