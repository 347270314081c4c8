/**
 * Each layer's output distribution matches its estimator's math, for fixed inputs and fixed
 * posterior parameters: over many calls, per output element,
 *   mean = op(x, mu) + mu_b,  variance = op(x^2, sigma^2) + sigma_b^2,
 * and across two examples of the same call
 *   reparam: cov = op(x0 * x1, sigma^2) + sigma_b^2 (shared weight sample),
 *   local reparam / flipout: cov = sigma_b^2 (only the bias sample is shared).
 * References are float64 loops (reference.ts); tolerances are 4.5 standard errors.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BayesianLayer,
  ConvFlipout,
  ConvLocalReparam,
  ConvReparam,
  DenseFlipout,
  DenseLocalReparam,
  DenseReparam,
  type BayesianLayerArgs,
} from '../../src/layers/index.js';
import { setSeed, clearSeed } from '../../src/utils/seed.js';
import {
  fixedArray,
  mapArr,
  moments,
  refConv2d,
  refDense,
  softplus,
  type Arr,
} from './reference.js';

type Estimator = 'reparam' | 'local' | 'flipout';
interface Case {
  name: string;
  estimator: Estimator;
  make: (args: BayesianLayerArgs) => BayesianLayer;
  kind: 'dense' | 'conv';
}

const S_DENSE = 1000;
const S_CONV = 700;
/** Tolerance in standard errors (the seed is fixed, so the test is deterministic). */
const Z = 4.5;

const cases: Case[] = [
  { name: 'DenseReparam', estimator: 'reparam', kind: 'dense', make: (a) => new DenseReparam(a) },
  {
    name: 'DenseLocalReparam',
    estimator: 'local',
    kind: 'dense',
    make: (a) => new DenseLocalReparam(a),
  },
  { name: 'DenseFlipout', estimator: 'flipout', kind: 'dense', make: (a) => new DenseFlipout(a) },
  {
    name: 'ConvReparam',
    estimator: 'reparam',
    kind: 'conv',
    make: (a) => new ConvReparam({ ...a, kernelSize: 3, padMode: 'same' }),
  },
  {
    name: 'ConvLocalReparam',
    estimator: 'local',
    kind: 'conv',
    make: (a) => new ConvLocalReparam({ ...a, kernelSize: 3, padMode: 'same' }),
  },
  {
    name: 'ConvFlipout',
    estimator: 'flipout',
    kind: 'conv',
    make: (a) => new ConvFlipout({ ...a, kernelSize: 3, padMode: 'same' }),
  },
];

beforeAll(() => setSeed(20240611));
afterAll(() => clearSeed());

describe.each(cases)('$name output distribution', (c) => {
  it('has the analytic mean, variance and cross-example covariance', () => {
    const S = c.kind === 'dense' ? S_DENSE : S_CONV;
    const before = tf.memory().numTensors;
    const inC = c.kind === 'dense' ? 3 : 2;
    const outC = 2;
    const xShape = c.kind === 'dense' ? [2, 3] : [2, 4, 4, 2];
    const xData =
      c.kind === 'dense' ? [1, -0.5, 2, 0.8, 0.3, 1.5] : fixedArray(2 * 4 * 4 * 2, 7, -1, 1.5);
    const layer = c.make({ inChannels: inC, outChannels: outC, hasBias: true });
    const x = tf.tensor(xData, xShape);
    tf.dispose(layer.apply(x) as tf.Tensor); // build
    const kShape = c.kind === 'dense' ? [inC, outC] : [3, 3, inC, outC];
    const kSize = kShape.reduce((a, b) => a * b, 1);
    const kMu = fixedArray(kSize, 11, -0.8, 0.8);
    const kRho = fixedArray(kSize, 12, -2, -0.5);
    const bMu = [0.3, -0.2];
    const bRho = [-0.5, 0.3]; // bias variance comparable to the kernel's
    tf.tidy(() =>
      layer.setPosterior({
        kernelMu: tf.tensor(kMu, kShape),
        kernelRho: tf.tensor(kRho, kShape),
        biasMu: bMu,
        biasRho: bRho,
      }),
    );

    const samples = tf.tidy(() => {
      const outs: tf.Tensor[] = [];
      for (let s = 0; s < S; s++) outs.push(layer.apply(x) as tf.Tensor);
      return tf.stack(outs);
    });
    const values = samples.dataSync();
    const perSample = values.length / S;
    const per = perSample / 2; // outputs per example
    const { mean, variance } = moments(values, S, perSample);

    // float64 references
    const X: Arr = { data: xData, shape: xShape };
    const K: Arr = { data: kMu, shape: kShape };
    const sig2: Arr = { data: kRho.map((r) => softplus(r) ** 2), shape: kShape };
    const bSig2 = bRho.map((r) => softplus(r) ** 2);
    const op = (a: Arr, k: Arr): Arr => (c.kind === 'dense' ? refDense(a, k) : refConv2d(a, k));
    const refMean = op(X, K).data.map((v, i) => v + (bMu[i % outC] as number));
    const refVar = op(
      mapArr(X, (v) => v * v),
      sig2,
    ).data.map((v, i) => v + (bSig2[i % outC] as number));
    const x0 = xData.slice(0, xData.length / 2);
    const x1 = xData.slice(xData.length / 2);
    const prodShape = [1, ...xShape.slice(1)];
    const crossW = op(
      { data: x0.map((v, i) => v * (x1[i] as number)), shape: prodShape },
      sig2,
    ).data;
    const refCov = crossW.map(
      (v, i) => (c.estimator === 'reparam' ? v : 0) + (bSig2[i % outC] as number),
    );

    for (let j = 0; j < perSample; j++) {
      const m = refMean[j] as number;
      const v = refVar[j] as number;
      expect(Math.abs((mean[j] as number) - m)).toBeLessThan(Z * Math.sqrt(v / S));
      expect(Math.abs((variance[j] as number) - v)).toBeLessThan(Z * v * Math.sqrt(2 / (S - 1)));
    }
    // covariance between example 0 and example 1 at the same output coordinate
    for (let j = 0; j < per; j++) {
      let cov = 0;
      for (let s = 0; s < S; s++) {
        cov +=
          ((values[s * perSample + j] as number) - (mean[j] as number)) *
          ((values[s * perSample + per + j] as number) - (mean[per + j] as number));
      }
      cov /= S - 1;
      const v0 = refVar[j] as number;
      const v1 = refVar[per + j] as number;
      const ref = refCov[j] as number;
      expect(Math.abs(cov - ref)).toBeLessThan(Z * Math.sqrt((v0 * v1 + ref * ref) / S));
    }
    // the covariance test can tell the estimators apart (the reparam cross term is large)
    if (c.estimator === 'reparam') {
      const maxCross = Math.max(
        ...crossW.map(
          (v, i) => Math.abs(v) / Math.sqrt((refVar[i] as number) * (refVar[per + i] as number)),
        ),
      );
      expect(maxCross).toBeGreaterThan(Z / Math.sqrt(S) + 0.05);
    }

    // 'mean' mode is the deterministic op(x, mu) + mu_b
    layer.mode = 'mean';
    const frozen = layer.apply(x) as tf.Tensor;
    expect(frozen).toBeAllclose(refMean, { rtol: 1e-5, atol: 1e-5 });
    layer.mode = 'sample';
    tf.dispose([samples, frozen, x]);
    layer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
