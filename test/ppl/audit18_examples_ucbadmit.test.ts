/**
 * NumPyro's `ucbadmit.py` (Statistical Rethinking's UC Berkeley admissions, a binomial GLMM with
 * correlated department effects), ported as its users write it: `v_mu ~ Normal(0, [4, 1])`,
 * `sigma ~ HalfNormal(1)`, `L_Rho ~ LKJCholesky(2, 2)`, non-centered effects `z` with
 * `v = (sigma * L_Rho) z^T`, `admit ~ Binomial(applications, logits)`, and — without observations —
 * the admission probabilities recorded by `dist.Delta(probs)` observed at itself (a port needs
 * `distributions.Delta`, which lived only in `ppl`). References: with the hyperparameters fixed
 * by `condition`, the departments' effects are independent and each has an exact float64 2-d
 * grid posterior; the predictive `probs` are checked draw by draw against the logits recomputed
 * on the host from the same posterior rows.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

// UCBadmit: departments A..F, male / female rows
const dept = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5];
const male = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0];
const applications = [825, 108, 560, 25, 325, 593, 417, 375, 191, 393, 373, 341];
const admitV = [512, 89, 353, 17, 120, 202, 138, 131, 53, 94, 22, 24];

const glmm = (deptT: tf.Tensor, maleT: tf.Tensor, apps: tf.Tensor, admit?: tf.Tensor): void => {
  const vMu = ppl.sample('v_mu', new D.Normal(0, tf.tensor1d([4, 1])));
  const sigma = ppl.sample('sigma', new D.HalfNormal(tf.ones([2])));
  const lRho = ppl.sample('L_Rho', new D.LKJCholesky(2, 2));
  const scaleTril = tf.mul(tf.expandDims(sigma, -1), lRho);
  const numDept = new Set(deptT.dataSync()).size;
  const z = ppl.sample('z', new D.Normal(tf.zeros([numDept, 2]), 1));
  const v = tf.transpose(tf.matMul(scaleTril, tf.transpose(z)));
  const vd = tf.gather(v, deptT);
  const logits = tf.add(
    tf.add(tf.gather(vMu, 0), tf.gather(vd, 0, 1)),
    tf.mul(tf.add(tf.gather(vMu, 1), tf.gather(vd, 1, 1)), maleT),
  );
  if (admit === undefined) {
    const probs = tf.sigmoid(logits);
    ppl.sample('probs', new D.Delta(probs), { obs: probs });
  }
  ppl.sample('admit', new D.Binomial(apps, { logits }), { obs: admit });
};

const logSigmoid = (x: number): number =>
  x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));

describe("NumPyro's ucbadmit GLMM", { timeout: 120_000 }, () => {
  it('distributions.Delta is the PPL point mass (ppl.Delta), as dist.Delta in Pyro/NumPyro', () => {
    expect(D.Delta).toBe(ppl.Delta);
    const d = new D.Delta(tf.tensor1d([0.25, 0.5]));
    const x = tf.tensor1d([0.25, 0.4]);
    expect(Array.from(d.logProb(x).dataSync())).toEqual([0, -Infinity]);
    d.dispose();
    x.dispose();
  });

  it('hyperparameters fixed: NUTS means of the departments effects z match exact 2-d grids', async () => {
    const vMuV = [-0.5, -0.1];
    const sigmaV = [1.3, 0.4];
    const r = -0.3;
    const lV = [
      [1, 0],
      [r, Math.sqrt(1 - r * r)],
    ];
    const fixed = {
      v_mu: tf.tensor1d(vMuV),
      sigma: tf.tensor1d(sigmaV),
      L_Rho: tf.tensor2d(lV),
    };
    const args = [
      tf.tensor1d(dept, 'int32'),
      tf.tensor1d(male),
      tf.tensor1d(applications),
      tf.tensor1d(admitV),
    ] as const;
    const mcmc = new ppl.MCMC(new ppl.NUTS(ppl.condition(glmm, fixed)), {
      numSamples: 300,
      warmupSteps: 250,
      progressBar: false,
      seed: 3,
    });
    await mcmc.run(...args);
    // v_d = (sigma * L) z_d: intercept s0 z0, slope s1 (r z0 + sqrt(1 - r^2) z1)
    const G = 120;
    const lo = -4;
    const hi = 4;
    for (let d = 0; d < 6; d++) {
      const rows = dept.flatMap((dd, i) => (dd === d ? [i] : []));
      let z = 0;
      let m0 = 0;
      let m1 = 0;
      const lw: number[] = [];
      const pts: [number, number][] = [];
      for (let i = 0; i < G; i++)
        for (let j = 0; j < G; j++) {
          const z0 = lo + ((hi - lo) * (i + 0.5)) / G;
          const z1 = lo + ((hi - lo) * (j + 0.5)) / G;
          const a = sigmaV[0]! * z0;
          const b = sigmaV[1]! * (lV[1]![0]! * z0 + lV[1]![1]! * z1);
          let l = -0.5 * (z0 * z0 + z1 * z1);
          for (const i2 of rows) {
            const eta = vMuV[0]! + a + (vMuV[1]! + b) * male[i2]!;
            l +=
              admitV[i2]! * logSigmoid(eta) + (applications[i2]! - admitV[i2]!) * logSigmoid(-eta);
          }
          lw.push(l);
          pts.push([z0, z1]);
        }
      const mx = Math.max(...lw);
      lw.forEach((l, k) => {
        const w = Math.exp(l - mx);
        z += w;
        m0 += w * pts[k]![0];
        m1 += w * pts[k]![1];
      });
      const ref = [m0 / z, m1 / z];
      for (let c = 0; c < 2; c++) {
        const { mean, se } = meanAndSe(mcmc, 'z', 2 * d + c);
        expect(Math.abs(mean - ref[c]!)).toBeLessThan(5 * se + 0.02);
      }
    }
    tf.dispose([...args, ...Object.values(fixed)]);
  });

  it('full model: Predictive records probs = sigmoid(logits) of each posterior row through Delta', async () => {
    const deptT = tf.tensor1d(dept, 'int32');
    const maleT = tf.tensor1d(male);
    const apps = tf.tensor1d(applications);
    const admit = tf.tensor1d(admitV);
    const mcmc = new ppl.MCMC(new ppl.NUTS(glmm), {
      numSamples: 40,
      warmupSteps: 60,
      progressBar: false,
      seed: 5,
    });
    await mcmc.run(deptT, maleT, apps, admit);
    const post = mcmc.getSamples();
    expect(post.L_Rho!.shape).toEqual([40, 2, 2]);
    expect(post.z!.shape).toEqual([40, 6, 2]);
    const before = tf.memory().numTensors;
    const pred = new ppl.Predictive(glmm, { posteriorSamples: post, returnSites: ['probs'] });
    const out = pred.call(deptT, maleT, apps);
    expect(Object.keys(out)).toEqual(['probs']);
    expect(out.probs!.shape).toEqual([40, 12]);
    const probs = out.probs!.arraySync() as number[][];
    tf.dispose(Object.values(out));
    expect(tf.memory().numTensors).toBe(before);
    const vMu = post.v_mu!.arraySync() as number[][];
    const sg = post.sigma!.arraySync() as number[][];
    const L = post.L_Rho!.arraySync() as number[][][];
    const zs = post.z!.arraySync() as number[][][];
    for (let s = 0; s < 40; s++) {
      for (let i = 0; i < 12; i++) {
        const zd = zs[s]![dept[i]!]!;
        const a = sg[s]![0]! * (L[s]![0]![0]! * zd[0]! + L[s]![0]![1]! * zd[1]!);
        const b = sg[s]![1]! * (L[s]![1]![0]! * zd[0]! + L[s]![1]![1]! * zd[1]!);
        const eta = vMu[s]![0]! + a + (vMu[s]![1]! + b) * male[i]!;
        expect(probs[s]![i]!).toBeCloseTo(1 / (1 + Math.exp(-eta)), 4);
      }
    }
    tf.dispose([deptT, maleT, apps, admit, ...Object.values(post)]);
  });
});
