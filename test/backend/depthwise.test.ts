import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { activeKernel, cpuKernel, randInt, randTensor, rng } from './reference.js';

describe('Depthwise convolution gradients', () => {
  it('match the cpu backend on random shapes, strides, multipliers and paddings', () => {
    const r = rng(2024);
    let tested = 0;
    for (let trial = 0; trial < 40; trial++) {
      const kh = randInt(r, 1, 4);
      const kw = randInt(r, 1, 4);
      const strides: [number, number] = [randInt(r, 1, 2), randInt(r, 1, 2)];
      const xShape: [number, number, number, number] = [
        randInt(r, 1, 3),
        randInt(r, kh, 10),
        randInt(r, kw, 10),
        randInt(r, 1, 4),
      ];
      const filterShape: [number, number, number, number] = [kh, kw, xShape[3], randInt(r, 1, 3)];
      const pad = r() < 0.5 ? 'valid' : 'same';
      const info = tf.backend_util.computeConv2DInfo(
        xShape,
        filterShape,
        strides,
        1,
        pad,
        undefined,
        true,
      );
      if (info.outHeight <= 0 || info.outWidth <= 0) continue;
      const x = randTensor(r, xShape);
      const f = randTensor(r, filterShape);
      const dy = randTensor(r, info.outShape);
      const before = tf.memory().numTensors;
      const fa = { strides, pad, dilations: [1, 1], filterShape };
      const gotF = activeKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, fa);
      const [wantF] = cpuKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, fa);
      expect(gotF.shape).toEqual(wantF?.shape);
      expect(gotF).toBeAllclose(wantF?.values, { rtol: 1e-4, atol: 1e-4 });
      const ia = { strides, pad, dilations: [1, 1], inputShape: xShape };
      const gotI = activeKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, ia);
      const [wantI] = cpuKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, ia);
      expect(gotI.shape).toEqual(wantI?.shape);
      expect(gotI).toBeAllclose(wantI?.values, { rtol: 1e-4, atol: 1e-4 });
      tf.dispose([gotF, gotI]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, f, dy]);
      tested++;
    }
    expect(tested).toBeGreaterThan(30);
  });

  it('give the gradients of tf.depthwiseConv2d', () => {
    const r = rng(3);
    const x = randTensor(r, [2, 7, 6, 3]) as tf.Tensor4D;
    const f = randTensor(r, [3, 3, 3, 2]) as tf.Tensor4D;
    const y = tf.depthwiseConv2d(x, f, 1, 'same');
    const dy = randTensor(r, y.shape);
    const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf
        .depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')
        .mul(dy)
        .sum(),
    )([x, f]);
    const [wantF] = cpuKernel(
      'DepthwiseConv2dNativeBackpropFilter',
      { x, dy },
      {
        strides: 1,
        pad: 'same',
        dilations: 1,
        filterShape: f.shape,
      },
    );
    const [wantI] = cpuKernel(
      'DepthwiseConv2dNativeBackpropInput',
      { dy, filter: f },
      {
        strides: 1,
        pad: 'same',
        dilations: 1,
        inputShape: x.shape,
      },
    );
    expect(gf).toBeAllclose(wantF?.values, { rtol: 1e-4, atol: 1e-4 });
    expect(gx).toBeAllclose(wantI?.values, { rtol: 1e-4, atol: 1e-4 });
    tf.dispose([x, f, y, dy, gx, gf]);
  });
});
