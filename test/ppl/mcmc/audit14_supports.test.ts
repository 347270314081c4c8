/**
 * Audit (fresh eyes): NUTS on latents of every support type, inside plates, with `factor`
 * sites, `ImproperUniform` priors and an enumerated discrete latent, each against its exact
 * posterior (closed form or float64 quadrature); means within 4.5 Monte Carlo standard errors
 * from the reported bulk ESS.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  Bernoulli,
  Categorical,
  Dirichlet,
  Gamma,
  ImproperUniform,
  LKJCholesky,
  Normal,
  Poisson,
  Uniform,
  VonMises,
  constraints,
} from '../../../src/distributions/index.js';
import * as ppl from '../../../src/ppl/index.js';

/** Mean, sd and MC standard error (sd / sqrt(bulk ESS)) of each element of a site. */
function stat(mcmc: ppl.MCMC, site: string): { mean: number[]; sd: number[]; se: number[] } {
  const s = mcmc.summary()[site];
  if (s === undefined) throw new Error(`no site ${site}`);
  return {
    mean: s.elements.map((e) => e.mean),
    sd: s.elements.map((e) => e.sd),
    se: s.elements.map((e) => e.sd / Math.sqrt(e.essBulk)),
  };
}

function expectWithinSE(got: number, want: number, se: number, k = 4.5): void {
  expect(Math.abs(got - want)).toBeLessThan(k * se + 1e-3);
}

async function nuts(
  model: (...a: never[]) => void,
  args: unknown[] = [],
  opts: Partial<ppl.MCMCOptions> = {},
  kopts: ppl.NUTSOptions = {},
): Promise<ppl.MCMC> {
  const mcmc = new ppl.MCMC(new ppl.NUTS(model as (...a: unknown[]) => void, kopts), {
    numSamples: 800,
    warmupSteps: 400,
    progressBar: false,
    seed: 11,
    ...opts,
  });
  await mcmc.run(...args);
  return mcmc;
}

describe('audit14: NUTS on every support type against exact posteriors', () => {
  it('positive: Gamma-Poisson conjugate posterior Gamma(a + sum y, b + n)', async () => {
    const y = tf.tensor1d([3, 0, 2, 5, 1, 4, 2], 'int32');
    const model = (obs: tf.Tensor): void => {
      const rate = ppl.sample('rate', new Gamma(2, 0.5));
      ppl.plate('data', 7, () => ppl.sample('y', new Poisson(rate), { obs }));
    };
    const before = tf.memory().numTensors;
    const mcmc = await nuts(model, [y]);
    expect(tf.memory().numTensors).toBe(before);
    const a = 2 + 17;
    const b = 0.5 + 7;
    const s = stat(mcmc, 'rate');
    expectWithinSE(s.mean[0]!, a / b, s.se[0]!);
    expect(s.sd[0]! / (Math.sqrt(a) / b)).toBeGreaterThan(0.85);
    expect(s.sd[0]! / (Math.sqrt(a) / b)).toBeLessThan(1.15);
    y.dispose();
  });

  it('interval: Uniform(0, 1) prior and Bernoulli data: posterior Beta(1 + s, 1 + n - s)', async () => {
    const y = tf.tensor1d([1, 0, 1, 1, 0, 1, 1, 1, 0, 1]);
    const model = (obs: tf.Tensor): void => {
      const p = ppl.sample('p', new Uniform(0, 1));
      ppl.plate('data', 10, () => ppl.sample('y', new Bernoulli({ probs: p }), { obs }));
    };
    const mcmc = await nuts(model, [y]);
    const s = stat(mcmc, 'p');
    const a = 8;
    const b = 4;
    expectWithinSE(s.mean[0]!, a / (a + b), s.se[0]!);
    const sd = Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1)));
    expect(Math.abs(s.sd[0]! / sd - 1)).toBeLessThan(0.15);
    y.dispose();
  });

  it('interval with tensor bounds: Uniform(-1, 3) prior without data is uniform', async () => {
    const model = (): void => {
      ppl.sample('u', new Uniform(tf.scalar(-1), tf.scalar(3)));
    };
    const mcmc = await nuts(model);
    const s = stat(mcmc, 'u');
    expectWithinSE(s.mean[0]!, 1, s.se[0]!);
    const { u } = mcmc.getSamples();
    const v = u!.dataSync();
    for (const x of v) {
      expect(x).toBeGreaterThan(-1);
      expect(x).toBeLessThan(3);
    }
    u!.dispose();
  });

  it('simplex: Dirichlet-Categorical posterior Dirichlet(alpha + counts)', async () => {
    const y = tf.tensor1d([0, 2, 2, 1, 2, 0, 2, 2], 'int32');
    const alpha = [1, 2, 0.5];
    const model = (obs: tf.Tensor): void => {
      const th = ppl.sample('theta', new Dirichlet(alpha));
      ppl.plate('data', 8, () => ppl.sample('y', new Categorical({ probs: th }), { obs }));
    };
    const mcmc = await nuts(model, [y]);
    const post = [1 + 2, 2 + 1, 0.5 + 5];
    const a0 = post.reduce((p, q) => p + q, 0);
    const s = stat(mcmc, 'theta');
    const { theta } = mcmc.getSamples();
    expect(theta!.shape).toEqual([800, 3]);
    const sums = theta!.sum(-1);
    for (const v of sums.dataSync()) expect(v).toBeCloseTo(1, 5);
    tf.dispose([theta!, sums]);
    post.forEach((a, k) => expectWithinSE(s.mean[k]!, a / a0, s.se[k]!));
    y.dispose();
  });

  it('ordered: ImproperUniform(ordered) with a factor of two N(0,1): E[max] = 1/sqrt(pi)', async () => {
    const model = (): void => {
      const x = ppl.sample('x', new ImproperUniform(constraints.ordered, [], [2]));
      ppl.factor('lp', new Normal(0, 1).logProb(x).sum());
    };
    const mcmc = await nuts(model);
    const s = stat(mcmc, 'x');
    const { x } = mcmc.getSamples();
    const v = x!.arraySync() as number[][];
    for (const r of v) expect(r[1]!).toBeGreaterThan(r[0]!);
    x!.dispose();
    expectWithinSE(s.mean[0]!, -1 / Math.sqrt(Math.PI), s.se[0]!);
    expectWithinSE(s.mean[1]!, 1 / Math.sqrt(Math.PI), s.se[1]!);
  });

  it('positive ImproperUniform with a factor: Exponential(2) target, mean 0.5', async () => {
    const model = (): void => {
      const t = ppl.sample('t', new ImproperUniform(constraints.positive, [3], []));
      ppl.factor('lp', tf.mul(-2, t).sum());
    };
    const mcmc = await nuts(model);
    const s = stat(mcmc, 't');
    for (let k = 0; k < 3; k++) expectWithinSE(s.mean[k]!, 0.5, s.se[k]!);
  });

  it('corrCholesky: LKJCholesky(3, 1): each correlation r has var 1/4, mean 0', async () => {
    const model = (): void => {
      ppl.sample('L', new LKJCholesky(3, 1));
    };
    const mcmc = await nuts(model);
    const { L } = mcmc.getSamples();
    expect(L!.shape).toEqual([800, 3, 3]);
    const v = L!.arraySync() as number[][][];
    L!.dispose();
    // r_10 = L[1][0]; r_20 = L[2][0]; rows have unit norm, upper triangle zero
    let m = 0;
    let m2 = 0;
    for (const l of v) {
      const r = l[1]![0]!;
      m += r;
      m2 += r * r;
      expect(l[0]![1]).toBe(0);
      for (const row of l) {
        expect(row.reduce((a, b) => a + b * b, 0)).toBeCloseTo(1, 4);
      }
    }
    m /= v.length;
    m2 /= v.length;
    const s = stat(mcmc, 'L');
    const se = s.se[3]!; // element [1,0]
    expectWithinSE(m, 0, se);
    // E[r^2] = 1/4 (Beta(3/2, 3/2) on (r + 1)/2); sd of r^2 is 0.2, ESS > 200
    expect(Math.abs(m2 - 0.25)).toBeLessThan(4.5 * (0.2 / Math.sqrt(200)));
  });

  it('lowerCholesky: ImproperUniform with a factor: diag HalfNormal(1), off-diag N(0,1)', async () => {
    const model = (): void => {
      const L = ppl.sample('L', new ImproperUniform(constraints.lowerCholesky, [], [2, 2]));
      const d = tf.stack([L.gather(0).gather(0), L.gather(1).gather(1)]);
      const off = L.gather(1).gather(0);
      ppl.factor('lp', tf.add(new Normal(0, 1).logProb(d).sum(), new Normal(0, 1).logProb(off)));
    };
    const mcmc = await nuts(model);
    const s = stat(mcmc, 'L');
    expectWithinSE(s.mean[0]!, Math.sqrt(2 / Math.PI), s.se[0]!);
    expectWithinSE(s.mean[3]!, Math.sqrt(2 / Math.PI), s.se[3]!);
    expectWithinSE(s.mean[2]!, 0, s.se[2]!);
    expect(s.mean[1]).toBe(0);
  });

  it('circular: a von Mises latent centred at 0 with data from the von Mises likelihood', async () => {
    const model = (): void => {
      ppl.sample('a', new VonMises(0.3, 4));
    };
    const mcmc = await nuts(model);
    const { a } = mcmc.getSamples();
    const v = Array.from(a!.dataSync());
    a!.dispose();
    // E[sin(a - 0.3)] = 0 and E[cos(a - 0.3)] = I1(4)/I0(4) = 0.8635
    const c = v.reduce((p, x) => p + Math.cos(x - 0.3), 0) / v.length;
    expect(Math.abs(c - 0.86352)).toBeLessThan(0.03);
  });
});

describe('audit14: latents inside plates', () => {
  it('a plate of independent normal-normal posteriors: shapes and closed forms', async () => {
    const y = tf.tensor1d([1.5, -0.5, 2.0, 0.3, -1.2]);
    const sig = [0.5, 1, 2, 0.7, 1.5];
    const model = (obs: tf.Tensor): void => {
      ppl.plate('g', 5, () => {
        const th = ppl.sample('theta', new Normal(0, 1.3));
        ppl.sample('y', new Normal(th, tf.tensor1d(sig)), { obs });
      });
    };
    const mcmc = await nuts(model, [y]);
    const { theta } = mcmc.getSamples();
    expect(theta!.shape).toEqual([800, 5]);
    theta!.dispose();
    const s = stat(mcmc, 'theta');
    const yv = [1.5, -0.5, 2.0, 0.3, -1.2];
    sig.forEach((sg, i) => {
      const prec = 1 / 1.3 ** 2 + 1 / sg ** 2;
      const mean = yv[i]! / sg ** 2 / prec;
      expectWithinSE(s.mean[i]!, mean, s.se[i]!);
      expect(Math.abs(s.sd[i]! * Math.sqrt(prec) - 1)).toBeLessThan(0.2);
    });
    y.dispose();
  });

  it('nested plates: a [3, 2] latent (inner plate at dim -2) with prior N(mu_j, 1)', async () => {
    const model = (): void => {
      ppl.plate('outer', 2, () => {
        ppl.plate('inner', 3, () => {
          ppl.sample('z', new Normal(tf.tensor2d([[-1, 2]]), 1));
        });
      });
    };
    const mcmc = await nuts(model, [], { numSamples: 500 });
    const { z } = mcmc.getSamples();
    expect(z!.shape).toEqual([500, 3, 2]);
    z!.dispose();
    const s = stat(mcmc, 'z');
    for (let k = 0; k < 6; k++) expectWithinSE(s.mean[k]!, k % 2 === 0 ? -1 : 2, s.se[k]!);
  });
});

describe('audit14: an enumerated discrete latent under NUTS', () => {
  it('mu of a two-component mixture with per-datum z: mean and sd against quadrature', async () => {
    const yv = [0.1, 2.3, -0.4, 2.9, 1.7, 0.6, 3.1, -0.2];
    const y = tf.tensor1d(yv);
    const model = (obs: tf.Tensor): void => {
      const mu = ppl.sample('mu', new Normal(0, 3));
      ppl.plate('data', yv.length, () => {
        const z = ppl.sample('z', new Bernoulli({ probs: 0.4 }), {
          infer: { enumerate: 'parallel' },
        });
        ppl.sample('y', new Normal(tf.add(mu, tf.mul(2, z)), 1), { obs });
      });
    };
    const mcmc = await nuts(model, [y]);
    const samples = mcmc.getSamples();
    expect(Object.keys(samples)).toEqual(['mu']);
    tf.dispose(Object.values(samples));
    // float64 quadrature of p(mu | y)
    const logp = (m: number): number => {
      let l = -(m * m) / 18;
      for (const v of yv) {
        const a = 0.6 * Math.exp(-0.5 * (v - m) ** 2);
        const b = 0.4 * Math.exp(-0.5 * (v - m - 2) ** 2);
        l += Math.log(a + b);
      }
      return l;
    };
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    for (let m = -10; m <= 10; m += 0.001) {
      const w = Math.exp(logp(m));
      z0 += w;
      z1 += w * m;
      z2 += w * m * m;
    }
    const mean = z1 / z0;
    const sd = Math.sqrt(z2 / z0 - mean * mean);
    const s = stat(mcmc, 'mu');
    expectWithinSE(s.mean[0]!, mean, s.se[0]!);
    expect(Math.abs(s.sd[0]! / sd - 1)).toBeLessThan(0.15);
    y.dispose();
  });
});
