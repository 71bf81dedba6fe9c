/**
 * Writes the generated array header (bitweave_array.h, host/array/header.ts) into a build
 * directory, so kernels include it from there and never from a hand-made copy.
 *
 *   node dist/host/build/emit-header.js <dir> [rows cols]
 *
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { arrayHeaderC } from '../array/header';
import { ArrayParams, DEFAULT_ARRAY } from '../array/params';

export function writeArrayHeader(dir: string, p: ArrayParams = DEFAULT_ARRAY): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'bitweave_array.h');
  const text = arrayHeaderC(p);
  // rewritten only when the content changes, so make does not rebuild the kernels for nothing
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
  return file;
}

if (require.main === module) {
  const [dir, rows, cols] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: emit-header <dir> [rows cols]\n');
    process.exit(1);
  }
  const p = rows ? { ...DEFAULT_ARRAY, rows: Number(rows), cols: Number(cols) } : DEFAULT_ARRAY;
  if (!Number.isInteger(p.rows) || p.rows < 1 || !Number.isInteger(p.cols) || p.cols < 1) {
    process.stderr.write(`emit-header: rows and cols must be positive integers\n`);
    process.exit(1);
  }
  writeArrayHeader(dir, p);
}
