/**
 * Audit (fresh eyes): edge cases of the driver and the kernels: short warmups (Stan's window
 * special cases), tree-depth caps, step-size adaptation reaching its target, runs repeated on new
 * data with the same MCMC (nothing stale reused), enumerated sites with several chains per
 * chain method and `inferDiscrete` after them, every init strategy.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Categorical, Gamma, HalfNormal, Normal } from '../../../src/distributions/index.js';
import * as ppl from '../../../src/ppl/index.js';

const mean = (a: ArrayLike<number>): number => Array.from(a).reduce((p, q) => p + q, 0) / a.length;

describe('audit14: short warmups and caps', () => {
  const model = (): void => {
    ppl.sample('x', new Normal(tf.tensor1d([1, -1, 0]), tf.tensor1d([1, 2, 0.5])).toEvent(1));
  };
  it.each([1, 2, 3, 10, 19, 20, 21, 76, 151])(
    'warmupSteps %i runs and gives finite draws',
    async (w) => {
      const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
        numSamples: 10,
        warmupSteps: w,
        progressBar: false,
        seed: w,
      });
      await mcmc.run();
      const { x } = mcmc.getSamples();
      expect(x!.shape).toEqual([10, 3]);
      for (const v of x!.dataSync()) expect(Number.isFinite(v)).toBe(true);
      x!.dispose();
      const st = mcmc.lastState!.chains[0]!;
      expect(st.stepSize).toBeGreaterThan(0);
      for (const v of st.inverseMass) expect(v).toBeGreaterThan(0);
    },
  );

  it('warmup windows: none shorter than the base window for 150-199 iterations (was [100, 100] at 151)', () => {
    expect(ppl.mcmc.warmupWindows(151)).toEqual([[75, 100]]);
    expect(ppl.mcmc.warmupWindows(199)).toEqual([[75, 148]]);
    expect(ppl.mcmc.warmupWindows(200)).toEqual([
      [75, 99],
      [100, 149],
    ]);
    for (let n = 20; n < 1200; n++) {
      for (const [a, b] of ppl.mcmc.warmupWindows(n)) expect(b - a + 1).toBeGreaterThanOrEqual(15);
    }
    // a custom base window of 1 draw keeps the metric (no NaN) at a 1-draw window
    expect(ppl.mcmc.warmupWindows(30, { initBuffer: 0, termBuffer: 0, baseWindow: 1 })[0]).toEqual([
      0, 0,
    ]);
  });

  it('a 1-draw metric window keeps the metric finite', async () => {
    const mcmc = new ppl.MCMC(
      new ppl.NUTS(model, { initBuffer: 3, termBuffer: 3, baseWindow: 1 }),
      { numSamples: 5, warmupSteps: 30, progressBar: false, seed: 1 },
    );
    await mcmc.run();
    for (const v of mcmc.lastState!.chains[0]!.inverseMass) expect(Number.isFinite(v)).toBe(true);
  });

  it('maxTreeDepth caps the tree: depth <= cap and at most 2^cap - 1 leapfrog steps', async () => {
    for (const cap of [1, 2, 3]) {
      const mcmc = new ppl.MCMC(new ppl.NUTS(model, { maxTreeDepth: cap }), {
        numSamples: 50,
        warmupSteps: 30,
        progressBar: false,
        seed: 2,
      });
      await mcmc.run();
      const f = mcmc.getExtraFields()[0]!;
      for (const d of f.treeDepth) expect(d).toBeLessThanOrEqual(cap);
      for (const n of f.numSteps) expect(n).toBeLessThanOrEqual(2 ** cap - 1);
    }
  });

  it('targetAcceptProb is reached: mean accept statistic of the kept draws near the target', async () => {
    const m = (): void => {
      ppl.plate('d', 6, () => ppl.sample('x', new Normal(0, tf.tensor1d([1, 2, 3, 0.5, 1, 4]))));
    };
    const got: number[] = [];
    const steps: number[] = [];
    for (const t of [0.6, 0.95]) {
      const mcmc = new ppl.MCMC(new ppl.NUTS(m, { targetAcceptProb: t }), {
        numSamples: 300,
        warmupSteps: 300,
        progressBar: false,
        seed: 6,
      });
      await mcmc.run();
      const f = mcmc.getExtraFields()[0]!;
      got.push(mean(f.acceptStat));
      steps.push(f.stepSize[0]!);
      expect(Math.abs(mean(f.acceptStat) - t)).toBeLessThan(0.12);
    }
    expect(got[1]!).toBeGreaterThan(got[0]!);
    expect(steps[1]!).toBeLessThan(steps[0]!);
  });

  it('adaptStepSize false keeps the given step size', async () => {
    const mcmc = new ppl.MCMC(new ppl.NUTS(model, { stepSize: 0.123, adaptStepSize: false }), {
      numSamples: 10,
      warmupSteps: 30,
      progressBar: false,
      seed: 2,
    });
    await mcmc.run();
    for (const e of mcmc.getExtraFields()[0]!.stepSize) expect(e).toBeCloseTo(0.123, 10);
  });
});

describe('audit14: the same MCMC run again on other data', () => {
  it("a Gamma-Normal model on 5 then 9 data: the second posterior is the second data set's", async () => {
    // y ~ N(mu, 1), mu ~ N(0, 10): posterior N(sum y / (n + 0.01), 1 / (n + 0.01))
    const model = (y: tf.Tensor): void => {
      const mu = ppl.sample('mu', new Normal(0, 10));
      ppl.plate('d', y.shape[0]!, () => ppl.sample('y', new Normal(mu, 1), { obs: y }));
    };
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 300,
      warmupSteps: 200,
      progressBar: false,
      seed: 1,
    });
    const y1 = tf.tensor1d([1, 2, 1, 2, 1.5]);
    const y2 = tf.tensor1d([-3, -2, -4, -3, -3.5, -2.5, -3, -3, -2.9]);
    for (const y of [y1, y2]) {
      await mcmc.run(y);
      const n = y.shape[0]!;
      const yv = Array.from(y.dataSync());
      const pm = yv.reduce((p, q) => p + q, 0) / (n + 0.01);
      const psd = 1 / Math.sqrt(n + 0.01);
      const s = mcmc.summary().mu!.elements[0]!;
      expect(Math.abs(s.mean - pm)).toBeLessThan((4.5 * psd) / Math.sqrt(s.essBulk));
    }
    tf.dispose([y1, y2]);
  });

  it('one kernel in two MCMCs with different data shapes (a latent per datum)', async () => {
    const model = (y: tf.Tensor): void => {
      ppl.plate('d', y.shape[0]!, () => {
        const th = ppl.sample('th', new Normal(0, 1));
        ppl.sample('y', new Normal(th, 1), { obs: y });
      });
    };
    const k = new ppl.NUTS(model);
    for (const yv of [
      [2, -2],
      [4, 0, -4, 1],
    ]) {
      const y = tf.tensor1d(yv);
      const mcmc = new ppl.MCMC(k, {
        numSamples: 300,
        warmupSteps: 150,
        progressBar: false,
        seed: 3,
      });
      await mcmc.run(y);
      const s = mcmc.summary().th!;
      expect(s.shape).toEqual([yv.length]);
      yv.forEach((v, i) => {
        const e = s.elements[i]!;
        expect(Math.abs(e.mean - v / 2)).toBeLessThan((4.5 * Math.SQRT1_2) / Math.sqrt(e.essBulk));
      });
      y.dispose();
    }
  });
});

describe('audit14: enumerated sites with several chains', () => {
  const yv = [-2.1, -1.8, 2.2, 1.9, 2.4, -2.3, 0.1];
  const model = (y: tf.Tensor): void => {
    const locs = ppl.sample('locs', new Normal(tf.tensor1d([-1, 0, 1]), 3).toEvent(1));
    const scale = ppl.sample('scale', new HalfNormal(1));
    ppl.plate('data', y.shape[0]!, () => {
      const z = ppl.sample('z', new Categorical({ probs: [0.3, 0.3, 0.4] }), {
        infer: { enumerate: 'parallel' },
      });
      ppl.sample('y', new Normal(tf.gather(locs, tf.cast(z, 'int32')), scale), { obs: y });
    });
  };
  it('sequential, vectorized and parallel give the same draws; inferDiscrete after them', async () => {
    const y = tf.tensor1d(yv);
    const out: number[][] = [];
    let last: ppl.MCMC | undefined;
    for (const cm of ['sequential', 'vectorized', 'parallel'] as const) {
      const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
        numSamples: 20,
        warmupSteps: 30,
        numChains: 2,
        chainMethod: cm,
        progressBar: false,
        seed: 4,
      });
      await mcmc.run(y);
      const { scale } = mcmc.getSamples();
      out.push(Array.from(scale!.dataSync()));
      scale!.dispose();
      last = mcmc;
    }
    expect(out[1]).toEqual(out[0]);
    expect(out[2]).toEqual(out[0]);
    const post = last!.getSamples();
    const before = tf.memory().numTensors;
    const { z } = new ppl.Predictive(model, {
      posteriorSamples: post,
      inferDiscrete: true,
      returnSites: ['z'],
    }).call(y);
    expect(z!.shape).toEqual([40, yv.length]);
    for (const v of z!.dataSync()) expect([0, 1, 2]).toContain(v);
    z!.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...Object.values(post), y]);
  });
});

describe('audit14: init strategies', () => {
  const model = (): void => {
    ppl.sample('r', new Gamma(3, 2));
    ppl.sample('m', new Normal(tf.tensor1d([5, -5]), 1).toEvent(1));
  };
  it.each([
    ['uniform', ppl.initToUniform()],
    ['median', ppl.initToMedian()],
    ['mean', ppl.initToMean()],
    ['sample', ppl.initToSample()],
    ['feasible', ppl.initToFeasible()],
    ['string median', 'median'],
  ])('%s: runs and reaches the posterior (mean of m within 4.5 SE)', async (_, s) => {
    const mcmc = new ppl.MCMC(new ppl.NUTS(model, { initStrategy: s as ppl.InitStrategy }), {
      numSamples: 200,
      warmupSteps: 150,
      progressBar: false,
      seed: 7,
    });
    await mcmc.run();
    const e = mcmc.summary().m!.elements;
    expect(Math.abs(e[0]!.mean - 5)).toBeLessThan(4.5 / Math.sqrt(e[0]!.essBulk));
    expect(Math.abs(e[1]!.mean + 5)).toBeLessThan(4.5 / Math.sqrt(e[1]!.essBulk));
  });

  it('initToFeasible starts at bijectTo(support)(0): r = 1, m = 0 (no warmup, tiny steps)', async () => {
    const mcmc = new ppl.MCMC(
      new ppl.HMC(model, {
        initStrategy: ppl.initToFeasible(),
        stepSize: 1e-6,
        numSteps: 1,
        adaptStepSize: false,
      }),
      { numSamples: 1, warmupSteps: 0, progressBar: false, seed: 1 },
    );
    await mcmc.run();
    const { r, m } = mcmc.getSamples();
    expect(r!.dataSync()[0]).toBeCloseTo(1, 4);
    expect(Array.from(m!.dataSync())).toBeAllclose([0, 0], { atol: 1e-4 });
    tf.dispose([r!, m!]);
  });

  it('initToValue for some sites only, others from the fallback', async () => {
    const mcmc = new ppl.MCMC(
      new ppl.HMC(model, {
        initStrategy: ppl.initToValue({ r: 2.5 }),
        stepSize: 1e-6,
        numSteps: 1,
        adaptStepSize: false,
      }),
      { numSamples: 1, warmupSteps: 0, progressBar: false, seed: 1 },
    );
    await mcmc.run();
    const { r, m } = mcmc.getSamples();
    expect(r!.dataSync()[0]).toBeCloseTo(2.5, 4);
    for (const v of m!.dataSync()) expect(Math.abs(v)).toBeLessThanOrEqual(2 + 1e-3);
    tf.dispose([r!, m!]);
  });

  it('initToValue with a wrong shape or unknown site name', async () => {
    const bad = new ppl.MCMC(
      new ppl.NUTS(model, { initStrategy: ppl.initToValue({ m: tf.tensor1d([1, 2, 3]) }) }),
      { numSamples: 2, warmupSteps: 2, progressBar: false },
    );
    await expect(bad.run()).rejects.toThrow(/'?m'?/);
  });
});
