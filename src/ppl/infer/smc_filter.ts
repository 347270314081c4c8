/**
 * Sequential Monte Carlo filtering (Pyro's `SMCFilter`): sequential importance resampling of `N`
 * particles of a state-space model, the particles a vectorized plate (`particles`, at dim
 * `-maxPlateNesting - 1`). At each step the guide proposes `z_t ~ q(z_t | z_{t-1}, y_t)` for
 * every particle, the model is replayed at the proposal, and the log-weights accumulate in log
 * space:
 *
 * $$\log w_t^{(i)} = \log w_{t-1}^{(i)} + \log p(y_t \mid z_t^{(i)})
 *   + \log p(z_t^{(i)} \mid z_{t-1}^{(i)}) - \log q(z_t^{(i)}),$$
 *
 * (the latent sites the guide does not draw come from the model's prior and cancel: the
 * bootstrap filter), shifted so that `max_i log w = 0`. With normalized weights `w̄_i`, when
 *
 * $$\mathrm{ESS} = \frac{1}{\sum_i \bar w_i^2} < \text{essThreshold}\cdot N$$
 *
 * every state tensor is resampled by systematic resampling (one uniform `u`, particle `j` copied
 * into the slots `i` with `C_{j-1} ≤ (i + u)/N < C_j`, `C_j = Σ_{l≤j} w̄_l`; each particle is
 * copied `N w̄_j` times in expectation, so the weighted mean is kept in expectation) and the
 * log-weights are reset to 0.
 *
 * The filter also keeps the standard SMC estimate of the log marginal likelihood (Del Moral
 * 2004; Doucet & Johansen 2009), `logEvidence`: at each `init`/`step`, with the normalized
 * weights `w̄_{t-1}` before it (equal after a resampling) and the step's increments `Δ_t^{(i)}`,
 *
 * $$\log \hat p(y_{1:t}) = \log \hat p(y_{1:t-1}) + \log \sum_i \bar w_{t-1}^{(i)} e^{\Delta_t^{(i)}},$$
 *
 * `Ẑ` unbiased for `p(y_{1:t})` (its log biased down by about half its variance).
 *
 * The model and guide are objects with `init(state, ...args)` and `step(state, ...args)`
 * methods; the {@link SMCState} carries every tensor that depends on the sampled values (leading
 * dim `N`): the model writes it, the guide only reads it.
 */
import * as tf from '@tensorflow/tfjs';
import { Empirical } from '../../distributions/empirical.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { makeRng } from '../../utils/seed.js';
import { block } from '../handlers/block.js';
import { plate } from '../handlers/plate.js';
import { replay } from '../handlers/replay.js';
import { trace } from '../handlers/trace.js';
import type { Message } from '../runtime.js';
import { siteLogProb, type Trace } from '../trace.js';
import { inParticlePlateRun } from './particle_run.js';
import { SMCFailed, SMCState } from './smc_state.js';
import { systematicResample } from './systematic_resample.js';

export { SMCFailed, SMCState } from './smc_state.js';
export { systematicResample } from './systematic_resample.js';

/** Options of {@link SMCFilter}. */
export interface SMCFilterOptions {
  /** Number of particles `N >= 1` (required). */
  numParticles: number;
  /** The largest number of nested plates in the model and guide (default 0). */
  maxPlateNesting?: number;
  /** Resample when `ESS < essThreshold · N`; in `(0, 1]`, default 0.5 (Pyro's). */
  essThreshold?: number;
}

/**
 * A model or guide of {@link SMCFilter}: `init` and `step` over the state and their arguments
 * (`I` those of `init`, `S` those of `step`).
 */
export interface SMCProgram<I extends unknown[] = unknown[], S extends unknown[] = I> {
  init(state: SMCState, ...args: I): unknown;
  step(state: SMCState, ...args: S): unknown;
}

/**
 * A particle filter over a model and a proposal guide.
 *
 * @example
 * ```ts
 * const model = {
 *   init: (state: SMCState) => state.set('z', sample('z_init', new Normal(0, 1))),
 *   step: (state: SMCState, y: tf.Tensor, t: number) => {
 *     const z = sample(`z_${t}`, new Normal(tf.mul(state.get('z'), 0.9), 1));
 *     sample(`y_${t}`, new Normal(z, 0.5), { obs: y });
 *     state.set('z', z);
 *   },
 * };
 * const guide = { init: () => undefined, step: () => undefined }; // the bootstrap filter
 * const smc = new SMCFilter(model, guide, { numParticles: 1000 });
 * smc.init();
 * ys.forEach((y, t) => smc.step(y, t));
 * const { z } = smc.getEmpirical(); // z.mean(), z.variance(); dispose them
 * ```
 */
export class SMCFilter<I extends unknown[] = unknown[], S extends unknown[] = I> {
  readonly numParticles: number;
  readonly maxPlateNesting: number;
  readonly essThreshold: number;
  /** The particles' state. */
  readonly state: SMCState;
  /** The ESS before the last resampling decision. */
  ess: number;
  /** Number of resamplings so far. */
  numResamples = 0;
  /**
   * The SMC estimate of `log p(y_{1:t})` over the `init` and the steps so far (see the module
   * docs; 0 before `init`).
   */
  logEvidence = 0;
  private logW: Float64Array;

  /**
   * @param model an object with `init(state, ...args)` and `step(state, ...args)`.
   * @param guide the proposal, the same methods (reads the state only).
   * @param options `numParticles` (required), `maxPlateNesting`, `essThreshold`.
   * @throws ArgumentError naming `model`, `guide`, `options` or the option.
   */
  constructor(
    readonly model: SMCProgram<I, S>,
    readonly guide: SMCProgram<I, S>,
    options: SMCFilterOptions,
  ) {
    checkProgram(model, 'model');
    checkProgram(guide, 'guide');
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError(
        'options',
        `expected an object with numParticles, got ${String(options)}`,
      );
    }
    checkOptionKeys(options, ['numParticles', 'maxPlateNesting', 'essThreshold'], 'SMCFilter');
    const n = options.numParticles;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      throw new ArgumentError('numParticles', `expected an integer >= 1, got ${String(n)}`);
    }
    const mpn = options.maxPlateNesting ?? 0;
    if (typeof mpn !== 'number' || !Number.isInteger(mpn) || mpn < 0) {
      throw new ArgumentError('maxPlateNesting', `expected an integer >= 0, got ${String(mpn)}`);
    }
    const thr = options.essThreshold ?? 0.5;
    if (typeof thr !== 'number' || !(thr > 0 && thr <= 1)) {
      throw new ArgumentError('essThreshold', `expected a number in (0, 1], got ${String(thr)}`);
    }
    this.numParticles = n;
    this.maxPlateNesting = mpn;
    this.essThreshold = thr;
    this.state = new SMCState(n);
    this.logW = new Float64Array(n);
    this.ess = n;
  }

  /** The current log-weights, `max = 0` (a copy). */
  get logWeights(): Float64Array {
    return this.logW.slice();
  }

  /** Start the filter: the model's and guide's `init` (Pyro's `SMCFilter.init`). */
  init(...args: I): void {
    this.state.dispose();
    this.logW.fill(0);
    this.ess = this.numParticles;
    this.numResamples = 0;
    this.logEvidence = 0;
    this.advance('init', args);
  }

  /** One filtering step: the model's and guide's `step`, the weights, maybe a resampling. */
  step(...args: S): void {
    this.advance('step', args);
  }

  /**
   * Every state tensor as a weighted empirical distribution over the particles (Pyro's
   * `get_empirical`): `{key: Empirical([N, ...], logWeights)}`. New distributions owning copies
   * of the values: dispose them.
   */
  getEmpirical(): Record<string, Empirical> {
    const out: Record<string, Empirical> = {};
    try {
      for (const key of this.state.keys()) {
        out[key] = new OwnedEmpirical(this.state.get(key).clone(), Array.from(this.logW));
      }
    } catch (e) {
      for (const d of Object.values(out)) d.dispose();
      throw e;
    }
    return out;
  }

  /** Free the state. */
  dispose(): void {
    this.state.dispose();
  }

  private advance(method: 'init' | 'step', args: unknown[]): void {
    const n = this.numParticles;
    const increments: { name: string; inc: Float64Array }[] = [];
    try {
      let names: string[] = [];
      const values = tf.tidy(() => {
        const [guideTrace, modelTrace] = this.traces(method, args);
        const r = this.siteIncrements(guideTrace, modelTrace);
        names = r.names;
        return r.values;
      });
      const data = values.dataSync();
      values.dispose();
      names.forEach((name, s) => {
        const inc = new Float64Array(n);
        for (let i = 0; i < n; i++) inc[i] = data[s * n + i] as number;
        increments.push({ name, inc });
      });
    } finally {
      this.state.releaseRetired();
    }
    const lw = this.logW.slice();
    for (const { name, inc } of increments) {
      let max = -Infinity;
      for (let i = 0; i < n; i++) {
        lw[i] = (lw[i] as number) + (inc[i] as number);
        if (Number.isNaN(lw[i])) {
          throw new ArgumentError(name, `site '${name}' gave a NaN log-density to particle ${i}`);
        }
        max = Math.max(max, lw[i] as number);
      }
      if (!(max > -Infinity)) {
        throw new SMCFailed(`Failed to find a feasible hypothesis after site '${name}'`);
      }
    }
    let max = -Infinity;
    for (const l of lw) max = Math.max(max, l);
    // log Σ w̄_{t-1} e^Δ = lse(log w_{t-1} + Δ) - lse(log w_{t-1}); the old weights have max 0
    let before = 0;
    for (const l of this.logW) before += Math.exp(l);
    let after = 0;
    for (const l of lw) after += Math.exp(l - max);
    this.logEvidence += max + Math.log(after) - Math.log(before);
    for (let i = 0; i < n; i++) lw[i] = (lw[i] as number) - max;
    this.logW = lw;
    this.maybeResample();
  }

  /** The guide's and the replayed model's traces in the blocked particles plate. */
  private traces(method: 'init' | 'step', args: unknown[]): [Trace, Trace] {
    // init and step differ in their arguments only: called through one view
    const g = this.guide as unknown as SMCProgram<unknown[]>;
    const m = this.model as unknown as SMCProgram<unknown[]>;
    const state = this.state;
    const dim = -this.maxPlateNesting - 1;
    return block(() =>
      plate('particles', this.numParticles, { dim }, () => {
        const guideTrace = inParticlePlateRun('guide', this.numParticles, dim, () =>
          state.readOnly(
            () =>
              trace((...a: unknown[]) => g[method](state, ...a)).getTraceUntidied(...args).trace,
          ),
        );
        const replayed = replay((...a: unknown[]) => m[method](state, ...a), { trace: guideTrace });
        const modelTrace = inParticlePlateRun(
          'model',
          this.numParticles,
          dim,
          () => trace(replayed).getTraceUntidied(...args).trace,
        );
        return [guideTrace, modelTrace] as [Trace, Trace];
      }),
    )();
  }

  /**
   * Per site, the log-weight increment of each particle `[S, N]`: `log p - log q` of each latent
   * site of the guide, `log p` of each observed site of the model (untidied).
   */
  private siteIncrements(
    guideTrace: Trace,
    modelTrace: Trace,
  ): { names: string[]; values: tf.Tensor } {
    const names: string[] = [];
    const rows: tf.Tensor[] = [];
    for (const gs of guideTrace.latentSites()) {
      const ms = modelTrace.get(gs.name);
      if (ms === undefined || ms.type !== 'sample') {
        throw new ArgumentError(
          gs.name,
          `guide site '${gs.name}' is not a sample site of the model`,
        );
      }
      names.push(gs.name);
      rows.push(tf.sub(this.perParticle(ms), this.perParticle(gs)));
    }
    for (const ms of modelTrace.observedSites()) {
      names.push(ms.name);
      rows.push(this.perParticle(ms));
    }
    if (rows.length === 0) return { names, values: tf.zeros([0, this.numParticles]) };
    return { names, values: tf.stack(rows) };
  }

  /** A site's log-density summed per particle, `[N]` (untidied). */
  private perParticle(site: Message): tf.Tensor {
    const n = this.numParticles;
    const lp = siteLogProb(site);
    if (lp.rank === 0 || lp.shape[0] !== n) {
      throw new ArgumentError(
        site.name,
        `site '${site.name}' has log-density shape [${lp.shape.join(',')}], not ${n} particles ` +
          `first: the particles plate is at dim ${-this.maxPlateNesting - 1}; set ` +
          'maxPlateNesting to the largest number of nested plates',
      );
    }
    return lp.rank === 1 ? lp : tf.sum(tf.reshape(lp, [n, -1]), 1);
  }

  private maybeResample(): void {
    const n = this.numParticles;
    const w = new Float64Array(n);
    let s = 0;
    for (let i = 0; i < n; i++) {
      w[i] = Math.exp(this.logW[i] as number);
      s += w[i] as number;
    }
    let sq = 0;
    for (let i = 0; i < n; i++) {
      w[i] = (w[i] as number) / s;
      sq += (w[i] as number) ** 2;
    }
    this.ess = 1 / sq;
    // equal weights give ESS = N up to rounding: never resampled, even at essThreshold 1
    if (this.state.size === 0 || !(this.ess < this.essThreshold * n * (1 - 1e-9))) return;
    const index = systematicResample(w, makeRng()());
    this.state.resample(index);
    this.logW.fill(0);
    this.numResamples++;
  }
}

/** An {@link Empirical} that frees its samples with itself. */
class OwnedEmpirical extends Empirical {
  constructor(samples: tf.Tensor, logWeights: number[]) {
    try {
      super(samples, logWeights);
    } catch (e) {
      samples.dispose();
      throw e;
    }
    this.own(samples);
  }
}

function checkProgram(p: unknown, name: string): void {
  const o = p as { init?: unknown; step?: unknown } | null;
  if (
    o === null ||
    (typeof o !== 'object' && typeof o !== 'function') ||
    typeof o.init !== 'function' ||
    typeof o.step !== 'function'
  ) {
    throw new ArgumentError(name, 'expected an object with init(state, ...) and step(state, ...)');
  }
}
