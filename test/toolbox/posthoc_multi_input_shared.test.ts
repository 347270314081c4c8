/**
 * The post-hoc tools on a model with two inputs and a Dense layer applied to both (weight
 * sharing): SWAG collects the shared weights once and its SWA mean is the average of the
 * snapshots (recomputed here); MC dropout, all-layers Laplace, temperature scaling and conformal
 * sets run on it; nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectNoLeak, expectNoLeakAsync } from '../helpers.js';

const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.6, seed: s });

/** a, b [3] -> the same Dense(4, tanh) on each -> concat -> Dropout(0.2) -> Dense(3) logits. */
function sharedTwoInputNet(): { model: tf.LayersModel; shared: tf.layers.Layer } {
  const a = tf.input({ shape: [3], name: 'a' });
  const b = tf.input({ shape: [3], name: 'b' });
  const shared = tf.layers.dense({
    units: 4,
    activation: 'tanh',
    kernelInitializer: init(1),
    biasInitializer: init(2),
  });
  const cat = tf.layers
    .concatenate()
    .apply([shared.apply(a) as tf.SymbolicTensor, shared.apply(b) as tf.SymbolicTensor]);
  const drop = tf.layers.dropout({ rate: 0.2 }).apply(cat) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 3, kernelInitializer: init(3), biasInitializer: init(4) })
    .apply(drop) as tf.SymbolicTensor;
  return { model: tf.model({ inputs: [a, b], outputs: out }), shared };
}

function data(n: number): { xs: tf.Tensor[]; labels: number[] } {
  const rng = makeRng(3);
  const rows = () => Array.from({ length: n }, () => [0, 1, 2].map(() => 2 * rng() - 1));
  const xs = [tf.tensor2d(rows()), tf.tensor2d(rows())];
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  return { xs, labels };
}

describe('post-hoc tools on a multi-input model with a shared layer', () => {
  it('SWAG: the shared weights collected once; the SWA mean is the mean of the snapshots', async () => {
    const { model } = sharedTwoInputNet();
    const { xs, labels } = data(24);
    expect(model.trainableWeights.length).toBe(4); // shared kernel + bias, head kernel + bias
    const snapshots: number[][] = [];
    const swag = new toolbox.Swag(model, { rank: 3 });
    const opt = tf.train.sgd(0.05);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
    for (let step = 0; step < 4; step++) {
      opt.minimize(() =>
        tf.losses.softmaxCrossEntropy(y, model.apply(xs, { training: true }) as tf.Tensor),
      );
      swag.collect();
      snapshots.push(model.getWeights().flatMap((w) => Array.from(w.dataSync())));
    }
    opt.dispose();
    const mean = swag.swaMean();
    expect(mean.length).toBe(4);
    const flat = mean.flatMap((w) => Array.from(w.dataSync()));
    flat.forEach((v, i) =>
      expect(v).toBeCloseTo(snapshots.reduce((s, r) => s + r[i]!, 0) / snapshots.length, 5),
    );
    tf.dispose(mean);
    const p = expectNoLeak(() => {
      const s = toolbox.swagPredictor(swag, { seed: 1 }).predictSamples(xs, 5);
      expect(s.shape).toEqual([5, 24, 3]);
      return s;
    });
    for (let i = 0; i < p.length; i += 3) expect(p[i]! + p[i + 1]! + p[i + 2]!).toBeCloseTo(1, 4);
    swag.dispose();
    // trainSwag on the two inputs
    const trained = await expectNoLeakAsync(async () => {
      const s = await toolbox.trainSwag(model, xs, labels, {
        epochs: 1,
        lr: 0.01,
        batchSize: 8,
        collectPerEpoch: 3,
        rank: 2,
      });
      const n = s.numSnapshots;
      s.dispose();
      return n;
    });
    expect(trained).toBe(3);
    tf.dispose([...xs, y]);
    model.dispose();
  });

  it('MC dropout, all-layers Laplace, temperature scaling and conformal sets', () => {
    const { model } = sharedTwoInputNet();
    const { xs, labels } = data(30);
    const mc = expectNoLeak(() => toolbox.mcDropoutPredictor(model).predictSamples(xs, 4));
    expect(mc.length).toBe(4 * 30 * 3);
    for (const structure of ['diag', 'kron'] as const) {
      const before = tf.memory().numTensors;
      const la = toolbox.allLayersLaplace(model, xs, labels, { hessianStructure: structure });
      expect(la.numParams).toBe(4 * 3 + 4 + 8 * 3 + 3); // the shared layer once
      expect(la.layerNames.length).toBe(2);
      const probs = la.predictProbs(xs, { link: 'probit' });
      expect(probs.shape).toEqual([30, 3]);
      probs.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    const logits = model.predict(xs) as tf.Tensor;
    const before = tf.memory().numTensors;
    const fit = toolbox.fitTemperature(logits, labels);
    expect(fit.temperature).toBeGreaterThan(0);
    expect(fit.nllAfter).toBeLessThanOrEqual(fit.nllBefore + 1e-9);
    const probs = tf.softmax(logits);
    const cal = toolbox.calibrateConformal(probs, labels, { alpha: 0.2, score: 'lac' });
    const sets = toolbox.conformalSets(probs, cal, labels);
    // LAC (not randomised): on its own calibration rows the coverage is >= ceil((n+1)(1-alpha))/n
    expect(sets.coverage).toBeGreaterThanOrEqual(Math.ceil(31 * 0.8) / 30 - 1e-9);
    probs.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, ...xs]);
    model.dispose();
  });
});
