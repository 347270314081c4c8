/**
 * Audit 19: every user-supplied string that reaches an HTML report (model, checkpoint, dataset,
 * score and class names of the uncertainty report; method, family, OOD set names and the partial
 * note of the shift report) is escaped: a hostile name (`<script>`, quotes that close an
 * attribute, `</style>`, `</title>`, bidi and CJK text) adds no element and no attribute. The
 * gallery image was written into `src="..."` as given (`image: () => 'x" onerror="..."'` added an
 * `onerror` handler): only base64 `data:image/...` URIs are taken now, by `buildReport` and by
 * `renderReportHtml` (a report edited in report.json).
 */
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { escapeHtml, imageDataUri, renderReportHtml } from '../../src/toolbox/node.js';
import { shiftReportHtml } from '../../src/toolbox/shift/html.js';
import type { ShiftBenchmarkResult, ShiftRow } from '../../src/toolbox/shift/benchmark_types.js';
import type { UncertaintyReport } from '../../src/toolbox/report/types.js';
import { ArgumentError } from '../../src/utils/errors.js';

const HOSTILE =
  '<script>alert(1)</script>"\'><img src=x onerror=alert(2)></style></title><!--&amp;\u202e漢字';

/** The elements and attribute names of `html` (every `<` of escaped text would be a tag). */
function markup(html: string): { tags: Set<string>; attrs: Set<string> } {
  const tags = new Set<string>();
  const attrs = new Set<string>();
  const body = html.replace(/<!doctype html>/i, '');
  for (const m of body.matchAll(/<\/?([a-zA-Z][\w:-]*)([^>]*)>/g)) {
    tags.add((m[1] as string).toLowerCase());
    // attribute names: outside quoted values
    const rest = (m[2] as string).replace(/"[^"]*"|'[^']*'/g, '""');
    for (const a of rest.matchAll(/([^\s=/"']+)\s*=/g)) attrs.add((a[1] as string).toLowerCase());
  }
  return { tags, attrs };
}

const REPORT_TAGS = ['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'div', 'b']
  .concat(['table', 'tr', 'th', 'td', 'ul', 'li', 'img', 'p', 'svg', 'g', 'path', 'line'])
  .concat(['rect', 'text', 'defs', 'clippath', 'tspan', 'title']);

function expectInert(html: string): void {
  const { tags, attrs } = markup(html);
  for (const t of tags) expect(REPORT_TAGS, `element <${t}>`).toContain(t);
  for (const a of attrs) expect(a, 'event-handler attribute').not.toMatch(/^on/);
  expect(html).not.toMatch(/<script|<!--|javascript:/i);
  // one <style> and one <title> element: a name cannot close them early
  expect(html.match(/<\/style>/g)).toHaveLength(1);
  expect(html.match(/<\/title>/g)?.length ?? 0).toBe(html.match(/<title>/g)?.length ?? 0);
  // the hostile text is shown, escaped
  expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;');
}

function toyReportInput(image: (i: number) => string): Parameters<typeof toolbox.buildReport>[0] {
  const n = 12;
  const k = 3;
  const labels = Array.from({ length: n }, (_, i) => i % k);
  const probs = labels.flatMap((y) => [0, 1, 2].map((j) => (j === y ? 0.8 : 0.1)));
  return {
    title: `${HOSTILE}title`,
    model: { name: `${HOSTILE}model`, kind: `${HOSTILE}kind`, checkpoint: `/runs/${HOSTILE}` },
    inName: `${HOSTILE}in`,
    outName: `${HOSTILE}out`,
    probs,
    numClasses: k,
    labels,
    scores: [
      {
        key: `${HOSTILE}key`,
        name: `${HOSTILE}name`,
        description: `${HOSTILE}desc`,
        inScores: labels.map((_, i) => i / n),
        outScores: [0.3, 0.9, 1.2],
      },
    ],
    gallerySize: 2,
    classNames: [`${HOSTILE}c0`, `"c1"`, `</text><script>c2`],
    image,
  };
}

const PNG_1x1 =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

describe('audit19 uncertainty report with hostile names', () => {
  it('adds no element and no attribute; the names are shown escaped', async () => {
    const html = await renderReportHtml(toolbox.buildReport(toyReportInput(() => PNG_1x1)));
    expectInert(html);
    // the gallery images are the data URIs given
    expect(html.match(/<img [^>]*>/g)).toHaveLength(4);
    for (const img of html.match(/<img [^>]*>/g) ?? [])
      expect(img).toMatch(/^<img alt="test image \d+" src="data:image\/png;base64,[^"]+">$/);
  }, 20_000);

  it('a gallery image that is not a data:image URI is refused by buildReport, naming image(i)', () => {
    for (const bad of ['data:x" onerror="alert(3)', 'https://example.com/a.png', 'javascript:1']) {
      const input = toyReportInput(() => bad);
      expect(() => toolbox.buildReport(input)).toThrow(ArgumentError);
      expect(() => toolbox.buildReport(input)).toThrow(
        /^image\(\d+\): expected a base64 image data URI/,
      );
    }
  });

  it('renderReportHtml refuses an edited report whose image is not a data URI, before drawing', async () => {
    const report = toolbox.buildReport(toyReportInput(() => PNG_1x1));
    const edited: UncertaintyReport = JSON.parse(JSON.stringify(report)) as UncertaintyReport;
    (edited.gallery.leastCertain[1] as { image?: string }).image = 'x" onerror="alert(4)';
    await expect(renderReportHtml(edited)).rejects.toThrow(
      /^report\.gallery\.leastCertain\[1\]\.image: expected a base64 image data URI/,
    );
  });

  it('an edited report.json with markup in its counts adds no markup either', async () => {
    const report = toolbox.buildReport(toyReportInput(() => PNG_1x1));
    const edited = JSON.parse(JSON.stringify(report)) as Record<string, unknown> &
      UncertaintyReport;
    const evil = '<script>alert(5)</script>' as unknown as number;
    edited.inDistribution.count = evil;
    edited.outOfDistribution.count = evil;
    edited.mcSamples = evil;
    edited.metrics.numBins = evil;
    (edited.gallery.mostCertain[0] as { index: number }).index = evil;
    const html = await renderReportHtml(edited);
    expectInert(html);
    expect(html).toContain('(&lt;script&gt;alert(5)&lt;/script&gt; images)');
  }, 20_000);

  it('names that are not strings are refused naming the field (was a TypeError in the HTML)', () => {
    const input = toyReportInput(() => PNG_1x1);
    const bad = (patch: object, name: RegExp): void =>
      expect(() => toolbox.buildReport({ ...input, ...patch })).toThrow(name);
    bad({ inName: 3 }, /^inName: expected a string, got number/);
    bad({ model: { name: 'm', kind: 7 } }, /^model\.kind: expected a string/);
    bad({ classNames: ['a', null, 'c'] }, /^classNames\[1\]: expected a string/);
    bad({ image: 'data:image/png;base64,' }, /^image: expected a function/);
    bad(
      { scores: [{ ...input.scores[0], description: undefined }] },
      /^scores\[0\]\.description: expected a string/,
    );
  });

  it('imageDataUri refuses a set it cannot picture (short pixel array, 2 or 4 channels)', () => {
    const set = { images: new Uint8Array(2 * 2 * 2), count: 2, height: 2, width: 2, channels: 1 };
    expect(imageDataUri(set, 1)).toMatch(/^data:image\/png;base64,/);
    expect(() => imageDataUri({ ...set, count: 3 }, 0)).toThrow(
      /^set\.images: expected 3 x 2 x 2 x 1 = 12 values, got 8/,
    );
    expect(() => imageDataUri({ ...set, channels: 4, count: 0.5 }, 0)).toThrow(/^set\.count:/);
    expect(() => imageDataUri({ ...set, channels: 2 }, 0)).toThrow(
      /^set\.channels: expected 1 or 3/,
    );
    expect(() => imageDataUri(set, 2)).toThrow(/^index:/);
  });

  it('escapeHtml escapes the five characters, also of a non-string', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
    expect(escapeHtml(12 as unknown as string)).toBe('12');
  });
});

describe('audit19 shift report with hostile names', () => {
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
  it('method, family, OOD set and the partial note add no markup', async () => {
    const m = `${HOSTILE}method`;
    const fam = `${HOSTILE}family`;
    const result: ShiftBenchmarkResult = {
      rows: [row(m, 'clean', 0, 0.5), row(m, fam, 1, 0.4), row(m, fam, 2, 0.3)],
      ood: [{ method: m, dataset: `${HOSTILE}ood`, aurocEntropy: 0.7, aurocMI: 0.5 }],
      summary: [
        {
          method: m,
          clean: row(m, 'clean', 0, 0.5),
          families: { [fam]: { nll: 0.4, nllBestT: 0.3, ece: 0.1, accuracy: 0.4 } },
          ood: { [`${HOSTILE}ood`]: { entropy: 0.7, mi: 0.5 } },
        },
      ],
    };
    const html = await shiftReportHtml(result, {
      methods: [`${HOSTILE}=plain:/runs/x`],
      partial: { note: HOSTILE },
    });
    expectInert(html);
    expect(html).toContain('<b>Partial report.</b> &lt;script&gt;');
  }, 20_000);
});
