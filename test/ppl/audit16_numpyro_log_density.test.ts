/**
 * Audit (NumPyro parity): `ppl.logDensity` (NumPyro's `infer.util.log_density`) against float64
 * closed forms: latent + observed sites, a subsampled plate's scale, a factor, bad params.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';

const LOG2PI = Math.log(2 * Math.PI);
const ys = [0.4, -1.1, 2.3, 0.9];

function model(y: tf.Tensor): void {
  const mu = ppl.sample('mu', new D.Normal(1, 2));
  const sigma = ppl.sample('sigma', new D.Exponential(1.5));
  ppl.plate('data', ys.length, () => ppl.sample('y', new D.Normal(mu, sigma), { obs: y }));
  ppl.factor('pen', tf.mul(-0.3, tf.square(mu)));
}

function ref(mu: number, sigma: number): number {
  let lp = -0.5 * LOG2PI - Math.log(2) - (mu - 1) ** 2 / 8;
  lp += Math.log(1.5) - 1.5 * sigma;
  for (const v of ys) lp += -0.5 * LOG2PI - Math.log(sigma) - (v - mu) ** 2 / (2 * sigma * sigma);
  return lp - 0.3 * mu * mu;
}

describe('logDensity (NumPyro log_density)', () => {
  it('the log joint of latent, observed and factor sites at given values, float64 reference', () => {
    const y = tf.tensor1d(ys);
    const before = tf.memory().numTensors;
    for (const [mu, sigma] of [
      [0.3, 1.2],
      [-2, 0.4],
      [1.5, 3],
    ] as const) {
      const st = tf.scalar(sigma);
      const lp = ppl.logDensity(model, { mu, sigma: st }, y);
      expect(lp.shape).toEqual([]);
      expect(lp.dataSync()[0]).toBeCloseTo(ref(mu, sigma), 3);
      tf.dispose([lp, st]);
    }
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });

  it("a subsampled plate's likelihood is scaled by N / B", () => {
    const yy = Array.from({ length: 10 }, (_, i) => i / 4);
    const sub = (y: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('data', 10, { subsample: [1, 3] }, (idx) =>
        ppl.sample('y', new D.Normal(mu, 1), { obs: tf.gather(y, idx) }),
      );
    };
    const y = tf.tensor1d(yy);
    const lp = ppl.logDensity(sub, { mu: 0.5 }, y);
    const lik = [1, 3].reduce((a, i) => a - 0.5 * LOG2PI - (yy[i]! - 0.5) ** 2 / 2, 0);
    expect(lp.dataSync()[0]).toBeCloseTo(-0.5 * LOG2PI - 0.125 + 5 * lik, 3);
    tf.dispose([lp, y]);
  });

  it('matches the MCMC potential: U = -(log p + log|J|) for the unconstrained sigma', async () => {
    const y = tf.tensor1d(ys);
    const m = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 5,
      warmupSteps: 20,
      seed: 1,
      progressBar: false,
    });
    await m.run(y);
    const s = m.getSamples();
    const mu = s.mu!.dataSync();
    const sg = s.sigma!.dataSync();
    const pe = m.getExtraFields()[0]!.potentialEnergy;
    for (let i = 0; i < 5; i++) {
      const lp = ppl.logDensity(model, { mu: mu[i]!, sigma: sg[i]! }, y);
      expect(-(lp.dataSync()[0]! + Math.log(sg[i]!))).toBeCloseTo(pe[i]!, 3);
      lp.dispose();
    }
    tf.dispose([y, ...Object.values(s)]);
  }, 30000);

  it('bad params are ArgumentErrors naming params (and the site); nothing leaks', () => {
    const y = tf.tensor1d(ys);
    const before = tf.memory().numTensors;
    const cases: [unknown, string][] = [
      [null, 'params'],
      [{ mu: 'a', sigma: 1 }, 'mu'],
      [{ mu: 0.1 }, "'sigma'"],
      [{ mu: 0.1, sigma: 1, tau: 2 }, "'tau'"],
    ];
    for (const [p, text] of cases) {
      let err: unknown;
      try {
        ppl.logDensity(model, p as Record<string, number>, y);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect(String((err as Error).message)).toContain('params');
      expect(String((err as Error).message)).toContain(text);
    }
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });
});
