/**
 * HMC-within-Gibbs (NumPyro's `HMCGibbs`): the latent sites split into Gibbs sites `z_g`, drawn
 * by a conditional sampler of the user's (`gibbsFn`), and the rest `z_h`, moved by an inner
 * `HMC`/`NUTS` kernel on the model conditioned on `z_g`. One transition:
 *
 * 1. `z_g ~ gibbsFn(z_g, z_h)` (given the constrained values of `z_h`: the latents and the
 *    `deterministic` sites);
 * 2. `U(z_h; z_g)` and its gradient are evaluated anew at the chain's position;
 * 3. one transition of the inner kernel on `U(. ; z_g)`, with its warmup (step size, mass matrix)
 *    adapting across transitions as it does alone.
 *
 * When `gibbsFn` draws from the exact conditional `p(z_g | z_h, data)` each step leaves the
 * posterior invariant (the correctness of `gibbsFn` is the user's responsibility, as in NumPyro).
 * The draws hold the Gibbs sites' values next to the inner sites'. A chain's state (`lastState`,
 * checkpoints) is the inner kernel's plus the Gibbs values (`ChainState.gibbs`). The chain's
 * bookkeeping is `extended_chain.ts`'s, shared with `HMCECS`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import type { ChainSetup } from './chain_setup.js';
import type { GibbsSelection } from './gibbs_sites.js';
import { GibbsTarget } from './gibbs_target.js';
import { ExtendedChainSampler, ExtendedKernel, type ExtendedStateWords } from './extended_chain.js';
import { ChainSampler } from './chain_sampler.js';
import type { HamiltonianKernel } from './kernel.js';
import { HMC } from './hmc.js';
import { NUTS } from './nuts.js';
import type { ChainRng } from './rng.js';

/**
 * A user's conditional sampler of the Gibbs sites (NumPyro's `gibbs_fn(rng_key, gibbs_sites,
 * hmc_sites)`): given a seed for its draws (e.g. `dist.sample([], seed)`), the Gibbs sites'
 * current values and the other sites' constrained values, it returns a new value for every Gibbs
 * site (tensors or nested arrays of the sites' shapes). The tensors it is given are freed after
 * it returns, and so is every tensor it makes.
 */
export type GibbsFn = (sites: {
  seed: number;
  gibbsSites: Record<string, tf.Tensor>;
  hmcSites: Record<string, tf.Tensor>;
}) => Record<string, tf.Tensor | tf.TensorLike>;

/** Options of {@link HMCGibbs}. */
export interface HMCGibbsOptions {
  /** The conditional sampler of the Gibbs sites. */
  gibbsFn: GibbsFn;
  /** The latent sites `gibbsFn` draws (NumPyro's `gibbs_sites`). */
  gibbsSites: readonly string[];
}

/** How a Gibbs chain's state is described when a resumed one does not fit. */
const GIBBS_WORDS: ExtendedStateWords = {
  chain: 'a Gibbs chain',
  inner: 'inner coordinates',
  extra: 'Gibbs values',
};

/**
 * Check the inner kernel of a Gibbs kernel (before any work): an `HMC` or `NUTS` kernel over a
 * model, as NumPyro's `inner_kernel must be an HMC or NUTS sampler` (the gradient-free and
 * ensemble kernels move their chains by their own samplers, which a Gibbs chain does not run).
 */
function checkInner(inner: unknown, who: string): HamiltonianKernel {
  if (inner instanceof HMCGibbs) {
    throw new ArgumentError(
      'innerKernel',
      `${who}: the inner kernel is itself a Gibbs kernel; give it an HMC or NUTS kernel`,
    );
  }
  if (!(inner instanceof HMC || inner instanceof NUTS)) {
    const got =
      inner === null || typeof inner !== 'object'
        ? String(inner)
        : (inner as object).constructor.name;
    throw new ArgumentError(
      'innerKernel',
      `${who}: expected an HMC or NUTS kernel (NumPyro's inner_kernel), got ${got}`,
    );
  }
  if (inner.isPotential) {
    throw new ArgumentError(
      'innerKernel',
      `${who}: the inner kernel wraps a Potential; Gibbs kernels need a model (its sites are named)`,
    );
  }
  return inner;
}

/** Check a list of site names (before any work). */
export function checkSiteNames(names: unknown, who: string): string[] {
  if (
    !Array.isArray(names) ||
    names.length === 0 ||
    !names.every((n) => typeof n === 'string' && n.length > 0)
  ) {
    throw new ArgumentError(
      'gibbsSites',
      `${who}: expected a non-empty array of site names, got ${JSON.stringify(names)}`,
    );
  }
  const seen = new Set<string>();
  for (const n of names as string[]) {
    if (seen.has(n)) throw new ArgumentError('gibbsSites', `${who}: site '${n}' is named twice`);
    seen.add(n);
  }
  return [...(names as string[])];
}

/**
 * HMC-within-Gibbs kernel (NumPyro's `HMCGibbs`; see the module docs).
 *
 * @example
 * ```ts
 * // x ~ N(0, 2^2), y ~ N(0, 2^2), obs ~ N(x + y, 1): x | y, obs is Normal in closed form
 * const gibbsFn: GibbsFn = ({ seed, hmcSites }) => {
 *   const y = hmcSites.y as tf.Tensor;
 *   return { x: new Normal(tf.mul(0.8, tf.sub(1, y)), Math.sqrt(0.8)).sample([], seed) };
 * };
 * const kernel = new HMCGibbs(new NUTS(model), { gibbsFn, gibbsSites: ['x'] });
 * const mcmc = new MCMC(kernel, { numSamples: 1000, warmupSteps: 500 });
 * await mcmc.run();
 * ```
 */
export class HMCGibbs extends ExtendedKernel {
  /** The Gibbs sites as given (`DiscreteHMCGibbs`: those chosen, or all discrete ones). */
  readonly gibbsSites: readonly string[] | undefined;
  protected readonly gibbsFn: GibbsFn | undefined;
  /** The conditioned model of the chains being set up (set by {@link HMCGibbs.ownSetup}). */
  private gibbsTarget: GibbsTarget | undefined;

  /**
   * @param innerKernel an `HMC` or `NUTS` kernel over the model (its options are used as they are).
   * @param options `gibbsFn` and `gibbsSites`.
   * @throws ArgumentError naming the argument or option.
   */
  constructor(innerKernel: HamiltonianKernel, options: HMCGibbsOptions);
  /** @internal the subclasses' form: the Gibbs update is theirs. */
  constructor(innerKernel: HamiltonianKernel, options: undefined, who: string, sites?: string[]);
  constructor(
    innerKernel: HamiltonianKernel,
    options: HMCGibbsOptions | undefined,
    who = 'HMCGibbs',
    sites?: string[],
  ) {
    const inner = checkInner(innerKernel, who);
    super(inner, inner.options);
    if (options === undefined) {
      this.gibbsFn = undefined;
      this.gibbsSites = sites;
      return;
    }
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError(
        'options',
        `HMCGibbs: expected {gibbsFn, gibbsSites}, got ${String(options)}`,
      );
    }
    checkOptionKeys(options, ['gibbsFn', 'gibbsSites'], 'HMCGibbs');
    if (typeof options.gibbsFn !== 'function') {
      throw new ArgumentError(
        'gibbsFn',
        `HMCGibbs: expected a function ({seed, gibbsSites, hmcSites}) => values, got ${String(options.gibbsFn)}`,
      );
    }
    this.gibbsFn = options.gibbsFn;
    this.gibbsSites = checkSiteNames(options.gibbsSites, 'HMCGibbs');
    const fm = inner.options.fullMass;
    const named = Array.isArray(fm)
      ? fm.flat().find((n) => this.gibbsSites?.includes(n))
      : undefined;
    if (named !== undefined) {
      throw new ArgumentError(
        'fullMass',
        `HMCGibbs: '${named}' is a Gibbs site (drawn by gibbsFn), not moved by the inner ${inner.constructor.name} kernel, so it has no mass: blocks name the inner kernel's sites`,
      );
    }
  }

  /** Which sites the chains update by Gibbs steps. @internal */
  protected selection(): GibbsSelection {
    return { kind: 'named', names: this.gibbsSites ?? [], who: 'HMCGibbs' };
  }

  /** The options a checkpoint's fingerprint records besides the inner kernel's. @internal */
  gibbsOptions(): Record<string, unknown> {
    return { gibbsSites: this.gibbsSites === undefined ? null : [...this.gibbsSites] };
  }

  override ownSetup(rng: ChainRng, args: unknown[]): ChainSetup {
    const r = GibbsTarget.setup(
      this.target as (...a: unknown[]) => unknown,
      args,
      this.selection(),
      this.initStrategy,
      rng,
      this.maxPlateNesting,
      this.compile,
    );
    this.bindInnerLayout(r.setup.sites, r.target.hmcDim, `a Gibbs site of ${this.selection().who}`);
    this.gibbsTarget = r.target;
    return r.setup;
  }

  private requireTarget(): GibbsTarget {
    if (this.gibbsTarget === undefined) {
      throw new ArgumentError('kernel', 'HMCGibbs: the chain is not set up (run it through MCMC)');
    }
    return this.gibbsTarget;
  }

  /** A chain at the extended position `x0 = [z_h, z_g]`. */
  override chain(x0: Float64Array, numWarmup: number, rng: ChainRng): ChainSampler {
    return this.sampler(x0, numWarmup, rng, this.requireTarget());
  }

  /** A chain's sampler (`MixedHMC` has its own). @internal */
  protected sampler(
    x0: Float64Array,
    numWarmup: number,
    rng: ChainRng,
    t: GibbsTarget,
  ): GibbsChainSampler {
    return new GibbsChainSampler(this, this.opts, x0, numWarmup, rng, t);
  }

  /** The inner and Gibbs dimensions of the chains being set up. @internal */
  protected extendedDims(): { hmcDim: number; extraDim: number; words: ExtendedStateWords } {
    const t = this.requireTarget();
    return { hmcDim: t.hmcDim, extraDim: t.values.length, words: GIBBS_WORDS };
  }

  /**
   * The Gibbs step: new values of the Gibbs sites given the inner position `zh`, the current
   * Gibbs values `zg` and `U(zh; zg) = pe`, drawing from `rng`. Here: the user's `gibbsFn`.
   */
  gibbsStep(
    t: GibbsTarget,
    zh: Float64Array,
    zg: Float64Array,
    _pe: number,
    rng: ChainRng,
  ): Float64Array {
    const fn = this.gibbsFn as GibbsFn;
    const seed = Math.floor(rng.uniform() * 2147483647);
    const x = new Float64Array(t.dim);
    x.set(zh);
    x.set(zg, zh.length);
    const values = t.constrain(x);
    const out = zg.slice();
    tf.tidy(() => {
      const gibbsSites: Record<string, tf.Tensor> = {};
      const hmcSites: Record<string, tf.Tensor> = {};
      for (const [name, v] of values) {
        const g = t.siteByName.get(name);
        const dtype = g?.dtype === 'int32' ? 'int32' : 'float32';
        (g === undefined ? hmcSites : gibbsSites)[name] = tf.tensor(v.values, v.shape, dtype);
      }
      const r = fn({ seed, gibbsSites, hmcSites });
      if (r === null || typeof r !== 'object') {
        throw new ArgumentError(
          'gibbsFn',
          `HMCGibbs: expected gibbsFn to return {site: value}, got ${String(r)}`,
        );
      }
      for (const k of Object.keys(r)) {
        if (!t.siteByName.has(k)) {
          throw new ArgumentError(
            'gibbsFn',
            `HMCGibbs: gibbsFn returned a value for '${k}', which is not one of gibbsSites (${t.gibbsSites.map((s) => `'${s.name}'`).join(', ')})`,
          );
        }
      }
      for (const s of t.gibbsSites) {
        const v = r[s.name];
        if (v === undefined) {
          throw new ArgumentError(
            'gibbsFn',
            `HMCGibbs: gibbsFn returned no value for the Gibbs site '${s.name}' (it must return every Gibbs site)`,
          );
        }
        const data = v instanceof tf.Tensor ? v.dataSync() : tf.tensor(v).dataSync();
        if (data.length !== s.size) {
          throw new ArgumentError(
            'gibbsFn',
            `HMCGibbs: gibbsFn returned ${data.length} values for site '${s.name}', expected ${s.size} (shape [${s.shape.join(', ')}])`,
          );
        }
        out.set(data, s.offset);
      }
    });
    return out;
  }
}

/**
 * One chain of a Gibbs kernel: the inner kernel's chain over `z_h` plus the Gibbs values, drawn
 * anew by the kernel's {@link HMCGibbs.gibbsStep} before every inner transition.
 * @internal
 */
export class GibbsChainSampler extends ExtendedChainSampler {
  constructor(
    protected readonly gk: HMCGibbs,
    opts: ConstructorParameters<typeof ChainSampler>[1],
    x0: Float64Array,
    numWarmup: number,
    rng: ChainRng,
    protected readonly target: GibbsTarget,
  ) {
    super(gk, opts, x0, numWarmup, rng, target.hmcDim);
  }

  protected update(zh: Float64Array): Float64Array {
    return this.gk.gibbsStep(this.target, zh, this.gibbs, this.point.potential, this.rng);
  }
}
