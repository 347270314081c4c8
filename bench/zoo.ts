/**
 * Bench workloads built from the library's model zoo (`src/models`) and Bayesian layers.
 * Loss: mean softmax cross-entropy + sum_l KL_l / N (N = 60,000, the MNIST training set), or the
 * evidential (Sensoy et al. 2018, MSE form) loss for the evidential LeNet; Adam(1e-3).
 */
import * as tf from '@tensorflow/tfjs';
import { evidentialLenet, lenet, lenet5 } from '../src/models/index.js';
import { modelKL } from '../src/layers/model_utils.js';
import type { Estimator, Workload } from './workloads.js';

const N_TRAIN = 60000;

/** Build a zoo workload; `arch` 'lenet' is the plain conv 20/50 LeNet. */
export function buildZooWorkload(
  estimator: Estimator,
  arch: 'lenet5' | 'evidential' | 'lenet',
): Workload {
  const bayesian = estimator === 'plain' ? undefined : estimator;
  const model =
    arch === 'lenet5'
      ? lenet5({ inputShape: [28, 28, 1], bayesian })
      : arch === 'lenet'
        ? lenet({ bayesian })
        : evidentialLenet({ bayesian });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = tf.train.adam(1e-3);
  const name = arch === 'evidential' ? 'evidential-lenet' : `${estimator}-${arch}`;

  function loss(x: tf.Tensor4D, y: tf.Tensor2D): tf.Scalar {
    const logits = model.apply(x, { training: true }) as tf.Tensor2D;
    let data: tf.Scalar;
    if (arch === 'evidential') {
      const alpha = tf.add(tf.relu(logits), 1);
      const S = tf.sum(alpha, 1, true);
      const p = tf.div(alpha, S);
      const err = tf.sum(tf.square(tf.sub(y, p)), 1);
      const vr = tf.sum(tf.div(tf.mul(p, tf.sub(1, p)), tf.add(S, 1)), 1);
      data = tf.mean(tf.add(err, vr));
    } else {
      data = tf.losses.softmaxCrossEntropy(y, logits);
    }
    if (bayesian === undefined) return data;
    return tf.add(data, tf.div(modelKL(model), N_TRAIN));
  }

  return {
    name,
    step(x, y) {
      const l = opt.minimize(() => loss(x, y), true, vars) as tf.Scalar;
      const v = l.dataSync()[0] as number;
      l.dispose();
      return v;
    },
    predict(x, samples) {
      return tf.tidy(() => {
        let acc: tf.Tensor = tf.zeros([x.shape[0], 10]);
        for (let i = 0; i < samples; i++) {
          acc = tf.add(acc, tf.softmax(model.apply(x, { training: false }) as tf.Tensor));
        }
        return tf.div(acc, samples) as tf.Tensor2D;
      });
    },
    dispose() {
      opt.dispose();
      model.dispose();
    },
  };
}
