/**
 * Binary cross-entropies outside the distributions route `log(1 + x)` through the accurate
 * `utils/log1p.ts`: tfjs's `tf.log1p` on wasm is `log(1 + x)` in float32 (0 at `1e-10`), and
 * `tf.log(1 - p)` of a small `p` rounds `1 - p` first (19% off at `p = 1e-7`). References are
 * float64 closed forms: `softplus(-z) = log1p(e^{-z})`, `-log(1 - p) = -log1p(-p)`.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bernoulliLogitsNLLSum, bernoulliNLLSum } from '../../src/infer/elbo.js';
import { classNll } from '../../src/toolbox/class_outputs.js';
import { expectNoLeak } from '../helpers.js';

/** float64 `log(1 + e^v)`. */
const softplus = (v: number): number =>
  v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));

describe('binary cross-entropies with an accurate log1p', () => {
  it('ELBO Bernoulli NLL from logits: softplus(-20) = 2.06e-9, not 0', () => {
    const got = expectNoLeak(() =>
      tf.tidy(() => bernoulliLogitsNLLSum(tf.tensor2d([[1, 0]]), tf.tensor2d([[20, -30]]))),
    );
    expect(got).toBeAllclose([softplus(-20) + softplus(-30)], { rtol: 1e-5, atol: 0 });
  });

  it('ELBO Bernoulli NLL from probabilities: -log(1 - 1e-7) = 1e-7, not 1.19e-7', () => {
    const got = expectNoLeak(() =>
      tf.tidy(() => bernoulliNLLSum(tf.tensor2d([[0, 0]]), tf.tensor2d([[1e-7, 1e-5]]))),
    );
    const p = [Math.fround(1e-7), Math.fround(1e-5)];
    expect(got).toBeAllclose([-Math.log1p(-p[0]!) - Math.log1p(-p[1]!)], {
      rtol: 1e-5,
      atol: 0,
    });
  });

  it('classNll with one output: logits and probabilities', () => {
    const labels = tf.tensor1d([1, 0], 'int32');
    const logits = expectNoLeak(() =>
      tf.tidy(() => classNll(tf.tensor2d([[20], [-25]]), labels, 'logits')),
    );
    expect(logits).toBeAllclose([(softplus(-20) + softplus(-25)) / 2], { rtol: 1e-5, atol: 0 });
    const probs = expectNoLeak(() =>
      tf.tidy(() => classNll(tf.tensor2d([[1 - 1e-6], [1e-6]]), labels, 'probs')),
    );
    const hi = Math.fround(1 - 1e-6);
    const lo = Math.fround(1e-6);
    expect(probs).toBeAllclose([(-Math.log(hi) - Math.log1p(-lo)) / 2], { rtol: 1e-4, atol: 0 });
    labels.dispose();
  });
});
