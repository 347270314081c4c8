/**
 * The grid file of `deepprob sweep` (`--grid spec.json`), validated before anything is queued:
 *
 * ```json
 * { "base": { "model": "bayes-lenet5", "dataset": "mnist", "epochs": 1, "limit": 2000 },
 *   "grid": { "priorSigma": [0.05, 0.1], "klWeight": [1, "blundell"], "estimator": ["reparam", "flipout"] },
 *   "metric": "testNll", "goal": "min" }
 * ```
 *
 * `base` holds training options (those of `deepprob train`, camelCase; a relative `dataDir` is
 * resolved in the current directory, the submitter's, since workers run elsewhere); `grid` maps a
 * swept option to its non-empty list of values; the sweep trains the Cartesian product, in
 * row-major order of the grid's keys (the last key varies fastest).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkConfig, TRAIN_DEFAULTS, type TrainConfig } from '../app/run_config.js';
import { NORMALIZATIONS } from '../data/transform.js';
import { ArgumentError } from '../utils/errors.js';

/** Options that a grid may sweep, with the type of their values. */
export const SWEEPABLE: Readonly<Record<string, 'number' | 'string' | 'number|string'>> = {
  priorSigma: 'number',
  priorMu: 'number',
  rhoInit: 'number',
  klWeight: 'number|string',
  estimator: 'string',
  lr: 'number',
  lrDecay: 'number',
  batchSize: 'number',
  epochs: 'number',
  seed: 'number',
  model: 'string',
  mcSamples: 'number',
};

/** Options a grid's `base` may set (every training option but `out`). */
const BASE_KEYS: Readonly<Record<string, 'number' | 'string' | 'number|string'>> = {
  ...SWEEPABLE,
  dataset: 'string',
  dataDir: 'string',
  limit: 'number',
  testLimit: 'number',
  inputSize: 'number',
  resize: 'string',
  normalize: 'string',
  evalBatchSize: 'number',
};

/** Metrics a sweep may rank by (fields of the last epoch's record). */
export const SWEEP_METRICS = [
  'testNll',
  'testAccuracy',
  'testAccuracyMc',
  'testAccuracyMean',
  'trainLoss',
] as const;

/** A validated grid. */
export interface SweepGrid {
  base: Omit<TrainConfig, 'out'>;
  /** Swept options and their values, in file order. */
  axes: [string, (string | number)[]][];
  metric: { name: string; goal: 'min' | 'max' };
}

/** One point of the grid. */
export interface GridPoint {
  index: number;
  params: Record<string, string | number>;
  config: Omit<TrainConfig, 'out'>;
}

function typeOk(v: unknown, t: string): boolean {
  if (typeof v === 'number') return t.includes('number') && Number.isFinite(v);
  return typeof v === 'string' && t.includes('string');
}

/**
 * Validate a parsed grid document.
 * @param doc the parsed JSON.
 * @param file the file name for messages.
 * @throws ArgumentError naming the field (`grid.lr[1]`, `base.epochs`, ...) and the file.
 */
export function parseSweepGrid(doc: unknown, file = 'grid'): SweepGrid {
  const fail = (field: string, what: string): never => {
    throw new ArgumentError(field, `${what} (in ${file})`);
  };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    fail('--grid', 'expected a JSON object');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (!['base', 'grid', 'metric', 'goal'].includes(k))
      fail(k, 'unknown field; expected base, grid, metric, goal');
  }
  const base = (d.base ?? {}) as Record<string, unknown>;
  if (typeof base !== 'object' || base === null || Array.isArray(base))
    fail('base', 'expected an object of training options');
  for (const [k, v] of Object.entries(base)) {
    const t = BASE_KEYS[k];
    if (t === undefined)
      fail(
        `base.${k}`,
        `unknown training option; expected one of ${Object.keys(BASE_KEYS).join(', ')}`,
      );
    if (!typeOk(v, t as string)) fail(`base.${k}`, `expected a ${t}, got ${JSON.stringify(v)}`);
  }
  checkBaseData(base, fail);
  const grid = d.grid as Record<string, unknown> | undefined;
  if (grid === undefined || grid === null || typeof grid !== 'object' || Array.isArray(grid)) {
    fail('grid', 'expected an object mapping swept options to lists of values');
  }
  const axes: [string, (string | number)[]][] = [];
  for (const [k, v] of Object.entries(grid as Record<string, unknown>)) {
    const t = SWEEPABLE[k];
    if (t === undefined)
      fail(`grid.${k}`, `cannot be swept; expected one of ${Object.keys(SWEEPABLE).join(', ')}`);
    if (!Array.isArray(v) || v.length === 0)
      fail(`grid.${k}`, 'expected a non-empty list of values');
    const vals = v as unknown[];
    vals.forEach((x, i) => {
      if (!typeOk(x, t as string))
        fail(`grid.${k}[${i}]`, `expected a ${t}, got ${JSON.stringify(x)}`);
      if (vals.indexOf(x) !== i) fail(`grid.${k}[${i}]`, `duplicate value ${JSON.stringify(x)}`);
    });
    axes.push([k, vals as (string | number)[]]);
  }
  if (axes.length === 0) fail('grid', 'expected at least one swept option');
  const metric = d.metric ?? 'testNll';
  if (typeof metric !== 'string' || !(SWEEP_METRICS as readonly string[]).includes(metric)) {
    fail('metric', `expected one of ${SWEEP_METRICS.join(', ')}, got ${JSON.stringify(metric)}`);
  }
  const goal = d.goal ?? (String(metric).toLowerCase().includes('accuracy') ? 'max' : 'min');
  if (goal !== 'min' && goal !== 'max')
    fail('goal', `expected min or max, got ${JSON.stringify(goal)}`);
  const g: SweepGrid = {
    base: {
      ...TRAIN_DEFAULTS,
      model: 'bayes-lenet5',
      ...(base as Partial<TrainConfig>),
      // workers run in their own directory: a relative dataDir is the submitter's
      ...(typeof base.dataDir === 'string' ? { dataDir: resolve(base.dataDir) } : {}),
    },
    axes,
    metric: { name: metric as string, goal: goal as 'min' | 'max' },
  };
  gridPoints(g).forEach((p) => {
    try {
      checkConfig({ ...p.config, out: '.' });
    } catch (e) {
      fail(`grid point ${p.index} ${JSON.stringify(p.params)}`, (e as Error).message);
    }
  });
  return g;
}

/**
 * Check `base.normalize` (a name of {@link NORMALIZATIONS} or `none`: the workers would fail on
 * another) and `base.dataDir` (a non-empty path).
 */
function checkBaseData(
  base: Record<string, unknown>,
  fail: (field: string, what: string) => never,
): void {
  const names = [...Object.keys(NORMALIZATIONS), 'none'];
  if (base.normalize !== undefined && !names.includes(base.normalize as string)) {
    fail(
      'base.normalize',
      `expected one of ${names.join(', ')}, got ${JSON.stringify(base.normalize)}`,
    );
  }
  if (base.dataDir !== undefined && (base.dataDir as string).trim() === '') {
    fail('base.dataDir', 'expected a directory path, got ""');
  }
}

/** Read and validate a grid file. */
export function readSweepGrid(path: string): SweepGrid {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ArgumentError('--grid', `cannot read ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ArgumentError('--grid', `${path} is not valid JSON: ${(e as Error).message}`);
  }
  const dup = duplicateJsonKey(text);
  if (dup !== undefined) {
    throw new ArgumentError(
      dup,
      `written twice in the same object; JSON.parse would keep only the last (in ${path})`,
    );
  }
  return parseSweepGrid(doc, path);
}

/**
 * The first key written twice in one object of a JSON text (`grid.lr` for
 * `{"grid": {"lr": [1], "lr": [2]}}`), as a path of keys and `[index]`es; undefined when none.
 * `JSON.parse` silently keeps the last of such keys, which would drop a part of a grid.
 * @param text a text `JSON.parse` accepts.
 */
export function duplicateJsonKey(text: string): string | undefined {
  interface Frame {
    obj: boolean;
    path: string;
    keys: Set<string>;
    key: string;
    index: number;
    expectKey: boolean;
  }
  const stack: Frame[] = [];
  const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);
  const childPath = (): string => {
    const f = stack.at(-1);
    if (f === undefined) return '';
    return f.obj ? join(f.path, f.key) : `${f.path}[${f.index}]`;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const f = stack.at(-1);
      if (f !== undefined && f.obj && f.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (f.keys.has(key)) return join(f.path, key);
        f.keys.add(key);
        f.key = key;
        f.expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === '{' || c === '[') {
      const path = childPath();
      stack.push({ obj: c === '{', path, keys: new Set(), key: '', index: 0, expectKey: true });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const f = stack.at(-1);
      if (f !== undefined) {
        if (f.obj) f.expectKey = true;
        else f.index++;
      }
    }
    i++;
  }
  return undefined;
}

/**
 * Throw unless `grid` has the shape {@link parseSweepGrid} returns (a base object, axes of
 * `[option, non-empty values]` pairs and a metric): a grid written by hand is parsed first.
 * @throws ArgumentError naming `grid`.
 */
export function checkSweepGrid(grid: unknown): asserts grid is SweepGrid {
  const g = grid as Partial<SweepGrid> | null;
  const ok =
    g !== null &&
    typeof g === 'object' &&
    g.base !== null &&
    typeof g.base === 'object' &&
    Array.isArray(g.axes) &&
    g.axes.every(
      (a) => Array.isArray(a) && typeof a[0] === 'string' && Array.isArray(a[1]) && a[1].length > 0,
    ) &&
    g.metric !== null &&
    typeof g.metric === 'object';
  if (!ok) {
    throw new ArgumentError(
      'grid',
      'expected a sweep grid made by parseSweepGrid or readSweepGrid ({base, axes, metric}); ' +
        'parse a grid object or file first',
    );
  }
}

/** The Cartesian product of a grid's axes, last axis fastest. */
export function gridPoints(grid: SweepGrid): GridPoint[] {
  checkSweepGrid(grid);
  const total = grid.axes.reduce((n, [, v]) => n * v.length, 1);
  return Array.from({ length: total }, (_, index) => {
    const params: Record<string, string | number> = {};
    let rest = index;
    for (let a = grid.axes.length - 1; a >= 0; a--) {
      const [k, vals] = grid.axes[a] as [string, (string | number)[]];
      params[k] = vals[rest % vals.length] as string | number;
      rest = Math.floor(rest / vals.length);
    }
    const ordered = Object.fromEntries(grid.axes.map(([k]) => [k, params[k] as string | number]));
    return {
      index,
      params: ordered,
      config: { ...grid.base, ...ordered } as Omit<TrainConfig, 'out'>,
    };
  });
}
