/**
 * Per-kernel profile of one training step: `npx tsx bench/profile.ts [estimator] [batch] [steps]`.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/index.js';
import { buildWorkload, type Estimator } from './workloads.js';
import { buildZooWorkload } from './zoo.js';

const estimator = (process.argv[2] ?? 'reparam') as Estimator;
const batch = Number(process.argv[3] ?? 256);
const steps = Number(process.argv[4] ?? 5);
const arch = (process.argv[5] ?? 'lenet5') as 'lenet5' | 'evidential';
const info = await ready();
const hw = arch === 'lenet5' ? 28 : 28;
const w =
  process.env.IMPL === 'self' ? buildWorkload(estimator, arch) : buildZooWorkload(estimator, arch);
const x = tf.randomUniform([batch, hw, hw, 1]) as tf.Tensor4D;
const y = tf
  .oneHot(tf.randomUniform([batch], 0, 10, 'int32') as tf.Tensor1D, 10)
  .toFloat() as tf.Tensor2D;
for (let i = 0; i < 2; i++) w.step(x, y);
const totals = new Map<string, { ms: number; n: number }>();
let wall = 0;
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  const prof = await tf.profile(() => {
    w.step(x, y);
  });
  wall += performance.now() - t0;
  for (const k of prof.kernels) {
    const key = k.name;
    const e = totals.get(key) ?? { ms: 0, n: 0 };
    e.ms += k.kernelTimeMs as number;
    e.n += 1;
    totals.set(key, e);
  }
}
const rows = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
let sum = 0;
for (const [, e] of rows) sum += e.ms;
console.log(
  `${info.backend} kernels=${info.kernels} ${estimator} ${arch} batch ${batch}: profiled step ${(wall / steps).toFixed(1)} ms, kernel sum ${(sum / steps).toFixed(1)} ms`,
);
for (const [name, e] of rows.slice(0, 25)) {
  console.log(
    `${name.padEnd(28)} ${(e.ms / steps).toFixed(2).padStart(8)} ms  ${(e.n / steps).toFixed(0).padStart(4)} calls`,
  );
}
// plain timing without profiler
const t0 = performance.now();
for (let i = 0; i < steps; i++) w.step(x, y);
console.log(`unprofiled: ${((performance.now() - t0) / steps).toFixed(1)} ms/step`);
w.dispose();
