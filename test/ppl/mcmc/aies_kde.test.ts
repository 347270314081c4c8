/**
 * `AIES.KDEMove` (NumPyro's / emcee's): the Gaussian KDE against scipy's `gaussian_kde` (values
 * computed once with scipy 1.17 and written here: Scott, Silverman and a scalar bandwidth, 2-D
 * and 3-D), its draws' moments against the closed form, the acceptance probability of one move
 * on a fixed ensemble against a direct float64 computation in the test (sample covariance,
 * explicit 2x2 inverse and determinant), the moments of a correlated 2-D Gaussian within 5 Monte
 * Carlo standard errors, a model run leaking no tensor, and bad options refused naming them.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import { GaussianKDE } from '../../../src/ppl/mcmc/gaussian_kde.js';
import { ChainRng } from '../../../src/ppl/mcmc/rng.js';
import type { PotentialPoint } from '../../../src/ppl/mcmc/integrator.js';
import { corr2 } from './potentials.js';

const { sample, mcmc } = ppl;

const PTS2 = [
  [0.3, -1.2],
  [1.1, 0.4],
  [-0.7, 0.9],
  [2.0, -0.3],
  [0.5, 1.5],
  [-1.4, -0.8],
  [0.9, -2.1],
].map((p) => Float64Array.from(p));
const PTS3 = [
  [1.76, 0.4, 0.98],
  [2.24, 1.87, -0.98],
  [0.95, -0.15, -0.1],
  [0.41, 0.14, 1.45],
  [0.76, 0.12, 0.44],
  [0.33, 1.49, -0.21],
].map((p) => Float64Array.from(p));

describe('GaussianKDE against scipy.stats.gaussian_kde', () => {
  it('bandwidth factors and log densities (Scott, Silverman, scalar; 2-D and 3-D)', () => {
    const cases: [
      Float64Array[],
      number[],
      number[],
      ['scott' | 'silverman' | number, number, number, number][],
    ][] = [
      [
        PTS2,
        [0.2, 0.1],
        [1.3, -0.6],
        [
          ['scott', 0.7230200263994838, -2.9340942289787932, -2.8851698458303394],
          ['silverman', 0.7230200263994838, -2.9340942289787932, -2.8851698458303394],
          [0.7, 0.7, -2.9446780002198767, -2.876360122899506],
        ],
      ],
      [
        PTS3,
        [0.2, 0.1, -0.4],
        [1.3, -0.6, 0.5],
        [
          ['scott', 0.7741685699586098, -3.899282830487321, -3.392034931308305],
          ['silverman', 0.7498790975981391, -3.9192962780623914, -3.383561740715174],
          [0.7, 0.7, -3.9823484522595773, -3.378380602177121],
        ],
      ],
    ];
    for (const [pts, x, y, rows] of cases) {
      for (const [bw, f, lx, ly] of rows) {
        const kde = GaussianKDE.fit(pts, bw)!;
        expect(kde.factor).toBeCloseTo(f, 12);
        expect(kde.logPdf(Float64Array.from(x))).toBeCloseTo(lx, 10);
        expect(kde.logPdf(Float64Array.from(y))).toBeCloseTo(ly, 10);
      }
    }
    // fewer than d + 1 points, or points on a line: no positive-definite covariance
    expect(GaussianKDE.fit(PTS3.slice(0, 3), 'scott')).toBeNull();
    expect(
      GaussianKDE.fit(
        [0, 1, 2].map((t) => Float64Array.of(t, 2 * t)),
        'scott',
      ),
    ).toBeNull();
  });

  it('draws have mean x̄ and covariance (n-1)/n Σ + f^2 Σ (within 5 MC standard errors)', () => {
    const kde = GaussianKDE.fit(PTS2, 0.5)!;
    const n = PTS2.length;
    const mean = [0, 1].map((i) => PTS2.reduce((a, p) => a + p[i]!, 0) / n);
    const cov = (i: number, j: number): number =>
      PTS2.reduce((a, p) => a + (p[i]! - mean[i]!) * (p[j]! - mean[j]!), 0) / (n - 1);
    const rng = new ChainRng(5);
    const N = 20000;
    const ys = Array.from({ length: N }, () => kde.sample(rng));
    for (let i = 0; i < 2; i++) {
      const v = ((n - 1) / n) * cov(i, i) + 0.25 * cov(i, i);
      const m = ys.reduce((a, y) => a + y[i]!, 0) / N;
      expect(Math.abs(m - mean[i]!)).toBeLessThan(5 * Math.sqrt(v / N));
      const s2 = ys.reduce((a, y) => a + (y[i]! - m) ** 2, 0) / (N - 1);
      // sd of a variance estimate <= v sqrt(2/N) for a Gaussian; a mixture has heavier tails: x2
      expect(Math.abs(s2 - v)).toBeLessThan(10 * v * Math.sqrt(2 / N));
    }
    const v01 = ((n - 1) / n) * cov(0, 1) + 0.25 * cov(0, 1);
    const c01 = ys.reduce((a, y) => a + (y[0]! - mean[0]!) * (y[1]! - mean[1]!), 0) / N;
    expect(Math.abs(c01 - v01)).toBeLessThan(10 * Math.sqrt((cov(0, 0) * cov(1, 1)) / N));
  });
});

describe('AIES.KDEMove', () => {
  it('one move on a fixed ensemble: the acceptance probability of a direct computation', () => {
    const kernel = new ppl.AIES(corr2, { moves: ppl.AIES.KDEMove() });
    const x = Float64Array.of(0.2, 0.1);
    const ux = corr2.valueAndGrad(x).value;
    for (let seed = 0; seed < 5; seed++) {
      const gen = kernel.moveWalker(x, ux, PTS2, 0, new Float64Array(0), new ChainRng(seed));
      const r = gen.next();
      expect(r.done).toBe(false);
      const y = r.value as Float64Array;
      const uy = corr2.valueAndGrad(y);
      const out = gen.next(uy as PotentialPoint);
      expect(out.done).toBe(true);
      const move = out.value as { acceptStat: number };
      // direct: q = (1/n) sum_i N(.; x_i, f^2 S), S the sample covariance, f = n^(-1/6) (d = 2)
      const n = PTS2.length;
      const m0 = PTS2.reduce((a, p) => a + p[0]!, 0) / n;
      const m1 = PTS2.reduce((a, p) => a + p[1]!, 0) / n;
      const f2 = n ** (-1 / 3);
      const s00 = (f2 * PTS2.reduce((a, p) => a + (p[0]! - m0) ** 2, 0)) / (n - 1);
      const s11 = (f2 * PTS2.reduce((a, p) => a + (p[1]! - m1) ** 2, 0)) / (n - 1);
      const s01 = (f2 * PTS2.reduce((a, p) => a + (p[0]! - m0) * (p[1]! - m1), 0)) / (n - 1);
      const det = s00 * s11 - s01 * s01;
      const q = (v: Float64Array): number =>
        PTS2.reduce((a, p) => {
          const d0 = v[0]! - p[0]!;
          const d1 = v[1]! - p[1]!;
          const quad = (s11 * d0 * d0 - 2 * s01 * d0 * d1 + s00 * d1 * d1) / det;
          return a + Math.exp(-0.5 * quad) / (2 * Math.PI * Math.sqrt(det));
        }, 0) / n;
      const expected = Math.min(1, Math.exp(ux - uy.value) * (q(x) / q(y)));
      expect(move.acceptStat).toBeCloseTo(expected, 12);
    }
  });

  it('samples a correlated 2-D Gaussian: means and sds within 5 MCSE', () => {
    for (const moves of [
      ppl.AIES.KDEMove(),
      [
        [ppl.AIES.KDEMove({ bwMethod: 'silverman' }), 0.5],
        [ppl.AIES.DEMove(), 0.5],
      ] as [ppl.mcmc.AIESMove, number][],
    ]) {
      const m = new ppl.MCMC(new ppl.AIES(corr2, { moves }), {
        numSamples: 300,
        warmupSteps: 200,
        numChains: 16,
        chainMethod: 'vectorized',
        progressBar: false,
        seed: 3,
      });
      m.runSync();
      const z = m.getSamples({ groupByChain: true }).z as tf.Tensor;
      const a = z.arraySync() as number[][][];
      z.dispose();
      const refs = [
        [1, 1],
        [-1, 2],
      ];
      refs.forEach(([mean, sd], k) => {
        const rows = a.map((ch) => ch.map((v) => v[k]!));
        const all = rows.flat();
        const mu = all.reduce((s, v) => s + v, 0) / all.length;
        const s = Math.sqrt(all.reduce((acc, v) => acc + (v - mu) ** 2, 0) / (all.length - 1));
        // walkers are not independent: the ESS over walkers is optimistic, so a floor of 100
        const e = Math.min(mcmc.ess(rows), all.length);
        expect(e).toBeGreaterThan(100);
        expect(Math.abs(mu - mean!), `mean ${mu}`).toBeLessThan(5 * (sd! / Math.sqrt(e)));
        expect(Math.abs(s - sd!), `sd ${s}`).toBeLessThan(5 * sd! * Math.sqrt(1.5 / e));
      });
      // an independence proposal from a KDE of the target: a high acceptance rate
      const acc = m.getExtraFields().flatMap((c) => Array.from(c.acceptStat));
      expect(acc.reduce((s, v) => s + v, 0) / acc.length).toBeGreaterThan(0.3);
    }
  }, 60_000);

  it('runs a model, leaking no tensor', () => {
    const y = tf.tensor1d([0.8, 1.9, 0.3, 1.4]);
    const model = (obs: tf.Tensor): void => {
      const mu = sample('mu', new D.Normal(0, 1));
      const sigma = sample('sigma', new D.HalfNormal(1));
      ppl.plate('data', 4, () => sample('y', new D.Normal(mu, sigma), { obs }));
    };
    const before = tf.memory().numTensors;
    const m = new ppl.MCMC(new ppl.AIES(model, { moves: ppl.AIES.KDEMove() }), {
      numSamples: 50,
      warmupSteps: 50,
      numChains: 8,
      chainMethod: 'vectorized',
      progressBar: false,
      seed: 1,
    });
    m.runSync(y);
    const s = m.getSamples();
    expect(s.sigma!.shape).toEqual([400]);
    expect(Math.min(...(s.sigma!.dataSync() as Float32Array))).toBeGreaterThan(0);
    tf.dispose(Object.values(s));
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  }, 30_000);

  it('refuses bad options and too few walkers, naming them', () => {
    expect(() => ppl.AIES.KDEMove({ bwMethod: 'nrd0' as never })).toThrow(
      /^bwMethod: AIES.KDEMove: expected 'scott', 'silverman' or a finite number > 0, got "nrd0"/,
    );
    expect(() => ppl.AIES.KDEMove({ bwMethod: 0 })).toThrow(/^bwMethod:/);
    expect(() => ppl.AIES.KDEMove({ bwMethod: NaN })).toThrow(/^bwMethod:/);
    expect(() => ppl.AIES.KDEMove({ bw_method: 'scott' } as never)).toThrow(
      /bw_method: not an option of AIES.KDEMove/,
    );
    const m = new ppl.MCMC(new ppl.AIES(corr2, { moves: ppl.AIES.KDEMove() }), {
      numSamples: 10,
      numChains: 5,
      chainMethod: 'vectorized',
      progressBar: false,
    });
    expect(() => m.runSync()).toThrow(
      /^numChains: AIES needs numChains \(walkers\) >= max\(4, 2 \* dim \+ 2\) with a KDEMove = 6 for the 2 unconstrained coordinates, got 5/,
    );
  });
});
