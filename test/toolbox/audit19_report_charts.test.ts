/**
 * Audit 19: the report charts on awkward series. A score with `±Infinity` values made every
 * histogram edge NaN (`lo = -inf`), so the chart drew nothing and its axis read "values from NaN
 * to NaN"; scores spanning -1e308..1e308 overflowed `hi - lo` likewise; a constant score at 1e300
 * had a bin of width 0. The histogram now spans the finite values (edges formed without
 * overflow), counts the infinite ones apart and says so under the chart; the shift charts leave
 * non-finite points out with a note; no chart attribute or text reads NaN or Infinity.
 */
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { renderReportHtml } from '../../src/toolbox/node.js';
import { renderSvg, reliabilitySpec, scoreHistogramSpec } from '../../src/toolbox/report/charts.js';
import { shiftChartSpec, shiftReportHtml } from '../../src/toolbox/shift/html.js';
import type { ShiftBenchmarkResult, ShiftRow } from '../../src/toolbox/shift/benchmark_types.js';
import type { ScoreSummary } from '../../src/toolbox/report/types.js';

/** Tags with NaN / Infinity in an attribute, and text nodes reading NaN / Infinity. */
function nonFinite(svg: string): string[] {
  const attrs = [...svg.matchAll(/<[^>]*\b(NaN|Infinity)\b[^>]*>/g)].map((m) => m[0]);
  const texts = [...svg.matchAll(/>[^<]*\b(NaN|Infinity)\b[^<]*</g)].map((m) => m[0]);
  return [...attrs, ...texts];
}

function histogramOf(inScores: number[], outScores: number[], bins = 10): ScoreSummary {
  const n = inScores.length;
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const report = toolbox.buildReport({
    model: { name: 'm', kind: 'plain' },
    inName: 'in',
    outName: 'out',
    probs: labels.flatMap((y) => (y === 0 ? [0.9, 0.1] : [0.2, 0.8])),
    numClasses: 2,
    labels,
    scores: [{ key: 'score', name: 'score', description: 'd', inScores, outScores }],
    histogramBins: bins,
    gallerySize: 1,
  });
  return report.scores[0] as ScoreSummary;
}

/** Every finite value lies in its bin `[e_k, e_k+1]`, the counts add up; edges finite, increasing. */
function expectBinned(s: ScoreSummary, inScores: number[], outScores: number[]): void {
  const { edges, countsIn, countsOut } = s.histogram;
  for (const e of edges) expect(Number.isFinite(e)).toBe(true);
  for (let i = 1; i < edges.length; i++)
    expect(edges[i] as number).toBeGreaterThan(edges[i - 1] as number);
  for (const [values, counts] of [
    [inScores, countsIn],
    [outScores, countsOut],
  ] as const) {
    const finite = values.filter(Number.isFinite);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(finite.length);
    // brute force: the bins a value may be in (a value on an inner edge may be on either side)
    const brute = counts.map(() => 0);
    const slack = counts.map(() => 0);
    for (const v of finite) {
      const k = edges.findIndex(
        (e, i) => i < counts.length && v >= e && v <= (edges[i + 1] as number),
      );
      expect(k, `value ${v}`).toBeGreaterThanOrEqual(0);
      brute[k] = (brute[k] as number) + 1;
      if (v === edges[k + 1] && k + 1 < counts.length) slack[k + 1] = (slack[k + 1] as number) + 1;
    }
    counts.forEach((c, k) => {
      expect(c).toBeGreaterThanOrEqual((brute[k] as number) - (slack[k + 1] ?? 0));
      expect(c).toBeLessThanOrEqual((brute[k] as number) + (slack[k] as number));
    });
  }
}

describe('audit19 score histograms on non-finite, huge and constant series', () => {
  it('±Infinity scores are counted apart, the finite ones binned; the chart says how many are not drawn', async () => {
    const inScores = [Infinity, 0, 1, 2, 3, 4, 5, 6];
    const outScores = [2, -Infinity, Infinity, 7];
    const s = histogramOf(inScores, outScores);
    expect(s.histogram.omittedIn).toBe(1);
    expect(s.histogram.omittedOut).toBe(2);
    expect(s.histogram.edges[0]).toBe(0);
    expect(s.histogram.edges.at(-1)).toBe(7);
    expectBinned(s, inScores, outScores);
    const svg = await renderSvg(scoreHistogramSpec(s, 'in', 'out'));
    expect(nonFinite(svg.replace(/±Infinity/g, '±inf'))).toEqual([]);
    expect(svg).toContain('not drawn (±Infinity): 1 of in, 2 of out');
    expect(svg).toMatch(/aria-label="X-axis titled 'score'/);
    // bars are fractions of the whole set: the drawn in-distribution bars sum to 7/8
    const spec = scoreHistogramSpec(s, 'in', 'out') as {
      data: { values: { fraction: number; set: string }[] };
    };
    const sumIn = spec.data.values
      .filter((v) => v.set === 'in')
      .reduce((a, v) => a + v.fraction, 0);
    expect(sumIn).toBeCloseTo(7 / 8, 12);
  }, 20_000);

  it('in- and out-of-distribution sets of one name get two legend entries and two colours', async () => {
    const s = histogramOf([0, 1, 2, 3], [2, 5]);
    const spec = scoreHistogramSpec(s, 'mnist', 'mnist') as {
      encoding: { color: { scale: { domain: string[] } } };
    };
    expect(spec.encoding.color.scale.domain).toEqual(['mnist (in-distribution)', 'mnist (OOD)']);
    const svg = await renderSvg(scoreHistogramSpec(s, 'mnist', 'mnist'));
    expect(svg).toContain('mnist (in-distribution)');
    expect(svg).toContain('mnist (OOD)');
    const plain = scoreHistogramSpec(s, 'mnist', 'fashion-mnist') as typeof spec;
    expect(plain.encoding.color.scale.domain).toEqual(['mnist', 'fashion-mnist']);
  }, 20_000);

  it('finite scores only: no omitted counts in report.json', () => {
    const s = histogramOf([0, 1, 2, 3], [1, 2]);
    expect(s.histogram).not.toHaveProperty('omittedIn');
    expect(s.histogram).not.toHaveProperty('omittedOut');
  });

  it('a range wider than the float64 maximum: finite edges, each value in its bin, the axis in units of 1e308', async () => {
    const inScores = [-1e308, -5e307, 0, 9e307, 1e308, 3e307];
    const outScores = [1.7e308, -1.7e308];
    const s = histogramOf(inScores, outScores, 30);
    expect(s.histogram.edges[0]).toBe(-1.7e308);
    expect(s.histogram.edges.at(-1)).toBe(1.7e308);
    expectBinned(s, inScores, outScores);
    const svg = await renderSvg(scoreHistogramSpec(s, 'in', 'out'));
    expect(nonFinite(svg)).toEqual([]);
    expect(svg).toContain('score (× 1e308)');
  }, 20_000);

  it('constant scores (also at 1e300 and the float64 maximum) fill one bin of positive width', () => {
    for (const c of [2, 1e300, -1e300, Number.MAX_VALUE, -Number.MAX_VALUE, 0]) {
      const s = histogramOf([c, c, c, c], [c]);
      expectBinned(s, [c, c, c, c], [c]);
      expect(s.histogram.countsIn.filter((k) => k > 0)).toEqual([4]);
    }
  });

  it('all scores infinite: default bins, everything counted apart, the page has no NaN', async () => {
    const inScores = [Infinity, Infinity, -Infinity, Infinity];
    const s = histogramOf(inScores, [Infinity]);
    expect(s.histogram.edges.every(Number.isFinite)).toBe(true);
    expect(s.histogram.countsIn.reduce((a, b) => a + b, 0)).toBe(0);
    expect([s.histogram.omittedIn, s.histogram.omittedOut]).toEqual([4, 1]);
    const svg = await renderSvg(scoreHistogramSpec(s, 'in', 'out'));
    expect(nonFinite(svg.replace(/±Infinity/g, '±inf'))).toEqual([]);
  }, 20_000);

  it('a one-image report renders without NaN; a NaN ECE reads n/a', async () => {
    const report = toolbox.buildReport({
      model: { name: 'm', kind: 'plain' },
      inName: 'in',
      outName: 'out',
      probs: [0.5, 0.3, 0.2],
      numClasses: 3,
      labels: [0],
      scores: [{ key: 's', name: 's', description: 'd', inScores: [1], outScores: [2] }],
    });
    const html = await renderReportHtml(report);
    expect(nonFinite(html)).toEqual([]);
    const svg = await renderSvg(reliabilitySpec(report.reliability, NaN));
    expect(svg).toContain('ECE n/a');
    expect(nonFinite(svg)).toEqual([]);
  }, 20_000);
});

describe('audit19 shift charts and table with non-finite metrics', () => {
  const row = (method: string, family: string, level: number, v: number): ShiftRow => ({
    method,
    family,
    level,
    accuracy: v,
    nll: v,
    nllBestT: v,
    brier: v,
    ece: v,
    entropy: v,
  });
  const result: ShiftBenchmarkResult = {
    rows: [
      row('a', 'clean', 0, 0.5),
      row('a', 'rotation', 15, NaN),
      row('a', 'rotation', 30, 0.3),
      row('b', 'clean', 0, -Infinity),
      row('b', 'rotation', 15, 0.2),
      row('b', 'rotation', 30, Infinity),
    ],
    ood: [],
    summary: [
      {
        method: 'b',
        clean: row('b', 'clean', 0, NaN),
        families: { rotation: { nll: NaN, nllBestT: 1, ece: Infinity, accuracy: 1 } },
        ood: {},
      },
    ],
  };

  it('leaves the non-finite points out of the lines and counts them in the subtitle', async () => {
    const spec = shiftChartSpec(result, 'rotation', 'nll', 'NLL') as {
      data: { values: { value: number }[] };
    };
    expect(spec.data.values.map((v) => v.value)).toEqual([0.5, 0.3, 0.2]);
    const svg = await renderSvg(shiftChartSpec(result, 'rotation', 'nll', 'NLL'));
    expect(nonFinite(svg)).toEqual([]);
    expect(svg).toContain('3 values not finite, not drawn (a, b)');
    expect(svg).toMatch(/aria-label="X-axis titled 'degrees'/);
  }, 20_000);

  it('the page reads – for NaN accuracy, coverage and metrics (was NaN%)', async () => {
    const html = await shiftReportHtml(result, {});
    expect(nonFinite(html)).toEqual([]);
    expect(html).toContain('<td>b</td><td>–</td><td>–</td><td>–</td><td>– / –</td>');
  }, 20_000);
});
