/**
 * The report as one self-contained HTML page: inline SVG plots, PNG data-URI images, inline CSS,
 * no scripts and no external resources.
 */
import type { TopLevelSpec } from 'vega-lite';
import {
  confidenceCountSpec,
  probabilitySpec,
  reliabilitySpec,
  renderSvg,
  scoreHistogramSpec,
} from './charts.js';
import { checkImageDataUri } from './image_uri.js';
import type { GalleryItem, UncertaintyReport } from './types.js';

/**
 * Escape text for HTML element content and quoted attribute values: `&`, `<`, `>`, `"` and `'`
 * become character references (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;`), so that no text
 * can open or close a tag, an attribute or a `<style>`/`<title>` element. A value that is not a
 * string is escaped as `String(value)`.
 * @param s the text.
 * @returns the escaped text.
 * @example
 * ```ts
 * escapeHtml('<b title="x">'); // '&lt;b title=&quot;x&quot;&gt;'
 * ```
 */
export function escapeHtml(s: string): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** A count as text: escaped (a report read back from an edited report.json may hold anything). */
const num = (v: number): string => escapeHtml(String(v));
const fmt = (v: number, d = 4): string => (Number.isFinite(v) ? v.toFixed(d) : '–');
const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : '–');

const CSS = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666;font-size:13px}table{border-collapse:collapse;font-size:14px;margin:8px 0}
td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
.row{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}.plot svg{max-width:100%;height:auto}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.card{border:1px solid #e3e3e3;border-radius:6px;padding:6px;font-size:12px;text-align:center}
.card img{width:84px;height:84px;image-rendering:pixelated;background:#000}
.wrong{border-color:#d62728}.ok{border-color:#2ca02c}.desc{color:#555;font-size:13px}
`;

async function card(item: GalleryItem, classNames?: string[]): Promise<string> {
  const name = (k: number): string => escapeHtml(classNames?.[k] ?? String(k));
  const img =
    item.image !== undefined
      ? `<img alt="test image ${num(item.index)}" src="${escapeHtml(item.image)}">`
      : '';
  const svg = await renderSvg(probabilitySpec(item, classNames));
  const cls = item.prediction === item.label ? 'ok' : 'wrong';
  return `<div class="card ${cls}">${img}<div>#${num(item.index)}: label ${name(item.label)}, predicted ${name(item.prediction)}</div><div>score ${fmt(item.score)}</div><div class="plot">${svg}</div></div>`;
}

/**
 * Render the report to HTML.
 *
 * @param report the report data.
 * @returns a complete HTML document.
 * @example
 * ```ts
 * const html = await renderReportHtml(buildReport(input));
 * ```
 */
export async function renderReportHtml(report: UncertaintyReport): Promise<string> {
  const r = report;
  // a report read back from report.json (or edited) holds only inline images
  for (const [row, items] of [
    ['mostCertain', r.gallery.mostCertain],
    ['leastCertain', r.gallery.leastCertain],
  ] as const) {
    items.forEach((g, i) => {
      if (g.image !== undefined) checkImageDataUri(g.image, `report.gallery.${row}[${i}].image`);
    });
  }
  const inName = r.inDistribution.name;
  const outName = r.outOfDistribution.name;
  const plot = async (spec: TopLevelSpec): Promise<string> =>
    `<div class="plot">${await renderSvg(spec)}</div>`;
  const metricsRows = [
    ['accuracy', pct(r.metrics.accuracy)],
    ['NLL (nats)', fmt(r.metrics.nll)],
    ['Brier score', fmt(r.metrics.brier)],
    [`ECE (${num(r.metrics.numBins)} bins)`, fmt(r.metrics.ece)],
    ['MCE', fmt(r.metrics.mce)],
  ]
    .map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`)
    .join('');
  const scoreRows = r.scores
    .map(
      (s) =>
        `<tr><td title="${escapeHtml(s.description)}">${escapeHtml(s.name)}</td><td>${fmt(s.meanIn)}</td><td>${fmt(s.meanOut)}</td><td>${fmt(s.ood.auroc)}</td><td>${fmt(s.ood.aupr)}</td><td>${fmt(s.ood.fpr95)}</td></tr>`,
    )
    .join('');
  const descs = r.scores
    .map((s) => `<li><b>${escapeHtml(s.name)}</b>: ${escapeHtml(s.description)}</li>`)
    .join('');
  const hists = (
    await Promise.all(r.scores.map((s) => plot(scoreHistogramSpec(s, inName, outName))))
  ).join('');
  const most = (await Promise.all(r.gallery.mostCertain.map((g) => card(g, r.classNames)))).join(
    '',
  );
  const least = (await Promise.all(r.gallery.leastCertain.map((g) => card(g, r.classNames)))).join(
    '',
  );
  const primary = r.scores[0]?.name ?? '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head>
<body>
<h1>${escapeHtml(r.title)}</h1>
<div class="meta">model <b>${escapeHtml(r.model.name)}</b> (${escapeHtml(r.model.kind)})${r.model.checkpoint !== undefined ? `, checkpoint ${escapeHtml(r.model.checkpoint)}` : ''};
in-distribution <b>${escapeHtml(inName)}</b> (${num(r.inDistribution.count)} images), out-of-distribution <b>${escapeHtml(outName)}</b> (${num(r.outOfDistribution.count)} images)${r.mcSamples !== undefined ? `; ${num(r.mcSamples)} Monte Carlo samples per image` : ''}; generated ${escapeHtml(r.createdAt)} by deepprob.</div>
<h2>Predictive performance and calibration (${escapeHtml(inName)} test set)</h2>
<div class="row"><div><table><tr><th>metric</th><th>value</th></tr>${metricsRows}</table></div>
${await plot(reliabilitySpec(r.reliability, r.metrics.ece))}${await plot(confidenceCountSpec(r.reliability))}</div>
<h2>Out-of-distribution detection (${escapeHtml(inName)} vs ${escapeHtml(outName)})</h2>
<table><tr><th>score</th><th>mean in</th><th>mean out</th><th>AUROC</th><th>AUPR (OOD +)</th><th>FPR@95%TPR</th></tr>${scoreRows}</table>
<ul class="desc">${descs}</ul>
<div class="row">${hists}</div>
<h2>Most certain test images (lowest ${escapeHtml(primary)})</h2>
<div class="gallery">${most}</div>
<h2>Least certain test images (highest ${escapeHtml(primary)})</h2>
<div class="gallery">${least}</div>
</body></html>
`;
}
