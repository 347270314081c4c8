import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { randomNormal } from '../../src/backend/random.js';
import { modelKL } from '../../src/layers/model_utils.js';
import { lenet5 } from '../../src/models/index.js';

interface WasmInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { numDataIds(): number };
}

describe('kernel pack memory', () => {
  it('leaks no tensor, data id or wasm heap over 300 training steps of a small BBB conv net', async () => {
    const be = tf.backend() as unknown as WasmInternals;
    const mu = [
      tf.variable(tf.mul(randomNormal([3, 3, 2, 4], 0, 1, 1), 0.3)),
      tf.variable(tf.mul(randomNormal([36, 5], 0, 1, 2), 0.3)),
    ];
    const rho = mu.map((m) => tf.variable(tf.fill(m.shape, -3)));
    const opt = tf.train.adam(1e-2);
    const x = randomNormal([8, 8, 8, 2], 0, 1, 3) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32'), 5);
    const step = (): number => {
      const loss = opt.minimize(
        () => {
          const w = mu.map((m, i) =>
            tf.add(m, tf.mul(tf.softplus(rho[i] as tf.Variable), randomNormal(m.shape))),
          );
          let h = tf.relu(tf.conv2d(x, w[0] as tf.Tensor4D, 1, 'same'));
          h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
          h = tf.avgPool(h as tf.Tensor4D, 2, 1, 'valid');
          const logits = tf.matMul(tf.reshape(h, [8, 36]), w[1] as tf.Tensor2D);
          return tf.losses.softmaxCrossEntropy(y, logits);
        },
        true,
        [...mu, ...rho],
      ) as tf.Scalar;
      const v = loss.dataSync()[0] as number;
      loss.dispose();
      return v;
    };
    const first = step();
    for (let i = 0; i < 20; i++) step();
    const tensors = tf.memory().numTensors;
    const ids = be.dataIdMap.numDataIds();
    const heap = be.wasm.HEAPU8.length;
    let last = first;
    for (let i = 0; i < 300; i++) last = step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(be.dataIdMap.numDataIds()).toBe(ids);
    expect(be.wasm.HEAPU8.length).toBe(heap);
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first);
    const prof = await tf.profile(() => void step());
    for (const k of ['Conv2DBackpropFilter', 'MaxPoolGrad', 'AvgPoolGrad', 'BatchMatMul']) {
      expect(prof.kernelNames).toContain(k);
    }
    opt.dispose();
    tf.dispose([...mu, ...rho, x, y]);
  });

  for (const estimator of ['reparam', 'local'] as const) {
    it(`keeps tensors, data ids and the wasm heap flat over 500 steps of a ${estimator} LeNet-5`, async () => {
      const be = tf.backend() as unknown as WasmInternals;
      const model = lenet5({ inputShape: [28, 28, 1], bayesian: estimator });
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const opt = tf.train.adam(1e-3);
      const x = tf.tidy(() => tf.relu(randomNormal([4, 28, 28, 1], 0, 1, 5)));
      const y = tf.oneHot(tf.tensor1d([1, 7, 3, 9], 'int32'), 10);
      const step = (): number => {
        const loss = opt.minimize(
          () =>
            tf.add(
              tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
              tf.div(modelKL(model), 60000),
            ) as tf.Scalar,
          true,
          vars,
        ) as tf.Scalar;
        const v = loss.dataSync()[0] as number;
        loss.dispose();
        return v;
      };
      for (let i = 0; i < 20; i++) step();
      const tensors = tf.memory().numTensors;
      const ids = be.dataIdMap.numDataIds();
      const heap = be.wasm.HEAPU8.length;
      let last = 0;
      for (let i = 0; i < 500; i++) last = step();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(be.dataIdMap.numDataIds()).toBe(ids);
      expect(be.wasm.HEAPU8.length).toBe(heap);
      expect(Number.isFinite(last)).toBe(true);
      // the step runs on the pack's fused kernels
      const prof = await tf.profile(() => void step());
      const fused = estimator === 'local' ? 'DeepprobLocalReparam' : 'DeepprobSoftplusReparam';
      for (const k of [fused, 'DeepprobKLSoftplusNormal', 'DeepprobReluGrad', 'MaxPoolGrad']) {
        expect(prof.kernelNames).toContain(k);
      }
      opt.dispose();
      model.dispose();
      tf.dispose([x, y]);
    }, 60_000);
  }
});
