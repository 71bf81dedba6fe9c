/**
 * The one resolver of model specs (every CLI command, Session.create through
 * host/runtime/load.ts):
 *   resnet18-cifar[-aK]  the ResNet-18-shaped zoo network at 32x32 (K-bit activations), seeded weights
 *   resnet18-imagenet[-aK] the same at 224x224 with the ImageNet stem (BMXNet's ImageNet shapes)
 *   tfc|sfc|lfc|cnv-wJaK FINN's BNN-PYNQ networks (w1a1, w1a2, w2a2), seeded weights (finn.ts)
 *   bmxnet-mnist         BMXNet's converted binary LeNet from ../shared/models (third-party data)
 *   <file>.bnn           a compiled model (it keeps its own preprocessing and labels)
 *   <prefix>-symbol.json a BMXNet symbol, converted on the fly (host/runtime/convert.ts)
 *   <file>.onnx          a QONNX / ONNX model (Brevitas, QKeras, FINN), converted on the fly
 *   <file>.tflite        a Larq model converted by LCE, converted on the fly
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError } from '../core/errors';
import { sharedModelsDir } from '../core/paths';
import { compile } from '../compile/compile';
import { CompiledModel } from '../compile/model';
import { hasPreprocessSpec } from '../data/preprocess';
import { readBnn } from '../format/bnn';
import { convertBmxnet, convertLarq, convertQonnx, isOnnxFile, isSymbolFile, isTfliteFile, LoadOptions, withModelMetadata } from '../runtime/convert';
import { resnet18Cifar, resnet18Imagenet } from './resnet';
import { finnNetwork, parseFinnName } from './finn';

export const ZOO_NAMES = ['resnet18-cifar', 'resnet18-imagenet', 'bmxnet-mnist', 'tfc-w1a1', 'tfc-w1a2', 'sfc-w1a1', 'sfc-w1a2', 'lfc-w1a1', 'lfc-w1a2', 'cnv-w1a1', 'cnv-w1a2', 'tfc-w2a2', 'sfc-w2a2', 'lfc-w2a2', 'cnv-w2a2'] as const;
const ZOO_TEXT = 'resnet18-cifar[-aK], resnet18-imagenet[-aK], bmxnet-mnist, tfc|sfc|lfc|cnv-w1a1|w1a2|w2a2 (FINN)';

export { sharedModelsDir };

/** Kept for callers of the earlier API: the options are LoadOptions (seed included). */
export type NamedModelOptions = LoadOptions;

/** Refuse options that do not apply to `what` (one line naming them). */
function refuse(opts: LoadOptions, keys: Array<keyof LoadOptions>, what: string): void {
  const flag: Record<string, string> = { params: '--params', inputShape: '--input-shape', preprocess: 'the preprocessing options', labels: '--labels', seed: '--seed' };
  const given = keys.filter((k) => (k === 'preprocess' ? hasPreprocessSpec(opts.preprocess) : opts[k] !== undefined));
  const plural = given.length > 1 || given[0] === 'preprocess';
  if (given.length) throw new BitweaveError(`${given.map((k) => flag[k]).join(', ')} ${plural ? 'do' : 'does'} not apply to ${what}`);
}

/** Resolve a model spec (zoo name | .bnn | BMXNet symbol) to a compiled model. */
export async function loadNamedModel(spec: string, opts: LoadOptions = {}): Promise<CompiledModel> {
  const resnet = /^resnet18-(cifar|imagenet)(?:-a([1-8]))?$/.exec(spec);
  if (resnet) {
    const imagenet = resnet[1] === 'imagenet';
    refuse(opts, ['params', 'inputShape'], `the zoo model ${spec} (its input is ${imagenet ? '3x224x224' : '3x32x32'})`);
    const seed = opts.seed ?? 1;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new BitweaveError(`--seed must be an integer in 0..2^32-1, got ${seed}`);
    const build = imagenet ? resnet18Imagenet : resnet18Cifar;
    return withModelMetadata(compile(build({ seed, actBits: resnet[2] ? Number(resnet[2]) : 1 })), opts);
  }
  const finn = parseFinnName(spec);
  if (finn) {
    refuse(opts, ['params', 'inputShape'], `the zoo model ${spec} (its input is ${finn.arch === 'cnv' ? '3x32x32' : '1x28x28'})`);
    const seed = opts.seed ?? 1;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new BitweaveError(`--seed must be an integer in 0..2^32-1, got ${seed}`);
    return withModelMetadata(compile(finnNetwork(finn.arch, { seed, actBits: finn.actBits, weightBits: finn.weightBits })), opts);
  }
  if (spec === 'bmxnet-mnist') {
    refuse(opts, ['params', 'seed'], 'the zoo model bmxnet-mnist');
    const symbol = path.join(sharedModelsDir(), 'bmxnet', 'binarized_mnist_64bit-symbol.json');
    if (!fs.existsSync(symbol)) {
      throw new BitweaveError(`bmxnet-mnist: ${symbol} not found (third-party models live in ../shared/models; set BITWEAVE_SHARED_MODELS)`);
    }
    return convertBmxnet(symbol, opts);
  }
  if (!fs.existsSync(spec)) {
    throw new BitweaveError(`model file not found: ${spec} (a model is a .bnn file, a QONNX .onnx file, a Larq .tflite file, a BMXNet <prefix>-symbol.json or a zoo name: ${ZOO_TEXT})`);
  }
  if (isOnnxFile(spec)) {
    refuse(opts, ['params', 'inputShape', 'seed'], `an ONNX model (${spec} stores its input shape)`);
    return convertQonnx(spec, opts);
  }
  if (isTfliteFile(spec)) {
    refuse(opts, ['params', 'inputShape', 'seed'], `a Larq .tflite model (${spec} stores its input shape)`);
    return convertLarq(spec, opts);
  }
  if (isSymbolFile(spec)) {
    refuse(opts, ['seed'], 'a BMXNet symbol (only zoo models have a seed)');
    return convertBmxnet(spec, opts);
  }
  refuse(opts, ['params', 'inputShape', 'preprocess', 'labels', 'seed'], `${spec}: a compiled .bnn keeps the input shape, preprocessing and labels it was converted with (convert the source model again to change them)`);
  return readBnn(spec);
}
