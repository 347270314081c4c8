/**
 * Audit (issue 14): the ELBO family on a model with constrained latents (Gamma rate, Beta
 * probability) and a fixed guide q = LogNormal x Beta, against the exact ELBO by 2-D float64
 * quadrature: TraceELBO and TraceMeanFieldELBO (analytic KL where registered) within Monte Carlo
 * error, TraceGraphELBO's loss the same estimator, RenyiELBO(alpha = 0) <= log p(y) and above the
 * ELBO on average (IWAE bound); every loss finite and no tensor leaked.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import gammaln from '@stdlib/math-base-special-gammaln';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const ys = [2, 0, 3, 1, 4]; // counts ~ Poisson(rate * p * 3)
const LN2PI = Math.log(2 * Math.PI);

function model(): void {
  const rate = ppl.sample('rate', new D.Gamma(2, 1));
  const p = ppl.sample('p', new D.Beta(2, 3));
  ppl.plate('data', ys.length, () =>
    ppl.sample('y', new D.Poisson(tf.mul(3, tf.mul(rate, p))), { obs: tf.tensor1d(ys) }),
  );
}
const [LM, LS, BA, BB] = [0.3, 0.4, 3, 4];
function guide(): void {
  ppl.sample('rate', new D.LogNormal(LM, LS));
  ppl.sample('p', new D.Beta(BA, BB));
}

const lbeta = (a: number, b: number): number => gammaln(a) + gammaln(b) - gammaln(a + b);
function logJoint(r: number, p: number): number {
  const lg = 2 * Math.log(1) - gammaln(2) + Math.log(r) - r; // Gamma(2, 1)
  const lb = Math.log(p) + 2 * Math.log1p(-p) - lbeta(2, 3);
  const mu = 3 * r * p;
  const ly = ys.reduce((s, y) => s + y * Math.log(mu) - mu - gammaln(y + 1), 0);
  return lg + lb + ly;
}
function logQ(r: number, p: number): number {
  const z = (Math.log(r) - LM) / LS;
  return (
    -0.5 * z * z -
    Math.log(LS) -
    0.5 * LN2PI -
    Math.log(r) +
    (BA - 1) * Math.log(p) +
    (BB - 1) * Math.log1p(-p) -
    lbeta(BA, BB)
  );
}

/** E_q[f] over q by a tensor-product grid (log r Gaussian nodes x p midpoints), float64. */
function expectQ(f: (r: number, p: number) => number): { mean: number; sd: number } {
  const n = 400;
  let m = 0;
  let m2 = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const z = -7 + (14 * (i + 0.5)) / n;
    const r = Math.exp(LM + LS * z);
    for (let j = 0; j < n; j++) {
      const p = (j + 0.5) / n;
      const w = Math.exp(logQ(r, p)) * r * LS * (14 / n) * (1 / n);
      const v = f(r, p);
      m += w * v;
      m2 += w * v * v;
      wsum += w;
    }
  }
  m /= wsum;
  m2 /= wsum;
  return { mean: m, sd: Math.sqrt(Math.max(0, m2 - m * m)) };
}

describe('audit14: ELBOs on constrained latents vs quadrature', { timeout: 300_000 }, () => {
  const exact = expectQ((r, p) => logJoint(r, p) - logQ(r, p));
  // log p(y) by quadrature of the importance weights p(y, z) / q(z) under q
  const logEvidence = Math.log(expectQ((r, p) => Math.exp(logJoint(r, p) - logQ(r, p))).mean);

  it('the quadrature is sane: ELBO < log p(y)', () => {
    expect(exact.mean).toBeLessThan(logEvidence);
  });

  for (const [name, make] of [
    ['TraceELBO', () => new ppl.TraceELBO({ numParticles: 2000, vectorizeParticles: true })],
    [
      'TraceMeanFieldELBO',
      () => new ppl.TraceMeanFieldELBO({ numParticles: 2000, vectorizeParticles: true }),
    ],
    ['TraceGraphELBO', () => new ppl.TraceGraphELBO({ numParticles: 60 })],
  ] as const) {
    it(`${name}: -loss within 5 MC standard errors of the exact ELBO`, () => {
      setSeed(21);
      const elbo = make();
      const before = tf.memory().numTensors;
      const loss = elbo.loss(model, guide);
      expect(tf.memory().numTensors).toBe(before);
      expect(Number.isFinite(loss)).toBe(true);
      const n = name === 'TraceGraphELBO' ? 60 : 2000;
      expect(Math.abs(-loss - exact.mean)).toBeLessThan(5 * (exact.sd / Math.sqrt(n)) + 1e-3);
    });
  }

  it('RenyiELBO(alpha = 0, K = 10): between the ELBO and log p(y) on average', () => {
    setSeed(22);
    const elbo = new ppl.RenyiELBO({ alpha: 0, numParticles: 10 });
    const vals: number[] = [];
    const before = tf.memory().numTensors;
    for (let i = 0; i < 8; i++) vals.push(-elbo.loss(model, guide));
    expect(tf.memory().numTensors).toBe(before);
    vals.forEach((v) => expect(Number.isFinite(v)).toBe(true));
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / (vals.length - 1));
    const se = sd / Math.sqrt(vals.length);
    expect(mean).toBeLessThan(logEvidence + 4 * se + 1e-3);
    expect(mean).toBeGreaterThan(exact.mean - 4 * se - 1e-3);
  });
});
