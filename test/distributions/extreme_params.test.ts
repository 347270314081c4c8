/**
 * Families at extreme but legal parameters and values, against float64 references (@stdlib,
 * closed forms): the cancellation-free forms must keep float32 accuracy where the textbook
 * formulas lose it.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions } from '../../src/index.js';
import { log1p } from '../../src/utils/log1p.js';
import normalRef from '@stdlib/stats-base-dists-normal';
import geometricRef from '@stdlib/stats-base-dists-geometric';
import { expectNoLeak } from '../helpers.js';

const d = distributions;

/** `dist.method(x)` as numbers, the distribution disposed, no tensor left behind. */
function call(
  dist: distributions.Distribution,
  method: 'logProb' | 'cdf' | 'logCdf' | 'logSurvival',
  x: number[],
): number[] {
  const v = expectNoLeak(() => dist[method](x));
  dist.dispose();
  return v;
}

describe('log1p is accurate on every backend', () => {
  it('matches Math.log1p at tiny arguments, with gradient 1/(1 + x) (tf.log1p on wasm does not)', () => {
    // tf.log1p on wasm: log1p(1e-10) = 0, log1p(-2.87e-7) = -2.98e-7, log1p(1e-7) = 1.19e-7
    const xs = [1e-10, -2.87e-7, 1e-7, -1e-3, 0.5, 3, 1e30, 0];
    const t = tf.tensor1d(xs);
    const got = expectNoLeak(() => log1p(t));
    expect(got).toBeAllclose(xs.map(Math.log1p), { rtol: 3e-7, atol: 0 });
    const ends = tf.tensor1d([-1, -2, Infinity]);
    expect(expectNoLeak(() => log1p(ends))).toEqual([-Infinity, NaN, Infinity]);
    ends.dispose();
    const g = expectNoLeak(() => tf.grad((x: tf.Tensor) => tf.sum(log1p(x)))(t));
    expect(g).toBeAllclose(
      xs.map((x) => 1 / (1 + x)),
      { rtol: 1e-6 },
    );
    t.dispose();
  });

  it('Geometric at tiny p and the Normal / HalfNormal log-CDFs in the upper tail', () => {
    // Geometric(1e-7).logProb(1e6) gave -16.2373 for -16.2181 (k log1p(-p))
    expect(call(new d.Geometric({ probs: 1e-7 }), 'logProb', [1e6, 10])).toBeAllclose(
      [geometricRef.logpmf(1e6, 1e-7), geometricRef.logpmf(10, 1e-7)],
      { rtol: 1e-6 },
    );
    // Normal.logCdf(5) gave -2.98e-7 for -2.8665e-7
    const zs = [3, 5, 8];
    expect(call(new d.Normal(0, 1), 'logCdf', zs)).toBeAllclose(
      zs.map((z) => Math.log1p(-normalRef.cdf(-z, 0, 1))),
      { rtol: 1e-4, atol: 0 },
    );
    // HalfNormal.logCdf(10) (scale 2) gave -5.96e-7 for -5.733e-7 (log of the cdf); its
    // logSurvival(60) was -Infinity (log of an underflowed erfc)
    const xs = [10, 14];
    expect(call(new d.HalfNormal(2), 'logCdf', xs)).toBeAllclose(
      xs.map((x) => Math.log1p(-2 * normalRef.cdf(-x / 2, 0, 1))),
      { rtol: 1e-4, atol: 0 },
    );
    const far = [1, 28, 60];
    expect(call(new d.HalfNormal(2), 'logSurvival', far)).toBeAllclose(
      far.map((x) => Math.LN2 + normalRef.logcdf(-x / 2, 0, 1)),
      { rtol: 1e-6 },
    );
  });
});
