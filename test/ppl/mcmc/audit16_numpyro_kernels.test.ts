/**
 * Audit (NumPyro parity): the other kernels NumPyro ships (BarkerMH, SA, EllipticalSlice, AIES,
 * ESS, DiscreteHMCGibbs, MixedHMC, NUTS with the discrete site summed out) on small models with
 * closed-form posteriors, within Monte Carlo standard errors from the chains' ESS.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';

const { sample } = ppl;

// theta ~ N(0, I_2) scaled (1, 3), y_ij ~ N(theta_j, 1): posterior N(m_j, v_j) per coordinate
const prior = [1, 3];
const data = [
  [0.8, 2.1],
  [1.4, 3.0],
  [0.2, 2.6],
];
const post = prior.map((s, j) => {
  const prec = 1 / (s * s) + data.length;
  const sum = data.reduce((p, r) => p + r[j]!, 0);
  return { mean: sum / prec, var: 1 / prec };
});
function gauss(y: tf.Tensor): void {
  const theta = sample('theta', new D.Normal(tf.zeros([2]), tf.tensor1d(prior)).toEvent(1));
  ppl.plate('data', data.length, () => sample('y', new D.Normal(theta, 1).toEvent(1), { obs: y }));
}

function checkTheta(m: ppl.MCMC, k = 5): void {
  const g = m.getSamples({ groupByChain: true });
  const t = g.theta!.arraySync() as number[][][];
  for (let j = 0; j < 2; j++) {
    const ch = t.map((c) => c.map((d) => d[j]!));
    const flat = ch.flat();
    const ess = Math.max(ppl.mcmc.essBulk(ch), 10);
    const mean = flat.reduce((p, v) => p + v, 0) / flat.length;
    const v = flat.reduce((p, w) => p + (w - mean) ** 2, 0) / (flat.length - 1);
    expect(Math.abs(mean - post[j]!.mean), `mean[${j}]`).toBeLessThan(
      k * Math.sqrt(post[j]!.var / ess),
    );
    expect(Math.abs(v / post[j]!.var - 1), `var[${j}]`).toBeLessThan(k * Math.sqrt(2 / ess));
  }
  tf.dispose(Object.values(g));
}

describe('gradient-free and Barker kernels on a conjugate Gaussian', () => {
  const y = tf.tensor2d(data);
  const cases: [string, () => ppl.mcmc.HamiltonianKernel, Partial<ppl.MCMCOptions>][] = [
    [
      'BarkerMH',
      () => new ppl.BarkerMH(gauss),
      { numSamples: 1500, warmupSteps: 500, numChains: 2 },
    ],
    ['SA', () => new ppl.SA(gauss), { numSamples: 1500, warmupSteps: 1000, numChains: 2 }],
    [
      'EllipticalSlice',
      () => new ppl.EllipticalSlice(gauss),
      { numSamples: 800, warmupSteps: 50, numChains: 2 },
    ],
    [
      'AIES',
      () => new ppl.AIES(gauss),
      { numSamples: 300, warmupSteps: 200, numChains: 8, chainMethod: 'vectorized' },
    ],
    [
      'ESS',
      () => new ppl.ESS(gauss),
      { numSamples: 150, warmupSteps: 100, numChains: 6, chainMethod: 'vectorized' },
    ],
  ];
  for (const [name, make, opts] of cases) {
    it(`${name}: posterior means and variances within 5 MC SE`, async () => {
      const before = tf.memory().numTensors;
      const m = new ppl.MCMC(make(), { numSamples: 100, seed: 21, progressBar: false, ...opts });
      await m.run(y);
      checkTheta(m);
      expect(tf.memory().numTensors).toBe(before);
    }, 40000);
  }
});

// z ~ Categorical(pi), mu ~ N(0, 1), x ~ N(mu + z, 1): p(z | x) ∝ pi_z N(x; z, sqrt 2) and
// E[mu | x] = sum_z p(z | x) (x - z) / 2
const pis = [0.2, 0.5, 0.3];
const xObs = 1.7;
const pz = (() => {
  const w = pis.map((p, z) => p * Math.exp(-((xObs - z) ** 2) / 4));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
})();
const muMean = pz.reduce((a, p, z) => a + (p * (xObs - z)) / 2, 0);
function mix(x: tf.Tensor): void {
  const z = sample('z', new D.Categorical({ probs: tf.tensor1d(pis) }));
  const mu = sample('mu', new D.Normal(0, 1));
  sample('x', new D.Normal(tf.add(mu, z), 1), { obs: x });
}

describe('discrete latents: DiscreteHMCGibbs, MixedHMC, NUTS with z summed out', () => {
  const x = tf.scalar(xObs);
  const cases: [string, () => ppl.mcmc.HamiltonianKernel][] = [
    ['DiscreteHMCGibbs', () => new ppl.DiscreteHMCGibbs(new ppl.NUTS(mix))],
    [
      'DiscreteHMCGibbs modified',
      () => new ppl.DiscreteHMCGibbs(new ppl.NUTS(mix), { modified: true }),
    ],
    ['MixedHMC', () => new ppl.MixedHMC(new ppl.HMC(mix, { trajectoryLength: 1.2 }))],
  ];
  for (const [name, make] of cases) {
    it(`${name}: p(z | x) exact by enumeration, E[mu | x] closed form`, async () => {
      const m = new ppl.MCMC(make(), {
        numSamples: 1000,
        warmupSteps: 300,
        numChains: 2,
        seed: 5,
        progressBar: false,
      });
      await m.run(x);
      const g = m.getSamples({ groupByChain: true });
      const zc = g.z!.arraySync() as number[][];
      const muc = g.mu!.arraySync() as number[][];
      const zs = zc.flat();
      for (let k = 0; k < 3; k++) {
        const ind = zc.map((c) => c.map((v) => (v === k ? 1 : 0)));
        const ess = Math.max(ppl.mcmc.ess(ind), 20);
        const freq = zs.filter((v) => v === k).length / zs.length;
        expect(Math.abs(freq - pz[k]!), `p(z=${k})`).toBeLessThan(
          5 * Math.sqrt((pz[k]! * (1 - pz[k]!)) / ess),
        );
      }
      const ess = Math.max(ppl.mcmc.essBulk(muc), 20);
      const mm = muc.flat().reduce((a, b) => a + b, 0) / zs.length;
      // Var(mu | x) = 1/2 + Var_z((x - z) / 2)
      const vmu = 0.5 + pz.reduce((a, p, z) => a + p * ((xObs - z) / 2) ** 2, 0) - muMean ** 2;
      expect(Math.abs(mm - muMean)).toBeLessThan(5 * Math.sqrt(vmu / ess));
      tf.dispose(Object.values(g));
    }, 40000);
  }

  it('NUTS sums z out; Predictive with inferDiscrete draws z from p(z | x, mu)', async () => {
    const m = new ppl.MCMC(new ppl.NUTS(mix), {
      numSamples: 600,
      warmupSteps: 300,
      seed: 2,
      progressBar: false,
    });
    await m.run(x);
    const s = m.getSamples();
    expect(Object.keys(s)).not.toContain('z');
    const muc = [Array.from(s.mu!.dataSync())];
    const ess = Math.max(ppl.mcmc.essBulk(muc), 20);
    const mm = muc[0]!.reduce((a, b) => a + b, 0) / muc[0]!.length;
    const vmu = 0.5 + pz.reduce((a, p, z) => a + p * ((xObs - z) / 2) ** 2, 0) - muMean ** 2;
    expect(Math.abs(mm - muMean)).toBeLessThan(5 * Math.sqrt(vmu / ess));
    const pred = new ppl.Predictive(mix, {
      posteriorSamples: s,
      inferDiscrete: true,
      returnSites: ['z'],
    }).call(x);
    const zs = Array.from(pred.z!.dataSync());
    for (let k = 0; k < 3; k++) {
      const freq = zs.filter((v) => v === k).length / zs.length;
      expect(Math.abs(freq - pz[k]!)).toBeLessThan(5 * Math.sqrt((pz[k]! * (1 - pz[k]!)) / ess));
    }
    tf.dispose([...Object.values(s), ...Object.values(pred)]);
  }, 40000);
});
