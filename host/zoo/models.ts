/**
 * Model names the benchmark and export commands accept besides files:
 *   resnet18-cifar[-aK]  the ResNet-18-shaped zoo network (K-bit activations), seeded weights
 *   bmxnet-mnist         BMXNet's converted binary LeNet from ../shared/models (third-party data)
 * Anything else is a .bnn file or a BMXNet symbol (host/runtime/load.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BitweaveError } from '../core/errors';
import { compile } from '../compile/compile';
import { CompiledModel } from '../compile/model';
import { convertBmxnet, loadModel, LoadOptions } from '../runtime/load';
import { resnet18Cifar } from './resnet';

export const ZOO_NAMES = ['resnet18-cifar', 'bmxnet-mnist'] as const;

/** ../shared/models beside the repository (BITWEAVE_SHARED_MODELS overrides). */
export function sharedModelsDir(): string {
  return process.env.BITWEAVE_SHARED_MODELS ?? path.resolve(__dirname, '../../../../shared/models');
}

export interface NamedModelOptions extends LoadOptions {
  /** Weight seed of zoo models (default 1). */
  seed?: number;
}

export async function loadNamedModel(spec: string, opts: NamedModelOptions = {}): Promise<CompiledModel> {
  const resnet = /^resnet18-cifar(?:-a([1-8]))?$/.exec(spec);
  if (resnet) {
    const seed = opts.seed ?? 1;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new BitweaveError(`--seed must be an integer in 0..2^32-1, got ${seed}`);
    return compile(resnet18Cifar({ seed, actBits: resnet[1] ? Number(resnet[1]) : 1 }));
  }
  if (spec === 'bmxnet-mnist') {
    const symbol = path.join(sharedModelsDir(), 'bmxnet', 'binarized_mnist_64bit-symbol.json');
    if (!fs.existsSync(symbol)) {
      throw new BitweaveError(`bmxnet-mnist: ${symbol} not found (third-party models live in ../shared/models; set BITWEAVE_SHARED_MODELS)`);
    }
    return convertBmxnet(symbol, {});
  }
  return loadModel(spec, opts);
}
