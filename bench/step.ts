/**
 * Time the training step of one workload (for A/B runs of a switch such as
 * `DEEPPROB_FUSED_GRADS=0`, `DEEPPROB_CONV_GRAD=conv` or `DEEPPROB_KERNELS=stock`, interleaved on
 * a shared machine):
 *
 *   npx tsx bench/step.ts [lenet5|lenet|evidential] [plain|reparam|local|flipout] [batch 256] [steps 30]
 *   npx tsx bench/step.ts cifar:<model> [batch 64] [steps 8]     e.g. cifar:bayes-alexnet
 *
 * The first form runs the bench workloads (`bench/zoo.ts`, 28x28x1); the second a model of the
 * zoo registry on 32x32x3 inputs (CIFAR-10's shape) with softmax cross-entropy + KL / 50,000 and
 * Adam. Prints the mean ms per step after warm-up steps, images/s, and the process's CPU time per
 * step (all threads; the steadier figure on a loaded machine).
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/index.js';
import { cifarStepper, type Stepper } from './cifar_step.js';
import type { Estimator } from './workloads.js';
import { buildZooWorkload } from './zoo.js';

function zooStepper(arch: string, est: Estimator, batch: number): Stepper {
  if (arch !== 'lenet5' && arch !== 'lenet' && arch !== 'evidential') {
    throw new Error(`workload must be lenet5, lenet, evidential or cifar:<model>, got '${arch}'`);
  }
  const w = buildZooWorkload(est, arch);
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.tidy(() =>
    tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', 2) as tf.Tensor1D, 10).toFloat(),
  ) as tf.Tensor2D;
  return {
    name: w.name,
    batch,
    step: () => void w.step(x, y),
    dispose: () => {
      w.dispose();
      tf.dispose([x, y]);
    },
  };
}

const workload = process.argv[2] ?? 'lenet5';
const cifar = workload.startsWith('cifar:');
const rest = process.argv.slice(cifar ? 3 : 4);
const batch = Number(rest[0] ?? (cifar ? 64 : 256));
const steps = Number(rest[1] ?? (cifar ? 8 : 30));
await ready(); // DEEPPROB_BACKEND=webgpu|wasm|... picks the backend
const s = cifar
  ? cifarStepper(workload.slice('cifar:'.length), batch)
  : zooStepper(workload, (process.argv[3] ?? 'plain') as Estimator, batch);
for (let i = 0; i < (cifar ? 2 : 5); i++) s.step();
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < steps; i++) s.step();
const ms = (performance.now() - t0) / steps;
// CPU time of the process (all threads) per step: on a shared, loaded machine closer to what an
// idle one gives than wall time (threads waiting for a core do not count)
const cpu = process.cpuUsage(c0);
const cpuMs = (cpu.user + cpu.system) / 1000 / steps;
const env = [
  'DEEPPROB_FUSED_GRADS',
  'DEEPPROB_CONV_GRAD',
  'DEEPPROB_KERNELS',
  'DEEPPROB_SIMD',
  'DEEPPROB_NATIVE',
  'DEEPPROB_NATIVE_DIRECT',
  'DEEPPROB_NATIVE_POINTWISE',
]
  .filter((k) => process.env[k] !== undefined)
  .map((k) => `${k}=${process.env[k]}`)
  .join(' ');
console.log(
  `${s.name} b${batch}: ${ms.toFixed(1)} ms/step, ${((batch * 1000) / ms).toFixed(0)} images/s, ` +
    `CPU ${cpuMs.toFixed(1)} ms/step` +
    (env === '' ? '' : ` (${env})`),
);
s.dispose();
