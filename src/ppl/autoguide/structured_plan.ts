/**
 * The options of {@link AutoStructured} and its plan: each latent site's conditional
 * (`'normal'`, `'mvn'` or `'delta'`) and the upstream sites whose noise it depends on linearly,
 * the sites sorted topologically by Kahn's rule with the smallest `(pending count, name)` first,
 * as Pyro's `AutoStructured` (a cycle is refused).
 */
import { ArgumentError } from '../../utils/errors.js';
import type { AutoGuideOptions } from './guide.js';
import type { LatentSpec } from './prototype.js';

/** The conditional of one site in {@link AutoStructured}. */
export type StructuredConditional = 'normal' | 'mvn' | 'delta';

/** Options of {@link AutoStructured}. */
export interface AutoStructuredOptions extends AutoGuideOptions {
  /** One conditional for every site, or one per site name (others `'normal'`). Default `'normal'`. */
  conditionals?: StructuredConditional | Record<string, StructuredConditional>;
  /**
   * `'linear'`: every site linearly on every earlier one; or `{downstream: {upstream: 'linear'}}`.
   * Default `'linear'`.
   */
  dependencies?: 'linear' | Record<string, Record<string, 'linear'>>;
}

const CONDITIONALS: readonly StructuredConditional[] = ['normal', 'mvn', 'delta'];

/** The guide's plan: sites in a topological order, their conditionals and upstream sites. */
export interface StructuredPlan {
  order: LatentSpec[];
  cond: Map<string, StructuredConditional>;
  deps: Map<string, LatentSpec[]>;
}

/**
 * The `conditionals` and `dependencies` options, checked (site names are checked later, against
 * the model's latent sites, by {@link makeStructuredPlan}); defaults `'normal'` and `'linear'`.
 * @throws ArgumentError naming the option when it has another form.
 * @internal
 */
export function checkStructuredOptions(options: AutoStructuredOptions): {
  conditionals: StructuredConditional | Record<string, StructuredConditional>;
  dependencies: 'linear' | Record<string, Record<string, 'linear'>>;
} {
  const c = options.conditionals ?? 'normal';
  const okCond = (v: unknown): boolean => CONDITIONALS.includes(v as StructuredConditional);
  if (
    !(typeof c === 'string' && okCond(c)) &&
    !(typeof c === 'object' && c !== null && !Array.isArray(c) && Object.values(c).every(okCond))
  ) {
    throw new ArgumentError(
      'conditionals',
      `expected 'normal', 'mvn', 'delta' or {site: one of them}, got ${JSON.stringify(c)}`,
    );
  }
  const d = options.dependencies ?? 'linear';
  const okDeps =
    d === 'linear' ||
    (typeof d === 'object' &&
      d !== null &&
      !Array.isArray(d) &&
      Object.values(d).every(
        (ups) =>
          typeof ups === 'object' &&
          ups !== null &&
          !Array.isArray(ups) &&
          Object.values(ups).every((t) => t === 'linear'),
      ));
  if (!okDeps) {
    throw new ArgumentError(
      'dependencies',
      `expected 'linear' or {downstream: {upstream: 'linear'}}, got ${JSON.stringify(d)}`,
    );
  }
  return { conditionals: c, dependencies: d };
}

/**
 * The plan of the sites `specs` (in model order): each one's conditional and upstream sites,
 * `'linear'` dependencies making every site depend on every earlier one, sorted topologically.
 * @throws ArgumentError naming `conditionals` or `dependencies` for an unknown site, a
 *   self-dependency or a cycle.
 * @internal
 */
export function makeStructuredPlan(
  specs: LatentSpec[],
  conditionals: StructuredConditional | Record<string, StructuredConditional>,
  dependencies: 'linear' | Record<string, Record<string, 'linear'>>,
): StructuredPlan {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const known = specs.map((s) => s.name).join(', ');
  const cond = new Map<string, StructuredConditional>();
  const c = conditionals;
  if (typeof c !== 'string') {
    for (const k of Object.keys(c)) {
      if (!byName.has(k)) {
        throw new ArgumentError(
          'conditionals',
          `'${k}' is not a latent site of the model (sites: ${known})`,
        );
      }
    }
  }
  for (const s of specs) cond.set(s.name, typeof c === 'string' ? c : (c[s.name] ?? 'normal'));
  const deps = new Map<string, LatentSpec[]>();
  if (dependencies === 'linear') {
    specs.forEach((s, i) => deps.set(s.name, specs.slice(0, i)));
  } else {
    for (const s of specs) deps.set(s.name, []);
    for (const [down, ups] of Object.entries(dependencies)) {
      for (const up of [down, ...Object.keys(ups)]) {
        if (!byName.has(up)) {
          throw new ArgumentError(
            'dependencies',
            `'${up}' is not a latent site of the model (sites: ${known})`,
          );
        }
      }
      if (Object.hasOwn(ups, down)) {
        throw new ArgumentError('dependencies', `site '${down}' cannot depend on itself`);
      }
      deps.set(
        down,
        Object.keys(ups).map((u) => byName.get(u) as LatentSpec),
      );
    }
  }
  // Kahn's sort, the smallest (pending count, name) first as Pyro
  const pending = new Map(specs.map((s) => [s.name, deps.get(s.name)?.length ?? 0]));
  const order: LatentSpec[] = [];
  while (pending.size > 0) {
    let best: [string, number] | undefined;
    for (const [n, k] of pending) {
      if (best === undefined || k < best[1] || (k === best[1] && n < best[0])) best = [n, k];
    }
    const [name, count] = best as [string, number];
    if (count !== 0) {
      throw new ArgumentError(
        'dependencies',
        `cyclic dependency among the sites ${[...pending.keys()].join(', ')}`,
      );
    }
    pending.delete(name);
    for (const [n, ups] of deps) {
      if (pending.has(n) && ups.some((u) => u.name === name)) {
        pending.set(n, (pending.get(n) as number) - 1);
      }
    }
    order.push(byName.get(name) as LatentSpec);
  }
  return { order, cond, deps };
}
