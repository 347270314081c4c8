/**
 * Inputs the per-family tables do not reach (found by the distributions audit): KL pairs with
 * broadcast or mismatched shapes, counts far from zero, tiny concentrations, extreme bijector
 * inputs.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, distributions } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const d = distributions;

describe('KL shapes', () => {
  it('Binomial KL broadcasts batch shapes [3,1] and [1,4] to [3,4]', () => {
    const p = new d.Binomial(10, { probs: tf.tensor([0.1, 0.5, 0.9], [3, 1]) });
    const q = new d.Binomial(10, { probs: tf.tensor([0.2, 0.5, 0.7, 0.05], [1, 4]) });
    const kl = expectNoLeak(() => {
      const t = d.klDivergence(p, q);
      expect(t.shape).toEqual([3, 4]);
      return t;
    });
    const ref = [0.1, 0.5, 0.9].flatMap((a) =>
      [0.2, 0.5, 0.7, 0.05].map(
        (b) => 10 * (a * Math.log(a / b) + (1 - a) * Math.log((1 - a) / (1 - b))),
      ),
    );
    expect(kl).toBeAllclose(ref, { rtol: 1e-4, atol: 1e-5 });
    p.dispose();
    q.dispose();
  });

  it('pairs whose shapes do not match throw an ArgumentError naming both classes', () => {
    const cases: Array<[distributions.Distribution, distributions.Distribution, RegExp]> = [
      [new d.Normal([0, 0, 0], 1), new d.Normal([0, 0, 0, 0], 1), /Normal p .*\[3\].*\[4\]/],
      [new d.Dirichlet([1, 1]), new d.Dirichlet([1, 1, 1]), /Dirichlet p .*\[2\].*\[3\]/],
      [
        new d.MultivariateNormal([0, 0], {
          covarianceMatrix: [
            [1, 0],
            [0, 1],
          ],
        }),
        new d.MultivariateNormal([0, 0, 0], {
          scaleTril: [
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
          ],
        }),
        /MultivariateNormal p .*event shapes/,
      ],
      [new d.Categorical([0.5, 0.5]), new d.Categorical([0.2, 0.3, 0.5]), /categories/],
    ];
    for (const [p, q, re] of cases) {
      expectNoLeak(() => {
        expect(() => d.klDivergence(p, q)).toThrow(ArgumentError);
        expect(() => d.klDivergence(p, q)).toThrow(re);
      });
      if (!/categories/.test(re.source)) {
        expect(() => d.monteCarloKL(p, q, { numSamples: 2 })).toThrow(ArgumentError);
      }
      p.dispose();
      q.dispose();
    }
  });
});
