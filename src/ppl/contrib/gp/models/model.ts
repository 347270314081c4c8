/**
 * The base of the GP models (Pyro's `GPModel`): inputs `X [N, F]`, outputs `y [..., N]` (or
 * none), a kernel, a mean function `m(X)`, and the three methods of Pyro's GP models: `model`
 * (a ppl model: the prior and the likelihood of `y`), `guide` (the variational part: MAP
 * hyperparameters, the posterior of the latent function) and `forward(Xnew)` (the posterior
 * predictive of `f(Xnew)`). Train with `SVI(gp.model, gp.guide, ...)` or {@link train};
 * sample hyperparameters with priors by `MCMC(new NUTS(gp.model))`.
 */
import * as tf from '@tensorflow/tfjs';
import { moduleName } from '../module_name.js';
import { Parameterized, type Mode } from '../parameterized.js';
import { Kernel, inputMatrix } from '../kernels/kernel.js';
import { ArgumentError } from '../../../../utils/errors.js';
import { checkOptionKeys } from '../../../../utils/options.js';

/** A prior mean function `m: [N, F] -> [N]` built of tfjs ops. */
export type MeanFunction = (X: tf.Tensor2D) => tf.Tensor;

/** Options shared by every GP model. */
export interface GPModelOptions {
  /** The prior mean `m(X)`, `[N, F] -> [N]`; default zero. */
  meanFunction?: MeanFunction;
  /** Added to the diagonal of kernel matrices before a Cholesky factorization. Default 1e-6. */
  jitter?: number;
  /** The module name (prefix of its parameters and sites); default the class name, unique. */
  name?: string;
}

/** Options of `forward` (the predictive). */
export interface PredictOptions {
  /** Return the full covariance `[M, M]` instead of the variances `[M]`. Default false. */
  fullCov?: boolean;
  /** Leave out the observation noise (the latent `f`'s predictive). Default true. */
  noiseless?: boolean;
}

/**
 * What `forward` returns: the pair `[mean, variance or covariance]` (Pyro's tuple: destructure
 * `const [mean, cov] = gp.forward(X)`), whose tensors are also named: `mean`, and `variance`
 * (without `fullCov`) or `cov` (with it). Dispose the two tensors once.
 */
export type GPPrediction = [tf.Tensor, tf.Tensor] & {
  mean: tf.Tensor;
  variance?: tf.Tensor;
  cov?: tf.Tensor;
};

/** The checked name of a model (options checked first). @internal */
export function modelName(options: unknown, className: string, keys: readonly string[]): string {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, ['meanFunction', 'jitter', 'name', ...keys], className);
  return moduleName((options as { name?: unknown }).name, className);
}

/** Check the predictive options. @internal */
export function predictOptions(options: unknown): { fullCov: boolean; noiseless: boolean } {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, ['fullCov', 'noiseless'], 'forward');
  const { fullCov = false, noiseless = true } = options as PredictOptions;
  if (typeof fullCov !== 'boolean') throw new ArgumentError('fullCov', 'expected a boolean');
  if (typeof noiseless !== 'boolean') throw new ArgumentError('noiseless', 'expected a boolean');
  return { fullCov, noiseless };
}

/** Finite check of a tensor's values (one host read). */
function checkFinite(t: tf.Tensor, arg: string): void {
  const d = t.dataSync();
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i] as number)) {
      throw new ArgumentError(arg, `expected finite values, got ${d[i]} at index ${i}`);
    }
  }
}

/** The base of GP models. */
export abstract class GPModel extends Parameterized {
  /** The covariance function. */
  readonly kernel: Kernel;
  /** The prior mean, or undefined for zero. */
  readonly meanFunction: MeanFunction | undefined;
  /** The diagonal jitter. */
  readonly jitter: number;
  private xData: tf.Tensor2D | undefined;
  private yData: tf.Tensor | undefined;

  protected constructor(name: string, kernel: Kernel, options: GPModelOptions) {
    super(name);
    if (!(kernel instanceof Kernel)) {
      throw new ArgumentError(
        'kernel',
        `expected a gp kernel, got ${kernel === null ? 'null' : typeof kernel}`,
      );
    }
    const { meanFunction, jitter = 1e-6 } = options;
    if (meanFunction !== undefined && typeof meanFunction !== 'function') {
      throw new ArgumentError('meanFunction', `expected a function, got ${typeof meanFunction}`);
    }
    if (typeof jitter !== 'number' || !(jitter >= 0) || !Number.isFinite(jitter)) {
      throw new ArgumentError('jitter', `expected a finite number >= 0, got ${String(jitter)}`);
    }
    this.kernel = kernel;
    this.meanFunction = meanFunction;
    this.jitter = jitter;
    // bound, so that `gp.model` / `gp.guide` can be passed to SVI and MCMC as Pyro users do
    const me = this as unknown as Record<'model' | 'guide', (...a: unknown[]) => unknown>;
    me.model = me.model.bind(this);
    me.guide = me.guide.bind(this);
  }

  /** The training inputs `[N, F]` (owned by the model). */
  get X(): tf.Tensor2D {
    if (this.xData === undefined) throw new ArgumentError('X', 'the model has no data');
    return this.xData;
  }

  /** The training outputs `[..., N]` (owned by the model), or undefined. */
  get y(): tf.Tensor | undefined {
    return this.yData;
  }

  /**
   * Set (or replace) the training data (Pyro's `set_data`); the model keeps copies.
   * @param X inputs `[N, F]` or `[N]`.
   * @param y outputs `[..., N]`, or undefined.
   * @throws ArgumentError naming `X` or `y` for wrong shapes, missing features or non-finite
   *   values.
   */
  setData(X: tf.Tensor, y?: tf.Tensor): void {
    const x = inputMatrix(X, 'X');
    let yc: tf.Tensor | undefined;
    try {
      const need = this.kernel.requiredFeatures();
      if ((x.shape[1] as number) < need) {
        throw new ArgumentError(
          'X',
          `the kernel reads ${need} features, got [${X.shape.join(',')}]`,
        );
      }
      checkFinite(x, 'X');
      if (y !== undefined && y !== null) {
        if (!(y instanceof tf.Tensor) || y.isDisposed) {
          throw new ArgumentError('y', 'expected a live tensor [..., N]');
        }
        const n = x.shape[0] as number;
        if (y.rank < 1 || y.shape[y.rank - 1] !== n) {
          throw new ArgumentError(
            'y',
            `expected [..., ${n}] (one output per row of X), got [${y.shape.join(',')}]`,
          );
        }
        checkFinite(y, 'y');
        yc = y.dtype === 'float32' ? y.clone() : tf.cast(y, 'float32');
      }
      this.checkData(x, yc);
    } catch (e) {
      x.dispose();
      yc?.dispose();
      throw e;
    }
    this.xData?.dispose();
    this.yData?.dispose();
    this.xData = x;
    this.yData = yc;
  }

  /**
   * A subclass's extra checks of new data (before it replaces the old): new inputs must have
   * the features of the inducing inputs `Xu`, when the model has them.
   */
  protected checkData(x: tf.Tensor2D, _y: tf.Tensor | undefined): void {
    if (!this.paramNames().includes('Xu')) return;
    const f = this.paramShape('Xu')[1];
    if (x.shape[1] !== f) {
      throw new ArgumentError(
        'X',
        `expected ${f} features as the inducing inputs Xu, got ${x.shape[1]}`,
      );
    }
  }

  protected override children(): Parameterized[] {
    return [this.kernel];
  }

  /** `m(X)` `[N]` (zeros without a mean function). */
  protected mean(X: tf.Tensor2D): tf.Tensor {
    const n = X.shape[0] as number;
    if (this.meanFunction === undefined) return tf.zeros([n]);
    const m = this.meanFunction(X);
    if (!(m instanceof tf.Tensor) || m.size !== n) {
      throw new ArgumentError('meanFunction', `expected a tensor of ${n} values`);
    }
    return tf.reshape(m, [n]);
  }

  /** Run `fn` in `mode` with the hyperparameters loaded once (a model or guide run). */
  protected run<T>(mode: Mode, fn: () => T): T {
    this.setMode(mode);
    this.loadSamples();
    try {
      return fn();
    } finally {
      this.clearSamples();
    }
  }

  /** Run a prediction in guide mode under one `tf.tidy`; the pair with its names. */
  protected predict(fullCov: boolean, fn: () => [tf.Tensor, tf.Tensor]): GPPrediction {
    this.setMode('guide');
    const [mean, second] = this.withLoaded(fn);
    const out = [mean, second] as GPPrediction;
    out.mean = mean;
    if (fullCov) out.cov = second;
    else out.variance = second;
    return out;
  }

  /**
   * The training outputs `y`, which a regression's predictive conditions on.
   * @throws ArgumentError naming `y` when the model has none.
   */
  protected outputs(): tf.Tensor {
    const y = this.y;
    if (y === undefined) throw new ArgumentError('y', 'forward needs training outputs (setData)');
    return y;
  }

  /**
   * The body shared by the models' `forward`: the options checked, then the model's
   * precondition (`'outputs'`: training outputs `y` are set; `'latent'`: `noiseless` is left
   * true, the predictive is of the latent `f` only), then `Xnew`; then
   * `fn(X_*, fullCov, noiseless)` runs under {@link predict} and `X_*` is freed.
   */
  protected predictAt(
    Xnew: tf.Tensor,
    options: unknown,
    needs: 'outputs' | 'latent',
    fn: (xs: tf.Tensor2D, fullCov: boolean, noiseless: boolean) => [tf.Tensor, tf.Tensor],
  ): GPPrediction {
    const { fullCov, noiseless } = predictOptions(options);
    if (needs === 'outputs') this.outputs();
    else if (!noiseless) {
      throw new ArgumentError('noiseless', 'a variational GP predicts the latent f only');
    }
    const xs = this.newInputs(Xnew);
    try {
      return this.predict(fullCov, () => fn(xs, fullCov, noiseless));
    } finally {
      xs.dispose();
    }
  }

  /**
   * The ppl model (bound: pass `gp.model` as is). With `y`: the likelihood of `y` as an
   * observed site; without: returns the prior mean and variance of `f(X)`.
   */
  abstract model(): tf.Tensor | [tf.Tensor, tf.Tensor];

  /** The guide (bound): MAP point masses of hyperparameters with priors, the latent posterior. */
  guide(): void {
    this.run('guide', () => undefined);
  }

  /**
   * The predictive of `f(Xnew)` (or `y(Xnew)` without `noiseless`) given the data: its mean and
   * its variance (or covariance with `fullCov`), new tensors.
   */
  abstract forward(Xnew: tf.Tensor, options?: PredictOptions): GPPrediction;

  /** Checked new inputs for `forward`. */
  protected newInputs(Xnew: tf.Tensor): tf.Tensor2D {
    const x = inputMatrix(Xnew, 'Xnew');
    if (x.shape[1] !== this.X.shape[1]) {
      const f = x.shape[1];
      x.dispose();
      throw new ArgumentError(
        'Xnew',
        `expected ${this.X.shape[1]} features as X, got ${f} ([${Xnew.shape.join(',')}])`,
      );
    }
    return x;
  }

  /** Free the data and remove the parameters (the kernel's and likelihood's too) from the store. */
  override dispose(): void {
    this.xData?.dispose();
    this.yData?.dispose();
    this.xData = undefined;
    this.yData = undefined;
    super.dispose();
  }
}
