/**
 * `ReweightedWakeSleep` (Pyro's `ReweightedWakeSleep`; Bornschein & Bengio 2015, Le et al. 2019
 * "Revisiting reweighted wake-sleep for models with stochastic control flow"): two objectives, one
 * for the model's parameters `θ` and one for the guide's `φ`, neither of which differentiates
 * through the guide's draws, so guide sites need no reparameterization (discrete guides, stochastic
 * branching). From `K` particles `z_k ~ q_φ(z | x)` (detached) with log weights
 * `ℓ_k = log p_θ(x, z_k) - log q_φ(z_k)`:
 *
 * $$\text{wake-}\theta:\quad -\log\frac1K\sum_k e^{\ell_k}
 *   \quad(\text{IWAE bound; } q \text{ held fixed}),$$
 *
 * $$\text{wake-}\phi:\quad -\sum_k \bar w_k \log q_\phi(z_k),\qquad
 *   \bar w_k = \frac{e^{\ell_k}}{\sum_j e^{\ell_j}} \ (\text{held fixed}),$$
 *
 * a self-normalized estimate of `KL(p(z | x) || q(z | x))` up to a constant, and, from `S` draws of
 * the joint `(z_s, x_s) ~ p_θ` (detached),
 *
 * $$\text{sleep-}\phi:\quad -\frac1S\sum_s \log q_\phi(z_s \mid x_s),$$
 *
 * (`E_{p(x)} KL(p(z | x) || q(z | x))` up to a constant: the CSIS objective). The guide's loss is
 * `φ-loss = ι · wake-φ + (1 - ι) · sleep-φ` with `ι = insomnia`. For {@link SVI}, the differentiable
 * loss is `wake-θ + φ-loss` (Pyro's `(wake_theta_loss + phi_loss).backward()`): its gradient in
 * `θ` is wake-θ's and in `φ` the φ-loss's.
 *
 * The sleep phase gives the guide the drawn observations `x_s`: see `guideArgs` (Pyro's
 * `observations` keyword argument of the guide).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../../utils/options.js';
import { stopGradient } from '../../utils/tensor.js';
import { withTapeCleanup } from '../../utils/tape.js';
import { replay } from '../handlers/replay.js';
import { trace } from '../handlers/trace.js';
import { getParamStore } from '../param_store.js';
import { isValidationEnabled } from '../site_validation.js';
import { Trace } from '../trace.js';
import { checkedReplay, checkModelGuideMatch } from './check.js';
import { detachSiteValue } from './detach.js';
import {
  asFn,
  guessMaxPlateNesting,
  guideAndModelTraces,
  inParticlePlate,
  type Callable,
  type ELBOLoss,
} from './elbo.js';
import { drawFromJoint, matchedGuideTrace, type GuideArgsFn } from './joint_draw.js';
import { particleLogProb } from './particle_log_prob.js';
import { inParticlePlateRun } from './particle_run.js';

/** Options of {@link ReweightedWakeSleep}. */
export interface ReweightedWakeSleepOptions {
  /** Number of guide particles `K` of the wake phases (an integer >= 2). Default 2. */
  numParticles?: number;
  /** `ι` in [0, 1]: the weight of wake-φ against sleep-φ in the guide's loss. Default 1. */
  insomnia?: number;
  /**
   * Whether the model has parameters to learn; false with `insomnia` 0 skips the wake phase (pure
   * sleep: CSIS). Default true.
   */
  modelHasParams?: boolean;
  /** Number of joint draws `S` of the sleep phase. Default `numParticles`. */
  numSleepParticles?: number;
  /** Draw the particles in one vectorized run (a plate of particles). Default true (Pyro's). */
  vectorizeParticles?: boolean;
  /** The largest number of nested plates in model and guide; default: found by one trial run. */
  maxPlateNesting?: number;
  /**
   * The sleep phase's guide arguments from the drawn observations (by site name) and the model's
   * arguments; default: each argument that is the very tensor a site observed is replaced by
   * that site's draw.
   */
  guideArgs?: (observations: Record<string, tf.Tensor>, ...args: never[]) => unknown[];
}

/** The objectives of one {@link ReweightedWakeSleep} estimate. */
export interface RWSLosses {
  /** The wake-θ loss (undefined when the wake phase is skipped: `modelHasParams` false, `insomnia` 0). */
  wakeTheta: number | undefined;
  /** The wake-φ loss (undefined when `insomnia` is 0). */
  wakePhi: number | undefined;
  /** The sleep-φ loss (undefined when `insomnia` is 1). */
  sleepPhi: number | undefined;
  /** The guide's loss `ι · wake-φ + (1 - ι) · sleep-φ`. */
  phi: number;
}

/** The objectives as tensors (untidied). */
interface LossTensors {
  wakeTheta: tf.Tensor | undefined;
  wakePhi: tf.Tensor | undefined;
  sleepPhi: tf.Tensor | undefined;
  phi: tf.Tensor;
}

/** A copy of `t` whose sample values are detached (no gradient into the draws). */
function detachedTrace(t: Trace): Trace {
  const out = new Trace();
  for (const s of t.sites()) {
    out.add(s.value === null ? s : { ...s, value: detachSiteValue(s) });
  }
  return out;
}

/**
 * Reweighted wake-sleep.
 *
 * @example
 * ```ts
 * // a Bernoulli guide site: no reparameterization needed
 * const rws = new ReweightedWakeSleep({ numParticles: 10 });
 * const svi = new SVI(model, guide, tf.train.adam(0.05), rws);
 * svi.step(x);
 * rws.loss(model, guide, x); // { wakeTheta, wakePhi, sleepPhi, phi }
 * ```
 */
export class ReweightedWakeSleep implements ELBOLoss {
  readonly numParticles: number;
  readonly insomnia: number;
  readonly modelHasParams: boolean;
  readonly numSleepParticles: number;
  readonly vectorizeParticles: boolean;
  /** The plate nesting of the model (given, or found on the first vectorized estimate). */
  protected maxPlateNesting: number | undefined;
  private readonly guideArgs: GuideArgsFn<unknown[]> | undefined;

  /**
   * @param options {@link ReweightedWakeSleepOptions}.
   * @throws ArgumentError naming an unknown option or the bad one.
   */
  constructor(options: ReweightedWakeSleepOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(
      options,
      [
        'numParticles',
        'insomnia',
        'modelHasParams',
        'numSleepParticles',
        'vectorizeParticles',
        'maxPlateNesting',
        'guideArgs',
      ],
      'ReweightedWakeSleep',
    );
    const k = options.numParticles ?? 2;
    if (!Number.isInteger(k) || k < 2) {
      throw new ArgumentError(
        'numParticles',
        `expected an integer >= 2 (self-normalized weights need several particles), got ${String(k)}`,
      );
    }
    const s = options.numSleepParticles ?? k;
    if (!Number.isInteger(s) || s < 1) {
      throw new ArgumentError('numSleepParticles', `expected an integer >= 1, got ${String(s)}`);
    }
    const i = options.insomnia ?? 1;
    if (typeof i !== 'number' || !(i >= 0 && i <= 1)) {
      throw new ArgumentError('insomnia', `expected a number in [0, 1], got ${String(i)}`);
    }
    const m = options.maxPlateNesting;
    if (m !== undefined && (!Number.isInteger(m) || m < 0)) {
      throw new ArgumentError('maxPlateNesting', `expected an integer >= 0, got ${String(m)}`);
    }
    if (options.guideArgs !== undefined && typeof options.guideArgs !== 'function') {
      throw new ArgumentError(
        'guideArgs',
        `expected a function (observations, ...args) => guide arguments, got ${typeof options.guideArgs}`,
      );
    }
    this.numParticles = k;
    this.numSleepParticles = s;
    this.insomnia = i;
    this.modelHasParams = booleanOption(options.modelHasParams, 'modelHasParams', true);
    this.vectorizeParticles = booleanOption(options.vectorizeParticles, 'vectorizeParticles', true);
    this.maxPlateNesting = m;
    this.guideArgs = options.guideArgs as GuideArgsFn<unknown[]> | undefined;
  }

  /** `[log p(x, z_k)]_k` and `[log q(z_k)]_k` of `K` detached guide particles (untidied). */
  private wakeLogWeights<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): { logJoint: tf.Tensor; logQ: tf.Tensor } {
    const K = this.numParticles;
    const validate = isValidationEnabled();
    const run = (
      m: (...a: A) => unknown,
      g: (...a: A) => unknown,
      nest: number,
    ): { guideTrace: Trace; modelTrace: Trace } => {
      const guideTrace = detachedTrace(trace(g).getTraceUntidied(...args).trace);
      const replayed = validate
        ? checkedReplay(m, guideTrace, nest)
        : replay(m, { trace: guideTrace });
      const modelTrace = trace(replayed).getTraceUntidied(...args).trace;
      if (validate) checkModelGuideMatch(modelTrace, guideTrace);
      return { guideTrace, modelTrace };
    };
    if (this.vectorizeParticles) {
      const nest = (this.maxPlateNesting ??= guessMaxPlateNesting(model, guide, args));
      const dim = -(nest + 1);
      const { guideTrace, modelTrace } = inParticlePlateRun('model', K, dim, () =>
        run(inParticlePlate(model, K, dim), inParticlePlate(guide, K, dim), nest),
      );
      return {
        logJoint: particleLogProb(modelTrace, K, dim),
        logQ: particleLogProb(guideTrace, K, dim),
      };
    }
    const lp: tf.Tensor[] = [];
    const lq: tf.Tensor[] = [];
    for (let k = 0; k < K; k++) {
      const { guideTrace, modelTrace } = run(
        asFn(model),
        asFn(guide),
        this.maxPlateNesting ?? Infinity,
      );
      lp.push(modelTrace.logProbSum());
      lq.push(guideTrace.logProbSum());
    }
    return { logJoint: tf.stack(lp), logQ: tf.stack(lq) };
  }

  /** `-(1/S) Σ_s log q(z_s | x_s)` over `S` detached joint draws (untidied). */
  private sleepPhiLoss<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Tensor {
    const S = this.numSleepParticles;
    const guideArgs = this.guideArgs as GuideArgsFn<A> | undefined;
    if (this.vectorizeParticles && S > 1) {
      const nest = (this.maxPlateNesting ??= guessMaxPlateNesting(model, guide, args));
      const dim = -(nest + 1);
      const inPlate =
        (f: (...a: A) => unknown) =>
        (...a: A): unknown =>
          inParticlePlate(f, S, dim)(...a);
      return inParticlePlateRun('model', S, dim, () => {
        const draw = drawFromJoint(model, args, inPlate);
        const g = matchedGuideTrace(guide, draw, args, guideArgs, inPlate);
        return tf.div(tf.neg(tf.sum(particleLogProb(g, S, dim))), S);
      });
    }
    let total: tf.Tensor = tf.scalar(0);
    for (let s = 0; s < S; s++) {
      const draw = drawFromJoint(model, args);
      total = tf.add(total, matchedGuideTrace(guide, draw, args, guideArgs).logProbSum());
    }
    return tf.div(tf.neg(total), S);
  }

  /** The objectives (untidied: call inside a tidy). */
  private losses<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): LossTensors {
    const iota = this.insomnia;
    let wakeTheta: tf.Tensor | undefined;
    let wakePhi: tf.Tensor | undefined;
    let sleepPhi: tf.Tensor | undefined;
    if (this.modelHasParams || iota > 0) {
      const { logJoint, logQ } = this.wakeLogWeights(model, guide, args);
      const logW = tf.sub(logJoint, stopGradient(logQ));
      const logSum = tf.logSumExp(logW);
      wakeTheta = tf.neg(tf.sub(logSum, Math.log(this.numParticles)));
      if (iota > 0) {
        const wBar = stopGradient(tf.exp(tf.sub(logW, logSum)));
        wakePhi = tf.neg(tf.sum(tf.mul(wBar, logQ)));
      }
    }
    if (iota < 1) sleepPhi = this.sleepPhiLoss(model, guide, args);
    let phi: tf.Tensor;
    if (iota === 1) phi = wakePhi as tf.Tensor;
    else if (iota === 0) phi = sleepPhi as tf.Tensor;
    else phi = tf.add(tf.mul(wakePhi as tf.Tensor, iota), tf.mul(sleepPhi as tf.Tensor, 1 - iota));
    return { wakeTheta, wakePhi, sleepPhi, phi };
  }

  /**
   * `wake-θ + φ-loss` as a scalar whose gradient is wake-θ's in the model's parameters and the
   * φ-loss's in the guide's (for {@link SVI}; call inside `tf.tidy`).
   */
  differentiableLoss<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Scalar {
    return tf.tidy(() => {
      const l = this.losses(model, guide, args);
      return (l.wakeTheta === undefined ? l.phi : tf.add(l.wakeTheta, l.phi)) as tf.Scalar;
    });
  }

  /** The objectives of one estimate, as numbers (no gradients). */
  loss<A extends unknown[]>(model: Callable<A>, guide: Callable<A>, ...args: A): RWSLosses {
    let out: RWSLosses | undefined;
    tf.tidy(() => {
      out = readLosses(this.losses(model, guide, args));
    });
    return out as unknown as RWSLosses;
  }

  /**
   * The objectives and the gradient of `wake-θ + φ-loss` in every parameter the model and guide
   * use (Pyro's `loss_and_grads`, which leaves them in `.grad`), with respect to each parameter's
   * unconstrained variable; `grads` by parameter name are new tensors: dispose them.
   */
  lossAndGrads<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    ...args: A
  ): RWSLosses & { grads: tf.NamedTensorMap } {
    const store = getParamStore();
    // create the parameters and find their names (as SVI does)
    const names = new Set<string>();
    tf.tidy(() => {
      const { guideTrace, modelTrace } = guideAndModelTraces(model, guide, args);
      for (const t of [guideTrace, modelTrace]) for (const s of t.paramSites()) names.add(s.name);
    });
    const paramNames = [...names].filter((n) => store.has(n));
    const vars = store.variables(paramNames);
    let out: RWSLosses | undefined;
    const f = (): tf.Scalar => {
      const l = this.losses(model, guide, args);
      out = readLosses(l);
      return (l.wakeTheta === undefined ? l.phi : tf.add(l.wakeTheta, l.phi)) as tf.Scalar;
    };
    if (vars.length === 0) {
      tf.tidy(f).dispose();
      return { ...(out as unknown as RWSLosses), grads: {} };
    }
    const { value, grads } = withTapeCleanup(() => tf.variableGrads(f, vars));
    value.dispose();
    // by parameter name (tfjs keys them by variable name)
    const byParam: tf.NamedTensorMap = {};
    paramNames.forEach((n, i) => {
      const g = grads[(vars[i] as tf.Variable).name];
      if (g !== undefined) byParam[n] = g;
    });
    return { ...(out as unknown as RWSLosses), grads: byParam };
  }
}

/** The numbers of the loss tensors. */
function readLosses(l: LossTensors): RWSLosses {
  const num = (t: tf.Tensor | undefined): number | undefined =>
    t === undefined ? undefined : (t.dataSync()[0] as number);
  return {
    wakeTheta: num(l.wakeTheta),
    wakePhi: num(l.wakePhi),
    sleepPhi: num(l.sleepPhi),
    phi: num(l.phi) as number,
  };
}
