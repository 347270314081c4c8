/**
 * Activation functions of Bayesian layers, by name (the tfjs / Keras names, plus MindSpore's).
 * A name, not a function, is stored in the layer config so that saved models load back.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

const ACTIVATIONS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  linear: (x) => x,
  relu: (x) => tf.relu(x),
  relu6: (x) => tf.relu6(x),
  elu: (x) => tf.elu(x),
  selu: (x) => tf.selu(x),
  sigmoid: (x) => tf.sigmoid(x),
  hardSigmoid: (x) => tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1),
  tanh: (x) => tf.tanh(x),
  softplus: (x) => tf.softplus(x),
  softsign: (x) => tf.div(x, tf.add(1, tf.abs(x))),
  softmax: (x) => tf.softmax(x),
  logSoftmax: (x) => tf.logSoftmax(x),
  swish: (x) => tf.mul(x, tf.sigmoid(x)),
  mish: (x) => tf.mul(x, tf.tanh(tf.softplus(x))),
  gelu: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
  // tfjs's 'gelu_new', the tanh approximation:
  // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
  geluNew: (x) =>
    tf.mul(
      tf.mul(x, 0.5),
      tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))),
    ),
};

/** Names accepted as `activation`. */
export const ACTIVATION_NAMES: readonly string[] = Object.keys(ACTIVATIONS);

/**
 * Canonical name of an activation: accepts `null`/`undefined`/`'none'` (linear), the tfjs names
 * and snake case (`'hard_sigmoid'`, `'log_softmax'`).
 * @param name the activation name.
 * @param argument the argument named in errors (`'activation'`, `'recurrentActivation'`).
 * @throws ArgumentError naming `argument` for an unknown name.
 */
export function normalizeActivation(
  name: string | null | undefined,
  argument = 'activation',
): string {
  if (name === undefined || name === null || name === '' || name === 'none') return 'linear';
  if (typeof name !== 'string') {
    throw new ArgumentError(
      argument,
      `expected the name of an activation (one of ${ACTIVATION_NAMES.join(', ')}), got ${typeof name === 'object' ? 'an object' : String(name)}`,
    );
  }
  const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  if (camel in ACTIVATIONS) return camel;
  throw new ArgumentError(
    argument,
    `expected one of ${ACTIVATION_NAMES.join(', ')}, got '${name}'`,
  );
}

/** Apply the activation `name` (a canonical name from {@link normalizeActivation}). */
export function applyActivation(name: string, x: tf.Tensor): tf.Tensor {
  const f = ACTIVATIONS[name];
  if (f === undefined) throw new ArgumentError('activation', `unknown activation '${name}'`);
  return f(x);
}
