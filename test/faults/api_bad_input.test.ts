/**
 * The API bad-input table (issue #16): every row is a bad call a user can make on the public
 * API. Each must throw an `ArgumentError` that names the offending argument (or site) before any
 * work starts — never NaN, a silent wrong value, a raw tfjs message or a TypeError — and must
 * leave the number of live tensors unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import * as dist from '../../src/distributions/index.js';
import * as bij from '../../src/bijectors/index.js';
import * as toolbox from '../../src/toolbox/index.js';
import * as layers from '../../src/layers/index.js';
import * as ppl from '../../src/ppl/index.js';
import * as transforms from '../../src/transforms/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput, type BadInputCase } from '../helpers.js';

/** One bad call and the argument its error must name. */
type Case = BadInputCase;

const P2 = [
  [0.7, 0.3],
  [0.2, 0.8],
];

/** Build a distribution, call `f` on it, dispose it whatever happens. */
function withDist<D extends dist.Distribution>(make: () => D, f: (d: D) => unknown): () => void {
  return () => {
    const d = make();
    try {
      const out = f(d);
      if (out instanceof tf.Tensor) out.dispose();
    } finally {
      d.dispose();
    }
  };
}

/** Call `f` with a tensor made here and disposed afterwards. */
function withTensor(make: () => tf.Tensor, f: (t: tf.Tensor) => unknown): () => unknown {
  return () => {
    const t = make();
    let out: unknown;
    try {
      out = f(t);
      if (out instanceof tf.Tensor) out.dispose();
    } finally {
      // a promise (an async call) settles before the tensor goes
      if (out instanceof Promise) void out.finally(() => t.dispose()).catch(() => undefined);
      else t.dispose();
    }
    return out instanceof Promise ? out : undefined;
  };
}

const nullModel = null as unknown as tf.LayersModel;
const loose = <T>(v: unknown): T => v as T;

/** Call `f` with a one-layer model `[N, 3] -> [N, 2]`, disposed afterwards. */
function withLayerModel(f: (m: tf.LayersModel) => unknown): () => void {
  return () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    try {
      f(m);
    } finally {
      m.dispose();
    }
  };
}

/**
 * Call `f` with a small classifier `[N, 4] -> [N, 2]` (with a dropout layer when `dropout`),
 * disposed afterwards; a returned promise is awaited first.
 */
function withModel(f: (m: tf.LayersModel) => unknown, dropout = false): () => Promise<unknown> {
  return async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ units: 3, inputShape: [4], activation: 'relu' }),
        ...(dropout ? [tf.layers.dropout({ rate: 0.5 })] : []),
        tf.layers.dense({ units: 2 }),
      ],
    });
    try {
      const out = await f(m);
      if (out instanceof tf.Tensor) out.dispose();
      if (out instanceof tf.LayersModel) out.dispose();
    } finally {
      m.dispose();
    }
  };
}

const toolboxCases: Case[] = [
  { call: 'accuracy([], [])', run: () => toolbox.accuracy([], []), arg: 'probs' },
  { call: 'nll([], [])', run: () => toolbox.nll([], []), arg: 'probs' },
  { call: 'brierScore([], [])', run: () => toolbox.brierScore([], []), arg: 'probs' },
  { call: 'calibration([], [])', run: () => toolbox.calibration([], []), arg: 'probs' },
  {
    call: 'nll([[2, -1]], [1]) (not probabilities)',
    run: () => toolbox.nll([[2, -1]], [1]),
    arg: 'probs',
  },
  {
    call: 'accuracy of rows not summing to 1',
    run: () => toolbox.accuracy([[0.9, 0.9]], [0]),
    arg: 'probs',
  },
  {
    call: 'brierScore with a NaN probability',
    run: () => toolbox.brierScore([[NaN, 1]], [1]),
    arg: 'probs',
  },
  {
    call: 'calibration with an Infinity',
    run: () => toolbox.calibration([[Infinity, 0]], [0]),
    arg: 'probs',
  },
  { call: 'nll label out of range', run: () => toolbox.nll(P2, [0, 2]), arg: 'labels' },
  { call: 'accuracy negative label', run: () => toolbox.accuracy(P2, [-1, 0]), arg: 'labels' },
  {
    call: 'brierScore fractional label',
    run: () => toolbox.brierScore(P2, [0.5, 1]),
    arg: 'labels',
  },
  { call: 'calibration NaN label', run: () => toolbox.calibration(P2, [NaN, 1]), arg: 'labels' },
  { call: 'accuracy mismatched lengths', run: () => toolbox.accuracy(P2, [0]), arg: 'labels' },
  { call: 'nll ragged rows', run: () => toolbox.nll([[0.5, 0.5], [1]], [0, 0]), arg: 'probs' },
  {
    // (a number vector is a binary classifier's p(y = 1): valid since audit 19)
    call: 'brierScore rows that are not arrays',
    run: () => toolbox.brierScore([[0.5, 0.5], 0.5] as unknown as number[][], [0, 1]),
    arg: 'probs',
  },
  {
    call: 'accuracy labels not an array',
    run: () => toolbox.accuracy(P2, 3 as unknown as number[]),
    arg: 'labels',
  },
  { call: 'calibration numBins 0', run: () => toolbox.calibration(P2, [0, 1], 0), arg: 'numBins' },
  {
    call: 'calibration numBins 2.5',
    run: () => toolbox.calibration(P2, [0, 1], 2.5),
    arg: 'numBins',
  },
  {
    // a rank-1 tensor is read as p(y = 1) of a binary classifier: values must be in [0, 1]
    call: 'accuracy rank-1 tensor probs outside [0, 1]',
    run: withTensor(
      () => tf.tensor1d([0.5, 1.5]),
      (t) => toolbox.accuracy(t, [0, 1]),
    ),
    arg: 'probs',
  },
  {
    call: 'nll rank-3 tensor probs',
    run: withTensor(
      () => tf.ones([1, 1, 2]),
      (t) => toolbox.nll(t, [0]),
    ),
    arg: 'probs',
  },
  {
    call: 'accuracy int32 probability tensor',
    run: withTensor(
      () => tf.tensor2d([[1, 0]], [1, 2], 'int32'),
      (t) => toolbox.accuracy(t, [2]),
    ),
    arg: 'labels',
  },
  {
    call: 'nll with labels of rank 2',
    run: withTensor(
      () => tf.tensor2d([[0], [1]]),
      (t) => toolbox.nll(P2, t),
    ),
    arg: 'labels',
  },
  {
    call: 'predictiveEntropy of negative probabilities',
    run: () => toolbox.predictiveEntropy([[[-0.5, 1.5]]]),
    arg: 'probs',
  },
  {
    call: 'predictiveEntropy of a NaN',
    run: () => toolbox.predictiveEntropy([[[NaN, 1]]]),
    arg: 'probs',
  },
  {
    call: 'predictiveEntropy rank 2',
    run: () => toolbox.predictiveEntropy([[0.5, 0.5]]),
    arg: 'probs',
  },
  {
    call: 'predictiveEntropy no samples',
    run: withTensor(
      () => tf.zeros([0, 1, 2]),
      (t) => toolbox.predictiveEntropy(t),
    ),
    arg: 'probs',
  },
  {
    call: 'expectedEntropy rows not summing to 1',
    run: () => toolbox.expectedEntropy([[[0.9, 0.9]]]),
    arg: 'probs',
  },
  {
    call: 'mutualInformation of values > 1',
    run: () => toolbox.mutualInformation([[[2, -1]]]),
    arg: 'probs',
  },
  {
    call: 'meanProbs of a string',
    run: () => toolbox.meanProbs('x' as unknown as number[]),
    arg: 'probs',
  },
  { call: 'decompose rank 1', run: () => toolbox.decompose([0.5, 0.5]), arg: 'probs' },
  { call: 'auroc empty in-scores', run: () => toolbox.auroc([], [0.1]), arg: /inScores/ },
  { call: 'auroc NaN score', run: () => toolbox.auroc([NaN], [0.1]), arg: /inScores/ },
  { call: 'fprAtTpr tpr 1.5', run: () => toolbox.fprAtTpr([0.1, 0.2], [0.3], 1.5), arg: 'tpr' },
  { call: 'histogram bins 0', run: () => toolbox.histogram([0.5], 0), arg: 'bins' },
  { call: 'histogram lo >= hi', run: () => toolbox.histogram([0.5], 10, 1, 0), arg: 'hi' },
  // predictors: a model-backed predictor checks x against the model's input (was tfjs's
  // 'Input 0 is incompatible with layer'); predictSamplesBatched its predictor and an empty x
  {
    call: 'stochasticPredictor(model).predictSamples of x with another width',
    run: withModel((m) =>
      withTensor(
        () => tf.ones([5, 3]),
        (x) => toolbox.stochasticPredictor(m).predictSamples(x, 2),
      )(),
    ),
    arg: 'x',
  },
  {
    call: 'stochasticPredictor(model).predictSamples of a plain array',
    run: withModel((m) =>
      toolbox.stochasticPredictor(m).predictSamples([[1, 2, 3, 4]] as unknown as tf.Tensor, 2),
    ),
    arg: 'x',
  },
  {
    call: 'mcDropoutPredictor predictSamples of x with another width',
    run: withModel(
      (m) =>
        withTensor(
          () => tf.ones([5, 3]),
          (x) => toolbox.mcDropoutPredictor(m).predictSamples(x, 2),
        )(),
      true,
    ),
    arg: 'x',
  },
  {
    call: 'ensemblePredictor predictSamples of x with another width',
    run: withModel((m) =>
      withTensor(
        () => tf.ones([5, 3]),
        (x) => toolbox.ensemblePredictor([m, m]).predictSamples(x, 2),
      )(),
    ),
    arg: 'x',
  },
  {
    call: 'ensemblePredictor([null])',
    run: () => toolbox.ensemblePredictor([null as unknown as tf.LayersModel]),
    arg: 'members',
  },
  {
    call: 'predictSamplesBatched(null, ...)',
    run: withTensor(
      () => tf.ones([2, 4]),
      (x) => toolbox.predictSamplesBatched(null as unknown as toolbox.Predictor, x, 2),
    ),
    arg: 'predictor',
  },
  {
    call: 'predictSamplesBatched of 0 inputs',
    run: withModel((m) =>
      withTensor(
        () => tf.zeros([0, 4]),
        (x) => toolbox.predictSamplesBatched(toolbox.stochasticPredictor(m), x, 2),
      )(),
    ),
    arg: 'x',
  },
  {
    call: 'predictSamplesBatched numSamples 0',
    run: withModel((m) =>
      withTensor(
        () => tf.ones([2, 4]),
        (x) => toolbox.predictSamplesBatched(toolbox.stochasticPredictor(m), x, 0),
      )(),
    ),
    arg: 'numSamples',
  },
  // a null model is named (was a TypeError)
  { call: 'hasDropout(null)', run: () => toolbox.hasDropout(nullModel), arg: 'model' },
  { call: 'cloneModel(null)', run: () => toolbox.cloneModel(nullModel), arg: 'model' },
  { call: 'withMcDropout(null)', run: () => toolbox.withMcDropout(nullModel), arg: 'model' },
  {
    call: 'heteroscedasticClassifier(null, 2)',
    run: () => toolbox.heteroscedasticClassifier(nullModel, 2),
    arg: 'model',
  },
  {
    call: 'heteroscedasticClassifier numClasses 1',
    run: withModel((m) => toolbox.heteroscedasticClassifier(m, 1)),
    arg: 'numClasses',
  },
  { call: 'outputKindOf(null)', run: () => toolbox.outputKindOf(nullModel), arg: 'model' },
  { call: 'modelLogits(null)', run: () => toolbox.modelLogits(nullModel), arg: 'model' },
  {
    call: 'looksLikeProbs(null)',
    run: () => toolbox.looksLikeProbs(null as unknown as tf.Tensor),
    arg: 'out',
  },
  // an unknown kind was read as probabilities
  {
    call: "classProbs kind 'prob'",
    run: withTensor(
      () => tf.ones([2, 2]),
      (t) => toolbox.classProbs(t, 'prob' as 'probs'),
    ),
    arg: 'kind',
  },
  {
    call: "classLogits kind 'logit'",
    run: withTensor(
      () => tf.ones([2, 2]),
      (t) => toolbox.classLogits(t, 'logit' as 'logits'),
    ),
    arg: 'kind',
  },
  {
    call: 'classNll with 3 labels for 2 rows (raw tfjs before)',
    run: withTensor(
      () => tf.ones([2, 2]),
      (t) =>
        withTensor(
          () => tf.tensor1d([0, 1, 1], 'int32'),
          (y) => toolbox.classNll(t, y, 'logits'),
        )(),
    ),
    arg: 'labels',
  },
  {
    call: 'oodMetrics(null, [1])',
    run: () => toolbox.oodMetrics(null as unknown as number[], [1]),
    arg: 'inScores',
  },
  // unknown option keys (laplace-torch's / snake_case names) were ignored
  {
    call: 'lastLayerLaplace {prior_precision}',
    run: withModel((m) =>
      withTensor(
        () => tf.ones([2, 4]),
        (x) =>
          toolbox.lastLayerLaplace(m, x, [0, 1], { prior_precision: 2 } as toolbox.LaplaceOptions),
      )(),
    ),
    arg: 'prior_precision',
    message: /did you mean priorPrecision/,
  },
  {
    call: 'allLayersLaplace {hessian_structure}',
    run: withModel((m) =>
      withTensor(
        () => tf.ones([2, 4]),
        (x) =>
          toolbox.allLayersLaplace(m, x, [0, 1], {
            hessian_structure: 'diag',
          } as toolbox.AllLayersLaplaceOptions),
      )(),
    ),
    arg: 'hessian_structure',
  },
  {
    call: 'fitTemperature {max_beta}',
    run: () =>
      toolbox.fitTemperature(
        [
          [1, -1],
          [0.5, 2],
        ],
        [0, 1],
        { max_beta: 3 } as toolbox.TemperatureOptions,
      ),
    arg: 'max_beta',
  },
  {
    call: 'fitMixtureTemperature {bounds}',
    run: withTensor(
      () => tf.ones([2, 2, 2]),
      (t) =>
        toolbox.fitMixtureTemperature(t, [0, 1], {
          bounds: [1, 2],
        } as toolbox.MixtureTemperatureOptions),
    ),
    arg: 'bounds',
  },
  {
    call: 'calibrateConformal {alpah}',
    run: () => toolbox.calibrateConformal(P2, [0, 1], { alpah: 0.1 } as toolbox.ConformalOptions),
    arg: 'alpah',
  },
  {
    call: 'Swag {max_rank}',
    run: withModel((m) => new toolbox.Swag(m, { max_rank: 3 } as toolbox.SwagOptions)),
    arg: 'max_rank',
  },
  {
    call: 'trainSwag {learningRate}',
    run: withModel((m) =>
      withTensor(
        () => tf.ones([2, 4]),
        (x) => toolbox.trainSwag(m, x, [0, 1], { learningRate: 0.1 } as toolbox.TrainSwagOptions),
      )(),
    ),
    arg: 'learningRate',
    message: /options: .*lr/,
  },
  { call: 'shiftBenchmark(null)', run: () => toolbox.shiftBenchmark(loose(null)), arg: 'options' },
  {
    call: 'formatShiftTable(null)',
    run: () => toolbox.formatShiftTable(loose(null)),
    arg: 'result',
  },
];

const distributionCases: Case[] = [
  {
    call: 'Normal(loc [2], scale [3]) broadcast mismatch',
    run: () => new dist.Normal([0, 1], [1, 1, 1]).dispose(),
    arg: /loc|scale/,
  },
  { call: 'Normal scale 0', run: () => new dist.Normal(0, 0).dispose(), arg: 'scale' },
  { call: 'Normal scale NaN', run: () => new dist.Normal(0, NaN).dispose(), arg: 'scale' },
  { call: 'Normal loc Infinity', run: () => new dist.Normal(Infinity, 1).dispose(), arg: 'loc' },
  {
    call: 'Normal loc a string',
    run: () => new dist.Normal('a' as unknown as number, 1).dispose(),
    arg: 'loc',
  },
  {
    call: 'Normal.logProb of a value that does not broadcast',
    run: withDist(
      () => new dist.Normal([0, 0], [1, 1]),
      (d) => d.logProb([1, 2, 3]),
    ),
    arg: 'value',
  },
  {
    call: 'Normal.cdf of a value that does not broadcast',
    run: withDist(
      () => new dist.Normal([0, 0], [1, 1]),
      (d) => d.cdf([1, 2, 3]),
    ),
    arg: 'value',
  },
  {
    call: 'Normal.sample negative shape',
    run: withDist(
      () => new dist.Normal(0, 1),
      (d) => d.sample([-1]),
    ),
    arg: /shape/,
  },
  {
    call: 'Normal.sample fractional shape',
    run: withDist(
      () => new dist.Normal(0, 1),
      (d) => d.sample([1.5]),
    ),
    arg: /shape/,
  },
  {
    call: 'Gamma concentration -1',
    run: () => new dist.Gamma(-1, 1).dispose(),
    arg: 'concentration',
  },
  { call: 'Gamma rate 0', run: () => new dist.Gamma(1, 0).dispose(), arg: 'rate' },
  {
    call: 'Gamma broadcast mismatch',
    run: () => new dist.Gamma([1, 2], [1, 2, 3]).dispose(),
    arg: /concentration|rate/,
  },
  {
    call: 'Gamma.logProb does not broadcast',
    run: withDist(
      () => new dist.Gamma([1, 2], 1),
      (d) => d.logProb([1, 2, 3]),
    ),
    arg: 'value',
  },
  { call: 'InverseGamma rate -2', run: () => new dist.InverseGamma(1, -2).dispose(), arg: 'rate' },
  { call: 'Exponential rate -1', run: () => new dist.Exponential(-1).dispose(), arg: 'rate' },
  { call: 'Poisson rate NaN', run: () => new dist.Poisson(NaN).dispose(), arg: 'rate' },
  {
    call: 'Poisson.logProb does not broadcast',
    run: withDist(
      () => new dist.Poisson([1, 2]),
      (d) => d.logProb([1, 2, 3]),
    ),
    arg: 'value',
  },
  { call: 'HalfNormal scale -1', run: () => new dist.HalfNormal(-1).dispose(), arg: 'scale' },
  { call: 'HalfCauchy scale 0', run: () => new dist.HalfCauchy(0).dispose(), arg: 'scale' },
  {
    call: 'Beta concentration0 0',
    run: () => new dist.Beta(1, 0).dispose(),
    arg: 'concentration0',
  },
  {
    call: 'Beta broadcast mismatch',
    run: () => new dist.Beta([1, 1], [1, 1, 1]).dispose(),
    arg: /concentration/,
  },
  { call: 'Uniform low >= high', run: () => new dist.Uniform(1, 0).dispose(), arg: /low|high/ },
  {
    call: 'Weibull concentration 0',
    run: () => new dist.Weibull(1, 0).dispose(),
    arg: 'concentration',
  },
  { call: 'StudentT df 0', run: () => new dist.StudentT(0, 0, 1).dispose(), arg: 'df' },
  { call: 'Laplace scale -1', run: () => new dist.Laplace(0, -1).dispose(), arg: 'scale' },
  {
    call: 'Bernoulli probs 1.5',
    run: () => new dist.Bernoulli({ probs: 1.5 }).dispose(),
    arg: 'probs',
  },
  {
    call: 'Bernoulli both probs and logits',
    run: () => new dist.Bernoulli({ probs: 0.5, logits: 0 }).dispose(),
    arg: /probs/,
  },
  {
    call: 'Bernoulli logits NaN',
    run: () => new dist.Bernoulli({ logits: NaN }).dispose(),
    arg: 'logits',
  },
  {
    call: 'Binomial totalCount 2.5',
    run: () => new dist.Binomial(2.5, { probs: 0.5 }).dispose(),
    arg: 'totalCount',
  },
  {
    call: 'Binomial probs -0.1',
    run: () => new dist.Binomial(3, { probs: -0.1 }).dispose(),
    arg: 'probs',
  },
  {
    call: 'Binomial broadcast mismatch',
    run: () => new dist.Binomial([1, 2], { probs: [0.1, 0.2, 0.3] }).dispose(),
    arg: /totalCount|probs/,
  },
  {
    call: 'NegativeBinomial probs 1',
    run: () => new dist.NegativeBinomial(2, { probs: 1 }).dispose(),
    arg: 'probs',
  },
  {
    call: 'NegativeBinomial totalCount 0',
    run: () => new dist.NegativeBinomial(0, { probs: 0.5 }).dispose(),
    arg: 'totalCount',
  },
  {
    call: 'Geometric probs 0',
    run: () => new dist.Geometric({ probs: 0 }).dispose(),
    arg: 'probs',
  },
  {
    call: 'Categorical probs not summing to 1',
    run: () => new dist.Categorical({ probs: [0.5, 0.6] }).dispose(),
    arg: 'probs',
  },
  {
    call: 'Categorical scalar probs',
    run: () => new dist.Categorical({ probs: 1 }).dispose(),
    arg: 'probs',
  },
  {
    call: 'Categorical.logProb does not broadcast',
    run: withDist(
      () =>
        new dist.Categorical({
          probs: [
            [0.5, 0.5],
            [0.2, 0.8],
          ],
        }),
      (d) => d.logProb([0, 1, 1]),
    ),
    arg: 'value',
  },
  {
    call: 'Multinomial totalCount -1',
    run: () => new dist.Multinomial(-1, { probs: [0.5, 0.5] }).dispose(),
    arg: 'totalCount',
  },
  {
    call: 'Multinomial.logProb wrong event size',
    run: withDist(
      () => new dist.Multinomial(2, { probs: [0.5, 0.5] }),
      (d) => d.logProb([1, 1, 0]),
    ),
    arg: 'value',
  },
  {
    call: 'Dirichlet([1,1,1]).logProb([.5,.5,.5]) off the simplex',
    run: withDist(
      () => new dist.Dirichlet([1, 1, 1], { validateArgs: true }),
      (d) => d.logProb([0.5, 0.5, 0.5]),
    ),
    arg: 'value',
  },
  {
    call: 'Dirichlet concentration 0',
    run: () => new dist.Dirichlet([1, 0]).dispose(),
    arg: 'concentration',
  },
  {
    call: 'Dirichlet scalar concentration',
    run: () => new dist.Dirichlet(1).dispose(),
    arg: 'concentration',
  },
  {
    call: 'Dirichlet.logProb wrong event size',
    run: withDist(
      () => new dist.Dirichlet([1, 1, 1]),
      (d) => d.logProb([0.5, 0.5]),
    ),
    arg: 'value',
  },
  {
    call: 'MultivariateNormal non-PD covariance',
    run: () =>
      new dist.MultivariateNormal([0, 0], {
        covarianceMatrix: [
          [1, 2],
          [2, 1],
        ],
      }).dispose(),
    arg: 'covarianceMatrix',
  },
  {
    call: 'MultivariateNormal loc/scale size mismatch',
    run: () =>
      new dist.MultivariateNormal([0, 0, 0], {
        scaleTril: [
          [1, 0],
          [0, 1],
        ],
      }).dispose(),
    arg: /loc|scaleTril/,
  },
  {
    call: 'MultivariateNormal.logProb wrong event size',
    run: withDist(
      () =>
        new dist.MultivariateNormal([0, 0], {
          scaleTril: [
            [1, 0],
            [0, 1],
          ],
        }),
      (d) => d.logProb([1, 2, 3]),
    ),
    arg: 'value',
  },
  {
    call: 'LowRankMultivariateNormal covDiag 0',
    run: () => new dist.LowRankMultivariateNormal([0, 0], [[1], [1]], [1, 0]).dispose(),
    arg: 'covDiag',
  },
  {
    call: 'Independent reinterpreting too many dims',
    run: withDist(
      () => new dist.Normal([0, 0], [1, 1]),
      (d) => new dist.Independent(d, 2),
    ),
    arg: /reinterpreted/,
  },
  {
    call: 'expand to an incompatible batch shape',
    run: withDist(
      () => new dist.Normal([0, 0], [1, 1]),
      (d) => d.expand([3]),
    ),
    arg: /batchShape/,
  },
  {
    // (unequal counts are no longer bad input: +Infinity where n_p > n_q as torch, the exact
    // sum where n_p < n_q; batches that do not broadcast still are)
    call: 'klDivergence of binomials whose batches do not broadcast',
    run: () => {
      const p = new dist.Binomial([3, 3], { probs: 0.5 });
      const q = new dist.Binomial([4, 4, 4], { probs: 0.5 });
      try {
        return dist.klDivergence(p, q);
      } finally {
        p.dispose();
        q.dispose();
      }
    },
    arg: 'p/q',
  },
];

const bijectorCases: Case[] = [
  {
    call: 'Exp.inverse of a string',
    run: () => new bij.Exp().inverse('x' as unknown as number),
    arg: /y|value/,
  },
  { call: 'ScalarAffine scale 0', run: () => new bij.ScalarAffine(0, 0), arg: 'scale' },
  {
    call: 'Affine shift/scale broadcast mismatch',
    run: () => new bij.Affine([0, 0], [1, 1, 1]).dispose(),
    arg: /shift|scale|loc/,
  },
  {
    call: 'LowerCholeskyTransform.forward of length 4',
    run: () => new bij.LowerCholeskyTransform().forward([1, 2, 3, 4]),
    arg: 'x',
  },
  {
    call: 'CorrCholeskyTransform.forward of a scalar',
    run: () => new bij.CorrCholeskyTransform().forward(1),
    arg: 'x',
  },
  {
    call: 'CorrCholeskyTransform.forward of length 2',
    run: () => new bij.CorrCholeskyTransform().forward([1, 2]),
    arg: 'x',
  },
  {
    call: 'StickBreaking.forward of a scalar',
    run: () => new bij.StickBreaking().forward(1),
    arg: 'x',
  },
  { call: 'PowerTransform power NaN', run: () => new bij.PowerTransform(NaN), arg: 'power' },
  {
    call: 'Chain of a non-bijector',
    run: () => new bij.Chain([1 as unknown as bij.Bijector]),
    arg: /bijectors/,
  },
  {
    call: 'IndependentTransform negative ndims',
    run: () => new bij.IndependentTransform(new bij.Exp(), -1),
    arg: /reinterpreted/,
  },
  {
    call: 'TransformedDistribution of a non-bijector',
    run: withDist(
      () => new dist.Normal(0, 1),
      (d) => new dist.TransformedDistribution(d, 3 as unknown as bij.Bijector),
    ),
    arg: /bijector|transform/,
  },
  // a point with fewer dims than one event was a raw tfjs error
  {
    call: 'IndependentTransform(Exp, 1).forward of a scalar',
    run: () => {
      const b = new bij.IndependentTransform(new bij.Exp(), 1);
      try {
        return b.forward(1);
      } finally {
        b.dispose();
      }
    },
    arg: 'x',
  },
  {
    call: 'StickBreaking.inverse of a scalar',
    run: () => new bij.StickBreaking().inverse(0.5),
    arg: 'y',
  },
  {
    call: 'CholeskyOuter.forward of a 2x3 matrix',
    run: () =>
      new bij.CholeskyOuter().forward([
        [1, 0, 0],
        [0, 1, 0],
      ]),
    arg: 'x',
  },
];

const layerCases: Case[] = [
  {
    call: 'DenseReparam outChannels 0',
    run: () => new layers.DenseReparam({ outChannels: 0 }),
    arg: /outChannels|units/,
  },
  {
    call: 'DenseReparam outChannels 2.5',
    run: () => new layers.DenseReparam({ outChannels: 2.5 }),
    arg: /outChannels|units/,
  },
  {
    call: 'ConvReparam kernelSize -1',
    run: () => new layers.ConvReparam({ outChannels: 2, kernelSize: -1 }),
    arg: 'kernelSize',
  },
  {
    call: 'DenseReparam unknown activation',
    run: () => new layers.DenseReparam({ outChannels: 2, activation: 'nope' }),
    arg: 'activation',
  },
  {
    call: 'klSchedule of an unknown name',
    run: () => layers.parseKLWeight('sometimes'),
    arg: /kl/i,
  },
  // unknown option keys, numEpochs 0 and null containers were accepted before
  {
    call: 'ELBOLoss unknown option',
    run: withLayerModel(
      (m) => new layers.ELBOLoss(m, loose({ datasetSize: 10, dataset_size: 10 })),
    ),
    arg: 'dataset_size',
  },
  {
    call: 'ELBOLoss numEpochs 0',
    run: withLayerModel((m) => new layers.ELBOLoss(m, { datasetSize: 10, numEpochs: 0 })),
    arg: 'numEpochs',
  },
  {
    call: 'soenderbyKL {warmup}',
    run: () => layers.soenderbyKL(loose({ warmup: 5 })),
    arg: 'warmup',
  },
  {
    call: "soenderbyKL perStep 'yes'",
    run: () => layers.soenderbyKL(loose({ perStep: 'yes' })),
    arg: 'perStep',
  },
  {
    call: 'bayesianLayers(null) (was [])',
    run: () => layers.bayesianLayers(loose(null)),
    arg: 'model',
  },
  { call: 'modelKL(null) (was 0)', run: () => layers.modelKL(loose(null)), arg: 'model' },
  {
    call: 'numBayesianParams(null) (was 0)',
    run: () => layers.numBayesianParams(loose(null)),
    arg: 'model',
  },
  {
    call: "setMode(null, 'mean') (was [])",
    run: () => layers.setMode(loose(null), 'mean'),
    arg: 'model',
  },
  {
    call: 'rademacher([2.5]) (raw tfjs before)',
    run: () => layers.rademacher([2.5]),
    arg: 'shape',
  },
  {
    call: 'meanSquaredError(null, t) (TypeError before)',
    run: withTensor(
      () => tf.ones([2]),
      (t) => layers.meanSquaredError(loose(null), t),
    ),
    arg: 'output',
  },
  {
    call: 'softmaxCrossEntropy of a plain array (TypeError before)',
    run: () => layers.softmaxCrossEntropy(loose([[1, 2]]), loose([0])),
    arg: 'logits',
  },
  {
    call: 'transforms.summarizeModel(null)',
    run: () => transforms.summarizeModel(nullModel),
    arg: 'model',
  },
  {
    call: 'transforms.denseView(null)',
    run: () => transforms.denseView(loose(null)),
    arg: 'layer',
  },
];

/** Run `f` and clear the parameter store afterwards (its parameters are state, not leaks). */
function inFreshStore(f: () => unknown): void {
  try {
    const out = f();
    if (out instanceof tf.Tensor) out.dispose();
  } finally {
    ppl.clearParamStore();
  }
}

/** One `SVI.step` with a fresh SGD optimizer (disposed afterwards: its learning rate is a tensor). */
function sviStep(model: () => void, guide: () => void): number {
  const opt = tf.train.sgd(0.01);
  try {
    return new ppl.SVI(model, guide, opt, new ppl.TraceELBO()).step();
  } finally {
    opt.dispose();
  }
}

const pplCases: Case[] = [
  {
    call: 'SVI with a guide missing a model site',
    arg: 'b',
    run: () => {
      const model = () => {
        ppl.sample('a', new dist.Normal(0, 1));
        ppl.sample('b', new dist.Normal(0, 1));
      };
      const guide = () => {
        ppl.sample('a', new dist.Normal(ppl.param('qa', 0), 1));
      };
      inFreshStore(() => sviStep(model, guide));
    },
  },
  {
    call: 'SVI with an extra guide site',
    arg: 'c',
    run: () => {
      const model = () => {
        ppl.sample('a', new dist.Normal(0, 1));
      };
      const guide = () => {
        ppl.sample('a', new dist.Normal(ppl.param('qa', 0), 1));
        ppl.sample('c', new dist.Normal(0, 1));
      };
      inFreshStore(() => sviStep(model, guide));
    },
  },
  {
    call: 'sample with a non-distribution',
    run: () => ppl.trace(() => ppl.sample('x', 3 as unknown as dist.Distribution)).getTrace(),
    arg: /dist|x/,
  },
  { call: 'plate size 0', run: () => ppl.plate('p', 0, () => undefined), arg: /size/ },
  {
    call: 'TraceELBO numParticles 0',
    run: () => new ppl.TraceELBO({ numParticles: 0 }),
    arg: 'numParticles',
  },
  {
    call: 'param with an unknown constraint',
    run: () =>
      inFreshStore(() =>
        ppl.param('w', 1, { constraint: 'nope' as unknown as ppl.constraints.Constraint }),
      ),
    arg: /constraint/,
  },
];

describe('API bad-input table (test:faults)', () => {
  afterEach(() => {
    ppl.clearParamStore();
    clearSeed();
  });
  const tables: Record<string, Case[]> = {
    toolbox: toolboxCases,
    distributions: distributionCases,
    bijectors: bijectorCases,
    layers: layerCases,
    ppl: pplCases,
  };
  const all = Object.entries(tables).flatMap(([area, cases]) =>
    cases.map((c) => [area, c.call, c] as [string, string, Case]),
  );
  it.each(all)('%s: %s', async (_area, _call, c) => {
    setSeed(1);
    await expectBadInput(c);
  });
});

/**
 * Bad-looking calls whose answer is defined and correct (not errors): a scalar family's
 * log-density outside its support is `-Infinity` (its support is an elementwise set; Pyro's
 * `validate_args` would raise, deepprob documents `-Infinity`), an empty histogram has zero
 * counts.
 */
describe('API bad-looking calls with a correct value (test:faults)', () => {
  it('logProb outside a scalar support is -Infinity, with no leak', () => {
    for (const [make, x] of [
      [() => new dist.Beta(2, 2, { validateArgs: true }), 1.5],
      [() => new dist.Poisson(2, { validateArgs: true }), -1],
      [() => new dist.Gamma(2, 1), -0.5],
    ] as Array<[() => dist.Distribution, number]>) {
      const before = tf.memory().numTensors;
      const d = make();
      const lp = d.logProb(x);
      expect(lp.dataSync()[0]).toBe(-Infinity);
      lp.dispose();
      d.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });
  it('histogram of no values has zero counts', () => {
    expect(toolbox.histogram([], 4).counts).toEqual([0, 0, 0, 0]);
  });
});
