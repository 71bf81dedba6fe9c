import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError } from '../core/errors';
import { ioReason } from '../core/files';
import { compile } from '../compile/compile';
import { CompiledModel } from '../compile/model';
import { validateModel } from '../compile/validate';
import { readBnn } from '../format/bnn';
import { importBmxnet } from '../import/bmxnet';

export interface LoadOptions {
  /** For BMXNet models: the .params file (default: <prefix>-NNNN.params next to the symbol). */
  params?: string;
  /** For BMXNet models: input shape [C, H, W] (symbols do not store it; default [1, 28, 28]). */
  inputShape?: number[];
}

/** True when `file` names a BMXNet/MXNet symbol file rather than a compiled .bnn. */
export function isSymbolFile(file: string): boolean {
  return file.endsWith('.json');
}

/** The params file that belongs to `<prefix>-symbol.json`: the highest epoch present. */
export function findParamsFile(symbolFile: string): string {
  const dir = path.dirname(symbolFile);
  const prefix = path.basename(symbolFile).replace(/-symbol\.json$/, '').replace(/\.json$/, '');
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)\\.params$`);
  if (!fs.existsSync(symbolFile)) throw new BitweaveError(`model file not found: ${symbolFile}`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw new BitweaveError(`cannot look for ${prefix}-NNNN.params in ${dir}: ${ioReason(e)} (pass --params)`);
  }
  const candidates = names
    .map((f) => ({ f, m: re.exec(f) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(b.m![1]) - Number(a.m![1]));
  if (candidates.length === 0) {
    throw new BitweaveError(`no params file ${prefix}-NNNN.params next to ${symbolFile} (pass --params)`);
  }
  return path.join(dir, candidates[0].f);
}

/**
 * The files loading `file` reads: the model, and for a BMXNet symbol its params file
 * (given, or the default one beside it when there is one). Commands refuse to write
 * their output over any of these.
 */
export function modelInputFiles(file: string, params?: string): string[] {
  if (params !== undefined) return [file, params];
  if (!isSymbolFile(file)) return [file];
  try {
    return [file, findParamsFile(file)];
  } catch {
    return [file];
  }
}

/** Import and compile a BMXNet symbol + params pair. */
export function convertBmxnet(symbolFile: string, opts: LoadOptions = {}): CompiledModel {
  const params = opts.params ?? findParamsFile(symbolFile);
  const m = compile(importBmxnet(symbolFile, params, { inputShape: opts.inputShape }));
  // record file names, not this machine's paths
  m.source = { ...m.source, files: m.source.files.map((f) => path.basename(f)) };
  // the same gate a .bnn file passes (limits, pad < kernel, finite values), named by the symbol file
  validateModel(m, symbolFile);
  return m;
}

/**
 * Load a model for execution: a .bnn file, or a BMXNet symbol converted on the fly.
 * Either way the model has passed validateModel.
 */
export async function loadModel(file: string, opts: LoadOptions = {}): Promise<CompiledModel> {
  if (!fs.existsSync(file)) throw new BitweaveError(`model file not found: ${file}`);
  if (isSymbolFile(file)) return convertBmxnet(file, opts);
  return readBnn(file);
}
