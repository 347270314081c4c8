/**
 * Per-kernel profile of one bench workload (tf.profile): `npx tsx bench/profile.ts
 * [reparam|local|flipout|plain] [batch] [train|predict] [lenet5|lenet|evidential]`, or
 * `npx tsx bench/profile.ts cifar:<model> [batch 64]` (a zoo model on 32x32x3, e.g.
 * `cifar:alexnet`, `cifar:bayes-alexnet`, `cifar:3conv3fc`: training steps, kernels split by input
 * shapes). Prints the markdown table that `npm run bench` also writes to bench/RESULTS.md for the
 * BBB step.
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/index.js';
import type { Estimator } from './workloads.js';
import { buildZooWorkload } from './zoo.js';
import { cifarStepper } from './cifar_step.js';

/** Per-kernel breakdown of a training step or an MC-10 prediction, as a markdown section. */
export async function profileWorkload(
  est: Estimator,
  batch: number,
  steps: number,
  mode: 'train' | 'predict' = 'train',
  arch: 'lenet5' | 'lenet' | 'evidential' = 'lenet5',
): Promise<string> {
  const w = buildZooWorkload(est, arch);
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', 2) as tf.Tensor1D, 10).toFloat();
  const run = (): void => {
    if (mode === 'train') w.step(x, y as tf.Tensor2D);
    else w.predict(x, 10).dispose();
  };
  const { totals, wall } = await profileSteps(run, steps, (k) => k.name);
  const name = mode === 'train' ? w.name : `mc10-${w.name}`;
  w.dispose();
  tf.dispose([x, y]);
  return table(totals, wall, steps, name, batch, mode);
}

/** A kernel record of `tf.profile`. */
type KernelRecord = Awaited<ReturnType<typeof tf.profile>>['kernels'][number];

/**
 * Run `run` twice to warm up, then `steps` times under `tf.profile`: kernel time and calls summed
 * per `keyOf(kernel)`, and the wall time of the profiled runs.
 */
async function profileSteps(
  run: () => void,
  steps: number,
  keyOf: (k: KernelRecord) => string,
): Promise<{ totals: Map<string, { ms: number; n: number }>; wall: number }> {
  run();
  run();
  const totals = new Map<string, { ms: number; n: number }>();
  let wall = 0;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const prof = await tf.profile(run);
    wall += performance.now() - t0;
    for (const k of prof.kernels) {
      const key = keyOf(k);
      const e = totals.get(key) ?? { ms: 0, n: 0 };
      e.ms += k.kernelTimeMs as number;
      e.n += 1;
      totals.set(key, e);
    }
  }
  return { totals, wall };
}

/** The markdown section of a profile: kernels by time per step. */
function table(
  totals: Map<string, { ms: number; n: number }>,
  wall: number,
  steps: number,
  name: string,
  batch: number,
  mode: 'train' | 'predict',
): string {
  const rows = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const sum = rows.reduce((a, [, e]) => a + e.ms, 0);
  const calls = rows.reduce((a, [, e]) => a + e.n, 0);
  const lines = [
    `## Per-kernel profile: ${name}, batch ${batch} (tf.profile, mean of ${steps} ${mode === 'train' ? 'steps' : 'predictions'})`,
    '',
    `Profiled ${mode === 'train' ? 'step' : 'prediction'} ${(wall / steps).toFixed(1)} ms; kernel time ${(sum / steps).toFixed(1)} ms in ${(calls / steps).toFixed(0)} kernel calls; the rest is JS outside kernels (autodiff bookkeeping, op dispatch, tensor creation).`,
    '',
    '| kernel | ms/step | share | calls/step |',
    '|---|---|---|---|',
    ...rows
      .slice(0, 18)
      .map(
        ([k, e]) =>
          `| ${k} | ${(e.ms / steps).toFixed(2)} | ${((100 * e.ms) / sum).toFixed(0)}% | ${(e.n / steps).toFixed(0)} |`,
      ),
    '',
  ];
  return lines.join('\n') + '\n';
}

/**
 * Per-kernel profile of training a zoo model on 32x32x3 inputs (softmax cross-entropy + KL /
 * 50,000, Adam), convolution, matmul, pooling and element-wise kernels split by input shapes.
 */
export async function profileCifar(model: string, batch: number, steps: number): Promise<string> {
  const stepper = cifarStepper(model, batch);
  const run = (): void => stepper.step();
  const { totals, wall } = await profileSteps(run, steps, (k) =>
    /Conv|MatMul|Pool|Sum|Softplus|Pad|Slice|Add|Sub|Mul/.test(k.name)
      ? `${k.name} ${JSON.stringify(k.inputShapes)}`
      : k.name,
  );
  stepper.dispose();
  return table(totals, wall, steps, model, batch, 'train');
}

if (process.argv[1]?.endsWith('profile.ts')) {
  await ready();
  const first = process.argv[2] ?? 'reparam';
  if (first.startsWith('cifar:')) {
    console.log(await profileCifar(first.slice('cifar:'.length), Number(process.argv[3] ?? 64), 3));
    process.exit(0);
  }
  const est = (process.argv[2] ?? 'reparam') as Estimator;
  const batch = Number(process.argv[3] ?? 256);
  const mode = process.argv[4] === 'predict' ? 'predict' : 'train';
  const arch = process.argv[5] ?? 'lenet5';
  if (arch !== 'lenet5' && arch !== 'lenet' && arch !== 'evidential') {
    throw new Error(`arch must be lenet5, lenet or evidential, got '${arch}'`);
  }
  console.log(await profileWorkload(est, batch, 3, mode, arch));
  process.exit(0);
}
