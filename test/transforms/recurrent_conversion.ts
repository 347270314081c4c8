/**
 * The check shared by the recurrent conversion tests (GRU, SimpleRNN, LSTM): a model converted
 * with a vanishing posterior sigma predicts as the DNN it came from.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { setMode } from '../../src/layers/index.js';
import { maxAbs } from '../layers/recurrent_checks.js';

/**
 * On 4 sequences of 5 steps of 3 channels (seed 3): a sampled prediction of `model` is within
 * 1e-4 of `dnn`'s (posterior sigma ~ 1e-8), and after `setMode(model, 'mean')` within 1e-5.
 * Leaves `model` in mean mode; disposes what it makes.
 */
export function expectPredictsAsDnn(model: tf.LayersModel, dnn: tf.LayersModel): void {
  const x = tf.randomNormal([4, 5, 3], 0, 1, 'float32', 3);
  const want = dnn.predict(x) as tf.Tensor;
  const sampled = model.predict(x) as tf.Tensor;
  expect(maxAbs(sampled, want)).toBeLessThan(1e-4);
  setMode(model, 'mean');
  const mean = model.predict(x) as tf.Tensor;
  expect(maxAbs(mean, want)).toBeLessThan(1e-5);
  tf.dispose([x, want, sampled, mean]);
}
