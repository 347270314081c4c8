/**
 * `renderModel`: a model's graph as Graphviz DOT text (Pyro's `pyro.render_model`): a node per
 * sample site (observed ones filled gray, deterministic ones dashed), an edge per dependency,
 * plates as `cluster_` subgraphs labelled with their name and size, optionally the params and the
 * distributions. The DOT text is browser-safe; `renderModelSvg` (`svg.ts`) lays it out.
 */
import { ArgumentError } from '../../utils/errors.js';
import {
  checkModelCall,
  getModelRelations,
  mergeModelRelations,
  relationSites,
  type ModelRelations,
  type ModelRelationsOptions,
} from './relations.js';

/** Options of {@link renderModel}. */
export interface RenderModelOptions {
  /** List each site's distribution (and each param's constraint) in a legend node. */
  renderDistributions?: boolean;
  /** Draw the params (plain nodes) and their edges to the sample sites. */
  renderParams?: boolean;
  /** Draw deterministic sites (dashed) instead of eliding them (Pyro's `render_deterministic`). */
  renderDeterministic?: boolean;
  /**
   * Further argument lists: the model also runs with each, and the graph is the merge of the
   * runs ({@link mergeModelRelations}; Pyro's list of `model_args`, e.g. a semi-supervised model
   * with and without labels: a site observed in only some runs is filled `gray:white`).
   */
  argSets?: unknown[][];
}

const RENDER_OPTIONS = [
  'renderDistributions',
  'renderParams',
  'renderDeterministic',
  'argSets',
] as const;

const KEYWORDS = new Set(['node', 'edge', 'graph', 'digraph', 'subgraph', 'strict']);

/**
 * A DOT identifier: bare when it is a plain identifier or a numeral (as Python's `graphviz`
 * writes them), else double-quoted with `"` and `\` escaped. @internal
 */
export function dotId(s: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) && !KEYWORDS.has(s.toLowerCase());
  const numeral = /^-?(\.[0-9]+|[0-9]+(\.[0-9]*)?)$/.test(s);
  if (plain || numeral) return s;
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** One cluster of the plate tree: the sites whose innermost plate it is, and nested clusters. */
interface Cluster {
  plate: string;
  id: string;
  nodes: string[];
  children: Cluster[];
}

/**
 * The plate tree of the sites: a site goes into the cluster reached by following its plates,
 * outermost first, from the root. Plates that overlap without nesting (a site in `a` and `b`,
 * another in `b` only) become one cluster per path, the second and later named
 * `cluster_<plate>__CLONE`, `__CLONE2`, ... (Pyro's naming). @internal
 */
export function plateTree(
  sites: readonly string[],
  samplePlates: Record<string, string[]>,
): Cluster {
  const root: Cluster = { plate: '', id: '', nodes: [], children: [] };
  const uses = new Map<string, number>();
  for (const site of sites) {
    let at = root;
    for (const p of samplePlates[site] ?? []) {
      let child = at.children.find((c) => c.plate === p);
      if (child === undefined) {
        const n = uses.get(p) ?? 0;
        uses.set(p, n + 1);
        const suffix = n === 0 ? '' : n === 1 ? '__CLONE' : `__CLONE${n}`;
        child = { plate: p, id: `cluster_${p}${suffix}`, nodes: [], children: [] };
        at.children.push(child);
      }
      at = child;
    }
    at.nodes.push(site);
  }
  return root;
}

/**
 * The DOT text of relations `r` (Pyro's `generate_graph_specification` + `render_graph`):
 *
 * - a node per sample site, `shape=ellipse style=filled`, `fillcolor=gray` when observed,
 *   `"gray:white"` when observed in only some of merged runs, `white` otherwise; deterministic sites (present only when `r` kept them) `style="filled,dashed"`;
 * - with `renderParams`, a `shape=plain` node per param and its edges `param -> site`;
 * - an edge `u -> d` for every `u` in `r.sampleSample[d]`;
 * - each plate a `subgraph cluster_<plate>` labelled `"<plate> (<size>)"`, nested as the plates are;
 * - with `renderDistributions`, a `distribution_description_node` (`shape=plaintext`) listing
 *   `site ~ Distribution` and `param : constraint`.
 *
 * @param r the relations from {@link getModelRelations}.
 * @param options `renderDistributions`, `renderParams`.
 * @returns the DOT text, one statement per line.
 */
export function relationsToDot(
  r: ModelRelations,
  options: { renderDistributions?: boolean; renderParams?: boolean } = {},
): string {
  const params = options.renderParams === true;
  const det = new Set(r.deterministic);
  const obs = new Set(r.observed);
  const maybe = new Set(r.maybeObserved ?? []);
  const sites = relationSites(r);
  const usedParams: string[] = [];
  if (params) {
    for (const s of sites) {
      for (const p of r.sampleParam[s] ?? []) if (!usedParams.includes(p)) usedParams.push(p);
    }
  }
  const lines: string[] = ['digraph {'];
  const nodeLine = (name: string, indent: string): string => {
    const id = dotId(name);
    const fill = obs.has(name) ? 'gray' : maybe.has(name) ? '"gray:white"' : 'white';
    const style = det.has(name) ? '"filled,dashed"' : 'filled';
    return `${indent}${id} [label=${id} fillcolor=${fill} shape=ellipse style=${style}]`;
  };
  const emit = (c: Cluster, indent: string): void => {
    for (const n of c.nodes) lines.push(nodeLine(n, indent));
    for (const child of c.children) {
      const size = r.plateSize[child.plate];
      const label = size === undefined ? child.plate : `${child.plate} (${size})`;
      lines.push(`${indent}subgraph ${dotId(child.id)} {`);
      lines.push(`${indent}\tlabel=${dotId(label)} labeljust=r labelloc=b`);
      emit(child, `${indent}\t`);
      lines.push(`${indent}}`);
    }
  };
  emit(plateTree(sites, r.samplePlates), '\t');
  for (const p of usedParams) {
    lines.push(`\t${dotId(p)} [label=${dotId(p)} fillcolor=white shape=plain style=filled]`);
  }
  for (const d of sites) {
    for (const u of r.sampleSample[d] ?? []) lines.push(`\t${dotId(u)} -> ${dotId(d)}`);
    if (params) for (const p of r.sampleParam[d] ?? []) lines.push(`\t${dotId(p)} -> ${dotId(d)}`);
  }
  if (options.renderDistributions === true) {
    const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    let legend = '';
    for (const s of sites) legend += `${esc(s)} ~ ${esc(r.sampleDist[s] ?? '')}\\l`;
    for (const p of usedParams) legend += `${esc(p)} : ${esc(r.paramConstraint[p] ?? 'real')}\\l`;
    lines.push(`\tdistribution_description_node [label="${legend}" shape=plaintext]`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Check the options of the render functions; `filename` points to the Node helper. @internal */
export function checkRenderOptions(what: string, model: unknown, args: unknown, o: unknown): void {
  if (o !== null && typeof o === 'object' && 'filename' in o) {
    throw new ArgumentError(
      'filename',
      `${what}: writing a file is Node-only; use renderModelToFile from 'deepprob/node' ` +
        `(renderModel returns the DOT text)`,
    );
  }
  checkModelCall(what, model, args, o, RENDER_OPTIONS);
  const sets = (o as RenderModelOptions).argSets;
  if (sets !== undefined && (!Array.isArray(sets) || sets.some((a) => !Array.isArray(a)))) {
    throw new ArgumentError('argSets', `${what}: expected an array of argument arrays`);
  }
  for (const k of RENDER_OPTIONS) {
    if (k === 'argSets') continue;
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined && typeof v !== 'boolean') {
      throw new ArgumentError(k, `${what}: expected a boolean, got ${String(v)}`);
    }
  }
}

/**
 * Render `model(...args)` as Graphviz DOT text (Pyro's `render_model`): the relations of
 * {@link getModelRelations} drawn by {@link relationsToDot}. Site `d` gets an edge from `u` when
 * the log-density of `d` was computed from the value of `u`:
 *
 * $$u \to d \iff u \in \operatorname{prov}\big(\log p_d(x_d)\big)$$
 *
 * Lay the text out with `renderModelSvg`, or `dot -Tsvg`; in Node, `renderModelToFile`
 * (`deepprob/node`) writes `.dot`/`.gv` or `.svg` files.
 *
 * @param model the model, a synchronous function.
 * @param args its arguments.
 * @param options `renderDistributions`, `renderParams`, `renderDeterministic`, `argSets`.
 * @returns the DOT text.
 * @example
 * ```ts
 * const dot = renderModel(eightSchools, [sigma, y], { renderDistributions: true });
 * // digraph {
 * //   mu [label=mu fillcolor=white shape=ellipse style=filled]
 * //   subgraph cluster_J { label="J (8)" ... }
 * //   mu -> theta ...
 * ```
 */
export function renderModel<A extends unknown[]>(
  model: (...args: A) => unknown,
  args: A = [] as unknown as A,
  options: RenderModelOptions = {},
): string {
  checkRenderOptions('renderModel', model, args, options);
  const relOptions: ModelRelationsOptions = {
    includeDeterministic: options.renderDeterministic === true,
  };
  const runs = [args, ...((options.argSets ?? []) as A[])].map((a) =>
    getModelRelations(model, a, relOptions),
  );
  return relationsToDot(runs.length === 1 ? runs[0]! : mergeModelRelations(runs), options);
}
