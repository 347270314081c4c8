/**
 * ConjugateReparam (Pyro's) and distributions.conjugateUpdate: the updated families and log
 * normalizers against closed forms and float64 quadrature; with the exact likelihood as guide the
 * model's log joint minus the new site's density is the log marginal likelihood at every z
 * (@stdlib betaln/gammaln references); NUTS through exact and approximate guides gives the exact
 * posterior; bad sites and guides named.
 */
import * as tf from '@tensorflow/tfjs';
import betaln from '@stdlib/math-base-special-betaln';
import gammaln from '@stdlib/math-base-special-gammaln';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const normLog = (x: number, m: number, s: number): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
const num = (t: tf.Tensor): number => t.dataSync()[0] as number;

describe('conjugateUpdate', () => {
  it('Normal x Normal: N(μ, σ) and log Z against float64 quadrature of p q', () => {
    const { updated, logNormalizer } = D.conjugateUpdate(
      new D.Normal(0.4, 1.3),
      new D.Normal(2.1, 0.6),
    );
    let z = 0;
    let m1 = 0;
    let m2 = 0;
    for (let i = 0; i < 40000; i++) {
      const x = -12 + (i + 0.5) * (24 / 40000);
      const w = Math.exp(normLog(x, 0.4, 1.3) + normLog(x, 2.1, 0.6)) * (24 / 40000);
      z += w;
      m1 += w * x;
      m2 += w * x * x;
    }
    const mean = m1 / z;
    const u = updated as D.Normal;
    expect(num(logNormalizer)).toBeCloseTo(Math.log(z), 5);
    expect(num(u.loc)).toBeCloseTo(mean, 5);
    expect(num(u.scale)).toBeCloseTo(Math.sqrt(m2 / z - mean * mean), 5);
  });

  it('Gamma x Gamma and Beta x Beta: parameters and log Z in closed form (@stdlib)', () => {
    const g = D.conjugateUpdate(new D.Gamma(2.5, 1.5), new D.Gamma(4, 3));
    const gu = g.updated as D.Gamma;
    expect(num(gu.concentration)).toBeCloseTo(5.5, 5);
    expect(num(gu.rate)).toBeCloseTo(4.5, 5);
    const ell = (a: number, b: number): number => a * Math.log(b) - gammaln(a);
    expect(num(g.logNormalizer)).toBeCloseTo(ell(2.5, 1.5) + ell(4, 3) - ell(5.5, 4.5), 4);
    const b = D.conjugateUpdate(new D.Beta(2, 3), new D.Beta(5, 1.5));
    const bu = b.updated as D.Beta;
    expect(num(bu.concentration1)).toBeCloseTo(6, 5);
    expect(num(bu.concentration0)).toBeCloseTo(3.5, 5);
    expect(num(b.logNormalizer)).toBeCloseTo(betaln(6, 3.5) - betaln(2, 3) - betaln(5, 1.5), 4);
  });

  it('refuses other pairs naming q', () => {
    expect(() => D.conjugateUpdate(new D.Normal(0, 1), new D.Gamma(1, 1))).toThrow(ArgumentError);
  });
});

describe('ConjugateReparam: the exact likelihood as guide makes the log joint constant in z', () => {
  it('Beta-Bernoulli: log joint - log u(z) = log p(x) = log B(2+k, 3+n-k) - log B(2, 3)', () => {
    const data = [1, 0, 1, 1, 0, 1, 1];
    const n = data.length;
    const k = data.reduce((a, b) => a + b, 0);
    const obs = tf.tensor1d(data);
    const model = (): void => {
      const p = ppl.sample('prob', new D.Beta(2, 3));
      ppl.plate('N', n, () => ppl.sample('obs', new D.Bernoulli(p), { obs }));
    };
    const lik = new D.Beta(1 + k, 1 + n - k);
    const rm = ppl.reparam(model, { prob: new ppl.ConjugateReparam(lik) });
    const want = betaln(2 + k, 3 + n - k) - betaln(2, 3);
    for (const z of [0.2, 0.55, 0.9]) {
      const zt = tf.scalar(z);
      const before = tf.memory().numTensors;
      const tr = ppl.trace(ppl.condition(rm, { prob_updated: zt })).getTrace();
      expect(tr.value('prob')).toBeAllclose([z]);
      const lp = tr.logProbSum();
      // u = Beta(2 + k, 3 + n - k), the exact posterior
      const logU =
        (2 + k - 1) * Math.log(z) + (3 + n - k - 1) * Math.log(1 - z) - betaln(2 + k, 3 + n - k);
      expect(num(lp) - logU).toBeCloseTo(want, 3);
      lp.dispose();
      tr.dispose();
      expect(tf.memory().numTensors).toBe(before);
      zt.dispose();
    }
    obs.dispose();
  });

  it('Gamma-Poisson in a plate of 2 rates: the same identity, summed over the plate', () => {
    const counts = [
      [3, 5, 2],
      [0, 1, 1],
    ];
    const obs = tf.tensor2d(counts);
    const model = (): void => {
      ppl.plate('G', 2, () => {
        const rate = ppl.sample('rate', new D.Gamma(2, 1));
        ppl.sample('c', new D.Poisson(tf.reshape(rate, [2, 1])).expand([2, 3]).toEvent(1), { obs });
      });
    };
    const S = counts.map((r) => r.reduce((a, b) => a + b, 0));
    const lik = new D.Gamma(tf.tensor1d(S.map((s) => s + 1)), 3);
    const rm = ppl.reparam(model, { rate: new ppl.ConjugateReparam(() => lik) });
    const logFact = counts.flat().reduce((a, c) => a + gammaln(c + 1), 0);
    // log p(x) per group: 1^2 Γ(2+S)/(Γ(2)(1+3)^(2+S)) / Π c!
    const want =
      S.reduce((a, s) => a + gammaln(2 + s) - gammaln(2) - (2 + s) * Math.log(4), 0) - logFact;
    for (const z of [
      [0.5, 2.0],
      [3.0, 0.2],
    ]) {
      const zt = tf.tensor1d(z);
      const tr = ppl.trace(ppl.condition(rm, { rate_updated: zt })).getTrace();
      const lp = num(tr.logProbSum());
      const logU = z.reduce((a, v, g) => {
        const a2 = 2 + S[g]!;
        return a + a2 * Math.log(4) - gammaln(a2) + (a2 - 1) * Math.log(v) - 4 * v;
      }, 0);
      expect(lp - logU).toBeCloseTo(want, 3);
      tr.dispose();
      zt.dispose();
    }
    obs.dispose();
  });
});

describe('NUTS through ConjugateReparam gives the exact posterior', () => {
  const y = 1.7;
  const model = (): void => {
    const z = ppl.sample('z', new D.Normal(0.5, 2));
    ppl.sample('y', new D.Normal(z, 0.7), { obs: tf.scalar(y) });
  };
  const post = { mean: 0, sd: 0 };
  {
    const v = 1 / (1 / 4 + 1 / 0.49);
    post.mean = v * (0.5 / 4 + y / 0.49);
    post.sd = Math.sqrt(v);
  }
  for (const [label, guide] of [
    ['the exact likelihood N(y, 0.7)', () => new D.Normal(y, 0.7)],
    ['an approximate guide N(1, 1.5) (the weight corrects it)', () => new D.Normal(1, 1.5)],
  ] as const) {
    it(label, async () => {
      const rm = ppl.reparam(model, { z: new ppl.ConjugateReparam(guide) });
      const mcmc = new ppl.MCMC(new ppl.NUTS(rm), {
        numSamples: 600,
        warmupSteps: 250,
        progressBar: false,
        seed: 7,
      });
      await mcmc.run();
      const s = mcmc.getSamples();
      const ess = (mcmc.summary().z_updated?.elements ?? [])[0]?.essBulk ?? 0;
      expect(ess).toBeGreaterThan(100);
      const zs = Array.from((s.z as tf.Tensor).dataSync());
      const m = zs.reduce((a, b) => a + b, 0) / zs.length;
      const sd = Math.sqrt(zs.reduce((a, b) => a + (b - m) ** 2, 0) / (zs.length - 1));
      expect(Math.abs(m - post.mean)).toBeLessThan((4.5 * post.sd) / Math.sqrt(ess));
      expect(Math.abs(sd - post.sd)).toBeLessThan((5 * post.sd) / Math.sqrt(2 * ess));
      tf.dispose(Object.values(s));
    });
  }
});

describe('ConjugateReparam: bad sites and guides are named', () => {
  const err = (fn: () => unknown): ArgumentError => {
    let e: unknown = null;
    try {
      fn();
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ArgumentError);
    return e as ArgumentError;
  };
  const run = (m: () => void, r: ppl.Reparam): unknown =>
    ppl.trace(ppl.reparam(m, { z: r })).getTrace();
  it('a guide that is not a distribution', () => {
    expect(err(() => new ppl.ConjugateReparam(3 as unknown as D.Normal)).message).toMatch(/guide/);
    const m = (): void => {
      ppl.sample('z', new D.Normal(0, 1));
    };
    const e = err(() => run(m, new ppl.ConjugateReparam((() => 5) as unknown as () => D.Normal)));
    expect(e.message).toMatch(/guide.*'z'/s);
  });
  it('another family, an observed site, a guide too large, a masked site', () => {
    const m = (): void => {
      ppl.sample('z', new D.Normal(0, 1));
    };
    expect(err(() => run(m, new ppl.ConjugateReparam(new D.Gamma(2, 1)))).message).toMatch(
      /'z'.*Normal.*Gamma/s,
    );
    const mo = (): void => {
      ppl.sample('z', new D.Normal(0, 1), { obs: tf.scalar(1) });
    };
    expect(err(() => run(mo, new ppl.ConjugateReparam(new D.Normal(0, 1)))).message).toMatch(
      /'z'.*observed/s,
    );
    const big = new D.Normal(tf.zeros([5]), 1);
    const m3 = (): void => {
      ppl.sample('z', new D.Normal(0, 1).expand([3]).toEvent(1));
    };
    expect(err(() => run(m3, new ppl.ConjugateReparam(big))).message).toMatch(/guide.*\[5\]/s);
    const mm = (): void => {
      ppl.sample('z', new D.Normal(0, 1).expand([3]).mask(tf.tensor1d([1, 0, 1], 'bool')));
    };
    expect(err(() => run(mm, new ppl.ConjugateReparam(new D.Normal(0, 1)))).message).toMatch(
      /'z'.*masked/s,
    );
  });
  it('runs without leaking tensors (toEvent site, guide broadcast)', () => {
    const m = (): void => {
      ppl.sample('z', new D.Normal(0, 1).expand([3]).toEvent(1));
    };
    const guide = new D.Normal(tf.tensor1d([0.5, 1, -1]), 0.8);
    const rm = ppl.reparam(m, { z: new ppl.ConjugateReparam(guide) });
    const shape: number[][] = [];
    expectNoLeak(() => {
      const tr = ppl.trace(rm).getTrace();
      shape.push(tr.value('z').shape);
      const lp = tr.logProbSum();
      tr.dispose();
      return lp;
    });
    expect(shape[0]).toEqual([3]);
  });
});
