import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

// a mixture with known weights and locations: the assignments are the only latents, so the
// best mean-field q is the exact posterior q(z_i = k) ∝ w_k N(y_i | loc_k, 1)
const w = [0.3, 0.5, 0.2];
const locs = [-2, 0.5, 3];
const ys = [-2.5, -1.1, 0.2, 0.9, 1.8, 2.6, 3.4, -0.3];
const n = ys.length;
const mixture = (y: tf.Tensor): void => {
  ppl.plate('data', n, () => {
    const z = ppl.sample('z', new D.Categorical({ probs: w }));
    ppl.sample('y', new D.Normal(tf.gather(tf.tensor1d(locs), tf.cast(z, 'int32')), 1), { obs: y });
  });
};
function exactAssignments(): number[][] {
  return ys.map((y) => {
    const u = w.map((wk, k) => wk * Math.exp(-0.5 * (y - (locs[k] as number)) ** 2));
    const s = u.reduce((a, b) => a + b, 0);
    return u.map((v) => v / s);
  });
}

describe('AutoDiscreteParallel', { timeout: 600_000 }, () => {
  it('with TraceEnumELBO learns the exact assignment probabilities of a mixture', () => {
    setSeed(0);
    const y = tf.tensor1d(ys);
    const guide = new ppl.AutoDiscreteParallel(mixture);
    const svi = new ppl.SVI(mixture, guide, tf.train.adam(0.1), new ppl.TraceEnumELBO());
    const losses: number[] = [];
    losses.push(svi.step(y)); // creates the parameter and the optimizer's slots
    const before = tf.memory().numTensors;
    for (let i = 1; i < 600; i++) losses.push(svi.step(y));
    expect(tf.memory().numTensors).toBe(before);
    // the ELBO is exact in z: at the optimum the loss is -log p(y) (no Monte Carlo noise)
    const logEvidence = ys.reduce((acc, yi) => {
      const p = w.reduce(
        (a, wk, k) =>
          a + (wk * Math.exp(-0.5 * (yi - (locs[k] as number)) ** 2)) / Math.sqrt(2 * Math.PI),
        0,
      );
      return acc + Math.log(p);
    }, 0);
    // KL(q || p(z | y)) = loss + log p(y) >= 0, small at the optimum
    const kl = (losses.at(-1) as number) + logEvidence;
    expect(kl).toBeGreaterThan(-1e-3);
    expect(kl).toBeLessThan(0.02);
    const q = guide.probs();
    expect(q.z?.shape).toEqual([n, 3]);
    const got = q.z?.arraySync() as number[][];
    const exact = exactAssignments();
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) {
        expect(Math.abs((got[i]?.[k] as number) - (exact[i]?.[k] as number))).toBeLessThan(0.01);
      }
    }
    tf.dispose(Object.values(q));
    // Predictive draws z from q: frequencies of point 3 within Monte Carlo error
    const N = 3000;
    const pred = new ppl.Predictive(mixture, {
      guide,
      numSamples: N,
      returnSites: ['z'],
      parallel: true,
    });
    const mem = tf.memory().numTensors;
    const s = pred.call(y);
    const z = s.z?.arraySync() as number[][];
    expect(s.z?.shape).toEqual([N, n]);
    for (let k = 0; k < 3; k++) {
      const f = z.filter((row) => row[3] === k).length / N;
      const p = exact[3]?.[k] as number;
      expect(Math.abs(f - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / N) + 0.01);
    }
    tf.dispose(Object.values(s));
    expect(tf.memory().numTensors).toBe(mem);
    guide.dispose();
    y.dispose();
  });

  it('learns a Bernoulli site against its exact posterior', () => {
    setSeed(1);
    // b ~ Bernoulli(0.4); y ~ N(2b, 1): q(b = 1) = 0.4 N(y|2,1) / (0.4 N(y|2,1) + 0.6 N(y|0,1))
    const model = (y: tf.Tensor): void => {
      const b = ppl.sample('b', new D.Bernoulli({ probs: 0.4 }));
      ppl.sample('y', new D.Normal(tf.mul(b, 2), 1), { obs: y });
    };
    const y = tf.scalar(1.6);
    const guide = new ppl.AutoDiscreteParallel(model);
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.05), new ppl.TraceEnumELBO());
    for (let i = 0; i < 300; i++) svi.step(y);
    const a = 0.4 * Math.exp(-0.5 * (1.6 - 2) ** 2);
    const exact = a / (a + 0.6 * Math.exp(-0.5 * 1.6 ** 2));
    const q = guide.probs();
    expect(ppl.getParamStore().names()).toContain('AutoDiscreteParallel.b_probs');
    expect(q.b?.dataSync()[0]).toBeCloseTo(exact, 2);
    tf.dispose([...Object.values(q), y]);
    guide.dispose();
  });

  it("TraceEnumELBO's gradient in the guide's enumerated probs is the exact ELBO's", () => {
    // no score-function term for a summed-out guide site: autograd = finite differences
    const y = tf.tensor1d(ys);
    const guide = new ppl.AutoDiscreteParallel(mixture);
    const elbo = new ppl.TraceEnumELBO();
    const lossOf = (): number =>
      tf.tidy(() => elbo.differentiableLoss(mixture, guide, [y]).dataSync()[0] as number);
    lossOf(); // creates the parameter
    const v = ppl.getParamStore().unconstrained('AutoDiscreteParallel.z_probs');
    // move off the prior so that the gradient is not ~0
    v.assign(tf.tidy(() => tf.add(v, tf.mul(0.3, tf.sin(tf.range(0, v.size).reshape(v.shape))))));
    const { value, grads } = tf.variableGrads(
      () => elbo.differentiableLoss(mixture, guide, [y]),
      [v],
    );
    const g = Array.from((grads[v.name] as tf.Tensor).dataSync());
    tf.dispose([value, ...Object.values(grads)]);
    const base = Array.from(v.dataSync());
    const h = 1e-2;
    for (const j of [0, 1, 5, 9]) {
      const at = (d: number): number => {
        const x = [...base];
        x[j] = (x[j] as number) + d;
        v.assign(tf.tensor(x, v.shape));
        return lossOf();
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs((g[j] as number) - fd)).toBeLessThan(0.02 + 0.02 * Math.abs(fd));
    }
    guide.dispose();
    y.dispose();
  });

  it('composes with a continuous autoguide on the blocked model (Pyro GMM pattern)', () => {
    setSeed(2);
    const data = [-3.2, -2.9, -3.0, -2.7, 2.8, 3.1, 3.0, 3.3];
    const m = data.length;
    const gmm = (y: tf.Tensor): void => {
      const loc = ppl.sample('locs', new D.Normal(tf.zeros([2]), 10).toEvent(1));
      ppl.plate('data', m, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: [0.5, 0.5] }));
        ppl.sample('y', new D.Normal(tf.gather(loc, tf.cast(z, 'int32'), -1), 1), { obs: y });
      });
    };
    const delta = new ppl.AutoDelta(ppl.block(gmm, { hide: ['z'] }), {
      initLoc: ppl.initToValue({ locs: [-1, 1] }),
    });
    const discrete = new ppl.AutoDiscreteParallel(ppl.block(gmm, { expose: ['z'] }));
    const guide = (y: tf.Tensor): void => {
      delta.call(y);
      discrete.call(y);
    };
    const y = tf.tensor1d(data);
    const svi = new ppl.SVI(gmm, guide, tf.train.adam(0.1), new ppl.TraceEnumELBO());
    for (let i = 0; i < 300; i++) svi.step(y);
    const med = delta.median();
    const locs = Array.from(med.locs?.dataSync() ?? []);
    // the MAP locations: each cluster's mean shrunk by the N(0, 10^2) prior, n/(n + 1/100)
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const shrink = 4 / (4 + 0.01);
    expect(Math.abs((locs[0] as number) - shrink * mean(data.slice(0, 4)))).toBeLessThan(0.1);
    expect(Math.abs((locs[1] as number) - shrink * mean(data.slice(4)))).toBeLessThan(0.1);
    const q = discrete.probs();
    const qz = q.z?.arraySync() as number[][];
    qz.forEach((row, i) => expect(row[i < 4 ? 0 : 1]).toBeGreaterThan(0.99));
    tf.dispose([...Object.values(med), ...Object.values(q), y]);
    delta.dispose();
    discrete.dispose();
  });

  it('refuses continuous and unsupported sites naming them, leaking nothing', () => {
    const before = tf.memory().numTensors;
    const cont = (): void => {
      ppl.sample('mu', new D.Normal(0, 1));
    };
    expect(() => new ppl.AutoDiscreteParallel(cont).call()).toThrow(/^mu:.*discrete/);
    const pois = (): void => {
      ppl.sample('k', new D.Poisson(3));
    };
    expect(() => new ppl.AutoDiscreteParallel(pois).call()).toThrow(/^k:/);
    expect(() => new ppl.AutoDiscreteParallel(mixture, { prefx: 'a' } as never)).toThrow(/^prefx:/);
    // a model enumerating its own site while the guide enumerates another: summed as Pyro does
    // (the guide's sites rerun sequentially), ELBO = sum_z q(z) [log N(1 | z, 1)] at q = prior
    const both = (): void => {
      ppl.sample('w', new D.Bernoulli({ probs: 0.5 }), { infer: { enumerate: 'parallel' } });
      const z = ppl.sample('z', new D.Bernoulli({ probs: 0.5 }));
      ppl.sample('y', new D.Normal(z, 1), { obs: tf.scalar(1) });
    };
    const g = new ppl.AutoDiscreteParallel(ppl.block(both, { expose: ['z'] }));
    const opt = tf.train.adam(0.1);
    const svi = new ppl.SVI(both, g, opt, new ppl.TraceEnumELBO());
    const lp = (m: number): number => -0.5 * (1 - m) ** 2 - 0.5 * Math.log(2 * Math.PI);
    expect(-new ppl.TraceEnumELBO().loss(both, g)).toBeCloseTo(0.5 * (lp(0) + lp(1)), 4);
    expect(Number.isFinite(svi.step())).toBe(true);
    ppl.clearParamStore();
    g.dispose();
    opt.dispose(); // Adam's two moment accumulators
    expect(tf.memory().numTensors).toBe(before);
  });
});
