/**
 * HMC/NUTS with discrete latent sites summed out of the potential, and `inferDiscrete` /
 * `Predictive({inferDiscrete})` recovering them, against brute-force sums over every discrete
 * configuration, finite differences and a grid integration of a mixture posterior.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Bernoulli,
  Categorical,
  HalfNormal,
  Normal,
  Poisson,
  Uniform,
} from '../../../src/distributions/index.js';
import { deterministic } from '../../../src/ppl/deterministic.js';
import { condition } from '../../../src/ppl/handlers/condition.js';
import { maxEnumRank } from '../../../src/ppl/handlers/enum_support.js';
import { plate } from '../../../src/ppl/handlers/plate.js';
import { trace } from '../../../src/ppl/handlers/trace.js';
import { inferDiscrete } from '../../../src/ppl/infer/infer_discrete.js';
import { Predictive } from '../../../src/ppl/infer/predictive.js';
import {
  ChainRng,
  MCMC,
  ModelPotential,
  NUTS,
  compilePotential,
  initialPoint,
} from '../../../src/ppl/mcmc/index.js';
import { sample } from '../../../src/ppl/runtime.js';
import { clearSeed, setSeed } from '../../../src/utils/seed.js';
import { finiteDiff } from '../../helpers.js';

afterEach(() => clearSeed());

const LOG_2PI = Math.log(2 * Math.PI);
const logN = (x: number, m: number, s: number): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LOG_2PI;
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
};
/** Every tuple of `n` values in `0..k-1`. */
function tuples(n: number, k: number): number[][] {
  if (n === 0) return [[]];
  return tuples(n - 1, k).flatMap((t) => Array.from({ length: k }, (_, v) => [...t, v]));
}

// ---------------------------------------------------------------------------------------------
// (a) a global Bernoulli g, a continuous latent depending on it, a positive latent, and a plate of
// Categorical assignments depending on g
const ya = [0.4, -1.3, 2.1];
const zProbs = [
  [0.2, 0.5, 0.3],
  [0.6, 0.1, 0.3],
];
const offsets = [-1, 0, 1.5];

function modelA(obs: tf.Tensor): void {
  const g = sample('g', new Bernoulli({ probs: 0.35 }));
  const mu = sample('mu', new Normal(tf.sub(tf.mul(g, 2), 1), 1));
  const s = sample('s', new HalfNormal(1.5));
  const probs = tf.gather(tf.tensor2d(zProbs), tf.cast(g, 'int32'));
  plate('data', ya.length, () => {
    const z = sample('z', new Categorical({ probs }));
    const loc = tf.add(mu, tf.gather(tf.tensor1d(offsets), tf.cast(z, 'int32')));
    sample('y', new Normal(loc, s), { obs });
  });
}

/** `U(mu, log s)` of model A by brute force over g and the 27 assignments, in float64. */
function bruteU([mu, u]: number[]): number {
  const s = Math.exp(u as number);
  const terms: number[] = [];
  for (const g of [0, 1]) {
    const base =
      Math.log(g === 1 ? 0.35 : 0.65) +
      logN(mu as number, 2 * g - 1, 1) +
      Math.log(2) +
      logN(s, 0, 1.5);
    for (const zs of tuples(ya.length, 3)) {
      let lp = base;
      zs.forEach((z, i) => {
        lp += Math.log(zProbs[g]![z]!) + logN(ya[i]!, (mu as number) + offsets[z]!, s);
      });
      terms.push(lp);
    }
  }
  return -(lse(terms) + (u as number));
}

// ---------------------------------------------------------------------------------------------
// (b, c) a two-component 1-D Gaussian mixture: known weights, unit scales, N(-2|2, 1.5) priors on
// the locations, a per-datum assignment summed out
const W = [0.3, 0.7];
const PRIOR = [-2, 2];
const PRIOR_SD = 1.5;
const ymix = ((): number[] => {
  let st = 12345;
  const u = (): number => (st = (st * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: 30 }, () => {
    const c = u() < W[0]! ? PRIOR[0]! : PRIOR[1]!;
    return c + Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
  });
})();

function mixture(obs: tf.Tensor): void {
  const locs = sample('locs', new Normal(tf.tensor1d(PRIOR), PRIOR_SD).toEvent(1));
  deterministic('spread', tf.sub(tf.gather(locs, 1), tf.gather(locs, 0)));
  plate('data', obs.shape[0] as number, () => {
    const z = sample('z', new Categorical({ probs: W }));
    const loc = tf.gather(locs, tf.cast(z, 'int32'));
    deterministic('loc', loc); // depends on z: not stored with the draws
    sample('y', new Normal(loc, 1), { obs });
  });
}

/** `p(z_i = 1 | y_i, locs)` of the mixture. */
function pOne(y: number, l0: number, l1: number): number {
  const a = Math.log(W[0]!) + logN(y, l0, 1);
  const b = Math.log(W[1]!) + logN(y, l1, 1);
  return 1 / (1 + Math.exp(a - b));
}

/** Posterior means and sds of the two locations by a 401 x 401 grid over [-6, 6]^2. */
function gridReference(ys: number[]): { mean: number[]; sd: number[] } {
  const G = 401;
  const h = 12 / (G - 1);
  const lps = new Float64Array(G * G);
  let mx = -Infinity;
  for (let i = 0; i < G; i++) {
    for (let j = 0; j < G; j++) {
      const a = -6 + i * h;
      const b = -6 + j * h;
      let lp = logN(a, PRIOR[0]!, PRIOR_SD) + logN(b, PRIOR[1]!, PRIOR_SD);
      for (const v of ys)
        lp += Math.log(W[0]! * Math.exp(logN(v, a, 1)) + W[1]! * Math.exp(logN(v, b, 1)));
      lps[i * G + j] = lp;
      mx = Math.max(mx, lp);
    }
  }
  let z = 0;
  const m = new Float64Array(2);
  const q = new Float64Array(2);
  for (let i = 0; i < G; i++) {
    for (let j = 0; j < G; j++) {
      const p = Math.exp((lps[i * G + j] as number) - mx);
      const a = -6 + i * h;
      const b = -6 + j * h;
      z += p;
      m[0] = (m[0] as number) + p * a;
      m[1] = (m[1] as number) + p * b;
      q[0] = (q[0] as number) + p * a * a;
      q[1] = (q[1] as number) + p * b * b;
    }
  }
  const mean = Array.from(m, (v) => v / z);
  return { mean, sd: Array.from(q, (v, k) => Math.sqrt(v / z - (mean[k] as number) ** 2)) };
}

describe('MCMC with discrete latent sites summed out (enumeration)', () => {
  it('(a) the potential is -log of the brute-force sum over all discrete configurations; its gradient matches finite differences; the replay agrees', () => {
    const obs = tf.tensor1d(ya);
    const { sites, enumeration } = initialPoint(modelA, [obs], 'uniform', new ChainRng(0));
    expect(sites.map((s) => s.name)).toEqual(['mu', 's']);
    expect(enumeration?.sites).toEqual(['g', 'z']);
    expect(enumeration?.maxPlateNesting).toBe(1);
    const pot = new ModelPotential(modelA, [obs], sites, enumeration);
    const before = tf.memory().numTensors;
    for (const z of [
      [0.3, -0.2],
      [1.7, 0.9],
      [-1.1, 0.1],
    ]) {
      const { value, grad } = pot.evaluate(Float64Array.from(z));
      const want = bruteU(z);
      expect(Math.abs(value - want)).toBeLessThan(2e-5 * Math.max(1, Math.abs(want)));
      const fd = finiteDiff(bruteU, z, 1e-5);
      fd.forEach((g, i) => expect(Math.abs((grad[i] as number) - g)).toBeLessThan(1e-3));
      // the recorded, replayed potential (compile: 'auto' default) agrees in float64
      const cp = compilePotential(pot as ModelPotential<unknown[]>, Float64Array.from(z));
      expect('potential' in cp).toBe(true);
      if ('potential' in cp) {
        const r = cp.potential.valueAndGrad(Float64Array.from(z));
        expect(Math.abs(r.value - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
        fd.forEach((g, i) => expect(Math.abs((r.grad[i] as number) - g)).toBeLessThan(1e-4));
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    obs.dispose();
  });

  it('(b) NUTS on a 2-component Gaussian mixture matches a grid integration of the location posterior (within MC error from ESS); (e) no tensors leak', async () => {
    const y = tf.tensor1d(ymix);
    const ref = gridReference(ymix);
    const before = tf.memory().numTensors;
    const mcmc = new MCMC(new NUTS(mixture), {
      numSamples: 500,
      warmupSteps: 300,
      seed: 1,
      progressBar: false,
    });
    await mcmc.run(y);
    expect(mcmc.getExtraFields()[0]?.compiled).toBe(true);
    const sm = mcmc.summary().locs!;
    for (let k = 0; k < 2; k++) {
      const e = sm.elements[k]!;
      const se = ref.sd[k]! / Math.sqrt(e.essBulk);
      expect(e.essBulk).toBeGreaterThan(100);
      expect(Math.abs(e.mean - ref.mean[k]!)).toBeLessThan(4 * se);
      expect(Math.abs(e.sd - ref.sd[k]!)).toBeLessThan(0.2 * ref.sd[k]!);
    }
    const s = mcmc.getSamples();
    // the deterministic site that does not depend on z is stored, the one that does is not
    expect(Object.keys(s).sort()).toEqual(['locs', 'spread']);
    tf.dispose(Object.values(s));
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  }, 60_000);

  it('(c) Predictive({inferDiscrete}) draws each assignment from its exact conditional given the drawn locations; temperature 0 gives its argmax', async () => {
    const y = tf.tensor1d(ymix);
    const mcmc = new MCMC(new NUTS(mixture), {
      numSamples: 300,
      warmupSteps: 200,
      seed: 2,
      progressBar: false,
    });
    await mcmc.run(y);
    const post = mcmc.getSamples();
    const locs = post.locs!.arraySync() as number[][];
    const before = tf.memory().numTensors;
    setSeed(7);
    const draws = new Predictive(mixture, {
      posteriorSamples: post,
      inferDiscrete: true,
      returnSites: ['z', 'loc'],
    }).call(y);
    const z = draws.z!.arraySync() as number[][];
    expect(draws.z!.shape).toEqual([300, ymix.length]);
    // the deterministic site depending on z is recomputed at the drawn z
    const loc = draws.loc!.arraySync() as number[][];
    expect(loc[5]![3]).toBeCloseTo(locs[5]![z[5]![3]!]!, 5);
    const D = z.length;
    ymix.forEach((yi, i) => {
      let freq = 0;
      let exact = 0;
      let v = 0;
      for (let d = 0; d < D; d++) {
        const p = pOne(yi, locs[d]![0]!, locs[d]![1]!);
        freq += z[d]![i]!;
        exact += p;
        v += p * (1 - p);
      }
      expect(Math.abs(freq - exact) / D).toBeLessThan((4 * Math.sqrt(v)) / D + 1e-9);
    });
    const map = new Predictive(mixture, {
      posteriorSamples: post,
      inferDiscrete: { temperature: 0 },
      returnSites: ['z'],
    }).call(y);
    const zm = map.z!.arraySync() as number[][];
    for (let d = 0; d < D; d += 7) {
      ymix.forEach((yi, i) => {
        expect(zm[d]![i]).toBe(pOne(yi, locs[d]![0]!, locs[d]![1]!) > 0.5 ? 1 : 0);
      });
    }
    tf.dispose([...Object.values(draws), ...Object.values(map)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(post));
    y.dispose();
  }, 60_000);

  it('(c) inferDiscrete samples a chain of global sites and plate-local sites jointly from the brute-force posterior; temperature 0 is the joint argmax', () => {
    // g -> z_i (plate of 2, K = 3); x0 -> x1 (a chain); observations of each
    const yz = [0.7, -0.4];
    const trans = [
      [0.8, 0.2],
      [0.3, 0.7],
    ];
    const model = (): void => {
      const g = sample('g', new Bernoulli({ probs: 0.4 }));
      const x0 = sample('x0', new Bernoulli({ probs: 0.5 }));
      sample('o0', new Normal(tf.mul(x0, 1.5), 1), { obs: 1.1 });
      const x1 = sample(
        'x1',
        new Categorical({ probs: tf.gather(tf.tensor2d(trans), tf.cast(x0, 'int32')) }),
      );
      sample('o1', new Normal(tf.add(tf.mul(x1, 1.5), tf.mul(g, 0.5)), 1), { obs: 0.2 });
      const probs = tf.gather(tf.tensor2d(zProbs), tf.cast(g, 'int32'));
      plate('data', 2, () => {
        const z = sample('z', new Categorical({ probs }));
        const loc = tf.gather(tf.tensor1d(offsets), tf.cast(z, 'int32'));
        sample('y', new Normal(loc, 0.8), { obs: tf.tensor1d(yz) });
      });
    };
    const key = (c: number[]): string => c.join(',');
    const post = new Map<string, number>();
    const logs: { c: number[]; lp: number }[] = [];
    for (const g of [0, 1]) {
      for (const x0 of [0, 1]) {
        for (const x1 of [0, 1]) {
          for (const zs of tuples(2, 3)) {
            let lp =
              Math.log(g === 1 ? 0.4 : 0.6) +
              Math.log(0.5) +
              logN(1.1, 1.5 * x0, 1) +
              Math.log(trans[x0]![x1]!) +
              logN(0.2, 1.5 * x1 + 0.5 * g, 1);
            zs.forEach((z, i) => (lp += Math.log(zProbs[g]![z]!) + logN(yz[i]!, offsets[z]!, 0.8)));
            logs.push({ c: [g, x0, x1, ...zs], lp });
          }
        }
      }
    }
    const norm = lse(logs.map((l) => l.lp));
    for (const l of logs) post.set(key(l.c), Math.exp(l.lp - norm));
    const read = (fn: () => void): number[] =>
      tf.tidy(() => {
        const tr = trace(fn).getTrace();
        const out = ['g', 'x0', 'x1'].map((n) => tr.value(n).dataSync()[0] as number);
        out.push(...Array.from(tr.value('z').dataSync()));
        tr.dispose();
        return out;
      });
    const before = tf.memory().numTensors;
    setSeed(11);
    const S = 500;
    const counts = new Map<string, number>();
    const sampler = inferDiscrete(model, { maxPlateNesting: 1 });
    for (let s = 0; s < S; s++) {
      const k = key(read(sampler));
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const [k, p] of post) {
      const f = (counts.get(k) ?? 0) / S;
      expect(Math.abs(f - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / S) + 1.5 / S);
    }
    const best = logs.reduce((a, b) => (b.lp > a.lp ? b : a));
    expect(read(inferDiscrete(model, { temperature: 0 }))).toEqual(best.c);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('vectorized chains give the draws of sequential ones (tfjs potential, one point at a time); parallel ones those of the replayed potential', async () => {
    const y = tf.tensor1d(ymix.slice(0, 8));
    const run = async (
      chainMethod: 'sequential' | 'vectorized' | 'parallel',
      compile: boolean,
    ): Promise<number[]> => {
      const m = new MCMC(new NUTS(mixture, { compile }), {
        numSamples: 8,
        warmupSteps: 8,
        numChains: 2,
        chainMethod,
        seed: 3,
        progressBar: false,
      });
      await m.run(y);
      const s = m.getSamples();
      const out = Array.from(s.locs!.dataSync());
      tf.dispose(Object.values(s));
      return out;
    };
    expect(await run('vectorized', false)).toEqual(await run('sequential', false));
    expect(await run('parallel', true)).toEqual(await run('sequential', true));
    y.dispose();
  }, 60_000);

  it('(d) refuses what it cannot sum out, naming the site and the fix', async () => {
    const run = (model: () => void): Promise<void> =>
      new MCMC(new NUTS(model), { numSamples: 5, warmupSteps: 5, progressBar: false }).run();
    const mu = (): tf.Tensor => sample('mu', new Normal(0, 1));
    const before = tf.memory().numTensors;
    // an infinite support (Poisson)
    await expect(
      run(() => {
        const n = sample('n', new Poisson(3));
        sample('y', new Normal(tf.add(mu(), n), 1), { obs: 2 });
      }),
    ).rejects.toThrow(/site 'n' has the discrete support 'nonnegativeInteger'.*finite support/);
    // a site outside the plate of the enumerated site it uses (the plates do not nest)
    await expect(
      run(() => {
        const m = mu();
        const z = plate('a', 3, () => sample('z', new Bernoulli({ probs: 0.5 })));
        sample('y', new Normal(tf.add(m, z), 1), { obs: 0.3 });
      }),
    ).rejects.toThrow(/e:z could not be summed out/);
    // more enumerated dims than tfjs kernels allow
    await expect(
      run(() => {
        let t = mu();
        for (let i = 0; i <= maxEnumRank(); i++) {
          t = tf.add(t, sample(`b${i}`, new Bernoulli({ probs: 0.5 })));
        }
        sample('y', new Normal(t, 1), { obs: 0.3 });
      }),
    ).rejects.toThrow(new RegExp(`'b${maxEnumRank()}' needs batch dim -${maxEnumRank() + 1}`));
    // a continuous support depending on a discrete site
    await expect(
      run(() => {
        const z = sample('z', new Bernoulli({ probs: 0.5 }));
        const s = sample('s', new Uniform(0, tf.add(z, 1)));
        sample('y', new Normal(0, s), { obs: 0.3 });
      }),
    ).rejects.toThrow(/site 's'.*depends on an enumerated discrete site/);
    // sequential enumeration, and nothing continuous to sample
    await expect(
      run(() => {
        const z = sample('z', new Bernoulli({ probs: 0.5 }), {
          infer: { enumerate: 'sequential' },
        });
        sample('y', new Normal(tf.add(mu(), z), 1), { obs: 0.3 });
      }),
    ).rejects.toThrow(/'z' asks for enumerate: 'sequential'/);
    await expect(
      run(() => {
        const z = sample('z', new Bernoulli({ probs: 0.5 }));
        sample('y', new Normal(z, 1), { obs: 0.3 });
      }),
    ).rejects.toThrow(/no continuous latent sample sites \(only the discrete 'z'/);
    expect(() => new NUTS(mixture, { maxPlateNesting: -1 })).toThrow(/maxPlateNesting/);
    expect(() => inferDiscrete(mixture, { temperature: 0.5 as 1 })).toThrow(/temperature/);
    expect(() => new Predictive(mixture, { inferDiscrete: { temp: 1 } as never })).toThrow(/temp/);
    expect(() =>
      tf.tidy(() => {
        inferDiscrete(() => {
          sample('n', new Poisson(3));
        })();
      }),
    ).toThrow(/inferDiscrete: latent site 'n'/);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('conditioning the continuous latents and calling inferDiscrete gives the exact conditional (condition + trace)', () => {
    const y = tf.tensor1d(ymix.slice(0, 5));
    const locs = tf.tensor1d([-1.5, 1]);
    const model = condition(mixture, { locs });
    const before = tf.memory().numTensors;
    setSeed(5);
    const S = 800;
    const ones = new Array<number>(5).fill(0);
    for (let s = 0; s < S; s++) {
      tf.tidy(() => {
        const tr = trace(inferDiscrete(model)).getTrace(y);
        tr.value('z')
          .dataSync()
          .forEach((b, i) => (ones[i] = (ones[i] as number) + b));
        tr.dispose();
      });
    }
    ymix.slice(0, 5).forEach((yi, i) => {
      const p = pOne(yi, -1.5, 1);
      expect(Math.abs((ones[i] as number) / S - p)).toBeLessThan(
        4 * Math.sqrt((p * (1 - p)) / S) + 1 / S,
      );
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, locs]);
  }, 60_000);

  it('on a model not conditioned on its continuous latents, the discrete sites are drawn given the continuous values returned (prior Predictive, plain trace); a continuous site depending on a discrete one is not redrawn either', () => {
    const y = tf.tensor1d(ymix.slice(0, 8));
    const before = tf.memory().numTensors;
    setSeed(5);
    // temperature 0: each z_i must be the argmax given the returned locs (the old code redrew
    // the locs in every internal run: 111 of 600 assignments were not)
    const out = new Predictive(mixture, {
      numSamples: 60,
      inferDiscrete: { temperature: 0 },
      returnSites: ['z', 'locs'],
    }).call(y);
    const z = out.z!.arraySync() as number[][];
    const locs = out.locs!.arraySync() as number[][];
    let bad = 0;
    for (let d = 0; d < 60; d++) {
      ymix.slice(0, 8).forEach((yi, i) => {
        if ((pOne(yi, locs[d]![0]!, locs[d]![1]!) > 0.5 ? 1 : 0) !== z[d]![i]) bad++;
      });
    }
    expect(bad).toBe(0);
    tf.dispose(Object.values(out));
    // g -> mu (continuous, depends on g), g -> y: the MAP of g given the returned mu
    const chained = (obs: tf.Tensor): void => {
      const g = sample('g', new Bernoulli({ probs: 0.5 }));
      const mu = sample('mu', new Normal(tf.mul(g, 3), 1));
      sample('y', new Normal(mu, 1), { obs });
    };
    for (let r = 0; r < 20; r++) {
      tf.tidy(() => {
        const tr = trace(inferDiscrete(chained, { temperature: 0 })).getTrace(tf.scalar(1.5));
        const m = tr.value('mu').dataSync()[0] as number;
        expect(tr.value('g').dataSync()[0]).toBe(logN(m, 3, 1) > logN(m, 0, 1) ? 1 : 0);
        tr.dispose();
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  }, 60_000);
});
