/**
 * Runs a compiled model on the `opencl` backend twice (zero-copy arenas and copied staging
 * arrays) and on the `reference` backend, and prints one JSON line: the host's widths and
 * architecture, the OpenCL device, which transfer path each run used, and whether its logits
 * equal the reference's bit for bit. Run by test/arm32/arm32.test.ts under qemu-arm
 * (scripts/arm32/run.sh node dist/test/arm32/opencl-logits.js <model.bnn> <images>), so that
 * the whole OpenCL path, bindings to kernels, runs on a 32-bit ARM host. Host segments use
 * the reference engine: the native library is built for the machine running `make`.
 *
 * usage: node dist/test/arm32/opencl-logits.js <model.bnn> <images> [chunk]
 */
import { OpenCLBackend } from '../../host/backends/opencl';
import { hostWidths, selectDevice } from '../../host/opencl';
import { loadModel } from '../../host/runtime/load';
import { Session } from '../../host/runtime/session';
import { randomImages } from '../helpers/random-model';

async function main(): Promise<void> {
  const [file, imagesText, chunkText] = process.argv.slice(2);
  const images = Number(imagesText);
  const chunk = Number(chunkText ?? 2);
  if (!file || !Number.isInteger(images) || images < 1 || !Number.isInteger(chunk) || chunk < 1) {
    throw new Error('usage: opencl-logits.js <model.bnn> <images> [chunk]');
  }
  const t0 = Date.now();
  const m = await loadModel(file);
  const t = m.tensors[m.input];
  const x = randomImages(2026, images, [t.c, t.h, t.w]);
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

  const reference = await Session.create(m, { backend: 'reference', batch: images });
  const want = bits((await reference.run(x)).logits);
  await reference.close();

  const runs: { zeroCopy: boolean; transfers: string[]; equal: boolean; ms: number }[] = [];
  for (const zeroCopy of [true, false]) {
    const start = Date.now();
    const s = await Session.create(m, { backend: 'opencl', batch: images, threads: 1, backendOptions: { zeroCopy, chunk, hostEngine: 'reference' } });
    try {
      const got = bits((await s.run(x)).logits);
      const transfers = (s as unknown as { backend: OpenCLBackend }).backend.transfers;
      runs.push({ zeroCopy, transfers, equal: got.length === want.length && got.every((v, i) => v === want[i]), ms: Date.now() - start });
    } finally {
      await s.close();
    }
  }
  const device = selectDevice().info();
  console.log(JSON.stringify({
    arch: process.arch,
    node: process.version,
    widths: hostWidths(),
    device: device.name,
    addressBits: device.addressBits,
    hostUnifiedMemory: device.hostUnifiedMemory,
    images,
    chunk,
    logits: want.length,
    runs,
    totalMs: Date.now() - t0,
  }));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(1);
});
