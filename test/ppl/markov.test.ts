/**
 * `markov`: enumerated chains reuse their dims, so TraceEnumELBO, inferDiscrete and the
 * enumerated MCMC potential handle hidden Markov models of any length. References: the forward
 * algorithm, Viterbi and forward-backward written by hand in float64, brute force over every path
 * of short chains, finite differences.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import {
  ChainRng,
  compilePotential,
  initialPoint,
  ModelPotential,
} from '../../src/ppl/mcmc/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const ENUM = { infer: { enumerate: 'parallel' } };
const noGuide = (): void => undefined;
const LOG_2PI = Math.log(2 * Math.PI);
const logN = (x: number, m: number, s: number): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LOG_2PI;
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
};

const K = 3;
const INIT = [0.5, 0.3, 0.2];
const TRANS = [
  [0.8, 0.1, 0.1],
  [0.2, 0.7, 0.1],
  [0.15, 0.15, 0.7],
];
const LOCS = [-2, 0, 2.5];
const SD = 1;

/** A sequence of `T` noisy observations of a path that stays a few steps in each state. */
function simulate(T: number, seed: number): number[] {
  let st = seed;
  const u = (): number => (st = (st * 1103515245 + 12345) % 2147483648) / 2147483648;
  const ys: number[] = [];
  let x = 0;
  for (let t = 0; t < T; t++) {
    const r = u();
    const row = t === 0 ? INIT : (TRANS[x] as number[]);
    x = r < row[0]! ? 0 : r < row[0]! + row[1]! ? 1 : 2;
    const g = Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
    ys.push(LOCS[x]! + 1.3 * g);
  }
  return ys;
}

/** `log p(x_t = k, y_0..t)` for every t (the forward algorithm). */
function forward(ys: number[], locs: number[]): number[][] {
  const alphas: number[][] = [];
  let a = INIT.map((p, k) => Math.log(p) + logN(ys[0]!, locs[k]!, SD));
  alphas.push(a);
  for (let t = 1; t < ys.length; t++) {
    const prev = a;
    a = locs.map(
      (l, j) => lse(prev.map((ai, i) => ai + Math.log(TRANS[i]![j]!))) + logN(ys[t]!, l, SD),
    );
    alphas.push(a);
  }
  return alphas;
}
const logLik = (ys: number[], locs: number[]): number => lse(forward(ys, locs).at(-1)!);

/** `p(x_t = k | y)` for every t and `p(x_s = i, x_{s+1} = j | y)` (forward-backward). */
function posterior(ys: number[], s: number): { marg: number[][]; pair: number[][] } {
  const alphas = forward(ys, LOCS);
  const T = ys.length;
  const betas: number[][] = new Array<number[]>(T);
  betas[T - 1] = [0, 0, 0];
  for (let t = T - 2; t >= 0; t--) {
    betas[t] = [0, 1, 2].map((i) =>
      lse(
        [0, 1, 2].map(
          (j) => Math.log(TRANS[i]![j]!) + logN(ys[t + 1]!, LOCS[j]!, SD) + betas[t + 1]![j]!,
        ),
      ),
    );
  }
  const z = lse(alphas[T - 1]!);
  const marg = alphas.map((a, t) => a.map((ai, k) => Math.exp(ai + betas[t]![k]! - z)));
  const pair = [0, 1, 2].map((i) =>
    [0, 1, 2].map((j) =>
      Math.exp(
        alphas[s]![i]! +
          Math.log(TRANS[i]![j]!) +
          logN(ys[s + 1]!, LOCS[j]!, SD) +
          betas[s + 1]![j]! -
          z,
      ),
    ),
  );
  return { marg, pair };
}

/** The most probable path (Viterbi). */
function viterbi(ys: number[]): number[] {
  let d = INIT.map((p, k) => Math.log(p) + logN(ys[0]!, LOCS[k]!, SD));
  const back: number[][] = [];
  for (let t = 1; t < ys.length; t++) {
    const prev = d;
    const arg: number[] = [];
    d = LOCS.map((l, j) => {
      let best = 0;
      for (let i = 1; i < K; i++) {
        if (prev[i]! + Math.log(TRANS[i]![j]!) > prev[best]! + Math.log(TRANS[best]![j]!)) best = i;
      }
      arg.push(best);
      return prev[best]! + Math.log(TRANS[best]![j]!) + logN(ys[t]!, l, SD);
    });
    back.push(arg);
  }
  const path = [d.indexOf(Math.max(...d))];
  for (let t = ys.length - 2; t >= 0; t--) path.unshift(back[t]![path[0]!]!);
  return path;
}

/**
 * The HMM `x_t ~ Cat(TRANS[x_{t-1}])`, `y_t ~ N(locs[x_t], 1)` with the steps declared by
 * `markov` (or not), observations `ys[t]` (a number, or a tensor over a plate of sequences).
 */
function hmm(
  ys: (number | number[])[],
  locs: () => tf.Tensor,
  opts: { markov?: boolean; plate?: number } = {},
): () => void {
  const body = (): void => {
    const l = locs();
    const trans = tf.tensor2d(TRANS);
    let x: tf.Tensor | null = null;
    const steps = opts.markov === false ? ys.map((_, t) => t) : ppl.markov(ys.length);
    for (const t of steps) {
      const probs = x === null ? tf.tensor1d(INIT) : tf.gather(trans, tf.cast(x, 'int32'));
      x = ppl.sample(`x_${t}`, new D.Categorical({ probs }), ENUM);
      const y = ys[t]!;
      ppl.sample(`y_${t}`, new D.Normal(tf.gather(l, tf.cast(x, 'int32')), SD), {
        obs: typeof y === 'number' ? tf.scalar(y) : tf.tensor1d(y),
      });
    }
  };
  return opts.plate === undefined ? body : () => ppl.plate('seqs', opts.plate!, () => body());
}

describe('markov', { timeout: 600_000 }, () => {
  it('TraceEnumELBO of a 50-step HMM is minus the forward-algorithm log-likelihood (Delta guide on the locations); 2 enumeration dims; without markov it cannot run', () => {
    const T = 50;
    const ys = simulate(T, 3);
    const locsAt = [-1.8, 0.2, 2.3];
    const model = hmm(ys, () => ppl.sample('locs', new D.Normal(tf.zeros([K]), 3).toEvent(1)));
    const guide = (): void => {
      ppl.sample('locs', new ppl.Delta(tf.tensor1d(locsAt), 1));
    };
    const want = -(logLik(ys, locsAt) + locsAt.reduce((a, l) => a + logN(l, 0, 3), 0));
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 0 });
    const loss = elbo.loss(model, guide);
    expect(Math.abs(loss - want) / Math.abs(want)).toBeLessThan(1e-4);
    expectNoLeak(() => tf.tidy(() => elbo.differentiableLoss(model, guide, [])));
    // the chain alternates between two dims; x_t shares one with x_{t-2}
    const tr = ppl
      .trace(
        ppl.enumerate(
          hmm(ys, () => tf.tensor1d(LOCS)),
          -1,
        ),
      )
      .getTrace();
    const dims = ys.map((_, t) => tr.get(`x_${t}`)!.infer._enumDim);
    expect(new Set(dims)).toEqual(new Set([-1, -2]));
    expect(dims[4]).toBe(dims[2]);
    tr.dispose();
    // the same model without markov allocates a dim per step and stops at the 6th (the 16th
    // on the cpu backend)
    const plain = hmm(ys, () => tf.tensor1d(LOCS), { markov: false });
    const stop = ppl.maxEnumRank();
    expect(() => elbo.loss(plain, noGuide)).toThrow(
      new RegExp(`site 'x_${stop}': enumerating it needs batch dim -${stop + 1}`),
    );
  });

  it('the function form (a recursive step, as @pyro.markov) gives the same loss', () => {
    const T = 30;
    const ys = simulate(T, 5);
    const model = (): void => {
      const l = tf.tensor1d(LOCS);
      const trans = tf.tensor2d(TRANS);
      const step = ppl.markov((t: number, x: tf.Tensor | null): void => {
        const probs = x === null ? tf.tensor1d(INIT) : tf.gather(trans, tf.cast(x, 'int32'));
        const xt = ppl.sample(`x_${t}`, new D.Categorical({ probs }), ENUM);
        ppl.sample(`y_${t}`, new D.Normal(tf.gather(l, tf.cast(xt, 'int32')), SD), {
          obs: ys[t]!,
        });
        if (t + 1 < T) step(t + 1, xt);
      });
      step(0, null);
    };
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(model, noGuide);
    const want = -logLik(ys, LOCS);
    expect(Math.abs(loss - want) / Math.abs(want)).toBeLessThan(1e-4);
  });

  it('history 2 (a second-order HMM): brute force over every path of a short chain, a pair-state forward algorithm for a long one; 3 enumeration dims', () => {
    // p(x_t | x_{t-2} = i, x_{t-1} = j) = TRANS2[i * K + j]
    const TRANS2 = [0, 1, 2].flatMap((i) =>
      [0, 1, 2].map((j) => {
        const w = [1, 1, 1].map((_, k) => 1 + (k === i ? 2 : 0) + (k === j ? 3 : 0) + 0.1 * k);
        const s = w.reduce((a, b) => a + b, 0);
        return w.map((v) => v / s);
      }),
    );
    const model2 = (ys: number[]) => (): void => {
      const l = tf.tensor1d(LOCS);
      const t1 = tf.tensor2d(TRANS);
      const t2 = tf.tensor2d(TRANS2);
      const xs: tf.Tensor[] = [];
      for (const t of ppl.markov(ys.length, { history: 2 })) {
        const idx = (v: tf.Tensor): tf.Tensor => tf.cast(v, 'int32');
        const probs =
          t === 0
            ? tf.tensor1d(INIT)
            : t === 1
              ? tf.gather(t1, idx(xs[0]!))
              : tf.gather(
                  t2,
                  tf.add(tf.mul(idx(xs[t - 2]!), tf.scalar(K, 'int32')), idx(xs[t - 1]!)),
                );
        xs.push(ppl.sample(`x_${t}`, new D.Categorical({ probs }), ENUM));
        ppl.sample(`y_${t}`, new D.Normal(tf.gather(l, idx(xs[t]!)), SD), { obs: ys[t]! });
      }
    };
    const p = (t: number, a: number, b: number, k: number): number =>
      t === 0 ? INIT[k]! : t === 1 ? TRANS[b]![k]! : TRANS2[a * K + b]![k]!;
    // brute force, T = 6 (729 paths)
    const ys6 = simulate(6, 11);
    const paths: number[] = [];
    const rec = (t: number, a: number, b: number, lp: number): void => {
      if (t === ys6.length) return void paths.push(lp);
      for (let k = 0; k < K; k++) {
        rec(t + 1, b, k, lp + Math.log(p(t, a, b, k)) + logN(ys6[t]!, LOCS[k]!, SD));
      }
    };
    rec(0, 0, 0, 0);
    expect(paths.length).toBe(729);
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 0 });
    const loss6 = elbo.loss(model2(ys6), noGuide);
    expect(Math.abs(loss6 + lse(paths)) / Math.abs(lse(paths))).toBeLessThan(1e-4);
    // T = 40 against the forward algorithm over the pair state (x_{t-1}, x_t)
    const ys = simulate(40, 13);
    let a = new Map<string, number>();
    for (let k = 0; k < K; k++) a.set(`0,${k}`, Math.log(INIT[k]!) + logN(ys[0]!, LOCS[k]!, SD));
    for (let t = 1; t < ys.length; t++) {
      const next = new Map<string, number>();
      for (let j = 0; j < K; j++) {
        for (let k = 0; k < K; k++) {
          const terms: number[] = [];
          for (let i = 0; i < K; i++) {
            const prev = a.get(t === 1 ? `0,${j}` : `${i},${j}`);
            if (prev === undefined || (t === 1 && i > 0)) continue;
            terms.push(prev + Math.log(p(t, i, j, k)));
          }
          next.set(`${j},${k}`, lse(terms) + logN(ys[t]!, LOCS[k]!, SD));
        }
      }
      a = next;
    }
    const want = -lse([...a.values()]);
    const loss = elbo.loss(model2(ys), noGuide);
    expect(Math.abs(loss - want) / Math.abs(want)).toBeLessThan(1e-4);
    const tr = ppl.trace(ppl.enumerate(model2(ys), -1)).getTrace();
    const dims = new Set(ys.map((_, t) => tr.get(`x_${t}`)!.infer._enumDim));
    expect(dims).toEqual(new Set([-1, -2, -3]));
    tr.dispose();
  });

  it('markov inside a plate (a batch of sequences of one length) sums each sequence out', () => {
    const B = 4;
    const T = 25;
    const seqs = [1, 2, 3, 4].map((s) => simulate(T, 100 + s));
    const ys = Array.from({ length: T }, (_, t) => seqs.map((sq) => sq[t]!));
    const model = hmm(ys, () => tf.tensor1d(LOCS), { plate: B });
    const want = -seqs.reduce((acc, sq) => acc + logLik(sq, LOCS), 0);
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const loss = elbo.loss(model, noGuide);
    expect(Math.abs(loss - want) / Math.abs(want)).toBeLessThan(1e-4);
    expectNoLeak(() => tf.tidy(() => elbo.differentiableLoss(model, noGuide, [])));
  });

  it("sequences of different lengths (Pyro's HMM tutorial shape): the padded observations masked, each sequence summed out over its own length", () => {
    const lengths = [10, 25, 18];
    const T = Math.max(...lengths);
    const seqs = lengths.map((n, b) => simulate(n, 200 + b));
    const model = (): void => {
      const l = tf.tensor1d(LOCS);
      const trans = tf.tensor2d(TRANS);
      const len = tf.tensor1d(lengths, 'int32');
      ppl.plate('seqs', lengths.length, () => {
        let x: tf.Tensor | null = null;
        for (const t of ppl.markov(T)) {
          const probs = x === null ? tf.tensor1d(INIT) : tf.gather(trans, tf.cast(x, 'int32'));
          x = ppl.sample(`x_${t}`, new D.Categorical({ probs }), ENUM);
          const loc = tf.gather(l, tf.cast(x, 'int32'));
          const obs = tf.tensor1d(seqs.map((sq) => sq[t] ?? 0));
          ppl.mask(
            () => ppl.sample(`y_${t}`, new D.Normal(loc, SD), { obs }),
            tf.greater(len, t),
          )();
        }
      });
    };
    const want = -seqs.reduce((acc, sq) => acc + logLik(sq, LOCS), 0);
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(model, noGuide);
    expect(Math.abs(loss - want) / Math.abs(want)).toBeLessThan(1e-4);
  });

  it('keep: sibling branches of a recursion see each other with keep: true, not with keep: false', () => {
    // step(d) samples z_d_i, then two children at depth d + 1
    const dimsOf = (keep: boolean): Map<string, unknown> => {
      const model = (): void => {
        const step = ppl.markov(
          (d: number, path: string): void => {
            ppl.sample(`z${path}`, new D.Bernoulli({ probs: 0.5 }), ENUM);
            if (d < 2) for (const c of ['a', 'b']) step(d + 1, path + c);
          },
          { history: 1, keep },
        );
        step(0, '');
      };
      const tr = ppl.trace(ppl.enumerate(model, -1)).getTrace();
      const dims = new Map(tr.sampleSites().map((s) => [s.name, s.infer._enumDim]));
      tr.dispose();
      return dims;
    };
    const independent = dimsOf(false);
    // z, then za (sees z), zaa and zab (each see za only), zb (sees z), ...
    expect(independent.get('zaa')).toBe(independent.get('zab'));
    expect(independent.get('za')).toBe(independent.get('zb'));
    const kept = dimsOf(true);
    expect(kept.get('zaa')).not.toBe(kept.get('zab'));
    expect(kept.get('za')).not.toBe(kept.get('zb'));
  });

  it('SVI with TraceEnumELBO on 20 simulated sequences recovers the transition matrix (a simplex param) roughly', () => {
    const T = 30;
    const B = 20;
    let st = 99;
    const u = (): number => (st = (st * 1103515245 + 12345) % 2147483648) / 2147483648;
    const data = Array.from({ length: T }, () => new Array<number>(B).fill(0));
    for (let b = 0; b < B; b++) {
      let x = Math.floor(u() * K);
      for (let t = 0; t < T; t++) {
        if (t > 0) {
          const r = u();
          const row = TRANS[x]!;
          x = r < row[0]! ? 0 : r < row[0]! + row[1]! ? 1 : 2;
        }
        const g = Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
        data[t]![b] = LOCS[x]! + 0.6 * g;
      }
    }
    const ys = tf.tensor2d(data);
    const model = (obs: tf.Tensor): void => {
      const trans = ppl.param('trans', () => tf.fill([K, K], 1 / K), {
        constraint: ppl.constraints.simplex,
      });
      const l = tf.tensor1d(LOCS);
      ppl.plate('seqs', B, () => {
        let x: tf.Tensor | null = null;
        for (const t of ppl.markov(T)) {
          const probs = x === null ? tf.fill([K], 1 / K) : tf.gather(trans, tf.cast(x, 'int32'));
          x = ppl.sample(`x_${t}`, new D.Categorical({ probs }), ENUM);
          const loc = tf.gather(l, tf.cast(x, 'int32'));
          ppl.sample(`y_${t}`, new D.Normal(loc, 0.6), { obs: tf.gather(obs, t) });
        }
      });
    };
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const svi = new ppl.SVI(model, noGuide, tf.train.adam(0.1), elbo);
    const first = svi.step(ys);
    let last = first;
    for (let i = 0; i < 60; i++) last = svi.step(ys);
    expect(last).toBeLessThan(first - 100);
    const est = ppl.getParamStore().get('trans')!.arraySync() as number[][];
    est.forEach((row, i) =>
      row.forEach((p, j) => expect(Math.abs(p - TRANS[i]![j]!)).toBeLessThan(0.12)),
    );
    ys.dispose();
  });

  it('inferDiscrete at temperature 0 is the Viterbi path', () => {
    const ys = simulate(25, 21);
    const model = hmm(ys, () => tf.tensor1d(LOCS));
    const before = tf.memory().numTensors;
    const tr = ppl.trace(ppl.inferDiscrete(model, { temperature: 0 })).getTrace();
    const path = ys.map((_, t) => tr.value(`x_${t}`).dataSync()[0]);
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const want = viterbi(ys);
    expect(new Set(want).size).toBeGreaterThan(1); // a path that changes state
    expect(path).toEqual(want);
  });

  it('inferDiscrete at temperature 1 draws the path from its posterior (forward-backward marginals and a pair marginal, within MC error), over a plate of copies', () => {
    const T = 8;
    const N = 1500;
    const ys = simulate(T, 31);
    const model = hmm(
      ys.map((y) => new Array<number>(N).fill(y)),
      () => tf.tensor1d(LOCS),
      { plate: N },
    );
    setSeed(4);
    const tr = ppl.trace(ppl.inferDiscrete(model)).getTrace();
    const xs = ys.map((_, t) => Array.from(tr.value(`x_${t}`).dataSync()));
    tr.dispose();
    const s = 3;
    const { marg, pair } = posterior(ys, s);
    const check = (freq: number, prob: number): void => {
      const se = Math.sqrt((prob * (1 - prob)) / N);
      expect(Math.abs(freq - prob)).toBeLessThan(4.5 * se + 1e-9);
    };
    for (let t = 0; t < T; t++) {
      expect(xs[t]!.length).toBe(N);
      for (let k = 0; k < K; k++) check(xs[t]!.filter((v) => v === k).length / N, marg[t]![k]!);
    }
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        let n = 0;
        for (let m = 0; m < N; m++) if (xs[s]![m] === i && xs[s + 1]![m] === j) n++;
        check(n / N, pair[i]![j]!);
      }
    }
  });

  it('the MCMC potential of an HMM with its emission locations latent is minus the forward algorithm (plus the prior); its gradient matches finite differences', () => {
    const T = 30;
    const ys = simulate(T, 41);
    const model = hmm(ys, () => ppl.sample('locs', new D.Normal(tf.zeros([K]), 3).toEvent(1)));
    const { sites, enumeration } = initialPoint(model, [], 'uniform', new ChainRng(0));
    expect(sites.map((s) => s.name)).toEqual(['locs']);
    expect(enumeration?.sites.length).toBe(T);
    const pot = new ModelPotential(model, [] as [], sites, enumeration);
    const U = (l: number[]): number => -(logLik(ys, l) + l.reduce((a, v) => a + logN(v, 0, 3), 0));
    const before = tf.memory().numTensors;
    for (const z of [
      [-2, 0, 2.5],
      [-1.2, 0.7, 1.9],
    ]) {
      const { value, grad } = pot.evaluate(Float64Array.from(z));
      const want = U(z);
      expect(Math.abs(value - want) / Math.abs(want)).toBeLessThan(1e-5);
      const fd = finiteDiff(U, z, 1e-5);
      fd.forEach((g, i) =>
        expect(Math.abs(grad[i]! - g)).toBeLessThan(2e-3 * Math.max(1, Math.abs(g))),
      );
      // the recorded, replayed potential agrees
      const cp = compilePotential(pot as ModelPotential<unknown[]>, Float64Array.from(z));
      expect('potential' in cp).toBe(true);
      if ('potential' in cp) {
        const r = cp.potential.valueAndGrad(Float64Array.from(z));
        expect(Math.abs(r.value - want) / Math.abs(want)).toBeLessThan(1e-5);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('NUTS on an HMM with a shared emission shift summed over the paths matches a grid integration of its posterior (within MC error from ESS)', async () => {
    const T = 30;
    const ys = simulate(T, 51).map((y) => y + 0.7);
    const model = hmm(ys, () => tf.add(tf.tensor1d(LOCS), ppl.sample('mu', new D.Normal(0, 2))));
    // the posterior of mu on a grid, each point by the forward algorithm
    const grid = Array.from({ length: 801 }, (_, i) => -3 + (i * 6) / 800);
    const lps = grid.map(
      (m) =>
        logLik(
          ys,
          LOCS.map((l) => l + m),
        ) + logN(m, 0, 2),
    );
    const z = lse(lps);
    const w = lps.map((lp) => Math.exp(lp - z));
    const mean = grid.reduce((a, m, i) => a + m * w[i]!, 0);
    const sd = Math.sqrt(grid.reduce((a, m, i) => a + (m - mean) ** 2 * w[i]!, 0));
    const before = tf.memory().numTensors;
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 1000,
      warmupSteps: 300,
      seed: 3,
      progressBar: false,
    });
    await mcmc.run();
    const e = mcmc.summary().mu!.elements[0]!;
    expect(e.essBulk).toBeGreaterThan(150);
    expect(Math.abs(e.mean - mean)).toBeLessThan(4 * (sd / Math.sqrt(e.essBulk)));
    expect(Math.abs(e.sd - sd)).toBeLessThan(0.2 * sd);
    tf.dispose(Object.values(mcmc.getSamples()));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses bad options and steps, naming them; leaves the handler stack clean when the body throws', () => {
    expect(() => ppl.markov(3, { history: -1 })).toThrow(
      /history: markov: expected an integer >= 0.*got -1/,
    );
    expect(() => ppl.markov(3, { history: 1.5 })).toThrow(/history.*got 1\.5/);
    expect(() => ppl.markov(3, { keep: 1 as unknown as boolean })).toThrow(/keep/);
    expect(() => ppl.markov(3, { dim: -1 } as never)).toThrow(/dim: not an option of markov/);
    expect(() => ppl.markov(-2)).toThrow(/steps: markov: expected the number of steps/);
    expect(() => ppl.markov(2.5)).toThrow(/steps/);
    expect(() => ppl.markov(null as unknown as number)).toThrow(/steps/);
    const depth = ppl.HANDLER_STACK.length;
    expect(() => {
      for (const t of ppl.markov(5)) if (t === 2) throw new Error('boom');
    }).toThrow('boom');
    expect(ppl.HANDLER_STACK.length).toBe(depth);
    const rec = ppl.markov((t: number): void => {
      if (t === 3) throw new Error('deep');
      rec(t + 1);
    });
    expect(() => rec(0)).toThrow('deep');
    expect(ppl.HANDLER_STACK.length).toBe(depth);
  });

  it('a site outside markov that uses the last step of a chain is an error naming it', () => {
    const ys = simulate(4, 7);
    const model = (): void => {
      let x: tf.Tensor | null = null;
      for (const t of ppl.markov(ys.length)) {
        const probs =
          x === null ? tf.tensor1d(INIT) : tf.gather(tf.tensor2d(TRANS), tf.cast(x, 'int32'));
        x = ppl.sample(`x_${t}`, new D.Categorical({ probs }), ENUM);
      }
      ppl.sample('end', new D.Normal(tf.cast(x!, 'float32'), 1), { obs: 1 });
    };
    const before = tf.memory().numTensors;
    expect(() => new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(model, noGuide)).toThrow(
      /site 'end'.*no enumerated site visible to it/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
