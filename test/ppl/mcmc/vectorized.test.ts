import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { HalfNormal, Normal } from '../../../src/distributions/index.js';
import { ChainRng, MCMC, ModelPotential, NUTS, initialPoint } from '../../../src/ppl/mcmc/index.js';
import { sample } from '../../../src/ppl/runtime.js';
import { plate } from '../../../src/ppl/handlers/plate.js';

const x = [0.3, -1.2, 2.2, 0.9];

/** mu ~ N(0, 10), s ~ HalfNormal(2), x_i ~ N(mu, s), written to broadcast over a leading chain dim. */
function model(obs: tf.Tensor): void {
  const mu = sample('mu', new Normal(0, 10));
  const s = sample('s', new HalfNormal(2));
  sample('x', new Normal(tf.expandDims(mu, -1), tf.expandDims(s, -1)), { obs });
}

describe('vectorized chains', () => {
  it('a batched potential evaluation equals the per-point evaluations', () => {
    const obs = tf.tensor1d(x);
    const { sites } = initialPoint(model, [obs], 'uniform', new ChainRng(0));
    const pot = new ModelPotential(model, [obs], sites);
    const zs = [
      Float64Array.from([0.1, -0.3]),
      Float64Array.from([1.5, 0.7]),
      Float64Array.from([-2, 1.1]),
    ];
    const before = tf.memory().numTensors;
    pot.valueAndGradBatch(zs); // the first call chooses how to batch, from per-point evaluations
    // written for a plain leading chain dim (no plates): batched that way, as before
    expect(pot.batchMode).toBe('leading');
    const batch = pot.valueAndGradBatch(zs);
    expect(tf.memory().numTensors).toBe(before);
    zs.forEach((z, c) => {
      const one = pot.valueAndGrad(z);
      const b = batch[c];
      expect(b?.value).toBeCloseTo(one.value, 3);
      expect(Array.from(b?.grad ?? [])).toBeAllclose(Array.from(one.grad), {
        rtol: 1e-4,
        atol: 1e-4,
      });
    });
    obs.dispose();
  });

  it('vectorized NUTS: every chain samples the posterior; seeded runs repeat exactly', async () => {
    const obs = tf.tensor1d(x);
    const run = async (n: number) => {
      const m = new MCMC(new NUTS(model), {
        numSamples: n,
        warmupSteps: n,
        numChains: 3,
        chainMethod: 'vectorized',
        seed: 4,
        progressBar: false,
      });
      await m.run(obs);
      return m;
    };
    const short = await run(10);
    const g = short.getSamples({ groupByChain: true });
    expect(g.mu?.shape).toEqual([3, 10]);
    const again = await run(10);
    const g2 = again.getSamples({ groupByChain: true });
    expect(Array.from(g2.mu?.dataSync() ?? [])).toEqual(Array.from(g.mu?.dataSync() ?? []));
    tf.dispose([...Object.values(g), ...Object.values(g2)]);
    const m = await run(150);
    const e = m.summary().mu?.elements[0];
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    // the posterior mean of mu is close to the sample mean (weak priors), R-hat over 3 chains ~ 1
    expect(Math.abs((e?.mean as number) - mean)).toBeLessThan(0.35);
    expect(e?.rHat).toBeLessThan(1.1);
    obs.dispose();
  }, 600_000);
});

describe('vectorized chains without compiling, nested plates', () => {
  // mu ~ N(0, 2), theta_g ~ N(mu, 1) in plate g (dim -1), y_kg ~ N(theta_g, 0.5) in plate n (dim -2)
  const G = 3;
  const K = 4;
  const yv = [
    [0.5, 1.2, -0.3],
    [0.9, 1.5, 0.1],
    [0.2, 2.0, -0.8],
    [0.7, 1.1, 0.0],
  ];
  function nested(y: tf.Tensor): void {
    const mu = sample('mu', new Normal(0, 2));
    plate('g', G, () => {
      const theta = sample('theta', new Normal(mu, 1));
      plate('n', K, () => sample('y', new Normal(theta, 0.5), { obs: y }));
    });
  }
  /** The exact posterior mean of (mu, theta_1..G): the conjugate Gaussian's precision solve. */
  function exactMean(): number[] {
    const d = G + 1;
    const A = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    const b = new Array<number>(d).fill(0);
    (A[0] as number[])[0] = 1 / 4 + G;
    for (let g = 1; g <= G; g++) {
      (A[0] as number[])[g] = -1;
      (A[g] as number[])[0] = -1;
      (A[g] as number[])[g] = 1 + K / 0.25;
      b[g] = yv.reduce((a, row) => a + (row[g - 1] as number), 0) / 0.25;
    }
    // Gaussian elimination (A is symmetric positive definite)
    for (let i = 0; i < d; i++) {
      for (let r = i + 1; r < d; r++) {
        const f = (A[r] as number[])[i]! / (A[i] as number[])[i]!;
        for (let c = i; c < d; c++) (A[r] as number[])[c]! -= f * (A[i] as number[])[c]!;
        b[r]! -= f * b[i]!;
      }
    }
    const x = new Array<number>(d).fill(0);
    for (let i = d - 1; i >= 0; i--) {
      let t = b[i] as number;
      for (let c = i + 1; c < d; c++) t -= (A[i] as number[])[c]! * x[c]!;
      x[i] = t / (A[i] as number[])[i]!;
    }
    return x;
  }

  it('the chains batch as a plate left of the nested plates: batched = per-point values and gradients', () => {
    const y = tf.tensor2d(yv);
    const { sites } = initialPoint(nested, [y], 'uniform', new ChainRng(0));
    const pot = new ModelPotential(nested, [y], sites);
    const zs = [0, 1, 2].map((c) =>
      Float64Array.from({ length: pot.dim }, (_, i) => 0.3 * c - 0.2 * i),
    );
    const before = tf.memory().numTensors;
    pot.valueAndGradBatch(zs); // the first call chooses the layout
    expect(pot.batchMode).toBe('plate');
    const moved = zs.map((z) => z.map((v) => v + 0.7));
    const batch = pot.valueAndGradBatch(moved);
    expect(tf.memory().numTensors).toBe(before);
    moved.forEach((z, c) => {
      const one = pot.valueAndGrad(z);
      expect(batch[c]?.value).toBeCloseTo(one.value, 3);
      expect(Array.from(batch[c]?.grad ?? [])).toBeAllclose(Array.from(one.grad), {
        rtol: 1e-4,
        atol: 1e-4,
      });
    });
    y.dispose();
  });

  it('a model that does not batch (it reduces a latent) is evaluated chain by chain, same numbers', () => {
    const reduces = (): void => {
      const a = sample('a', new Normal(tf.zeros([2]), 1).toEvent(1));
      sample('b', new Normal(tf.sum(a), 1));
    };
    const { sites } = initialPoint(reduces, [], 'uniform', new ChainRng(1));
    const pot = new ModelPotential(reduces, [] as [], sites);
    const zs = [Float64Array.from([0.1, 0.2, 0.3]), Float64Array.from([-1, 0.5, 2])];
    pot.valueAndGradBatch(zs);
    expect(pot.batchMode).toBe('loop');
    const batch = pot.valueAndGradBatch(zs);
    zs.forEach((z, c) => {
      const one = pot.valueAndGrad(z);
      expect(batch[c]?.value).toBeCloseTo(one.value, 5);
      expect(Array.from(batch[c]?.grad ?? [])).toBeAllclose(Array.from(one.grad));
    });
  });

  it('a first batch with a point the model rejects is evaluated per point; the layout is chosen later', () => {
    const m = (): void => {
      const s = sample('s', new HalfNormal(1));
      sample('x', new Normal(0, s), { obs: tf.scalar(1) });
    };
    const { sites } = initialPoint(m, [], 'uniform', new ChainRng(2));
    const pot = new ModelPotential(m, [] as [], sites);
    // exp(1000) overflows: the model refuses the scale, so that point has infinite energy
    const bad = pot.valueAndGradBatch([Float64Array.from([1000]), Float64Array.from([0.1])]);
    expect(bad[0]?.value).toBe(Infinity);
    expect(bad[1]?.value).toBeCloseTo(pot.valueAndGrad(Float64Array.from([0.1])).value, 5);
    expect(pot.batchMode).toBeUndefined();
    pot.valueAndGradBatch([Float64Array.from([0.3]), Float64Array.from([0.1])]);
    expect(pot.batchMode).toBe('plate');
  });

  it('NUTS, compile false, vectorized: the exact posterior means, as the sequential and compiled runs', async () => {
    const y = tf.tensor2d(yv);
    const run = async (chainMethod: 'vectorized' | 'sequential', compile: boolean) => {
      const m = new MCMC(new NUTS(nested, { compile }), {
        numSamples: 300,
        warmupSteps: 200,
        numChains: 3,
        chainMethod,
        seed: 7,
        progressBar: false,
      });
      await m.run(y);
      const s = m.summary();
      return [...(s.mu?.elements ?? []), ...(s.theta?.elements ?? [])];
    };
    const exact = exactMean();
    const vec = await run('vectorized', false);
    const seq = await run('sequential', false);
    const comp = await run('vectorized', true);
    const se = (e: { sd: number; essBulk: number }): number => e.sd / Math.sqrt(e.essBulk);
    expect(vec.length).toBe(G + 1);
    vec.forEach((e, i) => {
      // within 4.5 Monte Carlo standard errors of the closed form and of the other two paths
      expect(Math.abs(e.mean - (exact[i] as number))).toBeLessThan(4.5 * se(e));
      for (const o of [seq[i], comp[i]]) {
        const other = o as typeof e;
        expect(Math.abs(e.mean - other.mean)).toBeLessThan(4.5 * Math.hypot(se(e), se(other)));
      }
      expect(e.rHat).toBeLessThan(1.05);
    });
    y.dispose();
  }, 600_000);
});
