/**
 * Audit (NumPyro parity): `Predictive` from posterior samples (NumPyro's
 * `Predictive(model, posterior_samples, num_samples, return_sites, batch_ndims)`) and
 * `logLikelihood` (NumPyro's `log_likelihood`), against float64 references and MC within SE.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl, setSeed } from '../../../src/index.js';
import { expectArgumentErrorNaming } from '../../helpers.js';

const { sample } = ppl;
const N = 4;
const xs = [-1, 0, 0.5, 2];
const ys = [-1.2, 0.4, 0.9, 3.1];
const LOG2PI = Math.log(2 * Math.PI);

// regression with a deterministic mean and a second observed site
function model(x: tf.Tensor, y?: tf.Tensor, z?: tf.Tensor): void {
  const a = sample('a', new D.Normal(0, 1));
  const b = sample('b', new D.Normal(0, 1));
  const sigma = sample('sigma', new D.HalfNormal(1));
  const m = ppl.deterministic('m', tf.add(a, tf.mul(b, x)));
  ppl.plate('data', N, () => {
    sample('y', new D.Normal(m, sigma), { obs: y });
  });
  sample('z', new D.Poisson(tf.exp(a)), { obs: z });
}

// fixed "posterior" draws (not MCMC output), float32-exact values
const S = 400;
const post = (() => {
  const a: number[] = [];
  const b: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < S; i++) {
    a.push(Math.fround(0.1 + 0.3 * Math.sin(i)));
    b.push(Math.fround(1 + 0.2 * Math.cos(3 * i)));
    s.push(Math.fround(0.5 + (0.4 * ((i * 7) % 11)) / 11));
  }
  return { a, b, s };
})();

describe('Predictive from posterior samples', () => {
  it('default return sites: the observed and deterministic sites, not the given latents; y standardized is N(0, 1)', () => {
    const x = tf.tensor1d(xs);
    const ps = { a: tf.tensor1d(post.a), b: tf.tensor1d(post.b), sigma: tf.tensor1d(post.s) };
    const before = tf.memory().numTensors;
    setSeed(3);
    const out = new ppl.Predictive(model, { posteriorSamples: ps }).call(x);
    expect(Object.keys(out).sort()).toEqual(['m', 'y', 'z']);
    expect(out.y!.shape).toEqual([S, N]);
    expect(out.m!.shape).toEqual([S, N]);
    expect(out.z!.shape).toEqual([S]);
    const y = out.y!.arraySync() as number[][];
    const m = out.m!.arraySync() as number[][];
    const zs: number[] = [];
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < N; j++) {
        expect(m[i]![j]).toBeCloseTo(post.a[i]! + post.b[i]! * xs[j]!, 5);
        zs.push((y[i]![j]! - m[i]![j]!) / post.s[i]!);
      }
    }
    const mean = zs.reduce((p, v) => p + v, 0) / zs.length;
    const v = zs.reduce((p, w) => p + (w - mean) ** 2, 0) / (zs.length - 1);
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(zs.length));
    expect(Math.abs(v - 1)).toBeLessThan(4 * Math.sqrt(2 / zs.length));
    // z ~ Poisson(exp(a)): E[z - exp(a)] = 0, var = mean exp(a)
    const z = out.z!.dataSync();
    let dz = 0;
    let vz = 0;
    for (let i = 0; i < S; i++) {
      dz += z[i]! - Math.exp(post.a[i]!);
      vz += Math.exp(post.a[i]!);
    }
    expect(Math.abs(dz)).toBeLessThan(4 * Math.sqrt(vz));
    tf.dispose(Object.values(out));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ...Object.values(ps)]);
  });

  it('returnSites naming a latent returns the given draws exactly; batchNdims 2 keeps [C, D]', () => {
    const x = tf.tensor1d(xs);
    const ps = {
      a: tf.tensor2d(post.a.slice(0, 40), [4, 10]),
      b: tf.tensor2d(post.b.slice(0, 40), [4, 10]),
      sigma: tf.tensor2d(post.s.slice(0, 40), [4, 10]),
    };
    const out = new ppl.Predictive(model, {
      posteriorSamples: ps,
      returnSites: ['a', 'y'],
      batchNdims: 2,
    }).call(x);
    expect(Object.keys(out).sort()).toEqual(['a', 'y']);
    expect(out.y!.shape).toEqual([4, 10, N]);
    expect(out.a!.shape).toEqual([4, 10]);
    expect(Array.from(out.a!.dataSync())).toEqual(post.a.slice(0, 40));
    tf.dispose([x, ...Object.values(ps), ...Object.values(out)]);
  });

  it('parallel: true gives the same shapes and distribution as serial draws', () => {
    const x = tf.tensor1d(xs);
    const ps = { a: tf.tensor1d(post.a), b: tf.tensor1d(post.b), sigma: tf.tensor1d(post.s) };
    const out = new ppl.Predictive(model, {
      posteriorSamples: ps,
      parallel: true,
      returnSites: ['y', 'm'],
    }).call(x);
    expect(out.y!.shape).toEqual([S, N]);
    const y = out.y!.arraySync() as number[][];
    const m = out.m!.arraySync() as number[][];
    const zs = y.flatMap((r, i) => r.map((v, j) => (v - m[i]![j]!) / post.s[i]!));
    const mean = zs.reduce((p, v) => p + v, 0) / zs.length;
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(zs.length));
    tf.dispose([x, ...Object.values(ps), ...Object.values(out)]);
  });

  it('prior predictive (numSamples only): y moments match the closed form within MC SE', () => {
    const x = tf.tensor1d([2]);
    const one = (xx: tf.Tensor): void => {
      const a = sample('a', new D.Normal(0, 1));
      const b = sample('b', new D.Normal(0, 1));
      const s = sample('sigma', new D.HalfNormal(1));
      sample('y', new D.Normal(tf.add(a, tf.mul(b, xx)), s));
    };
    setSeed(9);
    const n = 2000;
    const out = new ppl.Predictive(one, { numSamples: n }).call(x);
    expect(out.y!.shape).toEqual([n, 1]);
    const y = Array.from(out.y!.dataSync());
    // Var y = 1 + 4 + E sigma^2 = 6, E y = 0; fourth moment finite
    const mean = y.reduce((p, v) => p + v, 0) / n;
    const v = y.reduce((p, w) => p + (w - mean) ** 2, 0) / (n - 1);
    expect(Math.abs(mean)).toBeLessThan(4 * Math.sqrt(6 / n));
    expect(Math.abs(v - 6)).toBeLessThan(4 * 6 * Math.sqrt(3 / n));
    tf.dispose([x, ...Object.values(out)]);
  });

  it('bad options are ArgumentErrors naming the option, before any run', () => {
    const ps = { a: tf.zeros([5]), b: tf.zeros([6]) };
    expectArgumentErrorNaming(
      () => new ppl.Predictive(model, { posteriorSamples: ps }),
      'posteriorSamples',
    );
    const ok = { a: tf.zeros([5]) };
    expectArgumentErrorNaming(
      () => new ppl.Predictive(model, { posteriorSamples: ok, numSamples: 7 }),
      'numSamples',
    );
    expectArgumentErrorNaming(
      () => new ppl.Predictive(model, { posteriorSamples: ok, batchNdims: 3 } as never),
      'batchNdims',
    );
    expectArgumentErrorNaming(
      () => new ppl.Predictive(model, { posteriorSamples: ok, returnSites: 'y' } as never),
      'returnSites',
    );
    expectArgumentErrorNaming(
      () => new ppl.Predictive(model, { return_sites: ['y'] } as never),
      'return_sites',
    );
    expectArgumentErrorNaming(() => new ppl.Predictive(model, { numSamples: 0 }), 'numSamples');
    tf.dispose([...Object.values(ps), ok.a]);
  });
});

describe('logLikelihood (NumPyro log_likelihood)', () => {
  it('per datum and per draw, every observed site, against float64', () => {
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(ys);
    const z = tf.scalar(2);
    const ps = { a: tf.tensor1d(post.a), b: tf.tensor1d(post.b), sigma: tf.tensor1d(post.s) };
    const before = tf.memory().numTensors;
    const ll = ppl.logLikelihood(model, ps, x, y, z);
    expect(Object.keys(ll).sort()).toEqual(['y', 'z']);
    expect(ll.y!.shape).toEqual([S, N]);
    expect(ll.z!.shape).toEqual([S]);
    const ly = ll.y!.arraySync() as number[][];
    const lz = ll.z!.dataSync();
    for (let i = 0; i < S; i += 7) {
      for (let j = 0; j < N; j++) {
        const mu = post.a[i]! + post.b[i]! * xs[j]!;
        const s = post.s[i]!;
        const ref = -0.5 * LOG2PI - Math.log(s) - (ys[j]! - mu) ** 2 / (2 * s * s);
        expect(ly[i]![j]).toBeCloseTo(ref, 4);
      }
      const rate = Math.exp(post.a[i]!);
      expect(lz[i]).toBeCloseTo(2 * Math.log(rate) - rate - Math.log(2), 4);
    }
    tf.dispose(Object.values(ll));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, z, ...Object.values(ps)]);
  });

  it('batchNdims 2: [C, D, N], the same numbers as the flat draws', () => {
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(ys);
    const z = tf.scalar(1);
    const flat = {
      a: tf.tensor1d(post.a.slice(0, 30)),
      b: tf.tensor1d(post.b.slice(0, 30)),
      sigma: tf.tensor1d(post.s.slice(0, 30)),
    };
    const grouped = Object.fromEntries(
      Object.entries(flat).map(([k, v]) => [k, tf.reshape(v, [3, 10])]),
    );
    const l1 = ppl.logLikelihood(model, flat, x, y, z);
    const l2 = ppl.logLikelihood(model, { posteriorSamples: grouped, batchNdims: 2 }, x, y, z);
    expect(l2.y!.shape).toEqual([3, 10, N]);
    const a1 = Array.from(l1.y!.dataSync());
    const a2 = Array.from(l2.y!.dataSync());
    a1.forEach((v, i) => expect(a2[i]).toBeCloseTo(v, 5));
    tf.dispose([
      x,
      y,
      z,
      ...Object.values(flat),
      ...Object.values(grouped),
      ...Object.values(l1),
      ...Object.values(l2),
    ]);
  });

  it('bad draws are ArgumentErrors naming posteriorSamples or batchNdims', () => {
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(ys);
    const bad = { a: tf.zeros([5]), b: tf.zeros([4]), sigma: tf.ones([5]) };
    expectArgumentErrorNaming(() => ppl.logLikelihood(model, bad, x, y), 'posteriorSamples');
    expectArgumentErrorNaming(
      () =>
        ppl.logLikelihood(
          model,
          { posteriorSamples: { a: tf.zeros([5]) }, batchNdims: 0 } as never,
          x,
          y,
        ),
      'batchNdims',
    );
    tf.dispose([x, y, ...Object.values(bad)]);
  });
});

describe('Predictive and logLikelihood from an MCMC run (the NumPyro workflow)', () => {
  it('conjugate normal mean: posterior predictive mean and variance match the closed form', async () => {
    // mu ~ N(0, 1), y_i ~ N(mu, 0.5): posterior N(m, v); predictive of a new y: N(m, v + 0.25)
    const data = [0.9, 1.4, 0.3, 1.1, 0.8];
    const prec = 1 + data.length / 0.25;
    const v = 1 / prec;
    const m = (data.reduce((p, w) => p + w, 0) / 0.25) * v;
    const mdl = (y?: tf.Tensor): void => {
      const mu = sample('mu', new D.Normal(0, 1));
      ppl.plate('data', y ? data.length : 1, () => sample('y', new D.Normal(mu, 0.5), { obs: y }));
    };
    const y = tf.tensor1d(data);
    const mc = new ppl.MCMC(new ppl.NUTS(mdl), {
      numSamples: 400,
      warmupSteps: 300,
      numChains: 2,
      seed: 4,
      progressBar: false,
    });
    await mc.run(y);
    const samples = mc.getSamples();
    setSeed(1);
    const pred = new ppl.Predictive(mdl, { posteriorSamples: samples }).call();
    const p = Array.from(pred.y!.dataSync());
    expect(p.length).toBe(800);
    const ess = ppl.mcmc.essBulk(
      mc.getSamples({ groupByChain: true }).mu!.arraySync() as number[][],
    );
    const pm = p.reduce((s, w) => s + w, 0) / p.length;
    const pv = p.reduce((s, w) => s + (w - pm) ** 2, 0) / (p.length - 1);
    expect(Math.abs(pm - m)).toBeLessThan(4 * Math.sqrt(v / ess + 0.25 / p.length));
    expect(Math.abs(pv - (v + 0.25))).toBeLessThan(
      4 * (v + 0.25) * Math.sqrt(2 / Math.min(ess, p.length)) + 0.02,
    );
    const ll = ppl.logLikelihood(mdl, samples, y);
    expect(ll.y!.shape).toEqual([800, data.length]);
    tf.dispose([y, ...Object.values(samples), ...Object.values(pred), ...Object.values(ll)]);
  }, 30000);
});
