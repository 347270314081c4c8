/**
 * A model saved by TF.js's `model.save` converts; the converted model trains with its
 * `WithBNNLoss`, saves and loads back; conversion and train steps leak no tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { setMode } from '../../src/layers/index.js';
import { transformToBnn } from '../../src/transforms/index.js';
import { setSeed } from '../../src/utils/seed.js';
import { lenetNet, resnetNet } from './nets.js';

async function saveToMemory(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let art: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      art = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (art === undefined) throw new Error('nothing saved');
  return art;
}

describe('saved models, training, round trip, memory', () => {
  it('a functional model saved by model.save and loaded back converts to the same function', async () => {
    const dnn = resnetNet();
    const x = tf.randomNormal([2, 16, 16, 3]);
    const y = dnn.predict(x) as tf.Tensor;
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(await saveToMemory(dnn)));
    const { model, converted } = await transformToBnn(loaded, { posteriorSigma: 1e-8 });
    const expected = dnn.layers
      .filter((l) => ['Conv2D', 'Dense'].includes(l.getClassName()))
      .map((l) => l.name);
    expect(expected).toHaveLength(7);
    expect(converted.map((c) => c.name)).toEqual(expected);
    setMode(model, 'mean');
    const y2 = model.predict(x) as tf.Tensor;
    expect(Array.from(y2.dataSync())).toEqual(Array.from(y.dataSync()));
    tf.dispose([x, y, y2]);
    model.dispose();
    loaded.dispose();
    dnn.dispose();
  });

  it('conversion makes only the new model weights; a train step leaks nothing; loss decreases', async () => {
    setSeed(7);
    const dnn = lenetNet();
    const before = tf.memory().numTensors;
    const { model, loss } = await transformToBnn(dnn, {
      estimator: 'flipout',
      dnnFactor: 1,
      bnnFactor: 1 / 60000,
    });
    expect(tf.memory().numTensors - before).toBe(model.weights.length);
    // Tiny synthetic task: 32 images whose label is the brightest of 10 vertical stripes.
    const [xs, ys] = tf.tidy(() => {
      const x = tf.randomUniform([32, 32, 32, 1]);
      const stripes = tf.reshape(tf.slice(x, [0, 0, 0, 0], [32, 32, 30, 1]), [32, 32, 10, 3]);
      return [x, tf.argMax(tf.sum(stripes, [1, 3]), 1)];
    });
    const opt = tf.train.adam(3e-3);
    const losses: number[] = [];
    const nlls: number[] = [];
    const step = (): void => {
      const r = loss.trainStep(opt, xs, ys);
      losses.push(r.loss.dataSync()[0] as number);
      nlls.push(r.nll.dataSync()[0] as number);
      tf.dispose([r.loss, r.nll, r.kl]);
    };
    step(); // creates the optimizer's slots
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 7; i++) step();
    expect(tf.memory().numTensors).toBe(n0);
    const first = (losses[0]! + losses[1]!) / 2;
    const last = (losses[6]! + losses[7]!) / 2;
    expect(last).toBeLessThan(first - 0.1);
    // The data term itself decreases (not only the KL).
    expect(nlls[7]! + nlls[6]!).toBeLessThan(nlls[0]! + nlls[1]! - 0.1);
    expect(losses.every(Number.isFinite)).toBe(true);
    opt.dispose();
    tf.dispose([xs, ys]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    dnn.dispose();
  });

  it('a trained Bayesian model saves and loads back with identical mean predictions', async () => {
    const dnn = lenetNet();
    const { model, loss } = await transformToBnn(dnn, { estimator: 'local', moped: 0.2 });
    const x = tf.randomNormal([4, 32, 32, 1]);
    const opt = tf.train.sgd(0.01);
    const r = loss.trainStep(opt, x, tf.tensor1d([1, 2, 3, 4], 'int32'));
    tf.dispose([r.loss, r.nll, r.kl]);
    const back = await tf.loadLayersModel(tf.io.fromMemory(await saveToMemory(model)));
    expect(back.layers.map((l) => l.getClassName())).toEqual(
      model.layers.map((l) => l.getClassName()),
    );
    setMode(model, 'mean');
    setMode(back, 'mean');
    const [a, b] = [model.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    // Training moved the posterior away from the DNN.
    const d = dnn.predict(x) as tf.Tensor;
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(d.dataSync()));
    tf.dispose([a, b, d, x]);
    opt.dispose();
    back.dispose();
    model.dispose();
    dnn.dispose();
  });
});
