/**
 * Audit (issue 14): the families issue 14 added (and the ones its models use first) refuse bad
 * parameters with an ArgumentError naming the parameter, before any work and without leaking a
 * tensor: negative or zero scales, NaN, non-integer counts, probabilities outside [0, 1], a
 * covariance that is not positive definite, a scale_tril with a non-positive diagonal, LKJ of
 * dimension < 2 or concentration <= 0, Uniform with low >= high, ImproperUniform with a
 * discrete support or bad shapes.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, it } from 'vitest';
import { distributions as D } from '../../src/index.js';
import { expectBadInput, type BadInputCase } from '../helpers.js';

const C = D.constraints;

const CASES: BadInputCase[] = [
  { call: 'Normal scale -1', run: () => new D.Normal(0, -1), arg: 'scale' },
  { call: 'Normal loc NaN', run: () => new D.Normal(Number.NaN, 1), arg: 'loc' },
  { call: 'HalfCauchy scale 0', run: () => new D.HalfCauchy(0), arg: 'scale' },
  { call: 'HalfNormal scale -2', run: () => new D.HalfNormal(-2), arg: 'scale' },
  {
    call: 'InverseGamma concentration 0',
    run: () => new D.InverseGamma(0, 1),
    arg: 'concentration',
  },
  { call: 'InverseGamma rate -1', run: () => new D.InverseGamma(2, -1), arg: 'rate' },
  { call: 'Weibull scale 0', run: () => new D.Weibull(0, 1), arg: 'scale' },
  { call: 'Weibull concentration -1', run: () => new D.Weibull(1, -1), arg: 'concentration' },
  { call: 'VonMises concentration -1', run: () => new D.VonMises(0, -1), arg: 'concentration' },
  { call: 'Beta concentration1 0', run: () => new D.Beta(0, 1), arg: 'concentration1' },
  { call: 'Gamma rate NaN', run: () => new D.Gamma(1, Number.NaN), arg: 'rate' },
  { call: 'Uniform low = high', run: () => new D.Uniform(1, 1), arg: /low|high/ },
  {
    call: 'Uniform low > high (vector)',
    run: () => new D.Uniform([0, 3], [1, 2]),
    arg: /low|high/,
  },
  { call: 'Binomial totalCount 2.5', run: () => new D.Binomial(2.5, 0.3), arg: 'totalCount' },
  { call: 'Binomial totalCount -1', run: () => new D.Binomial(-1, 0.3), arg: 'totalCount' },
  { call: 'Binomial probs 1.2', run: () => new D.Binomial(5, 1.2), arg: 'probs' },
  {
    call: 'NegativeBinomial totalCount 0',
    run: () => new D.NegativeBinomial(0, 0.3),
    arg: 'totalCount',
  },
  { call: 'NegativeBinomial probs -0.1', run: () => new D.NegativeBinomial(3, -0.1), arg: 'probs' },
  {
    call: 'Multinomial probs not summing to 1 with a negative entry',
    run: () => new D.Multinomial(3, [0.5, -0.1, 0.6]),
    arg: 'probs',
  },
  {
    call: 'Multinomial totalCount 1.5',
    run: () => new D.Multinomial(1.5, [0.5, 0.5]),
    arg: 'totalCount',
  },
  { call: 'Bernoulli probs -0.2', run: () => new D.Bernoulli(-0.2), arg: 'probs' },
  {
    call: 'Categorical probs with a negative entry',
    run: () => new D.Categorical([0.5, -0.5, 1]),
    arg: 'probs',
  },
  {
    call: 'Dirichlet concentration with a zero',
    run: () => new D.Dirichlet([1, 0, 2]),
    arg: 'concentration',
  },
  { call: 'Dirichlet of a scalar', run: () => new D.Dirichlet(2 as never), arg: 'concentration' },
  { call: 'Poisson rate -1', run: () => new D.Poisson(-1), arg: 'rate' },
  {
    call: 'MultivariateNormal covariance not positive definite',
    run: () =>
      new D.MultivariateNormal([0, 0], {
        covarianceMatrix: [
          [1, 2],
          [2, 1],
        ],
      }),
    arg: /covariance/,
  },
  {
    call: 'MultivariateNormal covariance not symmetric',
    run: () =>
      new D.MultivariateNormal([0, 0], {
        covarianceMatrix: [
          [1, 0.5],
          [0, 1],
        ],
      }),
    arg: /covariance/,
  },
  {
    call: 'MultivariateNormal scaleTril with a negative diagonal',
    run: () =>
      new D.MultivariateNormal([0, 0], {
        scaleTril: [
          [1, 0],
          [0.3, -1],
        ],
      }),
    arg: 'scaleTril',
  },
  {
    call: 'MultivariateNormal loc of size 3 with a 2 x 2 covariance',
    run: () =>
      new D.MultivariateNormal([0, 0, 0], {
        covarianceMatrix: [
          [1, 0],
          [0, 1],
        ],
      }),
    arg: /loc|covariance/,
  },
  {
    call: 'LowRankMultivariateNormal covDiag with a zero',
    run: () => new D.LowRankMultivariateNormal([0, 0], [[1], [0.5]], [1, 0]),
    arg: 'covDiag',
  },
  { call: 'LKJCholesky dim 1', run: () => new D.LKJCholesky(1, 1), arg: 'dim' },
  { call: 'LKJCholesky dim 2.5', run: () => new D.LKJCholesky(2.5, 1), arg: 'dim' },
  { call: 'LKJCholesky concentration 0', run: () => new D.LKJCholesky(3, 0), arg: 'concentration' },
  {
    call: 'ImproperUniform with a negative batch dim',
    run: () => new D.ImproperUniform(C.real, [-1], []),
    arg: 'batchShape',
  },
  {
    call: 'ImproperUniform with a non-constraint support',
    run: () => new D.ImproperUniform('real' as never, [], []),
    arg: 'support',
  },
];

describe('audit14: bad parameters are ArgumentErrors naming the parameter', () => {
  for (const c of CASES) it(c.call, () => expectBadInput(c));

  it('parameters given as tensors are left to the caller after a refusal', async () => {
    const scale = tf.tensor1d([1, -1]);
    const loc = tf.zeros([2]);
    await expectBadInput({
      call: 'Normal tensor scale',
      run: () => new D.Normal(loc, scale),
      arg: 'scale',
    });
    tf.dispose([scale, loc]);
  });
});
