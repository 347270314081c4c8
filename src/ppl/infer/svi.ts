/**
 * Stochastic variational inference (Pyro's `SVI`): each `step` estimates `-ELBO` and its gradient
 * with respect to every parameter of the store the model and guide touch, and takes one
 * optimizer step.
 */
import * as tf from '@tensorflow/tfjs';
import { getParamStore } from '../param_store.js';
import { collectTraces } from '../handlers/trace.js';
import { ELBOEstimator, type Callable, type ELBOLoss } from './elbo.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { withTapeCleanup } from '../../utils/tape.js';

/** Options of {@link SVI}: gradient clipping and a learning-rate schedule. */
export interface SVIOptions {
  /**
   * Clip the gradient by its global norm over every parameter of the step (NumPyro's
   * `ClippedAdam(clip_norm)`, optax's `clip_by_global_norm`):
   * `g ← g · min(1, clipNorm / ‖g‖₂)`.
   */
  clipNorm?: number;
  /**
   * Clamp every gradient element to `[-clipValue, clipValue]` (what Pyro's `ClippedAdam(clip_norm)`
   * does).
   */
  clipValue?: number;
  /**
   * The learning rate of step `t` (0, 1, ... counted by this SVI), set on the optimizer before the
   * step (Pyro's `ExponentialLR` wrapper: `t => lr * gamma ** t`; Pyro's `ClippedAdam(lrd)`:
   * `t => lr * lrd ** (t + 1)`). The optimizer must have a `learningRate` (every `tf.train` one).
   */
  lrSchedule?: (step: number) => number;
}

function positiveOption(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
    throw new ArgumentError(name, `expected a finite number > 0, got ${String(v)}`);
  }
  return v;
}

/** `grads` clipped by value, then by global norm (new tensors; the inputs are disposed). */
function clipGradients(
  grads: tf.NamedTensorMap,
  clipValue: number | undefined,
  clipNorm: number | undefined,
): tf.NamedTensorMap {
  const names = Object.keys(grads);
  if (names.length === 0 || (clipValue === undefined && clipNorm === undefined)) return grads;
  const out = tf.tidy(() => {
    let gs = names.map((n) => grads[n] as tf.Tensor);
    if (clipValue !== undefined) gs = gs.map((g) => tf.clipByValue(g, -clipValue, clipValue));
    if (clipNorm !== undefined) {
      const sq = tf.addN(gs.map((g) => tf.sum(tf.square(g))));
      const factor = tf.minimum(1, tf.div(clipNorm, tf.sqrt(sq)));
      gs = gs.map((g) => tf.mul(g, factor));
    }
    return Object.fromEntries(names.map((n, i) => [n, gs[i] as tf.Tensor]));
  });
  tf.dispose(grads);
  return out;
}

/** The part of tfjs's engine `SVI.step` calls: `gradients(f, xs, dy, allowNoGradients)`. */
interface EngineGradients {
  gradients(
    f: () => tf.Tensor,
    xs: tf.Tensor[],
    dy: tf.Tensor | undefined,
    allowNoGradients: boolean,
  ): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
}

/** Variable names in the order each optimizer first got their gradients (see `SVI.inOrder`). */
const OPTIMIZER_ORDER = new WeakMap<tf.Optimizer, string[]>();

/** Throw naming `name` unless `f` is a function or an object with a `call` method. */
function checkCallable(f: unknown, name: string): void {
  const ok =
    typeof f === 'function' ||
    (f !== null && typeof f === 'object' && typeof (f as { call?: unknown }).call === 'function');
  if (!ok) {
    throw new ArgumentError(
      name,
      `expected a function or an object with a call method (e.g. an autoguide), got ${f === null ? 'null' : typeof f}`,
    );
  }
}

/**
 * A loss written as a plain function (Pyro's custom objectives, `SVI(model, guide, optim,
 * loss=simple_elbo)`): given the model, the guide and the step's arguments it returns a
 * differentiable scalar tensor, e.g. the one-sample `-ELBO`
 *
 * $$\hat{\mathcal L} = -\big(\log p(x, z) - \log q(z)\big),\quad z \sim q$$
 *
 * from `trace(guide)` and `trace(replay(model, {trace: guideTrace}))`. It runs inside the step's
 * `tf.tidy` and gradient tape: make tensors freely, return the scalar. The traces it makes by
 * `getTrace` are freed when it returns (do not keep them past the step).
 */
export type LossFn<A extends unknown[]> = (
  model: Callable<A>,
  guide: Callable<A>,
  ...args: A
) => tf.Scalar;

/** Wrap a loss function as an {@link ELBOLoss} whose result is checked to be a scalar tensor. */
function lossFromFunction<A extends unknown[]>(fn: LossFn<A>): ELBOLoss {
  return {
    differentiableLoss<B extends unknown[]>(
      model: Callable<B>,
      guide: Callable<B>,
      args: B,
    ): tf.Scalar {
      // the traces the function made by getTrace keep their tensors past the step's tidy: freed
      // here (the gradient tape holds its own copies of what the backward pass reads)
      const { value, traces } = collectTraces(
        () => (fn as unknown as LossFn<B>)(model, guide, ...args) as unknown,
      );
      try {
        if (!(value instanceof tf.Tensor) || value.rank !== 0) {
          const got =
            value instanceof tf.Tensor
              ? `a tensor of shape [${value.shape.join(', ')}]`
              : typeof value;
          throw new ArgumentError(
            'loss',
            `expected the loss function to return a scalar tensor (rank 0), got ${got}`,
          );
        }
        // a value one of the traces keeps (e.g. a site's log-density) outlives them as a copy
        return (value.kept ? tf.clone(value) : value) as tf.Scalar;
      } finally {
        for (const t of traces) t.dispose();
      }
    },
  };
}

/** What {@link SVI.run} returns (NumPyro's `SVIRunResult`, without the optimizer state). */
export interface SVIRunResult {
  /** The constrained parameter values after the last step, by name (the caller's tensors). */
  params: Record<string, tf.Tensor>;
  /** The loss (`-ELBO` estimate) before each step. */
  losses: number[];
}

/**
 * SVI over a model and a guide.
 *
 * @example
 * ```ts
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * for (let i = 0; i < 1000; i++) svi.step(data);
 * ```
 */
export class SVI<A extends unknown[]> {
  /**
   * @param model the model `(...args) => void`.
   * @param guide the guide, same arguments.
   * @param optimizer a tfjs optimizer (`tf.train.adam(lr)`...).
   * @param loss an ELBO estimator ({@link TraceELBO}, {@link TraceMeanFieldELBO}), or a loss
   *   function `(model, guide, ...args) => scalar` ({@link LossFn}, Pyro's custom objectives).
   * @param options gradient clipping and a learning-rate schedule ({@link SVIOptions}).
   * @throws ArgumentError naming `model`, `guide`, `optimizer`, `loss` or the option when it is
   *   not one.
   */
  constructor(
    readonly model: Callable<A>,
    readonly guide: Callable<A>,
    readonly optimizer: tf.Optimizer,
    loss: ELBOLoss | LossFn<A>,
    readonly options: SVIOptions = {},
  ) {
    checkCallable(model, 'model');
    checkCallable(guide, 'guide');
    // tf.Optimizer's instanceof reads `minimize` of its operand: test null/undefined first
    if (
      optimizer === null ||
      typeof optimizer !== 'object' ||
      !(optimizer instanceof tf.Optimizer)
    ) {
      throw new ArgumentError('optimizer', 'expected a tf.Optimizer, e.g. tf.train.adam(0.01)');
    }
    if (typeof loss === 'function') {
      this.loss = lossFromFunction(loss);
    } else if (
      loss === null ||
      typeof loss !== 'object' ||
      typeof (loss as Partial<ELBOLoss>).differentiableLoss !== 'function'
    ) {
      throw new ArgumentError(
        'loss',
        'expected an ELBO estimator, e.g. new TraceELBO(), or a function (model, guide, ...args) => scalar tensor',
      );
    } else {
      this.loss = loss;
    }
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['clipNorm', 'clipValue', 'lrSchedule'], 'SVI');
    this.clipNorm = positiveOption(options.clipNorm, 'clipNorm');
    this.clipValue = positiveOption(options.clipValue, 'clipValue');
    const sch = options.lrSchedule;
    if (sch !== undefined) {
      if (typeof sch !== 'function') {
        throw new ArgumentError(
          'lrSchedule',
          `expected a function (step) => lr, got ${typeof sch}`,
        );
      }
      if (typeof (optimizer as unknown as { learningRate?: unknown }).learningRate !== 'number') {
        throw new ArgumentError(
          'lrSchedule',
          'the optimizer has no numeric learningRate to schedule (use a tf.train optimizer)',
        );
      }
    }
  }

  /** The loss: the estimator given, or the loss function wrapped as one. */
  readonly loss: ELBOLoss;
  private readonly clipNorm: number | undefined;
  private readonly clipValue: number | undefined;
  /** Number of steps taken (the `lrSchedule`'s argument of the next step). */
  stepCount = 0;

  /** Set the scheduled learning rate of the coming step (before any work). */
  private scheduleLearningRate(): void {
    const sch = this.options.lrSchedule;
    if (sch === undefined) return;
    const lr = sch(this.stepCount);
    if (typeof lr !== 'number' || !(lr >= 0) || !Number.isFinite(lr)) {
      throw new ArgumentError(
        'lrSchedule',
        `expected a finite learning rate >= 0 at step ${this.stepCount}, got ${String(lr)}`,
      );
    }
    // SGD and momentum keep the rate as a tensor, renewed by setLearningRate; the others read
    // the field at every update (the fused Adam included)
    const opt = this.optimizer as unknown as {
      learningRate: number;
      setLearningRate?: (lr: number) => void;
    };
    if (typeof opt.setLearningRate === 'function') opt.setLearningRate(lr);
    else opt.learningRate = lr;
  }

  /** Names of the parameters the model and guide used in the steps so far. */
  private paramNames: string[] = [];

  /**
   * One gradient step on the parameters the model and guide use; returns the `-ELBO` estimate
   * before the step. As Pyro's `SVI.step` (one `loss_and_grads` under a param-capturing trace),
   * model and guide run once per step (once per particle): parameters the run creates or reads
   * for the first time (a guide's on the first step, a baseline network's read by the ELBO, those
   * of other arguments) join the variables differentiated after the run, so a step never reruns
   * the loss (side effects of the model and guide, and `TraceGraphELBO`'s decaying averages,
   * happen once a step).
   *
   * $$\theta \leftarrow \mathrm{opt}\big(\theta, \nabla_\theta \hat{\mathcal L}_{\text{surrogate}}\big),
   *   \qquad \text{returns } -\hat{\mathcal L}$$
   */
  step(...args: A): number {
    this.scheduleLearningRate();
    const store = getParamStore();
    const known = this.paramNames.filter((n) => store.has(n));
    // the variables differentiated: grown at the end of the run by the parameters it created or
    // first read (tfjs's engine reads the list after running f); a placeholder when none is known
    // yet, as the engine wants a non-empty list before the run
    const placeholder = known.length === 0 ? tf.scalar(0) : null;
    const xs: tf.Tensor[] = placeholder === null ? [] : [placeholder];
    // (a variable marked non-trainable, e.g. a frozen adopted layer, is left out as
    // tf.variableGrads does)
    const vars = store.variables(known).filter((v) => v.trainable);
    xs.push(...vars);
    const names = [...known];
    const touched = new Set<string>();
    const f = (): tf.Scalar => {
      const loss = store.trackAccess(touched, () =>
        this.loss.differentiableLoss(this.model, this.guide, args),
      );
      const added = [...touched].filter((n) => !names.includes(n) && store.has(n));
      if (added.length > 0) {
        const more = store.variables(added).filter((v) => v.trainable);
        names.push(...added);
        vars.push(...more);
        xs.push(...more);
      }
      return loss;
    };
    let value: tf.Scalar;
    let grads: tf.NamedTensorMap = {};
    try {
      const out = withTapeCleanup(() =>
        (tf.engine() as unknown as EngineGradients).gradients(f, xs, undefined, true),
      );
      value = out.value as tf.Scalar;
      const off = placeholder === null ? 0 : 1;
      vars.forEach((v, i) => {
        const g = out.grads[i + off];
        if (g !== undefined && g !== null) grads[v.name] = g;
      });
      // a gradient of the placeholder (none: it is in no computation) is freed with it
      if (off === 1) tf.dispose(out.grads[0] ?? []);
    } finally {
      placeholder?.dispose();
    }
    this.paramNames = names;
    grads = clipGradients(grads, this.clipValue, this.clipNorm);
    if (Object.keys(grads).length > 0) this.optimizer.applyGradients(this.inOrder(grads));
    const out = value.dataSync()[0] as number;
    value.dispose();
    tf.dispose(grads);
    this.stepCount++;
    return out;
  }

  /**
   * The gradients keyed in one fixed order per optimizer, `null` for a variable without a gradient
   * this step. tfjs's optimizers keep their moments by position in the gradient map
   * (`accumulatedFirstMoment[i]`), not by name, and skip a null gradient: a step that touches
   * fewer parameters than the one before (the semi-supervised VAE's supervised step has no
   * classifier) would otherwise apply one parameter's Adam moments to another (a shape error, or
   * silently wrong updates), where Pyro keeps each parameter's optimizer state by name. The order
   * belongs to the optimizer, so that two SVIs sharing one (ss_vae's auxiliary loss) agree.
   */
  private inOrder(grads: tf.NamedTensorMap): tf.NamedTensorMap {
    let order = OPTIMIZER_ORDER.get(this.optimizer);
    if (order === undefined) OPTIMIZER_ORDER.set(this.optimizer, (order = []));
    for (const n of Object.keys(grads)) if (!order.includes(n)) order.push(n);
    const out: Record<string, tf.Tensor | null> = {};
    for (const n of order) out[n] = grads[n] ?? null;
    return out as tf.NamedTensorMap;
  }

  /**
   * NumPyro's `svi.run(rng_key, num_steps, *args)`: `numSteps` calls of {@link SVI.step} (the
   * draws from the global seed stream, `setSeed`, instead of a key), then the parameters.
   *
   * $$\text{losses}_i = -\hat{\mathcal L}(\theta_i),\qquad
   *   \theta_{i+1} = \mathrm{opt}(\theta_i, \nabla_\theta \hat{\mathcal L}),\quad i < \text{numSteps}$$
   *
   * @returns `{params, losses}` (NumPyro's `SVIRunResult`): {@link SVI.getParams} after the last
   *   step (new tensors, the caller's) and the loss before each step.
   * @throws ArgumentError naming `numSteps` unless an integer >= 1, before any step.
   * @example
   * ```ts
   * const { params, losses } = svi.run(2000, data); // params.loc, losses.length === 2000
   * ```
   */
  run(numSteps: number, ...args: A): SVIRunResult {
    if (typeof numSteps !== 'number' || !Number.isInteger(numSteps) || numSteps < 1) {
      throw new ArgumentError(
        'numSteps',
        `SVI.run: expected an integer >= 1 (NumPyro's num_steps; no rng key: seed with setSeed), got ${String(numSteps)}`,
      );
    }
    const losses: number[] = [];
    for (let i = 0; i < numSteps; i++) losses.push(this.step(...args));
    return { params: this.getParams(), losses };
  }

  /**
   * NumPyro's `svi.get_params(state)`: the constrained values of the parameters the model and
   * guide used in the steps so far, by name (new tensors, the caller's; empty before a step).
   */
  getParams(): Record<string, tf.Tensor> {
    const store = getParamStore();
    const out: Record<string, tf.Tensor> = {};
    for (const n of this.paramNames) if (store.has(n)) out[n] = store.value(n);
    return out;
  }

  /**
   * The `-ELBO` estimate without a step (Pyro's `evaluate_loss`: the loss's own `loss`, which
   * only evaluates, e.g. `TraceGraphELBO` leaves its decaying-average baselines where they are).
   */
  evaluateLoss(...args: A): number {
    if (this.loss instanceof ELBOEstimator) return this.loss.loss(this.model, this.guide, ...args);
    const v = tf.tidy(() => this.loss.differentiableLoss(this.model, this.guide, args));
    const out = v.dataSync()[0] as number;
    v.dispose();
    return out;
  }
}
