/**
 * NumPyro's `ar2.py` (an AR(2) process), ported as its users write it: `alpha_1, alpha_2, const
 * ~ Normal(0, 1)`, `sigma ~ HalfNormal(1)`, and the transition `y_t ~ Normal(const + alpha_1
 * y_{t-1} + alpha_2 y_{t-2}, sigma)` once as `scan` over a tuple carry `(y_{t-1}, y_{t-2})`
 * under `condition({y: y[2:]})` and once as the for-loop model of the example (sites `y_t`).
 * References: the two log joints agree at given values; with `sigma` fixed (`condition`), the
 * posterior of `(alpha_1, alpha_2, const)` is the conjugate Gaussian of a linear regression on
 * the lagged values (float64 closed form), and NUTS on the scanned model matches its means and
 * sds (5 SE).
 */
import * as tf from '@tensorflow/tfjs';
import { inverse, Matrix } from 'ml-matrix';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';

afterEach(() => clearSeed());

const Y = [0.1, -0.3, 0.2, 0.5, 0.1, -0.2, 0.4, 0.7, 0.3, 0.0, -0.1, 0.2, 0.6, 0.4, -0.2, 0.1];
const SIGMA = 0.35;

function priors(): [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor] {
  const a1 = ppl.sample('alpha_1', new D.Normal(0, 1));
  const a2 = ppl.sample('alpha_2', new D.Normal(0, 1));
  const c = ppl.sample('const', new D.Normal(0, 1));
  const sigma = ppl.sample('sigma', new D.HalfNormal(1));
  return [a1, a2, c, sigma];
}

function ar2Scan(y: tf.Tensor): void {
  const [a1, a2, c, sigma] = priors();
  type Carry = [tf.Tensor, tf.Tensor];
  const transition = (carry: Carry): readonly [Carry, null] => {
    const [yPrev, yPrevPrev] = carry;
    const m = tf.add(tf.add(c, tf.mul(a1, yPrev)), tf.mul(a2, yPrevPrev));
    const yt = ppl.sample('y', new D.Normal(m, sigma));
    return [[yt, yPrev], null] as const;
  };
  const T = y.shape[0] as number;
  const init: Carry = [tf.gather(y, 1), tf.gather(y, 0)];
  ppl.condition(() => ppl.scan(transition, init, tf.range(0, T - 2)), { y: tf.slice(y, 2) })();
}

function ar2Loop(y: tf.Tensor): void {
  const [a1, a2, c, sigma] = priors();
  let yPrev = tf.gather(y, 1);
  let yPrevPrev = tf.gather(y, 0);
  for (let t = 2; t < (y.shape[0] as number); t++) {
    const m = tf.add(tf.add(c, tf.mul(a1, yPrev)), tf.mul(a2, yPrevPrev));
    const yt = ppl.sample(`y_${t}`, new D.Normal(m, sigma), { obs: tf.gather(y, t) });
    yPrevPrev = yPrev;
    yPrev = yt;
  }
}

/** The conjugate posterior of (alpha_1, alpha_2, const) at sigma = SIGMA (float64). */
function exactPosterior(): { mean: number[]; sd: number[] } {
  const rows = Y.slice(2).map((_, i) => [Y[i + 1] as number, Y[i] as number, 1]);
  const X = new Matrix(rows);
  const yv = Matrix.columnVector(Y.slice(2));
  const prec = X.transpose()
    .mmul(X)
    .div(SIGMA * SIGMA)
    .add(Matrix.eye(3));
  const cov = inverse(prec);
  const mean = cov
    .mmul(
      X.transpose()
        .mmul(yv)
        .div(SIGMA * SIGMA),
    )
    .to1DArray();
  return { mean, sd: [0, 1, 2].map((i) => Math.sqrt(cov.get(i, i))) };
}

describe("NumPyro's AR(2) as scan and as a loop", { timeout: 120_000 }, () => {
  it('scan and the for loop give the same log joint at given values; the y site is [T - 2]', () => {
    const y = tf.tensor1d(Y);
    const v = {
      alpha_1: tf.scalar(0.3),
      alpha_2: tf.scalar(-0.2),
      const: tf.scalar(0.05),
      sigma: tf.scalar(0.4),
    };
    const before = tf.memory().numTensors;
    const ts = ppl.trace(ppl.substitute(ar2Scan, v)).getTrace(y);
    const tl = ppl.trace(ppl.substitute(ar2Loop, v)).getTrace(y);
    expect(ts.value('y').shape).toEqual([Y.length - 2]);
    expect(ts.get('y')?.isObserved).toBe(true);
    const [a, b] = [ts.logProbSum(), tl.logProbSum()];
    expect(a.dataSync()[0]).toBeCloseTo(b.dataSync()[0] as number, 4);
    // and the float64 value
    let ref = 0;
    for (let t = 2; t < Y.length; t++) {
      const m = 0.05 + 0.3 * (Y[t - 1] as number) - 0.2 * (Y[t - 2] as number);
      ref +=
        -0.5 * (((Y[t] as number) - m) / 0.4) ** 2 - Math.log(0.4) - 0.5 * Math.log(2 * Math.PI);
    }
    const lnorm01 = (x: number): number => -0.5 * x * x - 0.5 * Math.log(2 * Math.PI);
    ref += lnorm01(0.3) + lnorm01(-0.2) + lnorm01(0.05) + Math.log(2) + lnorm01(0.4);
    expect(a.dataSync()[0]).toBeCloseTo(ref, 3);
    tf.dispose([a, b]);
    ts.dispose();
    tl.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, ...Object.values(v)]);
  });

  it('NUTS on the scanned model with sigma conditioned: means and sds of the conjugate posterior', async () => {
    const y = tf.tensor1d(Y);
    const sigma = tf.scalar(SIGMA);
    const { mean, sd } = exactPosterior();
    const m = new ppl.MCMC(new ppl.NUTS(ppl.condition(ar2Scan, { sigma })), {
      numSamples: 400,
      warmupSteps: 200,
      seed: 11,
      progressBar: false,
    });
    await m.run(y);
    ['alpha_1', 'alpha_2', 'const'].forEach((site, i) => {
      const e = meanAndSe(m, site);
      expect(Math.abs(e.mean - (mean[i] as number))).toBeLessThan(5 * e.se);
      // the sd within 5 SE of a variance estimate (sd * sqrt(1 / (2 ess)))
      const essBulk = (e.sd / e.se) ** 2;
      expect(Math.abs(e.sd - (sd[i] as number))).toBeLessThan(
        5 * (sd[i] as number) * Math.sqrt(1 / (2 * essBulk)),
      );
    });
    tf.dispose([y, sigma]);
  });
});
