import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/index.js';
import { buildWorkload } from './workloads.js';
const info = await ready();
const w = buildWorkload('reparam', 'lenet5');
const x = tf.randomUniform([256, 28, 28, 1]) as tf.Tensor4D;
const y = tf
  .oneHot(tf.randomUniform([256], 0, 10, 'int32') as tf.Tensor1D, 10)
  .toFloat() as tf.Tensor2D;
for (let i = 0; i < 3; i++) w.step(x, y);
const ts: number[] = [];
for (let i = 0; i < 15; i++) {
  const t0 = performance.now();
  w.step(x, y);
  ts.push(performance.now() - t0);
}
ts.sort((a, b) => a - b);
console.log(
  `threads=${info.threads} kernels=${info.kernels} median ${ts[7]?.toFixed(1)} min ${ts[0]?.toFixed(1)} ms/step`,
);
