/**
 * Energy-conserving subsampling HMC (Dang et al. 2019; NumPyro's `HMCECS`): HMC/NUTS on a model
 * whose data plate is subsampled (`plate('data', N, {subsampleSize: m}, (idx) => ...)`), the
 * subsample `u` (m indices drawn with replacement) being a Gibbs site of the chain. One transition:
 *
 * 1. a block update of `u` (NumPyro's `_block_update`): the `m` indices split into `numBlocks`
 *    blocks of `ceil(m / numBlocks)`; one block, chosen uniformly, gets new indices drawn
 *    uniformly from `0..N-1`; the proposal `u'` is accepted with probability
 *    `min(1, exp(U(z; u) - U(z; u')))` (a Metropolis step on `u` at fixed `z`: the proposal is
 *    symmetric, the prior on `u` uniform);
 * 2. one transition of the inner `HMC`/`NUTS` kernel on `U(. ; u)`, its warmup adapting across
 *    transitions as it does alone.
 *
 * `U(z; u)` is minus the log prior, the log-likelihood outside the subsampled plates and the
 * estimated log-likelihood of each subsampled plate (`ecs_target.ts`): without a proxy the plain
 * estimator `(N/m) Σ_{i∈u} l_i(θ)`; with {@link HMCECS.taylorProxy} the difference estimator
 * around a reference point with its variance correction (NumPyro's `perturbed` method), whose
 * variance is far smaller, so that more block updates are accepted and the chain's `θ`-marginal
 * is close to the full-data posterior. The draws hold each subsample plate's indices (a site named
 * as the plate) next to the latents. A chain's state (`lastState`, checkpoints) is the inner
 * kernel's plus the subsample indices (`ChainState.gibbs`); the chain's bookkeeping is
 * `extended_chain.ts`'s, shared with `HMCGibbs`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { initToValue } from '../init_strategy.js';
import type { ChainSetup } from './chain_setup.js';
import { subsamplePlates } from './ecs_plates.js';
import { ECSTarget } from './ecs_target.js';
import { HMC } from './hmc.js';
import { initialPoint } from './init.js';
import { ExtendedChainSampler, ExtendedKernel, type ExtendedStateWords } from './extended_chain.js';
import type { ChainSampler } from './chain_sampler.js';
import type { HamiltonianKernel } from './kernel.js';
import { NUTS } from './nuts.js';
import { ModelPotential } from './potential.js';
import { ChainRng } from './rng.js';

/** The Taylor proxy of {@link HMCECS} (plain data, compared by checkpoints' fingerprints). */
export interface TaylorProxy {
  readonly kind: 'taylor';
  /** The reference point `θ̂` (constrained values by site name), as `{shape, values}`. */
  readonly referenceParams: Readonly<Record<string, { shape: number[]; values: number[] }>>;
  /** 2: the second-order expansion (NumPyro's default); 1: first order. */
  readonly degree: 1 | 2;
}

/** How an HMCECS chain's state is described when a resumed one does not fit. */
const ECS_WORDS: ExtendedStateWords = {
  chain: 'an HMCECS chain',
  inner: 'coordinates',
  extra: 'subsample indices',
};

/** Options of {@link HMCECS}. */
export interface HMCECSOptions {
  /** Blocks the subsample is split into (one is renewed per transition). Default 1. */
  numBlocks?: number;
  /** The likelihood proxy ({@link HMCECS.taylorProxy}); default none (plain subsampling). */
  proxy?: TaylorProxy;
}

/** Draw the block update of `u` (module docs) from `rng`: new values, or `u` itself unchanged. */
export function blockUpdate(
  u: Float64Array,
  size: number,
  numBlocks: number,
  rng: ChainRng,
): Float64Array {
  const m = u.length;
  const bs = Math.ceil(m / numBlocks);
  const block = Math.min(numBlocks - 1, Math.floor(rng.uniform() * numBlocks));
  const out = u.slice();
  const end = Math.min(m, (block + 1) * bs);
  for (let j = block * bs; j < end; j++)
    out[j] = Math.min(size - 1, Math.floor(rng.uniform() * size));
  return out;
}

/**
 * Energy-conserving subsampling HMC kernel (NumPyro's `HMCECS`; see the module docs).
 *
 * @example
 * ```ts
 * const model = (x: tf.Tensor, y: tf.Tensor) => {
 *   const w = sample('w', new Normal(tf.zeros([2]), 10).toEvent(1));
 *   plate('data', 2000, { subsampleSize: 100 }, (idx) => {
 *     const xb = tf.gather(x, idx);
 *     sample('y', new Bernoulli({ logits: tf.sum(tf.mul(xb, w), -1) }), { obs: tf.gather(y, idx) });
 *   });
 * };
 * const proxy = HMCECS.taylorProxy({ w: mapEstimate });
 * const mcmc = new MCMC(new HMCECS(new NUTS(model), { numBlocks: 10, proxy }), { numSamples: 500 });
 * await mcmc.run(x, y);
 * ```
 */
export class HMCECS extends ExtendedKernel {
  readonly numBlocks: number;
  readonly proxy: TaylorProxy | undefined;
  /** The target of the chains being set up (set by {@link HMCECS.ownSetup}). */
  private ecsTarget: ECSTarget | undefined;
  /** The proxy's coefficients, computed once per run's arguments. */
  private fitted: { args: unknown[]; proxy: ECSTarget['proxy'] } | undefined;

  /**
   * The Taylor-expansion proxy of the per-datum log-likelihoods around `referenceParams`
   * (NumPyro's `HMCECS.taylor_proxy`): `q_i(θ) = l_i(θ̂) + g_i^T Δ + ½ Δ^T H_i Δ`, `Δ = θ - θ̂` in
   * the unconstrained space (`ecs_target.ts`). A good reference is the MAP point (e.g. from SVI
   * with an `AutoDelta` guide).
   * @param referenceParams the reference value of every latent site, constrained, by name.
   * @param options `degree`: 2 (default) or 1.
   * @throws ArgumentError naming the argument.
   */
  static taylorProxy(
    referenceParams: Record<string, tf.Tensor | tf.TensorLike>,
    options: { degree?: 1 | 2 } = {},
  ): TaylorProxy {
    if (
      referenceParams === null ||
      typeof referenceParams !== 'object' ||
      Array.isArray(referenceParams) ||
      referenceParams instanceof tf.Tensor ||
      Object.keys(referenceParams).length === 0
    ) {
      throw new ArgumentError(
        'referenceParams',
        `HMCECS.taylorProxy: expected {site: value} for the latent sites, got ${String(referenceParams)}`,
      );
    }
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `HMCECS.taylorProxy: expected {degree?}`);
    }
    checkOptionKeys(options, ['degree'], 'HMCECS.taylorProxy');
    const degree = options.degree ?? 2;
    if (degree !== 1 && degree !== 2) {
      throw new ArgumentError(
        'degree',
        `HMCECS.taylorProxy: expected 1 or 2, got ${String(degree)}`,
      );
    }
    const ref: Record<string, { shape: number[]; values: number[] }> = {};
    for (const [k, v] of Object.entries(referenceParams)) {
      const t = tf.tidy(() => {
        const x = v instanceof tf.Tensor ? v : tf.tensor(v);
        return { shape: [...x.shape], values: Array.from(x.dataSync()) };
      });
      if (!t.values.every(Number.isFinite)) {
        throw new ArgumentError(
          'referenceParams',
          `HMCECS.taylorProxy: the value of '${k}' is not finite`,
        );
      }
      ref[k] = t;
    }
    return { kind: 'taylor', referenceParams: ref, degree };
  }

  /**
   * @param innerKernel an `HMC` or `NUTS` kernel over the model (its options are used as they are).
   * @param options `numBlocks`, `proxy`.
   * @throws ArgumentError naming the argument or option.
   */
  constructor(innerKernel: HamiltonianKernel, options: HMCECSOptions = {}) {
    if (!(innerKernel instanceof HMC || innerKernel instanceof NUTS)) {
      throw new ArgumentError(
        'innerKernel',
        `HMCECS: expected an HMC or NUTS kernel, got ${innerKernel === null || typeof innerKernel !== 'object' ? String(innerKernel) : (innerKernel as object).constructor.name}`,
      );
    }
    if (innerKernel.isPotential) {
      throw new ArgumentError(
        'innerKernel',
        'HMCECS: the inner kernel wraps a Potential; HMCECS needs a model with a subsampled plate',
      );
    }
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError(
        'options',
        `HMCECS: expected {numBlocks?, proxy?}, got ${String(options)}`,
      );
    }
    checkOptionKeys(options, ['numBlocks', 'proxy'], 'HMCECS');
    const nb = options.numBlocks ?? 1;
    if (!Number.isInteger(nb) || nb < 1) {
      throw new ArgumentError('numBlocks', `HMCECS: expected an integer >= 1, got ${String(nb)}`);
    }
    const proxy = options.proxy;
    if (
      proxy !== undefined &&
      (proxy === null ||
        typeof proxy !== 'object' ||
        (proxy as { kind?: unknown }).kind !== 'taylor')
    ) {
      throw new ArgumentError(
        'proxy',
        `HMCECS: expected HMCECS.taylorProxy(referenceParams), got ${JSON.stringify(proxy)}`,
      );
    }
    super(innerKernel, {
      ...innerKernel.options,
      ...({
        innerKernel: innerKernel.constructor.name,
        numBlocks: nb,
        proxy: proxy ?? null,
      } as object),
    });
    this.numBlocks = nb;
    this.proxy = proxy;
  }

  override checkDriver(_numChains: number, chainMethod: string): void {
    if (chainMethod === 'parallel') {
      throw new ArgumentError(
        'chainMethod',
        "'parallel' runs chains in worker threads over a recorded potential, which HMCECS (its subsample renewed at every step, evaluated with tfjs) does not have: use chainMethod 'sequential' or 'vectorized'",
      );
    }
  }

  override ownSetup(rng: ChainRng, args: unknown[]): ChainSetup {
    const model = this.target as (...a: unknown[]) => unknown;
    const plates = subsamplePlates(model, args, Math.floor(rng.uniform() * 2147483647));
    const t = new ECSTarget(model, args, plates);
    // the first subsample: uniform indices with replacement
    plates.forEach((p, k) => {
      const u = t.indices[k] as Int32Array;
      for (let j = 0; j < u.length; j++)
        u[j] = Math.min(p.size - 1, Math.floor(rng.uniform() * p.size));
    });
    for (let attempt = 0; ; attempt++) {
      const { sites, z, enumeration } = initialPoint(
        t.estimated,
        args,
        this.initStrategy,
        rng,
        this.maxPlateNesting,
      );
      if (sites.length === 0) {
        throw new ArgumentError('model', 'HMCECS: the model has no latent sample sites');
      }
      t.mp = new ModelPotential(t.estimated, args, sites, enumeration);
      if (this.proxy !== undefined) t.proxy = this.proxyFor(t, args);
      const u0 = new Float64Array(t.dim - t.hmcDim);
      plates.forEach((p, k) => u0.set(t.indices[k] as Int32Array, p.offset));
      const x = new Float64Array(t.dim);
      x.set(z);
      x.set(u0, z.length);
      const { value, grad } = t.valueAndGrad(x);
      if ((Number.isFinite(value) && grad.every(Number.isFinite)) || attempt >= 99) {
        const layout = t.layout();
        this.bindInnerLayout(layout, t.hmcDim, "HMCECS's subsample of a plate");
        this.ecsTarget = t;
        return {
          potential: t,
          model: t,
          z: x,
          sites: layout,
          compiled: false,
          reason: 'HMCECS evaluates its subsampled potential with tfjs',
        };
      }
    }
  }

  /** The proxy's coefficients for `args` (computed at the first chain's setup). */
  private proxyFor(t: ECSTarget, args: unknown[]): NonNullable<ECSTarget['proxy']> {
    const f = this.fitted;
    if (
      f !== undefined &&
      f.proxy !== undefined &&
      f.args.length === args.length &&
      f.args.every((a, i) => a === args[i])
    ) {
      return f.proxy;
    }
    const proxy = this.proxy as TaylorProxy;
    const values: Record<string, tf.Tensor> = {};
    const sites = t.mp.sites;
    for (const s of sites) {
      const r = proxy.referenceParams[s.name];
      if (r === undefined) {
        throw new ArgumentError(
          'referenceParams',
          `HMCECS.taylorProxy: no reference value for the latent site '${s.name}' (its latent sites: ${sites.map((x) => `'${x.name}'`).join(', ')})`,
        );
      }
    }
    for (const k of Object.keys(proxy.referenceParams)) {
      if (!sites.some((s) => s.name === k)) {
        throw new ArgumentError(
          'referenceParams',
          `HMCECS.taylorProxy: '${k}' is not a latent site of the model (its latent sites: ${sites.map((x) => `'${x.name}'`).join(', ')})`,
        );
      }
    }
    let theta0: Float64Array;
    try {
      for (const [k, r] of Object.entries(proxy.referenceParams)) {
        values[k] = tf.tensor(r.values, r.shape);
      }
      theta0 = initialPoint(t.estimated, args, initToValue(values), new ChainRng(0)).z;
    } finally {
      tf.dispose(Object.values(values));
    }
    const fitted = t.fitProxy(theta0, proxy.degree);
    this.fitted = { args: [...args], proxy: fitted };
    return fitted;
  }

  private requireTarget(): ECSTarget {
    if (this.ecsTarget === undefined) {
      throw new ArgumentError('kernel', 'HMCECS: the chain is not set up (run it through MCMC)');
    }
    return this.ecsTarget;
  }

  /** A chain at the extended position `x0 = [z, u]`. */
  override chain(x0: Float64Array, numWarmup: number, rng: ChainRng): ChainSampler {
    return new ECSChainSampler(this, this.opts, x0, numWarmup, rng, this.requireTarget());
  }

  /** The latent and subsample dimensions of the chains being set up. @internal */
  protected extendedDims(): { hmcDim: number; extraDim: number; words: ExtendedStateWords } {
    const t = this.requireTarget();
    return { hmcDim: t.hmcDim, extraDim: t.dim - t.hmcDim, words: ECS_WORDS };
  }
}

/**
 * One chain of {@link HMCECS}: the inner kernel's chain over `z` plus the subsample `u`
 * (`gibbs`), renewed by a block update accepted at fixed `z` before every inner transition.
 * @internal
 */
export class ECSChainSampler extends ExtendedChainSampler {
  constructor(
    private readonly ecs: HMCECS,
    opts: ConstructorParameters<typeof ChainSampler>[1],
    x0: Float64Array,
    numWarmup: number,
    rng: ChainRng,
    private readonly target: ECSTarget,
  ) {
    super(ecs, opts, x0, numWarmup, rng, target.hmcDim);
  }

  /** The subsample indices of every plate (as numbers). */
  get u(): Float64Array {
    return this.gibbs;
  }

  /** The block update of `u` (module docs): the proposal when accepted, else `undefined`. */
  protected update(z: Float64Array): Float64Array | undefined {
    const t = this.target;
    const proposal = new Float64Array(this.gibbs.length);
    for (const p of t.plates) {
      const cur = this.gibbs.subarray(p.offset, p.offset + p.subsampleSize);
      proposal.set(blockUpdate(cur, p.size, this.ecs.numBlocks, this.rng), p.offset);
    }
    const peNew = t.energy(z, proposal);
    const logA = this.point.potential - peNew;
    const accept = Number.isFinite(peNew) && (logA >= 0 || this.rng.uniform() < Math.exp(logA));
    return accept ? proposal : undefined;
  }
}
