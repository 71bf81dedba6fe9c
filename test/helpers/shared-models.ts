import * as fs from 'node:fs';
import * as path from 'node:path';
import { sharedModelsDir } from '../../host/core/paths';

/** The third-party models folder (../shared/models beside the repository, or BITWEAVE_SHARED_MODELS). */
export const SHARED_MODELS = sharedModelsDir();

export function bmxnetMnist(bits: 32 | 64): { symbol: string; params: string } {
  const dir = path.join(SHARED_MODELS, 'bmxnet');
  return {
    symbol: path.join(dir, `binarized_mnist_${bits}bit-symbol.json`),
    params: path.join(dir, `binarized_mnist_${bits}bit-0001.params`),
  };
}

/** Skip the calling test (with a visible message) when the BMXNet MNIST models are absent. */
export function requireBmxnetMnist(ctx: Mocha.Context): void {
  for (const bits of [32, 64] as const) {
    const m = bmxnetMnist(bits);
    if (!fs.existsSync(m.symbol) || !fs.existsSync(m.params)) {
      console.log(`      SKIPPED: BMXNet MNIST model not found at ${m.symbol} (set BITWEAVE_SHARED_MODELS)`);
      ctx.skip();
    }
  }
}
