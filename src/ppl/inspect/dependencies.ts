/**
 * `getDependencies`: the prior and posterior dependency structure of a conditioned model
 * (Pyro's `pyro.infer.inspect.get_dependencies`, after Webb et al. 2018, "Faithful inversion of
 * generative models for effective amortized inference").
 */
import { checkModelCall } from './relations.js';
import { isSampleSite, trackProvenance } from './provenance.js';

/** Site -> (site it depends on -> the plates inducing full dependencies). */
export type DependencyMap = Record<string, Record<string, Set<string>>>;

/** What {@link getDependencies} returns. */
export interface Dependencies {
  /**
   * Each latent or observed sample site -> the upstream latent sites its distribution was
   * computed from (and itself), in model order, each with the plates inducing full dependencies.
   */
  priorDependencies: DependencyMap;
  /**
   * Each latent site -> the latent or observed sites it depends on in the posterior (and itself),
   * reversed from the model order, moralized.
   */
  posteriorDependencies: DependencyMap;
}

/**
 * Infer the dependency structure of a conditioned model from one run (Pyro's
 * `get_dependencies`). The prior dependencies of a sample site `d` are the latent sites `u` in
 * the provenance of its log-density (see `getModelRelations`), with an empty set of plates, and
 * `d` itself. The posterior dependencies reverse them onto the latent sites and moralize: for
 * every site `d` and every pair of its latent parents `u1`, `u2` (with `u1` no later than `u2`
 * in reversed model order, `P(x)` the plates of `x`, `p_i` the plates of the edge `u_i -> d`)
 *
 * $$\text{post}[u_2][u_1] \mathrel{\cup}= \big(P(u_1) \cap P(u_2) \setminus P(d)\big)
 *   \cup \big(P(u_2) \cap p_1\big) \cup \big(P(u_1) \cap p_2\big)$$
 *
 * so a plate in the result means complete-bipartite (all-to-all) dependence among its members,
 * e.g. the members of `a` in `plate('p', 5, () => sample('a', ...))` observed through their sum
 * give `a: { a: {'p'}, b: {} }`. Deterministic (`Delta`) sites and masked-out observations are
 * elided; observed sites are never upstream.
 *
 * @param model the model, a synchronous function.
 * @param args its arguments.
 * @returns `{ priorDependencies, posteriorDependencies }`.
 * @example
 * ```ts
 * const model = () => {
 *   const a = sample('a', new Normal(0, 1));
 *   const b = sample('b', new LogNormal(0, 1));
 *   const c = sample('c', new Normal(a, b));
 *   sample('d', new Normal(c, 1), { obs: tf.scalar(0) });
 * };
 * getDependencies(model).posteriorDependencies;
 * // { a: { a: {}, b: {}, c: {} }, b: { b: {}, c: {} }, c: { c: {}, d: {} } }
 * ```
 */
export function getDependencies<A extends unknown[]>(
  model: (...args: A) => unknown,
  args: A = [] as unknown as A,
): Dependencies {
  checkModelCall('getDependencies', model, args, {}, []);
  return trackProvenance('getDependencies', model, args, false, (run) => {
    const sites = run.sites.filter((s) => isSampleSite(s, false));
    const observed = new Set(sites.filter((s) => s.isObserved).map((s) => s.name));
    const plates = new Map(sites.map((s) => [s.name, new Set(s.cond.map((f) => f.name))]));
    const prior = new Map<string, Map<string, Set<string>>>();
    for (const s of sites) prior.set(s.name, new Map([[s.name, new Set<string>()]]));
    for (let i = 0; i < sites.length; i++) {
      const d = sites[i]!;
      const upstreams = sites
        .slice(0, i)
        .filter((u) => !u.isObserved && u.value !== null && u.value.size > 0);
      if (upstreams.length === 0) continue;
      const prov = run.siteProvenance(d);
      for (const u of upstreams) if (prov.has(u.name)) prior.get(d.name)!.set(u.name, new Set());
    }
    // reverse onto the latent sites
    const post = new Map<string, Map<string, Set<string>>>();
    for (const s of sites) if (!observed.has(s.name)) post.set(s.name, new Map());
    for (const [d, ups] of prior) {
      for (const [u, p] of ups) if (!observed.has(u)) post.get(u)!.set(d, new Set(p));
    }
    // moralize: dependencies among the latent parents of each site
    const order = new Map(sites.map((s, i) => [s.name, sites.length - 1 - i]));
    for (const [d, ups] of prior) {
      const latent = [...ups].filter(([u]) => !observed.has(u));
      const pd = plates.get(d)!;
      for (const [u1, p1] of latent) {
        for (const [u2, p2] of latent) {
          if (order.get(u1)! > order.get(u2)!) continue;
          const row = post.get(u2)!;
          const p12 = row.get(u1) ?? new Set<string>();
          row.set(u1, p12);
          const P1 = plates.get(u1)!;
          const P2 = plates.get(u2)!;
          for (const f of P1) if (P2.has(f) && !pd.has(f)) p12.add(f);
          for (const f of p1) if (P2.has(f)) p12.add(f);
          for (const f of p2) if (P1.has(f)) p12.add(f);
        }
      }
    }
    const toRecord = (m: Map<string, Map<string, Set<string>>>): DependencyMap =>
      Object.fromEntries([...m].map(([k, v]) => [k, Object.fromEntries(v)]));
    return { priorDependencies: toRecord(prior), posteriorDependencies: toRecord(post) };
  });
}
