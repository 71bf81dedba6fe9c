/**
 * A type check of the array kernels' Intel build (channels, BW_INTEL_FPGA) without aoc:
 * aoc's channel syntax mapped onto plain OpenCL C 2.0 (program-scope globals) so that
 * clang (installed with PoCL) checks every expression under BW_INTEL_FPGA.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SHIM = [
  '#define BW_INTEL_FPGA 1',
  '#define channel __global',
  '#define write_channel_intel(ch, v) ((ch) = (v))',
  '#define read_channel_intel(ch) (ch)',
  '#define CLK_CHANNEL_MEM_FENCE 0',
].join('\n');

/** clang's binary, or null when none is installed. */
export function findClang(): string | null {
  return ['clang-15', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0) ?? null;
}

/**
 * clang -fsyntax-only on `src` (a kernel source, or a top file whose includes are found in
 * `includeDir`) as the Intel build sees it; returns clang's exit status and messages.
 */
export function typeCheckIntel(clang: string, src: string, includeDir?: string): { status: number | null; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-intel-cl-'));
  try {
    const file = path.join(dir, 'intel.cl');
    // clang does not know the extension pragma; everything else stays as aoc reads it
    fs.writeFileSync(file, `${SHIM}\n${src}`);
    const inc = includeDir ? ['-I', includeDir] : [];
    const args = ['-x', 'cl', '-cl-std=CL2.0', '-fsyntax-only', '-Xclang', '-finclude-default-header', '-Wno-unknown-attributes', '-Wno-unknown-pragmas', '-Wno-ignored-pragmas', '-Werror', ...inc, file];
    const r = spawnSync(clang, args, { encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
