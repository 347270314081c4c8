import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** The energy score in plain JS (float64): draws as flat vectors. */
function refEnergy(X: number[][], x: number[], beta: number, w?: number[]): number {
  const d2 = (a: number[], b: number[]): number =>
    a.reduce((s, v, i) => s + (w?.[i] ?? 1) * (v - (b[i] as number)) ** 2, 0);
  const P = X.length;
  let e = 0;
  for (const Xp of X) e += d2(Xp, x) ** (beta / 2) / P;
  let h = 0;
  let k = 0;
  for (let i = 0; i < P; i++) {
    for (let j = 0; j < i; j++) {
      h += d2(X[i] as number[], X[j] as number[]) ** (beta / 2);
      k++;
    }
  }
  return e - (0.5 * h) / k;
}

const lnN = (x: number, m: number, sd: number): number =>
  -0.5 * Math.log(2 * Math.PI) - Math.log(sd) - 0.5 * ((x - m) / sd) ** 2;

describe('energyScore', () => {
  it('equals the plain-JS energy score for fixed draws', () => {
    const X = [
      [0.3, -1.2, 2.0],
      [1.1, 0.4, -0.7],
      [-0.5, 0.9, 1.6],
      [2.2, -0.1, 0.0],
    ];
    const x = [0.5, 0.1, 1.0];
    const Xt = tf.tensor2d(X);
    const xt = tf.tensor1d(x);
    for (const beta of [0.5, 1, 1.7]) {
      const got = expectNoLeak(() => ppl.energyScore(Xt, xt, beta));
      expect(got[0]).toBeCloseTo(refEnergy(X, x, beta), 5);
    }
    tf.dispose([Xt, xt]);
    // a matrix-valued observation: the norm over all its elements
    const Xm = tf.tensor3d([X[0]!, X[1]!, X[2]!, X[3]!].flat(), [2, 2, 3]);
    const got = ppl.energyScore(Xm, tf.tensor2d([x, x]), 1);
    expect(got.dataSync()[0]).toBeCloseTo(
      refEnergy([X[0]!.concat(X[1]!), X[2]!.concat(X[3]!)], x.concat(x), 1),
      5,
    );
    tf.dispose([Xm, got]);
  });

  it('refuses a beta outside (0, 2) and draws of the wrong shape', async () => {
    const X = tf.zeros([3, 2]);
    const x = tf.zeros([2]);
    const x3 = tf.zeros([3]);
    for (const beta of [0, 2, -1, NaN]) {
      await expectBadInput({
        call: `beta ${beta}`,
        run: () => ppl.energyScore(X, x, beta),
        arg: 'beta',
      });
    }
    await expectBadInput({
      call: 'shape',
      run: () => ppl.energyScore(X, x3, 1),
      arg: 'samples',
    });
    tf.dispose([X, x, x3]);
  });
});

describe('EnergyDistance', { timeout: 600_000 }, () => {
  const offsets = [-1, 0.5, 2];
  const data = [0.2, 1.4, 2.9];
  // deterministic draws: the guide's mu per particle, the observation mu + offsets
  const mus = [0.1, 0.9, -0.4, 1.5];
  const model = (y: tf.Tensor): void => {
    const mu = ppl.sample('mu', new D.Normal(0, 2));
    ppl.plate('data', 3, () =>
      ppl.sample('y', new ppl.Delta(tf.add(mu, tf.tensor1d(offsets))), { obs: y }),
    );
  };
  const guide = (): void => {
    ppl.sample('mu', new ppl.Delta(tf.tensor2d(mus, [4, 1])));
  };

  it('is the energy score of the predictive draws, minus priorScale times the mean log prior', () => {
    const X = mus.map((m) => offsets.map((o) => m + o));
    const y = tf.tensor1d(data);
    for (const [beta, priorScale] of [
      [1, 0],
      [0.6, 0],
      [1.4, 0.5],
    ] as const) {
      const ed = new ppl.EnergyDistance({ beta, priorScale, numParticles: 4, maxPlateNesting: 1 });
      const logPrior = mus.reduce((a, m) => a + lnN(m, 0, 2), 0) / mus.length;
      const want = refEnergy(X, data, beta) - priorScale * logPrior;
      expect(ed.loss(model, guide, y)).toBeCloseTo(want, 4);
      expectNoLeak(() => tf.tidy(() => ed.differentiableLoss(model, guide, [y])));
    }
    y.dispose();
  });

  it('weights each observed element by its site scale and mask', () => {
    const X = mus.map((m) => offsets.map((o) => m + o));
    const y = tf.tensor1d(data);
    const mask = tf.tensor1d([1, 0, 1], 'bool');
    const masked = (obs: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 2));
      ppl.plate('data', 3, () =>
        ppl.scale(
          ppl.mask(
            () => ppl.sample('y', new ppl.Delta(tf.add(mu, tf.tensor1d(offsets))), { obs }),
            mask,
          ),
          2,
        )(),
      );
    };
    const ed = new ppl.EnergyDistance({ numParticles: 4, maxPlateNesting: 1 });
    expect(ed.loss(masked, guide, y)).toBeCloseTo(refEnergy(X, data, 1, [2, 0, 2]), 4);
    tf.dispose([y, mask]);
  });

  it('fitted by SVI, a point guide settles at the centre of symmetric data', () => {
    // y_i ~ N(mu, 1): the energy score of the data vector is symmetric about the data's centre
    setSeed(41);
    const ys = [0.3, 1.3, 2.3, 0.8, 1.8];
    const m = (obs: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 10));
      ppl.plate('data', ys.length, () => ppl.sample('y', new D.Normal(mu, 1), { obs }));
    };
    const g = (): void => {
      ppl.sample('mu', new ppl.Delta(ppl.param('loc', 0)));
    };
    const y = tf.tensor1d(ys);
    const svi = new ppl.SVI(
      m,
      g,
      tf.train.adam(0.05),
      new ppl.EnergyDistance({ numParticles: 16 }),
    );
    const locs: number[] = [];
    for (let i = 0; i < 250; i++) {
      svi.step(y);
      if (i >= 150) locs.push(ppl.getParamStore().value('loc').dataSync()[0] as number);
    }
    const mean = locs.reduce((a, b) => a + b, 0) / locs.length;
    const sd = Math.sqrt(locs.reduce((a, b) => a + (b - mean) ** 2, 0) / locs.length);
    // 4 standard errors of the averaged iterates (autocorrelated: 10 per independent one)
    expect(Math.abs(mean - 1.3)).toBeLessThan(0.03 + (4 * sd) / Math.sqrt(locs.length / 10));
    expectNoLeak(() => {
      svi.step(y);
    });
    y.dispose();
  });

  it('refuses bad options, non-reparameterized sites and a model without observations', async () => {
    const y = tf.tensor1d(data);
    const discreteGuide = (): void => {
      ppl.sample('mu', new D.Poisson(2));
    };
    const discreteLik = (obs: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 2));
      ppl.plate('data', 3, () =>
        ppl.sample('y', new D.Poisson(tf.exp(mu)), { obs: tf.round(tf.abs(obs)) }),
      );
    };
    const normalGuide = (): void => {
      ppl.sample('mu', new D.Normal(0, 1));
    };
    const noObs = (): void => {
      ppl.sample('mu', new D.Normal(0, 2));
    };
    const cases = [
      {
        call: 'unknown',
        run: () => new ppl.EnergyDistance({ prior_scale: 1 } as never),
        arg: 'prior_scale',
      },
      { call: 'beta 0', run: () => new ppl.EnergyDistance({ beta: 0 }), arg: 'beta' },
      { call: 'beta 2', run: () => new ppl.EnergyDistance({ beta: 2 }), arg: 'beta' },
      {
        call: 'priorScale -1',
        run: () => new ppl.EnergyDistance({ priorScale: -1 }),
        arg: 'priorScale',
      },
      {
        call: 'one particle',
        run: () => new ppl.EnergyDistance({ numParticles: 1 }),
        arg: 'numParticles',
      },
      {
        call: 'discrete guide',
        run: () => new ppl.EnergyDistance({ maxPlateNesting: 1 }).loss(model, discreteGuide, y),
        arg: 'mu',
      },
      {
        call: 'discrete likelihood',
        run: () => new ppl.EnergyDistance({ maxPlateNesting: 1 }).loss(discreteLik, normalGuide, y),
        arg: 'y',
      },
      {
        call: 'no observations',
        run: () => new ppl.EnergyDistance({ maxPlateNesting: 0 }).loss(noObs, normalGuide),
        arg: 'model',
      },
    ];
    for (const c of cases) await expectBadInput(c);
    y.dispose();
  });
});
