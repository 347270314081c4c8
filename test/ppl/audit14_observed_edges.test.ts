/**
 * Audit (issue 14): families as OBSERVED sites with data at the edges of their supports (0, 1,
 * the top count, simplex vertices, degenerate probabilities): `logProb` must be the closed form
 * (finite, or an exact -Infinity / +Infinity as torch/Pyro give), never NaN; a value outside the
 * support at an observed site is an `ArgumentError` naming the site. No tensor may leak.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import gammaln from '@stdlib/math-base-special-gammaln';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';

afterEach(() => ppl.clearParamStore());

type Dist = D.Distribution;
const L = Math.log;

interface Edge {
  name: string;
  make: () => Dist;
  value: number | number[] | number[][];
  /** The expected log-density of each batch entry (float64 closed form). */
  expected: number[];
}

const EDGES: Edge[] = [
  {
    name: 'Bernoulli(0.3) at 0 and 1',
    make: () => new D.Bernoulli(0.3),
    value: [0, 1],
    expected: [L(0.7), L(0.3)],
  },
  {
    name: 'Bernoulli(0) at 0 and 1',
    make: () => new D.Bernoulli(0),
    value: [0, 1],
    expected: [0, -Infinity],
  },
  {
    name: 'Bernoulli(1) at 1 and 0',
    make: () => new D.Bernoulli(1),
    value: [1, 0],
    expected: [0, -Infinity],
  },
  {
    name: 'Binomial(5, 0.4) at 0 and 5',
    make: () => new D.Binomial(5, 0.4),
    value: [0, 5],
    expected: [5 * L(0.6), 5 * L(0.4)],
  },
  { name: 'Binomial(5, 0) at 0', make: () => new D.Binomial(5, 0), value: [0], expected: [0] },
  { name: 'Binomial(5, 1) at 5', make: () => new D.Binomial(5, 1), value: [5], expected: [0] },
  {
    name: 'Poisson(2.5) at 0',
    make: () => new D.Poisson(2.5),
    value: [0, 3],
    expected: [-2.5, 3 * L(2.5) - 2.5 - L(6)],
  },
  {
    name: 'Geometric(0.25) at 0',
    make: () => new D.Geometric(0.25),
    value: [0, 2],
    expected: [L(0.25), 2 * L(0.75) + L(0.25)],
  },
  {
    name: 'NegativeBinomial(3, 0.4) at 0',
    make: () => new D.NegativeBinomial(3, 0.4),
    value: [0],
    expected: [3 * L(0.6)],
  },
  {
    name: 'Beta(1, 2) at 0 and 1',
    make: () => new D.Beta(1, 2),
    value: [0, 1],
    expected: [L(2), -Infinity],
  },
  { name: 'Beta(2, 1) at 1', make: () => new D.Beta(2, 1), value: [1], expected: [L(2)] },
  { name: 'Beta(1, 1) at 0 and 1', make: () => new D.Beta(1, 1), value: [0, 1], expected: [0, 0] },
  {
    name: 'Beta(2, 3) at 0 and 1',
    make: () => new D.Beta(2, 3),
    value: [0, 1],
    expected: [-Infinity, -Infinity],
  },
  {
    name: 'Beta(0.5, 0.5) at 0',
    make: () => new D.Beta(0.5, 0.5),
    value: [0],
    expected: [Infinity],
  },
  { name: 'Exponential(2) at 0', make: () => new D.Exponential(2), value: [0], expected: [L(2)] },
  { name: 'Gamma(1, 3) at 0', make: () => new D.Gamma(1, 3), value: [0], expected: [L(3)] },
  {
    name: 'Gamma(2.5, 3) at 0',
    make: () => new D.Gamma(2.5, 3),
    value: [0],
    expected: [-Infinity],
  },
  { name: 'Gamma(0.5, 1) at 0', make: () => new D.Gamma(0.5, 1), value: [0], expected: [Infinity] },
  {
    name: 'HalfNormal(2) at 0',
    make: () => new D.HalfNormal(2),
    value: [0],
    expected: [0.5 * L(2 / Math.PI) - L(2)],
  },
  {
    name: 'HalfCauchy(2) at 0',
    make: () => new D.HalfCauchy(2),
    value: [0],
    expected: [L(2 / (Math.PI * 2))],
  },
  {
    name: 'LogNormal(0, 1) at 0',
    make: () => new D.LogNormal(0, 1),
    value: [0],
    expected: [-Infinity],
  },
  {
    name: 'Weibull(scale 2, k 1) at 0',
    make: () => new D.Weibull(2, 1),
    value: [0],
    expected: [L(0.5)],
  },
  {
    name: 'Uniform(-1, 3) at -1',
    make: () => new D.Uniform(-1, 3),
    value: [-1],
    expected: [-L(4)],
  },
  {
    name: 'Kumaraswamy(1, 1) at 0',
    make: () => new D.Kumaraswamy(1, 1),
    value: [0],
    expected: [0],
  },
  { name: 'Chi2(2) at 0', make: () => new D.Chi2(2), value: [0], expected: [L(0.5)] },
  {
    name: 'Dirichlet([1,1,1]) at a vertex',
    make: () => new D.Dirichlet([1, 1, 1]),
    value: [1, 0, 0],
    expected: [L(2)],
  },
  {
    name: 'Dirichlet([2,1,1]) at the vertex e0',
    make: () => new D.Dirichlet([2, 1, 1]),
    value: [1, 0, 0],
    expected: [gammaln(4) - gammaln(2)],
  },
  {
    name: 'Dirichlet([1,2,1]) at the vertex e0',
    make: () => new D.Dirichlet([1, 2, 1]),
    value: [1, 0, 0],
    expected: [-Infinity],
  },
  {
    name: 'Categorical with a zero-probability class',
    make: () => new D.Categorical([0.5, 0, 0.5]),
    value: [0, 1, 2],
    expected: [L(0.5), -Infinity, L(0.5)],
  },
  {
    name: 'OneHotCategorical at vertices',
    make: () => new D.OneHotCategorical([0.2, 0.8]),
    value: [
      [1, 0],
      [0, 1],
    ],
    expected: [L(0.2), L(0.8)],
  },
  {
    name: 'Multinomial(4, [0.2,0.3,0.5]) at [4,0,0]',
    make: () => new D.Multinomial(4, [0.2, 0.3, 0.5]),
    value: [4, 0, 0],
    expected: [4 * L(0.2)],
  },
  {
    name: 'Multinomial(3, [0,0.5,0.5]) at [0,3,0]',
    make: () => new D.Multinomial(3, [0, 0.5, 0.5]),
    value: [0, 3, 0],
    expected: [3 * L(0.5)],
  },
  {
    name: 'BetaBinomial(1, 1, 4) at 0 and 4',
    make: () => new D.BetaBinomial(1, 1, 4),
    value: [0, 4],
    expected: [-L(5), -L(5)],
  },
  {
    name: 'ZeroInflatedPoisson(gate 0.3, rate 2) at 0',
    make: () => new D.ZeroInflatedPoisson(2, { gate: 0.3 }),
    value: [0],
    expected: [L(0.3 + 0.7 * Math.exp(-2))],
  },
  {
    name: 'ContinuousBernoulli(0.3) at 0 and 1',
    make: () => new D.ContinuousBernoulli(0.3),
    value: [0, 1],
    expected: [0, 1].map((x) => {
      const c = (2 * Math.atanh(1 - 2 * 0.3)) / (1 - 2 * 0.3);
      return x * L(0.3) + (1 - x) * L(0.7) + L(c);
    }),
  },
];

describe('audit14: observed values at the support edges', () => {
  for (const e of EDGES) {
    it(`${e.name}: logProb is the closed form, never NaN`, () => {
      const dist = e.make();
      const before = tf.memory().numTensors;
      const v = tf.tensor(e.value as number[]);
      const lp = dist.logProb(v);
      const got = Array.from(lp.dataSync());
      tf.dispose([lp, v]);
      expect(tf.memory().numTensors).toBe(before);
      dist.dispose();
      expect(got.length).toBe(e.expected.length);
      got.forEach((g, i) => {
        const x = e.expected[i] as number;
        expect(Number.isNaN(g), `NaN at entry ${i}`).toBe(false);
        if (!Number.isFinite(x)) expect(g).toBe(x);
        else
          expect(Math.abs(g - x), `entry ${i}: ${g} vs ${x}`).toBeLessThan(
            1e-4 * (1 + Math.abs(x)),
          );
      });
    });
  }

  it('the same edge values as observed sites of a model: trace log-density finite and exact', () => {
    const model = (): void => {
      ppl.sample('b', new D.Bernoulli(0.3), { obs: tf.tensor1d([0, 1, 1]) });
      ppl.sample('k', new D.Binomial(5, 0.4), { obs: tf.tensor1d([0, 5]) });
      ppl.sample('p', new D.Dirichlet([2, 1, 1]), { obs: tf.tensor1d([1, 0, 0]) });
    };
    const before = tf.memory().numTensors;
    const tr = ppl.trace(model).getTrace();
    const lp = tr.logProbSum();
    const got = lp.dataSync()[0] as number;
    lp.dispose();
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const want = L(0.7) + 2 * L(0.3) + 5 * L(0.6) + 5 * L(0.4) + gammaln(4) - gammaln(2);
    expect(Math.abs(got - want)).toBeLessThan(1e-4);
  });

  const OUTSIDE: [string, () => Dist, number | number[]][] = [
    ['Bernoulli at 2', () => new D.Bernoulli(0.3), 2],
    ['Binomial(5) at 6', () => new D.Binomial(5, 0.3), 6],
    ['Binomial(5) at 1.5', () => new D.Binomial(5, 0.3), 1.5],
    ['Poisson at -1', () => new D.Poisson(2), -1],
    ['Beta at 1.2', () => new D.Beta(2, 2), 1.2],
    ['Gamma at -0.5', () => new D.Gamma(2, 1), -0.5],
    ['Dirichlet off the simplex', () => new D.Dirichlet([1, 1, 1]), [0.5, 0.6, 0.1]],
    ['Categorical at 3 of 3 classes', () => new D.Categorical([0.2, 0.3, 0.5]), 3],
    [
      'Multinomial(4) with counts summing to 5',
      () => new D.Multinomial(4, [0.2, 0.3, 0.5]),
      [2, 2, 1],
    ],
    ['Uniform(0, 1) at 1.5', () => new D.Uniform(0, 1), 1.5],
  ];
  for (const [what, make, value] of OUTSIDE) {
    it(`an observed ${what}: an ArgumentError naming the site and the support`, () => {
      const model = (): void => {
        ppl.sample('yObs', make(), { obs: tf.tensor(value) });
      };
      const before = tf.memory().numTensors;
      let err: unknown;
      try {
        const tr = ppl.trace(model).getTrace();
        tr.dispose();
      } catch (e) {
        err = e;
      }
      expect(err, 'no error').toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).argument).toBe('yObs');
      expect((err as Error).message).toMatch(/support/);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
