/**
 * The moments of a Gaussian given as a distribution (the initial state and noise distributions
 * of {@link GaussianHMM}): a `MultivariateNormal(μ, L)` has covariance `Σ = L L^T`; a
 * `MultivariateNormalDiag(μ, s)` or a `Normal(μ, s).toEvent(1)` has `Σ = diag(s²)`; each
 * broadcast over the distribution's batch shape.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { diagMatrix } from '../utils/linalg.js';
import { Distribution } from './distribution.js';
import { Independent } from './independent.js';
import { MultivariateNormal } from './mvn.js';
import { MultivariateNormalDiag } from './mvn_diag.js';
import { Normal } from './normal.js';

/** A Gaussian given as a mean `[..., D]` and a covariance `[..., D, D]` (new tensors). */
export interface Moments {
  loc: tf.Tensor;
  cov: tf.Tensor;
}

/**
 * The mean and covariance of a `MultivariateNormal`, `MultivariateNormalDiag` or
 * `Normal(...).toEvent(1)`, broadcast over its batch shape; throws naming `name` otherwise.
 * @internal
 */
export function gaussianMoments(d: unknown, name: string, dim: number | undefined): Moments {
  if (!(d instanceof Distribution)) {
    throw new ArgumentError(name, 'expected a MultivariateNormal or a Normal(...).toEvent(1)');
  }
  const ok =
    d instanceof MultivariateNormal ||
    d instanceof MultivariateNormalDiag ||
    (d instanceof Independent && d.base instanceof Normal && d.reinterpretedBatchNdims === 1);
  if (!ok) {
    throw new ArgumentError(
      name,
      `expected a MultivariateNormal, MultivariateNormalDiag or Normal(...).toEvent(1), got ${d.name}`,
    );
  }
  const e = d.eventShape;
  if (e.length !== 1 || (dim !== undefined && e[0] !== dim)) {
    throw new ArgumentError(
      name,
      `expected event shape [${dim ?? 'D'}], got [${e.join(',')}] (${d.name})`,
    );
  }
  const full = [...d.batchShape, e[0] as number];
  return tf.tidy(() => {
    if (d instanceof MultivariateNormal) {
      const l = d.scaleTril;
      return {
        loc: tf.broadcastTo(d.loc, full),
        cov: tf.broadcastTo(tf.matMul(l, l, false, true), [...full, e[0] as number]),
      };
    }
    const { loc, scale } =
      d instanceof MultivariateNormalDiag
        ? { loc: d.loc, scale: d.scaleDiag }
        : ((d as Independent).base as Normal);
    return {
      loc: tf.broadcastTo(loc, full),
      cov: diagMatrix(tf.broadcastTo(tf.square(scale), full)),
    };
  });
}
