/**
 * Stochastic variational inference (Pyro's `SVI`): each `step` estimates `-ELBO` and its gradient
 * with respect to every parameter of the store the model and guide touch, and takes one
 * optimizer step.
 */
import * as tf from '@tensorflow/tfjs';
import { getParamStore } from '../param_store.js';
import { guideAndModelTraces, type Callable, type ELBOLoss } from './elbo.js';
import { ArgumentError } from '../../utils/errors.js';
import { withTapeCleanup } from '../../utils/tape.js';

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
   * @param loss an ELBO estimator ({@link TraceELBO}, {@link TraceMeanFieldELBO}).
   * @throws ArgumentError naming `model`, `guide`, `optimizer` or `loss` when it is not one.
   */
  constructor(
    readonly model: Callable<A>,
    readonly guide: Callable<A>,
    readonly optimizer: tf.Optimizer,
    readonly loss: ELBOLoss,
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
    if (
      loss === null ||
      typeof loss !== 'object' ||
      typeof (loss as Partial<ELBOLoss>).differentiableLoss !== 'function'
    ) {
      throw new ArgumentError('loss', 'expected an ELBO estimator, e.g. new TraceELBO()');
    }
  }

  /** Names of the parameters the model and guide use (found by tracing their param sites). */
  private paramNames: string[] | undefined;

  /**
   * Run model and guide once without gradients, creating their parameters, and return the names
   * of the param sites they touch (Pyro captures params with a param-only trace the same way).
   */
  private discoverParams(args: A): string[] {
    const names = new Set<string>();
    tf.tidy(() => {
      const { guideTrace, modelTrace } = guideAndModelTraces(this.model, this.guide, args);
      for (const t of [guideTrace, modelTrace])
        for (const site of t.paramSites()) names.add(site.name);
    });
    return [...names];
  }

  /**
   * One gradient step on the parameters the model and guide use; returns the `-ELBO` estimate
   * before the step. The parameters are discovered on the first step (and again whenever a step
   * creates new ones).
   */
  step(...args: A): number {
    const store = getParamStore();
    for (;;) {
      this.paramNames ??= this.discoverParams(args);
      const sizeBefore = store.size;
      const vars = store.variables(this.paramNames.filter((n) => store.has(n)));
      const f = (): tf.Scalar => this.loss.differentiableLoss(this.model, this.guide, args);
      const { value, grads } =
        vars.length > 0
          ? withTapeCleanup(() => tf.variableGrads(f, vars))
          : { value: tf.tidy(f), grads: {} as tf.NamedTensorMap };
      if (store.size !== sizeBefore) {
        // this run created parameters: find them and take the step again
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

  /** The `-ELBO` estimate without a step. */
  evaluateLoss(...args: A): number {
    const v = tf.tidy(() => this.loss.differentiableLoss(this.model, this.guide, args));
    const out = v.dataSync()[0] as number;
    v.dispose();
    return out;
  }
}
