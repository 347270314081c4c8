import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const mean = (a: number[]): number => a.reduce((x, v) => x + v, 0) / a.length;
const sd = (a: number[]): number => Math.sqrt(mean(a.map((v) => (v - mean(a)) ** 2)));

// z ~ Bernoulli(0.3), x_i ~ N(3 z - 1.5, 1.2): the exact posterior of z by enumeration
const xs = [0.4, -0.3, 1.1];
const lik = (x: number, z: number): number => normalRef.pdf(x, 3 * z - 1.5, 1.2);
const p1 = 0.3 * xs.reduce((a, v) => a * lik(v, 1), 1);
const p0 = 0.7 * xs.reduce((a, v) => a * lik(v, 0), 1);
const exactZ = p1 / (p1 + p0);
const discreteModel = (obs: tf.Tensor): void => {
  const z = ppl.sample('z', new D.Bernoulli({ probs: 0.3 }));
  ppl.plate('data', xs.length, () =>
    ppl.sample('x', new D.Normal(tf.sub(tf.mul(z, 3), 1.5), 1.2), { obs }),
  );
};
const discreteGuide = (): void => {
  const q = ppl.param('q', 0.5, { constraint: ppl.constraints.unitInterval });
  ppl.sample('z', new D.Bernoulli({ probs: q }));
};

describe('ReweightedWakeSleep', { timeout: 600_000 }, () => {
  it.each([true, false])(
    'recovers the exact posterior of a discrete latent (Bernoulli guide; vectorized %s)',
    (vectorizeParticles) => {
      setSeed(vectorizeParticles ? 21 : 22);
      const x = tf.tensor1d(xs);
      // (a fixed point at the exact posterior for any K: there every weight is p(x))
      const numParticles = vectorizeParticles ? 10 : 4;
      const rws = new ppl.ReweightedWakeSleep({ numParticles, vectorizeParticles });
      const svi = new ppl.SVI(discreteModel, discreteGuide, tf.train.adam(0.05), rws);
      const qs: number[] = [];
      const steps = vectorizeParticles ? 250 : 150;
      for (let i = 0; i < steps; i++) {
        svi.step(x);
        if (i >= 70) qs.push(ppl.getParamStore().value('q').dataSync()[0] as number);
      }
      // 4 standard errors of the averaged iterates (autocorrelated: 10 per independent one)
      const tol = 0.02 + (4 * sd(qs)) / Math.sqrt(qs.length / 10);
      expect(Math.abs(mean(qs) - exactZ)).toBeLessThan(tol);
      expectNoLeak(() => {
        svi.step(x);
      });
      x.dispose();
    },
  );

  it('recovers the exact posterior of a Categorical latent (simplex-valued guide)', () => {
    setSeed(26);
    const prior = [0.2, 0.5, 0.3];
    const locs = [-2, 0, 2];
    const data = [1.1, 2.4, 0.3];
    const post = prior.map((p, k) =>
      data.reduce((a, v) => a * normalRef.pdf(v, locs[k] as number, 1), p),
    );
    const z = post.reduce((a, b) => a + b, 0);
    const exact = post.map((p) => p / z);
    const model = (obs: tf.Tensor): void => {
      const c = ppl.sample('c', new D.Categorical({ probs: prior }));
      const loc = tf.gather(tf.tensor1d(locs), tf.cast(c, 'int32'));
      ppl.plate('data', data.length, () => ppl.sample('x', new D.Normal(loc, 1), { obs }));
    };
    const guide = (): void => {
      const probs = ppl.param('probs', tf.fill([3], 1 / 3), {
        constraint: ppl.constraints.simplex,
      });
      ppl.sample('c', new D.Categorical({ probs }));
    };
    const x = tf.tensor1d(data);
    const svi = new ppl.SVI(
      model,
      guide,
      tf.train.adam(0.05),
      new ppl.ReweightedWakeSleep({ numParticles: 10 }),
    );
    const draws: number[][] = [];
    for (let i = 0; i < 250; i++) {
      svi.step(x);
      if (i >= 100) draws.push(Array.from(ppl.getParamStore().value('probs').dataSync()));
    }
    for (let k = 0; k < 3; k++) {
      const col = draws.map((d) => d[k] as number);
      const tol = 0.02 + (4 * sd(col)) / Math.sqrt(col.length / 10);
      expect(Math.abs(mean(col) - (exact[k] as number))).toBeLessThan(tol);
    }
    x.dispose();
  });

  it('recovers the closed-form Normal-Normal posterior and learns a model parameter', () => {
    // mu ~ N(m, 2), y_i ~ N(mu, 1): wake-theta moves m to the marginal-likelihood maximum ybar,
    // wake-phi q to the posterior N(pm(m), ps)
    setSeed(23);
    const ys = [1.2, 0.4, 2.1, 1.7, 0.9];
    const ybar = mean(ys);
    const prec = 1 / 4 + ys.length;
    const ps = Math.sqrt(1 / prec);
    const model = (y: tf.Tensor): void => {
      const m = ppl.param('m', 0);
      const mu = ppl.sample('mu', new D.Normal(m, 2));
      ppl.plate('data', ys.length, () => ppl.sample('y', new D.Normal(mu, 1), { obs: y }));
    };
    const guide = (): void => {
      const loc = ppl.param('loc', 0);
      const scale = ppl.param('scale', 1, { constraint: ppl.constraints.positive });
      ppl.sample('mu', new D.Normal(loc, scale));
    };
    const y = tf.tensor1d(ys);
    const svi = new ppl.SVI(
      model,
      guide,
      tf.train.adam(0.05),
      new ppl.ReweightedWakeSleep({ numParticles: 16 }),
    );
    const locs: number[] = [];
    const scales: number[] = [];
    const ms: number[] = [];
    for (let i = 0; i < 400; i++) {
      svi.step(y);
      if (i >= 250) {
        const st = ppl.getParamStore();
        locs.push(st.value('loc').dataSync()[0] as number);
        scales.push(st.value('scale').dataSync()[0] as number);
        ms.push(st.value('m').dataSync()[0] as number);
      }
    }
    const n = locs.length / 15;
    const m = mean(ms);
    const pm = (m / 4 + ys.reduce((a, b) => a + b, 0)) / prec;
    expect(Math.abs(mean(locs) - pm)).toBeLessThan(0.03 + (4 * sd(locs)) / Math.sqrt(n));
    expect(Math.abs(mean(scales) - ps)).toBeLessThan(0.03 + (4 * sd(scales)) / Math.sqrt(n));
    // m climbs towards ybar (the evidence maximum) from 0; slow (prior sd 2): at least halfway
    expect(m).toBeGreaterThan(ybar / 2);
    expect(m).toBeLessThan(ybar + 0.3);
    y.dispose();
  });

  it('sleep phase alone (insomnia 0) trains an amortized guide on the joint (CSIS objective)', () => {
    // posterior log-odds of z given x: log(3/7) + (3 / 1.2^2) sum x, linear in sum x
    setSeed(24);
    const slope = 3 / 1.44;
    const amortized = (obs: tf.Tensor): void => {
      const a = ppl.param('a', 0);
      const b = ppl.param('b', 0);
      const logits = tf.add(a, tf.mul(b, tf.sum(obs, -1, true)));
      ppl.sample('z', new D.Bernoulli({ logits }));
    };
    const x = tf.tensor1d(xs);
    const rws = new ppl.ReweightedWakeSleep({
      numParticles: 2,
      numSleepParticles: 32,
      insomnia: 0,
      modelHasParams: false,
    });
    const svi = new ppl.SVI(discreteModel, amortized, tf.train.adam(0.1), rws);
    const as: number[] = [];
    const bs: number[] = [];
    for (let i = 0; i < 300; i++) {
      svi.step(x);
      if (i >= 200) {
        as.push(ppl.getParamStore().value('a').dataSync()[0] as number);
        bs.push(ppl.getParamStore().value('b').dataSync()[0] as number);
      }
    }
    expect(Math.abs(mean(bs) - slope)).toBeLessThan(0.3);
    expect(Math.abs(mean(as) - Math.log(3 / 7))).toBeLessThan(0.3);
    const l = rws.loss(discreteModel, amortized, x);
    expect(l.wakeTheta).toBeUndefined();
    expect(l.wakePhi).toBeUndefined();
    expect(l.sleepPhi).toBe(l.phi);
    x.dispose();
  });

  it('loss and lossAndGrads: wake-theta is -log of the mean weight, phi mixes by insomnia', () => {
    // exact posterior guide: every weight is p(x), so wake-theta = -log p(x) exactly
    const x = tf.tensor1d(xs);
    const exact = (): void => {
      ppl.sample('z', new D.Bernoulli({ probs: exactZ }));
    };
    setSeed(25);
    const rws = new ppl.ReweightedWakeSleep({ numParticles: 6, insomnia: 0.25 });
    const l = rws.loss(discreteModel, exact, x);
    expect(l.wakeTheta).toBeCloseTo(-Math.log(p1 + p0), 4);
    expect(l.phi).toBeCloseTo(0.25 * (l.wakePhi as number) + 0.75 * (l.sleepPhi as number), 4);
    // with a parameterized guide: gradients of every parameter, nothing leaked
    const before = tf.memory().numTensors;
    const r = rws.lossAndGrads(discreteModel, discreteGuide, x);
    const after = tf.memory().numTensors;
    expect(Object.keys(r.grads)).toEqual(['q']);
    expect(after - before).toBe(1 + 1); // the grad, and the new parameter q
    tf.dispose(r.grads);
    expectNoLeak(() => {
      rws.loss(discreteModel, discreteGuide, x);
    });
    x.dispose();
  });

  it('refuses bad options, naming them', async () => {
    const cases = [
      {
        call: 'unknown key',
        run: () => new ppl.ReweightedWakeSleep({ num_particles: 3 } as never),
        arg: 'num_particles',
      },
      {
        call: 'one particle',
        run: () => new ppl.ReweightedWakeSleep({ numParticles: 1 }),
        arg: 'numParticles',
      },
      {
        call: 'insomnia > 1',
        run: () => new ppl.ReweightedWakeSleep({ insomnia: 1.5 }),
        arg: 'insomnia',
      },
      {
        call: 'insomnia NaN',
        run: () => new ppl.ReweightedWakeSleep({ insomnia: NaN }),
        arg: 'insomnia',
      },
      {
        call: 'modelHasParams not boolean',
        run: () => new ppl.ReweightedWakeSleep({ modelHasParams: 1 as never }),
        arg: 'modelHasParams',
      },
      {
        call: 'numSleepParticles 0',
        run: () => new ppl.ReweightedWakeSleep({ numSleepParticles: 0 }),
        arg: 'numSleepParticles',
      },
      {
        call: 'guideArgs not a function',
        run: () => new ppl.ReweightedWakeSleep({ guideArgs: 3 as never }),
        arg: 'guideArgs',
      },
    ];
    for (const c of cases) await expectBadInput(c);
  });
});
