/**
 * MindSpore's argument rules (get*Args / add*Args), bad inputs, the MOPED posterior scales and
 * the float32-safe softplus inverse.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BayesianLayer, DenseFlipout, ConvLocalReparam } from '../../src/layers/index.js';
import {
  TransformToBNN,
  posteriorRho,
  transformToBnn,
  type ConvView,
} from '../../src/transforms/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectNoLeak } from '../helpers.js';
import { lenetNet, vggNet } from './nets.js';

function bayes(model: tf.LayersModel, name: string): BayesianLayer {
  const l = model.getLayer(name);
  if (!(l instanceof BayesianLayer)) throw new Error(`${name} is not Bayesian`);
  return l;
}

describe('MindSpore argument rules', () => {
  it('add*Args may not repeat a key of get*Args (clear error naming the option and key)', async () => {
    const dnn = lenetNet();
    const t = new TransformToBNN(dnn);
    await expect(t.transformToBnnModel({ addDenseArgs: { outChannels: 3 } })).rejects.toThrow(
      /addDenseArgs: may not repeat arguments taken from the DNN layer \(outChannels\)/,
    );
    await expect(t.transformToBnnModel({ addConvArgs: { kernelSize: 3 } })).rejects.toThrow(
      /addConvArgs: .*\(kernelSize\)/,
    );
    await expect(
      t.transformToBnnLayer('Dense', 'DenseReparam', { addArgs: { hasBias: false } }),
    ).rejects.toThrow(ArgumentError);
    // A key removed from the getter may be added.
    const { model } = await t.transformToBnnModel({
      getDenseArgs: (dp) => ({ inChannels: dp.inChannels, outChannels: dp.outChannels }),
      addDenseArgs: { hasBias: false, priorSigma: 0.05 },
      addConvArgs: { priorSigma: 0.2 },
    });
    expect(bayes(model, 'fc1').hasBias).toBe(false);
    expect(bayes(model, 'fc1').prior).toEqual({ type: 'normal', mu: 0, sigma: 0.05 });
    expect(bayes(model, 'conv1').prior).toEqual({ type: 'normal', mu: 0, sigma: 0.2 });
    // The activation was not taken: fc1 became linear (its ReLU is a separate layer anyway).
    expect(bayes(model, 'fc1').activation).toBe('linear');
    model.dispose();
    dnn.dispose();
  });

  it('getters see the MindSpore view of the layer', async () => {
    const dnn = vggNet();
    const seen: ConvView[] = [];
    const { model } = await new TransformToBNN(dnn).transformToBnnLayer(
      'Conv2D',
      ConvLocalReparam,
      {
        getArgs: (dp: ConvView) => {
          seen.push(dp);
          return {
            inChannels: dp.inChannels,
            outChannels: dp.outChannels,
            kernelSize: dp.kernelSize,
            stride: dp.stride,
            padMode: dp.padMode,
            dilation: dp.dilation,
            hasBias: dp.hasBias,
            activation: dp.activation,
          };
        },
      },
    );
    expect(seen.map((v) => [v.name, v.inChannels, v.outChannels])).toEqual([
      ['block1_conv1', 3, 8],
      ['block1_conv2', 8, 8],
      ['block2_conv1', 8, 12],
      ['block2_conv2', 12, 12],
    ]);
    expect(seen[2]?.dilation).toEqual([2, 2]);
    expect(seen[3]?.stride).toEqual([2, 2]);
    expect(seen[3]?.padMode).toBe('valid');
    expect(seen.every((v) => v.hasBias && v.activation === 'relu')).toBe(true);
    expect(model.getLayer('block2_conv2').getClassName()).toBe('ConvLocalReparam');
    expect(model.getLayer('fc1').getClassName()).toBe('Dense');
    model.dispose();
    dnn.dispose();
  });
});

describe('bad inputs give errors naming the argument', () => {
  it('model must be a LayersModel', async () => {
    await expect(transformToBnn({} as unknown as tf.LayersModel)).rejects.toThrow(
      /^model: expected a tf.LayersModel/,
    );
    expect(
      () => new TransformToBNN(tf.layers.dense({ units: 2 }) as unknown as tf.LayersModel),
    ).toThrow(/model: expected a tf.LayersModel/);
  });

  it('unknown estimator, layers, init, factors, moped', async () => {
    const dnn = lenetNet();
    const bad = (o: Record<string, unknown>) =>
      transformToBnn(dnn, o as unknown as Parameters<typeof transformToBnn>[1]);
    await expect(bad({ estimator: 'mcdropout' })).rejects.toThrow(/^estimator: .*'mcdropout'/);
    await expect(bad({ layers: 'pool' })).rejects.toThrow(/^layers: /);
    await expect(bad({ init: 'random' })).rejects.toThrow(/^init: /);
    await expect(bad({ dnnFactor: -1 })).rejects.toThrow(/^dnnFactor: /);
    await expect(bad({ bnnFactor: Number.NaN })).rejects.toThrow(/^bnnFactor: /);
    await expect(bad({ moped: 0 })).rejects.toThrow(/^moped: /);
    await expect(bad({ posteriorSigma: -1 })).rejects.toThrow(/^posteriorSigma: /);
    dnn.dispose();
  });

  it('wrong bnnLayerType kind or unknown dnnLayerType', async () => {
    const dnn = lenetNet();
    const t = new TransformToBNN(dnn);
    await expect(t.transformToBnnLayer('Dense', 'ConvReparam')).rejects.toThrow(
      /^bnnLayerType: ConvReparam cannot replace a Dense layer/,
    );
    await expect(t.transformToBnnLayer('Conv2D', DenseFlipout)).rejects.toThrow(
      /^bnnLayerType: DenseFlipout cannot replace a Conv2D layer/,
    );
    await expect(t.transformToBnnLayer('Conv2D', 'Conv2D')).rejects.toThrow(/^bnnLayerType: /);
    await expect(
      t.transformToBnnLayer('MaxPooling2D' as unknown as 'Dense', 'DenseReparam'),
    ).rejects.toThrow(/^dnnLayerType: /);
    dnn.dispose();
  });

  it('an activation without a Bayesian counterpart names the layer', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 2, activation: 'hardSigmoid', name: 'h' }),
      ],
    });
    // hardSigmoid is supported; patch the config read by the getter to an unsupported name.
    const { model } = await transformToBnn(dnn);
    expect(bayes(model, 'h').activation).toBe('hardSigmoid');
    model.dispose();
    await expect(
      new TransformToBNN(dnn).transformToBnnModel({
        getDenseArgs: (dp) => ({ outChannels: dp.outChannels, activation: 'crelu' }),
      }),
    ).rejects.toThrow(/model: layer 'h': activation 'crelu'/);
    dnn.dispose();
  });
});

describe('posterior initialisation', () => {
  it('MOPED: posterior means are the DNN weights and sigma = delta * |w|', async () => {
    const dnn = lenetNet();
    for (const delta of [0.1, 0.03]) {
      const { model } = await transformToBnn(dnn, { moped: delta, estimator: 'local' });
      for (const name of ['conv1', 'fc1', 'fc3']) {
        const [w, b] = dnn.getLayer(name).getWeights();
        const p = bayes(model, name).getPosterior();
        expect(p.kernelMu).toBeAllclose(w as tf.Tensor, { rtol: 0, atol: 0 });
        // (floored at 1e-8 so that rho stays finite)
        const absW = Array.from((w as tf.Tensor).dataSync()).map((v) =>
          Math.max(delta * Math.abs(v), 1e-8),
        );
        expect(p.kernelSigma).toBeAllclose(absW, { rtol: 1e-4, atol: 1e-9 });
        if (b !== undefined) {
          expect(p.biasMu).toBeAllclose(b, { rtol: 0, atol: 0 });
          // Zero biases get the floor 1e-8.
          const absB = Array.from(b.dataSync()).map((v) => Math.max(delta * Math.abs(v), 1e-8));
          expect(p.biasSigma).toBeAllclose(absB, { rtol: 1e-4, atol: 1e-12 });
        }
        tf.dispose([p.kernelMu, p.kernelSigma, p.biasMu, p.biasSigma] as tf.Tensor[]);
      }
      model.dispose();
    }
    dnn.dispose();
  });

  it("posteriorSigma sets a constant scale; init 'fresh' keeps the layers' own init", async () => {
    const dnn = lenetNet();
    const a = await transformToBnn(dnn, { posteriorSigma: 0.02 });
    const p = bayes(a.model, 'fc2').getPosterior();
    expect(p.kernelSigma).toBeAllclose(0.02, { rtol: 1e-4 });
    tf.dispose([p.kernelMu, p.kernelSigma, p.biasMu, p.biasSigma] as tf.Tensor[]);
    a.model.dispose();

    const f = await transformToBnn(dnn, {
      init: 'fresh',
      addDenseArgs: { posteriorRhoInitial: [-5, 0.01] },
    });
    const q = bayes(f.model, 'fc2').getPosterior();
    const w = dnn.getLayer('fc2').getWeights()[0] as tf.Tensor;
    const maxDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(q.kernelMu, w))).dataSync()[0] as number);
    expect(maxDiff).toBeGreaterThan(1e-3);
    // rho ~ N(-5, 0.01^2): sigma = softplus(rho) within 6 std of softplus(-5).
    expect(q.kernelSigma).toBeAllclose(Math.log1p(Math.exp(-5)), { rtol: 0.07 });
    tf.dispose([q.kernelMu, q.kernelSigma, q.biasMu, q.biasSigma] as tf.Tensor[]);
    f.model.dispose();
    dnn.dispose();
  });

  it('posteriorRho inverts softplus in float32 from 1e-12 to 50 (reference: float64)', () => {
    const sigmas = [
      1e-12, 1e-8, 1e-5, 9.99e-4, 1e-3, 1.01e-3, 0.01, 0.1, 0.5, 1, 3, 19.9, 20.1, 50,
    ];
    const ref = sigmas.map((s) => (s > 30 ? s : Math.log(Math.expm1(s))));
    const input = tf.tensor1d(sigmas);
    const got = expectNoLeak(() => posteriorRho(input));
    input.dispose();
    expect(got).toBeAllclose(ref, { rtol: 2e-5, atol: 1e-6 });
    // And softplus(rho) gives sigma back.
    const back = expectNoLeak(() => tf.tidy(() => tf.softplus(posteriorRho(tf.tensor1d(sigmas)))));
    expect(back.slice(2)).toBeAllclose(sigmas.slice(2), { rtol: 1e-4 });
  });
});

describe('nested models', () => {
  it('layers inside a nested Sequential are converted, names and weights kept', async () => {
    const inner = tf.sequential({
      name: 'features',
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, name: 'c1' }),
        tf.layers.flatten({ name: 'flat' }),
      ],
    });
    const input = tf.input({ shape: [8, 8, 1] });
    const h = inner.apply(input) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, name: 'head' }).apply(h) as tf.SymbolicTensor;
    const dnn = tf.model({ inputs: input, outputs: out });
    const x = tf.randomNormal([2, 8, 8, 1]);
    const y = dnn.predict(x) as tf.Tensor;
    const { model, converted, summary } = await transformToBnn(dnn, { posteriorSigma: 1e-8 });
    expect(converted.map((c) => c.path)).toEqual(['features/c1', 'head']);
    expect(summary()).toMatch(/\(features\) Sequential\n {4}\(c1\) ConvReparam {2}\[Bayesian\]/);
    const nested = model.getLayer('features') as tf.LayersModel;
    expect(nested.layers.map((l) => l.getClassName())).toEqual(['ConvReparam', 'Flatten']);
    const y2 = model.predict(x) as tf.Tensor;
    expect(y2).toBeAllclose(y, { rtol: 1e-4, atol: 1e-5 });
    tf.dispose([x, y, y2]);
    model.dispose();
    dnn.dispose();
  });
});
