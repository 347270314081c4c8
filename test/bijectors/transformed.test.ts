import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import lognormalRef from '@stdlib/stats-base-dists-lognormal';
import normalRef from '@stdlib/stats-base-dists-normal';
import { ArgumentError, NotDefinedError, NotRegisteredError } from '../../src/index.js';
import { Exp, ScalarAffine, Sigmoid, Softplus, Bijector } from '../../src/bijectors/index.js';
import type { ForwardResult } from '../../src/bijectors/index.js';
import { Normal } from '../../src/distributions/normal.js';
import { Distribution } from '../../src/distributions/distribution.js';
import { klDivergence, monteCarloKL } from '../../src/distributions/kl.js';
import { TransformedDistribution } from '../../src/distributions/transformed.js';
import { expectNoLeak } from '../helpers.js';

/** Host-side mean and variance of a flat sample. */
function moments(v: number[]): { mean: number; variance: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
  return { mean, variance };
}

describe('TransformedDistribution(Normal, Exp) is the log-normal', () => {
  const mu = [0.3, -0.5];
  const sigma = [0.6, 1.2];

  it('logProb, prob and cdf match @stdlib lognormal to 1e-5 relative', () => {
    const d = new TransformedDistribution(new Normal(mu, sigma), new Exp());
    const ys = [
      [0.5, 0.2],
      [1.3, 0.7],
      [2.9, 2.5],
    ];
    const lp = expectNoLeak(() => d.logProb(ys));
    const p = expectNoLeak(() => d.prob(ys));
    const c = expectNoLeak(() => d.cdf(ys));
    const lc = expectNoLeak(() => d.logCdf(ys));
    const s = expectNoLeak(() => d.survival(ys));
    const at = (f: (y: number, m: number, s: number) => number) =>
      ys.flatMap((row) => row.map((y, j) => f(y, mu[j] as number, sigma[j] as number)));
    expect(lp).toBeAllclose(at(lognormalRef.logpdf as never), { rtol: 1e-5 });
    expect(p).toBeAllclose(at(lognormalRef.pdf as never), { rtol: 1e-5 });
    expect(c).toBeAllclose(at(lognormalRef.cdf as never), { rtol: 1e-5 });
    expect(lc).toBeAllclose(
      at(lognormalRef.cdf as never).map((v) => Math.log(v)),
      { rtol: 1e-5 },
    );
    expect(s).toBeAllclose(
      at(lognormalRef.cdf as never).map((v) => 1 - v),
      { rtol: 1e-5 },
    );
    expect(d.batchShape).toEqual([2]);
    expect(d.eventShape).toEqual([]);
    d.distribution.dispose();
  });

  it('sample moments match the log-normal mean and variance', () => {
    const d = new TransformedDistribution(new Normal(mu, sigma), new Exp());
    const n = 100_000;
    const x = d.sample([n], 123);
    expect(x.shape).toEqual([n, 2]);
    const cols = tf.tidy(() => tf.unstack(x, 1).map((t) => Array.from(t.dataSync())));
    x.dispose();
    cols.forEach((v, j) => {
      const m = mu[j] as number;
      const s = sigma[j] as number;
      const { mean, variance } = moments(v);
      const refMean = lognormalRef.mean!(m, s);
      const refVar = lognormalRef.variance!(m, s);
      // 5 standard errors of the sample mean; the log-normal variance estimate is heavy-tailed,
      // so compare it with a looser relative bound.
      expect(Math.abs(mean - refMean)).toBeLessThan(5 * Math.sqrt(refVar / n));
      expect(Math.abs(variance / refVar - 1)).toBeLessThan(0.15);
      expect(Math.min(...v)).toBeGreaterThan(0);
    });
    expect(expectNoLeak(() => d.sample([4], 7))).toEqual(expectNoLeak(() => d.sample([4], 7)));
    d.distribution.dispose();
  });

  it('rsample is differentiable: d/dmu E[exp(mu + s eps)] = E[exp(mu + s eps)]', () => {
    const loc = tf.scalar(0.2);
    const scale = tf.scalar(0.5);
    const before = tf.memory().numTensors;
    const f = (l: tf.Tensor) =>
      tf.tidy(() => {
        const d = new TransformedDistribution(new Normal(l, scale), new Exp());
        return tf.mean(d.rsample([1000], 11));
      });
    const { value, grad } = tf.valueAndGrad(f)(loc);
    expect(grad).toBeAllclose(value, { rtol: 1e-5 });
    tf.dispose([value, grad]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([loc, scale]);
  });

  it('moments without a closed form throw NotDefinedError', () => {
    const d = new TransformedDistribution(new Normal(0, 1), new Exp());
    expect(() => d.mean()).toThrow(NotDefinedError);
    expect(() => d.mean()).toThrow(/mean has no closed form for bijector Exp/);
    expect(() => d.variance()).toThrow(NotDefinedError);
    expect(() => d.entropy()).toThrow(NotDefinedError);
    expect(() => d.mode()).toThrow(NotDefinedError);
    d.distribution.dispose();
  });
});

describe('TransformedDistribution with an affine bijector', () => {
  // Y = -2 X + 1 with X ~ N(0.5, 0.8) is N(0, 1.6): decreasing map
  const base = () => new Normal(0.5, 0.8);
  const bij = () => new ScalarAffine(-2, 1);

  it('a decreasing bijector gives cdf = 1 - F(f^-1(y)) (equal to the N(0, 1.6) cdf)', () => {
    const d = new TransformedDistribution(base(), bij());
    const ys = [-1.5, -0.3, 0.4, 1.9];
    expect(expectNoLeak(() => d.cdf(ys))).toBeAllclose(
      ys.map((y) => normalRef.cdf!(y, 0, 1.6)),
      { rtol: 1e-5 },
    );
    expect(expectNoLeak(() => d.survival(ys))).toBeAllclose(
      ys.map((y) => 1 - normalRef.cdf!(y, 0, 1.6)),
      { rtol: 1e-5 },
    );
    expect(expectNoLeak(() => d.logProb(ys))).toBeAllclose(
      ys.map((y) => normalRef.logpdf!(y, 0, 1.6)),
      { rtol: 1e-5 },
    );
    expect(expectNoLeak(() => d.logCdf(ys))).toBeAllclose(
      ys.map((y) => Math.log(normalRef.cdf!(y, 0, 1.6))),
      { rtol: 1e-5 },
    );
    expect(expectNoLeak(() => d.logSurvival(ys))).toBeAllclose(
      ys.map((y) => Math.log(1 - normalRef.cdf!(y, 0, 1.6))),
      { rtol: 1e-5 },
    );
  });

  it('crossEntropy = H[p] + KL(p || q) for a shared bijector', () => {
    const f = bij();
    const p = new TransformedDistribution(base(), f);
    const q = new TransformedDistribution(new Normal(-0.5, 1.3), f);
    // p = N(0, 1.6), q = N(2, 2.6) after the map y = -2x + 1
    const ce = expectNoLeak(() => p.crossEntropy(q));
    const ref = 0.5 * Math.log(2 * Math.PI * 2.6 ** 2) + (1.6 ** 2 + (0 - 2) ** 2) / (2 * 2.6 ** 2);
    expect(ce).toBeAllclose([ref], { rtol: 1e-5 });
  });

  it('mean, mode, variance, stddev and entropy have closed forms', () => {
    const d = new TransformedDistribution(base(), bij());
    expect(expectNoLeak(() => d.mean())).toBeAllclose([0], { atol: 1e-6 });
    expect(expectNoLeak(() => d.mode())).toBeAllclose([0], { atol: 1e-6 });
    expect(expectNoLeak(() => d.variance())).toBeAllclose([1.6 ** 2]);
    expect(expectNoLeak(() => d.stddev())).toBeAllclose([1.6]);
    expect(expectNoLeak(() => d.entropy())).toBeAllclose([normalRef.entropy!(0, 1.6)]);
  });

  it('parameters of the bijector broadcast within the base batch shape', () => {
    const d = new TransformedDistribution(new Normal([0, 0, 0], 1), new ScalarAffine([1, 2, 3]));
    expect(expectNoLeak(() => d.stddev())).toBeAllclose([1, 2, 3]);
    const x = expectNoLeak(() => d.sample([5], 3));
    expect(x.length).toBe(15);
  });

  it('mixed-sign scales have no cdf', () => {
    const d = new TransformedDistribution(new Normal([0, 0], 1), new ScalarAffine([1, -1]));
    expect(() => d.cdf([0, 0])).toThrow(/cdf needs a scalar base distribution and a monotone/);
  });
});

describe('TransformedDistribution KL', () => {
  it('KL(f(X) || f(Z)) = KL(X || Z) for the same bijector, matching Monte Carlo', () => {
    const f = new Softplus(1.5);
    const p = new TransformedDistribution(new Normal(0.3, 0.7), f);
    const q = new TransformedDistribution(new Normal(-0.2, 1.1), f);
    const kl = expectNoLeak(() => klDivergence(p, q));
    const mc = expectNoLeak(() => monteCarloKL(p, q, { numSamples: 100_000, seed: 5 }));
    const ref = expectNoLeak(() => klDivergence(p.distribution, q.distribution));
    expect(kl).toBeAllclose(ref);
    expect(mc).toBeAllclose(kl, { rtol: 0.03, atol: 0.005 });
    // an equal bijector built apart is the same map (torch's transform equality) ...
    const same = new TransformedDistribution(new Normal(0, 1), new Softplus(1.5));
    const base = new Normal(0, 1);
    expect(expectNoLeak(() => klDivergence(p, same))).toBeAllclose(
      expectNoLeak(() => klDivergence(p.distribution, base)),
    );
    // ... another sharpness is another map
    const other = new TransformedDistribution(new Normal(0, 1), new Softplus(2));
    expect(() => klDivergence(p, other)).toThrow(NotRegisteredError);
  });
});

/** A bijector with event rank 1 (elementwise exp, log-det summed over the last axis). */
class VectorExp extends Bijector {
  override get eventRank(): number {
    return 1;
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    return { y: tf.exp(x), logDet: tf.sum(x, -1) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return tf.log(y);
  }
}

describe('event ranks', () => {
  it('a scalar base with a rank-1 bijector is rejected', () => {
    expect(() => new TransformedDistribution(new Normal(0, 1), new VectorExp())).toThrow(
      /bijector: event rank 1 exceeds the event rank 0/,
    );
  });

  it('Chain sums log-dets of elementwise parts over the event axis', async () => {
    const { Chain } = await import('../../src/bijectors/index.js');
    const c = new Chain([new ScalarAffine(3), new VectorExp(), new Sigmoid()]);
    expect(c.eventRank).toBe(1);
    const x = [
      [0.1, -0.4, 1.2],
      [0.5, 0.0, -2.0],
    ];
    const ld = expectNoLeak(() => c.forwardLogDetJacobian(x));
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const ref = x.map((row) =>
      row.reduce((a, v) => a + Math.log(3) + sig(v) + Math.log(sig(v) * (1 - sig(v))), 0),
    );
    expect(ld).toBeAllclose(ref, { rtol: 1e-5 });
    const y = c.forward(x);
    const ild = expectNoLeak(() => c.inverseLogDetJacobian(y));
    expect(ild).toBeAllclose(
      ref.map((v) => -v),
      { rtol: 1e-4 },
    );
    y.dispose();
  });
});

describe('TransformedDistribution errors', () => {
  it('rejects bad arguments with an ArgumentError naming the argument', () => {
    const n = new Normal(0, 1);
    expect(() => new TransformedDistribution({} as unknown as Distribution, new Exp())).toThrow(
      /distribution: expected a Distribution/,
    );
    expect(() => new TransformedDistribution(n, {} as unknown as Bijector)).toThrow(ArgumentError);
    expect(() => new TransformedDistribution(n, new ScalarAffine([1, 2, 3]))).toThrow(
      /bijector: parameter shape \[3\] would enlarge the base shape \[\]/,
    );
    n.dispose();
  });
});
