import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import digammaRef from '@stdlib/math-base-special-digamma';
import gammalnRef from '@stdlib/math-base-special-gammaln';
import { toolbox } from '../../src/index.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';

const xs = [0.05, 0.3, 1, 1.5, 2.7, 5, 9.5, 31, 250, 4000, 1e5];

describe('special functions', () => {
  it('lgamma matches @stdlib gammaln', () => {
    const got = expectNoLeak(() => toolbox.lgamma(xs));
    expect(got).toBeAllclose(
      xs.map((x) => gammalnRef(x)),
      { rtol: 2e-6, atol: 2e-6 },
    );
  });
  it('digamma matches @stdlib digamma', () => {
    const got = expectNoLeak(() => toolbox.digamma(xs));
    expect(got).toBeAllclose(
      xs.map((x) => digammaRef(x)),
      { rtol: 2e-6, atol: 2e-6 },
    );
  });
  it('the gradient of lgamma is digamma and of digamma is the trigamma', () => {
    const x = tf.tensor1d([0.7, 2.2, 12]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(toolbox.lgamma(t)))(x);
    expect(g).toBeAllclose(
      [0.7, 2.2, 12].map((v) => digammaRef(v)),
      { rtol: 1e-5 },
    );
    const g2 = tf.grad((t: tf.Tensor) => tf.sum(toolbox.digamma(t)))(x);
    const fd = [0.7, 2.2, 12].map(
      (v) => finiteDiff(([u]) => digammaRef(u as number), [v], 1e-4)[0] as number,
    );
    expect(g2).toBeAllclose(fd, { rtol: 1e-4 });
    tf.dispose([x, g, g2]);
  });
});
