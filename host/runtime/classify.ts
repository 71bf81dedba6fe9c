/** Reading logits as classes: the argmax and the top-k with softmax probabilities. */

/** Index of the largest logit of one row (the first on ties). */
export function argmaxRow(logits: ArrayLike<number>, row: number, classes: number): number {
  let best = 0;
  for (let k = 1; k < classes; k++) if (logits[row * classes + k] > logits[row * classes + best]) best = k;
  return best;
}

/** Softmax of each row in double (comparing logits with an engine that returns probabilities). */
export function softmaxRows(logits: Float32Array, rows: number): Float64Array {
  const n = logits.length / rows;
  const p = new Float64Array(logits.length);
  for (let r = 0; r < rows; r++) {
    let mx = -Infinity;
    for (let k = 0; k < n; k++) mx = Math.max(mx, logits[r * n + k]);
    let sum = 0;
    for (let k = 0; k < n; k++) sum += p[r * n + k] = Math.exp(logits[r * n + k] - mx);
    for (let k = 0; k < n; k++) p[r * n + k] /= sum;
  }
  return p;
}

export interface TopClass {
  class: number;
  label?: string;
  logit: number;
  /** Softmax probability over the row (display only, float64). */
  probability: number;
}

/** Top-k classes of one row, best first (ties: lower class first), with their labels if the model has them. */
export function topK(logits: Float32Array, row: number, classes: number, k: number, labels?: readonly string[]): TopClass[] {
  const r = Array.from(logits.subarray(row * classes, (row + 1) * classes));
  const mx = Math.max(...r);
  const e = r.map((v) => Math.exp(v - mx));
  const sum = e.reduce((a, b) => a + b, 0);
  return r
    .map((v, i) => ({ class: i, ...(labels ? { label: labels[i] } : {}), logit: v, probability: e[i] / sum }))
    .sort((a, b) => b.logit - a.logit || a.class - b.class)
    .slice(0, k);
}
