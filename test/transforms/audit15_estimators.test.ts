/**
 * Audit of issue #13 (estimators as data: conversion reads the registry) on a DNN the tests have
 * not converted: a functional conv net with BatchNorm and Dropout. For every registered estimator
 * the converted network's layers are that estimator's classes, its posterior-mean predictions equal
 * the DNN's (the posterior starts at the DNN's weights), its `WithBNNLoss` trains through the one
 * epoch loop with a falling loss, and an unknown estimator is refused naming it; no tensor left.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, setSeed, transforms } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';

function dnn(): tf.LayersModel {
  const x = tf.input({ shape: [6, 6, 1] });
  let h = tf.layers
    .conv2d({
      filters: 3,
      kernelSize: 3,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    })
    .apply(x) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: 0.25 }).apply(h) as tf.SymbolicTensor;
  const y = tf.layers
    .dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })
    .apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y });
}

describe('transformToBnn for every registered estimator', () => {
  for (const e of layers.ESTIMATOR_NAMES) {
    it(`${e}: its classes, mean predictions = the DNN's, WithBNNLoss trains`, async () => {
      setSeed(6);
      const net = dnn();
      const x = tf.randomUniform([12, 6, 6, 1], 0, 1, 'float32', 3);
      const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], 'int32');
      const ref = tf.tidy(() => Array.from((net.predict(x) as tf.Tensor).dataSync()));
      const before = tf.memory().numTensors;
      const { model, loss } = await transforms.transformToBnn(net, { estimator: e });
      const suffix = layers.ESTIMATORS[e].suffix;
      const names = layers.bayesianLayers(model).map((l) => l.getClassName());
      expect(names.length).toBe(2);
      for (const n of names) expect(n.endsWith(suffix)).toBe(true);
      const modes = layers.setMode(model, 'mean');
      const got = tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync()));
      layers.restoreModes(model, modes);
      got.forEach((v, i) => expect(v).toBeCloseTo(ref[i] as number, 5));
      const opt = tf.train.adam(0.02);
      const hist: number[] = [];
      await layers.epochLoop({
        source: { batches: () => [{ x, y }] },
        epochs: 30,
        step: (b, ctx) => {
          const r = loss.trainStep(opt, b.x, b.y, ctx);
          const nll = r.nll.dataSync()[0] as number;
          tf.dispose([r.loss, r.nll, r.kl]);
          return { loss: nll, nll, kl: 0, correct: 0, size: 12 };
        },
        onEpochEnd: (_e, t) => {
          hist.push(t.loss / t.n);
        },
      });
      opt.dispose();
      expect(hist.every(Number.isFinite)).toBe(true);
      const head = (hist[0]! + hist[1]! + hist[2]!) / 3;
      const tail = (hist[27]! + hist[28]! + hist[29]!) / 3;
      expect(tail).toBeLessThan(head);
      layers.disposeModel(model);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
      net.dispose();
    });
  }

  it('an unknown estimator is refused naming estimator, no tensor left', async () => {
    const net = dnn();
    await expectBadInput({
      call: 'bbb',
      run: () => transforms.transformToBnn(net, { estimator: 'bbb' as never }),
      arg: 'estimator',
    });
    await expectBadInput({
      call: 'typo key',
      run: () => transforms.transformToBnn(net, { estimater: 'local' } as never),
      arg: 'estimater',
    });
    net.dispose();
  });
});
