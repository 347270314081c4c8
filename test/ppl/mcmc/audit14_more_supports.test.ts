/**
 * Audit (fresh eyes), second round of supports: positive-definite (Wishart), correlation matrix
 * (LKJ), a batch of simplexes, a support depending on another latent (Uniform(0, s)),
 * TruncatedNormal, zero-sum, heavy tails, `param` sites under MCMC, two chained enumerated
 * discrete sites, and vectorized chains over a model that uses matMul.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  Bernoulli,
  Categorical,
  Dirichlet,
  Gamma,
  HalfCauchy,
  LKJ,
  LKJCholesky,
  Normal,
  TruncatedNormal,
  Uniform,
  Wishart,
  ZeroSumNormal,
} from '../../../src/distributions/index.js';
import * as ppl from '../../../src/ppl/index.js';

async function nuts(
  model: (...a: never[]) => unknown,
  args: unknown[] = [],
  opts: Partial<ppl.MCMCOptions> = {},
): Promise<ppl.MCMC> {
  const mcmc = new ppl.MCMC(new ppl.NUTS(model as (...a: unknown[]) => unknown), {
    numSamples: 600,
    warmupSteps: 300,
    progressBar: false,
    seed: 21,
    ...opts,
  });
  await mcmc.run(...args);
  return mcmc;
}

function near(mcmc: ppl.MCMC, site: string, k: number, want: number, z = 4.5): void {
  const e = mcmc.summary()[site]!.elements[k]!;
  expect(Math.abs(e.mean - want)).toBeLessThan((z * e.sd) / Math.sqrt(e.essBulk) + 1e-3);
}

describe('audit14: more supports under NUTS', () => {
  it('positiveDefinite: Wishart(df 5, I2) prior: E[W] = 5 I, draws symmetric PD', async () => {
    const model = (): void => {
      ppl.sample('W', new Wishart(5, { covarianceMatrix: tf.eye(2) }));
    };
    const mcmc = await nuts(model);
    const { W } = mcmc.getSamples();
    expect(W!.shape).toEqual([600, 2, 2]);
    for (const w of W!.arraySync() as number[][][]) {
      expect(w[0]![1]).toBeCloseTo(w[1]![0]!, 3);
      expect(w[0]![0]! * w[1]![1]! - w[0]![1]! * w[1]![0]!).toBeGreaterThan(0);
    }
    W!.dispose();
    near(mcmc, 'W', 0, 5);
    near(mcmc, 'W', 1, 0);
    near(mcmc, 'W', 3, 5);
  });

  it('corrMatrix: LKJ(2, 3): r = C[0,1] has mean 0 and E[r^2] = 1/(2 eta + 1) = 1/7', async () => {
    const model = (): void => {
      ppl.sample('C', new LKJ(2, 3));
    };
    const mcmc = await nuts(model);
    const { C } = mcmc.getSamples();
    const v = C!.arraySync() as number[][][];
    C!.dispose();
    const r2 = v.map((c) => c[0]![1]! ** 2);
    for (const c of v) expect(c[0]![0]).toBeCloseTo(1, 4);
    const m2 = r2.reduce((p, q) => p + q, 0) / r2.length;
    expect(Math.abs(m2 - 1 / 7)).toBeLessThan(0.04);
    near(mcmc, 'C', 1, 0);
  });

  it('corrCholesky in 4-D: LKJCholesky(4, 2): each correlation has E[r^2] = 1/7 (Beta(3, 3))', async () => {
    const model = (): void => {
      ppl.sample('L', new LKJCholesky(4, 2));
    };
    const mcmc = await nuts(model, [], { numSamples: 400 });
    const { L } = mcmc.getSamples();
    const v = L!.arraySync() as number[][][];
    L!.dispose();
    // C = L L^T; pool the 6 off-diagonal correlations (exchangeable), E[r^2] = 1 / (2 * 3 + 1)
    let m2 = 0;
    let cnt = 0;
    for (const l of v) {
      for (let i = 1; i < 4; i++) {
        for (let j = 0; j < i; j++) {
          let c = 0;
          for (let k = 0; k < 4; k++) c += l[i]![k]! * l[j]![k]!;
          m2 += c * c;
          cnt++;
        }
      }
    }
    expect(Math.abs(m2 / cnt - 1 / 7)).toBeLessThan(0.03);
  });

  it('a plate of 3 simplexes: Dirichlet rows with per-row concentrations', async () => {
    const conc = [
      [1, 1, 1],
      [5, 1, 2],
      [0.5, 3, 0.5],
    ];
    const model = (): void => {
      ppl.plate('rows', 3, () => ppl.sample('p', new Dirichlet(tf.tensor2d(conc))));
    };
    const mcmc = await nuts(model);
    const s = mcmc.summary().p!;
    expect(s.shape).toEqual([3, 3]);
    conc.forEach((row, i) => {
      const a0 = row.reduce((p, q) => p + q, 0);
      row.forEach((a, j) => near(mcmc, 'p', i * 3 + j, a / a0));
    });
  });

  it('a support depending on another latent: s ~ Gamma(2, 1), u ~ Uniform(0, s): E[u] = 1', async () => {
    const model = (): void => {
      const s = ppl.sample('s', new Gamma(2, 1));
      ppl.sample('u', new Uniform(0, s));
    };
    const mcmc = await nuts(model, [], { numSamples: 1000 });
    near(mcmc, 's', 0, 2);
    near(mcmc, 'u', 0, 1);
    const { s, u } = mcmc.getSamples();
    const sv = s!.dataSync();
    u!.dataSync().forEach((x, i) => {
      expect(x).toBeGreaterThan(0);
      expect(x).toBeLessThan(sv[i]!);
    });
    tf.dispose([s!, u!]);
  });

  it('TruncatedNormal(0, 1, 1, inf) latent: mean phi(1)/(1 - Phi(1)) = 1.5251', async () => {
    const model = (): void => {
      ppl.sample('t', new TruncatedNormal(0, 1, 1));
    };
    const mcmc = await nuts(model);
    near(mcmc, 't', 0, 1.525135);
  });

  it('zero-sum: ZeroSumNormal(1, [4]) draws sum to 0; each element has variance 3/4', async () => {
    const model = (): void => {
      ppl.sample('z', new ZeroSumNormal(1, [4]));
    };
    const mcmc = await nuts(model);
    const { z } = mcmc.getSamples();
    for (const r of z!.arraySync() as number[][]) {
      expect(Math.abs(r.reduce((p, q) => p + q, 0))).toBeLessThan(1e-4);
    }
    z!.dispose();
    const e = mcmc.summary().z!.elements;
    for (const x of e) expect(Math.abs(x.sd ** 2 / 0.75 - 1)).toBeLessThan(0.25);
  });

  it('a heavy tail: HalfCauchy(1) median is 1 (quantiles, not the mean)', async () => {
    const model = (): void => {
      ppl.sample('h', new HalfCauchy(1));
    };
    const mcmc = await nuts(model, [], { numSamples: 1000 });
    const e = mcmc.summary().h!.elements[0]!;
    expect(Math.abs(e.median - 1)).toBeLessThan(0.25);
    // q5 = tan(0.025 pi) = 0.0787, q95 = tan(0.475 pi) = 12.7
    expect(Math.abs(e.q5 - 0.0787)).toBeLessThan(0.04);
  });
});

describe('audit14: model structures', () => {
  it('a param site under MCMC is a constant at its initial value', async () => {
    const model = (): void => {
      const w = ppl.param('w_audit14', tf.scalar(2.5));
      ppl.sample('x', new Normal(w, 1));
    };
    const mcmc = await nuts(model, [], { numSamples: 400 });
    near(mcmc, 'x', 0, 2.5);
    expect(Object.keys(mcmc.getSamples()).sort()).toEqual(['x']);
    ppl.clearParamStore();
  });

  it('two chained enumerated sites z1 -> z2 summed out: p(mu | y) by exact enumeration + quadrature', async () => {
    const yv = [1.2, 0.8, 1.5];
    const y = tf.tensor1d(yv);
    const model = (obs: tf.Tensor): void => {
      const mu = ppl.sample('mu', new Normal(0, 2));
      const z1 = ppl.sample('z1', new Bernoulli({ probs: 0.3 }));
      const p2 = tf.add(0.2, tf.mul(0.6, z1));
      const z2 = ppl.sample('z2', new Categorical({ probs: tf.stack([tf.sub(1, p2), p2], -1) }));
      const loc = tf.add(mu, tf.sub(tf.cast(z2, 'float32'), z1));
      ppl.plate('d', 3, () => ppl.sample('y', new Normal(loc, 1), { obs }));
    };
    const mcmc = await nuts(model, [y], { numSamples: 800 });
    // exact: sum over z1, z2 of p(z1) p(z2|z1) prod N(y; mu + z2 - z1, 1)
    const lik = (m: number): number => {
      let tot = 0;
      for (const z1 of [0, 1]) {
        const pz1 = z1 ? 0.3 : 0.7;
        const p2 = 0.2 + 0.6 * z1;
        for (const z2 of [0, 1]) {
          const pz2 = z2 ? p2 : 1 - p2;
          let l = 1;
          for (const v of yv) l *= Math.exp(-0.5 * (v - m - z2 + z1) ** 2);
          tot += pz1 * pz2 * l;
        }
      }
      return tot * Math.exp((-m * m) / 8);
    };
    let z0 = 0;
    let z1s = 0;
    for (let m = -12; m <= 12; m += 0.001) {
      const w = lik(m);
      z0 += w;
      z1s += w * m;
    }
    near(mcmc, 'mu', 0, z1s / z0);
    y.dispose();
  });

  it('vectorized chains over a regression written with matMul: the same draws as sequential', async () => {
    const X = tf.tensor2d([
      [1, 0.5],
      [1, -1],
      [1, 2],
      [1, 0],
      [1, 1.5],
    ]);
    const y = tf.tensor1d([1.1, -1.2, 3.9, 0.2, 2.8]);
    const model = (x: tf.Tensor2D, obs: tf.Tensor): void => {
      const w = ppl.sample('w', new Normal(tf.zeros([2]), 2).toEvent(1));
      const mu = tf.matMul(x, tf.reshape(w, [2, 1])).reshape([5]);
      ppl.plate('d', 5, () => ppl.sample('y', new Normal(mu, 0.5), { obs }));
    };
    const out: number[][] = [];
    for (const cm of ['sequential', 'vectorized'] as const) {
      const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
        numSamples: 30,
        warmupSteps: 30,
        numChains: 2,
        chainMethod: cm,
        progressBar: false,
        seed: 5,
      });
      await mcmc.run(X, y);
      const { w } = mcmc.getSamples();
      out.push(Array.from(w!.dataSync()));
      w!.dispose();
    }
    expect(out[1]).toEqual(out[0]);
    tf.dispose([X, y]);
  });
});
