/**
 * The stored values of a chain's kept draws: each kept unconstrained position `z^{(i)}` mapped to
 * its site values `T(z^{(i)})` (latent and `deterministic` sites, by the chain's
 * {@link Constrainer}) and laid out draw-major per site, `values[i · size + e]` element `e` of
 * draw `i`, in float32; a flat potential's draws as the one site `z` of shape `[dim]`.
 */
import type { Constrainer } from './compiled_constrain.js';

/** Per site, the shape of one draw and the draws' values (see the module docs). */
export function keptSiteValues(
  kept: readonly Float64Array[],
  model?: Constrainer,
): Map<string, { shape: number[]; values: Float32Array }> {
  const ns = kept.length;
  const perSite = new Map<string, { shape: number[]; values: Float32Array }>();
  if (ns === 0) return perSite; // warmup() keeps no draws
  if (model === undefined) {
    const dim = kept[0]?.length ?? 0;
    const a = new Float32Array(ns * dim);
    kept.forEach((z, i) => a.set(z, i * dim));
    return perSite.set('z', { shape: [dim], values: a });
  }
  kept.forEach((z, i) => {
    for (const [name, v] of model.constrain(z)) {
      let e = perSite.get(name);
      if (e === undefined) {
        e = { shape: v.shape, values: new Float32Array(ns * v.values.length) };
        perSite.set(name, e);
      }
      e.values.set(v.values, i * v.values.length);
    }
  });
  return perSite;
}
