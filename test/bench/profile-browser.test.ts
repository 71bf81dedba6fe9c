/**
 * The `bitweave profile` page in a real browser: headless Chromium (Debian's
 * chromium-headless-shell, which `make setup` installs) opens the page as a file:// URL,
 * driven over the DevTools protocol on --remote-debugging-pipe (fds 3 and 4; no WebSocket,
 * no dependency). The page must load with no script exception, no console or log error and
 * no request but its own file, show every layer of the model in the layer table, and draw
 * every chart at a nonzero size with no label outside its chart. A control page (the same
 * page plus a throwing script) checks that this harness does see a script error.
 */
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { packagePath } from '../../host/core/paths';
import { profileHtml, profileModel, ProfileData } from '../../host/bench/profile';
import { loadModel } from '../../host/runtime/load';

/** BITWEAVE_CHROMIUM, else the first of chromium-headless-shell and chromium on PATH. */
function findChromium(): string | undefined {
  if (process.env.BITWEAVE_CHROMIUM) return process.env.BITWEAVE_CHROMIUM;
  for (const name of ['chromium-headless-shell', 'chromium']) {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
      const f = path.join(dir, name);
      try {
        fs.accessSync(f, fs.constants.X_OK);
        return f;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** A DevTools protocol object, read as the protocol documents it. */
type Json = Record<string, any>;

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Json;
  result?: Json;
  error?: { message: string };
  sessionId?: string;
}

/** One headless Chromium in its own process group and user-data-dir, spoken to over the DevTools pipe. */
class Chromium {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: CdpMessage['result']) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(m: CdpMessage) => void>();
  private stderr = '';
  private ended: string | null = null;
  private readonly exited: Promise<void>;
  private readonly killAtExit = () => this.kill();

  private constructor(private readonly proc: ChildProcess, private readonly userDir: string) {
    let rest = Buffer.alloc(0);
    // fd 4: the browser's messages, each JSON text ended by a NUL byte
    (proc.stdio[4] as NodeJS.ReadableStream).on('data', (b: Buffer) => {
      rest = Buffer.concat([rest, b]);
      for (let end = rest.indexOf(0); end >= 0; end = rest.indexOf(0)) {
        const m = JSON.parse(rest.subarray(0, end).toString('utf8')) as CdpMessage;
        rest = rest.subarray(end + 1);
        if (m.id !== undefined) {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          if (m.error) p?.reject(new Error(`DevTools: ${m.error.message}`));
          else p?.resolve(m.result);
        } else {
          this.listeners.forEach((l) => l(m));
        }
      }
    });
    proc.stderr!.on('data', (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-4000)));
    // a browser that ends early closes the pipe: its errors end up in `ended`, not thrown
    for (const fd of [3, 4]) (proc.stdio[fd] as NodeJS.EventEmitter).on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      const end = (why: string) => {
        if (this.ended) return;
        this.ended = `Chromium ${why}; stderr: ${this.stderr}`;
        this.pending.forEach((p) => p.reject(new Error(this.ended!)));
        this.pending.clear();
        resolve();
      };
      proc.once('exit', (code, signal) => end(`ended (${code ?? signal})`));
      proc.once('error', (e) => end(`did not start: ${e.message}`));
    });
    process.once('exit', this.killAtExit);
  }

  static launch(bin: string): Chromium {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-chromium-'));
    const args = [
      '--headless', '--remote-debugging-pipe', `--user-data-dir=${userDir}`, '--no-first-run', '--no-default-browser-check',
      '--disable-extensions', '--disable-background-networking', '--disable-sync', '--mute-audio', '--window-size=1280,1024',
      // Chromium refuses to start its sandbox as root
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      'about:blank',
    ];
    // detached: its own process group, so the browser and all its children end together
    const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true });
    return new Chromium(proc, userDir);
  }

  /** One DevTools command (on a page when `sessionId` is given); fails after `ms`. */
  send(method: string, params: object = {}, sessionId?: string, ms = 5000): Promise<Json> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.ended) return reject(new Error(`DevTools ${method}: ${this.ended}`));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`DevTools ${method}: no answer in ${ms} ms; stderr: ${this.stderr}`));
      }, ms);
      this.pending.set(id, {
        resolve: (r) => { clearTimeout(timer); resolve(r ?? {}); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      (this.proc.stdio[3] as NodeJS.WritableStream).write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  }

  /** The first event `method` of `sessionId` from now on; fails after `ms`. */
  waitFor(method: string, sessionId: string, ms = 5000): Promise<CdpMessage> {
    return new Promise((resolve, reject) => {
      const l = (m: CdpMessage) => {
        if (m.method === method && m.sessionId === sessionId) {
          this.listeners.delete(l);
          clearTimeout(timer);
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        this.listeners.delete(l);
        reject(new Error(`DevTools: no ${method} in ${ms} ms; stderr: ${this.stderr}`));
      }, ms);
      this.listeners.add(l);
    });
  }

  on(l: (m: CdpMessage) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null && this.proc.pid) {
      try {
        process.kill(-this.proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** Browser.close, then SIGKILL to the process group if it has not ended within 3 s; removes the user-data-dir. Safe to call twice. */
  async close(): Promise<void> {
    process.removeListener('exit', this.killAtExit);
    await this.send('Browser.close', {}, undefined, 2000).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 3000)))]);
    clearTimeout(timer);
    if (!gone) this.kill();
    await this.exited;
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}

/** What the page showed once loaded: the problems the browser reported, the requests, and the measured DOM. */
interface PageReport {
  problems: string[];
  requests: string[];
  sections: string[];
  charts: { section: string; width: number; height: number; outside: string[] }[];
  spans: number[];
  timeLabels: string[];
  rows: { cells: string[]; height: number }[];
  text: string;
}

/** Measured in the page after load (no script in the page itself: this runs from DevTools). */
const MEASURE = `(() => {
  const box = (e) => e.getBoundingClientRect();
  return {
    sections: [...document.querySelectorAll('body > section')].map((s) => s.id),
    charts: [...document.querySelectorAll('section > svg')].map((svg) => {
      const b = box(svg);
      const outside = [...svg.querySelectorAll('text')].filter((t) => {
        const r = box(t);
        return r.width === 0 || r.left < b.left - 0.5 || r.right > b.right + 0.5 || r.top < b.top - 0.5 || r.bottom > b.bottom + 0.5;
      }).map((t) => t.textContent);
      return { section: svg.closest('section').id, width: b.width, height: b.height, outside };
    }),
    spans: [...document.querySelectorAll('#timeline rect.span')].map((r) => box(r).width),
    timeLabels: [...document.querySelectorAll('#layer-time g.row > text:first-child')].map((t) => t.textContent),
    rows: [...document.querySelectorAll('#layers tbody tr')].map((tr) => ({ cells: [...tr.cells].map((c) => c.innerText), height: box(tr).height })),
    text: document.body.innerText,
  };
})()`;

/** Opens `file` in a new tab, waits for its load event, measures it and closes the tab. */
async function openPage(browser: Chromium, file: string): Promise<PageReport> {
  const url = pathToFileURL(file).href;
  const problems: string[] = [];
  const requests: string[] = [];
  const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
  const off = browser.on((m) => {
    if (m.sessionId !== sessionId || !m.params) return;
    const p = m.params;
    if (m.method === 'Runtime.exceptionThrown') problems.push(`exception: ${p.exceptionDetails.exception?.description ?? p.exceptionDetails.text}`);
    else if (m.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) problems.push(`console.${p.type}: ${p.args.map((a: { value?: unknown; description?: string }) => a.value ?? a.description).join(' ')}`);
    else if (m.method === 'Log.entryAdded' && p.entry.level === 'error') problems.push(`log (${p.entry.source}): ${p.entry.text}`);
    else if (m.method === 'Network.requestWillBeSent') requests.push(p.request.url);
    else if (m.method === 'Network.loadingFailed') problems.push(`request failed: ${p.errorText}`);
    else if (m.method === 'Inspector.targetCrashed') problems.push('the page crashed');
  });
  try {
    for (const d of ['Runtime', 'Log', 'Network', 'Page', 'Inspector']) await browser.send(`${d}.enable`, {}, sessionId);
    const loaded = browser.waitFor('Page.loadEventFired', sessionId);
    const nav = await browser.send('Page.navigate', { url }, sessionId);
    assert.equal(nav.errorText, undefined, `navigating to ${url}`);
    await loaded;
    const r = await browser.send('Runtime.evaluate', { expression: MEASURE, returnByValue: true }, sessionId);
    assert.equal(r.exceptionDetails, undefined, `measuring the page: ${JSON.stringify(r.exceptionDetails)}`);
    return { problems, requests, ...(r.result.value as Omit<PageReport, 'problems' | 'requests'>) };
  } finally {
    off();
    await browser.send('Target.closeTarget', { targetId }).catch(() => undefined);
  }
}

/** Everything the page must show for profile `p`, as the browser drew it. */
function assertRendered(page: PageReport, p: ProfileData, url: string, deviceCharts: boolean): void {
  assert.deepEqual(page.problems, [], 'no script error, console error or failed request');
  assert.deepEqual(page.requests, [url], 'self-contained: the page loads nothing but itself');
  const charts = ['layer-time', ...(deviceCharts ? ['device-cycles', 'pe-utilisation'] : []), 'timeline'];
  assert.deepEqual(page.sections, [...charts, 'layers']);
  assert.deepEqual(page.charts.map((c) => c.section), charts);
  for (const c of page.charts) {
    assert.ok(c.width > 100 && c.height > 20, `chart ${c.section} drawn at ${c.width}x${c.height}`);
    assert.deepEqual(c.outside, [], `chart ${c.section}: every label inside the chart`);
  }
  assert.equal(page.spans.length, p.timeline.length, 'one bar per segment of the batch');
  assert.ok(page.spans.every((w) => w > 0), `every segment bar has a width: ${page.spans}`);
  // every layer: a labelled bar in the time chart (a label past 48 characters is cut with an
  // ellipsis) and a drawn row of the layer table with its index, name, op and place
  assert.equal(page.timeLabels.length, p.model.layers.length);
  assert.equal(page.rows.length, p.model.layers.length);
  p.model.layers.forEach((l, i) => {
    const full = `${l.index} ${l.name}`;
    const shown = page.timeLabels[i];
    assert.ok(shown === full || (shown.endsWith('…') && shown.length >= 40 && full.startsWith(shown.slice(0, -1))), `time chart label ${JSON.stringify(shown)} for ${full}`);
    const row = page.rows[i];
    assert.deepEqual(row.cells.slice(0, 4), [String(l.index), l.name, l.op, l.where], `layer ${l.index} in the table`);
    assert.ok(row.height > 0, `layer ${l.index}'s row drawn`);
    assert.ok(page.text.includes(l.name), `layer ${l.index} ${l.name} in the page's text`);
  });
}

describe('bitweave profile page in headless Chromium', function () {
  this.timeout(30000);
  let bin: string | undefined;
  let browser: Chromium | undefined;
  let tmp: string;

  before(async function () {
    bin = findChromium();
    if (!bin) {
      console.log('      SKIPPED: no headless Chromium (chromium-headless-shell or chromium on PATH, or BITWEAVE_CHROMIUM; make setup installs chromium-headless-shell)');
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bitweave-profile-browser-'));
    browser = Chromium.launch(bin!);
    const v = await browser.send('Browser.getVersion', {}, undefined, 10000);
    assert.match(v.product, /Chrom/, `${bin} answers over the DevTools pipe`);
  });
  after(async () => {
    await browser?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** `html` written to a file in tmp, opened in the browser. */
  async function render(name: string, html: string): Promise<{ page: PageReport; url: string }> {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, html);
    return { page: await openPage(browser!, file), url: pathToFileURL(file).href };
  }

  it('fashion-cnn on native: loads without errors, every layer in the table, the charts drawn', async () => {
    const p = await profileModel(await loadModel(packagePath('models', 'fashion-cnn.bnn')), { backend: 'native', batch: 2, count: 4 });
    const { page, url } = await render('native.html', profileHtml(p));
    assertRendered(page, p, url, false);
  });

  it('fashion-cnn on hls-csim: also the device cycle and PE utilisation charts', async () => {
    const p = await profileModel(await loadModel(packagePath('models', 'fashion-cnn.bnn')), { backend: 'hls-csim', batch: 2, count: 2 });
    assert.ok(p.layers.some((l) => l.cycles !== undefined));
    const { page, url } = await render('hls-csim.html', profileHtml(p));
    assertRendered(page, p, url, true);
  });

  it('long layer names and large values stay inside the charts', async () => {
    const m = await loadModel(packagePath('models', 'fashion-cnn.bnn'));
    m.opNames[0] = 'features.0.QuantConv2d_with_a_rather_long_name'; // 46 characters: shown whole
    m.opNames[3] = 'features.3.BatchNorm2d/' + 'x'.repeat(60); // cut with an ellipsis
    const p = await profileModel(m, { backend: 'hls-csim', batch: 2, count: 2 });
    // values as large as a long run on a slow backend gives
    p.layers[5].ms = 123456.789;
    const dev = p.layers.find((l) => l.cycles !== undefined)!;
    dev.cycles = 98765432101;
    const { page, url } = await render('long.html', profileHtml(p));
    assertRendered(page, p, url, true);
  });

  it('control: the harness sees a script error, a console error and a failed request', async () => {
    const p = await profileModel(await loadModel(packagePath('models', 'fashion-mlp.bnn')), { backend: 'native', batch: 1, count: 1 });
    const bad = profileHtml(p).replace('</body>', "<script>console.error('logged'); throw new Error('thrown')</script><img src=\"missing.png\"></body>");
    const { page, url } = await render('bad.html', bad);
    assert.throws(() => assertRendered(page, p, url, false), /no script error/);
    assert.ok(page.problems.some((m) => /exception: Error: thrown/.test(m)), page.problems.join('\n'));
    assert.ok(page.problems.some((m) => /console.error: logged/.test(m)), page.problems.join('\n'));
    assert.ok(page.problems.some((m) => /request failed/.test(m)), page.problems.join('\n'));
  });
});
