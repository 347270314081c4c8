import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { renderReportHtml } from '../../src/toolbox/node.js';
import { imageDataUri } from '../../src/toolbox/report/png.js';
import { makeRng } from '../../src/utils/seed.js';
import { PNG } from 'pngjs';

describe('uncertainty report', () => {
  const rng = makeRng(21);
  const n = 200;
  const k = 3;
  const labels = Array.from({ length: n }, (_, i) => i % k);
  const probs: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = 0.4 + 0.6 * rng();
    for (let j = 0; j < k; j++) probs.push(j === labels[i] ? c : (1 - c) / (k - 1));
  }
  const inScores = Array.from({ length: n }, () => rng());
  const outScores = Array.from({ length: 150 }, () => 0.5 + rng());
  const images = new Uint8Array(n * 4 * 4).map((_, i) => (i * 37) % 256);
  const set = {
    name: 'toy',
    images,
    labels: new Uint8Array(labels),
    count: n,
    height: 4,
    width: 4,
    channels: 1,
    numClasses: k,
  };

  const report = toolbox.buildReport({
    model: { name: 'toy', kind: 'plain' },
    inName: 'in',
    outName: 'out',
    probs,
    numClasses: k,
    labels,
    scores: [{ key: 's', name: 'score', description: 'a score', inScores, outScores }],
    numBins: 10,
    gallerySize: 5,
    image: (i) => imageDataUri(set, i),
  });

  it('holds the metrics of the toolbox and an ordered gallery', () => {
    const rows = Array.from({ length: n }, (_, i) => probs.slice(i * k, i * k + k));
    expect(report.metrics.ece).toBeAllclose(toolbox.calibration(rows, labels, 10).ece);
    expect(report.metrics.accuracy).toBe(1);
    expect(report.scores[0]?.ood.auroc).toBeAllclose(toolbox.auroc(inScores, outScores));
    const h = report.scores[0]?.histogram;
    expect(h?.countsIn.reduce((a, b) => a + b, 0)).toBe(n);
    expect(h?.countsOut.reduce((a, b) => a + b, 0)).toBe(150);
    const most = report.gallery.mostCertain.map((g) => g.score);
    const least = report.gallery.leastCertain.map((g) => g.score);
    expect(most).toEqual([...inScores].sort((a, b) => a - b).slice(0, 5));
    expect(least[0]).toBe(Math.max(...inScores));
    expect(report.gallery.mostCertain[0]?.image?.startsWith('data:image/png;base64,')).toBe(true);
  });

  it('gallery PNGs decode to the stored pixels', () => {
    const uri = imageDataUri(set, 3);
    const png = PNG.sync.read(Buffer.from(uri.split(',')[1] as string, 'base64'));
    expect([png.width, png.height]).toEqual([4, 4]);
    expect(png.data[4 * 5]).toBe(images[3 * 16 + 5]);
  });

  it('renders a self-contained HTML page with inline SVG plots', async () => {
    const html = await renderReportHtml(report);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="https?:/i);
    // reliability diagram + bin counts + one histogram + 10 gallery charts
    expect((html.match(/<svg/g) ?? []).length).toBe(3 + 10);
    expect(html).toContain('Reliability diagram');
    expect(html).toContain('FPR@95%TPR');
  });
});
