/**
 * `Bijector.isIncreasing` is undefined unless a subclass declares it (torch's `Transform.sign`,
 * TFP's `_is_increasing`): the old default `true` gave a decreasing user bijector a wrong CDF and
 * quantile through `TransformedDistribution` without an error. References: the float64 normal
 * CDF and quantile of @stdlib through the closed-form map `y = exp(-x)`.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import normalRef from '@stdlib/stats-base-dists-normal';
import { bijectors, distributions } from '../../src/index.js';
import { Bijector, type ForwardResult } from '../../src/bijectors/bijector.js';
import { NotDefinedError } from '../../src/utils/errors.js';
import { expectNoLeak } from '../helpers.js';

type Fn = (...a: number[]) => number;

/** `y = exp(-x)`: strictly decreasing, declared nowhere (a user's bijector). */
class NegExp extends Bijector {
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    return { y: tf.exp(tf.neg(x)), logDet: tf.neg(x) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return tf.neg(tf.log(y));
  }
}

/** The same map with its direction declared. */
class DeclaredNegExp extends NegExp {
  override get isIncreasing(): boolean {
    return false;
  }
}

describe('Bijector.isIncreasing', () => {
  it('is undefined by default: cdf/icdf of a TransformedDistribution refuse, naming it', () => {
    expect(new NegExp().isIncreasing).toBeUndefined();
    const d = new distributions.TransformedDistribution(
      new distributions.Normal(0, 1),
      new NegExp(),
    );
    for (const call of [() => d.cdf(0.5), () => d.icdf(0.3), () => d.logSurvival(0.5)]) {
      const before = tf.memory().numTensors;
      expect(call).toThrow(NotDefinedError);
      expect(call).toThrow(/isIncreasing/);
      expect(tf.memory().numTensors).toBe(before);
    }
    // the density does not need the direction
    const lp = expectNoLeak(() => d.logProb(0.5));
    const x = -Math.log(0.5);
    expect(lp).toBeAllclose([(normalRef.logpdf as Fn)(x, 0, 1) - Math.log(0.5)], { rtol: 1e-5 });
    d.dispose();
  });

  it('a declared decreasing bijector gets the CDF P(X >= -log y) and the quantile exp(-F^-1(1-p))', () => {
    const d = new distributions.TransformedDistribution(
      new distributions.Normal(0, 1),
      new DeclaredNegExp(),
    );
    const ys = [0.2, 1, 3];
    expect(expectNoLeak(() => d.cdf(ys))).toBeAllclose(
      ys.map((y) => 1 - (normalRef.cdf as Fn)(-Math.log(y), 0, 1)),
      { rtol: 1e-5, atol: 1e-7 },
    );
    const ps = [0.1, 0.5, 0.9];
    expect(expectNoLeak(() => d.icdf(ps))).toBeAllclose(
      ps.map((p) => Math.exp(-(normalRef.quantile as Fn)(1 - p, 0, 1))),
      { rtol: 1e-5 },
    );
    d.dispose();
  });

  it('the built-in monotone bijectors declare theirs', () => {
    const b = bijectors;
    for (const inc of [
      new b.Exp(),
      new b.Sigmoid(),
      new b.Softplus(),
      new b.Tanh(),
      new b.Shift(2),
      new b.Identity(),
      new b.PowerTransform(0.5),
      new b.GumbelCDF(0, 1),
      new b.Invert(new b.Exp()),
      new b.Chain([new b.ScalarAffine(-1), new b.Exp(), new b.ScalarAffine(-2)]),
    ]) {
      expect(inc.isIncreasing, inc.name).toBe(true);
      inc.dispose();
    }
    const dec = new b.Chain([new b.Exp(), new b.ScalarAffine(-1)]);
    expect(dec.isIncreasing).toBe(false);
    dec.dispose();
    // structural bijectors have no direction
    expect(new b.StickBreaking().isIncreasing).toBeUndefined();
    // a Chain with an undeclared part has none either
    expect(new b.Chain([new b.Exp(), new NegExp()]).isIncreasing).toBeUndefined();
  });
});
