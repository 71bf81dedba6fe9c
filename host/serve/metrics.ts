/**
 * Prometheus metrics of the model server (prom-client, one registry per server, so two
 * servers in one process do not share counters): requests and latencies per model,
 * batch sizes, queue depth, and each backend instance's utilisation.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'model' | 'code'>;
  readonly latency: Histogram<'model'>;
  readonly batchImages: Histogram<'model'>;
  readonly batchSeconds: Histogram<'model'>;
  readonly queueDepth: Gauge<'model'>;
  readonly images: Counter<'model'>;
  private readonly busy = new Map<string, () => number[]>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({ name: 'bitweave_requests_total', help: 'Inference requests answered, by model and HTTP status', labelNames: ['model', 'code'], registers });
    this.latency = new Histogram({
      name: 'bitweave_request_duration_seconds', help: 'Inference request latency (body parsed to response ready), by model', labelNames: ['model'], registers,
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
    });
    this.batchImages = new Histogram({
      name: 'bitweave_batch_images', help: 'Images per batch the dynamic batcher ran, by model', labelNames: ['model'], registers,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    });
    this.batchSeconds = new Histogram({
      name: 'bitweave_batch_duration_seconds', help: 'Backend time per batch, by model', labelNames: ['model'], registers,
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 5],
    });
    this.queueDepth = new Gauge({ name: 'bitweave_queue_depth', help: 'Requests waiting for a batch, by model', labelNames: ['model'], registers });
    this.images = new Counter({ name: 'bitweave_images_total', help: 'Images inferred, by model', labelNames: ['model'], registers });
    const busy = this.busy;
    const started = performance.now();
    new Gauge({
      name: 'bitweave_instance_utilization', help: 'Fraction of the time since start each backend instance (device, native engine) was running a batch', labelNames: ['model', 'instance'], registers,
      collect() {
        const wall = (performance.now() - started) / 1000;
        for (const [model, seconds] of busy) seconds().forEach((s, i) => this.set({ model, instance: String(i) }, wall > 0 ? Math.min(1, s / wall) : 0));
      },
    });
    new Counter({
      name: 'bitweave_instance_busy_seconds_total', help: 'Seconds each backend instance spent running batches', labelNames: ['model', 'instance'], registers,
      collect() {
        this.reset();
        for (const [model, seconds] of busy) seconds().forEach((s, i) => this.inc({ model, instance: String(i) }, s));
      },
    });
  }

  /** Registers a model's instances for the utilisation metrics. */
  watchInstances(model: string, busySeconds: () => number[]): void {
    this.busy.set(model, busySeconds);
  }
}
