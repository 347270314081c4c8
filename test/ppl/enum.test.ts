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

const logNormalPdf = (x: number, m: number, s: number): number => normalRef.logpdf(x, m, s);
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
};
const ENUM = { infer: { enumerate: 'parallel' } };
const noGuide = (): void => undefined;

// generous: SVI runs are slow on a loaded shared machine
describe('TraceEnumELBO', { timeout: 600_000 }, () => {
  const ys = [-2.1, -1.7, 0.3, 2.2, 1.9, 2.6, -1.2];
  const w = [0.3, 0.7];
  const mus = [-2, 2];

  it('sums a local assignment per data point out exactly (Gaussian mixture)', () => {
    const y = tf.tensor1d(ys);
    const model = (obs: tf.Tensor): void => {
      const locs = tf.tensor1d(mus);
      ppl.plate('data', ys.length, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: w }), ENUM);
        ppl.sample('y', new D.Normal(tf.gather(locs, tf.cast(z, 'int32')), 0.8), { obs });
      });
    };
    const elbo = new ppl.TraceEnumELBO();
    const want = -ys.reduce(
      (a, yi) => a + lse(w.map((wk, k) => Math.log(wk) + logNormalPdf(yi, mus[k] as number, 0.8))),
      0,
    );
    expect(elbo.loss(model, noGuide, y)).toBeCloseTo(want, 3);
    expectNoLeak(() => tf.tidy(() => elbo.differentiableLoss(model, noGuide, [y])));
    y.dispose();
  });

  it('sums a global discrete variable over a plate of observations', () => {
    const y = tf.tensor1d(ys);
    const model = (obs: tf.Tensor): void => {
      const z = ppl.sample('z', new D.Bernoulli({ probs: 0.4 }), ENUM);
      const loc = tf.sub(tf.mul(z, 4), 2); // z=0 -> -2, z=1 -> 2
      ppl.plate('data', ys.length, () => ppl.sample('y', new D.Normal(loc, 1.5), { obs }));
    };
    const terms = [0, 1].map(
      (z) =>
        Math.log(z === 1 ? 0.4 : 0.6) +
        ys.reduce((a, yi) => a + logNormalPdf(yi, z === 1 ? 2 : -2, 1.5), 0),
    );
    expect(new ppl.TraceEnumELBO().loss(model, noGuide, y)).toBeCloseTo(-lse(terms), 3);
    y.dispose();
  });

  it('sums an HMM chain out by variable elimination (matches brute force over K^T paths)', () => {
    const K = 3;
    const T = 4; // each enumerated step takes a dim: tfjs kernels stop at rank 6
    const trans = [
      [0.8, 0.15, 0.05],
      [0.1, 0.8, 0.1],
      [0.2, 0.2, 0.6],
    ];
    const init = [0.5, 0.3, 0.2];
    const locs = [-1, 0.5, 2];
    const obs = [-0.8, 0.4, 2.2, 1.7];
    const model = (): void => {
      const transT = tf.tensor2d(trans);
      const locT = tf.tensor1d(locs);
      let x = ppl.sample('x0', new D.Categorical({ probs: init }), ENUM);
      ppl.sample('y0', new D.Normal(tf.gather(locT, tf.cast(x, 'int32')), 0.7), {
        obs: obs[0] as number,
      });
      for (let t = 1; t < T; t++) {
        x = ppl.sample(
          `x${t}`,
          new D.Categorical({ probs: tf.gather(transT, tf.cast(x, 'int32')) }),
          ENUM,
        );
        ppl.sample(`y${t}`, new D.Normal(tf.gather(locT, tf.cast(x, 'int32')), 0.7), {
          obs: obs[t] as number,
        });
      }
    };
    // brute force
    const paths: number[] = [];
    const rec = (t: number, prev: number, lp: number): void => {
      if (t === T) {
        paths.push(lp);
        return;
      }
      for (let k = 0; k < K; k++) {
        const p = t === 0 ? (init[k] as number) : ((trans[prev] as number[])[k] as number);
        rec(t + 1, k, lp + Math.log(p) + logNormalPdf(obs[t] as number, locs[k] as number, 0.7));
      }
    };
    rec(0, 0, 0);
    expect(paths.length).toBe(K ** T);
    expect(new ppl.TraceEnumELBO().loss(model, noGuide)).toBeCloseTo(-lse(paths), 3);
  });

  it('scales a subsampled plate exactly (size / subsample size outside the logsumexp)', () => {
    const idx = [1, 4, 6];
    const y = tf.tensor1d(idx.map((i) => ys[i] as number));
    const model = (obs: tf.Tensor): void => {
      const locs = tf.tensor1d(mus);
      ppl.plate('data', ys.length, { subsample: idx }, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: w }), ENUM);
        ppl.sample('y', new D.Normal(tf.gather(locs, tf.cast(z, 'int32')), 0.8), { obs });
      });
    };
    const per = idx.map((i) =>
      lse(w.map((wk, k) => Math.log(wk) + logNormalPdf(ys[i] as number, mus[k] as number, 0.8))),
    );
    const want = -(ys.length / idx.length) * per.reduce((a, b) => a + b, 0);
    expect(new ppl.TraceEnumELBO().loss(model, noGuide, y)).toBeCloseTo(want, 3);
    y.dispose();
  });

  it('learns mixture locations with an AutoDelta guide on the global sites', () => {
    setSeed(0);
    const data = [-2.2, -1.9, -2.4, -1.6, 2.1, 1.8, 2.5, 2.0, 2.3, 1.7];
    const y = tf.tensor1d(data);
    const model = (obs: tf.Tensor): void => {
      const locs = ppl.sample('locs', new D.Normal(tf.zeros([2]), 5).toEvent(1));
      ppl.plate('data', data.length, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: [0.4, 0.6] }), ENUM);
        ppl.sample('y', new D.Normal(tf.gather(locs, tf.cast(z, 'int32')), 0.5), { obs });
      });
    };
    const guide = new ppl.AutoDelta(model, { initLoc: () => tf.tensor1d([-1, 1]) });
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.1), new ppl.TraceEnumELBO());
    for (let i = 0; i < 150; i++) svi.step(y);
    const m = guide.median().locs as tf.Tensor;
    const got = Array.from(m.dataSync());
    m.dispose();
    expect(got[0]).toBeCloseTo(-2.02, 1);
    expect(got[1]).toBeCloseTo(2.06, 1);
    guide.dispose();
    y.dispose();
  });

  it("Pyro's GMM tutorial: configEnumerate, AutoDelta of block(model, expose) gives its MAP", () => {
    // pyro.ai/examples/gmm: data [0, 1, 10, 11, 12], K = 2; the tutorial prints the MAP
    // weights = [0.375, 0.625], locs = [0.49, 10.98], scale = 0.65
    setSeed(0);
    const data = tf.tensor1d([0, 1, 10, 11, 12]);
    const conc = tf.fill([2], 0.5);
    const model = ppl.configEnumerate((d: tf.Tensor): void => {
      const weights = ppl.sample('weights', new D.Dirichlet(conc));
      const scale = ppl.sample('scale', new D.LogNormal(0, 2));
      const locs = ppl.plate('components', 2, () => ppl.sample('locs', new D.Normal(0, 10)));
      ppl.plate('data', 5, () => {
        const a = ppl.sample('assignment', new D.Categorical({ probs: weights }));
        ppl.sample('obs', new D.Normal(tf.gather(locs, tf.cast(a, 'int32')), scale), { obs: d });
      });
    });
    // the tutorial's init: equal weights, scale sqrt(var / 2), one location per cluster
    const init: Record<string, () => tf.Tensor> = {
      weights: () => tf.tensor1d([0.5, 0.5]),
      scale: () => tf.scalar(Math.sqrt(26.5 / 2)),
      locs: () => tf.tensor1d([0, 10]),
    };
    const guide = new ppl.AutoDelta(ppl.block(model, { expose: ['weights', 'locs', 'scale'] }), {
      initLoc: (name: string) => (init[name] as () => tf.Tensor)(),
    });
    const svi = new ppl.SVI(
      model,
      guide,
      tf.train.adam(0.1, 0.8, 0.99),
      new ppl.TraceEnumELBO({ maxPlateNesting: 1 }),
    );
    for (let i = 0; i < 200; i++) svi.step(data);
    const m = guide.median();
    expect(m.weights).toBeAllclose([0.375, 0.625], { atol: 0.005 });
    expect(m.locs).toBeAllclose([0.49, 10.98], { atol: 0.01 });
    expect(m.scale).toBeAllclose(0.65, { atol: 0.005 });
    // the assignments are enumerated, not guided
    expect(Object.keys(m).sort()).toEqual(['locs', 'scale', 'weights']);
    tf.dispose([...Object.values(m), data, conc]);
    guide.dispose();
  });

  it('refuses more enumerated dims than tfjs kernels handle, naming the site', () => {
    const model = (): void => {
      const n = ppl.maxEnumRank() + 1; // 6 on webgl/webgpu, 16 on cpu and wasm
      for (let t = 0; t < n; t++) ppl.sample(`b${t}`, new D.Bernoulli({ probs: 0.5 }), ENUM);
    };
    expect(() => new ppl.TraceEnumELBO().loss(model, noGuide)).toThrow(
      new RegExp(`'b${ppl.maxEnumRank()}'`),
    );
  });

  it('names the site whose support cannot be enumerated', () => {
    const model = (): void => {
      ppl.sample('n', new D.Poisson(3), ENUM);
    };
    expect(() => new ppl.TraceEnumELBO().loss(model, noGuide)).toThrow(/'n'/);
  });
});
