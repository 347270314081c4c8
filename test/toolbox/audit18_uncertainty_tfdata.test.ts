/**
 * Audit probes (session 18) of `UncertaintyEvaluation` fed with `tf.data` datasets, as a TF.js
 * user feeds `model.fitDataset`: a training set of `{xs, ys}` batches trains the auxiliary models
 * exactly as the same batches from a batch source do; evaluation over a dataset of batches gives
 * the rows of the per-batch evaluations in order; bad elements are named; nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { setSeed, toolbox } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';
import { glorot as g, maxDiff } from '../fixtures/layers.js';

/** A two-output regressor (no dropout: its aleatoric copy trains deterministically). */
function regressor(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 6, activation: 'tanh', kernelInitializer: g(1) }),
      tf.layers.dense({ units: 2, kernelInitializer: g(2) }),
    ],
  });
}

/** 20 rows of a heteroscedastic problem, in 3 batches (8, 8, 4). */
function data(): { x: tf.Tensor2D; y: tf.Tensor2D; sizes: number[] } {
  const x = tf.randomNormal([20, 3], 0, 1, 'float32', 11) as tf.Tensor2D;
  const y = tf.tidy(() => {
    const noise = tf.randomNormal([20, 2], 0, 1, 'float32', 12);
    return tf.add(tf.sum(x, 1, true), tf.mul(tf.abs(tf.slice(x, [0, 0], [20, 1])), noise));
  }) as tf.Tensor2D;
  return { x, y, sizes: [8, 8, 4] };
}

function split(t: tf.Tensor, sizes: number[]): tf.Tensor[] {
  return tf.split(t, sizes, 0);
}

describe('audit18: UncertaintyEvaluation over tf.data datasets', () => {
  it('a tf.data training set of {xs, ys} trains the aleatoric copy as the same batches from a batch source; evaluation over a dataset = the tensor evaluation', async () => {
    const model = regressor();
    const { x, y, sizes } = data();
    const xb = split(x, sizes);
    const yb = split(y, sizes);
    const ds = tf.data.zip({ xs: tf.data.array(xb), ys: tf.data.array(yb) });
    const source = {
      *batches(): Generator<{ x: tf.Tensor; y: tf.Tensor }> {
        for (let i = 0; i < sizes.length; i++) yield { x: xb[i]!, y: yb[i]! };
      },
    };
    const opts = { model, taskType: 'regression' as const, epochs: 3, learningRate: 0.05 };
    const before = tf.memory().numTensors;
    const fromData = new toolbox.UncertaintyEvaluation({ ...opts, trainDataset: ds });
    const fromSource = new toolbox.UncertaintyEvaluation({ ...opts, trainDataset: source });
    const a = await fromData.evalAleatoricUncertainty(x);
    const b = await fromSource.evalAleatoricUncertainty(x);
    expect(a.shape).toEqual([20]);
    expect(maxDiff(a, b)).toBeLessThan(1e-6);
    // training moved the log variances away from their start s = 0 (sum_k e^0 = 2)
    const moved = Math.max(...Array.from(a.dataSync()).map((v) => Math.abs(v - 2)));
    expect(moved).toBeGreaterThan(0.05);
    // evaluation over a dataset of {xs, ys} batches (ys not read), and of bare input batches
    const evalSets = [ds, tf.data.array(xb)];
    for (const set of evalSets) {
      const c = await fromData.evalAleatoricUncertainty(set);
      expect(maxDiff(c, a)).toBeLessThan(1e-6);
      c.dispose();
    }
    tf.dispose([a, b]);
    fromData.dispose();
    fromSource.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, ...xb, ...yb]);
    model.dispose();
  });

  it('epistemic over a dataset of batches: the per-batch evaluations concatenated, seeded; an empty dataset gives [0, D]', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 8, activation: 'relu', kernelInitializer: g(3) }),
        tf.layers.dropout({ rate: 0.3 }),
        tf.layers.dense({ units: 2, kernelInitializer: g(4) }),
      ],
    });
    const { x, y, sizes } = data();
    const xb = split(x, sizes);
    const ue = new toolbox.UncertaintyEvaluation({ model, taskType: 'regression', mcSamples: 6 });
    const before = tf.memory().numTensors;
    setSeed(21);
    const all = await ue.evalEpistemicUncertainty(tf.data.array(xb));
    setSeed(21);
    const parts: tf.Tensor[] = [];
    for (const b of xb) parts.push(await ue.evalEpistemicUncertainty(b));
    const want = tf.concat(parts, 0);
    expect(all.shape).toEqual([20, 2]);
    expect(maxDiff(all, want)).toBe(0);
    // dropout makes the passes differ
    expect(Math.max(...Array.from(all.dataSync()))).toBeGreaterThan(0);
    const empty = await ue.evalEpistemicUncertainty(tf.data.array<tf.Tensor>([]));
    expect(empty.shape).toEqual([0, 2]);
    tf.dispose([all, want, empty, ...parts]);
    ue.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, ...xb]);
    model.dispose();
  });

  it('a two-input classifier: training elements {xs: {a, b}, ys}, epistemicMethod bnn, no leak', async () => {
    const a = tf.input({ shape: [3], name: 'a' });
    const bIn = tf.input({ shape: [2], name: 'b' });
    const h = tf.layers
      .dense({ units: 4, activation: 'relu', kernelInitializer: g(5) })
      .apply(a) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([h, bIn]) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 3, activation: 'softmax', kernelInitializer: g(6) })
      .apply(cat) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [a, bIn], outputs: out });
    const xa = tf.randomNormal([12, 3], 0, 1, 'float32', 13);
    const xbIn = tf.randomNormal([12, 2], 0, 1, 'float32', 14);
    const labels = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], 'int32');
    const ds = tf.data
      .zip({
        xs: tf.data.zip({ a: tf.data.array(xa.unstack()), b: tf.data.array(xbIn.unstack()) }),
        ys: tf.data.array(labels.unstack()),
      })
      .batch(5);
    const before = tf.memory().numTensors;
    const ue = new toolbox.UncertaintyEvaluation({
      model,
      trainDataset: ds,
      taskType: 'classification',
      numClasses: 3,
      epistemicMethod: 'bnn',
      epochs: 2,
      seed: 1,
    });
    setSeed(3);
    const epi = await ue.evalEpistemicUncertainty({ a: xa, b: xbIn });
    expect(epi.shape).toEqual([12, 3]);
    for (const v of epi.dataSync()) expect(v).toBeGreaterThanOrEqual(0);
    const ale = await ue.evalAleatoricUncertainty([xa, xbIn]);
    expect(ale.shape).toEqual([12]);
    tf.dispose([epi, ale]);
    ue.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xa, xbIn, labels]);
    model.dispose();
  });

  it('bad elements are ArgumentErrors naming trainDataset or x (element i), the elements freed', async () => {
    const model = regressor();
    const { x, y, sizes } = data();
    const xb = split(x, sizes);
    const bare = new toolbox.UncertaintyEvaluation({
      model,
      taskType: 'regression',
      trainDataset: tf.data.array(xb),
    });
    await expectBadInput({
      call: 'evalAleatoricUncertainty (training on bare tensors)',
      run: () => bare.evalAleatoricUncertainty(x),
      arg: 'trainDataset',
      message: /expected dataset elements \{xs, ys\}.*a tensor of shape \[8, 3\] at element 0/,
    });
    const wrongWidth = new toolbox.UncertaintyEvaluation({
      model,
      taskType: 'regression',
      trainDataset: tf.data.zip({
        xs: tf.data.array(xb),
        ys: tf.data.array(split(tf.slice(y, [0, 0], [20, 1]), sizes)),
      }),
    });
    await expectBadInput({
      call: 'evalAleatoricUncertainty (targets of one column)',
      run: () => wrongWidth.evalAleatoricUncertainty(x),
      arg: /trainDataset/,
    });
    const dropout = tf.sequential({
      layers: [tf.layers.dropout({ inputShape: [3], rate: 0.5 }), tf.layers.dense({ units: 2 })],
    });
    const ok = new toolbox.UncertaintyEvaluation({
      model: dropout,
      taskType: 'regression',
      mcSamples: 2,
    });
    const mixed = tf.data.array([xb[0]!, tf.ones([2, 4])]);
    await expectBadInput({
      call: 'evalEpistemicUncertainty (second batch 4 wide)',
      run: () => ok.evalEpistemicUncertainty(mixed),
      arg: 'x (element 1)',
    });
    tf.dispose([x, y, ...xb]);
    model.dispose();
    dropout.dispose();
  });
});
