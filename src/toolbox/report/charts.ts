/**
 * The report's plots as Vega-Lite specifications, rendered to standalone SVG strings with
 * Vega's headless `View.toSVG()` (no browser, no external scripts).
 */
import type * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import type { ReliabilityBin } from '../metrics.js';
import type { GalleryItem, ScoreSummary } from './types.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const IN_COLOR = '#1f77b4';
const OUT_COLOR = '#ff7f0e';

type VegaLiteCompile = (typeof import('vega-lite'))['compile'];

/** Vega-Lite's compiler, loaded on first use, and the `Set.prototype.toJSON` it installs. */
let vegaLite: { compile: VegaLiteCompile; setToJSON: PropertyDescriptor | undefined } | undefined;

/** Put `Set.prototype.toJSON` back to `descriptor` (deleting it where there was none). */
function setSetToJSON(descriptor: PropertyDescriptor | undefined): void {
  if (descriptor) Object.defineProperty(Set.prototype, 'toJSON', descriptor);
  else Reflect.deleteProperty(Set.prototype, 'toJSON');
}

/**
 * Load Vega-Lite without letting it change the user's program: importing `vega-lite` 6 assigns
 * `Set.prototype.toJSON` globally (so `JSON.stringify(new Set([1, 2]))` reads `"Set(1,2)"`
 * instead of `"{}"` in every program that imports deepprob). It is loaded lazily, its method is
 * kept aside and the prototype restored; {@link compileVegaLite} installs it only while Vega-Lite
 * compiles (its hashing of specs relies on it).
 */
async function loadVegaLite(): Promise<NonNullable<typeof vegaLite>> {
  if (vegaLite) return vegaLite;
  const before = Object.getOwnPropertyDescriptor(Set.prototype, 'toJSON');
  const { compile } = await import('vega-lite');
  const setToJSON = Object.getOwnPropertyDescriptor(Set.prototype, 'toJSON');
  setSetToJSON(before);
  vegaLite = { compile, setToJSON };
  return vegaLite;
}

/** Vega, loaded on first render (see {@link loadVega}). */
let vegaModule: Promise<typeof vega> | undefined;

/**
 * Load Vega on first use. A static import would put Vega's module graph, with the top-level await
 * of `vega-canvas` (which loads the optional `canvas`), into every program that imports
 * `deepprob/node`: `require('deepprob/node')` then fails with `ERR_REQUIRE_ASYNC_MODULE` and the
 * import takes about a second longer, although only the report writers draw charts.
 */
function loadVega(): Promise<typeof vega> {
  vegaModule ??= import('vega').catch((e: unknown) => {
    vegaModule = undefined;
    throw e;
  });
  return vegaModule;
}

/** Compile a Vega-Lite spec to Vega with Vega-Lite's `Set.prototype.toJSON` in place, then restore. */
async function compileVegaLite(spec: TopLevelSpec): Promise<vega.Spec> {
  const { compile, setToJSON } = await loadVegaLite();
  const outside = Object.getOwnPropertyDescriptor(Set.prototype, 'toJSON');
  setSetToJSON(setToJSON);
  try {
    return compile(spec).spec;
  } finally {
    setSetToJSON(outside);
  }
}

/**
 * Render a Vega-Lite spec to an SVG string. Vega-Lite is loaded on first use and leaves no
 * global behind (see `loadVegaLite`).
 * @param spec a top-level Vega-Lite specification with inline data.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = await compileVegaLite(spec);
  const { View, parse } = await loadVega();
  const view = new View(parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Reliability diagram: accuracy per confidence bin (bars), the diagonal of perfect calibration,
 * and the number of inputs per bin (tooltip-free labels in the JSON).
 */
export function reliabilitySpec(bins: ReliabilityBin[], ece: number): TopLevelSpec {
  const values = bins
    .filter((b) => b.count > 0)
    .map((b) => ({
      lower: b.lower,
      upper: b.upper,
      accuracy: b.accuracy,
      confidence: b.confidence,
      gap: b.confidence - b.accuracy,
      count: b.count,
      zero: 0,
    }));
  return {
    $schema: SCHEMA,
    title: {
      text: 'Reliability diagram',
      subtitle: `ECE ${Number.isFinite(ece) ? `${(100 * ece).toFixed(2)}%` : 'n/a'}`,
    },
    width: 320,
    height: 320,
    layer: [
      {
        data: { values },
        mark: { type: 'rect', color: IN_COLOR, opacity: 0.85, stroke: 'white' },
        encoding: {
          x: {
            field: 'lower',
            type: 'quantitative',
            scale: { domain: [0, 1] },
            title: 'confidence (max probability)',
          },
          x2: { field: 'upper' },
          y: { field: 'zero', type: 'quantitative' },
          y2: { field: 'accuracy' },
        },
      },
      {
        data: { values },
        mark: { type: 'tick', color: '#d62728', thickness: 2 },
        encoding: {
          x: { field: 'confidence', type: 'quantitative' },
          y: { field: 'confidence', type: 'quantitative' },
        },
      },
      {
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: { type: 'line', color: 'gray', strokeDash: [4, 4] },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative', scale: { domain: [0, 1] }, title: 'accuracy' },
        },
      },
    ],
  };
}

/** Bar chart of the number of inputs per confidence bin (log scale). */
export function confidenceCountSpec(bins: ReliabilityBin[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: 'Inputs per confidence bin',
    width: 320,
    height: 120,
    data: {
      values: bins
        .filter((b) => b.count > 0)
        .map((b) => ({ lower: b.lower, upper: b.upper, count: b.count })),
    },
    mark: { type: 'rect', color: '#7f7f7f', stroke: 'white' },
    encoding: {
      x: { field: 'lower', type: 'quantitative', scale: { domain: [0, 1] }, title: 'confidence' },
      x2: { field: 'upper' },
      y: { field: 'count', type: 'quantitative', scale: { type: 'symlog' }, title: 'inputs' },
    },
  };
}

/** `v` with `d` decimals, `n/a` when it is not finite (a chart's text never reads `NaN`). */
function fixed(v: number, d: number): string {
  return Number.isFinite(v) ? v.toFixed(d) : 'n/a';
}

/**
 * Overlaid histograms of one score, in- vs out-of-distribution: bar `i` of a set has height
 * `c_i / n`, its count over the set's size `n` (the `±Infinity` scores included, which no bar
 * holds: the subtitle says how many of each set are not drawn). Sets of one name are labelled
 * `name (in-distribution)` and `name (OOD)`.
 */
export function scoreHistogramSpec(
  s: ScoreSummary,
  inDistributionName: string,
  outOfDistributionName: string,
): TopLevelSpec {
  // two sets of one name (`--ood mnist:/other/folder` against a run on mnist) would share one
  // colour and one legend entry: they are told apart
  const same = inDistributionName === outOfDistributionName;
  const inName = same ? `${inDistributionName} (in-distribution)` : inDistributionName;
  const outName = same ? `${outOfDistributionName} (OOD)` : outOfDistributionName;
  const { edges, countsIn, countsOut } = s.histogram;
  const omittedIn = s.histogram.omittedIn ?? 0;
  const omittedOut = s.histogram.omittedOut ?? 0;
  // a range wider than the float64 maximum (-1e308 to 1e308) has no ticks: the axis is in
  // units of 10^e then (its title says so)
  const first = edges[0] ?? 0;
  const last = edges[edges.length - 1] ?? 1;
  const e = Number.isFinite(last - first)
    ? 0
    : Math.floor(Math.log10(Math.max(Math.abs(first), Math.abs(last))));
  const unit = 10 ** e;
  // each set's counts as fractions of that set, one bar per bin
  const fractions = (counts: readonly number[], omitted: number, set: string) => {
    const total = counts.reduce((a, b) => a + b, 0) + omitted || 1;
    return counts.map((c, i) => ({
      lo: (edges[i] as number) / unit,
      hi: (edges[i + 1] as number) / unit,
      fraction: c / total,
      set,
    }));
  };
  const values = [
    ...fractions(countsIn, omittedIn, inName),
    ...fractions(countsOut, omittedOut, outName),
  ];
  const note =
    omittedIn + omittedOut > 0
      ? [`not drawn (±Infinity): ${omittedIn} of ${inName}, ${omittedOut} of ${outName}`]
      : [];
  return {
    $schema: SCHEMA,
    title: {
      text: s.name,
      subtitle: [
        `AUROC ${fixed(s.ood.auroc, 3)}  AUPR ${fixed(s.ood.aupr, 3)}  FPR@95 ${fixed(s.ood.fpr95, 3)}`,
        ...note,
      ],
    },
    width: 300,
    height: 170,
    data: { values },
    mark: { type: 'rect', opacity: 0.55, stroke: null },
    encoding: {
      x: { field: 'lo', type: 'quantitative', title: e === 0 ? s.key : `${s.key} (× 1e${e})` },
      x2: { field: 'hi' },
      y: { field: 'fraction', type: 'quantitative', stack: null, title: 'fraction of set' },
      color: {
        field: 'set',
        type: 'nominal',
        scale: { domain: [inName, outName], range: [IN_COLOR, OUT_COLOR] },
        legend: { orient: 'top', title: null, labelLimit: 400 },
      },
    },
  };
}

/** Small bar chart of one image's predictive distribution (label green, a wrong prediction red). */
export function probabilitySpec(item: GalleryItem, classNames?: string[]): TopLevelSpec {
  const name = (k: number): string => classNames?.[k] ?? String(k);
  return {
    $schema: SCHEMA,
    width: 150,
    height: 60,
    data: {
      values: item.probs.map((p, k) => ({
        cls: name(k),
        p,
        role: k === item.label ? 'label' : k === item.prediction ? 'wrong prediction' : 'other',
      })),
    },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'cls',
        type: 'nominal',
        sort: null,
        title: null,
        axis: { labelAngle: 0, labelFontSize: 8 },
      },
      y: {
        field: 'p',
        type: 'quantitative',
        scale: { domain: [0, 1] },
        title: null,
        axis: { tickCount: 2, labelFontSize: 8 },
      },
      color: {
        field: 'role',
        type: 'nominal',
        scale: {
          domain: ['label', 'wrong prediction', 'other'],
          range: ['#2ca02c', '#d62728', '#9e9e9e'],
        },
        legend: null,
      },
    },
    config: { view: { stroke: null } },
  };
}
