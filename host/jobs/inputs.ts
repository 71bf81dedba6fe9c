/**
 * The inputs of a batch: one file as `bitweave run` reads it (.npy, IDX optionally gzipped,
 * or one picture), or a folder of pictures (.png/.jpg) taken in sorted name order, each
 * preprocessed with the model's stored preprocessing as `run` does for one picture.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FormatError, ShapeError } from '../core/errors';
import { ioReason } from '../core/files';
import { InputFileOptions, loadInputFile } from '../data/datasets';
import { InputShape } from '../data/image';

export interface BatchInputs {
  /** count * C*H*W floats, NCHW. */
  images: Float32Array;
  count: number;
  /** The picture names of a folder input, in order. */
  files?: string[];
}

const PICTURE = /\.(png|jpe?g)$/i;

/** A folder's pictures, sorted by name (code-unit order, the same on every machine). */
export function folderPictures(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw new FormatError(dir, `cannot list the folder (${ioReason(e)})`);
  }
  const pictures = names.filter((n) => PICTURE.test(n) && fs.statSync(path.join(dir, n), { throwIfNoEntry: false })?.isFile()).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (pictures.length === 0) throw new FormatError(dir, 'the folder holds no .png or .jpg files');
  return pictures;
}

export function loadBatchInputs(input: string, shape: InputShape, opts: InputFileOptions): BatchInputs {
  let isDir = false;
  try {
    isDir = fs.statSync(input).isDirectory();
  } catch {
    // loadInputFile names the missing file
  }
  if (!isDir) return loadInputFile(input, shape, opts);
  const files = folderPictures(input);
  const per = shape.channels * shape.height * shape.width;
  const images = new Float32Array(files.length * per);
  files.forEach((f, i) => {
    const one = loadInputFile(path.join(input, f), shape, opts);
    if (one.count !== 1) throw new ShapeError(`${path.join(input, f)}: a picture gave ${one.count} inputs`);
    images.set(one.images, i * per);
  });
  return { images, count: files.length, files };
}
