import * as tf from '@tensorflow/tfjs';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { setNativeEnabled } from '../../src/backend/native/kernels.js';
import { activeKernel, cpuKernel, randInt, randTensor, rng } from './reference.js';

// The wasm kernel pack's own paths (browsers, machines without a compiler): with the native
// addon built, its kernels are switched off in this file (test/backend/native.test.ts covers them).
beforeAll(() => setNativeEnabled(false));
afterAll(() => setNativeEnabled(true));

describe('BatchMatMul with transposed operands', () => {
  it('matches the cpu backend for all transpose combinations and batch broadcasting', () => {
    const r = rng(5);
    for (let trial = 0; trial < 40; trial++) {
      const m = randInt(r, 1, 37);
      const k = randInt(r, 1, 41);
      const n = randInt(r, 1, 29);
      const ta = r() < 0.5;
      const tb = r() < 0.5;
      const batched = r() < 0.3;
      const ba = batched ? randInt(r, 1, 3) : 0;
      const bb = batched ? (r() < 0.5 ? 1 : ba) : 0;
      const aShape = [...(batched ? [ba] : []), ...(ta ? [k, m] : [m, k])];
      const bShape = [...(batched ? [bb] : []), ...(tb ? [n, k] : [k, n])];
      const a = randTensor(r, aShape);
      const b = randTensor(r, bShape);
      const attrs = { transposeA: ta, transposeB: tb };
      const before = tf.memory().numTensors;
      const got = activeKernel('BatchMatMul', { a, b }, attrs);
      const [want] = cpuKernel('BatchMatMul', { a, b }, attrs);
      expect(got.shape).toEqual(want?.shape);
      expect(got).toBeAllclose(want?.values, { rtol: 1e-4, atol: 1e-4 });
      got.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([a, b]);
    }
  });
});

type Pad = 'valid' | 'same';

describe('MaxPoolGrad and AvgPoolGrad', () => {
  it('match the cpu backend on random shapes, windows, strides and paddings', () => {
    const r = rng(11);
    for (let trial = 0; trial < 50; trial++) {
      // every other case is the 2x2 / stride 2 / valid fast path (with odd sizes)
      const fast = trial % 2 === 0;
      const fh = fast ? 2 : randInt(r, 1, 4);
      const fw = fast ? 2 : randInt(r, 1, 4);
      const strides: [number, number] = fast ? [2, 2] : [randInt(r, 1, 3), randInt(r, 1, 3)];
      const pad: Pad = fast || r() < 0.5 ? 'valid' : 'same';
      const shape: [number, number, number, number] = [
        randInt(r, 1, 4),
        randInt(r, fh, 11),
        randInt(r, fw, 11),
        randInt(r, 1, 5),
      ];
      // Values with many ties (as after a relu) to check which position gets the gradient.
      const raw = randTensor(r, shape);
      const x = r() < 0.5 ? tf.relu(tf.sub(tf.round(tf.mul(raw, 3)), 1)) : tf.clone(raw);
      const filterSize: [number, number] = [fh, fw];
      const info = tf.backend_util.computePool2DInfo(shape, filterSize, strides, 1, pad);
      const dy = randTensor(r, info.outShape);
      const y = tf.maxPool(x as tf.Tensor4D, filterSize, strides, pad);
      const attrs = { filterSize, strides, pad };
      const before = tf.memory().numTensors;
      const gotMax = activeKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs);
      const [wantMax] = cpuKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs);
      expect(gotMax).toBeAllclose(wantMax?.values, { rtol: 1e-5, atol: 1e-6 });
      const gotAvg = activeKernel('AvgPoolGrad', { dy, input: x }, attrs);
      const [wantAvg] = cpuKernel('AvgPoolGrad', { dy, input: x }, attrs);
      expect(gotAvg).toBeAllclose(wantAvg?.values, { rtol: 1e-5, atol: 1e-6 });
      tf.dispose([gotMax, gotAvg]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([raw, x, dy, y]);
    }
  });
});

describe('BatchMatMul right-operand cache', () => {
  it('is correct when one buffer is the right operand under two shapes (reshape / unit-axis transpose)', () => {
    const w = tf.tensor2d([0.5, -1, 2, 3], [4, 1]);
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
    const y = tf.tensor2d([1, -2], [2, 1]);
    const first = tf.matMul(x, w); // packs w as [4, 1]
    const second = tf.matMul(y, w, false, true); // w^T: [1, 4], the same buffer
    const third = tf.matMul(y, tf.reshape(w, [1, 4])); // a reshape of the same buffer
    expect(first).toBeAllclose([0.5 - 2 + 6 + 12, 2.5 - 6 + 14 + 24]);
    expect(second).toBeAllclose([0.5, -1, 2, 3, -1, 2, -4, -6]);
    expect(third).toBeAllclose([0.5, -1, 2, 3, -1, 2, -4, -6]);
    tf.dispose([w, x, y, first, second, third]);
  });

  it('keeps gradients right when a dense ReLU stack is applied twice in one gradient', () => {
    // regression: the last layer's [1024, 1] kernel is packed by the forward fused matmul and
    // then used transposed (a view of the same buffer) by the input gradients
    const r = rng(3);
    const d = tf.sequential({
      layers: [
        tf.layers.dense({ units: 400, activation: 'relu', inputShape: [64] }),
        tf.layers.dense({ units: 720, activation: 'relu' }),
        tf.layers.dense({ units: 1024, activation: 'relu' }),
        tf.layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    const vars = d.trainableWeights.map((w) => w.read() as tf.Variable);
    const x = randTensor(r, [128, 64]);
    const loss = (k: number) => (): tf.Scalar =>
      tf.addN(
        [0, 1, 2]
          .slice(0, k)
          .map((j) => tf.sum(tf.square(tf.sub(d.apply(tf.mul(x, 1 - 0.1 * j)) as tf.Tensor, 1)))),
      ) as tf.Scalar;
    for (const k of [1, 2, 3]) {
      const { value, grads } = tf.variableGrads(loss(k), vars);
      for (const g of Object.values(grads)) {
        expect(tf.all(tf.isFinite(g)).dataSync()[0]).toBe(1);
      }
      tf.dispose([value, ...Object.values(grads)]);
    }
    tf.dispose(x);
    d.dispose();
  });
});

describe('Identity on wasm', () => {
  it('shares the buffer (no copy) and keeps it alive until the last reference is disposed', () => {
    const be = tf.backend() as unknown as { dataIdMap: { numDataIds(): number } };
    const ids = be.dataIdMap.numDataIds();
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    expect(be.dataIdMap.numDataIds()).toBe(ids + 1); // one buffer for both
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
    expect(be.dataIdMap.numDataIds()).toBe(ids);
  });
});
