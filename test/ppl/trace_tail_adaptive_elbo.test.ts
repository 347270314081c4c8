import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** The tail ranks written independently: sort descending, rank = last position of the value. */
function referenceWeights(lw: number[], beta: number): number[] {
  const desc = [...lw].sort((a, b) => b - a);
  const g = lw.map((l) => (desc.lastIndexOf(l) + 1) ** beta);
  const z = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / z);
}

// mu ~ N(0, s0^2), y_i ~ N(mu, s^2): the closed-form posterior
const ys = [1.2, 0.4, 2.1, 1.7, 0.9];
const [s0, s] = [2, 1];
const prec = 1 / s0 ** 2 + ys.length / s ** 2;
const pm = ys.reduce((a, b) => a + b, 0) / s ** 2 / prec;
const ps = Math.sqrt(1 / prec);
const model = (y: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(0, s0));
  ppl.plate('data', ys.length, () => ppl.sample('y', new D.Normal(mu, s), { obs: y }));
};
const guide = (): void => {
  const loc = ppl.param('loc', 0);
  const scale = ppl.param('scale', 1, { constraint: ppl.constraints.positive });
  ppl.sample('mu', new D.Normal(loc, scale));
};

describe('tailAdaptiveWeights', () => {
  it('equals the normalized tail ranks to the power beta (ties share the larger count)', () => {
    const lw = [0.3, -1.2, 2.0, 0.3, -5, 7.5, -Infinity];
    for (const beta of [-1, -0.5, 0, 0.7]) {
      const got = ppl.tailAdaptiveWeights(lw, beta);
      const want = referenceWeights(lw, beta);
      got.forEach((g, i) => expect(g).toBeCloseTo(want[i] as number, 14));
    }
    // beta -1: ranks [3, 5, 2, 3, 6, 1, 7] (the largest log weight gets the largest weight)
    const w = ppl.tailAdaptiveWeights(lw, -1);
    expect(Math.max(...w)).toBe(w[5]);
    expect(Math.min(...w)).toBe(w[6]);
  });

  it('refuses NaN, +Infinity, empty log weights and a non-finite beta', async () => {
    for (const [run, arg] of [
      [() => ppl.tailAdaptiveWeights([0, NaN], -1), 'logWeights'],
      [() => ppl.tailAdaptiveWeights([0, Infinity], -1), 'logWeights'],
      [() => ppl.tailAdaptiveWeights([], -1), 'logWeights'],
      [() => ppl.tailAdaptiveWeights([0, 1], NaN), 'beta'],
    ] as const) {
      await expectBadInput({ call: arg, run, arg });
    }
  });
});

describe('TraceTailAdaptiveELBO', { timeout: 600_000 }, () => {
  it('has the -ELBO as value and -sum gamma_p dl_p/dz dz/dphi as gradient (plain JS reference)', () => {
    const y = tf.tensor1d(ys);
    const P = 6;
    const [loc0, scale0] = [0.4, 0.8];
    ppl.getParamStore().set('loc', loc0);
    ppl.getParamStore().set('scale', scale0, ppl.constraints.positive);
    const elbo = new ppl.TraceTailAdaptiveELBO({ numParticles: P, maxPlateNesting: 1 });
    setSeed(11);
    const vars = ppl.getParamStore().variables(['loc', 'scale']);
    const { value, grads } = tf.variableGrads(
      () => elbo.differentiableLoss(model, guide, [y]),
      vars,
    );
    // the same draws again: the guide inside the particle plate, same seed
    setSeed(11);
    const z = tf.tidy(() =>
      ppl
        .trace(() => ppl.plate('_num_particles_vectorized', P, { dim: -2 }, () => guide()))
        .getTrace()
        .value('mu')
        .reshape([P]),
    );
    const zs = Array.from(z.dataSync());
    z.dispose();
    // l_p = log N(z; 0, s0) + sum_i log N(y_i; z, s) - log N(z; loc, scale), z = loc + scale eps
    const lnN = (x: number, m: number, sd: number): number =>
      -0.5 * Math.log(2 * Math.PI) - Math.log(sd) - 0.5 * ((x - m) / sd) ** 2;
    const l = zs.map(
      (zp) => lnN(zp, 0, s0) + ys.reduce((a, yi) => a + lnN(yi, zp, s), 0) - lnN(zp, loc0, scale0),
    );
    const gamma = referenceWeights(l, -1);
    // the pathwise gradient: d/dz (log p - log q) dz/dphi with z = loc + scale eps, so
    // dl/dloc = dl/dz and dl/dscale = dl/dz eps; the unconstrained scale u by the chain rule
    // through the store's transform
    let gLoc = 0;
    let gScale = 0;
    zs.forEach((zp, p) => {
      const eps = (zp - loc0) / scale0;
      const dlogp = -zp / s0 ** 2 + ys.reduce((a, yi) => a + (yi - zp) / s ** 2, 0);
      const dl = dlogp + (zp - loc0) / scale0 ** 2;
      gLoc -= (gamma[p] as number) * dl;
      gScale -= (gamma[p] as number) * dl * eps;
    });
    expect(value.dataSync()[0]).toBeCloseTo(-l.reduce((a, b) => a + b, 0) / P, 3);
    const gl = (grads[vars[0]!.name] as tf.Tensor).dataSync()[0] as number;
    expect(gl).toBeCloseTo(gLoc, 2);
    // d scale / d u by a finite difference of the store's constraint transform
    const store = ppl.getParamStore();
    const u = store.unconstrained('scale');
    const u0 = u.dataSync()[0] as number;
    const h = 1e-3;
    u.assign(tf.scalar(u0 + h));
    const sp = store.value('scale').dataSync()[0] as number;
    u.assign(tf.scalar(u0 - h));
    const sm = store.value('scale').dataSync()[0] as number;
    u.assign(tf.scalar(u0));
    const dsdu = (sp - sm) / (2 * h);
    const gu = (grads[vars[1]!.name] as tf.Tensor).dataSync()[0] as number;
    expect(gu).toBeCloseTo(gScale * dsdu, 2);
    value.dispose();
    tf.dispose(grads);
    y.dispose();
  });

  it('fitted by SVI recovers the closed-form Normal-Normal posterior', () => {
    setSeed(3);
    const y = tf.tensor1d(ys);
    const svi = new ppl.SVI(
      model,
      guide,
      tf.train.adam(0.05),
      new ppl.TraceTailAdaptiveELBO({ numParticles: 8, vectorizeParticles: true }),
    );
    const locs: number[] = [];
    const scales: number[] = [];
    for (let i = 0; i < 400; i++) {
      svi.step(y);
      if (i >= 250) {
        locs.push(ppl.getParamStore().value('loc').dataSync()[0] as number);
        scales.push(ppl.getParamStore().value('scale').dataSync()[0] as number);
      }
    }
    const mean = (a: number[]): number => a.reduce((x, v) => x + v, 0) / a.length;
    const sd = (a: number[]): number => Math.sqrt(mean(a.map((v) => (v - mean(a)) ** 2)));
    // tolerance: 4 standard errors of the averaged iterates (autocorrelated: 15 per independent
    // one) plus a floor for the remaining optimization bias
    const n = locs.length / 15;
    expect(Math.abs(mean(locs) - pm)).toBeLessThan(0.02 + (4 * sd(locs)) / Math.sqrt(n));
    expect(Math.abs(mean(scales) - ps)).toBeLessThan(0.02 + (4 * sd(scales)) / Math.sqrt(n));
    expectNoLeak(() => {
      svi.step(y);
    });
    y.dispose();
  });

  it('its loss is the -ELBO estimate (exact posterior guide: -log p(y) exactly)', () => {
    setSeed(4);
    const y = tf.tensor1d(ys);
    const exact = (): void => {
      ppl.sample('mu', new D.Normal(pm, ps));
    };
    const lnN = (x: number, m: number, sd: number): number =>
      -0.5 * Math.log(2 * Math.PI) - Math.log(sd) - 0.5 * ((x - m) / sd) ** 2;
    const logEvidence =
      ys.reduce((a, v) => a + lnN(v, pm, s), 0) + lnN(pm, 0, s0) - lnN(pm, pm, ps);
    const e = new ppl.TraceTailAdaptiveELBO({ numParticles: 4 });
    expect(e.loss(model, exact, y)).toBeCloseTo(-logEvidence, 3);
    expectNoLeak(() => tf.tidy(() => e.differentiableLoss(model, exact, [y])));
    y.dispose();
  });

  it('refuses bad options and a non-reparameterized guide site, naming them', async () => {
    const m = (): void => {
      ppl.sample('z', new D.Bernoulli({ probs: 0.5 }));
    };
    const g = (): void => {
      ppl.sample('z', new D.Bernoulli({ probs: 0.4 }));
    };
    const cases = [
      {
        call: 'unknown key',
        run: () => new ppl.TraceTailAdaptiveELBO({ tail_adaptive_beta: -1 } as never),
        arg: 'tail_adaptive_beta',
      },
      {
        call: 'not vectorized',
        run: () => new ppl.TraceTailAdaptiveELBO({ vectorizeParticles: false }),
        arg: 'vectorizeParticles',
      },
      {
        call: 'beta NaN',
        run: () => new ppl.TraceTailAdaptiveELBO({ tailAdaptiveBeta: NaN }),
        arg: 'tailAdaptiveBeta',
      },
      {
        call: 'numParticles 0',
        run: () => new ppl.TraceTailAdaptiveELBO({ numParticles: 0 }),
        arg: 'numParticles',
      },
      {
        call: 'discrete guide site',
        run: () => new ppl.TraceTailAdaptiveELBO({ numParticles: 3 }).loss(m, g),
        arg: 'z',
        message: /reparameterized/,
      },
    ];
    for (const c of cases) await expectBadInput(c);
  });
});
