/**
 * Gibbs updates of discrete latents with HMC/NUTS on the continuous ones (NumPyro's
 * `DiscreteHMCGibbs`): an {@link HMCGibbs} whose Gibbs step is built in. At every transition each
 * element of each discrete Gibbs site (one scalar, or one one-hot vector), in a fresh random
 * order, gets a Metropolis-within-Gibbs update at the other values fixed, on the joint density
 * `π(k) ∝ exp(-U(z_h; z_g[e = v_k]))` over the element's support `v_0, ..., v_{K-1}`:
 *
 * - default: a Gibbs draw `k ~ π` (`K - 1` potential evaluations, always accepted);
 * - `modified` (Liu's Metropolised Gibbs): propose `k ≠ k_0` with probability
 *   `π(k) / (1 - π(k_0))`, accept with `min(1, (1 - π(k_0)) / (1 - π(k)))`;
 * - `randomWalk`: propose `k` uniformly on the support, accept with `min(1, π(k) / π(k_0))`
 *   (one evaluation); with `modified`, uniformly on the other `K - 1` values.
 *
 * Each update leaves `π` invariant, so the transition leaves the posterior invariant. The
 * discrete sites are those of the model's first run without `infer: {enumerate: 'parallel'}`
 * (those are summed out by the inner kernel, as NumPyro does), or those named by `gibbsSites`;
 * each must have a finite enumerable support (a site with an unbounded one, Poisson, Geometric,
 * is refused naming it, as NumPyro only updates sites with `has_enumerate_support`).
 */
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys, booleanOption } from '../../utils/options.js';
import type { GibbsSelection, GibbsSite } from './gibbs_sites.js';
import type { GibbsTarget } from './gibbs_target.js';
import { checkSiteNames, HMCGibbs } from './hmc_gibbs.js';
import type { HamiltonianKernel } from './kernel.js';
import type { ChainRng } from './rng.js';

/** Options of {@link DiscreteHMCGibbs} (NumPyro's names, camel-cased). */
export interface DiscreteHMCGibbsOptions {
  /** Propose uniformly on the support and accept by Metropolis (default false: Gibbs draws). */
  randomWalk?: boolean;
  /** Always propose a value other than the current one (Liu 1996). Default false. */
  modified?: boolean;
  /**
   * The discrete sites to update (default: every discrete latent not marked
   * `enumerate: 'parallel'`; the others are summed out by the inner kernel).
   */
  gibbsSites?: readonly string[];
}

/** `log Σ exp(l_j)` over `j` in `idx`. */
function logSumExp(l: Float64Array, skip: number): number {
  let m = -Infinity;
  for (let j = 0; j < l.length; j++) if (j !== skip && (l[j] as number) > m) m = l[j] as number;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let j = 0; j < l.length; j++) if (j !== skip) s += Math.exp((l[j] as number) - m);
  return m + Math.log(s);
}

/** Draw `j ≠ skip` with probability `∝ exp(l_j)` (`skip` -1: none skipped). */
function drawLogits(l: Float64Array, skip: number, rng: ChainRng): number {
  const lse = logSumExp(l, skip);
  if (lse === -Infinity) return -1;
  let u = rng.uniform();
  let last = -1;
  for (let j = 0; j < l.length; j++) {
    if (j === skip) continue;
    const p = Math.exp((l[j] as number) - lse);
    if (p > 0) last = j;
    u -= p;
    if (u < 0) return j;
  }
  return last;
}

/** Which of the site's support values the element at `base` holds (-1: none). */
function currentIndex(site: GibbsSite, z: Float64Array, base: number): number {
  const e = site.eventSize;
  const sup = site.support as Float64Array;
  for (let k = 0; k < site.numValues; k++) {
    let same = true;
    for (let i = 0; i < e && same; i++) same = sup[k * e + i] === z[base + i];
    if (same) return k;
  }
  return -1;
}

/** Discrete Gibbs with HMC/NUTS kernel (NumPyro's `DiscreteHMCGibbs`; see the module docs). */
export class DiscreteHMCGibbs extends HMCGibbs {
  readonly randomWalk: boolean;
  readonly modified: boolean;

  /**
   * @param innerKernel an `HMC` or `NUTS` kernel over the model.
   * @param options `randomWalk`, `modified`, `gibbsSites`.
   * @throws ArgumentError naming the argument or option.
   *
   * @example
   * ```ts
   * const model = (probs: tf.Tensor, locs: tf.Tensor) => {
   *   const c = sample('c', new Categorical({ probs }));
   *   sample('x', new Normal(tf.gather(locs, tf.cast(c, 'int32')), 0.5));
   * };
   * const mcmc = new MCMC(new DiscreteHMCGibbs(new NUTS(model), { modified: true }), {
   *   numSamples: 10000, warmupSteps: 1000,
   * });
   * await mcmc.run(probs, locs);
   * ```
   */
  constructor(innerKernel: HamiltonianKernel, options: DiscreteHMCGibbsOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError(
        'options',
        `DiscreteHMCGibbs: expected {randomWalk?, modified?, gibbsSites?}, got ${String(options)}`,
      );
    }
    checkOptionKeys(options, ['randomWalk', 'modified', 'gibbsSites'], 'DiscreteHMCGibbs');
    const sites =
      options.gibbsSites === undefined
        ? undefined
        : checkSiteNames(options.gibbsSites, 'DiscreteHMCGibbs');
    super(innerKernel, undefined, 'DiscreteHMCGibbs', sites);
    this.randomWalk = booleanOption(options.randomWalk, 'randomWalk', false);
    this.modified = booleanOption(options.modified, 'modified', false);
  }

  /** The kernel's name in messages. */
  protected get who(): string {
    return 'DiscreteHMCGibbs';
  }

  protected override selection(): GibbsSelection {
    return this.gibbsSites === undefined
      ? { kind: 'discrete', who: this.who }
      : { kind: 'discrete', names: this.gibbsSites, who: this.who };
  }

  override gibbsOptions(): Record<string, unknown> {
    return { ...super.gibbsOptions(), randomWalk: this.randomWalk, modified: this.modified };
  }

  /** One sweep of element updates in a random order (see the module docs). */
  override gibbsStep(
    t: GibbsTarget,
    zh: Float64Array,
    zg: Float64Array,
    pe: number,
    rng: ChainRng,
  ): Float64Array {
    const elems = discreteElements(t);
    for (let i = elems.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      const tmp = elems[i] as [GibbsSite, number];
      elems[i] = elems[j] as [GibbsSite, number];
      elems[j] = tmp;
    }
    const z = zg.slice();
    let u0 = pe;
    for (const [site, base] of elems) {
      const prop = this.propose(t, zh, z, u0, site, base, rng);
      if (prop === null) continue;
      if (prop.logAccept >= 0 || rng.uniform() < Math.exp(prop.logAccept)) {
        z.set(prop.value, base);
        u0 = prop.energy;
      }
    }
    return z;
  }

  /**
   * A proposal for the element at `base` of `site` (the Gibbs values `z`, `U = u0` there): the
   * proposed value, its energy and the log acceptance ratio (0 for a Gibbs draw); `null` when
   * there is nothing to propose (a support of one value, or no finite alternative).
   * @internal
   */
  propose(
    t: GibbsTarget,
    zh: Float64Array,
    z: Float64Array,
    u0: number,
    site: GibbsSite,
    base: number,
    rng: ChainRng,
  ): { value: Float64Array; energy: number; logAccept: number } | null {
    const K = site.numValues;
    if (K < 2) return null;
    const e = site.eventSize;
    const sup = site.support as Float64Array;
    const k0 = currentIndex(site, z, base);
    const saved = z.slice(base, base + e);
    const energyAt = (k: number): number => {
      z.set(sup.subarray(k * e, (k + 1) * e), base);
      const u = t.energy(zh, z);
      z.set(saved, base);
      return Number.isNaN(u) ? Infinity : u;
    };
    let k: number;
    let uk: number;
    let logAccept: number;
    if (this.randomWalk) {
      if (this.modified && k0 >= 0) {
        const r = Math.floor(rng.uniform() * (K - 1));
        k = r >= k0 ? r + 1 : r;
      } else {
        k = Math.floor(rng.uniform() * K);
      }
      uk = k === k0 ? u0 : energyAt(k);
      logAccept = u0 - uk;
    } else {
      const logits = new Float64Array(K);
      for (let j = 0; j < K; j++) logits[j] = j === k0 ? -u0 : -energyAt(j);
      if (this.modified && k0 >= 0) {
        k = drawLogits(logits, k0, rng);
        if (k < 0) return null;
        logAccept = logSumExp(logits, k0) - logSumExp(logits, k);
      } else {
        k = drawLogits(logits, -1, rng);
        if (k < 0) return null;
        logAccept = 0;
      }
      uk = -(logits[k] as number);
    }
    if (!Number.isFinite(uk)) return null;
    return { value: sup.slice(k * e, (k + 1) * e), energy: uk, logAccept };
  }
}

/** Every element of every discrete Gibbs site: `[site, first index in the Gibbs values]`. */
export function discreteElements(t: GibbsTarget): [GibbsSite, number][] {
  const out: [GibbsSite, number][] = [];
  for (const s of t.gibbsSites) {
    for (let b = s.offset; b < s.offset + s.size; b += s.eventSize) out.push([s, b]);
  }
  return out;
}
