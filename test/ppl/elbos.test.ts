import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

// generous: SVI runs are slow on a loaded shared machine
describe('RenyiELBO', { timeout: 600_000 }, () => {
  // mu ~ N(m0, s0^2), y_i ~ N(mu, s^2): the exact posterior as the guide makes every weight p(y)
  const ys = [1.2, 0.4, 2.1, 1.7, 0.9];
  const [m0, s0, s] = [0, 2, 1];
  const prec = 1 / s0 ** 2 + ys.length / s ** 2;
  const pm = (m0 / s0 ** 2 + ys.reduce((a, b) => a + b, 0) / s ** 2) / prec;
  const ps = Math.sqrt(1 / prec);
  // log p(y) = log p(y | mu) + log p(mu) - log p(mu | y) at any mu
  const logEvidence =
    ys.reduce((a, y) => a + normalRef.logpdf(y, pm, s), 0) +
    normalRef.logpdf(pm, m0, s0) -
    normalRef.logpdf(pm, pm, ps);
  const model = (y: tf.Tensor): void => {
    const mu = ppl.sample('mu', new D.Normal(m0, s0));
    ppl.plate('data', ys.length, () => ppl.sample('y', new D.Normal(mu, s), { obs: y }));
  };
  const exactGuide = (): void => {
    ppl.sample('mu', new D.Normal(pm, ps));
  };

  it.each([
    [0, 3],
    [0.5, 5],
    [-1, 2],
  ])('equals log p(y) with the exact posterior as guide (alpha %d, K %d)', (alpha, k) => {
    setSeed(5);
    const y = tf.tensor1d(ys);
    const elbo = new ppl.RenyiELBO({ alpha, numParticles: k });
    expect(-elbo.loss(model, exactGuide, y)).toBeCloseTo(logEvidence, 3);
    expectNoLeak(() => tf.tidy(() => elbo.differentiableLoss(model, exactGuide, [y])));
    y.dispose();
  });

  it('is at least the ELBO on average for alpha = 0 (IWAE) with a poor guide', () => {
    setSeed(6);
    const y = tf.tensor1d(ys);
    const poor = (): void => {
      ppl.sample('mu', new D.Normal(pm + 0.5, ps * 2));
    };
    const iwae = new ppl.RenyiELBO({ alpha: 0, numParticles: 16 });
    const elbo = new ppl.TraceELBO({ numParticles: 16 });
    let a = 0;
    let b = 0;
    for (let i = 0; i < 20; i++) {
      a += -iwae.loss(model, poor, y) / 20;
      b += -elbo.loss(model, poor, y) / 20;
    }
    expect(a).toBeGreaterThan(b);
    expect(a).toBeLessThan(logEvidence + 0.05);
    y.dispose();
  });

  it('rejects alpha = 1 and non-reparameterized guide sites, naming them', () => {
    expect(() => new ppl.RenyiELBO({ alpha: 1 })).toThrow(/alpha/);
    const m = (): void => {
      ppl.sample('z', new D.Bernoulli({ probs: 0.5 }));
    };
    const g = (): void => {
      ppl.sample('z', new D.Bernoulli({ probs: 0.4 }));
    };
    expect(() => new ppl.RenyiELBO().loss(m, g)).toThrow(/'z'/);
  });
});

// generous: SVI runs are slow on a loaded shared machine
describe('TraceGraphELBO', { timeout: 600_000 }, () => {
  const lik = (x: number, z: number): number => normalRef.pdf(x, 3 * z - 1.5, 1.2);

  it('learns the exact posterior of a global discrete latent (score function with baseline)', () => {
    setSeed(7);
    const xs = [0.4, -0.3, 1.1];
    const x = tf.tensor1d(xs);
    const model = (obs: tf.Tensor): void => {
      const z = ppl.sample('z', new D.Bernoulli({ probs: 0.3 }));
      ppl.plate('data', xs.length, () =>
        ppl.sample('x', new D.Normal(tf.sub(tf.mul(z, 3), 1.5), 1.2), { obs }),
      );
    };
    const guide = (): void => {
      const q = ppl.param('q', 0.5, { constraint: ppl.constraints.unitInterval });
      // the baseline asked for as in Pyro (a site without infer.baseline gets none)
      ppl.sample('z', new D.Bernoulli({ probs: q }), {
        infer: { baseline: { useDecayingAvgBaseline: true } },
      });
    };
    const p1 = 0.3 * xs.reduce((a, v) => a * lik(v, 1), 1);
    const p0 = 0.7 * xs.reduce((a, v) => a * lik(v, 0), 1);
    const exact = p1 / (p1 + p0);
    const svi = new ppl.SVI(
      model,
      guide,
      tf.train.adam(0.08),
      new ppl.TraceGraphELBO({ numParticles: 2 }),
    );
    let avg = 0;
    for (let i = 0; i < 200; i++) {
      svi.step(x);
      if (i >= 120) avg += (ppl.getParamStore().value('q').dataSync()[0] as number) / 80;
    }
    expect(Math.abs(avg - exact)).toBeLessThan(0.04);
    expectNoLeak(() => {
      svi.step(x);
    });
    x.dispose();
  });

  it('Rao-Blackwellizes local latents by plate: each member learns its own posterior', () => {
    setSeed(8);
    const xs = [-1.8, 1.6, 0.1, 2.4];
    const x = tf.tensor1d(xs);
    const model = (obs: tf.Tensor): void => {
      ppl.plate('data', xs.length, () => {
        const z = ppl.sample('z', new D.Bernoulli({ probs: 0.5 }));
        ppl.sample('x', new D.Normal(tf.sub(tf.mul(z, 3), 1.5), 1.2), { obs });
      });
    };
    const guide = (): void => {
      const q = ppl.param('q', tf.fill([xs.length], 0.5), {
        constraint: ppl.constraints.unitInterval,
      });
      ppl.plate('data', xs.length, () => ppl.sample('z', new D.Bernoulli({ probs: q })));
    };
    const exact = xs.map((v) => lik(v, 1) / (lik(v, 1) + lik(v, 0)));
    const svi = new ppl.SVI(
      model,
      guide,
      tf.train.adam(0.08),
      new ppl.TraceGraphELBO({ numParticles: 2 }),
    );
    const avg = xs.map(() => 0);
    for (let i = 0; i < 200; i++) {
      svi.step(x);
      if (i >= 120) {
        const q = ppl.getParamStore().value('q');
        q.dataSync().forEach((v, j) => (avg[j] = (avg[j] as number) + v / 80));
        q.dispose();
      }
    }
    avg.forEach((v, j) => expect(Math.abs(v - (exact[j] as number))).toBeLessThan(0.05));
    x.dispose();
  });
});
