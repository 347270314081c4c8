/**
 * Benchmark workloads written directly on tfjs (so the bench does not depend on the layer code
 * while it is being written): plain, Bayes-by-backprop (reparameterization), local
 * reparameterization and flipout LeNet5 (conv 6/16 5x5, fc 120/84/10 on 28x28 input with 'same'
 * first conv), and the evidential LeNet (conv 20/50 5x5, fc 500, dropout 0.5).
 *
 * Variational weights: w = mu + softplus(rho) * eps, prior N(0, 1), analytic Normal KL, Adam.
 */
import * as tf from '@tensorflow/tfjs';
import { randomNormal } from '../src/backend/random.js';

/** Kind of weight estimator. */
export type Estimator = 'plain' | 'reparam' | 'local' | 'flipout';

/** A trainable workload: one optimisation step and an MC prediction. */
export interface Workload {
  name: string;
  /** One training step on (x, y); returns the loss value (synchronously read). */
  step(x: tf.Tensor4D, y: tf.Tensor2D): number;
  /** Mean of `samples` stochastic forward passes (softmax probabilities). */
  predict(x: tf.Tensor4D, samples: number): tf.Tensor2D;
  dispose(): void;
}

interface Param {
  mu: tf.Variable;
  rho?: tf.Variable;
}

function glorot(shape: number[], fanIn: number, fanOut: number, seed: number): tf.Tensor {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return tf.randomUniform(shape, -limit, limit, 'float32', seed);
}

function makeParam(
  shape: number[],
  fanIn: number,
  fanOut: number,
  bayes: boolean,
  seed: number,
): Param {
  const mu = tf.variable(shape.length > 1 ? glorot(shape, fanIn, fanOut, seed) : tf.zeros(shape));
  if (!bayes) return { mu };
  return { mu, rho: tf.variable(tf.fill(shape, -3)) };
}

function softplus(x: tf.Tensor): tf.Tensor {
  return tf.softplus(x);
}

/** Analytic KL( N(mu, sigma) || N(0, 1) ) summed. */
function klStdNormal(mu: tf.Tensor, sigma: tf.Tensor): tf.Scalar {
  return tf.sum(
    tf.sub(tf.mul(0.5, tf.add(tf.square(sigma), tf.square(mu))), tf.add(tf.log(sigma), 0.5)),
  );
}

type LayerSpec =
  | { kind: 'conv'; k: number; cin: number; cout: number; pad: 'same' | 'valid' }
  | { kind: 'pool' }
  | { kind: 'flatten' }
  | { kind: 'dense'; nin: number; nout: number; act: 'relu' | 'none' }
  | { kind: 'dropout'; rate: number };

function lenet5(): LayerSpec[] {
  return [
    { kind: 'conv', k: 5, cin: 1, cout: 6, pad: 'same' },
    { kind: 'pool' },
    { kind: 'conv', k: 5, cin: 6, cout: 16, pad: 'valid' },
    { kind: 'pool' },
    { kind: 'flatten' },
    { kind: 'dense', nin: 400, nout: 120, act: 'relu' },
    { kind: 'dense', nin: 120, nout: 84, act: 'relu' },
    { kind: 'dense', nin: 84, nout: 10, act: 'none' },
  ];
}

function evidentialLenet(): LayerSpec[] {
  return [
    { kind: 'conv', k: 5, cin: 1, cout: 20, pad: 'valid' },
    { kind: 'pool' },
    { kind: 'conv', k: 5, cin: 20, cout: 50, pad: 'valid' },
    { kind: 'pool' },
    { kind: 'flatten' },
    { kind: 'dense', nin: 800, nout: 500, act: 'relu' },
    { kind: 'dropout', rate: 0.5 },
    { kind: 'dense', nin: 500, nout: 10, act: 'none' },
  ];
}

/** Build a workload. `evidential` uses the evidential LeNet with the Sensoy et al. loss. */
export function buildWorkload(
  estimator: Estimator,
  arch: 'lenet5' | 'evidential',
  numBatches = 235,
): Workload {
  const specs = arch === 'lenet5' ? lenet5() : evidentialLenet();
  const bayes = estimator !== 'plain';
  const params: { w: Param; b: Param; spec: LayerSpec }[] = [];
  let seed = 1;
  for (const s of specs) {
    if (s.kind === 'conv') {
      params.push({
        w: makeParam(
          [s.k, s.k, s.cin, s.cout],
          s.k * s.k * s.cin,
          s.k * s.k * s.cout,
          bayes,
          seed++,
        ),
        b: makeParam([s.cout], 0, 0, bayes, seed++),
        spec: s,
      });
    } else if (s.kind === 'dense') {
      params.push({
        w: makeParam([s.nin, s.nout], s.nin, s.nout, bayes, seed++),
        b: makeParam([s.nout], 0, 0, bayes, seed++),
        spec: s,
      });
    }
  }
  const vars = params
    .flatMap((p) => [p.w.mu, p.w.rho, p.b.mu, p.b.rho])
    .filter((v): v is tf.Variable => v !== undefined);
  const opt = tf.train.adam(1e-3);

  function sampleParam(p: Param): tf.Tensor {
    if (p.rho === undefined) return p.mu;
    return tf.add(p.mu, tf.mul(softplus(p.rho), randomNormal(p.mu.shape)));
  }

  /** Linear map of a layer with the chosen estimator; returns pre-activation. */
  function linear(h: tf.Tensor, p: { w: Param; b: Param; spec: LayerSpec }): tf.Tensor {
    const s = p.spec;
    const op = (inp: tf.Tensor, w: tf.Tensor): tf.Tensor =>
      s.kind === 'conv'
        ? tf.conv2d(inp as tf.Tensor4D, w as tf.Tensor4D, 1, s.pad)
        : tf.matMul(inp as tf.Tensor2D, w as tf.Tensor2D);
    if (estimator === 'plain' || estimator === 'reparam') {
      return tf.add(op(h, sampleParam(p.w)), sampleParam(p.b));
    }
    const sw = softplus(p.w.rho as tf.Variable);
    const sb = softplus(p.b.rho as tf.Variable);
    if (estimator === 'local') {
      const mean = tf.add(op(h, p.w.mu), p.b.mu);
      const v = tf.add(op(tf.square(h), tf.square(sw)), tf.square(sb));
      return tf.add(mean, tf.mul(tf.sqrt(tf.add(v, 1e-16)), randomNormal(mean.shape)));
    }
    // flipout: mean path + sign-flipped perturbation path
    const mean = tf.add(op(h, p.w.mu), p.b.mu);
    const dw = tf.mul(sw, randomNormal(sw.shape));
    const signIn = tf.sign(tf.randomUniform(h.shape, -1, 1));
    const outShape = mean.shape;
    const signOut = tf.sign(tf.randomUniform(outShape, -1, 1));
    const pert = tf.mul(op(tf.mul(h, signIn), dw), signOut);
    return tf.add(tf.add(mean, pert), tf.mul(sb, randomNormal(sb.shape)));
  }

  function forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    let h: tf.Tensor = x;
    let pi = 0;
    for (const s of specs) {
      if (s.kind === 'conv' || s.kind === 'dense') {
        const p = params[pi++] as { w: Param; b: Param; spec: LayerSpec };
        h = linear(h, p);
        if (s.kind === 'conv' || s.act === 'relu') h = tf.relu(h);
      } else if (s.kind === 'pool') {
        h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
      } else if (s.kind === 'flatten') {
        h = tf.reshape(h, [h.shape[0] as number, -1]);
      } else if (training) {
        h = tf.dropout(h, s.rate);
      }
    }
    return h as tf.Tensor2D;
  }

  function kl(): tf.Scalar {
    const terms = params
      .flatMap((p) => [p.w, p.b])
      .map((q) => klStdNormal(q.mu, softplus(q.rho as tf.Variable)));
    return tf.addN(terms) as tf.Scalar;
  }

  function loss(x: tf.Tensor4D, y: tf.Tensor2D): tf.Scalar {
    const logits = forward(x, true);
    let data: tf.Scalar;
    if (arch === 'evidential') {
      // Sensoy et al. 2018, MSE form: alpha = relu(logits) + 1.
      const alpha = tf.add(tf.relu(logits), 1);
      const S = tf.sum(alpha, 1, true);
      const p = tf.div(alpha, S);
      const err = tf.sum(tf.square(tf.sub(y, p)), 1);
      const vr = tf.sum(tf.div(tf.mul(p, tf.sub(1, p)), tf.add(S, 1)), 1);
      data = tf.mean(tf.add(err, vr));
    } else {
      data = tf.losses.softmaxCrossEntropy(y, logits);
    }
    if (!bayes) return data;
    return tf.add(data, tf.div(kl(), numBatches * (x.shape[0] as number)));
  }

  return {
    name:
      arch === 'evidential'
        ? estimator === 'plain'
          ? 'evidential-lenet'
          : `${estimator}-evidential-lenet`
        : `${estimator}-${arch}`,
    step(x, y) {
      const l = opt.minimize(() => loss(x, y), true, vars) as tf.Scalar;
      const v = l.dataSync()[0] as number;
      l.dispose();
      return v;
    },
    predict(x, samples) {
      return tf.tidy(() => {
        let acc: tf.Tensor = tf.zeros([x.shape[0], 10]);
        for (let i = 0; i < samples; i++) acc = tf.add(acc, tf.softmax(forward(x, false)));
        return tf.div(acc, samples) as tf.Tensor2D;
      });
    },
    dispose() {
      opt.dispose();
      tf.dispose(vars);
    },
  };
}
