/** Seeded random weights shared by the zoo's networks (resnet.ts, finn.ts). */

/** Deterministic 32-bit generator (mulberry32) so a seed names one model. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mean and variance of a value, per element (the same for every channel). */
export interface Stats {
  mean: number;
  variance: number;
}

/**
 * Parameters of a BatchNorm whose output feeds a binarisation, as in a trained network:
 * centred on the input statistics with a small per-channel jitter. 1-bit: the sign of a
 * zero-mean value (30% negative gammas); k-bit: mapped to about [0, 1] so clip and
 * rounding use every level.
 */
export function binarizingBnParams(r: () => number, c: number, s: Stats, bits: number) {
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * r();
  const sd = Math.sqrt(s.variance);
  const gamma = new Float32Array(c);
  const beta = new Float32Array(c);
  const mean = new Float32Array(c);
  const variance = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    mean[i] = s.mean + uniform(-0.3, 0.3) * sd;
    variance[i] = s.variance * uniform(0.5, 2);
    if (bits === 1) {
      gamma[i] = uniform(0.5, 2) * (r() < 0.3 ? -1 : 1);
      beta[i] = uniform(-0.1, 0.1);
    } else {
      gamma[i] = uniform(0.3, 0.6) * (r() < 0.2 ? -1 : 1);
      beta[i] = 0.5;
    }
  }
  return { gamma, beta, mean, variance };
}
