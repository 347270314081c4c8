/**
 * The shared fit / save / load check of the Bayesian recurrent layers: `[layer, Dense(1)]` learns
 * the sum of a sequence with `model.fit`, and reloads with the layer's class and arguments,
 * predicting the same in mean mode.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { compileBayesian, setMode } from '../../src/layers/index.js';
import { setSeed } from '../../src/utils/seed.js';
import { saveAndLoad } from '../helpers.js';

/** The arguments a reloaded recurrent layer is checked for. */
interface RecurrentConfig {
  units: number;
  recurrentActivation: string;
  returnSequences: boolean;
  outChannels: number;
}

/**
 * Fit `[makeLayer({units: 8, inputShape: [4, 1], recurrentActivation: 'sigmoid'}), Dense(1)]` to
 * the sums of 64 sequences (60 epochs: the last five losses' mean below 0.3x the first), save,
 * reload, and check the class name `className`, the reloaded layer's config (`outChannels` the
 * kernel's width) and equal mean-mode predictions.
 */
export async function expectFitSaveLoad(
  makeLayer: (args: {
    units: number;
    inputShape: number[];
    recurrentActivation: string;
  }) => tf.layers.Layer,
  className: string,
  outChannels: number,
): Promise<void> {
  setSeed(5);
  const n = 64;
  const t = 4;
  const x = tf.randomUniform([n, t, 1], -1, 1, 'float32', 51);
  const y = tf.tidy(() => tf.sum(x, 1));
  const model = tf.sequential({
    layers: [
      makeLayer({ units: 8, inputShape: [t, 1], recurrentActivation: 'sigmoid' }),
      tf.layers.dense({ units: 1 }),
    ],
  });
  compileBayesian(model, {
    datasetSize: n,
    optimizer: tf.train.adam(0.03),
    loss: 'meanSquaredError',
  });
  const h = await model.fit(x, y, { epochs: 60, batchSize: 32, verbose: 0 });
  const losses = h.history.loss as number[];
  const first = losses[0] as number;
  const last = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
  expect(last).toBeLessThan(0.3 * first);
  const loaded = await saveAndLoad(model);
  expect(loaded.layers[0]?.getClassName()).toBe(className);
  const l0 = loaded.layers[0] as unknown as RecurrentConfig;
  expect([l0.units, l0.recurrentActivation, l0.returnSequences, l0.outChannels]).toEqual([
    8,
    'sigmoid',
    false,
    outChannels,
  ]);
  setMode(model, 'mean');
  setMode(loaded, 'mean');
  const a = model.predict(x) as tf.Tensor;
  const b = loaded.predict(x) as tf.Tensor;
  expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number)).toBe(0);
  tf.dispose([x, y, a, b]);
  model.dispose();
  loaded.dispose();
}
