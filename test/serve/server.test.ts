/**
 * `bitweave serve`: the Open Inference Protocol routes over real HTTP (JSON and binary
 * tensors, classification), dynamic batching, limits (413, 429, 504, 408), metrics,
 * draining on shutdown, and the CLI's process (SIGTERM, errors).
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { packagePath } from '../../host/core/paths';
import { CompiledModel } from '../../host/compile/model';
import { effectivePreprocess, normalizeBytes } from '../../host/data/preprocess';
import { topK } from '../../host/runtime/classify';
import { loadModel } from '../../host/runtime/load';
import { Session } from '../../host/runtime/session';
import { ModelServer, ServerOptions, servedName } from '../../host/serve/server';
import { instanceOptions } from '../../host/cli/serve';
import { rng } from '../../host/zoo/random';
import { assertUserError, bitweave } from '../helpers/run';

const MLP = packagePath('models', 'fashion-mlp.bnn');
const CNN = packagePath('models', 'fashion-cnn.bnn');

interface Reply { status: number; json: Record<string, unknown>; binary?: Buffer; headers: Headers }

async function call(url: string, init?: { method?: string; body?: Buffer | string; headers?: Record<string, string> }): Promise<Reply> {
  const res = await fetch(url, { method: init?.method ?? (init?.body !== undefined ? 'POST' : 'GET'), body: init?.body, headers: init?.headers });
  const buf = Buffer.from(await res.arrayBuffer());
  const h = res.headers.get('inference-header-content-length');
  const n = h === null ? buf.length : Number(h);
  return { status: res.status, json: JSON.parse(buf.subarray(0, n).toString()) as Record<string, unknown>, binary: h === null ? undefined : buf.subarray(n), headers: res.headers };
}

const postJson = (url: string, body: unknown) => call(url, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

function binaryBody(head: unknown, data: Buffer): { body: Buffer; headers: Record<string, string> } {
  const h = Buffer.from(JSON.stringify(head));
  return { body: Buffer.concat([h, data]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(h.length) } };
}

const outputs = (r: Reply) => r.json.outputs as { name: string; datatype: string; shape: number[]; data?: unknown[]; parameters?: { binary_data_size: number } }[];

function pixels(count: number, per: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: count * per }, () => Math.floor(r() * 256));
}

async function withServer<T>(o: ServerOptions, f: (url: string, s: ModelServer) => Promise<T>): Promise<T> {
  const s = await ModelServer.create(o);
  try {
    const url = await s.listen({ port: 0 });
    return await f(url, s);
  } finally {
    await s.shutdown();
  }
}

describe('serve: Open Inference Protocol v2', function () {
  this.timeout(60000);
  let mlp: CompiledModel;
  let cnn: CompiledModel;
  let server: ModelServer;
  let url: string;
  let base: string;
  const per = 784;
  const px = pixels(5, per, 3);
  let values: Float32Array;
  let expected: Float32Array;

  before(async () => {
    mlp = await loadModel(MLP);
    cnn = await loadModel(CNN);
    values = normalizeBytes(px, 5, [1, 28, 28], effectivePreprocess(mlp.preprocess, 1));
    const s = await Session.create(mlp, { backend: 'reference' });
    expected = (await s.run(values)).logits;
    await s.close();
    server = await ModelServer.create({ models: [{ name: 'fashion-mlp', model: mlp }], instances: [{ backend: 'native', threads: 1 }], maxDelayMs: 20, maxBodyBytes: 1 << 20 });
    url = await server.listen({ port: 0 });
    base = `${url}/v2/models/fashion-mlp`;
  });
  after(async () => server?.shutdown());

  it('binds to 127.0.0.1 and answers health, server and model metadata', async () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual((await call(`${url}/v2/health/live`)).json, { live: true });
    assert.deepEqual((await call(`${url}/v2/health/ready`)).json, { ready: true });
    const v2 = await call(`${url}/v2`);
    assert.equal(v2.json.name, 'bitweave');
    assert.deepEqual(v2.json.extensions, ['binary_tensor_data', 'classification']);
    for (const u of [base, `${base}/versions/1`]) {
      const m = await call(u);
      assert.equal(m.status, 200);
      assert.deepEqual(m.json.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] }]);
      assert.deepEqual(m.json.outputs, [{ name: 'logits', datatype: 'FP32', shape: [-1, 10] }]);
    }
    assert.deepEqual((await call(`${base}/ready`)).json, { name: 'fashion-mlp', ready: true });
    assert.equal((await call(`${base}/versions/1/ready`)).status, 200);
    for (const u of [`${url}/v2/models/nope`, `${url}/v2/models/nope/ready`, `${base}/versions/2`, `${url}/v3`]) {
      const r = await call(u);
      assert.equal(r.status, 404, u);
      assert.equal(typeof r.json.error, 'string', u);
    }
  });

  it('infers JSON FP32 tensors (flat, nested and [N, C·H·W]) bit-identical to a reference Session', async () => {
    const flat = { inputs: [{ name: 'input', shape: [5, 1, 28, 28], datatype: 'FP32', data: Array.from(values) }], id: 'req-7' };
    const r = await postJson(`${base}/infer`, flat);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.id, 'req-7');
    assert.equal(r.json.model_name, 'fashion-mlp');
    const o = outputs(r)[0];
    assert.deepEqual([o.name, o.datatype, o.shape], ['logits', 'FP32', [5, 10]]);
    assert.deepEqual(Float32Array.from(o.data as number[]), expected);
    const nested = Array.from({ length: 5 }, (_, n) => [Array.from({ length: 28 }, (_, y) => Array.from(values.subarray(n * per + y * 28, n * per + y * 28 + 28)))]);
    const r2 = await postJson(`${base}/versions/1/infer`, { inputs: [{ name: 'input', shape: [5, 1, 28, 28], datatype: 'FP32', data: nested }] });
    assert.deepEqual(Float32Array.from(outputs(r2)[0].data as number[]), expected);
    const r3 = await postJson(`${base}/infer`, { inputs: [{ name: 'input', shape: [5, 784], datatype: 'FP32', data: Array.from(values) }] });
    assert.deepEqual(Float32Array.from(outputs(r3)[0].data as number[]), expected);
  });

  it('takes UINT8 pixels with the model preprocessing, and binary tensors both ways', async () => {
    const r = await postJson(`${base}/infer`, { inputs: [{ name: 'input', shape: [5, 1, 28, 28], datatype: 'UINT8', data: Array.from(px) }] });
    assert.deepEqual(Float32Array.from(outputs(r)[0].data as number[]), expected);
    // binary UINT8 in, binary FP32 out
    const b = binaryBody({ inputs: [{ name: 'input', shape: [5, 1, 28, 28], datatype: 'UINT8', parameters: { binary_data_size: px.length } }], parameters: { binary_data_output: true } }, Buffer.from(px));
    const rb = await call(`${base}/infer`, b);
    assert.equal(rb.status, 200, JSON.stringify(rb.json));
    assert.equal(rb.headers.get('content-type'), 'application/octet-stream');
    assert.equal(outputs(rb)[0].parameters!.binary_data_size, 5 * 10 * 4);
    assert.deepEqual(new Float32Array(rb.binary!.buffer.slice(rb.binary!.byteOffset, rb.binary!.byteOffset + rb.binary!.length)), expected);
    // binary FP32 in (no content type at all, as some clients send), JSON out
    const f = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    const bf = binaryBody({ inputs: [{ name: 'input', shape: [5, 1, 28, 28], datatype: 'FP32', parameters: { binary_data_size: f.length } }] }, f);
    delete bf.headers['content-type'];
    const rf = await call(`${base}/infer`, bf);
    assert.equal(rf.status, 200, JSON.stringify(rf.json));
    assert.deepEqual(Float32Array.from(outputs(rf)[0].data as number[]), expected);
  });

  it('answers classification outputs as Triton does (JSON and binary BYTES)', async () => {
    const want = Array.from({ length: 5 }, (_, i) => topK(expected, i, 10, 3, mlp.labels).map((t) => `${t.logit}:${t.class}${t.label !== undefined ? `:${t.label}` : ''}`)).flat();
    const req = { inputs: [{ name: 'input', shape: [5, 784], datatype: 'UINT8', data: Array.from(px) }], outputs: [{ name: 'logits', parameters: { classification: 3 } }] };
    const r = await postJson(`${base}/infer`, req);
    const o = outputs(r)[0];
    assert.deepEqual([o.datatype, o.shape], ['BYTES', [5, 3]]);
    assert.deepEqual(o.data, want);
    const rb = await call(`${base}/infer`, binaryBody({ ...req, outputs: [{ name: 'logits', parameters: { classification: 3, binary_data: true } }] }, Buffer.alloc(0)));
    const strings: string[] = [];
    for (let at = 0; at < rb.binary!.length;) {
      const n = rb.binary!.readUInt32LE(at);
      strings.push(rb.binary!.subarray(at + 4, at + 4 + n).toString());
      at += 4 + n;
    }
    assert.deepEqual(strings, want);
  });

  it('refuses bad requests with OIP error JSON and the right status, and keeps serving', async () => {
    const inp = (o: Record<string, unknown>) => ({ inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: new Array(784).fill(0), ...o }] });
    const cases: [string, Promise<Reply>, number, RegExp][] = [
      ['malformed JSON', call(`${base}/infer`, { body: '{"inputs": [', headers: { 'content-type': 'application/json' } }), 400, /not valid JSON/],
      ['empty body', call(`${base}/infer`, { body: '', headers: { 'content-type': 'application/json' } }), 400, /empty/],
      ['not an object', postJson(`${base}/infer`, [1, 2]), 400, /invalid inference request/],
      ['no inputs', postJson(`${base}/infer`, { inputs: [] }), 400, /invalid inference request/],
      ['wrong shape', postJson(`${base}/infer`, inp({ shape: [1, 3, 28, 28] })), 400, /takes \[N,1,28,28\]/],
      ['wrong count', postJson(`${base}/infer`, inp({ data: [1, 2, 3] })), 400, /has 3 values; its shape needs 784/],
      ['wrong datatype', postJson(`${base}/infer`, inp({ datatype: 'INT64' })), 400, /FP32 and UINT8/],
      ['string values', postJson(`${base}/infer`, inp({ data: ['a'] })), 400, /expected a finite number/],
      ['UINT8 out of range', postJson(`${base}/infer`, inp({ datatype: 'UINT8', data: new Array(784).fill(256) })), 400, /0\.\.255/],
      ['unknown input', postJson(`${base}/infer`, inp({ name: 'x' })), 400, /unknown input 'x'/],
      ['unknown output', postJson(`${base}/infer`, { ...inp({}), outputs: [{ name: 'probs' }] }), 400, /unknown output 'probs'/],
      ['unknown model', postJson(`${url}/v2/models/other/infer`, inp({})), 404, /unknown model 'other'/],
      ['binary size mismatch', call(`${base}/infer`, binaryBody({ inputs: [{ name: 'input', shape: [1, 784], datatype: 'UINT8', parameters: { binary_data_size: 784 } }] }, Buffer.alloc(700))), 400, /carries 700 bytes/],
      ['header longer than body', call(`${base}/infer`, { body: '{}', headers: { 'inference-header-content-length': '99' } }), 400, /body has 2 bytes/],
      ['NaN in binary FP32', call(`${base}/infer`, binaryBody({ inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', parameters: { binary_data_size: 3136 } }] }, Buffer.from(new Float32Array(784).fill(NaN).buffer))), 400, /finite/],
      ['too large', call(`${base}/infer`, { body: Buffer.alloc(2 << 20, 0x20), headers: { 'content-type': 'application/json' } }), 413, /./],
    ];
    for (const [what, p, status, re] of cases) {
      const r = await p;
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.json)}`);
      assert.match(String(r.json.error), re, what);
    }
    const ok = await postJson(`${base}/infer`, inp({}));
    assert.equal(ok.status, 200);
  });

  it('merges concurrent requests into batches and splits the logits back', async () => {
    const rs = await Promise.all(Array.from({ length: 5 }, (_, i) => postJson(`${base}/infer`, { inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: Array.from(values.subarray(i * per, (i + 1) * per)) }] })));
    rs.forEach((r, i) => assert.deepEqual(Float32Array.from(outputs(r)[0].data as number[]), expected.subarray(i * 10, (i + 1) * 10), `request ${i}`));
    const m = await (await fetch(`${url}/metrics`)).text();
    // one batch of 5 within the 20 ms window (the largest batch so far)
    assert.match(m, /bitweave_batch_images_bucket\{le="4",model="fashion-mlp"\} \d+\nbitweave_batch_images_bucket\{le="8",model="fashion-mlp"\}/);
    const le4 = Number(/bitweave_batch_images_bucket\{le="4",model="fashion-mlp"\} (\d+)/.exec(m)![1]);
    const le8 = Number(/bitweave_batch_images_bucket\{le="8",model="fashion-mlp"\} (\d+)/.exec(m)![1]);
    assert.ok(le8 > le4, 'a batch of 5..8 images ran');
  });

  it('exports Prometheus metrics per model', async () => {
    const res = await fetch(`${url}/metrics`);
    assert.match(res.headers.get('content-type')!, /text\/plain/);
    const m = await res.text();
    assert.match(m, /bitweave_requests_total\{model="fashion-mlp",code="200"\} [1-9]/);
    assert.match(m, /bitweave_requests_total\{model="fashion-mlp",code="400"\} [1-9]/);
    assert.match(m, /bitweave_request_duration_seconds_count\{model="fashion-mlp"\} [1-9]/);
    assert.match(m, /bitweave_batch_images_count\{model="fashion-mlp"\} [1-9]/);
    assert.match(m, /bitweave_queue_depth\{model="fashion-mlp"\} 0/);
    assert.match(m, /bitweave_images_total\{model="fashion-mlp"\} [1-9]/);
    assert.match(m, /bitweave_instance_utilization\{model="fashion-mlp",instance="0"\} 0\.\d+/);
    assert.match(m, /process_cpu_user_seconds_total/);
  });

  it('spreads batches over a pool of instances: two native engines, two OpenCL instances on PoCL', async () => {
    const full = { inputs: [{ name: 'input', shape: [64, 784], datatype: 'UINT8', data: Array.from({ length: 64 * 784 }, (_, i) => px[i % px.length]) }] };
    const want = Array.from({ length: 64 }, (_, i) => Array.from(expected.subarray((i % 5) * 10, (i % 5) * 10 + 10))).flat();
    for (const instances of [
      [{ backend: 'native', threads: 1 }, { backend: 'native', threads: 1 }],
      [{ backend: 'opencl', backendOptions: { device: 'pthread' } }, { backend: 'opencl', backendOptions: { device: 'pthread' } }],
    ]) {
      await withServer({ models: [{ name: 'm', model: mlp }], instances, maxBatch: 64 }, async (u) => {
        // full batches go at once, so the second finds the first instance busy
        const rs = await Promise.all(Array.from({ length: 6 }, () => postJson(`${u}/v2/models/m/infer`, full)));
        for (const r of rs) assert.deepEqual(outputs(r)[0].data, want, instances[0].backend);
        const m = await (await fetch(`${u}/metrics`)).text();
        for (const i of [0, 1]) assert.match(m, new RegExp(`bitweave_instance_busy_seconds_total\\{model="m",instance="${i}"\\} [0-9.e-]*[1-9]`), `${instances[0].backend} instance ${i} ran batches`);
      });
    }
  });

  it('answers 429 when the queue is full and 504 when a request times out', async () => {
    // the reference engine on the CNN is slow enough that requests pile up behind a batch
    const img = (i: number) => ({ inputs: [{ name: 'input', shape: [1, 784], datatype: 'UINT8', data: Array.from(px.subarray(i * per, i * per + per)) }] });
    await withServer({ models: [{ name: 'cnn', model: cnn }], instances: [{ backend: 'reference' }], maxBatch: 1, maxDelayMs: 0, maxQueue: 2, timeoutMs: 0 }, async (u) => {
      const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => postJson(`${u}/v2/models/cnn/infer`, img(i % 5))));
      const codes = rs.map((r) => r.status);
      assert.ok(codes.includes(429), `some 429 among ${codes}`);
      assert.ok(codes.includes(200), `some 200 among ${codes}`);
      assert.match(String(rs.find((r) => r.status === 429)!.json.error), /queue is full/);
    });
    const big = { inputs: [{ name: 'input', shape: [16, 784], datatype: 'UINT8', data: new Array(16 * 784).fill(7) }] };
    await withServer({ models: [{ name: 'cnn', model: cnn }], instances: [{ backend: 'reference' }], timeoutMs: 5 }, async (u) => {
      const r = await postJson(`${u}/v2/models/cnn/infer`, big);
      assert.equal(r.status, 504);
      assert.match(String(r.json.error), /within 5 ms/);
    });
  });

  it('cuts off a client that sends its request too slowly (408) and serves others meanwhile', async () => {
    await withServer({ models: [{ name: 'fashion-mlp', model: mlp }], instances: [{ backend: 'native', threads: 1 }], clientTimeoutMs: 300 }, async (u) => {
      const port = Number(new URL(u).port);
      const sock = net.connect(port, '127.0.0.1');
      let answer = '';
      sock.on('data', (c) => (answer += c));
      const closed = new Promise((r) => sock.on('close', r));
      sock.write('POST /v2/models/fashion-mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"inp');
      const ok = await postJson(`${u}/v2/models/fashion-mlp/infer`, { inputs: [{ name: 'input', shape: [1, 784], datatype: 'UINT8', data: new Array(784).fill(0) }] });
      assert.equal(ok.status, 200);
      await closed;
      assert.match(answer, /^HTTP\/1\.1 408/);
    });
  });

  it('drains on shutdown: the request in flight is answered, then nothing listens', async () => {
    const s = await ModelServer.create({ models: [{ name: 'cnn', model: cnn }], instances: [{ backend: 'reference' }] });
    const u = await s.listen({ port: 0 });
    const big = { inputs: [{ name: 'input', shape: [6, 784], datatype: 'UINT8', data: new Array(6 * 784).fill(9) }] };
    const inflight = postJson(`${u}/v2/models/cnn/infer`, big);
    await new Promise((r) => setTimeout(r, 100));
    const done = s.shutdown();
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.deepEqual(outputs(r)[0].shape, [6, 10]);
    await done;
    await assert.rejects(fetch(`${u}/v2/health/live`), 'nothing listens after shutdown');
  });
});

describe('serve: the command', function () {
  this.timeout(60000);

  it('serves until SIGTERM, answers the request in flight, and exits 0', async () => {
    const child = spawn(process.execPath, [packagePath('bin', 'bitweave.js'), 'serve', CNN, '--port', '0', '--backend', 'reference', '--name', 'clothes'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const u = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        out += c;
        const m = / at (http:\/\/127\.0\.0\.1:\d+)\/v2 /.exec(out);
        if (m) resolve(m[1]);
      });
      void exited.then(() => reject(new Error(`serve exited: ${err}`)));
    });
    assert.match(out, /serving clothes \(reference\)/);
    const big = { inputs: [{ name: 'input', shape: [6, 784], datatype: 'UINT8', data: new Array(6 * 784).fill(3) }] };
    const inflight = postJson(`${u}/v2/models/clothes/infer`, big);
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGTERM');
    const r = await inflight;
    assert.equal(r.status, 200);
    assert.equal(await exited, 0);
    assert.match(err, /SIGTERM: draining/);
  });

  it('bench serve: images/s through the server beside eval\'s, in JSON, with identical logits', () => {
    const r = bitweave(['bench', 'serve', MLP, '--seconds', '0.3', '--runs', '1', '--clients', '8', '--json'], { timeout: 60000 });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { identical: boolean; eval: { imagesPerSecond: number; cpuUsPerImage: number }; serve: { mode: string; imagesPerSecond: number; ratioToEval: number; p99Ms: number; meanBatch: number; cpuRatio: number }[] };
    assert.equal(j.identical, true);
    assert.ok(j.eval.imagesPerSecond > 0 && j.eval.cpuUsPerImage > 0);
    assert.deepEqual(j.serve.map((m) => m.mode), ['json', 'binary']);
    for (const m of j.serve) assert.ok(m.imagesPerSecond > 0 && m.ratioToEval > 0 && m.p99Ms > 0 && m.meanBatch >= 1 && m.cpuRatio > 0, JSON.stringify(m));
  });

  it('refuses bad names, devices and addresses', async () => {
    const mlp = await loadModel(MLP);
    await assert.rejects(ModelServer.create({ models: [{ name: 'a b', model: mlp }] }), /not usable in a URL/);
    assert.throws(() => instanceOptions({ backend: 'native', devices: 'x' } as never), /--devices names OpenCL devices/);
    assert.throws(() => instanceOptions({ backend: 'opencl', devices: 'a,,b' } as never), /empty entry/);
    assert.equal(instanceOptions({ backend: 'opencl', devices: 'cpu,gpu' } as never).map((o) => o.backendOptions?.device).join(), 'cpu,gpu');
    assert.equal(instanceOptions({ backend: 'native', workers: 2, threads: 1 } as never).length, 2);
    assert.equal(servedName('models/fashion-cnn.bnn'), 'fashion-cnn');
    assert.equal(servedName('x/lenet-symbol.json'), 'lenet');
    await withServer({ models: [{ name: 'm', model: mlp }], instances: [{ backend: 'native', threads: 1 }] }, async () => {
      const s = await ModelServer.create({ models: [{ name: 'm', model: mlp }], instances: [{ backend: 'native', threads: 1 }] });
      try {
        await assert.rejects(s.listen({ port: 0, host: '192.0.2.1' }), /cannot listen on '192\.0\.2\.1'/);
      } finally {
        await s.shutdown();
      }
    });
  });

  it('refuses bad arguments in one line', async () => {
    assertUserError(bitweave(['serve', 'missing.bnn', '--port', '0']), /missing\.bnn/);
    assertUserError(bitweave(['serve', MLP, MLP, '--port', '0']), /two models are named 'fashion-mlp'/);
    // a port in use
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      assertUserError(bitweave(['serve', MLP, '--port', String(port)]), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`));
    } finally {
      blocker.close();
    }
  });
});
