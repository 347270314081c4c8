/**
 * A fixed, seeded workload over the engine's fast kernels, for comparing paths (native with N or 1
 * threads, the wasm path, the cpu backend) and runs (concurrent or alone): convolutions with both
 * gradients, fused and transposed products, pooling and three SGD steps of a small conv net.
 */
import * as tf from '@tensorflow/tfjs';
import { values } from './audit15_ref.js';

/** Results by name, as plain arrays. */
export type Workload = Record<string, number[]>;

function t(seed: number, shape: number[], s = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    values(seed, n).map((v) => v * s),
    shape,
  );
}

/** A tiny conv net's parameters: conv 3x3 (3 -> 8), dense (8*4*4 -> 5). */
export function netParams(seed: number): tf.Variable[] {
  return tf.tidy(() => [
    tf.variable(t(seed, [3, 3, 3, 8], 0.3)),
    tf.variable(t(seed + 1, [8], 0.1)),
    tf.variable(t(seed + 2, [128, 5], 0.1)),
    tf.variable(t(seed + 3, [5], 0.1)),
  ]);
}

/** Loss of the tiny net on `x` [B, 8, 8, 3] with labels `y` one-hot [B, 5]. */
export function netLoss(p: tf.Variable[], x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const [w1, b1, w2, b2] = p as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  const h = tf.fused.conv2d({
    x: x as tf.Tensor4D,
    filter: w1 as unknown as tf.Tensor4D,
    strides: 1,
    pad: 'same',
    bias: b1,
    activation: 'relu',
  });
  const pooled = tf.maxPool(h, 2, 2, 'valid');
  const flat = tf.reshape(pooled, [x.shape[0] as number, 128]);
  const logits = tf.fused.matMul({
    a: flat as tf.Tensor2D,
    b: w2 as unknown as tf.Tensor2D,
    bias: b2,
  });
  return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
}

/** One SGD step of the tiny net (lr 0.1); returns the loss. */
export function netStep(p: tf.Variable[], x: tf.Tensor, y: tf.Tensor): number {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => netLoss(p, x, y), p);
    for (const v of p) v.assign(tf.sub(v, tf.mul(grads[v.name] as tf.Tensor, 0.1)));
    return value.dataSync()[0] as number;
  });
}

/** The batch of the tiny net: 6 images and one-hot labels. */
export function netBatch(seed: number): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => [
    t(seed, [6, 8, 8, 3]),
    tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 1], 'int32'), 5),
  ]);
}

/** Run the workload; every tensor it makes is disposed. */
export async function engineWorkload(): Promise<Workload> {
  const out: Workload = {};
  tf.tidy(() => {
    // convolutions: direct path (3 channels), im2col (20 channels), strided, explicit padding
    const convs: [number[], number[], number | [number, number], 'same' | 'valid'][] = [
      [[2, 11, 9, 3], [3, 3, 3, 16], 1, 'same'],
      [[3, 13, 12, 20], [3, 3, 20, 64], [2, 2], 'valid'],
      [[1, 17, 17, 7], [5, 5, 7, 33], [3, 3], 'same'],
    ];
    convs.forEach(([xs, ws, s, pad], i) => {
      const x = t(10 + i, xs);
      const w = t(20 + i, ws);
      const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
        tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad);
      const y = f(x, w);
      const g = t(30 + i, y.shape);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), g)))([x, w]);
      out[`conv${i}`] = Array.from(y.dataSync());
      out[`conv${i}.dx`] = Array.from(dx?.dataSync() ?? []);
      out[`conv${i}.dw`] = Array.from(dw?.dataSync() ?? []);
    });
    // products: a GEMM over K > 256 and N not a multiple of 16, transposed, batched, fused
    const a = t(40, [37, 300]);
    const b = t(41, [300, 45]);
    out['mm'] = Array.from(tf.matMul(a, b).dataSync());
    out['mmT'] = Array.from(tf.matMul(b, a, true, true).dataSync());
    out['bmm'] = Array.from(tf.matMul(t(42, [4, 13, 29]), t(43, [4, 29, 17])).dataSync());
    out['fused'] = Array.from(
      tf.fused
        .matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: t(44, [45]), activation: 'relu' })
        .dataSync(),
    );
    // pooling: 3x3 / stride 2 (native) and its gradient
    const px = t(50, [2, 15, 15, 16]);
    const pool = (v: tf.Tensor): tf.Tensor => tf.maxPool(v as tf.Tensor4D, 3, 2, 'same');
    out['pool'] = Array.from(pool(px).dataSync());
    out['pool.dx'] = Array.from(
      tf
        .grad((v: tf.Tensor) => tf.sum(tf.mul(pool(v), pool(v))))(px)
        .dataSync(),
    );
  });
  // three SGD steps of the tiny net
  const p = netParams(60);
  const [x, y] = netBatch(70);
  out['net.loss'] = [netStep(p, x, y), netStep(p, x, y), netStep(p, x, y)];
  out['net.w'] = p.flatMap((v) => Array.from(v.dataSync()));
  tf.dispose([...p, x, y]);
  // a tf.layers model (fused conv + ReLU and dense on the tape), three SGD steps
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 3],
        filters: 6,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
      }),
      tf.layers.conv2d({ filters: 5, kernelSize: 2, padding: 'valid', activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 7, activation: 'relu' }),
      tf.layers.dense({ units: 5 }),
    ],
  });
  const init = model.getWeights().map((w, i) => t(80 + i, w.shape, 0.4));
  model.setWeights(init);
  tf.dispose(init);
  const optimizer = tf.train.sgd(0.05);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const [mx, my] = netBatch(90);
  const target = tf.tidy(() => tf.softmax(tf.mul(my, 3)));
  const losses: number[] = [];
  for (let i = 0; i < 3; i++) losses.push((await model.trainOnBatch(mx, target)) as number);
  out['layers.loss'] = losses;
  out['layers.w'] = model.getWeights().flatMap((w) => Array.from(w.dataSync()));
  tf.dispose([mx, my, target]);
  model.dispose();
  optimizer.dispose();
  return out;
}
