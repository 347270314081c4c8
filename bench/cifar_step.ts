/**
 * One training step of a zoo model on 32x32x3 inputs (CIFAR-10's shape): softmax cross-entropy
 * + KL / 50,000 (zero for a plain model) and Adam 1e-3 on fixed seeded inputs and labels. Timed by
 * `bench/step.ts cifar:<model>`, profiled per kernel by `bench/profile.ts cifar:<model>`.
 */
import * as tf from '@tensorflow/tfjs';
import { createModel } from '../src/models/index.js';
import { modelKL } from '../src/layers/model_utils.js';

/** A workload that takes training steps. */
export interface Stepper {
  name: string;
  batch: number;
  step(): void;
  dispose(): void;
}

/** The CIFAR-shaped training step of the zoo model `name` at batch size `batch`. */
export function cifarStepper(name: string, batch: number): Stepper {
  const model = createModel(name, { inputShape: [32, 32, 3], numClasses: 10 });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = tf.train.adam(1e-3);
  const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 1);
  const y = tf.tidy(() =>
    tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', 2) as tf.Tensor1D, 10).toFloat(),
  );
  return {
    name: `${name} (32x32x3)`,
    batch,
    step: () => {
      const l = opt.minimize(
        () => {
          const logits = model.apply(x, { training: true }) as tf.Tensor;
          // KL / N is zero for a plain model
          return tf.add(
            tf.losses.softmaxCrossEntropy(y, logits),
            tf.div(modelKL(model), 50000),
          ) as tf.Scalar;
        },
        true,
        vars,
      );
      // read the loss, as a training loop does: on an asynchronous backend (webgpu) this waits for
      // the step's GPU work, so the time per step is the real one
      l?.dataSync();
      l?.dispose();
    },
    dispose: () => {
      model.dispose();
      opt.dispose();
      tf.dispose([x, y]);
    },
  };
}
