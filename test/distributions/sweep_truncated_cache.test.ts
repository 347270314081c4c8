/**
 * `TruncatedDistribution` computes its bound terms (`log Z`, `log F(low)`, ...) once at
 * construction and reuses them on the same gradient tape (or on none): the values and gradients
 * must be those of a fresh computation — a distribution built outside `tf.grad` and scored inside
 * one still differentiates through `log Z`, and a base over a `tf.Variable` reads its new value
 * after `assign`.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { describe, expect, it } from 'vitest';
import { distributions } from '../../src/index.js';

const d = distributions;

/** float64 log-density of N(mu, s) truncated to [lo, hi]. */
function refLogProb(x: number, mu: number, s: number, lo: number, hi: number): number {
  const z = normalRef.cdf(hi, mu, s) - normalRef.cdf(lo, mu, s);
  return normalRef.logpdf(x, mu, s) - Math.log(z);
}

describe('TruncatedDistribution bound-term cache', () => {
  const xs = [-0.5, 0.2, 1.1];

  it('scores like float64 on repeated calls and leaves no tensor', () => {
    const base = new d.Normal(0.3, 1.2);
    const t = new d.TruncatedDistribution(base, { low: -1, high: 1.5 });
    const before = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) {
      const lp = t.logProb(xs);
      expect(Array.from(lp.dataSync())).toBeAllclose(
        xs.map((x) => refLogProb(x, 0.3, 1.2, -1, 1.5)),
        { rtol: 1e-5, atol: 1e-5 },
      );
      lp.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
    base.dispose();
  });

  it('built outside tf.grad, scored inside: d/dloc includes d log Z/dloc (finite differences)', () => {
    const loc = tf.scalar(0.3);
    const base = new d.Normal(loc, 1.2);
    const t = new d.TruncatedDistribution(base, { low: -1, high: 1.5 });
    const g = tf.grad((m: tf.Tensor) => {
      // the same base parameters, rebuilt on the tape, against the cached outside one
      const b2 = new d.Normal(m, 1.2);
      const t2 = new d.TruncatedDistribution(b2, { low: -1, high: 1.5 });
      const out = tf.sum(t2.logProb(xs));
      t2.dispose();
      b2.dispose();
      return out;
    })(loc);
    const inside = g.dataSync()[0]!;
    g.dispose();
    const h = 1e-4;
    const f = (m: number): number => xs.reduce((a, x) => a + refLogProb(x, m, 1.2, -1, 1.5), 0);
    const fd = (f(0.3 + h) - f(0.3 - h)) / (2 * h);
    expect(inside).toBeCloseTo(fd, 3);
    // the distribution built outside the tape, differentiated in its base's loc tensor: the
    // cached log Z (no tape) is not used on the tape, so its gradient is there
    const g2 = tf.grad((m: tf.Tensor) => tf.sum(t.logProb(xs)).add(tf.mul(m, 0)))(loc);
    const outside = g2.dataSync()[0]!;
    g2.dispose();
    const dataTerm = xs.reduce((a, x) => a + (x - 0.3) / 1.44, 0);
    expect(outside).toBeCloseTo(fd, 3);
    expect(Math.abs(outside - dataTerm)).toBeGreaterThan(0.05);
    t.dispose();
    base.dispose();
    loc.dispose();
  });

  it('a base over a tf.Variable reads the value after assign (no stale log Z)', () => {
    const loc = tf.variable(tf.scalar(0.3));
    const base = new d.Normal(loc, 1.2);
    const t = new d.TruncatedDistribution(base, { low: -1, high: 1.5 });
    const read = (): number[] => {
      const lp = t.logProb(xs);
      const v = Array.from(lp.dataSync());
      lp.dispose();
      return v;
    };
    expect(read()).toBeAllclose(
      xs.map((x) => refLogProb(x, 0.3, 1.2, -1, 1.5)),
      { rtol: 1e-5, atol: 1e-5 },
    );
    loc.assign(tf.scalar(-0.4));
    expect(read()).toBeAllclose(
      xs.map((x) => refLogProb(x, -0.4, 1.2, -1, 1.5)),
      { rtol: 1e-5, atol: 1e-5 },
    );
    const v = tf.variableGrads(() => tf.sum(t.logProb(xs)) as tf.Scalar, [loc]);
    const gv = v.grads[loc.name]!.dataSync()[0]!;
    const h = 1e-4;
    const f = (m: number): number => xs.reduce((a, x) => a + refLogProb(x, m, 1.2, -1, 1.5), 0);
    expect(gv).toBeCloseTo((f(-0.4 + h) - f(-0.4 - h)) / (2 * h), 3);
    tf.dispose([v.value, ...Object.values(v.grads)]);
    t.dispose();
    base.dispose();
    loc.dispose();
  });
});
