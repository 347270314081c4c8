/**
 * Audit 19: NumPyro's `ESS.KDEMove(bw_method)` (its ESS moves are `DifferentialMove`,
 * `GaussianMove`, `KDEMove`, `RandomMove`): `ESS.KDEMove` did not exist (a NumPyro user's call was
 * a TypeError). Its directions are `2 μ (v - v')`, `v, v'` two draws of the Gaussian KDE of the
 * other half (Scott's factor by default). On a flat target with `maxSteps: 1` a walker's move is
 * `t η`, `t` triangular on (-1, 1) (`E t² = 1/6`), so `E[(t η)²] = (1/6) 4 μ² 2 Var(v)`, with
 * `Var(v) = ((n-1)/n + f²) S` (`S` the half's sample variance, `f = n^(-1/5)`): checked within 5
 * Monte Carlo standard errors (from the draws' own variance). A correlated 2-D Gaussian: means and
 * variances within 5 MC SE from the walkers' ESS; too few walkers for the KDE and bad bandwidths
 * are ArgumentErrors naming them; nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import type { PotentialPoint } from '../../../src/ppl/mcmc/integrator.js';
import type { Potential } from '../../../src/ppl/mcmc/potential.js';
import { ChainRng } from '../../../src/ppl/mcmc/rng.js';
import { expectArgumentError } from '../../helpers.js';

const flat: Potential = {
  dim: 1,
  valueAndGrad: () => ({ value: 0, grad: Float64Array.of(0) }),
};

describe('ESS.KDEMove (NumPyro)', () => {
  it('one move on a fixed half: E[(t η)²] of the KDE directions within 5 MC SE', () => {
    const mu = 0.5;
    const k = new ppl.ESS(flat, {
      moves: ppl.ESS.KDEMove(),
      maxSteps: 1,
      tuneMu: false,
      initMu: mu,
    });
    const others = [Float64Array.of(0), Float64Array.of(1), Float64Array.of(3)];
    const rng = new ChainRng(4);
    const n = 4000;
    const sq: number[] = [];
    for (let i = 0; i < n; i++) {
      const gen = k.moveWalker(Float64Array.of(0), 0, others, 0, Float64Array.of(mu), rng, [0, 0]);
      let r = gen.next();
      while (r.done !== true)
        r = gen.next({ value: 0, grad: Float64Array.of(0) } as PotentialPoint);
      sq.push((r.value.q as Float64Array)[0]! ** 2);
    }
    const s = 7 / 3; // sample variance (ddof 1) of 0, 1, 3
    const f2 = 3 ** (-2 / 5); // Scott: f = n^(-1/(d+4))
    const ref = (4 * mu * mu * 2 * ((2 / 3 + f2) * s)) / 6;
    const m = sq.reduce((a, b) => a + b, 0) / n;
    const se = Math.sqrt(sq.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1) / n);
    expect(Math.abs(m - ref)).toBeLessThan(5 * se);
  });

  it('a correlated 2-D Gaussian model: means and variances within 5 MC SE, nothing leaked', () => {
    // x ~ N(0, 1), y ~ N(0.8 x, 0.6²): Var(y) = 1, Cov = 0.8
    const model = (): void => {
      const x = ppl.sample('x', new D.Normal(0, 1));
      ppl.sample('y', new D.Normal(tf.mul(x, 0.8), 0.6));
    };
    const before = tf.memory().numTensors;
    const m = new ppl.MCMC(
      new ppl.ESS(model, {
        moves: new Map([
          [ppl.ESS.KDEMove(), 0.7],
          [ppl.ESS.DifferentialMove(), 0.3],
        ]),
      }),
      {
        numSamples: 250,
        warmupSteps: 150,
        numChains: 8,
        chainMethod: 'vectorized',
        seed: 3,
        progressBar: false,
      },
    );
    m.runSync();
    const g = m.getSamples({ groupByChain: true });
    for (const site of ['x', 'y']) {
      const ch = g[site]!.arraySync() as number[][];
      const flatDraws = ch.flat();
      const ess = Math.max(ppl.mcmc.essBulk(ch), 20);
      const mean = flatDraws.reduce((a, b) => a + b, 0) / flatDraws.length;
      const v = flatDraws.reduce((a, b) => a + (b - mean) ** 2, 0) / (flatDraws.length - 1);
      expect(Math.abs(mean), site).toBeLessThan(5 * Math.sqrt(1 / ess));
      expect(Math.abs(v - 1), site).toBeLessThan(5 * Math.sqrt(2 / ess));
    }
    tf.dispose(Object.values(g));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('bad bandwidths and too few walkers are ArgumentErrors naming them', () => {
    expectArgumentError(
      () => ppl.ESS.KDEMove({ bwMethod: -1 }),
      'bwMethod',
      /^bwMethod: ESS.KDEMove/,
    );
    expectArgumentError(
      () => ppl.ESS.KDEMove({ bwMethod: 'wide' as never }),
      'bwMethod',
      /'scott'/,
    );
    expectArgumentError(
      () => ppl.ESS.KDEMove({ bw_method: 1 } as never),
      'bw_method',
      /not an option/,
    );
    expectArgumentError(() => ppl.ESS.KDEMove(null as never), 'options', /bwMethod/);
    const gauss2: Potential = {
      dim: 2,
      valueAndGrad: (z) => ({ value: 0.5 * (z[0]! ** 2 + z[1]! ** 2), grad: Float64Array.from(z) }),
    };
    const m = new ppl.MCMC(
      new ppl.ESS(gauss2, { moves: ppl.ESS.KDEMove({ bwMethod: 'silverman' }) }),
      {
        numSamples: 5,
        numChains: 4,
        chainMethod: 'vectorized',
        progressBar: false,
      },
    );
    expectArgumentError(() => m.runSync(), 'numChains', /2 \* dim \+ 2\) with a KDEMove = 6/);
  });
});
