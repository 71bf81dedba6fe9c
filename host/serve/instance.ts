/**
 * One backend instance of the serving pool, in its own worker thread: a Session on the
 * model the pool was given, running the batches the main thread sends. Native calls and
 * emulated devices block their thread while they run, so each instance has its own and
 * the HTTP thread stays free to parse, batch and answer.
 *
 * Messages: in  { id, images: Float32Array, count }
 *           out { ready, backend, batch } once, then { id, logits, seconds } or { id, error, user }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isUserError } from '../core/errors';
import { oneLineMessage } from '../core/text';
import { Session, SessionOptions } from '../runtime/session';
import { CompiledModel } from '../compile/model';

export interface InstanceData {
  model: CompiledModel;
  session: SessionOptions;
}

export interface RunMessage { id: number; images: Float32Array; count: number }
export type InstanceReply =
  | { ready: true; backend: string; batch: number }
  | { fatal: string; user: boolean }
  | { id: number; logits: Float32Array; seconds: number }
  | { id: number; error: string; user: boolean };

async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as InstanceData;
  let session: Session;
  try {
    session = await Session.create(data.model, data.session);
  } catch (e) {
    port.postMessage({ fatal: oneLineMessage((e as Error).message ?? String(e)), user: isUserError(e) } satisfies InstanceReply);
    return;
  }
  port.on('message', async (m: RunMessage | 'close') => {
    if (m === 'close') {
      await session.close().catch(() => undefined);
      port.close();
      return;
    }
    const t0 = performance.now();
    try {
      const r = await session.run(m.images);
      const reply: InstanceReply = { id: m.id, logits: r.logits, seconds: (performance.now() - t0) / 1000 };
      port.postMessage(reply, [r.logits.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ id: m.id, error: oneLineMessage((e as Error).message ?? String(e)), user: isUserError(e) } satisfies InstanceReply);
    }
  });
  port.postMessage({ ready: true, backend: session.backendName, batch: session.batchSize } satisfies InstanceReply);
}

void main();
