/**
 * docs/k8s: every manifest parses, selectors match their pods' labels, Services reach a
 * container port, the model server's probes ask its health endpoints on port 8000, and the
 * worker's command line is one bitweave's own CLI accepts.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { buildCli } from '../../host/cli/main';
import { packagePath } from '../../host/core/paths';
import { parseRedisUrl } from '../../host/jobs/redis';

const DIR = packagePath('docs', 'k8s');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

/** Parse a command line with bitweave's CLI up to the handler, which is not run; the parsed options, or the parse error. */
async function parseOnly(args: string[]): Promise<{ argv?: Record<string, unknown>; error?: string }> {
  const reached = new Error('parsed');
  let argv: Record<string, unknown> | undefined;
  const cli = buildCli(args);
  // global middleware runs after validation and before the command's handler
  cli.middleware((a) => {
    argv = a;
    throw reached;
  });
  try {
    await cli.parseAsync();
  } catch (e) {
    if (e === reached) return { argv };
    return { error: (e as Error).message };
  }
  return { error: 'the command ran' };
}

describe('docs/k8s manifests', () => {
  const docs: Doc[] = [];
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const named = (kind: string, name: string): Doc => {
    const d = docs.find((x) => x.kind === kind && x.metadata?.name === name);
    assert.ok(d, `no ${kind} ${name} in docs/k8s`);
    return d;
  };
  const container = (deployment: string): Doc => named('Deployment', deployment).spec.template.spec.containers[0];

  before(() => {
    for (const f of fs.readdirSync(DIR).filter((n) => /\.ya?ml$/.test(n)).sort()) {
      for (const d of parseAllDocuments(fs.readFileSync(path.join(DIR, f), 'utf8'))) {
        assert.deepEqual(d.errors, [], `${f}: ${d.errors.map((e) => e.message).join('; ')}`);
        const js = d.toJS() as Doc | null;
        if (js) docs.push({ ...js, file: f });
      }
    }
  });

  it('are known kinds with names, and kustomization lists every other file', () => {
    const kinds = new Set(['Deployment', 'Service', 'PersistentVolumeClaim', 'Kustomization']);
    for (const d of docs) {
      assert.ok(kinds.has(d.kind), `${d.file}: kind ${d.kind}`);
      assert.equal(typeof d.apiVersion, 'string', `${d.file}: apiVersion`);
      if (d.kind !== 'Kustomization') assert.match(d.metadata?.name ?? '', /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${d.file}: metadata.name`);
    }
    const k = byKind('Kustomization');
    assert.equal(k.length, 1);
    assert.deepEqual([...k[0].resources].sort(), [...new Set(docs.filter((d) => d.kind !== 'Kustomization').map((d) => d.file))].sort());
    assert.deepEqual(byKind('Deployment').map((d) => d.metadata.name).sort(), ['bitweave-serve', 'bitweave-worker', 'redis']);
  });

  it("selectors match their pods' labels; Services reach a container port; volumes exist", () => {
    for (const d of byKind('Deployment')) {
      const labels = d.spec.template.metadata.labels as Record<string, string>;
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels as Record<string, string>)) assert.equal(labels[k], v, `${d.metadata.name}: selector ${k}`);
      for (const v of d.spec.template.spec.volumes ?? []) {
        if (v.persistentVolumeClaim) named('PersistentVolumeClaim', v.persistentVolumeClaim.claimName);
      }
    }
    for (const s of byKind('Service')) {
      const pods = byKind('Deployment').filter((d) => Object.entries(s.spec.selector as Record<string, string>).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
      assert.equal(pods.length, 1, `Service ${s.metadata.name} selects ${pods.length} Deployments`);
      const ports = (pods[0].spec.template.spec.containers as Doc[]).flatMap((c) => c.ports ?? []) as { name?: string; containerPort: number }[];
      for (const p of s.spec.ports as { port: number; targetPort?: number | string }[]) {
        const target = p.targetPort ?? p.port;
        assert.ok(ports.some((cp) => cp.containerPort === target || cp.name === target), `Service ${s.metadata.name}: targetPort ${target} is no container port`);
      }
    }
  });

  it('the model server: bitweave serve on 0.0.0.0:8000 with its health endpoints as probes', async () => {
    const c = container('bitweave-serve');
    const args = [...(c.command ?? []), ...(c.args ?? [])] as string[];
    assert.deepEqual(args.slice(0, 3), ['bitweave', 'serve', 'models/fashion-cnn.bnn']);
    const opt = (n: string) => args[args.indexOf(`--${n}`) + 1];
    assert.equal(opt('host'), '0.0.0.0');
    assert.equal(opt('port'), '8000');
    assert.equal(opt('backend'), 'native');
    assert.equal(c.readinessProbe.httpGet.path, '/v2/health/ready');
    assert.equal(c.livenessProbe.httpGet.path, '/v2/health/live');
    for (const p of [c.readinessProbe.httpGet.port, c.livenessProbe.httpGet.port]) assert.ok(p === 8000 || c.ports.some((cp: Doc) => cp.name === p && cp.containerPort === 8000), `probe port ${p}`);
    assert.ok(c.ports.some((cp: Doc) => cp.containerPort === 8000));
    // bitweave's own CLI takes these arguments
    const r = await parseOnly(args.slice(1));
    assert.equal(r.error, undefined, `bitweave rejects the serve arguments: ${r.error}`);
  });

  it("the worker: bitweave's CLI takes its arguments; its Redis is the Redis Service", async () => {
    const c = container('bitweave-worker');
    const args = [...(c.command ?? []), ...(c.args ?? [])] as string[];
    assert.equal(args[0], 'bitweave');
    assert.deepEqual(args.slice(1, 2), ['worker']);
    const r = await parseOnly(args.slice(1));
    assert.equal(r.error, undefined, `bitweave rejects the worker arguments: ${r.error}`);
    assert.equal(r.argv!.backend, 'native');
    const url = parseRedisUrl(r.argv!.redis as string);
    const svc = named('Service', url.hostname);
    assert.ok((svc.spec.ports as { port: number }[]).some((p) => p.port === Number(url.port || 6379)), 'the worker connects to a port the Redis Service has');
    assert.ok(Number(c.resources?.requests?.cpu) >= 1, 'the worker asks for CPU');
  });

  it('the Dockerfile is Debian-based and builds the native engine', () => {
    const df = fs.readFileSync(path.join(DIR, 'Dockerfile'), 'utf8');
    assert.match(df, /^FROM \S*(bookworm|debian)\S*/m);
    assert.match(df, /make native/);
    assert.match(df, /\/usr\/local\/bin\/bitweave/);
  });
});
