/**
 * Audit 20: a zero Poisson rate is the point mass at 0 (torch.distributions and NumPyro accept
 * `rate >= 0`). References: closed forms (`log P(k) = k log r - r - log k!` in float64), brute
 * force sums for the entropy, finite differences for gradients at positive rates and the limit
 * `d/dr log P(0; r) = -1` at zero.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions } from '../../src/index.js';
import { expectBadInput, expectNoLeak, finiteDiff } from '../helpers.js';

const d = distributions;

function logFact(k: number): number {
  let s = 0;
  for (let i = 2; i <= k; i++) s += Math.log(i);
  return s;
}
/** float64 reference log-mass, with `0 log 0 = 0`. */
function refLogProb(k: number, r: number): number {
  if (r === 0) return k === 0 ? 0 : -Infinity;
  return k * Math.log(r) - r - logFact(k);
}
function refCdf(k: number, r: number): number {
  let s = 0;
  for (let i = 0; i <= k; i++) s += Math.exp(refLogProb(i, r));
  return s;
}
function refEntropy(r: number): number {
  let h = 0;
  for (let k = 0; k < 200; k++) {
    const lp = refLogProb(k, r);
    if (lp > -Infinity) h -= Math.exp(lp) * lp;
  }
  return h;
}
function expectClose(got: number[], want: number[], tol: number): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i] as number;
    if (!Number.isFinite(w)) expect(g).toBe(w);
    else expect(Math.abs(g - w)).toBeLessThanOrEqual(tol * (1 + Math.abs(w)));
  });
}

describe('Poisson with a zero rate', () => {
  it('is the point mass at 0: logProb, prob, mean, variance, mode, entropy', () => {
    const p = new d.Poisson(0);
    expect(expectNoLeak(() => p.logProb([0, 1, 5, 30]))).toEqual([
      0,
      -Infinity,
      -Infinity,
      -Infinity,
    ]);
    expect(expectNoLeak(() => p.prob([0, 1, 2]))).toEqual([1, 0, 0]);
    expect(expectNoLeak(() => p.mean())).toEqual([0]);
    expect(expectNoLeak(() => p.variance())).toEqual([0]);
    expect(expectNoLeak(() => p.mode())).toEqual([0]);
    expect(expectNoLeak(() => p.entropy())).toEqual([0]);
    p.dispose();
  });

  it('a batch mixing zero and positive rates matches the closed forms (plain and saddle-point paths)', () => {
    const rates = [0, 0.5, 3, 0, 40];
    const p = new d.Poisson(rates);
    for (const counts of [
      [0, 0, 0, 0, 0],
      [1, 2, 4, 0, 35],
      [0, 1, 30, 25, 41],
    ]) {
      const got = expectNoLeak(() => p.logProb(counts));
      expectClose(
        got,
        counts.map((k, i) => refLogProb(k, rates[i] as number)),
        3e-6,
      );
    }
    expectClose(
      expectNoLeak(() => p.entropy()),
      rates.map(refEntropy),
      1e-5,
    );
    expect(expectNoLeak(() => p.mean())).toEqual(rates);
    p.dispose();
  });

  it('cdf and survival: 1 and 0 on k >= 0 at rate 0, closed forms elsewhere', () => {
    const rates = [0, 2.5, 0, 7];
    const p = new d.Poisson(rates);
    const ks = [0, 3, 4, 6];
    expectClose(
      expectNoLeak(() => p.cdf(ks)),
      ks.map((k, i) => refCdf(k, rates[i] as number)),
      1e-5,
    );
    expect(expectNoLeak(() => p.cdf([0, 0, 2, 0]))[0]).toBe(1);
    expect(expectNoLeak(() => p.cdf([-1, 0, -0.5, 0]))[0]).toBe(0);
    expect(expectNoLeak(() => p.cdf([0, 0, 2.5, 0]))[2]).toBeCloseTo(1, 6);
    expect(expectNoLeak(() => p.survival([0, 0, 3, 0]))[2]).toBeCloseTo(0, 6);
    p.dispose();
  });

  it('samples 0 at rate 0 and counts at positive rates (deterministic seed)', () => {
    const p = new d.Poisson([0, 4]);
    const s = expectNoLeak(() => p.sample([2000], 7));
    let zeroSum = 0;
    let posSum = 0;
    for (let i = 0; i < s.length; i += 2) {
      zeroSum += Math.abs(s[i] as number);
      posSum += s[i + 1] as number;
    }
    expect(zeroSum).toBe(0);
    // Mean 4, standard error sqrt(4 / 2000) = 0.045: 6 sigma.
    expect(Math.abs(posSum / 1000 / 2 - 4)).toBeLessThan(0.27);
    p.dispose();
  });

  it('gradient of logProb in the rate: finite differences at positive rates, -1 at zero for k = 0', () => {
    const rates = [0, 0.8, 3, 0, 50];
    const counts = [0, 2, 0, 3, 45];
    const before = tf.memory().numTensors;
    const g = tf.tidy(() => {
      const r = tf.tensor1d(rates);
      const grad = tf.grad((x: tf.Tensor) => {
        const p = new d.Poisson(x, { validateArgs: false });
        const lp = p.logProb(counts);
        // sum over the finite entries only (k = 3 at rate 0 is -Infinity).
        const out = tf.sum(tf.where(tf.isFinite(lp), lp, tf.zerosLike(lp)));
        p.dispose();
        return out;
      });
      return Array.from(grad(r).dataSync());
    });
    expect(tf.memory().numTensors).toBe(before);
    g.forEach((v) => expect(Number.isFinite(v)).toBe(true));
    expect(g[0]).toBeCloseTo(-1, 6);
    const posCounts = [2, 0, 45];
    const fd = finiteDiff(
      (x) => x.reduce((s, r, i) => s + refLogProb(posCounts[i] as number, r), 0),
      [0.8, 3, 50],
      1e-4,
    );
    expect(g[1]).toBeCloseTo(fd[0] as number, 3);
    expect(g[2]).toBeCloseTo(fd[1] as number, 3);
    expect(g[4]).toBeCloseTo(fd[2] as number, 3);
    // The analytic gradient k / r - 1 as a second reference.
    expect(g[1]).toBeCloseTo(2 / 0.8 - 1, 4);
    expect(g[4]).toBeCloseTo(45 / 50 - 1, 4);
  });

  it('entropy and logProb stay NaN-free in value and gradient at rate 0', () => {
    const before = tf.memory().numTensors;
    const g = tf.tidy(() => {
      const grad = tf.grad((x: tf.Tensor) => {
        const p = new d.Poisson(x, { validateArgs: false });
        const out = tf.add(tf.sum(p.entropy()), tf.sum(p.logProb([0, 0])));
        p.dispose();
        return out;
      });
      return Array.from(grad(tf.tensor1d([0, 2])).dataSync());
    });
    expect(tf.memory().numTensors).toBe(before);
    g.forEach((v) => expect(Number.isNaN(v)).toBe(false));
  });

  it('KL: KL(Poi(0) || Poi(r)) = r, KL(Poi(a > 0) || Poi(0)) = Infinity, KL(Poi(0) || Poi(0)) = 0', () => {
    const p = new d.Poisson([0, 0, 2, 3, 1.5]);
    const q = new d.Poisson([2.5, 0, 0, 1, 4]);
    const ref = [2.5, 0, Infinity, 3 * Math.log(3) - 3 + 1, 1.5 * Math.log(1.5 / 4) - 1.5 + 4];
    expectClose(
      expectNoLeak(() => d.klDivergence(p, q)),
      ref,
      1e-6,
    );
    p.dispose();
    q.dispose();
  });

  it('KL gradients stay finite at a zero rate (d/da = -1 there, log(a/b) elsewhere)', () => {
    const before = tf.memory().numTensors;
    const [ga, gb] = tf.tidy(() => {
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const p = new d.Poisson(a, { validateArgs: false });
        const q = new d.Poisson(b, { validateArgs: false });
        const out = tf.sum(d.klDivergence(p, q));
        p.dispose();
        q.dispose();
        return out;
      });
      const [x, y] = grads([tf.tensor1d([0, 2]), tf.tensor1d([3, 5])]);
      return [Array.from((x as tf.Tensor).dataSync()), Array.from((y as tf.Tensor).dataSync())];
    });
    expect(tf.memory().numTensors).toBe(before);
    // d/da (a log(a/b) - a + b) = log(a/b); the a = 0 branch is the constant b - a: -1.
    expect(ga?.[0]).toBeCloseTo(-1, 6);
    expect(ga?.[1]).toBeCloseTo(Math.log(2 / 5), 5);
    // d/db = 1 - a/b.
    expect(gb?.[0]).toBeCloseTo(1, 6);
    expect(gb?.[1]).toBeCloseTo(1 - 2 / 5, 5);
  });

  it('zero-inflated Poisson accepts a zero rate: P(0) = 1, mean and variance 0', () => {
    const z = new d.ZeroInflatedPoisson([0, 2], { gate: 0.3 });
    expectClose(
      expectNoLeak(() => z.logProb([0, 0])),
      [0, Math.log(0.3 + 0.7 * Math.exp(-2))],
      1e-6,
    );
    expectClose(
      expectNoLeak(() => z.logProb([1, 3])),
      [-Infinity, Math.log(0.7) + refLogProb(3, 2)],
      1e-6,
    );
    expectClose(
      expectNoLeak(() => z.mean()),
      [0, 0.7 * 2],
      1e-6,
    );
    expectClose(
      expectNoLeak(() => z.variance()),
      [0, 0.7 * 2 * (1 + 0.3 * 2)],
      1e-6,
    );
    const s = expectNoLeak(() => z.sample([200], 3));
    for (let i = 0; i < s.length; i += 2) expect(s[i]).toBe(0);
    z.dispose();
  });

  it('still refuses negative, NaN and infinite rates, naming rate, without leaks', async () => {
    for (const bad of [-1, NaN, Infinity, -Infinity]) {
      await expectBadInput({
        call: `Poisson(${bad})`,
        run: () => new d.Poisson([1, bad]),
        arg: 'rate',
      });
      await expectBadInput({
        call: `ZeroInflatedPoisson(${bad})`,
        run: () => new d.ZeroInflatedPoisson([bad, 0], { gate: 0.5 }),
        arg: 'rate',
      });
    }
    await expectBadInput({
      call: 'Poisson(-1e-30)',
      run: () => new d.Poisson(-1e-30),
      arg: 'rate',
    });
  });
});
