/**
 * `getModelRelations`: which sample sites and params each sample site of a model was computed
 * from, the distribution of each site, its plates and which sites are observed (Pyro's
 * `pyro.infer.inspect.get_model_relations`, the data behind `renderModel`).
 */
import type { Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { isDeterministicSite, trackProvenance, unwrapDistribution } from './provenance.js';

/** Options of {@link getModelRelations}. */
export interface ModelRelationsOptions {
  /**
   * Keep deterministic sites (`deterministic(...)` and `Delta` sample sites) as nodes with their
   * own dependencies (Pyro's `include_deterministic`); by default they are elided: a site
   * computed from a deterministic value depends on what that value was computed from.
   */
  includeDeterministic?: boolean;
}

/** What {@link getModelRelations} returns. Site lists follow the model's execution order. */
export interface ModelRelations {
  /** Each sample site -> the upstream sample sites its distribution was computed from. */
  sampleSample: Record<string, string[]>;
  /** Each sample site -> the params its distribution was computed from. */
  sampleParam: Record<string, string[]>;
  /** Each sample site -> the name of its distribution (without `expand`/`toEvent`/`mask`). */
  sampleDist: Record<string, string>;
  /** Each param -> the name of its constraint (`real` when none was given). */
  paramConstraint: Record<string, string>;
  /** Each plate -> the sample sites inside it. */
  plateSample: Record<string, string[]>;
  /** Each plate -> its full size. */
  plateSize: Record<string, number>;
  /** Each sample site -> its plates, outermost first. */
  samplePlates: Record<string, string[]>;
  /** The observed sample sites (with {@link mergeModelRelations}: observed in every run). */
  observed: string[];
  /**
   * Sites observed in some runs and latent in others ({@link mergeModelRelations}, Pyro's
   * semi-supervised "maybe"); empty for one run.
   */
  maybeObserved: string[];
  /** The deterministic sites kept (empty unless `includeDeterministic`). */
  deterministic: string[];
  /**
   * The sample sites (the keys of `sampleSample`) in execution order: a JavaScript object lists
   * integer-like keys (`'0'`, `'12'`) first, whatever their order of insertion. Optional for
   * relations written by hand (then the keys' order is used).
   */
  sites?: string[];
}

/**
 * The sample sites of `r` in execution order (`r.sites`, else the keys of `sampleSample`).
 * @internal
 */
export function relationSites(r: ModelRelations): string[] {
  return Array.isArray(r.sites) ? [...r.sites] : Object.keys(r.sampleSample);
}

/** The name of a distribution without the wrappers `expand`, `toEvent` and `mask` (Pyro's `_get_dist_name`). */
export function baseDistributionName(fn: Distribution): string {
  return unwrapDistribution(fn).name;
}

/** Check the model, its arguments and an options object. @internal */
export function checkModelCall(
  what: string,
  model: unknown,
  args: unknown,
  options: unknown,
  known: readonly string[],
): void {
  if (typeof model !== 'function') {
    throw new ArgumentError('model', `${what}: expected the model function, got ${typeof model}`);
  }
  if (!Array.isArray(args)) {
    throw new ArgumentError(
      'args',
      `${what}: expected the array of the model's arguments, got ${args === null ? 'null' : typeof args}`,
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `${what}: expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, known, what);
}

/**
 * Infer the relations of the sample sites, params and plates of `model(...args)` from one run
 * (Pyro's `get_model_relations`). Site `d` depends on site `u` when the log-density of `d` at
 * its value was computed, through tfjs ops, from the value of `u` (provenance read off the
 * gradient tape, see `provenance.ts`):
 *
 * $$u \in \text{sampleSample}[d] \iff u \in \operatorname{prov}\big(\log p_d(x_d)\big),\ u \ne d$$
 *
 * Only direct dependencies count: `a -> b -> c` gives `c: [b]`, not `a`. Deterministic sites are
 * elided unless `includeDeterministic`. The model runs once with validation off; the global seed
 * stream is restored and every tensor the run made is freed (params it creates stay in the
 * parameter store, as in Pyro).
 *
 * @param model the model, a synchronous function.
 * @param args its arguments.
 * @param options `includeDeterministic`.
 * @returns the relations; see {@link ModelRelations}.
 * @example
 * ```ts
 * const model = (data: tf.Tensor) => {
 *   const m = sample('m', new Normal(0, 1));
 *   const sd = sample('sd', new LogNormal(m, 1));
 *   plate('N', data.shape[0], () => sample('obs', new Normal(m, sd), { obs: data }));
 * };
 * getModelRelations(model, [data]);
 * // { sampleSample: { m: [], sd: ['m'], obs: ['m', 'sd'] },
 * //   sampleDist: { m: 'Normal', sd: 'LogNormal', obs: 'Normal' },
 * //   plateSample: { N: ['obs'] }, observed: ['obs'], ... }
 * ```
 */
export function getModelRelations<A extends unknown[]>(
  model: (...args: A) => unknown,
  args: A = [] as unknown as A,
  options: ModelRelationsOptions = {},
): ModelRelations {
  checkModelCall('getModelRelations', model, args, options, ['includeDeterministic']);
  const inc = options.includeDeterministic ?? false;
  if (typeof inc !== 'boolean') {
    throw new ArgumentError(
      'includeDeterministic',
      `getModelRelations: expected a boolean, got ${String(inc)}`,
    );
  }
  return trackProvenance('getModelRelations', model, args, inc, (run) => {
    const types = new Map(run.sites.map((s) => [s.name, s.type]));
    const order = new Map(run.sites.map((s, i) => [s.name, i]));
    const sampleSample: [string, string[]][] = [];
    const sampleParam: [string, string[]][] = [];
    const sampleDist: [string, string][] = [];
    const paramConstraint: [string, string][] = [];
    const samplePlates: [string, string[]][] = [];
    const plateSample = new Map<string, string[]>();
    const plateSize = new Map<string, number>();
    const observed: string[] = [];
    const deterministic: string[] = [];
    const sites: string[] = [];
    for (const site of run.sites) {
      if (site.type === 'param') {
        paramConstraint.push([site.name, site.constraint?.name ?? 'real']);
        continue;
      }
      if (site.type !== 'sample' || site.fn === null) continue;
      const det = isDeterministicSite(site);
      if (det && !inc) continue;
      const prov = [...run.siteProvenance(site)].sort(
        (a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0),
      );
      sites.push(site.name);
      sampleSample.push([site.name, prov.filter((u) => types.get(u) === 'sample')]);
      sampleParam.push([site.name, prov.filter((u) => types.get(u) === 'param')]);
      sampleDist.push([site.name, baseDistributionName(site.fn)]);
      samplePlates.push([site.name, site.cond.map((f) => f.name)]);
      for (const f of site.cond) {
        const list = plateSample.get(f.name) ?? [];
        list.push(site.name);
        plateSample.set(f.name, list);
        plateSize.set(f.name, f.size);
      }
      if (site.isObserved && !det) observed.push(site.name);
      if (det) deterministic.push(site.name);
    }
    return {
      sampleSample: Object.fromEntries(sampleSample),
      sampleParam: Object.fromEntries(sampleParam),
      sampleDist: Object.fromEntries(sampleDist),
      paramConstraint: Object.fromEntries(paramConstraint),
      plateSample: Object.fromEntries(plateSample),
      plateSize: Object.fromEntries(plateSize),
      samplePlates: Object.fromEntries(samplePlates),
      observed,
      maybeObserved: [],
      deterministic,
      sites,
    };
  });
}

/**
 * The relations of several runs of one model as one (Pyro's `_deep_merge` of `render_model`
 * with a list of `model_args`, e.g. a semi-supervised model run with and without labels): the
 * union of the sites, params, plates and edges, in order of first appearance; the first run's
 * distribution name, constraint, plate size and plates of a site; a site is `observed` when it is
 * observed in every run where it appears, `maybeObserved` when only in some:
 *
 * $$\text{sampleSample}[d] = \bigcup_r \text{sampleSample}_r[d]$$
 *
 * @param runs the relations of each run, from {@link getModelRelations}.
 * @returns the merged relations.
 * @example
 * ```ts
 * const both = mergeModelRelations([
 *   getModelRelations(model, [xs, ys]), // supervised
 *   getModelRelations(model, [xs, null]), // unsupervised
 * ]);
 * relationsToDot(both); // y is drawn half gray
 * ```
 */
export function mergeModelRelations(runs: readonly ModelRelations[]): ModelRelations {
  if (!Array.isArray(runs) || runs.length === 0) {
    throw new ArgumentError('runs', 'mergeModelRelations: expected a non-empty array of relations');
  }
  runs.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || typeof r.sampleSample !== 'object') {
      throw new ArgumentError(`runs[${i}]`, 'mergeModelRelations: expected a ModelRelations');
    }
  });
  const unionLists = (
    key: 'sampleSample' | 'sampleParam' | 'plateSample',
  ): Record<string, string[]> => {
    const out = new Map<string, string[]>();
    for (const r of runs) {
      const rec: Record<string, string[]> = r[key] ?? {};
      for (const [k, v] of Object.entries(rec)) {
        const list = out.get(k) ?? [];
        for (const x of v) if (!list.includes(x)) list.push(x);
        out.set(k, list);
      }
    }
    return Object.fromEntries(out);
  };
  const first = <T>(
    key: 'sampleDist' | 'paramConstraint' | 'plateSize' | 'samplePlates',
  ): Record<string, T> => {
    const out = new Map<string, T>();
    for (const r of runs) {
      for (const [k, v] of Object.entries(r[key] ?? {})) if (!out.has(k)) out.set(k, v as T);
    }
    return Object.fromEntries(out);
  };
  const sampleSample = unionLists('sampleSample');
  const sites: string[] = [];
  for (const r of runs) for (const x of relationSites(r)) if (!sites.includes(x)) sites.push(x);
  const observed: string[] = [];
  const maybeObserved: string[] = [];
  for (const site of sites) {
    const votes = runs
      .filter((r) => Object.prototype.hasOwnProperty.call(r.sampleSample, site))
      .map((r) => (r.maybeObserved.includes(site) ? null : r.observed.includes(site)));
    if (votes.every((v) => v === true)) observed.push(site);
    else if (votes.some((v) => v !== false)) maybeObserved.push(site);
  }
  const deterministic: string[] = [];
  for (const r of runs)
    for (const d of r.deterministic) if (!deterministic.includes(d)) deterministic.push(d);
  return {
    sampleSample,
    sampleParam: unionLists('sampleParam'),
    sampleDist: first<string>('sampleDist'),
    paramConstraint: first<string>('paramConstraint'),
    plateSample: unionLists('plateSample'),
    plateSize: first<number>('plateSize'),
    samplePlates: first<string[]>('samplePlates'),
    observed,
    maybeObserved,
    deterministic,
    sites,
  };
}
