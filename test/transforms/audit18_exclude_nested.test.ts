/**
 * Audit probes (session 18) of `excludeLayers` naming a nested model: every layer it holds stays
 * deterministic (its name was accepted as a layer of the model but had no effect: its Dense layers
 * were converted), in a Sequential inside a Sequential and a functional model inside a functional
 * one; the converted model still predicts as the DNN.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, transforms } from '../../src/index.js';
import { disposeModel } from '../../src/layers/index.js';
import { glorot as g, maxDiff } from '../fixtures/layers.js';

function nestedSequential(): tf.LayersModel {
  const inner = tf.sequential({
    name: 'encoder',
    layers: [
      tf.layers.dense({
        inputShape: [3],
        units: 4,
        activation: 'relu',
        name: 'fc1',
        kernelInitializer: g(1),
      }),
      tf.layers.dense({ units: 4, name: 'fc2', kernelInitializer: g(2) }),
    ],
  });
  return tf.sequential({
    layers: [inner, tf.layers.dense({ units: 2, name: 'head', kernelInitializer: g(3) })],
  });
}

function nestedFunctional(): tf.LayersModel {
  const a = tf.input({ shape: [3] });
  const h = tf.layers
    .dense({ units: 4, activation: 'tanh', name: 'fc1', kernelInitializer: g(4) })
    .apply(a) as tf.SymbolicTensor;
  const inner = tf.model({ inputs: a, outputs: h, name: 'encoder' });
  const x = tf.input({ shape: [3] });
  const z = inner.apply(x) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate().apply([z, x]) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 2, name: 'head', kernelInitializer: g(5) })
    .apply(cat) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: out });
}

describe('audit18: excludeLayers naming a nested model', () => {
  for (const [what, make, innerPaths] of [
    ['Sequential in a Sequential', nestedSequential, ['encoder/fc1', 'encoder/fc2']],
    ['functional model in a functional model', nestedFunctional, ['encoder/fc1']],
  ] as const) {
    it(`${what}: its layers stay deterministic, the others convert, predictions equal the DNN`, async () => {
      const dnn = make();
      const x = tf.randomNormal([5, 3], 0, 1, 'float32', 7);
      const all = await transforms.transformToBnn(dnn, { posteriorSigma: 1e-9 });
      expect(all.converted.map((c) => c.path).sort()).toEqual([...innerPaths, 'head'].sort());
      disposeModel(all.model);
      const before = tf.memory().numTensors;
      const r = await transforms.transformToBnn(dnn, {
        posteriorSigma: 1e-9,
        excludeLayers: ['encoder'],
      });
      expect(r.converted.map((c) => c.path)).toEqual(['head']);
      const encoder = r.model.getLayer('encoder') as tf.LayersModel;
      const kinds = encoder.layers.map((l) => l.getClassName()).filter((k) => k !== 'InputLayer');
      expect(kinds).toEqual(innerPaths.map(() => 'Dense'));
      expect(layers.bayesianLayers(r.model)).toHaveLength(1);
      layers.setMode(r.model, 'mean');
      const want = dnn.predict(x) as tf.Tensor;
      const got = r.model.predict(x) as tf.Tensor;
      expect(maxDiff(got, want)).toBeLessThan(1e-6);
      tf.dispose([want, got]);
      disposeModel(r.model);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      disposeModel(dnn);
    });
  }
});
