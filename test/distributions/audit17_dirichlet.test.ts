// Session 17: Dirichlet.logProb off the simplex is -Infinity without validateArgs (as the scalar
// families outside their support, gradient 0), the named ArgumentError with it.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import gammaln from '@stdlib/math-base-special-gammaln';
import { ArgumentError, distributions as d } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

/** float64 Dirichlet log-density. */
function dirichletLogPdf(a: number[], x: number[]): number {
  const a0 = a.reduce((s, v) => s + v, 0);
  let lp = gammaln(a0);
  a.forEach((ak, k) => {
    lp += (ak - 1) * Math.log(x[k] as number) - gammaln(ak);
  });
  return lp;
}

describe('Dirichlet.logProb off the simplex', () => {
  const alpha = [1.5, 2, 3];
  const values = [
    [0.2, 0.3, 0.5], // on
    [0.5, 0.6, -0.1], // negative coordinate, sums to 1
    [0.5, 0.6, 0.2], // positive, sums to 1.3
    [0.1, 0.1, 0.1], // sums to 0.3
    [0, 0.4, 0.6], // on the boundary
  ];
  it('without validateArgs: -Infinity off it, the density on it (as the scalar families)', () => {
    const dir = new d.Dirichlet(alpha, { validateArgs: false });
    const lp = expectNoLeak(() => dir.logProb(values));
    expect(lp[0]).toBeCloseTo(dirichletLogPdf(alpha, values[0] as number[]), 5);
    expect(lp.slice(1, 4)).toEqual([-Infinity, -Infinity, -Infinity]);
    // alpha_1 > 1 at x_1 = 0: density 0
    expect(lp[4]).toBe(-Infinity);
    const flat = new d.Dirichlet([1, 2, 3], { validateArgs: false });
    const b = expectNoLeak(() => flat.logProb([0, 0.4, 0.6]));
    expect(b[0]).toBeCloseTo(
      Math.log(0.4) + 2 * Math.log(0.6) + gammaln(6) - gammaln(2) - gammaln(3),
      5,
    );
    // batched: a batch of concentrations against one off-simplex value
    const batch = new d.Dirichlet([alpha, [0.5, 0.5, 0.5]], { validateArgs: false });
    expect(expectNoLeak(() => batch.logProb([0.5, 0.6, 0.2]))).toEqual([-Infinity, -Infinity]);
    [dir, flat, batch].forEach((x) => x.dispose());
  });
  it('the gradient off the simplex is 0 (finite), on it the analytic (alpha - 1)/x', () => {
    const dir = new d.Dirichlet(alpha, { validateArgs: false });
    const x = tf.tensor2d([values[0] as number[], values[1] as number[], values[2] as number[]]);
    const before = tf.memory().numTensors;
    const g = tf.grad((v: tf.Tensor) =>
      tf.sum(tf.where(tf.isFinite(dir.logProb(v)), dir.logProb(v), tf.zeros([3]))),
    )(x);
    const gv = g.arraySync() as number[][];
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    gv[0]!.forEach((v, k) =>
      expect(v).toBeCloseTo(((alpha[k] as number) - 1) / (values[0]![k] as number), 3),
    );
    expect(gv[1]).toEqual([0, 0, 0]);
    expect(gv[2]).toEqual([0, 0, 0]);
    x.dispose();
    dir.dispose();
  });
  it('with validateArgs (the default): an ArgumentError naming value, before any work', () => {
    const dir = new d.Dirichlet(alpha);
    const before = tf.memory().numTensors;
    for (const v of values.slice(1, 4)) {
      let err: unknown;
      try {
        dir.logProb(v);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).argument).toBe('value');
    }
    expect(tf.memory().numTensors).toBe(before);
    dir.dispose();
  });
});
