/**
 * Audit 19, the property sweep, part 4: bad parameters across the families, as a torch user
 * with `validate_args` meets them — a bad entry hidden in a batch (`[1, -1, 2]`), infinite or
 * NaN values, probabilities outside [0, 1], shapes that do not broadcast, wrapper arguments that
 * do not fit the base, and bad arguments to the methods (`expand` to an incompatible batch, a
 * negative sample shape, a value of the wrong event shape). Each must be an `ArgumentError`
 * naming the argument, thrown before any work, leaving no tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, it } from 'vitest';
import { distributions as D } from '../../src/index.js';
import { expectBadInput, type BadInputCase } from '../helpers.js';

/** Build `make()`, run `call` on it, dispose it (also when `call` throws). */
function on(make: () => D.Distribution, call: (d: D.Distribution) => unknown): () => unknown {
  return () => {
    const dist = make();
    try {
      return call(dist);
    } finally {
      dist.dispose();
    }
  };
}

const CASES: BadInputCase[] = [
  // a bad entry hidden in a batch
  { call: 'Normal scale [1, -1, 2]', run: () => new D.Normal(0, [1, -1, 2]), arg: 'scale' },
  { call: 'Normal loc [0, Inf]', run: () => new D.Normal([0, Infinity], 1), arg: 'loc' },
  { call: 'Cauchy scale [1, 0]', run: () => new D.Cauchy(0, [1, 0]), arg: 'scale' },
  { call: 'Laplace scale [NaN, 1]', run: () => new D.Laplace(0, [NaN, 1]), arg: 'scale' },
  { call: 'Logistic scale [1, -2]', run: () => new D.Logistic(0, [1, -2]), arg: 'scale' },
  { call: 'Gumbel scale [1, -2]', run: () => new D.Gumbel(0, [1, -2]), arg: 'scale' },
  { call: 'StudentT df [3, 0]', run: () => new D.StudentT([3, 0], 0, 1), arg: 'df' },
  { call: 'StudentT scale Inf', run: () => new D.StudentT(3, 0, Infinity), arg: 'scale' },
  { call: 'Gamma concentration [2, -1]', run: () => new D.Gamma([2, -1], 1), arg: 'concentration' },
  { call: 'Gamma rate [1, Inf]', run: () => new D.Gamma(2, [1, Infinity]), arg: 'rate' },
  { call: 'Exponential rate [1, 0]', run: () => new D.Exponential([1, 0]), arg: 'rate' },
  { call: 'Chi2 df [2, -1]', run: () => new D.Chi2([2, -1]), arg: 'df' },
  {
    call: 'Beta concentration0 [1, NaN]',
    run: () => new D.Beta(1, [1, NaN]),
    arg: 'concentration0',
  },
  {
    call: 'Kumaraswamy concentration1 -1',
    run: () => new D.Kumaraswamy(-1, 1),
    arg: 'concentration1',
  },
  { call: 'LogNormal scale [0.5, 0]', run: () => new D.LogNormal(0, [0.5, 0]), arg: 'scale' },
  { call: 'HalfCauchy scale [1, -1]', run: () => new D.HalfCauchy([1, -1]), arg: 'scale' },
  { call: 'Pareto alpha [1, 0]', run: () => new D.Pareto(1, [1, 0]), arg: 'alpha' },
  { call: 'Pareto scale -1', run: () => new D.Pareto(-1, 2), arg: 'scale' },
  {
    call: 'Weibull concentration [1, 0]',
    run: () => new D.Weibull(1, [1, 0]),
    arg: 'concentration',
  },
  { call: 'Levy scale [1, -1]', run: () => new D.Levy(0, [1, -1]), arg: 'scale' },
  { call: 'Gompertz rate -1', run: () => new D.Gompertz(1, -1), arg: 'rate' },
  { call: 'FisherSnedecor df2 [3, 0]', run: () => new D.FisherSnedecor(2, [3, 0]), arg: 'df2' },
  { call: 'SkewNormal scale -1', run: () => new D.SkewNormal(0, -1, 1), arg: 'scale' },
  { call: 'SkewNormal skewness NaN', run: () => new D.SkewNormal(0, 1, NaN), arg: 'skewness' },
  {
    call: 'AsymmetricLaplace asymmetry [1, 0]',
    run: () => new D.AsymmetricLaplace(0, 1, [1, 0]),
    arg: 'asymmetry',
  },
  { call: 'SoftLaplace scale 0', run: () => new D.SoftLaplace(0, 0), arg: 'scale' },
  { call: 'LogUniform low [1, -1]', run: () => new D.LogUniform([1, -1], 5), arg: /low/ },
  { call: 'LogUniform low >= high', run: () => new D.LogUniform([1, 3], [2, 3]), arg: /low|high/ },
  { call: 'VonMises loc Inf', run: () => new D.VonMises(Infinity, 1), arg: 'loc' },
  { call: 'Uniform high Inf', run: () => new D.Uniform(0, Infinity), arg: /high/ },
  {
    call: 'TruncatedNormal low >= high (batched)',
    run: () => new D.TruncatedNormal(0, 1, [0, 2], [1, 1]),
    arg: /low|high/,
  },
  { call: 'TruncatedNormal scale -1', run: () => new D.TruncatedNormal(0, -1, 0, 1), arg: 'scale' },
  { call: 'BetaProportion mean 1', run: () => new D.BetaProportion([0.5, 1], 2), arg: 'mean' },
  {
    call: 'BetaProportion concentration 0',
    run: () => new D.BetaProportion(0.5, 0),
    arg: 'concentration',
  },
  {
    call: 'ContinuousBernoulli probs [0.5, 1.5]',
    run: () => new D.ContinuousBernoulli([0.5, 1.5]),
    arg: 'probs',
  },
  {
    call: 'RelaxedBernoulli temperature -1',
    run: () => new D.RelaxedBernoulli(-1, 0.5),
    arg: 'temperature',
  },
  { call: 'Bernoulli probs [0.5, -0.1]', run: () => new D.Bernoulli([0.5, -0.1]), arg: 'probs' },
  { call: 'Bernoulli logits NaN', run: () => new D.Bernoulli({ logits: NaN }), arg: 'logits' },
  { call: 'Geometric probs [0.5, 1.5]', run: () => new D.Geometric([0.5, 1.5]), arg: 'probs' },
  { call: 'Geometric probs 0', run: () => new D.Geometric(0), arg: 'probs' },
  { call: 'Poisson rate [1, -1]', run: () => new D.Poisson([1, -1]), arg: 'rate' },
  { call: 'Poisson rate NaN', run: () => new D.Poisson(NaN), arg: 'rate' },
  {
    call: 'Binomial totalCount [3, 2.5]',
    run: () => new D.Binomial([3, 2.5], 0.5),
    arg: 'totalCount',
  },
  {
    call: 'NegativeBinomial totalCount [2, 0]',
    run: () => new D.NegativeBinomial([2, 0], 0.5),
    arg: 'totalCount',
  },
  { call: 'NegativeBinomial probs 1.5', run: () => new D.NegativeBinomial(2, 1.5), arg: 'probs' },
  { call: 'GammaPoisson rate [1, 0]', run: () => new D.GammaPoisson(1, [1, 0]), arg: 'rate' },
  {
    call: 'BetaBinomial totalCount -1',
    run: () => new D.BetaBinomial(1, 1, -1),
    arg: 'totalCount',
  },
  {
    call: 'BetaBinomial concentration1 0',
    run: () => new D.BetaBinomial(0, 1, 3),
    arg: 'concentration1',
  },
  {
    call: 'ZeroInflatedPoisson gate [0.5, 1.5]',
    run: () => new D.ZeroInflatedPoisson(1, { gate: [0.5, 1.5] }),
    arg: 'gate',
  },
  {
    call: 'DiscreteUniform low > high',
    run: () => new D.DiscreteUniform([0, 5], [3, 4]),
    arg: /low|high/,
  },
  {
    call: 'Categorical probs with a negative entry',
    run: () => new D.Categorical([0.5, -0.1, 0.6]),
    arg: 'probs',
  },
  {
    call: 'Categorical probs scalar',
    run: () => new D.Categorical(0.5),
    arg: 'probs',
  },
  {
    call: 'OneHotCategorical logits NaN',
    run: () => new D.OneHotCategorical({ logits: [0, NaN] }),
    arg: 'logits',
  },
  {
    call: 'Multinomial totalCount -1',
    run: () => new D.Multinomial(-1, [0.5, 0.5]),
    arg: 'totalCount',
  },
  {
    call: 'Dirichlet concentration [1, 0, 2]',
    run: () => new D.Dirichlet([1, 0, 2]),
    arg: 'concentration',
  },
  { call: 'Dirichlet concentration scalar', run: () => new D.Dirichlet(2), arg: 'concentration' },
  {
    call: 'DirichletMultinomial concentration [1, -1]',
    run: () => new D.DirichletMultinomial([1, -1], 3),
    arg: 'concentration',
  },
  // shapes that do not broadcast
  {
    call: 'Normal loc [2] scale [3]',
    run: () => new D.Normal([0, 1], [1, 2, 3]),
    arg: /loc|scale/,
  },
  {
    call: 'Gamma [2] vs [3]',
    run: () => new D.Gamma([1, 2], [1, 2, 3]),
    arg: /concentration|rate/,
  },
  {
    call: 'Beta [2] vs [3]',
    run: () => new D.Beta([1, 2], [1, 2, 3]),
    arg: /concentration1|concentration0/,
  },
  {
    call: 'StudentT [2] vs [3]',
    run: () => new D.StudentT([3, 4], [0, 1, 2], 1),
    arg: /df|loc|scale/,
  },
  {
    call: 'Binomial totalCount [2] vs probs [3]',
    run: () => new D.Binomial([1, 2], [0.1, 0.2, 0.3]),
    arg: /totalCount|probs/,
  },
  {
    call: 'MultivariateNormal loc [3] covariance 2x2',
    run: () =>
      new D.MultivariateNormal([0, 0, 0], {
        covarianceMatrix: [
          [1, 0],
          [0, 1],
        ],
      }),
    arg: /loc|covarianceMatrix/,
  },
  {
    call: 'MultivariateNormalDiag loc [3] scaleDiag [2]',
    run: () => new D.MultivariateNormalDiag([0, 0, 0], [1, 1]),
    arg: /loc|scaleDiag/,
  },
  {
    call: 'MultivariateNormalDiag scaleDiag [1, 0]',
    run: () => new D.MultivariateNormalDiag([0, 0], [1, 0]),
    arg: 'scaleDiag',
  },
  {
    call: 'MultivariateNormal covariance not symmetric positive definite',
    run: () =>
      new D.MultivariateNormal([0, 0], {
        covarianceMatrix: [
          [1, 2],
          [2, 1],
        ],
      }),
    arg: 'covarianceMatrix',
  },
  // wrappers
  {
    call: 'Independent reinterpretedBatchNdims > batch rank',
    run: () => {
      const b = new D.Normal([0, 1], 1);
      try {
        return new D.Independent(b, 2);
      } finally {
        b.dispose();
      }
    },
    arg: 'reinterpretedBatchNdims',
  },
  {
    call: 'MixtureSameFamily mixture size 3 vs 2 components',
    run: () => {
      const mix = new D.Categorical([0.2, 0.3, 0.5]);
      const comp = new D.Normal([0, 1], 1);
      try {
        return new D.MixtureSameFamily(mix, comp);
      } finally {
        mix.dispose();
        comp.dispose();
      }
    },
    arg: /mixture|component/i,
  },
  {
    call: 'TruncatedDistribution low >= high',
    run: () => {
      const b = new D.Normal(0, 1);
      try {
        return new D.TruncatedDistribution(b, { low: 2, high: 1 });
      } finally {
        b.dispose();
      }
    },
    arg: /low|high/,
  },
  // methods
  {
    call: 'expand([2]) of batch [3]',
    run: on(
      () => new D.Normal([0, 1, 2], 1),
      (d) => d.expand([2]),
    ),
    arg: 'batchShape',
  },
  {
    call: 'expand([-1])',
    run: on(
      () => new D.Normal(0, 1),
      (d) => d.expand([-1]),
    ),
    arg: 'batchShape',
  },
  {
    call: 'sample([-2])',
    run: on(
      () => new D.Gamma(2, 1),
      (d) => d.sample([-2]),
    ),
    arg: 'shape',
  },
  {
    call: 'sample([1.5])',
    run: on(
      () => new D.Poisson(2),
      (d) => d.sample([1.5]),
    ),
    arg: 'shape',
  },
  {
    call: 'rsample([2, -1])',
    run: on(
      () => new D.Normal(0, 1),
      (d) => d.rsample([2, -1]),
    ),
    arg: 'shape',
  },
  {
    call: 'logProb of a value with the wrong event size (MVN)',
    run: on(
      () => new D.MultivariateNormalDiag([0, 0, 0], [1, 1, 1]),
      (d) => d.logProb([0, 0]),
    ),
    arg: 'value',
  },
  {
    call: 'logProb of a value that does not broadcast with the batch',
    run: on(
      () => new D.Normal([0, 1, 2], 1),
      (d) => d.logProb([0, 1]),
    ),
    arg: 'value',
  },
  {
    call: 'Dirichlet logProb of a value of the wrong event size',
    run: on(
      () => new D.Dirichlet([1, 2, 3]),
      (d) => d.logProb([0.5, 0.5]),
    ),
    arg: 'value',
  },
  {
    call: 'icdf(1.5)',
    run: on(
      () => new D.Normal(0, 1),
      (d) => d.icdf(1.5),
    ),
    arg: /p|value|q/,
  },
  {
    call: 'icdf(-0.1) of a Gamma',
    run: on(
      () => new D.Exponential(1),
      (d) => d.icdf([0.5, -0.1]),
    ),
    arg: /p|value|q/,
  },
];

describe('bad parameters and arguments give an ArgumentError naming them', () => {
  it.each(CASES)('$call', async (c) => {
    await expectBadInput(c);
  });
});

describe('no leak when a constructor refuses its parameters', () => {
  it('caller tensors stay alive and nothing else is left', () => {
    const scale = tf.tensor([1, -1]);
    const before = tf.memory().numTensors;
    let threw = false;
    try {
      new D.Normal(0, scale);
    } catch {
      threw = true;
    }
    if (!threw) throw new Error('Normal(0, [1, -1]) was accepted');
    if (tf.memory().numTensors !== before) throw new Error('a tensor was left');
    if (scale.isDisposed) throw new Error("the caller's tensor was disposed");
    scale.dispose();
  });
});
