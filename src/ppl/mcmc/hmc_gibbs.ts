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
 * checkpoints) is the inner kernel's plus the Gibbs values (`ChainState.gibbs`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import type { ChainSetup } from './chain_setup.js';
import type { ChainState } from './chain_state.js';
import { GibbsTarget, type GibbsSelection } from './gibbs_target.js';
import type { PhasePoint, PotentialRequests } from './integrator.js';
import {
  ChainSampler,
  HamiltonianKernel,
  type TrajectoryResult,
  type TransitionStats,
} from './kernel.js';
import type { Metric } from './metric.js';
import { ChainRng } from './rng.js';

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

/** Check the inner kernel of a Gibbs kernel (before any work). */
function checkInner(inner: unknown, who: string): HamiltonianKernel {
  if (!(inner instanceof HamiltonianKernel)) {
    throw new ArgumentError(
      'innerKernel',
      `${who}: expected an HMC or NUTS kernel, got ${String(inner)}`,
    );
  }
  if (inner instanceof HMCGibbs) {
    throw new ArgumentError(
      'innerKernel',
      `${who}: the inner kernel is itself a Gibbs kernel; give it an HMC or NUTS kernel`,
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
export class HMCGibbs extends HamiltonianKernel {
  /** The kernel moving the non-Gibbs sites. */
  readonly innerKernel: HamiltonianKernel;
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
    super(inner.target, inner.options);
    this.innerKernel = inner;
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
    this.gibbsTarget = r.target;
    return r.setup;
  }

  private requireTarget(): GibbsTarget {
    if (this.gibbsTarget === undefined) {
      throw new ArgumentError('kernel', 'HMCGibbs: the chain is not set up (run it through MCMC)');
    }
    return this.gibbsTarget;
  }

  *trajectory(
    z: PhasePoint,
    eps: number,
    metric: Metric,
    rng: ChainRng,
  ): PotentialRequests<TrajectoryResult> {
    return yield* this.innerKernel.trajectory(z, eps, metric, rng);
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

  /** A chain continuing from `state` (with its Gibbs values, `state.gibbs`). */
  override resumeChain(state: ChainState): ChainSampler {
    const t = this.requireTarget();
    const g = state.gibbs;
    if (g === undefined || g.length !== t.values.length || state.q.length !== t.hmcDim) {
      throw new ArgumentError(
        'state',
        `expected the state of a Gibbs chain with ${t.hmcDim} inner coordinates and ${t.values.length} Gibbs values, got ${state.q.length} and ${g === undefined ? 'none' : g.length}`,
      );
    }
    this.checkState(state);
    const x0 = new Float64Array(t.dim);
    x0.set(state.q);
    x0.set(g, state.q.length);
    const s = this.sampler(x0, state.numWarmup, ChainRng.fromState(state.rng), t);
    s.restore(state);
    return s;
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
 * One chain of a Gibbs kernel: the inner kernel's chain over `z_h` plus the Gibbs values.
 * @internal
 */
export class GibbsChainSampler extends ChainSampler {
  /** The Gibbs sites' current values. */
  gibbs: Float64Array;

  constructor(
    protected readonly gk: HMCGibbs,
    opts: ConstructorParameters<typeof ChainSampler>[1],
    x0: Float64Array,
    numWarmup: number,
    rng: ChainRng,
    protected readonly target: GibbsTarget,
  ) {
    super(gk, opts, x0.slice(0, target.hmcDim), numWarmup, rng);
    this.gibbs = x0.slice(target.hmcDim);
  }

  /** `[zh, zg]` (`zg` the chain's Gibbs values unless given). */
  protected extend(zh: Float64Array, zg: Float64Array = this.gibbs): Float64Array {
    const x = new Float64Array(zh.length + zg.length);
    x.set(zh);
    x.set(zg, zh.length);
    return x;
  }

  /**
   * The requests over `z_h` of `gen`, asked at `[z_h, z_g]` (the gradient cut back to `z_h`;
   * `zg` the chain's Gibbs values unless given).
   */
  protected *extended<T>(gen: PotentialRequests<T>, zg?: Float64Array): PotentialRequests<T> {
    let r = gen.next();
    while (r.done !== true) {
      const p = yield this.extend(r.value, zg);
      r = gen.next({ ...p, grad: p.grad.slice(0, r.value.length) });
    }
    return r.value;
  }

  override *initialize(): PotentialRequests<void> {
    yield* this.extended(super.initialize());
  }

  override *step(): PotentialRequests<TransitionStats> {
    const zh = this.point.q;
    this.gibbs = this.gk.gibbsStep(this.target, zh, this.gibbs, this.point.potential, this.rng);
    const p = yield this.extend(zh);
    this.point = { ...this.point, potential: p.value, grad: p.grad.slice(0, zh.length) };
    return yield* this.extended(super.step());
  }

  override keptPosition(): Float64Array {
    return this.extend(this.point.q);
  }

  override state(): ChainState {
    return { ...super.state(), gibbs: this.gibbs.slice() };
  }

  override restore(s: ChainState): void {
    super.restore(s);
    if (s.gibbs !== undefined) this.gibbs = s.gibbs.slice();
  }
}
