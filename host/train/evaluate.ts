/** Accuracy of a compiled model on a dataset with one backend (what `bitweave eval` reports). */
import { CompiledModel } from '../compile/model';
import { Dataset } from '../data/datasets';
import { Session } from '../runtime/session';
import { argmax } from './trainer';

export interface BackendEval {
  backend: string;
  images: number;
  correct: number;
  accuracy: number;
  seconds: number;
  imagesPerSecond: number;
  predictions: Uint8Array;
  logits: Float32Array;
}

export async function evaluate(model: CompiledModel | string, backend: string, ds: Dataset, onBatch?: (done: number, total: number) => void): Promise<BackendEval> {
  const session = await Session.create(model, { backend });
  try {
    const r = await session.run(ds.images, { onBatch });
    const predictions = new Uint8Array(r.count);
    let correct = 0;
    for (let i = 0; i < r.count; i++) {
      predictions[i] = argmax(r.logits, i, r.classes);
      if (predictions[i] === ds.labels[i]) correct++;
    }
    const st = session.stats();
    return { backend, images: r.count, correct, accuracy: correct / r.count, seconds: st.seconds, imagesPerSecond: st.imagesPerSecond, predictions, logits: r.logits };
  } finally {
    await session.close();
  }
}

/** Images on which two prediction lists agree. */
export function agreement(a: Uint8Array, b: Uint8Array): number {
  let same = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] === b[i]) same++;
  return same;
}
