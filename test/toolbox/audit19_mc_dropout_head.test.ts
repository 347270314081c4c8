/**
 * Audit 19: the MC-dropout copy of `UncertaintyEvaluation` off MNIST. `withMcDropout` put the
 * dropout after a Sequential's first dense/conv layer even when that layer is the output head (an
 * Embedding + LSTM + Dense text classifier, a linear regressor): the copy's outputs were dropped
 * (half the logits zeroed, a regression prediction 0 or twice its value). The dropout now goes on
 * the head's input. Checked: the layer order, inference outputs equal to the model's, the MC
 * variance of a linear model with input dropout against its closed form
 * `Var = p/(1-p) sum_i w_i^2 x_i^2`, and (seeded) a tabular MLP's epistemic variance larger far
 * from its training data than on it.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { setSeed, toolbox } from '../../src/index.js';
import { expectNoLeakAsync } from '../helpers.js';

describe('audit19 withMcDropout on a model whose first dense layer is its head', () => {
  it('Embedding + LSTM + Dense: dropout on the head input; UncertaintyEvaluation shapes', async () => {
    setSeed(3);
    const m = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 20, outputDim: 4, inputLength: 6 }),
        tf.layers.lstm({ units: 5 }),
        tf.layers.dense({ units: 3 }),
      ],
    });
    const x = tf.tensor2d(
      Array.from({ length: 48 }, (_, i) => (i * 7) % 20),
      [8, 6],
      'int32',
    );
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
    const copy = await toolbox.withMcDropout(m, 0.5);
    expect(copy.layers.map((l) => l.getClassName())).toEqual([
      'Embedding',
      'LSTM',
      'Dropout',
      'Dense',
    ]);
    const a = m.predict(x) as tf.Tensor;
    const b = copy.predict(x) as tf.Tensor;
    expect(b).toBeAllclose(a, { rtol: 1e-6 });
    tf.dispose([a, b]);
    copy.dispose();
    const ue = new toolbox.UncertaintyEvaluation({
      model: m,
      trainDataset: { x, y },
      taskType: 'classification',
      numClasses: 3,
      epochs: 1,
      seed: 1,
    });
    // the copies are trained once, then the evaluations leave no tensor behind
    const epi = await ue.epistemicModel();
    await ue.aleatoricModel();
    await expectNoLeakAsync(async () => {
      const e = await ue.evalEpistemicUncertainty(x);
      const al = await ue.evalAleatoricUncertainty(x);
      expect(e.shape).toEqual([8, 3]);
      expect(al.shape).toEqual([8]);
      expect(Array.from(e.dataSync()).every((v) => v >= 0 && Number.isFinite(v))).toBe(true);
      return [e, al];
    });
    expect(epi.layers.map((l) => l.getClassName())).toEqual([
      'Embedding',
      'LSTM',
      'Dropout',
      'Dense',
    ]);
    ue.dispose();
    tf.dispose([x, y]);
    m.dispose();
  });

  it('a linear regressor: input dropout, MC variance = p/(1-p) sum w_i^2 x_i^2 within its SE', async () => {
    setSeed(5);
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
    m.setWeights([tf.tensor2d([[1.5], [-2]]), tf.tensor1d([0.25])]);
    const p = 0.3;
    const copy = await toolbox.withMcDropout(m, p);
    expect(copy.layers.map((l) => l.getClassName())).toEqual(['Dropout', 'Dense']);
    expect(copy.inputs[0]?.shape).toEqual([null, 2]);
    const point = [0.8, 1.1];
    const T = 4000;
    const xs = tf.tile(tf.tensor2d([point]), [T, 1]);
    const out = tf.tidy(() => copy.apply(xs, { training: true }) as tf.Tensor);
    const v = Float64Array.from(out.dataSync());
    tf.dispose([xs, out]);
    const mean = v.reduce((s, a) => s + a, 0) / T;
    const m2 = v.reduce((s, a) => s + (a - mean) ** 2, 0) / T;
    const m4 = v.reduce((s, a) => s + (a - mean) ** 4, 0) / T;
    const exact = (p / (1 - p)) * (1.5 ** 2 * 0.8 ** 2 + 2 ** 2 * 1.1 ** 2);
    const se = Math.sqrt((m4 - m2 * m2) / T);
    expect(Math.abs(m2 - exact)).toBeLessThan(4 * se);
    // the inference output is the model's
    const x1 = tf.tensor2d([point]);
    const a = m.predict(x1) as tf.Tensor;
    const b = copy.predict(x1) as tf.Tensor;
    expect(b).toBeAllclose(a, { rtol: 1e-6 });
    tf.dispose([x1, a, b]);
    copy.dispose();
    m.dispose();
  });

  it('a tabular MLP: epistemic variance far from the training data exceeds the variance on it', async () => {
    setSeed(11);
    const n = 64;
    const xTrain = tf.tidy(() => tf.randomUniform([n, 2], -1, 1, 'float32', 1));
    const yTrain = tf.tidy(() =>
      tf
        .sum(tf.mul(xTrain, tf.tensor1d([1, -1])), 1, true)
        .add(tf.sin(xTrain.slice([0, 0], [n, 1]))),
    );
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [2], units: 16, activation: 'relu' }),
        tf.layers.dense({ units: 1 }),
      ],
    });
    const ue = new toolbox.UncertaintyEvaluation({
      model: m,
      trainDataset: { x: xTrain, y: yTrain },
      taskType: 'regression',
      epochs: 20,
      batchSize: 16,
      mcSamples: 50,
      seed: 2,
    });
    const far = tf.tidy(() => tf.mul(tf.randomUniform([32, 2], -1, 1, 'float32', 7), 8));
    const e1 = await ue.evalEpistemicUncertainty(xTrain);
    const e2 = await ue.evalEpistemicUncertainty(far);
    const near = tf.mean(e1).dataSync()[0] as number;
    const away = tf.mean(e2).dataSync()[0] as number;
    expect(away).toBeGreaterThan(3 * near);
    tf.dispose([e1, e2, xTrain, yTrain, far]);
    ue.dispose();
    m.dispose();
  });
});
