import * as fs from 'node:fs';
import { FormatError } from './errors';

/** An error's message on one line (for one-line CLI errors). */
export function oneLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/\s+/g, ' ').trim();
}

/**
 * Read a whole file, refusing anything larger than `limit` bytes or not a regular file.
 * Missing/unreadable files become FormatError too, so callers print one line, not a stack.
 */
export function readFileBounded(path: string, limit: number): Buffer {
  let size: number;
  try {
    const st = fs.statSync(path);
    if (!st.isFile()) throw new FormatError(path, 'not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(path, `cannot read (${oneLine(e)})`);
  }
  if (size > limit) throw new FormatError(path, `file is ${size} bytes, more than the ${limit}-byte limit`);
  try {
    return fs.readFileSync(path);
  } catch (e) {
    throw new FormatError(path, `cannot read (${oneLine(e)})`);
  }
}
