/**
 * Converting source models (BMXNet symbol + params) to compiled models, with the
 * preprocessing and class labels a user states for them. The one place every command's
 * model options end up (host/zoo/models.ts `loadNamedModel` resolves a model spec).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError, ShapeError } from '../core/errors';
import { ioReason } from '../core/files';
import { compile } from '../compile/compile';
import { CompiledModel, tensorLength } from '../compile/model';
import { validateModel } from '../compile/validate';
import { hasPreprocessSpec, PreprocessSpec, resolvePreprocess } from '../data/preprocess';
import { importBmxnet } from '../import/bmxnet';
import { importLarq } from '../import/larq';
import { importQonnx } from '../import/qonnx';

export interface LoadOptions {
  /** For BMXNet models: the .params file (default: <prefix>-NNNN.params next to the symbol). */
  params?: string;
  /**
   * For BMXNet models: input shape [C, H, W]. Symbols do not store it; default: inferred
   * from the model where its parameters fix it (channels from the first layer, H x W from
   * `preprocess.crop` or, for a flatten + fully connected head, the smallest square size
   * that fits), else an error asking for it.
   */
  inputShape?: number[];
  /**
   * The source framework's preprocessing, stored in the converted model (BMXNet symbols and
   * zoo models; a .bnn file keeps its own). `crop` also gives the input's height x width.
   */
  preprocess?: PreprocessSpec;
  /** Class labels stored in the converted model, one per class (see readLabels). */
  labels?: string[];
  /** Weight seed of zoo models (default 1). */
  seed?: number;
  /** Receives notes about the conversion (e.g. how the input shape was inferred). */
  onNote?: (note: string) => void;
  /** The source file that validation errors name (default: the model's name). */
  sourceName?: string;
}

/** True when `file` names an ONNX / QONNX model. */
export function isOnnxFile(file: string): boolean {
  return /\.onnx$/i.test(file);
}

/** True when `file` names a TFLite model (a Larq model converted by LCE). */
export function isTfliteFile(file: string): boolean {
  return /\.tflite$/i.test(file);
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

/**
 * Store the stated preprocessing and labels in a freshly compiled model (checked against
 * its input and classes), then validate it.
 */
export function withModelMetadata(m: CompiledModel, opts: LoadOptions): CompiledModel {
  const x = m.tensors[m.input];
  if (hasPreprocessSpec(opts.preprocess)) {
    const p = (m.preprocess = resolvePreprocess(opts.preprocess!, [x.c, x.h, x.w]));
    if (p.mean.some((v) => Math.abs(v) > p.scale)) {
      opts.onNote?.(`the mean ${p.mean.join(',')} lies outside the pixel range ${p.scale === 1 ? '[0, 1]' : `0..${p.scale}`} (--scale ${p.scale}); models trained on 0..255 pixels (MXNet's ImageNet examples) need --scale 255`);
    }
  }
  if (opts.labels !== undefined) {
    const classes = tensorLength(m.tensors[m.output]);
    if (opts.labels.length !== classes) {
      throw new ShapeError(`--labels gives ${opts.labels.length} label${opts.labels.length === 1 ? '' : 's'}, the model has ${classes} classes (one label per line)`);
    }
    m.labels = [...opts.labels];
  }
  // the same gate a .bnn file passes (limits, pad < kernel, finite values), named by its source
  validateModel(m, opts.sourceName ?? m.name);
  return m;
}

/** Import and compile a BMXNet symbol + params pair, with the stated preprocessing and labels. */
export function convertBmxnet(symbolFile: string, opts: LoadOptions = {}): CompiledModel {
  const params = opts.params ?? findParamsFile(symbolFile);
  const crop = opts.preprocess?.crop;
  const given = opts.inputShape;
  if (given && crop && (given.length !== 3 || given[1] !== crop[0] || given[2] !== crop[1])) {
    throw new ShapeError(`--crop ${crop[0]}x${crop[1]} disagrees with --input-shape ${given.join(',')} (the crop is the input's height x width)`);
  }
  const ir = importBmxnet(symbolFile, params, { inputShape: given, inputSize: given ? undefined : crop });
  if (ir.inputShapeNote) opts.onNote?.(ir.inputShapeNote);
  const m = compile(ir);
  // record file names, not this machine's paths
  m.source = { ...m.source, files: m.source.files.map((f) => path.basename(f)) };
  return withModelMetadata(m, { ...opts, sourceName: symbolFile });
}

/** Import and compile a QONNX / ONNX model, with the stated preprocessing and labels. */
export function convertQonnx(file: string, opts: LoadOptions = {}): CompiledModel {
  const { graph, notes } = importQonnx(file);
  for (const n of notes) opts.onNote?.(n);
  const m = compile(graph);
  m.source = { ...m.source, files: m.source.files.map((f) => path.basename(f)) };
  return withModelMetadata(m, { ...opts, sourceName: file });
}

/** Import and compile a Larq model converted by LCE (.tflite), with the stated preprocessing and labels. */
export function convertLarq(file: string, opts: LoadOptions = {}): CompiledModel {
  const { graph, notes } = importLarq(file);
  for (const n of notes) opts.onNote?.(n);
  const m = compile(graph);
  m.source = { ...m.source, files: m.source.files.map((f) => path.basename(f)) };
  return withModelMetadata(m, { ...opts, sourceName: file });
}
