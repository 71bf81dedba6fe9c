/**
 * `bitweave profile`: the per-layer data (host vs device, cycles, utilisation, one batch's
 * segment timeline) and the self-contained HTML page built from it.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packagePath } from '../../host/core/paths';
import { profileHtml, profileModel } from '../../host/bench/profile';
import { loadModel } from '../../host/runtime/load';
import { axiInfo } from '../../host/backends/axi-sim/ffi';
import { assertUserError, bitweave } from '../helpers/run';
import { requireOrSkip } from '../helpers/skip';

/** Every opened tag is closed in order (void elements aside): the page is well nested. */
function assertNested(html: string): void {
  const stack: string[] = [];
  const voids = new Set(['meta', 'br', 'img', 'input', 'link']);
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    const [, close, tag, selfClose] = m;
    const t = tag.toLowerCase();
    if (voids.has(t) || selfClose) continue;
    if (!close) stack.push(t);
    else assert.equal(stack.pop(), t, `</${t}> closes <${stack[stack.length] ?? '?'}>`);
  }
  assert.deepEqual(stack, []);
}

describe('bitweave profile', function () {
  this.timeout(120000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-profile-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('verilator: every layer timed, device cycles and PE utilisation, the segments of one batch in order', async () => {
    const m = await loadModel(packagePath('models', 'fashion-cnn.bnn'));
    const p = await profileModel(m, { backend: 'verilator', batch: 2, count: 4 });
    assert.equal(p.images, 4);
    assert.equal(p.layers.length, m.ops.length);
    const dev = p.layers.filter((l) => l.where === 'device');
    assert.ok(dev.length > 0 && dev.every((l) => l.cycles! > 0 && l.utilization! > 0 && l.cyclesKind === 'rtl'));
    assert.equal(p.timeline.length, m.segments.length);
    p.timeline.forEach((s, i) => {
      assert.equal(s.segment, i);
      assert.equal(s.kind, m.segments[i].kind);
      assert.equal(s.images, 2, 'the last batch');
      assert.ok(s.endMs >= s.startMs && (i === 0 || s.startMs >= p.timeline[i - 1].endMs));
    });
    const html = profileHtml(p);
    assertNested(html);
    for (const id of ['layer-time', 'device-cycles', 'pe-utilisation', 'timeline', 'layers']) assert.match(html, new RegExp(`<section id="${id}">`));
    for (const l of p.model.layers) assert.ok(html.includes(`<td>${l.index}</td><td>${l.name}</td>`), `layer ${l.name} in the table`);
    assert.equal((html.match(/<rect class="span"/g) ?? []).length, m.segments.length);
    // self-contained: no scripts, nothing loaded from elsewhere
    assert.doesNotMatch(html, /<script|<link|<img|src=|url\(/i);
    assert.deepEqual([...new Set(html.match(/https?:\/\/[^\s"]+/g))], ['http://www.w3.org/2000/svg']);
  });

  it('axi-sim on a Larq model with zero-padded convs: the segments as the backend cut them, in the timeline, the layer table and a note', async function () {
    if (!requireOrSkip(this, () => axiInfo())) return;
    const m = await loadModel(packagePath('test', 'fixtures', 'larq', 'fashion_bnn', 'model.tflite'));
    const p = await profileModel(m, { backend: 'axi-sim', batch: 2, count: 2 });
    // the model's device segment 1 (ops 2..5) runs as three: cut before the zero-padded convs 3 and 4
    assert.deepEqual(p.model.segments.map((g) => `${g.kind}[${g.ops[0]}..${g.ops[1] - 1}]`), ['host[0..1]', 'device[2..2]', 'device[3..3]', 'device[4..5]', 'host[6..8]']);
    assert.deepEqual(p.model.layers.map((l) => l.segment), [0, 0, 1, 2, 3, 3, 4, 4, 4]);
    assert.deepEqual(p.timeline.map((t) => `${t.segment} ${t.kind}`), ['0 host', '1 device', '2 device', '3 device', '4 host']);
    assert.equal(p.notes.length, 1);
    const html = profileHtml(p);
    assertNested(html);
    assert.equal((html.match(/<rect class="span"/g) ?? []).length, 5);
    assert.ok(html.includes('<p class="note">axi-sim runs device segment 1 (ops 2..5) as 3 segments'));
  });

  it('escapes what the model names (a hostile layer name stays text)', async () => {
    const m = await loadModel(packagePath('models', 'fashion-mlp.bnn'));
    m.opNames[0] = '<img src=x onerror="alert(1)">&';
    const html = profileHtml(await profileModel(m, { backend: 'native', batch: 2, count: 2 }));
    assert.ok(!html.includes('<img'));
    assert.ok(html.includes('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;'));
    assertNested(html);
  });

  it('CLI: --html writes the page, --json the data; a bad output is one line before any work', () => {
    const out = path.join(tmp, 'p.html');
    const r = bitweave(['profile', 'models/fashion-mlp.bnn', '--backend', 'native', '--images', '3', '--html', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { images: number; html: string; layers: unknown[]; timeline: unknown[]; hostMs: number; deviceMs: number };
    assert.equal(j.images, 3);
    assert.equal(j.html, out);
    assert.ok(j.layers.length > 0 && j.timeline.length > 0 && j.deviceMs > 0);
    assert.match(fs.readFileSync(out, 'utf8'), /^<!doctype html>/);
    assertUserError(bitweave(['profile', 'models/fashion-mlp.bnn', '--html', path.join(tmp, 'no', 'such', 'dir', 'p.html')]), /p\.html/);
  });
});
