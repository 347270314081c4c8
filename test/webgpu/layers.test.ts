/**
 * Every Bayesian layer and estimator on webgpu against wasm: the sampled output, the KL and the
 * gradients of `sum(c * layer(x)) + KL` w.r.t. every mu and rho, with the same seed on both
 * backends (deepprob's seeded normal generator gives the same noise on both), within float32
 * tolerance. Also the fused variational and Normal ops on their own.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BayesianLayer,
  ConvFlipout,
  ConvLocalReparam,
  ConvReparam,
  DenseFlipout,
  DenseLocalReparam,
  DenseReparam,
  scaleMixturePrior,
} from '../../src/layers/index.js';
import {
  klSoftplusNormal,
  localReparamSample,
  softplusReparam,
  softplusSquare,
} from '../../src/backend/fused.js';
import { normalLogProb, normalLogProbSum, normalRsample } from '../../src/backend/normal_fused.js';
import { randomNormal } from '../../src/backend/random.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { fixedArray } from '../layers/reference.js';
import { onBackend, values, webgpuForTests } from './backends.js';

const why = await webgpuForTests();
const TOL = { rtol: 2e-4, atol: 2e-5 };

interface Case {
  name: string;
  make: () => BayesianLayer;
  xShape: number[];
}

const conv = { inChannels: 2, outChannels: 3, kernelSize: 3, hasBias: true, activation: 'tanh' };
const cases: Case[] = [
  {
    name: 'DenseReparam',
    make: () => new DenseReparam({ inChannels: 5, outChannels: 4, activation: 'tanh' }),
    xShape: [6, 5],
  },
  {
    name: 'DenseLocalReparam',
    make: () => new DenseLocalReparam({ inChannels: 5, outChannels: 4, activation: 'relu' }),
    xShape: [6, 5],
  },
  {
    name: 'DenseFlipout',
    make: () => new DenseFlipout({ inChannels: 5, outChannels: 4, activation: 'tanh' }),
    xShape: [6, 5],
  },
  {
    name: 'DenseReparam, scale-mixture prior (Monte Carlo KL)',
    make: () =>
      new DenseReparam({ inChannels: 5, outChannels: 4, prior: scaleMixturePrior(0.5, 1, 0.1) }),
    xShape: [6, 5],
  },
  {
    name: 'DenseReparam, centred prior',
    make: () => new DenseReparam({ inChannels: 5, outChannels: 4, centredPrior: true }),
    xShape: [6, 5],
  },
  { name: 'ConvReparam', make: () => new ConvReparam({ ...conv }), xShape: [2, 6, 6, 2] },
  {
    name: 'ConvLocalReparam',
    make: () => new ConvLocalReparam({ ...conv, padMode: 'same' }),
    xShape: [2, 6, 6, 2],
  },
  {
    name: 'ConvFlipout',
    make: () => new ConvFlipout({ ...conv, stride: 2, padMode: 'pad', padding: 1 }),
    xShape: [2, 6, 6, 2],
  },
];

const SEED = 1234;

/** SwiftShader compiles every shader on first use: slow on a loaded 2-core machine. */
const SLOW = { timeout: 600_000 };

describe.skipIf(why !== undefined)('Bayesian layers on webgpu vs wasm', SLOW, () => {
  beforeAll(() => clearSeed());

  it.each(cases)('$name: output, KL and gradients agree', async (c) => {
    const before = tf.memory().numTensors;
    setSeed(5);
    const layer = c.make();
    const n = c.xShape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(fixedArray(n, 3, -1, 1), c.xShape);
    tf.dispose(layer.apply(x) as tf.Tensor);
    tf.tidy(() => layer.setPosterior({ kernelSigma: 0.3, biasSigma: 0.2 }));
    const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const outShape = tf.tidy(() => (layer.apply(x) as tf.Tensor).shape);
    const cw = tf.tensor(
      fixedArray(
        outShape.reduce((a, b) => a * b, 1),
        5,
        -1,
        1,
      ),
      outShape,
    );
    const run = (): number[][] =>
      tf.tidy(() => {
        setSeed(SEED);
        const y = layer.apply(x) as tf.Tensor;
        const kl = layer.kl();
        setSeed(SEED);
        const { value, grads } = tf.variableGrads(
          () => tf.add(tf.sum(tf.mul(layer.apply(x) as tf.Tensor, cw)), layer.kl()) as tf.Scalar,
          weights,
        );
        return values([y, kl, value, ...weights.map((w) => grads[w.name] as tf.Tensor)]);
      });
    const onWasm = run();
    const onGpu = await onBackend('webgpu', run);
    expect(onGpu.length).toBe(onWasm.length);
    onWasm.forEach((ref, i) => expect(onGpu[i], `output ${i}`).toBeAllclose(ref, TOL));
    // the objective depends on the noise: equal values mean equal noise on both backends
    expect(Math.max(...(onWasm[4] as number[]).map(Math.abs))).toBeGreaterThan(1e-3);
    tf.dispose([x, cw]);
    layer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.skipIf(why !== undefined)('fused ops on webgpu vs wasm', SLOW, () => {
  const mu = tf.tensor(fixedArray(24, 11, -1, 1), [4, 6]);
  const rho = tf.tensor(fixedArray(24, 12, -4, 1), [4, 6]);
  const x = tf.tensor(fixedArray(24, 13, -2, 2), [4, 6]);
  const scale = tf.tensor(fixedArray(6, 14, 0.2, 2), [6]);
  const check = async (f: () => tf.Tensor[]): Promise<void> => {
    const before = tf.memory().numTensors;
    const run = (): number[][] => tf.tidy(() => values(f()));
    const a = run();
    const b = await onBackend('webgpu', run);
    a.forEach((ref, i) => expect(b[i], `output ${i}`).toBeAllclose(ref, TOL));
    expect(tf.memory().numTensors).toBe(before);
  };

  it('randomNormal: the same bits for the same seed', async () => {
    const draw = (): number[][] => tf.tidy(() => values([randomNormal([1001], 0.5, 2, 99)]));
    const a = draw();
    const b = await onBackend('webgpu', draw);
    expect(b[0]).toEqual(a[0]);
  });

  it('softplusReparam, klSoftplusNormal, softplusSquare: values and gradients', async () => {
    await check(() => {
      const g = tf.grads((m: tf.Tensor, r: tf.Tensor) =>
        tf.add(
          tf.sum(tf.mul(softplusReparam(m, r, 7), x)),
          tf.add(klSoftplusNormal(m, r, 0.1, 0.5), tf.sum(softplusSquare(r))),
        ),
      );
      return [softplusReparam(mu, rho, 7), klSoftplusNormal(mu, rho, x, 0.3), ...g([mu, rho])];
    });
  });

  it('localReparamSample: values and gradients', async () => {
    await check(() => {
      const v = tf.square(rho);
      const g = tf.grads((m: tf.Tensor, s: tf.Tensor) =>
        tf.sum(tf.mul(localReparamSample(m, s, 1e-8, 3), x)),
      );
      return [localReparamSample(mu, v, 1e-8, 3), ...g([mu, v])];
    });
  });

  it('Normal rsample, logProb, logProbSum: values and gradients', async () => {
    await check(() => {
      const g = tf.grads((l: tf.Tensor, s: tf.Tensor, y: tf.Tensor) =>
        tf.add(
          tf.sum(tf.mul(normalRsample(l, s, [4, 6], 21), y)),
          tf.add(tf.sum(normalLogProb(y, l, s)), normalLogProbSum(y, l, s)),
        ),
      );
      return [
        normalRsample(mu, scale, [4, 6], 21),
        normalLogProb(x, mu, scale),
        ...g([mu, scale, x]),
      ];
    });
  });
});
