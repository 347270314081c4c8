/**
 * Zero-inflated distributions (Pyro's `ZeroInflatedDistribution`): with probability `gate` the
 * value is a structural zero, otherwise it is drawn from a base count (or other scalar)
 * distribution `p_0`.
 *
 * $$P(X = 0) = g + (1 - g)\,p_0(0),\qquad P(X = x) = (1 - g)\,p_0(x)\quad (x \ne 0),$$
 *
 * computed in log space as `logaddexp(log g, log(1-g) + log p_0(0))` at zero. Mean
 * `(1 - g) mu_0`, variance `(1 - g)(sigma_0^2 + mu_0^2) - (1 - g)^2 mu_0^2`, CDF
 * `g + (1 - g) F_0(x)` for `x >= 0`. The gate is given as `{gate}` in `[0, 1]` or as
 * `{gateLogits}` `log(g / (1 - g))` (then `log g = -softplus(-l)`, `log(1-g) = -softplus(l)`).
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { ArgumentError } from '../utils/errors.js';
import { deriveSeeds } from '../utils/seed.js';
import { broadcastTo, type TensorInput } from '../utils/tensor.js';
import type { Constraint } from '../constraints/constraints.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import { eq, lt, noGrad, whereB } from './special.js';
import './expanded.js';
import './independent.js';

/** Exactly one of `gate` (probability of a structural zero) or `gateLogits` (its log-odds). */
export interface GateParams {
  /** Probability `g` in [0, 1] of a structural zero. */
  gate?: TensorInput;
  /** Log-odds `log(g / (1 - g))` of a structural zero. */
  gateLogits?: TensorInput;
}

/**
 * `base` inflated at zero by `gate`. The base distribution stays the caller's (not disposed by
 * `dispose`), except in the subclasses that build their own base.
 *
 * @example
 * ```ts
 * const d = new ZeroInflatedDistribution(new Poisson(3), { gate: 0.2 });
 * d.prob(0); // 0.2 + 0.8 e^-3
 * ```
 */
export class ZeroInflatedDistribution extends Distribution {
  /** The base distribution `p_0` (scalar event). */
  readonly base: Distribution;
  /** Probability `g` of a structural zero. */
  readonly gate: tf.Tensor;
  /** Log-odds of `g`. */
  readonly gateLogits: tf.Tensor;
  private readonly fromLogits: boolean;
  private readonly batch: number[];
  private readonly ownsBase: boolean;

  /**
   * @param base a distribution with event shape `[]` (Poisson, NegativeBinomial, ...).
   * @param gateParams `{gate}` in [0, 1] or `{gateLogits}`; the shape broadcasts with the base's
   *   batch shape.
   * @param options validation flag and name.
   */
  constructor(base: Distribution, gateParams: GateParams, options?: DistributionOptions);
  /** @internal with `ownsBase`, the base is disposed with this distribution (and on errors). */
  constructor(
    base: Distribution,
    gateParams: GateParams,
    options: DistributionOptions,
    ownsBase: boolean,
  );
  constructor(
    base: Distribution,
    gateParams: GateParams,
    options: DistributionOptions = {},
    ownsBase = false,
  ) {
    super(options);
    this.ownsBase = ownsBase;
    const fail = (name: string, msg: string): ArgumentError => {
      if (ownsBase && base instanceof Distribution) base.dispose();
      return this.constructionError(name, msg);
    };
    if (!(base instanceof Distribution)) throw fail('base', 'expected a Distribution');
    if (base.eventShape.length !== 0) {
      throw fail('base', `expected a scalar event, got [${base.eventShape.join(',')}]`);
    }
    this.base = base;
    const gp = (gateParams ?? {}) as GateParams;
    if (typeof gp !== 'object' || (gp.gate === undefined) === (gp.gateLogits === undefined)) {
      throw fail('gate/gateLogits', 'expected exactly one of gate or gateLogits');
    }
    this.fromLogits = gp.gateLogits !== undefined;
    try {
      if (this.fromLogits) {
        this.gateLogits = this.param(gp.gateLogits as TensorInput, 'gateLogits');
        this.checkInRange(this.gateLogits, 'gateLogits', -Infinity, Infinity);
        this.gate = this.own(tf.sigmoid(this.gateLogits));
      } else {
        this.gate = this.param(gp.gate as TensorInput, 'gate');
        this.checkInRange(this.gate, 'gate', 0, 1);
        this.gateLogits = this.own(
          tf.tidy(() => tf.sub(tf.log(this.gate), log1p(tf.neg(this.gate)))),
        );
      }
      this.batch = this.broadcastParams({
        base: base.batchShape,
        [this.fromLogits ? 'gateLogits' : 'gate']: this.gate.shape,
      });
    } catch (e) {
      if (ownsBase) base.dispose();
      throw e;
    }
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [];
  }
  /** The base's support. */
  override get support(): Constraint {
    return this.base.support;
  }

  /** `[log g, log(1 - g)]`, stable for either parameterization. */
  private logGatePair(): [tf.Tensor, tf.Tensor] {
    if (this.fromLogits) {
      const l = this.gateLogits;
      return [tf.neg(tf.softplus(tf.neg(l))), tf.neg(tf.softplus(l))];
    }
    return [tf.log(this.gate), log1p(tf.neg(this.gate))];
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const [sBase, sGate] = deriveSeeds(seed, 2) as [number, number];
    const full = [...shape, ...this.batch];
    const bb = this.base.batchShape;
    const x = this.base.sample(shape, sBase);
    const padded = tf.reshape(x, [
      ...shape,
      ...Array<number>(this.batch.length - bb.length).fill(1),
      ...bb,
    ]);
    const u = tf.randomUniform(full, 0, 1, 'float32', sGate);
    return whereB(lt(u, this.gate), tf.zeros(full), broadcastTo(padded, full));
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const [logG, log1mG] = this.logGatePair();
    const nonZero = tf.add(log1mG, this.base.logProb(x));
    const atZero = logAddExp(logG, nonZero);
    return whereB(eq(x, 0), atZero, nonZero);
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const f = tf.add(this.gate, tf.mul(tf.sub(1, this.gate), this.base.cdf(x)));
    return whereB(lt(x, 0), tf.scalar(0), f);
  }
  protected override _mean(): tf.Tensor {
    return broadcastTo(tf.mul(tf.sub(1, this.gate), this.base.mean()), this.batch);
  }
  protected override _variance(): tf.Tensor {
    const keep = tf.sub(1, this.gate);
    const mu = this.base.mean();
    const second = tf.mul(keep, tf.add(this.base.variance(), tf.square(mu)));
    return broadcastTo(tf.sub(second, tf.square(tf.mul(keep, mu))), this.batch);
  }

  override dispose(): void {
    super.dispose();
    // the base is unset when a constructor check fails before it is stored
    if (this.ownsBase) (this.base as Distribution | undefined)?.dispose();
  }
}

/** `log(e^a + e^b)`, `-Infinity` (not NaN) when both are `-Infinity`. */
function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  // the shift is off the tape (its value cancels); noGrad also spares tfjs's Maximum gradient,
  // which does not reduce broadcast inputs
  const m = noGrad((x, y) => tf.maximum(x as tf.Tensor, y as tf.Tensor), a, b);
  const shift = tf.where(tf.isFinite(m), m, tf.zerosLike(m));
  return tf.add(shift, tf.log(tf.add(tf.exp(tf.sub(a, shift)), tf.exp(tf.sub(b, shift)))));
}
