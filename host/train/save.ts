/**
 * Writing a trained network: the compiled .bnn (from the IR export.ts builds) and the
 * BMXNet symbol + params pair beside it.
 */
import * as path from 'node:path';
import { compile } from '../compile/compile';
import { CompiledModel } from '../compile/model';
import { writeBnn } from '../format/bnn';
import { writeFileAtomic } from '../core/files';
import { toBmxnet, toIR } from './export';
import { TrainedParams } from './net';

export interface SavedModel {
  model: CompiledModel;
  bnn: string;
  /** BMXNet files, when written. */
  symbol?: string;
  params?: string;
}

/** Model name from the output file: models/fashion-cnn.bnn -> fashion-cnn. */
export function modelName(bnnPath: string): string {
  return path.basename(bnnPath).replace(/\.bnn$/, '');
}

/** BMXNet file names for a .bnn path: <dir>/<name>-symbol.json and <dir>/<name>-0000.params. */
export function bmxnetPaths(bnnPath: string): { symbol: string; params: string } {
  const dir = path.dirname(bnnPath);
  const name = modelName(bnnPath);
  return { symbol: path.join(dir, `${name}-symbol.json`), params: path.join(dir, `${name}-0000.params`) };
}

export function saveTrained(t: TrainedParams, bnnPath: string, opts: { bmxnet: boolean }): SavedModel {
  const name = modelName(bnnPath);
  const model = compile(toIR(t, name));
  // atomic writes that create missing directories (never looping, never on /proc)
  writeBnn(bnnPath, model, { mkdirs: true });
  if (!opts.bmxnet) return { model, bnn: bnnPath };
  const files = bmxnetPaths(bnnPath);
  const mx = toBmxnet(t);
  writeFileAtomic(files.symbol, mx.symbol, { mkdirs: true });
  writeFileAtomic(files.params, mx.params, { mkdirs: true });
  return { model, bnn: bnnPath, ...files };
}
