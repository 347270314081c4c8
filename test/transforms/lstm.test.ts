/**
 * DNN -> BNN conversion of tfjs `LSTM` layers (bayesian-torch's `dnn_to_bnn` converts LSTMs):
 * the kernel mean is `[W; U] = concat(kernel, recurrentKernel)`, so with a tiny posterior scale
 * the converted model predicts as the DNN (mean mode and sampled); MOPED scales follow the same
 * layout; `layers: 'dense' | 'conv'` leave LSTMs alone; stateful / dropout LSTMs are refused
 * naming the layer.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setMode, type LSTMVariational } from '../../src/layers/index.js';
import {
  lstmView,
  summarizeModel,
  TransformToBNN,
  transformToBnn,
  type Estimator,
} from '../../src/transforms/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { maxAbs } from '../layers/recurrent_checks.js';
import { expectPredictsAsDnn } from './recurrent_conversion.js';

beforeAll(() => setSeed(13));
afterAll(() => clearSeed());

function rnn(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.lstm({ units: 4, returnSequences: true, inputShape: [5, 3], name: 'l1' }),
      tf.layers.lstm({
        units: 3,
        goBackwards: true,
        recurrentActivation: 'sigmoid',
        useBias: false,
        name: 'l2',
      }),
      tf.layers.dense({ units: 2, name: 'out' }),
    ],
  });
  // non-trivial biases (tfjs starts them at 0 / 1)
  const l1 = model.getLayer('l1');
  tf.tidy(() =>
    l1.setWeights(l1.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.5, 'float32', i))),
  );
  return model;
}

describe('LSTM conversion', () => {
  it.each(['reparam', 'local', 'flipout'] as Estimator[])(
    '%s: with posteriorSigma 1e-8 the BNN predicts as the DNN',
    async (estimator) => {
      const dnn = rnn();
      const before = tf.memory().numTensors;
      const { model, converted } = await transformToBnn(dnn, {
        estimator,
        posteriorSigma: 1e-8,
      });
      expect(converted.map((c) => [c.name, c.from])).toEqual([
        ['l1', 'LSTM'],
        ['l2', 'LSTM'],
        ['out', 'Dense'],
      ]);
      if (estimator === 'reparam') {
        expect(summarizeModel(model)).toContain(
          '(l2) LSTMReparam  [Bayesian]\n    in_channels=4, activation=tanh, units=3, ' +
            'use_bias=False, recurrent_activation=sigmoid, return_sequences=False, go_backwards=True',
        );
        expect(summarizeModel(dnn)).toContain('(l1) LSTM  units=4, activation=tanh');
      }
      const l2 = model.getLayer('l2') as LSTMVariational;
      expect([l2.units, l2.goBackwards, l2.hasBias, l2.recurrentActivation]).toEqual([
        3,
        true,
        false,
        'sigmoid',
      ]);
      expectPredictsAsDnn(model, dnn);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
      dnn.dispose();
    },
  );

  it('MOPED: mu = [W; U], sigma = delta |[W; U]|, prior centred on the same layout', async () => {
    const dnn = rnn();
    const t = new TransformToBNN(dnn, { moped: 0.2, mopedPrior: true, estimator: 'flipout' });
    const { model } = await t.transformToBnnLayer('LSTM', 'LSTMFlipout');
    expect(model.layers.map((l) => l.getClassName())).toEqual([
      'MopedLSTMFlipout',
      'MopedLSTMFlipout',
      'Dense',
    ]);
    const [k, r, b] = dnn.getLayer('l1').getWeights() as [tf.Tensor, tf.Tensor, tf.Tensor];
    const l1 = model.getLayer('l1') as LSTMVariational;
    tf.tidy(() => {
      const want = tf.concat([k, r], 0);
      const post = l1.getPosterior();
      const prior = l1.getPriorMean();
      expect(maxAbs(post.kernelMu, want)).toBe(0);
      expect(maxAbs(post.biasMu as tf.Tensor, b)).toBe(0);
      expect(maxAbs(prior.kernel, want)).toBe(0);
      expect(maxAbs(post.kernelSigma, tf.maximum(tf.mul(tf.abs(want), 0.2), 1e-8))).toBeLessThan(
        1e-6,
      );
    });
    model.dispose();
    dnn.dispose();
  });

  it("layers: 'dense' and 'conv' leave the LSTMs deterministic; a functional model converts", async () => {
    const dnn = rnn();
    const dense = await transformToBnn(dnn, { layers: 'dense' });
    expect(dense.model.layers.map((l) => l.getClassName())).toEqual([
      'LSTM',
      'LSTM',
      'DenseReparam',
    ]);
    const conv = await transformToBnn(dnn, { layers: 'conv' });
    expect(conv.converted).toEqual([]);
    dense.model.dispose();
    conv.model.dispose();
    dnn.dispose();
    const input = tf.input({ shape: [6, 2] });
    const h = tf.layers.lstm({ units: 3, name: 'enc' }).apply(input) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 1 }).apply(h) as tf.SymbolicTensor;
    const fn = tf.model({ inputs: input, outputs: out });
    const { model } = await transformToBnn(fn, {
      posteriorSigma: 1e-8,
      addLstmArgs: { priorSigma: 0.5 },
    });
    expect((model.getLayer('enc') as LSTMVariational).prior).toEqual({
      type: 'normal',
      mu: 0,
      sigma: 0.5,
    });
    setMode(model, 'mean');
    const x = tf.randomNormal([2, 6, 2], 0, 1, 'float32', 4);
    const a = fn.predict(x) as tf.Tensor;
    const c = model.predict(x) as tf.Tensor;
    expect(maxAbs(a, c)).toBeLessThan(1e-5);
    tf.dispose([x, a, c]);
    model.dispose();
    fn.dispose();
  });

  it('an Embedding(maskZero) -> LSTM text model converts and keeps the padding mask', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 12, outputDim: 4, maskZero: true, inputLength: 6 }),
        tf.layers.lstm({ units: 5, name: 'enc' }),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    const { model, converted } = await transformToBnn(dnn, {
      posteriorSigma: 1e-8,
      estimator: 'flipout',
    });
    expect(converted.map((c) => c.to)).toEqual(['LSTMFlipout', 'DenseFlipout']);
    setMode(model, 'mean');
    const x = tf.tensor2d(
      [
        [3, 7, 1, 0, 0, 0],
        [5, 2, 9, 11, 4, 0],
        [3, 7, 1, 0, 0, 8],
      ],
      undefined,
      'int32',
    );
    const a = dnn.predict(x) as tf.Tensor;
    const b = model.predict(x) as tf.Tensor;
    expect(maxAbs(a, b)).toBeLessThan(1e-5);
    const rows = b.arraySync() as number[][];
    // example 0 and 2 differ only in a step the mask does not hide
    expect(Math.abs((rows[0]?.[0] ?? 0) - (rows[2]?.[0] ?? 0))).toBeGreaterThan(1e-6);
    tf.dispose([x, a, b]);
    model.dispose();
    dnn.dispose();
  });

  it('stateful and dropout LSTMs are refused naming the layer; wrong targets are named', async () => {
    for (const extra of [{ dropout: 0.2 }, { recurrentDropout: 0.1 }]) {
      const dnn = tf.sequential({
        layers: [tf.layers.lstm({ units: 2, inputShape: [3, 2], name: 'drop', ...extra })],
      });
      const before = tf.memory().numTensors;
      await expect(transformToBnn(dnn)).rejects.toThrow(/^model: layer 'drop'.*dropout/i);
      expect(tf.memory().numTensors).toBe(before);
      dnn.dispose();
    }
    const st = tf.sequential({
      layers: [tf.layers.lstm({ units: 2, batchInputShape: [1, 3, 2], stateful: true, name: 's' })],
    });
    expect(() => lstmView(st.getLayer('s'))).toThrow(/layer 's'.*stateful/);
    st.dispose();
    const dnn = rnn();
    const t = new TransformToBNN(dnn);
    await expect(t.transformToBnnLayer('LSTM', 'DenseReparam')).rejects.toThrow(ArgumentError);
    await expect(t.transformToBnnLayer('Dense', 'LSTMReparam')).rejects.toThrow(/bnnLayerType/);
    await expect(t.transformToBnnModel({ addLstmArgs: { units: 9 } })).rejects.toThrow(
      /addLstmArgs/,
    );
    dnn.dispose();
  });
});
