/**
 * The shift benchmark as one self-contained HTML page: a summary table and, per shift family and
 * metric, a line chart of the metric against the shift intensity with one line per method (inline
 * SVG from Vega-Lite, as the uncertainty report).
 */
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from '../report/charts.js';
import { escapeHtml } from '../report/html.js';
import type { ShiftBenchmarkResult } from './benchmark_types.js';

const METRICS = [
  ['accuracy', 'accuracy'],
  ['nll', 'NLL'],
  ['nllBestT', 'NLL at the best temperature in hindsight'],
  ['ece', 'ECE'],
  ['brier', 'Brier score'],
  ['coverage', 'conformal coverage'],
  ['setSize', 'conformal set size'],
] as const;

/**
 * Vega-Lite line chart: `metric` vs level of one family, one line per method (clean at level 0).
 * Values that are not finite (a NaN NLL of a diverged method) are not drawn; the subtitle counts
 * them and names their methods.
 */
export function shiftChartSpec(
  result: ShiftBenchmarkResult,
  family: string,
  metric: (typeof METRICS)[number][0],
  title: string,
): TopLevelSpec {
  const points = result.rows
    .filter((r) => r.family === family || r.family === 'clean')
    .filter((r) => typeof r[metric] === 'number')
    .map((r) => ({ method: r.method, level: r.level, value: r[metric] as number }));
  // NaN / ±Infinity have no place on the axis: left out of the line, and said in the subtitle
  const values = points.filter((p) => Number.isFinite(p.value) && Number.isFinite(p.level));
  const missing = points.filter((p) => !values.includes(p));
  const missingMethods = [...new Set(missing.map((p) => p.method))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${title}: ${family}`,
      ...(missing.length > 0
        ? {
            subtitle: `${missing.length} value${missing.length === 1 ? '' : 's'} not finite, not drawn (${missingMethods.join(', ')})`,
          }
        : {}),
    },
    width: 300,
    height: 200,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'level',
        type: 'quantitative',
        title: family === 'rotation' ? 'degrees' : 'severity',
      },
      y: { field: 'value', type: 'quantitative', title },
      color: { field: 'method', type: 'nominal' },
    },
  };
}

/** A banner for a report cut short (`meta.partial`, written by a stopped `deepprob shift`). */
function partialBanner(meta: Record<string, unknown>): string {
  const p = meta.partial as { note?: unknown } | undefined;
  if (p === undefined || p === null) return '';
  return `<p style="background:#fee;border:1px solid #c33;padding:8px"><b>Partial report.</b> ${escapeHtml(String(p.note ?? ''))}</p>`;
}

/** Render the page. */
export async function shiftReportHtml(
  result: ShiftBenchmarkResult,
  meta: Record<string, unknown>,
): Promise<string> {
  const families = [...new Set(result.rows.map((r) => r.family).filter((f) => f !== 'clean'))];
  const oods = [...new Set(result.ood.map((o) => o.dataset))];
  const f3 = (v: number | undefined): string =>
    v !== undefined && Number.isFinite(v) ? v.toFixed(3) : '–';
  const percent = (v: number | undefined, d: number): string =>
    v !== undefined && Number.isFinite(v) ? `${(100 * v).toFixed(d)}%` : '–';
  const head = `<tr><th>method</th><th>accuracy</th><th>NLL</th><th>ECE</th>${families
    .map((f) => `<th>${escapeHtml(f)} NLL / ECE</th>`)
    .join(
      '',
    )}${oods.map((o) => `<th>${escapeHtml(o)} AUROC H / MI</th>`).join('')}<th>coverage / size</th></tr>`;
  const body = result.summary
    .map((s) => {
      const c = s.clean;
      return `<tr><td>${escapeHtml(s.method)}</td><td>${percent(c.accuracy, 2)}</td><td>${f3(c.nll)}</td><td>${f3(c.ece)}</td>${families
        .map((f) => `<td>${f3(s.families[f]?.nll)} / ${f3(s.families[f]?.ece)}</td>`)
        .join(
          '',
        )}${oods.map((o) => `<td>${f3(s.ood[o]?.entropy)} / ${f3(s.ood[o]?.mi)}</td>`).join('')}<td>${
        c.coverage !== undefined ? `${percent(c.coverage, 1)} / ${f3(c.setSize)}` : '–'
      }</td></tr>`;
    })
    .join('\n');
  const charts: string[] = [];
  for (const fam of families) {
    const plots: string[] = [];
    for (const [metric, title] of METRICS) {
      if (!result.rows.some((r) => typeof r[metric] === 'number')) continue;
      plots.push(
        `<div class="plot">${await renderSvg(shiftChartSpec(result, fam, metric, title))}</div>`,
      );
    }
    charts.push(`<h2>${escapeHtml(fam)}</h2><div class="row">${plots.join('')}</div>`);
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>deepprob shift benchmark</title>
<style>body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1280px;color:#222;padding:0 16px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}th{background:#f5f5f5}.row{display:flex;flex-wrap:wrap;gap:14px}
h2{font-size:17px;border-bottom:1px solid #ddd}.meta{color:#666;font-size:12px}</style></head><body>
<h1>Uncertainty under dataset shift</h1>${partialBanner(meta)}<p class="meta">${escapeHtml(JSON.stringify(meta))}</p>
<p>Family columns are means over the shift levels; OOD columns the AUROC of predictive entropy / mutual information against the clean test set; coverage / size of split-conformal sets in distribution.</p>
<table>${head}\n${body}</table>${charts.join('\n')}</body></html>`;
}
