/** Order statistics the benchmarks report. */

/** The median of `v` (mean of the two middle values for an even count). */
export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** The q-quantile (0..1) of `v` by the nearest-rank method (p99: q = 0.99). */
export function quantile(v: readonly number[], q: number): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
