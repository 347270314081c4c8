/**
 * `CSIS`, compiled sequential importance sampling (Pyro's `CSIS`; Le, Baydin & Wood 2017,
 * "Inference compilation and universal probabilistic programming"). Training ("compilation")
 * fits an amortized guide `q_φ(z | x)` to the model's posterior over every data set the model can
 * generate, by minimizing on draws `(z_b, x_b) ~ p(z, x)` from the model's joint
 *
 * $$\mathcal L(\phi) = \mathbb E_{p(x)}\big[\mathrm{KL}(p(z\mid x)\,\|\,q_\phi(z\mid x))\big] + \text{const}
 *   = -\mathbb E_{p(z, x)}\big[\log q_\phi(z \mid x)\big]
 *   \approx -\frac1B\sum_{b=1}^B \log q_\phi(z_b \mid x_b),$$
 *
 * which needs no reparameterization and no density of the model (only draws). Inference is then
 * {@link Importance} sampling with the trained guide as proposal, at the real data:
 * `log w_i = log p(x, z_i) - log q(z_i | x)`; `run(...args)` gives the weighted draws.
 *
 * The guide gets the drawn observations `x_b` in place of the data: see `guideArgs` (Pyro passes
 * them as keyword arguments named by the observed sites).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { withTapeCleanup } from '../../utils/tape.js';
import { getParamStore } from '../param_store.js';
import type { Callable } from './elbo.js';
import { Importance } from './importance.js';
import {
  drawFromJoint,
  matchedGuideTrace,
  type GuideArgsFn,
  type JointDraw,
} from './joint_draw.js';

/** Options of {@link CSIS}. */
export interface CSISOptions<A extends unknown[]> {
  /** Number of importance samples `N` drawn by `run`. Default 10. */
  numInferenceSamples?: number;
  /** Number of joint draws `B` per training step. Default 10. */
  trainingBatchSize?: number;
  /** Number of joint draws kept for {@link CSIS.validationLoss}. Default 20. */
  validationBatchSize?: number;
  /**
   * The guide's arguments from the drawn observations (by site name) and the model's arguments;
   * default: each argument that is the very tensor a site observed (or such a property of a plain
   * object argument, or element of an array argument) is replaced by that site's draw.
   */
  guideArgs?: GuideArgsFn<A>;
}

function positiveInt(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ArgumentError(name, `expected an integer >= 1, got ${String(v)}`);
  }
  return v;
}

function isCallable(f: unknown): boolean {
  return (
    typeof f === 'function' ||
    (f !== null && typeof f === 'object' && typeof (f as { call?: unknown }).call === 'function')
  );
}

/**
 * Compiled sequential importance sampling: train the guide on the model's joint, then importance
 * sample.
 *
 * @example
 * ```ts
 * const csis = new CSIS(model, guide, tf.train.adam(0.01), { numInferenceSamples: 500 });
 * for (let i = 0; i < 300; i++) csis.step(y);   // y's draws replace y in the guide's arguments
 * const res = csis.run(y);                       // an ImportanceResult
 * res.marginal('mu').mean();
 * res.dispose();
 * csis.dispose();                                // the validation batch
 * ```
 */
export class CSIS<A extends unknown[]> extends Importance<A> {
  readonly trainingBatchSize: number;
  readonly validationBatchSize: number;
  private readonly guideArgs: GuideArgsFn<A> | undefined;
  /** The kept draws of the validation batch (set by `setValidationBatch`). */
  private validationBatch: JointDraw[] | undefined;
  private paramNames: string[] | undefined;

  /**
   * @param model the model (its observed sites are drawn during training).
   * @param guide the amortized guide, the importance proposal of `run`.
   * @param optimizer a tfjs optimizer for the guide's parameters.
   * @param options {@link CSISOptions}.
   * @throws ArgumentError naming `model`, `guide`, `optimizer`, `options`, an unknown option or a
   *   bad one.
   */
  constructor(
    model: Callable<A>,
    readonly guide: Callable<A>,
    readonly optimizer: tf.Optimizer,
    options: CSISOptions<A> = {},
  ) {
    if (!isCallable(guide)) {
      throw new ArgumentError('guide', 'expected a function or an object with a call method');
    }
    if (
      optimizer === null ||
      typeof optimizer !== 'object' ||
      !(optimizer instanceof tf.Optimizer)
    ) {
      throw new ArgumentError('optimizer', 'expected a tf.Optimizer, e.g. tf.train.adam(0.01)');
    }
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(
      options,
      ['numInferenceSamples', 'trainingBatchSize', 'validationBatchSize', 'guideArgs'],
      'CSIS',
    );
    const n = positiveInt(options.numInferenceSamples, 'numInferenceSamples', 10);
    const tb = positiveInt(options.trainingBatchSize, 'trainingBatchSize', 10);
    const vb = positiveInt(options.validationBatchSize, 'validationBatchSize', 20);
    if (options.guideArgs !== undefined && typeof options.guideArgs !== 'function') {
      throw new ArgumentError(
        'guideArgs',
        `expected a function (observations, ...args) => guide arguments, got ${typeof options.guideArgs}`,
      );
    }
    super(model, { guide, numSamples: n });
    this.trainingBatchSize = tb;
    this.validationBatchSize = vb;
    this.guideArgs = options.guideArgs;
  }

  /** `-(1/B) Σ_b log q(z_b | x_b)` over `batch`, or over `B` fresh joint draws (untidied). */
  private batchLoss(args: A, batch: JointDraw[] | undefined): tf.Scalar {
    const B = batch?.length ?? this.trainingBatchSize;
    let total: tf.Tensor = tf.scalar(0);
    for (let b = 0; b < B; b++) {
      const draw = batch?.[b] ?? drawFromJoint(this.model, args);
      total = tf.add(total, matchedGuideTrace(this.guide, draw, args, this.guideArgs).logProbSum());
    }
    return tf.div(tf.neg(total), B) as tf.Scalar;
  }

  /** Create the guide's parameters and find their names (one matched run, no gradients). */
  private discoverParams(args: A): string[] {
    const names = new Set<string>();
    tf.tidy(() => {
      const g = matchedGuideTrace(
        this.guide,
        drawFromJoint(this.model, args),
        args,
        this.guideArgs,
      );
      for (const s of g.paramSites()) names.add(s.name);
    });
    return [...names];
  }

  /**
   * One gradient step of the guide's parameters on a fresh batch of `trainingBatchSize` joint
   * draws; returns the loss estimate before the step.
   */
  step(...args: A): number {
    const store = getParamStore();
    for (;;) {
      this.paramNames ??= this.discoverParams(args);
      const sizeBefore = store.size;
      const vars = store.variables(this.paramNames.filter((n) => store.has(n)));
      const f = (): tf.Scalar => this.batchLoss(args, undefined);
      const { value, grads } =
        vars.length > 0
          ? withTapeCleanup(() => tf.variableGrads(f, vars))
          : { value: tf.tidy(f), grads: {} as tf.NamedTensorMap };
      if (store.size !== sizeBefore) {
        value.dispose();
        tf.dispose(grads);
        this.paramNames = undefined;
        continue;
      }
      if (Object.keys(grads).length > 0) this.optimizer.applyGradients(grads);
      const out = value.dataSync()[0] as number;
      value.dispose();
      tf.dispose(grads);
      return out;
    }
  }

  /** The loss on a fresh batch of `trainingBatchSize` joint draws, without a step. */
  loss(...args: A): number {
    const l = tf.tidy(() => this.batchLoss(args, undefined));
    const out = l.dataSync()[0] as number;
    l.dispose();
    return out;
  }

  /**
   * Draw and keep `validationBatchSize` joint draws (replacing any earlier batch), on which
   * {@link CSIS.validationLoss} is computed.
   */
  setValidationBatch(...args: A): void {
    this.disposeValidationBatch();
    const batch: JointDraw[] = [];
    try {
      for (let i = 0; i < this.validationBatchSize; i++) {
        tf.tidy(() => {
          const d = drawFromJoint(this.model, args);
          // the draw's own tensors outlive the tidy (the originals are the caller's)
          for (const t of [...Object.values(d.latents), ...Object.values(d.observations)]) {
            tf.keep(t);
          }
          batch.push(d);
        });
      }
    } catch (e) {
      for (const d of batch) disposeDraw(d);
      throw e;
    }
    this.validationBatch = batch;
  }

  /**
   * The loss on the validation batch (drawn on the first call, then kept): a less noisy measure of
   * training progress than the step losses.
   */
  validationLoss(...args: A): number {
    if (this.validationBatch === undefined) this.setValidationBatch(...args);
    const l = tf.tidy(() => this.batchLoss(args, this.validationBatch));
    const out = l.dataSync()[0] as number;
    l.dispose();
    return out;
  }

  private disposeValidationBatch(): void {
    for (const d of this.validationBatch ?? []) disposeDraw(d);
    this.validationBatch = undefined;
  }

  /** Free the validation batch. */
  dispose(): void {
    this.disposeValidationBatch();
  }
}

function disposeDraw(d: JointDraw): void {
  tf.dispose([...Object.values(d.latents), ...Object.values(d.observations)]);
}
