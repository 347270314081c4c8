/**
 * DNN -> BNN conversion through tfjs's wrappers and recurrent states: a `Bidirectional` over an
 * LSTM / GRU / SimpleRNN becomes a `BidirectionalVariational` (each direction's posterior started
 * from that direction's DNN weights), a `TimeDistributed` over a Dense / Conv2D a
 * `TimeDistributedVariational`, and an encoder-decoder whose decoder LSTM starts from the
 * encoder's returned states keeps that connection; in mean mode each converted model predicts as
 * its DNN (1e-5), saves and loads, and its KL covers both directions; `transformToBnnLayer`
 * reaches wrapped layers; a wrapped SeparableConv2D is refused naming the model.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bayesianLayers,
  setMode,
  type BidirectionalVariational,
  type RecurrentVariational,
} from '../../src/layers/index.js';
import {
  summarizeModel,
  TransformToBNN,
  transformToBnn,
  type Estimator,
} from '../../src/transforms/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput, saveAndLoad } from '../helpers.js';

beforeAll(() => setSeed(29));
afterAll(() => clearSeed());

const maxAbs = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
const outputs = (y: tf.Tensor | tf.Tensor[]): tf.Tensor[] => (Array.isArray(y) ? y : [y]);

/** Non-zero weights everywhere (tfjs starts biases at 0). */
function randomize(model: tf.LayersModel, seed: number): void {
  tf.tidy(() =>
    model.setWeights(
      model.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.5, 'float32', seed + i)),
    ),
  );
}

/** The mean-mode predictions of the conversion of `dnn` against the DNN's, then dispose. */
async function expectMeanModeIsDnn(
  dnn: tf.LayersModel,
  xs: tf.Tensor | tf.Tensor[],
  estimator: Estimator,
): Promise<tf.LayersModel> {
  const { model } = await transformToBnn(dnn, { estimator });
  setMode(model, 'mean');
  const want = outputs(dnn.predict(xs) as tf.Tensor | tf.Tensor[]);
  const got = outputs(model.predict(xs) as tf.Tensor | tf.Tensor[]);
  expect(got.map((t) => t.shape)).toEqual(want.map((t) => t.shape));
  got.forEach((g, i) => expect(maxAbs(g, want[i]!)).toBeLessThan(1e-5));
  tf.dispose([...want, ...got]);
  return model;
}

/** A bidirectional text classifier: embedding, a bidirectional recurrence over the tokens, Dense. */
function textClassifier(
  cell: 'lstm' | 'gru' | 'simpleRNN',
  mergeMode: 'concat' | 'sum' | 'mul' | 'ave',
  maskZero = false,
): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: 20, outputDim: 4, inputLength: 6, maskZero, name: 'emb' }),
      tf.layers.bidirectional({
        layer: tf.layers[cell]({ units: 3, returnSequences: true, name: 'seq' }) as tf.RNN,
        mergeMode,
        name: 'bi1',
      }),
      tf.layers.bidirectional({
        layer: tf.layers[cell]({ units: 2, goBackwards: true, name: 'last' }) as tf.RNN,
        mergeMode: 'concat',
        name: 'bi2',
      }),
      tf.layers.dense({ units: 3, name: 'out' }),
    ],
  });
  randomize(model, 100);
  return model;
}

const tokens = (): tf.Tensor =>
  tf.tensor2d([
    [1, 4, 7, 2, 19, 3],
    [5, 5, 0, 11, 8, 13],
  ]);

describe('Bidirectional conversion', () => {
  it.each([
    { cell: 'lstm', mergeMode: 'concat', estimator: 'reparam' },
    { cell: 'gru', mergeMode: 'sum', estimator: 'flipout', maskZero: true },
    { cell: 'simpleRNN', mergeMode: 'mul', estimator: 'local' },
    { cell: 'lstm', mergeMode: 'ave', estimator: 'flipout' },
  ] as const)(
    '$cell text classifier, merge $mergeMode, $estimator: mean mode predicts as the DNN',
    async ({ cell, mergeMode, estimator, ...rest }) => {
      const dnn = textClassifier(cell, mergeMode, 'maskZero' in rest);
      const x = tokens();
      const before = tf.memory().numTensors;
      const { model, converted } = await transformToBnn(dnn, { estimator });
      const kind = { lstm: 'LSTM', gru: 'GRU', simpleRNN: 'SimpleRNN' }[cell];
      expect(converted.map((c) => [c.name, c.from, c.wrapper])).toEqual([
        ['bi1', kind, 'Bidirectional'],
        ['bi2', kind, 'Bidirectional'],
        ['out', 'Dense', undefined],
      ]);
      expect(model.layers.map((l) => l.getClassName())).toContain('BidirectionalVariational');
      const bi = model.getLayer('bi1') as BidirectionalVariational;
      expect(bi.getConfig().mergeMode).toBe(mergeMode);
      expect(bi.forward.getClassName()).toBe(converted[0]!.to);
      expect([bi.forward.name, bi.backward.name]).toEqual(['forward_seq', 'backward_seq']);
      expect([bi.forward.goBackwards, bi.backward.goBackwards]).toEqual([false, true]);
      // 2 directions x 2 wrappers + the Dense; each direction started from its DNN weights
      expect(bayesianLayers(model).length).toBe(5);
      const dnnBi = dnn.getLayer('bi1').getWeights();
      tf.tidy(() => {
        const mu = bi.backward.getPosterior().kernelMu;
        const want = tf.concat([dnnBi[3]!, dnnBi[4]!], 0);
        expect(maxAbs(mu, want)).toBe(0);
      });
      expect(summarizeModel(model)).toMatch(/\(bi1\) BidirectionalVariational {2}merge_mode=/);
      setMode(model, 'mean');
      const want = dnn.predict(x) as tf.Tensor;
      const got = model.predict(x) as tf.Tensor;
      expect(maxAbs(got, want)).toBeLessThan(1e-5);
      setMode(model, 'sample');
      const sampled = model.predict(x) as tf.Tensor;
      expect(maxAbs(sampled, want)).toBeGreaterThan(1e-5);
      tf.dispose([want, got, sampled]);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      dnn.dispose();
    },
  );

  it('merge mode null (two outputs), returned states, save and load', async () => {
    const input = tf.input({ shape: [5, 3] });
    const [f, b, ...states] = tf.layers
      .bidirectional({
        layer: tf.layers.lstm({ units: 3, returnSequences: true, returnState: true }) as tf.RNN,
        mergeMode: null as unknown as 'concat',
        name: 'bi',
      })
      .apply(input) as tf.SymbolicTensor[];
    const dense = tf.layers.dense({ units: 2 });
    const dnn = tf.model({
      inputs: input,
      outputs: [dense.apply(f!), dense.apply(b!), ...states] as tf.SymbolicTensor[],
    });
    randomize(dnn, 7);
    const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 1);
    const model = await expectMeanModeIsDnn(dnn, x, 'reparam');
    const loaded = await saveAndLoad(model);
    setMode(loaded, 'mean');
    const [p, q] = [model.predict(x) as tf.Tensor[], loaded.predict(x) as tf.Tensor[]];
    expect(q.length).toBe(6);
    p.forEach((t, i) => expect(maxAbs(t, q[i]!)).toBe(0));
    tf.dispose([x, ...p, ...q]);
    loaded.dispose();
    model.dispose();
    dnn.dispose();
  });

  it('mopedPrior: each direction gets the MOPED class and its DNN weights as prior means', async () => {
    const dnn = textClassifier('gru', 'concat');
    const { model } = await transformToBnn(dnn, { mopedPrior: true, estimator: 'local' });
    const bi = model.getLayer('bi1') as BidirectionalVariational;
    expect(bi.backward.getClassName()).toBe('MopedGRULocalReparam');
    const w = dnn.getLayer('bi1').getWeights();
    tf.tidy(() => {
      const { kernel, bias } = bi.backward.getPriorMean();
      expect(maxAbs(kernel, tf.concat([w[3]!, w[4]!], 0))).toBe(0);
      expect(maxAbs(bias as tf.Tensor, w[5]!)).toBe(0);
    });
    model.dispose();
    dnn.dispose();
  });

  it('a Bidirectional LSTM with dropout is refused naming the model and the wrapper', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.bidirectional({
          layer: tf.layers.lstm({ units: 2, dropout: 0.2 }) as tf.RNN,
          inputShape: [3, 2],
          name: 'bi',
        }),
      ],
    });
    await expectBadInput({
      call: 'Bidirectional(LSTM, dropout)',
      run: () => transformToBnn(dnn),
      arg: 'model',
      message: /Bidirectional 'bi'.*dropout 0\.2/,
    });
    dnn.dispose();
  });

  it('transformToBnnLayer converts the LSTMs inside Bidirectionals only', async () => {
    const dnn = textClassifier('lstm', 'concat');
    const { model, converted } = await new TransformToBNN(dnn).transformToBnnLayer(
      'LSTM',
      'LSTMFlipout',
    );
    expect(converted.map((c) => `${c.name}:${c.to}`)).toEqual([
      'bi1:LSTMFlipout',
      'bi2:LSTMFlipout',
    ]);
    expect(model.getLayer('out').getClassName()).toBe('Dense');
    model.dispose();
    dnn.dispose();
  });
});

describe('seq2seq (decoder started from the encoder states) conversion', () => {
  function seq2seq(cell: 'lstm' | 'gru'): tf.LayersModel {
    const encIn = tf.input({ shape: [5, 3], name: 'enc_in' });
    const decIn = tf.input({ shape: [4, 2], name: 'dec_in' });
    const [, ...states] = tf.layers[cell]({ units: 4, returnState: true, name: 'enc' }).apply(
      encIn,
    ) as tf.SymbolicTensor[];
    const seq = tf.layers[cell]({ units: 4, returnSequences: true, name: 'dec' }).apply(decIn, {
      initialState: states,
    }) as tf.SymbolicTensor;
    const out = tf.layers
      .timeDistributed({ layer: tf.layers.dense({ units: 3, activation: 'softmax' }), name: 'td' })
      .apply(seq) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [encIn, decIn], outputs: out });
    randomize(model, 40);
    return model;
  }

  it.each([
    ['lstm', 'reparam'],
    ['gru', 'flipout'],
  ] as const)('%s, %s: mean mode predicts as the DNN; save and load', async (cell, estimator) => {
    const dnn = seq2seq(cell);
    const xs = [
      tf.randomNormal([2, 5, 3], 0, 1, 'float32', 2),
      tf.randomNormal([2, 4, 2], 0, 1, 'float32', 3),
    ];
    const before = tf.memory().numTensors;
    const model = await expectMeanModeIsDnn(dnn, xs, estimator);
    expect(model.getLayer('td').getClassName()).toBe('TimeDistributedVariational');
    expect((model.getLayer('enc') as RecurrentVariational).returnState).toBe(true);
    // the decoder still reads the encoder's states: other states, other outputs
    tf.tidy(() => {
      const enc = model.getLayer('enc') as RecurrentVariational;
      const p = enc.getPosterior();
      const a = model.predict(xs) as tf.Tensor;
      enc.setPosterior({ kernelMu: tf.mul(p.kernelMu, 2) });
      const b = model.predict(xs) as tf.Tensor;
      enc.setPosterior({ kernelMu: p.kernelMu });
      expect(maxAbs(a, b)).toBeGreaterThan(1e-4);
    });
    const loaded = await saveAndLoad(model);
    setMode(loaded, 'mean');
    const [p, q] = [model.predict(xs) as tf.Tensor, loaded.predict(xs) as tf.Tensor];
    expect(maxAbs(p, q)).toBe(0);
    tf.dispose([p, q]);
    loaded.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(xs);
    dnn.dispose();
  });
});

describe('TimeDistributed conversion', () => {
  it('TimeDistributed Conv2D and Dense (frames -> per-frame scores)', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.timeDistributed({
          layer: tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu' }),
          inputShape: [3, 6, 6, 1],
          name: 'conv',
        }),
        tf.layers.timeDistributed({ layer: tf.layers.flatten(), name: 'flat' }),
        tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2 }), name: 'dense' }),
      ],
    });
    randomize(dnn, 60);
    const x = tf.randomNormal([2, 3, 6, 6, 1], 0, 1, 'float32', 5);
    const before = tf.memory().numTensors;
    const model = await expectMeanModeIsDnn(dnn, x, 'local');
    expect(model.layers.map((l) => l.getClassName())).toEqual([
      'TimeDistributedVariational',
      'TimeDistributed',
      'TimeDistributedVariational',
    ]);
    // the Bayesian Conv2D's kernel is the DNN's [3, 3, 1, 2]
    expect(bayesianLayers(model)[0]!.getWeights()[0]!.shape).toEqual([3, 3, 1, 2]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    dnn.dispose();
  });

  it('a TimeDistributed SeparableConv2D is refused naming the model', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.timeDistributed({
          layer: tf.layers.separableConv2d({ filters: 2, kernelSize: 3 }),
          inputShape: [2, 5, 5, 1],
          name: 'sep',
        }),
      ],
    });
    await expectBadInput({
      call: 'TimeDistributed(SeparableConv2D)',
      run: () => transformToBnn(dnn),
      arg: 'model',
      message: /'sep'.*SeparableConv2D/,
    });
    dnn.dispose();
  });
});
