/**
 * `bitweave serve`: compiled models behind the KServe Open Inference Protocol v2 (REST),
 * on fastify. Each model has a pool of backend instances and a dynamic batcher; the
 * routes only parse, validate, queue and answer.
 *
 *   const server = await ModelServer.create({ models: [{ name: 'fashion-cnn', model }], instances: [{ backend: 'native' }] });
 *   const url = await server.listen({ port: 8000 });   // 127.0.0.1 unless host says otherwise
 *   …
 *   await server.shutdown();                             // drains what is in flight
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import Fastify, { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BitweaveError } from '../core/errors';
import { packagePath } from '../core/paths';
import { CompiledModel } from '../compile/model';
import { SessionOptions } from '../runtime/session';
import { Batcher, BatcherOptions } from './batcher';
import { ServeMetrics } from './metrics';
import { InstancePool } from './pool';
import { BINARY_HEADER, encodeResponse, InferRequest, inferRequestSchema, MODEL_VERSION, ModelSignature, planOutput, ServeError, splitBinaryBody } from './protocol';

export interface ServedModel {
  /** The name clients use in /v2/models/{name}. */
  name: string;
  model: CompiledModel;
}

export interface ServerOptions extends Partial<BatcherOptions> {
  models: ServedModel[];
  /** One backend instance per entry, for every model (default: one reference instance). */
  instances?: SessionOptions[];
  /** Largest request body in bytes (default 64 MiB; beyond it: 413). */
  maxBodyBytes?: number;
  /** A client must send its whole request within this time (ms, default 30 s; slow clients get 408). */
  clientTimeoutMs?: number;
}

export const SERVE_DEFAULTS = { maxBatch: 64, maxDelayMs: 2, maxQueue: 1024, timeoutMs: 30_000, maxBodyBytes: 64 << 20, clientTimeoutMs: 30_000 };

/** A model's name in URLs: its file stem (models/fashion-cnn.bnn → fashion-cnn), or the zoo name. */
export function servedName(spec: string): string {
  const base = path.basename(spec);
  return base.replace(/-symbol\.json$/i, '').replace(/\.(bnn|onnx|json)$/i, '');
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

interface Served {
  sig: ModelSignature;
  pool: InstancePool;
  batcher: Batcher;
}

/** fastify's JSON parser errors name a content type the client may not have sent: say what is wrong instead. */
function jsonError(err: Error): string {
  const code = (err as FastifyError).code;
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'the request body is empty; an inference request is a JSON object';
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) return 'the request body is not valid JSON';
  return `bad request body: ${err.message}`;
}

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export class ModelServer {
  private draining = false;
  private closed?: Promise<void>;

  private constructor(readonly app: FastifyInstance, private readonly served: Map<string, Served>, readonly metrics: ServeMetrics) {}

  /** Starts every model's instances (each loads its model) and builds the routes; nothing listens yet. */
  static async create(o: ServerOptions): Promise<ModelServer> {
    if (o.models.length === 0) throw new BitweaveError('no model to serve');
    const opt = { ...SERVE_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as typeof SERVE_DEFAULTS & ServerOptions;
    const names = new Set<string>();
    for (const m of o.models) {
      if (!NAME_RE.test(m.name)) throw new BitweaveError(`model name '${m.name}' is not usable in a URL (letters, digits, '_', '.', '-'; give --name)`);
      if (names.has(m.name)) throw new BitweaveError(`two models are named '${m.name}'; give each its own name (--name a,b)`);
      names.add(m.name);
    }
    const metrics = new ServeMetrics();
    const served = new Map<string, Served>();
    try {
      for (const m of o.models) {
        const sig = new ModelSignature(m.name, m.model);
        const instances = (o.instances ?? [{}]).map((s) => ({ ...s, batch: opt.maxBatch }));
        const pool = await InstancePool.start(m.model, instances);
        metrics.watchInstances(m.name, () => pool.busySeconds());
        const batcher = new Batcher(pool, sig.classes, opt, {
          queueDepth: (d) => metrics.queueDepth.set({ model: m.name }, d),
          batch: (images, _requests, seconds) => {
            metrics.batchImages.observe({ model: m.name }, images);
            metrics.batchSeconds.observe({ model: m.name }, seconds);
            metrics.images.inc({ model: m.name }, images);
          },
        });
        served.set(m.name, { sig, pool, batcher });
      }
    } catch (e) {
      await Promise.all([...served.values()].map((s) => s.pool.close()));
      throw e;
    }
    const app = Fastify({
      logger: false,
      bodyLimit: opt.maxBodyBytes,
      return503OnClosing: true,
      forceCloseConnections: 'idle',
      ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
      // the Node server's own limits, checked every second, so a slow client is cut off in time
      serverFactory: (handler) => http.createServer({
        requestTimeout: opt.clientTimeoutMs, headersTimeout: Math.min(opt.clientTimeoutMs, 60_000), connectionsCheckingInterval: 1000, keepAliveTimeout: 5000,
      }, handler),
    });
    const server = new ModelServer(app, served, metrics);
    server.routes();
    await app.ready();
    return server;
  }

  /** Listens on host:port (default 127.0.0.1:8000); returns the base URL. */
  async listen(o: { port?: number; host?: string } = {}): Promise<string> {
    const host = o.host ?? '127.0.0.1';
    try {
      await this.app.listen({ port: o.port ?? 8000, host });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE') throw new BitweaveError(`port ${o.port} on ${host} is in use`);
      if (err.code === 'EACCES') throw new BitweaveError(`no permission to listen on ${host}:${o.port}`);
      if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') throw new BitweaveError(`cannot listen on '${host}': no such local address`);
      throw e;
    }
    const a = this.app.server.address();
    if (a && typeof a === 'object') return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    return String(a);
  }

  /** Stops taking requests (503), answers every queued and running one, then stops the instances. */
  shutdown(): Promise<void> {
    this.closed ??= (async () => {
      this.draining = true;
      await Promise.all([this.app.close(), ...[...this.served.values()].map((s) => s.batcher.drain())]);
      await Promise.all([...this.served.values()].map((s) => s.pool.close()));
    })();
    return this.closed;
  }

  private model(name: string, version?: string): Served {
    const s = this.served.get(name);
    if (!s) throw new ServeError(404, `unknown model '${name}'; served: ${[...this.served.keys()].join(', ')}`);
    if (version !== undefined && version !== MODEL_VERSION) throw new ServeError(404, `model '${name}' has no version '${version}' (its one version is '${MODEL_VERSION}')`);
    return s;
  }

  private routes(): void {
    const app = this.app;
    const json = app.getDefaultJsonParser('error', 'error');
    app.removeAllContentTypeParsers();
    // every body is read as bytes: JSON, or the binary extension's JSON header + tensor bytes
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
      let head = body;
      const lengthHeader = req.headers[BINARY_HEADER];
      try {
        if (lengthHeader !== undefined) {
          const parts = splitBinaryBody(body, String(lengthHeader));
          head = parts.json;
          (req as FastifyRequest & { binary?: Buffer }).binary = parts.binary;
        }
      } catch (e) {
        done(e as Error, undefined);
        return;
      }
      json(req, head.toString('utf8'), (err, value) => {
        if (err) done(new ServeError(400, jsonError(err)), undefined);
        else done(null, value);
      });
    });

    app.setErrorHandler((err: FastifyError | ServeError, _req, reply) => {
      let status = 500;
      if (err instanceof ServeError) status = err.status;
      else if ((err as FastifyError).validation) status = 400;
      else if (typeof (err as FastifyError).statusCode === 'number' && (err as FastifyError).statusCode! >= 400) status = (err as FastifyError).statusCode!;
      const message = (err as FastifyError).validation ? `invalid inference request: ${err.message}` : err.message;
      void reply.code(status).send({ error: message });
    });
    app.setNotFoundHandler((req, reply) => void reply.code(404).send({ error: `no route ${req.method} ${req.url.slice(0, 200)}` }));

    app.get('/v2/health/live', async () => ({ live: true }));
    app.get('/v2/health/ready', async (_req, reply) => {
      if (this.draining) return reply.code(503).send({ error: 'the server is shutting down', ready: false });
      return { ready: true };
    });
    app.get('/v2', async () => ({ name: 'bitweave', version: packageVersion(), extensions: ['binary_tensor_data', 'classification'] }));
    type P = { name: string; version?: string };
    const meta = async (req: FastifyRequest<{ Params: P }>) => this.model(req.params.name, req.params.version).sig.metadata();
    app.get('/v2/models/:name', meta);
    app.get('/v2/models/:name/versions/:version', meta);
    const ready = async (req: FastifyRequest<{ Params: P }>, reply: FastifyReply) => {
      this.model(req.params.name, req.params.version);
      if (this.draining) return reply.code(503).send({ error: 'the server is shutting down', name: req.params.name, ready: false });
      return { name: req.params.name, ready: true };
    };
    app.get('/v2/models/:name/ready', ready);
    app.get('/v2/models/:name/versions/:version/ready', ready);
    const infer = (req: FastifyRequest<{ Params: P; Body: InferRequest }>, reply: FastifyReply) => this.infer(req, reply);
    const schema = { body: inferRequestSchema };
    app.post('/v2/models/:name/infer', { schema }, infer);
    app.post('/v2/models/:name/versions/:version/infer', { schema }, infer);
    app.get('/metrics', async (_req, reply) => reply.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics()));

    // while draining, each answered connection is closed, so close() does not wait for idle keep-alives
    app.addHook('onSend', async (_req, reply, payload) => {
      if (this.draining) void reply.header('connection', 'close');
      return payload;
    });
    app.addHook('onResponse', async (req, reply) => {
      const name = (req.params as P | undefined)?.name;
      if (req.method === 'POST' && name !== undefined && this.served.has(name)) this.metrics.requests.inc({ model: name, code: String(reply.statusCode) });
    });
  }

  private async infer(req: FastifyRequest<{ Params: { name: string; version?: string }; Body: InferRequest }>, reply: FastifyReply): Promise<unknown> {
    const t0 = performance.now();
    const s = this.model(req.params.name, req.params.version);
    const plan = planOutput(req.body, s.sig.classes);
    const { images, count } = s.sig.decodeInput(req.body, (req as FastifyRequest & { binary?: Buffer }).binary);
    const logits = await s.batcher.infer(images, count);
    const r = encodeResponse(s.sig, req.body, plan, logits, count);
    this.metrics.latency.observe({ model: s.sig.name }, (performance.now() - t0) / 1000);
    if (!r.binary) return reply.send(r.json);
    const head = Buffer.from(JSON.stringify(r.json), 'utf8');
    return reply.header('Inference-Header-Content-Length', head.length).type('application/octet-stream').send(Buffer.concat([head, r.binary]));
  }
}
