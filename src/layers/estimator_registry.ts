/**
 * The variational estimators as data: one entry per estimator, naming how it samples
 * `y = op(x, W)` with `W ~ N(mu, softplus(rho)^2)` (a pure function of `estimators.ts`) and the
 * suffix of its layer classes. Everything else derives from this table: the Bayesian Dense and
 * Conv2D classes and their MOPED twins (`bayesian_classes.ts`, class names
 * `Dense<Suffix>`, `Conv<Suffix>`, `MopedDense<Suffix>`, `MopedConv<Suffix>`), the {@link Estimator}
 * type, the model zoo's Bayesian twins, DNN -> BNN conversion and the CLI's `--estimator` choices.
 *
 * For one example every estimator gives `E[y] = op(x, mu)` and `Var[y] = op(x^2, sigma^2)`;
 * they differ in how the noise is shared across a batch.
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { flipoutKernel, localReparamKernel, reparamKernel, type LinearOp } from './estimators.js';

/**
 * How an estimator applies the variational kernel to a prepared input:
 * `(x, mu, rho, op) -> y` with `W ~ N(mu, softplus(rho)^2)` and `op` the layer's linear map.
 */
export type VariationalKernel = (
  x: tf.Tensor,
  mu: tf.Tensor,
  rho: tf.Tensor,
  op: LinearOp,
) => tf.Tensor;

/** One estimator of the registry. */
export interface EstimatorSpec {
  /** Suffix of its layer class names (`Reparam` -> `DenseReparam`, `ConvReparam`, `MopedDenseReparam`, ...). */
  readonly suffix: string;
  /** Its sampling function. */
  readonly sample: VariationalKernel;
  /** One line for help texts and docs. */
  readonly description: string;
}

/**
 * The registry of variational estimators (name -> {@link EstimatorSpec}). Adding an estimator
 * is one entry here plus its sampling function; its classes are made and registered for
 * serialization from the entry.
 */
export const ESTIMATORS = {
  reparam: {
    suffix: 'Reparam',
    sample: reparamKernel,
    description: 'Bayes by Backprop: one weight sample per batch, y = op(x, mu + sigma * eps)',
  },
  local: {
    suffix: 'LocalReparam',
    sample: localReparamKernel,
    description:
      'local reparameterization: y = op(x, mu) + sqrt(op(x^2, sigma^2)) * eps per example',
  },
  flipout: {
    suffix: 'Flipout',
    sample: flipoutKernel,
    description: 'Flipout: one perturbation decorrelated per example by random signs',
  },
} as const satisfies Readonly<Record<string, EstimatorSpec>>;

/** Name of a registered estimator (`'reparam' | 'local' | 'flipout'`). */
export type Estimator = keyof typeof ESTIMATORS;

/** Names of the registered estimators, in registry order. */
export const ESTIMATOR_NAMES: readonly Estimator[] = Object.keys(ESTIMATORS) as Estimator[];

/** The estimator used when none is named: `'reparam'`. */
export const DEFAULT_ESTIMATOR: Estimator = 'reparam';

/** True when `name` is a registered estimator. */
export function isEstimator(name: unknown): name is Estimator {
  return typeof name === 'string' && Object.hasOwn(ESTIMATORS, name);
}

/**
 * `name` as an {@link Estimator}, {@link DEFAULT_ESTIMATOR} when undefined.
 * @param name the estimator name.
 * @param argument the argument name for the error.
 * @throws ArgumentError naming `argument` and the registered names otherwise.
 */
export function checkEstimator(name: unknown, argument = 'estimator'): Estimator {
  if (name === undefined) return DEFAULT_ESTIMATOR;
  if (!isEstimator(name)) {
    throw new ArgumentError(
      argument,
      `expected ${orList(ESTIMATOR_NAMES.map((n) => `'${n}'`))}, got '${String(name)}'`,
    );
  }
  return name;
}

/** `a`, `a or b`, `a, b or c`. */
function orList(items: readonly string[]): string {
  return items.length <= 1
    ? (items[0] ?? '')
    : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1] as string}`;
}
