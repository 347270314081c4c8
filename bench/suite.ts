/**
 * The workloads of `npm run bench` (each runs in its own child process, so that its peak RSS is
 * its own and the engine path can be switched by environment), mirrored one for one by the
 * PyTorch twin `bench/reference/torch_twin.py`:
 *
 * - LeNet-5 (28x28x1, batch 256): plain, Bayes-by-Backprop, local reparameterization, Flipout;
 *   MC prediction with 10 weight draws (reparam, local);
 * - LeNet conv 20/50 (plain, batch 256) and the evidential LeNet (dropout 0.5, batch 64);
 * - BayesianCNN's AlexNet (plain and Bayes-by-Backprop) and 3Conv3FC on 32x32x3, batch 64;
 * - the MindSpore VAE 1024-800-400-20 (`dpn.VAE`, `infer.ELBO`), batch 128;
 * - the Pyro-seed BNN 784-1024-10 with Bayes-by-Backprop dense layers, batch 128.
 *
 * FLOPs per image are counted from the layer list (a multiply-add is 2 FLOPs): a training step is
 * taken as 3x the forward pass (forward, input gradient, weight gradient), doubled for local
 * reparameterization and Flipout (two products per layer); MC prediction is 10 forward passes.
 */
import * as tf from '@tensorflow/tfjs';
import { createModel } from '../src/models/index.js';
import { modelKL } from '../src/layers/model_utils.js';
import { VAE } from '../src/dpn/vae.js';
import { ELBO } from '../src/infer/elbo.js';
import { WithLossCell } from '../src/infer/with_loss.js';
import { buildSequential } from '../src/models/build.js';
import type { Estimator } from './workloads.js';
import { buildZooWorkload } from './zoo.js';

/** One workload of the suite. */
export interface SuiteEntry {
  /** Name shared with the PyTorch twin. */
  name: string;
  batch: number;
  kind: 'train' | 'predict';
  /** FLOPs per image of one step (see the module comment). */
  flopsPerImage: number;
  /** BLAS-bound (matrix products and convolutions of this size): counted for GFLOP/s. */
  family: 'lenet5' | 'lenet' | 'cifar' | 'mlp';
}

type Layer =
  ['conv', number, number, number, number] | ['pool', number, number] | ['dense', number];

const LENET5: Layer[] = [
  ['conv', 6, 5, 1, 2],
  ['pool', 2, 2],
  ['conv', 16, 5, 1, 0],
  ['pool', 2, 2],
  ['dense', 120],
  ['dense', 84],
  ['dense', 10],
];
const LENET: Layer[] = [
  ['conv', 20, 5, 1, 0],
  ['pool', 2, 2],
  ['conv', 50, 5, 1, 0],
  ['pool', 2, 2],
  ['dense', 500],
  ['dense', 10],
];
const ALEXNET: Layer[] = [
  ['conv', 64, 11, 4, 5],
  ['pool', 2, 2],
  ['conv', 192, 5, 1, 2],
  ['pool', 2, 2],
  ['conv', 384, 3, 1, 1],
  ['conv', 256, 3, 1, 1],
  ['conv', 128, 3, 1, 1],
  ['pool', 2, 2],
  ['dense', 10],
];
const THREECONV: Layer[] = [
  ['conv', 32, 5, 1, 2],
  ['pool', 3, 2],
  ['conv', 64, 5, 1, 2],
  ['pool', 3, 2],
  ['conv', 128, 5, 1, 1],
  ['pool', 3, 2],
  ['dense', 1000],
  ['dense', 1000],
  ['dense', 10],
];

/** Forward FLOPs per image of a layer list on an `[h, w, c]` input. */
export function forwardFlops(layers: Layer[], input: [number, number, number]): number {
  let [h, w, c] = input;
  let flat = 0;
  let flops = 0;
  for (const l of layers) {
    if (l[0] === 'conv') {
      const [, co, k, s, p] = l;
      h = Math.floor((h + 2 * p - k) / s) + 1;
      w = Math.floor((w + 2 * p - k) / s) + 1;
      flops += 2 * h * w * k * k * c * co;
      c = co;
    } else if (l[0] === 'pool') {
      h = Math.floor((h - l[1]) / l[2]) + 1;
      w = Math.floor((w - l[1]) / l[2]) + 1;
    } else {
      const n = flat === 0 ? h * w * c : flat;
      flops += 2 * n * l[1];
      flat = l[1];
    }
  }
  return flops;
}

const F_LENET5 = forwardFlops(LENET5, [28, 28, 1]);
const F_LENET = forwardFlops(LENET, [28, 28, 1]);
const F_ALEX = forwardFlops(ALEXNET, [32, 32, 3]);
const F_3C = forwardFlops(THREECONV, [32, 32, 3]);
const F_VAE = 2 * (1024 * 800 + 800 * 400 + 2 * 400 * 20 + 20 * 400 + 400 * 1024);
const F_BNN = 2 * (784 * 1024 + 1024 * 10);

/** Every workload, in report order. */
export const SUITE: SuiteEntry[] = [
  {
    name: 'plain-lenet5',
    batch: 256,
    kind: 'train',
    flopsPerImage: 3 * F_LENET5,
    family: 'lenet5',
  },
  {
    name: 'reparam-lenet5',
    batch: 256,
    kind: 'train',
    flopsPerImage: 3 * F_LENET5,
    family: 'lenet5',
  },
  {
    name: 'local-lenet5',
    batch: 256,
    kind: 'train',
    flopsPerImage: 6 * F_LENET5,
    family: 'lenet5',
  },
  {
    name: 'flipout-lenet5',
    batch: 256,
    kind: 'train',
    flopsPerImage: 6 * F_LENET5,
    family: 'lenet5',
  },
  {
    name: 'mc10-reparam-lenet5',
    batch: 256,
    kind: 'predict',
    flopsPerImage: 10 * F_LENET5,
    family: 'lenet5',
  },
  {
    name: 'mc10-local-lenet5',
    batch: 256,
    kind: 'predict',
    flopsPerImage: 20 * F_LENET5,
    family: 'lenet5',
  },
  { name: 'plain-lenet', batch: 256, kind: 'train', flopsPerImage: 3 * F_LENET, family: 'lenet' },
  {
    name: 'evidential-lenet',
    batch: 64,
    kind: 'train',
    flopsPerImage: 3 * F_LENET,
    family: 'lenet',
  },
  { name: 'alexnet', batch: 64, kind: 'train', flopsPerImage: 3 * F_ALEX, family: 'cifar' },
  { name: 'bayes-alexnet', batch: 64, kind: 'train', flopsPerImage: 3 * F_ALEX, family: 'cifar' },
  { name: '3conv3fc', batch: 64, kind: 'train', flopsPerImage: 3 * F_3C, family: 'cifar' },
  { name: 'vae', batch: 128, kind: 'train', flopsPerImage: 3 * F_VAE, family: 'mlp' },
  { name: 'bnn-mlp', batch: 128, kind: 'train', flopsPerImage: 3 * F_BNN, family: 'mlp' },
];

/** A timed unit of work on fixed synthetic data. */
export interface Stepper {
  step(): void;
  dispose(): void;
}

function labels(batch: number, seed: number): tf.Tensor2D {
  return tf.tidy(() =>
    tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', seed) as tf.Tensor1D, 10).toFloat(),
  ) as tf.Tensor2D;
}

function minimizer(
  vars: tf.Variable[],
  loss: () => tf.Scalar,
  lr = 1e-3,
): Stepper & { opt: tf.Optimizer } {
  const opt = tf.train.adam(lr);
  return {
    opt,
    step: () => {
      const l = opt.minimize(loss, true, vars) as tf.Scalar;
      l.dataSync();
      l.dispose();
    },
    dispose: () => opt.dispose(),
  };
}

function zooStepper(name: string, batch: number, predict: boolean): Stepper {
  const [est, arch] = name.startsWith('evidential')
    ? ['plain', 'evidential']
    : (name.split('-') as [Estimator, 'lenet5' | 'lenet']);
  const w = buildZooWorkload(est as Estimator, arch as 'lenet5' | 'lenet' | 'evidential');
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = labels(batch, 2);
  return {
    step: () => {
      if (predict) {
        const p = w.predict(x, 10);
        p.dataSync();
        p.dispose();
      } else {
        w.step(x, y);
      }
    },
    dispose: () => {
      w.dispose();
      tf.dispose([x, y]);
    },
  };
}

function cifarStepper(name: string, batch: number): Stepper {
  const model = createModel(name, { inputShape: [32, 32, 3], numClasses: 10 });
  const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 1);
  const y = labels(batch, 2);
  const m = minimizer(vars, () =>
    tf.add(
      tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
      tf.div(modelKL(model), 50000),
    ),
  );
  return {
    step: m.step,
    dispose: () => {
      m.dispose();
      model.dispose();
      tf.dispose([x, y]);
    },
  };
}

function vaeStepper(batch: number): Stepper {
  const encoder = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [1024], units: 800, activation: 'relu' }),
      tf.layers.dense({ units: 400, activation: 'relu' }),
    ],
  });
  const decoder = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [400], units: 1024, activation: 'sigmoid' })],
  });
  const vae = new VAE(encoder, decoder, 400, 20);
  const cell = new WithLossCell(vae, new ELBO({ latentPrior: 'Normal' }));
  const x = tf.randomUniform([batch, 1024], 0, 1, 'float32', 1);
  const m = minimizer(cell.trainableVariables(), () => cell.call(x));
  return {
    step: m.step,
    dispose: () => {
      m.dispose();
      vae.dispose();
      tf.dispose(x);
    },
  };
}

function bnnStepper(batch: number): Stepper {
  const model = buildSequential(
    [
      { kind: 'flatten' },
      { kind: 'dense', name: 'fc1', units: 1024 },
      { kind: 'act', fn: 'relu' },
      { kind: 'dense', name: 'out', units: 10 },
    ],
    [28, 28, 1],
    { name: 'bnn', bayesian: 'reparam' },
  );
  const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1);
  const y = labels(batch, 2);
  const m = minimizer(
    vars,
    () =>
      tf.add(
        tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
        tf.div(modelKL(model), 60000),
      ),
    0.01,
  );
  return {
    step: m.step,
    dispose: () => {
      m.dispose();
      model.dispose();
      tf.dispose([x, y]);
    },
  };
}

/** Build the stepper of a suite entry. */
export function buildStepper(e: SuiteEntry): Stepper {
  if (e.family === 'cifar') return cifarStepper(e.name, e.batch);
  if (e.name === 'vae') return vaeStepper(e.batch);
  if (e.name === 'bnn-mlp') return bnnStepper(e.batch);
  const predict = e.name.startsWith('mc10-');
  return zooStepper(predict ? e.name.slice('mc10-'.length) : e.name, e.batch, predict);
}
