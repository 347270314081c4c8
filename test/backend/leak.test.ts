import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { randomNormal } from '../../src/backend/random.js';

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
});
