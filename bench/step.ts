/**
 * Time the training step of one bench workload (for A/B runs of a switch such as
 * `DEEPPROB_FUSED_GRADS=0` or `DEEPPROB_KERNELS=stock`, interleaved on a shared machine):
 *
 *   npx tsx bench/step.ts [lenet5|lenet|evidential] [plain|reparam|local|flipout] [batch 256] [steps 30]
 *
 * Prints the mean ms per step over `steps` steps after 5 warm-up steps, and images/s.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/index.js';
import type { Estimator } from './workloads.js';
import { buildZooWorkload } from './zoo.js';

const arch = process.argv[2] ?? 'lenet5';
if (arch !== 'lenet5' && arch !== 'lenet' && arch !== 'evidential') {
  throw new Error(`arch must be lenet5, lenet or evidential, got '${arch}'`);
}
const est = (process.argv[3] ?? 'plain') as Estimator;
const batch = Number(process.argv[4] ?? 256);
const steps = Number(process.argv[5] ?? 30);
await ready();
const w = buildZooWorkload(est, arch);
const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
const y = tf.tidy(() =>
  tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', 2) as tf.Tensor1D, 10).toFloat(),
) as tf.Tensor2D;
for (let i = 0; i < 5; i++) w.step(x, y);
const t0 = performance.now();
for (let i = 0; i < steps; i++) w.step(x, y);
const ms = (performance.now() - t0) / steps;
const env = ['DEEPPROB_FUSED_GRADS', 'DEEPPROB_KERNELS', 'DEEPPROB_SIMD']
  .filter((k) => process.env[k] !== undefined)
  .map((k) => `${k}=${process.env[k]}`)
  .join(' ');
console.log(
  `${w.name} b${batch}: ${ms.toFixed(1)} ms/step, ${((batch * 1000) / ms).toFixed(0)} images/s` +
    (env === '' ? '' : ` (${env})`),
);
w.dispose();
tf.dispose([x, y]);
