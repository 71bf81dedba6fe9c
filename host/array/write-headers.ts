/**
 * Writes the generated array headers (bitweave_array.h, bitweave_array.svh) into a build
 * directory: `node dist/host/array/write-headers.js <dir> [rows cols]` (default: the
 * DEFAULT_ARRAY parameters). The Makefile's RTL, synthesis and bitstream targets use it,
 * so no copy of the headers is ever checked in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { arrayHeaderC, arrayHeaderSv } from './header';
import { ArrayParams, DEFAULT_ARRAY } from './params';

export function writeArrayHeaders(dir: string, p: ArrayParams = DEFAULT_ARRAY): void {
  fs.mkdirSync(dir, { recursive: true });
  // rewrite only on change, so make does not rebuild what depends on them
  for (const [name, text] of [['bitweave_array.h', arrayHeaderC(p)], ['bitweave_array.svh', arrayHeaderSv(p)]] as const) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
  }
}

if (require.main === module) {
  const [dir, rows, cols] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: write-headers <dir> [rows cols]\n');
    process.exit(1);
  }
  const p: ArrayParams = { ...DEFAULT_ARRAY };
  if (rows !== undefined) p.rows = Number(rows);
  if (cols !== undefined) p.cols = Number(cols);
  if (!Number.isInteger(p.rows) || p.rows < 1 || !Number.isInteger(p.cols) || p.cols < 1) {
    process.stderr.write(`write-headers: bad array size ${rows}x${cols}\n`);
    process.exit(1);
  }
  writeArrayHeaders(dir, p);
}
