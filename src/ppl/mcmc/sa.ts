/**
 * Sample adaptive MCMC (Zhu 2019; NumPyro's `SA`): a gradient-free kernel whose state is a
 * population `S = {x_1, ..., x_N}` of `N = adaptStateSize` points (default `2 d`). One transition:
 *
 * 1. fit a Gaussian `q_S = N(μ_S, Σ_S)` to `S` (mean and biased covariance; dense with
 *    `denseMass`, default, else diagonal) and propose `x_{N+1} ~ q_S`;
 * 2. for every `j = 1..N+1` fit `q_{-j}` to the `N + 1` points without `x_j` and weigh
 *
 * $$\lambda_j \propto \frac{q_{-j}(x_j)}{\pi(x_j)} = q_{-j}(x_j)\, e^{U(x_j)};$$
 *
 * 3. remove `x_J`, `J ~ Categorical(λ)`: the population is again `N` points (the new point is kept
 *    unless `J = N + 1`; the acceptance statistic is `1 - λ_{N+1} / Σ λ`).
 *
 * The population is a Markov chain whose stationary law has `π` as the marginal of every point
 * (Zhu's Theorem 1); the chain's draw after each transition is one point of the population chosen
 * uniformly (NumPyro's modification). Points where `U` is not finite are removed first. The
 * population starts as `N` draws of `N(x_0, I)` around the chain's initial point; nothing else is
 * tuned, warmup lets it settle (SA needs a long warmup: NumPyro's examples use thousands). One
 * potential evaluation per transition; the cost of the fits is `O(N (N d^2 + d^3))` (dense).
 * A chain's state (`lastState`, checkpoints) holds the population and its potentials
 * (`ChainState.kernelState`; the `grad` of the state is not used, it is zero). A transition is
 * `divergent` (NumPyro's `diverging`) when the proposal's potential exceeds the current draw's by
 * more than 1000 (NumPyro's `max_delta_energy`; a potential that is not a number counts as `+∞`).
 */
import { ArgumentError } from '../../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../../utils/options.js';
import type { ChainState } from './chain_state.js';
import type { CompileMode } from './compiled_potential.js';
import type { InitStrategy } from './init.js';
import type { PotentialRequests } from './integrator.js';
import { ChainSampler, type TransitionStats } from './chain_sampler.js';
import { HamiltonianKernel, type TrajectoryResult } from './kernel.js';
import { ChainRng } from './rng.js';

/** Options of {@link SA} (NumPyro's names, camel-cased). */
export interface SAOptions {
  /** Population size `N >= 2`. Default `2 * dim` (at least 2). */
  adaptStateSize?: number;
  /** A dense Gaussian proposal (full covariance) rather than a diagonal one. Default true. */
  denseMass?: boolean;
  /** How the chain starts (default `'uniform'`). */
  initStrategy?: InitStrategy;
  /** Record and replay the model's potential (see `HamiltonianOptions.compile`). */
  compile?: CompileMode;
  /** The model's plate nesting for enumerated discrete sites. */
  maxPlateNesting?: number;
}

/** A Gaussian fitted to points: mean, `L` (dense lower Cholesky or diagonal sds) and `Σ log L_ii`. */
interface Fit {
  mean: Float64Array;
  l: Float64Array;
  logDet: number;
}

/**
 * The Gaussian fit (mean, biased covariance `(1/n) Σ (x - x̄)(x - x̄)^T`) of the points `pts`
 * except index `skip`; a dense covariance gets a jitter `1e-10 tr/d` (more if needed) on its
 * diagonal so that it factors, a diagonal one sds at least `1e-150`.
 */
export function fitGaussian(pts: Float64Array[], skip: number, dense: boolean): Fit {
  const d = (pts[0] as Float64Array).length;
  const n = pts.length - (skip >= 0 && skip < pts.length ? 1 : 0);
  const mean = new Float64Array(d);
  pts.forEach((p, j) => {
    if (j === skip) return;
    for (let i = 0; i < d; i++) mean[i] = (mean[i] as number) + (p[i] as number) / n;
  });
  if (!dense) {
    const l = new Float64Array(d);
    pts.forEach((p, j) => {
      if (j === skip) return;
      for (let i = 0; i < d; i++)
        l[i] = (l[i] as number) + ((p[i] as number) - (mean[i] as number)) ** 2 / n;
    });
    let logDet = 0;
    for (let i = 0; i < d; i++) {
      l[i] = Math.max(Math.sqrt(l[i] as number), 1e-150);
      logDet += Math.log(l[i] as number);
    }
    return { mean, l, logDet };
  }
  const cov = new Float64Array(d * d);
  pts.forEach((p, j) => {
    if (j === skip) return;
    for (let a = 0; a < d; a++) {
      const da = (p[a] as number) - (mean[a] as number);
      for (let b = 0; b <= a; b++) {
        cov[a * d + b] =
          (cov[a * d + b] as number) + (da * ((p[b] as number) - (mean[b] as number))) / n;
      }
    }
  });
  let tr = 0;
  for (let a = 0; a < d; a++) tr += cov[a * d + a] as number;
  let jitter = 1e-10 * Math.max(tr / d, 1e-300);
  for (;;) {
    const l = choleskyLower(cov, d, jitter);
    if (l !== undefined) {
      let logDet = 0;
      for (let a = 0; a < d; a++) logDet += Math.log(l[a * d + a] as number);
      return { mean, l, logDet };
    }
    jitter *= 100;
  }
}

/** The Cholesky factor of `cov + jitter I` (lower triangle of `cov` read), or undefined. */
function choleskyLower(cov: Float64Array, d: number, jitter: number): Float64Array | undefined {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = (cov[i * d + j] as number) + (i === j ? jitter : 0);
      for (let k = 0; k < j; k++) s -= (l[i * d + k] as number) * (l[j * d + k] as number);
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return undefined;
        l[i * d + i] = Math.sqrt(s);
      } else {
        l[i * d + j] = s / (l[j * d + j] as number);
      }
    }
  }
  return l;
}

/** `log q(x)` of a {@link Fit} up to the constant `-d/2 log 2π`. */
export function fitLogDensity(f: Fit, x: Float64Array, dense: boolean): number {
  const d = x.length;
  let q = 0;
  if (!dense) {
    for (let i = 0; i < d; i++)
      q += (((x[i] as number) - (f.mean[i] as number)) / (f.l[i] as number)) ** 2;
    return -0.5 * q - f.logDet;
  }
  const w = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let s = (x[i] as number) - (f.mean[i] as number);
    for (let k = 0; k < i; k++) s -= (f.l[i * d + k] as number) * (w[k] as number);
    w[i] = s / (f.l[i * d + i] as number);
    q += (w[i] as number) ** 2;
  }
  return -0.5 * q - f.logDet;
}

/** A draw of a {@link Fit}: `mean + L n`, `n ~ N(0, I)`. */
function fitSample(f: Fit, rng: ChainRng, dense: boolean): Float64Array {
  const d = f.mean.length;
  const n = rng.normals(new Float64Array(d));
  const x = f.mean.slice();
  for (let i = 0; i < d; i++) {
    if (!dense) {
      x[i] = (x[i] as number) + (f.l[i] as number) * (n[i] as number);
      continue;
    }
    let s = 0;
    for (let k = 0; k <= i; k++) s += (f.l[i * d + k] as number) * (n[k] as number);
    x[i] = (x[i] as number) + s;
  }
  return x;
}

/**
 * Sample adaptive MCMC kernel for `MCMC` (NumPyro's `SA`; see the module docs).
 *
 * @example
 * ```ts
 * const mcmc = new MCMC(new SA(model), { numSamples: 4000, warmupSteps: 4000, seed: 0 });
 * await mcmc.run(y);
 * ```
 */
export class SA extends HamiltonianKernel {
  /** The population size as given (default: `2 * dim`, set per chain). */
  readonly adaptStateSize: number | undefined;
  /** Dense (full covariance) proposals. */
  readonly denseMass: boolean;

  /**
   * @param model a model function, or a flat {@link Potential}.
   * @param options `adaptStateSize`, `denseMass`, `initStrategy`, `compile`, `maxPlateNesting`.
   * @throws ArgumentError naming the option.
   */
  constructor(model: unknown, options: SAOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `SA: expected an object, got ${String(options)}`);
    }
    checkOptionKeys(
      options,
      ['adaptStateSize', 'denseMass', 'initStrategy', 'compile', 'maxPlateNesting'],
      'SA',
    );
    const n = options.adaptStateSize;
    if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 2)) {
      throw new ArgumentError('adaptStateSize', `SA: expected an integer >= 2, got ${String(n)}`);
    }
    const dense = booleanOption(options.denseMass, 'denseMass', true);
    super(model, { ...options, adaptStepSize: false, adaptMassMatrix: false });
    this.adaptStateSize = n;
    this.denseMass = dense;
  }

  /** Not used: SA's chains move by {@link SAChainSampler.step}. @internal */
  trajectory(): PotentialRequests<TrajectoryResult> {
    throw new ArgumentError(
      'kernel',
      'SA: its chains move by population updates (run it through MCMC)',
    );
  }

  override chain(q0: Float64Array, numWarmup: number, rng: ChainRng): ChainSampler {
    return new SAChainSampler(this, this.opts, q0, numWarmup, rng);
  }

  override resumeChain(state: ChainState): ChainSampler {
    const d = state.q.length;
    const n = this.adaptStateSize ?? Math.max(2, 2 * d);
    const ks = state.kernelState;
    if (ks === undefined || ks.length !== n * (d + 1) || state.grad.length !== d) {
      throw new ArgumentError(
        'state',
        `expected the state of an SA chain with a population of ${n} points over ${d} coordinates (${n * (d + 1)} values), got ${ks === undefined ? 'none' : ks.length}`,
      );
    }
    return this.resumed(state);
  }
}

/** One chain of {@link SA}: the population and its potentials. @internal */
export class SAChainSampler extends ChainSampler {
  /** The population. */
  pop: Float64Array[] = [];
  /** `U` at each point of the population. */
  pes: number[] = [];

  constructor(
    private readonly sa: SA,
    opts: ConstructorParameters<typeof ChainSampler>[1],
    q0: Float64Array,
    numWarmup: number,
    rng: ChainRng,
  ) {
    super(sa, opts, q0, numWarmup, rng);
  }

  /** The initial point, then the population: `N` draws of `N(x_0, I)`, and a draw of it. */
  override *initialize(): PotentialRequests<void> {
    yield* super.initialize();
    const d = this.point.q.length;
    const n = this.sa.adaptStateSize ?? Math.max(2, 2 * d);
    this.pop = [];
    this.pes = [];
    for (let j = 0; j < n; j++) {
      const x = this.point.q.slice();
      for (let i = 0; i < d; i++) x[i] = (x[i] as number) + this.rng.normal();
      const { value } = yield x;
      this.pop.push(x);
      this.pes.push(Number.isFinite(value) ? value : Infinity);
    }
    this.pick();
  }

  /** The chain's draw: a point of the population chosen uniformly. */
  private pick(): void {
    const k = Math.floor(this.rng.uniform() * this.pop.length);
    const d = this.point.q.length;
    this.point = {
      q: (this.pop[k] as Float64Array).slice(),
      p: new Float64Array(d),
      potential: this.pes[k] as number,
      grad: new Float64Array(d),
    };
  }

  override *step(): PotentialRequests<TransitionStats> {
    const dense = this.sa.denseMass;
    const z = fitSample(fitGaussian(this.pop, -1, dense), this.rng, dense);
    const { value } = yield z;
    // NumPyro's `diverging`: the proposal's potential (NaN as +∞) above the current draw's by more
    // than `max_delta_energy = 1000`
    const divergent = (Number.isNaN(value) ? Infinity : value) - this.point.potential > 1000;
    const all = [...this.pop, z];
    const pes = [...this.pes, Number.isFinite(value) ? value : Infinity];
    const bad = pes.map((u, j) => (u === Infinity ? j : -1)).filter((j) => j >= 0);
    let j: number;
    let acceptStat: number;
    if (bad.length > 0) {
      // a point outside the support goes first
      j = bad[Math.floor(this.rng.uniform() * bad.length)] as number;
      acceptStat = pes[pes.length - 1] === Infinity ? 0 : 1;
    } else {
      const logW = all.map(
        (x, k) => fitLogDensity(fitGaussian(all, k, dense), x, dense) + (pes[k] as number),
      );
      const mx = Math.max(...logW);
      const w = logW.map((v) => (Number.isFinite(v) ? Math.exp(v - mx) : 0));
      const total = w.reduce((a, b) => a + b, 0);
      acceptStat = 1 - (w[w.length - 1] as number) / total;
      let u = this.rng.uniform() * total;
      j = w.length - 1;
      for (let k = 0; k < w.length; k++) {
        u -= w[k] as number;
        if (u < 0) {
          j = k;
          break;
        }
      }
    }
    all.splice(j, 1);
    pes.splice(j, 1);
    this.pop = all;
    this.pes = pes;
    this.pick();
    this.iteration_ += 1;
    return {
      acceptStat,
      stepSize: 1,
      numSteps: 1,
      treeDepth: 0,
      divergent,
      energy: this.point.potential,
      potentialEnergy: this.point.potential,
    };
  }

  override state(): ChainState {
    const d = this.point.q.length;
    const n = this.pop.length;
    const ks = new Float64Array(n * (d + 1));
    this.pop.forEach((x, j) => ks.set(x, j * d));
    ks.set(this.pes, n * d);
    return { ...super.state(), kernelState: ks };
  }

  override restore(s: ChainState): void {
    super.restore(s);
    const d = s.q.length;
    const ks = s.kernelState as Float64Array;
    const n = ks.length / (d + 1);
    this.pop = Array.from({ length: n }, (_, j) => ks.slice(j * d, (j + 1) * d));
    this.pes = Array.from(ks.subarray(n * d));
  }
}
