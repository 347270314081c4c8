/**
 * DNN -> BNN conversion of tfjs `GRU` and `SimpleRNN` layers: the kernel mean is
 * `[W; U] = concat(kernel, recurrentKernel)` (`[in + u, 3u]` / `[in + u, u]`), so with a tiny
 * posterior scale the converted `[GRU(returnSequences), SimpleRNN, Dense]` predicts as the DNN
 * (mean mode and sampled); MOPED scales and centred priors follow the same layout; stateful and
 * dropout layers are refused naming the layer; getters and extra arguments are per kind.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GRUVariational, type RecurrentVariational } from '../../src/layers/index.js';
import {
  gruView,
  simpleRnnView,
  summarizeModel,
  TransformToBNN,
  transformToBnn,
  type Estimator,
} from '../../src/transforms/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { maxAbs } from '../layers/recurrent_checks.js';
import { expectPredictsAsDnn } from './recurrent_conversion.js';

beforeAll(() => setSeed(17));
afterAll(() => clearSeed());

function rnn(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.gru({ units: 4, returnSequences: true, inputShape: [5, 3], name: 'g' }),
      tf.layers.simpleRNN({ units: 3, goBackwards: true, activation: 'relu', name: 's' }),
      tf.layers.dense({ units: 2, name: 'out' }),
    ],
  });
  // non-trivial biases (tfjs starts them at 0)
  for (const name of ['g', 's']) {
    const l = model.getLayer(name);
    tf.tidy(() =>
      l.setWeights(l.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.5, 'float32', i))),
    );
  }
  return model;
}

describe('GRU and SimpleRNN conversion', () => {
  it.each(['reparam', 'local', 'flipout'] as Estimator[])(
    '%s: with posteriorSigma 1e-8 the BNN predicts as the DNN',
    async (estimator) => {
      const dnn = rnn();
      const before = tf.memory().numTensors;
      const { model, converted } = await transformToBnn(dnn, { estimator, posteriorSigma: 1e-8 });
      expect(converted.map((c) => [c.name, c.from])).toEqual([
        ['g', 'GRU'],
        ['s', 'SimpleRNN'],
        ['out', 'Dense'],
      ]);
      if (estimator === 'reparam') {
        expect(model.layers.map((l) => l.getClassName())).toEqual([
          'GRUReparam',
          'SimpleRNNReparam',
          'DenseReparam',
        ]);
        expect(summarizeModel(model)).toContain('(s) SimpleRNNReparam  [Bayesian]');
        expect(summarizeModel(dnn)).toContain('(g) GRU  units=4, activation=tanh');
      }
      const g = model.getLayer('g') as GRUVariational;
      expect([g.units, g.returnSequences, g.recurrentActivation, g.outChannels]).toEqual([
        4,
        true,
        'hardSigmoid',
        12,
      ]);
      const s = model.getLayer('s') as RecurrentVariational;
      expect([s.units, s.goBackwards, s.activation]).toEqual([3, true, 'relu']);
      expectPredictsAsDnn(model, dnn);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
      dnn.dispose();
    },
  );

  it('MOPED: mu = [W; U], sigma = delta |[W; U]|, prior centred on the same layout', async () => {
    const dnn = rnn();
    const t = new TransformToBNN(dnn, { moped: 0.2, mopedPrior: true, estimator: 'flipout' });
    const { model } = await t.transformToBnnModel();
    expect(model.layers.map((l) => l.getClassName())).toEqual([
      'MopedGRUFlipout',
      'MopedSimpleRNNFlipout',
      'MopedDenseFlipout',
    ]);
    for (const name of ['g', 's']) {
      const [k, r, b] = dnn.getLayer(name).getWeights() as [tf.Tensor, tf.Tensor, tf.Tensor];
      const l = model.getLayer(name) as RecurrentVariational;
      tf.tidy(() => {
        const want = tf.concat([k, r], 0);
        const post = l.getPosterior();
        expect(maxAbs(post.kernelMu, want)).toBe(0);
        expect(maxAbs(post.biasMu as tf.Tensor, b)).toBe(0);
        expect(maxAbs(l.getPriorMean().kernel, want)).toBe(0);
        expect(maxAbs(post.kernelSigma, tf.maximum(tf.mul(tf.abs(want), 0.2), 1e-8))).toBeLessThan(
          1e-6,
        );
      });
    }
    model.dispose();
    dnn.dispose();
  });

  it('one type at a time, getters and extra arguments per kind', async () => {
    const dnn = rnn();
    const t = new TransformToBNN(dnn, { posteriorSigma: 1e-8 });
    const onlyGru = await t.transformToBnnLayer('GRU', 'GRULocalReparam', {
      addArgs: { priorSigma: 0.3 },
    });
    expect(onlyGru.model.layers.map((l) => l.getClassName())).toEqual([
      'GRULocalReparam',
      'SimpleRNN',
      'Dense',
    ]);
    expect((onlyGru.model.getLayer('g') as GRUVariational).prior).toEqual({
      type: 'normal',
      mu: 0,
      sigma: 0.3,
    });
    const all = await t.transformToBnnModel({
      getSimpleRnnArgs: (dp) => ({ units: dp.units, activation: dp.activation, goBackwards: true }),
      addSimpleRnnArgs: { priorSigma: 0.2 },
      addGruArgs: { priorSigma: 0.4 },
    });
    expect((all.model.getLayer('s') as RecurrentVariational).prior).toMatchObject({ sigma: 0.2 });
    expect((all.model.getLayer('g') as RecurrentVariational).prior).toMatchObject({ sigma: 0.4 });
    const conv = await transformToBnn(dnn, { layers: 'dense' });
    expect(conv.model.layers.map((l) => l.getClassName())).toEqual([
      'GRU',
      'SimpleRNN',
      'DenseReparam',
    ]);
    for (const m of [onlyGru.model, all.model, conv.model]) m.dispose();
    dnn.dispose();
  });

  it('an Embedding(maskZero) -> GRU text model converts and keeps the padding mask', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 12, outputDim: 4, maskZero: true, inputLength: 6 }),
        tf.layers.gru({ units: 5, name: 'enc' }),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    const { model, converted } = await transformToBnn(dnn, {
      posteriorSigma: 1e-8,
      estimator: 'local',
    });
    expect(converted.map((c) => c.to)).toEqual(['GRULocalReparam', 'DenseLocalReparam']);
    const x = tf.tensor2d(
      [
        [3, 7, 1, 0, 0, 0],
        [5, 2, 9, 11, 4, 0],
      ],
      undefined,
      'int32',
    );
    const a = dnn.predict(x) as tf.Tensor;
    const b = model.predict(x) as tf.Tensor;
    expect(maxAbs(a, b)).toBeLessThan(1e-4);
    tf.dispose([x, a, b]);
    model.dispose();
    dnn.dispose();
  });

  it('stateful and dropout layers are refused naming the layer; wrong targets are named', async () => {
    const makers = [
      (a: object): tf.layers.Layer => tf.layers.gru(a as Parameters<typeof tf.layers.gru>[0]),
      (a: object): tf.layers.Layer =>
        tf.layers.simpleRNN(a as Parameters<typeof tf.layers.simpleRNN>[0]),
    ];
    for (const mk of makers) {
      for (const extra of [{ dropout: 0.2 }, { recurrentDropout: 0.1 }]) {
        const dnn = tf.sequential({
          layers: [mk({ units: 2, inputShape: [3, 2], name: 'drop', ...extra })],
        });
        const before = tf.memory().numTensors;
        await expect(transformToBnn(dnn)).rejects.toThrow(/^model: layer 'drop'.*dropout/i);
        expect(tf.memory().numTensors).toBe(before);
        dnn.dispose();
      }
    }
    const st = tf.sequential({
      layers: [tf.layers.gru({ units: 2, batchInputShape: [1, 3, 2], stateful: true, name: 'sg' })],
    });
    expect(() => gruView(st.getLayer('sg'))).toThrow(/layer 'sg'.*GRU.*stateful/);
    st.dispose();
    const rs = tf.sequential({
      layers: [tf.layers.simpleRNN({ units: 2, inputShape: [3, 2], name: 'rs' })],
    });
    expect(simpleRnnView(rs.getLayer('rs')).units).toBe(2);
    expect(() => gruView(rs.getLayer('rs'))).toThrow(ArgumentError);
    rs.dispose();
    const dnn = rnn();
    const t = new TransformToBNN(dnn);
    await expect(t.transformToBnnLayer('GRU', 'LSTMReparam')).rejects.toThrow(/bnnLayerType/);
    await expect(t.transformToBnnLayer('SimpleRNN', 'GRUReparam')).rejects.toThrow(/bnnLayerType/);
    await expect(t.transformToBnnModel({ addGruArgs: { units: 9 } })).rejects.toThrow(/addGruArgs/);
    await expect(
      t.transformToBnnModel({ getGruArgs: 1 } as unknown as Parameters<
        typeof t.transformToBnnModel
      >[0]),
    ).rejects.toThrow();
    dnn.dispose();
  });
});
