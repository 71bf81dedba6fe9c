/**
 * `bitweave profile`: one model on one backend, measured per layer, written as data and as
 * one self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched): per-layer
 * time by host and device, device cycles and PE utilisation where the backend counts them,
 * the host/device segment timeline of one batch, and the model's layer table.
 */
import { describeModel, ModelSummary } from '../compile/describe';
import { CompiledModel } from '../compile/model';
import { effectivePreprocess, normalizeBytes } from '../data/preprocess';
import { rng } from '../zoo/random';
import { LayerStat } from '../runtime/backend';
import { PipelineStats, SegmentSpan, Session, SessionOptions } from '../runtime/session';

export interface ProfileData {
  model: ModelSummary;
  backend: string;
  batch: number;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** Per op, in op order (ops the backend did not report have ms 0). */
  layers: (LayerStat & { op: number })[];
  /** The last batch's segments. */
  timeline: SegmentSpan[];
  hostMs: number;
  deviceMs: number;
  /** Host and device busy time over the run and their overlap (batches in flight: depth). */
  pipeline: PipelineStats;
  /** What the session changed and why (SessionStats.notes: a smaller batch, a cut device segment). */
  notes: string[];
}

/**
 * Runs `images` (N x C x H x W; default: `count` seeded random pictures given the model's
 * preprocessing) through a Session and collects what the page shows.
 */
export async function profileModel(model: CompiledModel, opts: SessionOptions & { count?: number; images?: Float32Array }): Promise<ProfileData> {
  const t = model.tensors[model.input];
  let images = opts.images;
  if (!images) {
    const n = opts.count ?? opts.batch ?? 8;
    const r = rng(11);
    const px = Uint8Array.from({ length: n * t.c * t.h * t.w }, () => Math.floor(r() * 256));
    images = normalizeBytes(px, n, [t.c, t.h, t.w], effectivePreprocess(model.preprocess, t.c));
  }
  const session = await Session.create(model, opts);
  try {
    const r = await session.run(images);
    const st = session.stats();
    const byOp = new Map(st.layers.map((l) => [l.op, l]));
    // the segments as this backend ran them (an array may cut the model's, host/array/zero-pad.ts)
    const summary = describeModel(model, session.segments);
    const layers = summary.layers.map((l) => byOp.get(l.index) ?? { op: l.index, name: l.name, where: l.where, ms: 0 });
    const sum = (w: 'host' | 'device') => layers.filter((l) => l.where === w).reduce((a, l) => a + l.ms, 0);
    return {
      model: summary, backend: st.backend, batch: st.batch, images: r.count, seconds: st.seconds, imagesPerSecond: st.imagesPerSecond,
      layers, timeline: st.timeline, hostMs: sum('host'), deviceMs: sum('device'), pipeline: st.pipeline, notes: st.notes,
    };
  } finally {
    await session.close();
  }
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const num = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const COLOR = { host: '#d08c2c', device: '#2f6fb0' } as const;

/** Width to allow per character of the 11px chart font (generous: DejaVu Sans, system-ui on Debian, is a wide face). */
const CHAR_W = 7.5;
/** Longer labels are cut with an ellipsis (the bar's tooltip keeps the whole name). */
const MAX_LABEL = 48;
const clip = (s: string) => ([...s].length > MAX_LABEL ? [...s].slice(0, MAX_LABEL - 1).join('') + '…' : s);
const textWidth = (texts: string[], min: number) => Math.max(min, ...texts.map((t) => Math.ceil([...t].length * CHAR_W) + 10));

/**
 * Horizontal bars, one per row: label, bar scaled to the largest value, value text. The
 * label column and the room right of the bars grow with the longest label and value text,
 * so no text is cut off at the chart's edges.
 */
function barChart(id: string, title: string, rows: { label: string; value: number; color: string; text: string }[]): string {
  const rowH = 16;
  const labels = rows.map((r) => clip(r.label));
  const labelW = textWidth(labels, 260);
  const barW = 520;
  const textW = textWidth(rows.map((r) => r.text), 120);
  const max = Math.max(1e-12, ...rows.map((r) => r.value));
  const h = rows.length * rowH + 8;
  const bars = rows.map((r, i) => {
    const y = 4 + i * rowH;
    const w = Math.max(0, (r.value / max) * barW);
    return `<g class="row"><text x="${labelW - 6}" y="${y + 11}" text-anchor="end">${esc(labels[i])}</text>`
      + `<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="${r.color}"><title>${esc(r.label)}: ${esc(r.text)}</title></rect>`
      + `<text x="${labelW + w + 4}" y="${y + 11}">${esc(r.text)}</text></g>`;
  }).join('');
  return `<section id="${id}"><h2>${esc(title)}</h2><svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + textW}" height="${h}" role="img" aria-label="${esc(title)}">${bars}</svg></section>`;
}

/** The segments of one batch on two lanes (host, device) against wall time. */
function timelineChart(spans: SegmentSpan[], pipe: PipelineStats, notes: string[]): string {
  const total = Math.max(1e-9, ...spans.map((s) => s.endMs));
  const laneW = 780;
  const x0 = 70;
  const lanes = { host: 10, device: 40 };
  const rects = spans.map((s) => {
    const x = x0 + (s.startMs / total) * laneW;
    const w = Math.max(0.5, ((s.endMs - s.startMs) / total) * laneW);
    return `<rect class="span" x="${x.toFixed(1)}" y="${lanes[s.kind]}" width="${w.toFixed(1)}" height="22" fill="${COLOR[s.kind]}"><title>segment ${s.segment} (${s.kind}): ${num(s.startMs)}–${num(s.endMs)} ms</title></rect>`;
  }).join('');
  const images = spans[0]?.images ?? 0;
  const overlap = pipe.depth > 1
    ? `<p>Batches pipelined (${pipe.depth} in flight): over the run, host segments ran ${num(pipe.hostMs, 1)} ms and device segments ${num(pipe.deviceMs, 1)} ms, ${num(pipe.overlapMs, 1)} ms of it at the same time.</p>`
    : '<p>One batch at a time (the backend computes on the host thread, or the model has one kind of segment).</p>';
  return `<section id="timeline"><h2>Segments of one batch (${images} images, ${num(total, 2)} ms)</h2>${overlap}${notes.map((n) => `<p class="note">${esc(n)}</p>`).join('')}`
    + `<svg xmlns="http://www.w3.org/2000/svg" width="${x0 + laneW + 20}" height="90" role="img" aria-label="segment timeline">`
    + `<text x="${x0 - 8}" y="25" text-anchor="end">host</text><text x="${x0 - 8}" y="55" text-anchor="end">device</text>${rects}`
    + `<text x="${x0}" y="82">0 ms</text><text x="${x0 + laneW}" y="82" text-anchor="end">${num(total, 2)} ms</text></svg></section>`;
}

export function profileHtml(p: ProfileData): string {
  const timeRows = p.layers.map((l) => ({ label: `${l.op} ${p.model.layers[l.op].name}`, value: l.ms, color: COLOR[l.where], text: `${num(l.ms)} ms (${l.where})` }));
  const dev = p.layers.filter((l) => l.cycles !== undefined);
  const charts = [barChart('layer-time', `Time per layer (ms, all ${p.images} images; host ${num(p.hostMs, 2)} ms, device ${num(p.deviceMs, 2)} ms)`, timeRows)];
  if (dev.length > 0) {
    const kind = dev[0].cyclesKind ?? 'device';
    charts.push(barChart('device-cycles', `Device cycles per layer (${kind})`, dev.map((l) => ({ label: `${l.op} ${p.model.layers[l.op].name}`, value: l.cycles!, color: COLOR.device, text: String(l.cycles) }))));
    charts.push(barChart('pe-utilisation', 'PE utilisation per layer', dev.map((l) => ({ label: `${l.op} ${p.model.layers[l.op].name}`, value: l.utilization ?? 0, color: '#3c9a5f', text: `${num((l.utilization ?? 0) * 100, 1)}%` }))));
  }
  charts.push(timelineChart(p.timeline, p.pipeline, p.notes));
  const rows = p.model.layers.map((l) => {
    const s = p.layers[l.index];
    return `<tr class="${l.where}"><td>${l.index}</td><td>${esc(l.name)}</td><td>${esc(l.op)}</td><td>${l.where}</td><td>${l.segment}</td><td>${esc(l.input)}</td><td>${esc(l.output)}</td><td>${esc(l.detail)}</td>`
      + `<td class="n">${num(s.ms)}</td><td class="n">${s.cycles ?? ''}</td><td class="n">${s.utilization !== undefined ? num(s.utilization * 100, 1) + '%' : ''}</td></tr>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bitweave profile: ${esc(p.model.name)} on ${esc(p.backend)}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:18px}h2{font-size:15px;margin:20px 0 6px}
svg text{font:11px system-ui,sans-serif;fill:#222}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}
td.n{text-align:right}tr.device td:nth-child(4){color:${COLOR.device}}tr.host td:nth-child(4){color:${COLOR.host}}.key span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
</style></head><body>
<h1>bitweave profile: ${esc(p.model.name)} on ${esc(p.backend)}</h1>
<p>${p.images} images in batches of ${p.batch}: ${num(p.seconds, 3)} s, ${num(p.imagesPerSecond, 1)} images/s on this machine (emulation backends are CPU speeds, not FPGA speeds).
<span class="key"><span style="background:${COLOR.host}"></span>host float layers<span style="background:${COLOR.device}"></span>device (binary) layers</span></p>
${charts.join('\n')}
<section id="layers"><h2>Layers</h2><table><thead><tr><th>#</th><th>name</th><th>op</th><th>where</th><th>seg</th><th>input</th><th>output</th><th>detail</th><th>ms</th><th>cycles</th><th>PE util.</th></tr></thead><tbody>
${rows}
</tbody></table></section>
</body></html>
`;
}
