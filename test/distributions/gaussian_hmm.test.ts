/**
 * GaussianHMM (Pyro's): the Kalman filter's log-likelihood against the dense Gaussian of the
 * stacked observations built in float64, the filter against Gaussian conditioning of that joint,
 * gradients against finite differences of the dense reference, draws against its moments.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D } from '../../src/index.js';
import { expectBadInput, expectNoLeak, finiteDiff } from '../helpers.js';
import { cholesky } from '../fixtures/float64.js';

type M = number[][];
const matmul = (a: M, b: M): M =>
  a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const tr = (a: M): M => a[0]!.map((_, j) => a.map((r) => r[j]!));
const add = (a: M, b: M): M => a.map((r, i) => r.map((v, j) => v + b[i]![j]!));
const zeros = (n: number, m: number): M => Array.from({ length: n }, () => new Array(m).fill(0));
const diag = (v: number[]): M => v.map((x, i) => v.map((_, j) => (i === j ? x : 0)));
/** `L^{-1} b` for lower-triangular L. */
function fsolve(l: M, b: number[]): number[] {
  const x: number[] = [];
  for (let i = 0; i < b.length; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i]![k]! * x[k]!;
    x.push(s / l[i]![i]!);
  }
  return x;
}
function inv(a: M): M {
  const n = a.length;
  const l = cholesky(a);
  const cols = Array.from({ length: n }, (_, j) => {
    const e = new Array<number>(n).fill(0);
    e[j] = 1;
    const y = fsolve(l, e);
    // back substitution with L^T
    const x = new Array<number>(n).fill(0);
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let k = i + 1; k < n; k++) s -= l[k]![i]! * x[k]!;
      x[i] = s / l[i]![i]!;
    }
    return x;
  });
  return tr(cols);
}
function mvnLogPdf(x: number[], mu: number[], cov: M): number {
  const l = cholesky(cov);
  const z = fsolve(
    l,
    x.map((v, i) => v - mu[i]!),
  );
  return (
    -0.5 * z.reduce((s, v) => s + v * v, 0) -
    l.reduce((s, r, i) => s + Math.log(r[i]!), 0) -
    0.5 * x.length * Math.log(2 * Math.PI)
  );
}

/** A float64 linear-Gaussian model: per-step A_t, b_t, Q_t, C_t, d_t, R_t; z_{-1} ~ N(mu0, S0). */
interface Lg {
  mu0: number[];
  S0: M;
  A: (t: number) => M;
  b: (t: number) => number[];
  Q: (t: number) => M;
  C: (t: number) => M;
  d: (t: number) => number[];
  R: (t: number) => M;
}

/** The joint mean/covariance of (z_0..z_{T-1}, y_0..y_{T-1}) blocks (row-vector convention). */
function joint(g: Lg, T: number): { my: number[]; Syy: M; mz: number[][]; Szz: M[][]; Szy: M[][] } {
  const mz: number[][] = [];
  const Szz: M[][] = [];
  let m = g.mu0;
  let P = g.S0;
  const covZ: M[] = [];
  for (let t = 0; t < T; t++) {
    m = matmul([m], g.A(t))[0]!.map((v, j) => v + g.b(t)[j]!);
    P = add(matmul(matmul(tr(g.A(t)), P), g.A(t)), g.Q(t));
    mz.push(m);
    covZ.push(P);
  }
  // Cov(z_s, z_t) = Cov(z_s, z_s) A_{s+1} ... A_t for s <= t
  for (let s = 0; s < T; s++) {
    Szz.push([]);
    for (let t = 0; t < T; t++) {
      if (t >= s) {
        let c = covZ[s]!;
        for (let u = s + 1; u <= t; u++) c = matmul(c, g.A(u));
        Szz[s]!.push(c);
      } else Szz[s]!.push([]);
    }
  }
  for (let s = 0; s < T; s++) for (let t = 0; t < s; t++) Szz[s]![t] = tr(Szz[t]![s]!);
  const O = g.d(0).length;
  const my = mz.flatMap((z, t) => matmul([z], g.C(t))[0]!.map((v, j) => v + g.d(t)[j]!));
  const Syy = zeros(T * O, T * O);
  const Szy: M[][] = [];
  for (let s = 0; s < T; s++) {
    Szy.push([]);
    for (let t = 0; t < T; t++) {
      const blk = matmul(matmul(tr(g.C(s)), Szz[s]![t]!), g.C(t));
      const full = s === t ? add(blk, g.R(t)) : blk;
      for (let i = 0; i < O; i++)
        for (let j = 0; j < O; j++) Syy[s * O + i]![t * O + j] = full[i]![j]!;
      Szy[s]!.push(matmul(Szz[s]![t]!, g.C(t)));
    }
  }
  return { my, Syy, mz, Szz, Szy };
}
const denseLogProb = (g: Lg, ys: number[][]): number => {
  const { my, Syy } = joint(g, ys.length);
  return mvnLogPdf(ys.flat(), my, Syy);
};

const A0 = [
  [0.9, 0.2],
  [-0.1, 0.8],
];
const C0 = [[1], [0.5]];
const S0 = [
  [1.5, 0.3],
  [0.3, 0.8],
];
const G1: Lg = {
  mu0: [0.2, -0.4],
  S0,
  A: () => A0,
  b: () => [0.1, 0],
  Q: () => diag([0.3 ** 2, 0.2 ** 2]),
  C: () => C0,
  d: () => [0.5],
  R: () => diag([0.4 ** 2]),
};
/** The tfjs model of G1. */
const makeG1 = (
  opts: { duration?: number } = {},
): { hmm: D.GaussianHMM; parts: D.Distribution[] } => {
  const parts = [
    new D.MultivariateNormal([0.2, -0.4], { covarianceMatrix: S0 }),
    new D.Normal([0.1, 0], [0.3, 0.2]).toEvent(1),
    new D.MultivariateNormalDiag([0.5], [0.4]),
  ];
  const hmm = new D.GaussianHMM(parts[0]!, A0, parts[1]!, C0, parts[2]!, opts);
  return { hmm, parts };
};
const disposeAll = (h: D.Distribution, parts: D.Distribution[]): void => {
  h.dispose();
  parts.forEach((p) => {
    p.dispose();
    if (p instanceof D.Independent) p.base.dispose();
  });
};

describe('GaussianHMM', { timeout: 600_000 }, () => {
  it('logProb (Kalman filter) equals the dense Gaussian of the stacked observations (float64), homogeneous of unknown duration at T = 1, 4, 9', () => {
    const { hmm, parts } = makeG1();
    expect(hmm.duration).toBeUndefined();
    expect(hmm.eventShape).toEqual([1, 1]);
    expect(hmm.hasRsample).toBe(true);
    for (const T of [1, 4, 9]) {
      const ys = Array.from({ length: T }, (_, t) => [Math.sin(t * 1.3) + 0.2 * t]);
      const [got] = expectNoLeak(() => hmm.logProb(ys));
      expect(got).toBeCloseTo(denseLogProb(G1, ys), 3);
    }
    disposeAll(hmm, parts);
  });

  it('time-varying matrices and noise, O = 2, a batch of initial states and of values: each entry equals its dense Gaussian', () => {
    const T = 4;
    const At = Array.from({ length: T }, (_, t) => [
      [0.9 - 0.1 * t, 0.2],
      [0.1 * t, 0.7],
    ]);
    const Ct = Array.from({ length: T }, (_, t) => [
      [1, 0.3 * t],
      [-0.5, 1],
    ]);
    const obsScales = Array.from({ length: T }, (_, t) => [0.3 + 0.1 * t, 0.5]);
    const mu0s = [
      [0, 0],
      [1, -1],
    ];
    const init = new D.Normal(mu0s, [
      [1, 0.5],
      [0.7, 1.2],
    ]).toEvent(1); // batch [2]
    const trans = new D.MultivariateNormal(tf.zeros([T, 2]), {
      covarianceMatrix: Array.from({ length: T }, (_, t) => [
        [0.2 + 0.05 * t, 0.05],
        [0.05, 0.1],
      ]),
    });
    const obs = new D.Normal(tf.zeros([T, 2]), obsScales).toEvent(1);
    const hmm = new D.GaussianHMM(init, At, trans, Ct, obs);
    expect(hmm.batchShape).toEqual([2]);
    expect(hmm.eventShape).toEqual([T, 2]);
    const seqs = [0, 1, 2].map((k) =>
      Array.from({ length: T }, (_, t) => [Math.cos(t + k), 0.5 * t - k]),
    );
    const v = tf.tensor(seqs.flat(2), [3, 1, T, 2]);
    const got = expectNoLeak(() => hmm.logProb(v));
    expect(got.length).toBe(6);
    for (let k = 0; k < 3; k++) {
      for (let b = 0; b < 2; b++) {
        const g: Lg = {
          mu0: mu0s[b]!,
          S0: diag(b === 0 ? [1, 0.25] : [0.49, 1.44]),
          A: (t) => At[t]!,
          b: () => [0, 0],
          Q: (t) => [
            [0.2 + 0.05 * t, 0.05],
            [0.05, 0.1],
          ],
          C: (t) => Ct[t]!,
          d: () => [0, 0],
          R: (t) => diag(obsScales[t]!.map((s) => s * s)),
        };
        expect(got[k * 2 + b]).toBeCloseTo(denseLogProb(g, seqs[k]!), 3);
      }
    }
    v.dispose();
    disposeAll(hmm, [init, trans, obs]);
  });

  it('the gradient in the transition and observation matrices and the noise scales matches finite differences of the dense reference', () => {
    const ys = [[0.3], [-0.5], [1.1], [0.4], [0.9]];
    const ref = (p: number[]): number =>
      denseLogProb(
        {
          ...G1,
          A: () => [
            [p[0]!, p[1]!],
            [p[2]!, p[3]!],
          ],
          C: () => [[p[4]!], [p[5]!]],
          Q: () => diag([p[6]! ** 2, 0.2 ** 2]),
          R: () => diag([p[7]! ** 2]),
        },
        ys,
      );
    const p0 = [...A0.flat(), ...C0.flat(), 0.3, 0.4];
    const want = finiteDiff(ref, p0, 1e-5);
    const before = tf.memory().numTensors;
    const g = tf.tidy(() => {
      const f = (a: tf.Tensor, c: tf.Tensor, q: tf.Tensor, r: tf.Tensor): tf.Tensor =>
        new D.GaussianHMM(
          new D.MultivariateNormal([0.2, -0.4], { covarianceMatrix: S0 }),
          a,
          new D.Normal([0.1, 0], tf.concat([q, tf.tensor1d([0.2])])).toEvent(1),
          c,
          new D.Normal([0.5], r).toEvent(1),
        ).logProb(ys);
      const gs = tf.grads(f as (...x: tf.Tensor[]) => tf.Tensor)([
        tf.tensor2d(A0),
        tf.tensor2d(C0),
        tf.tensor1d([0.3]),
        tf.tensor1d([0.4]),
      ]);
      return tf.concat(gs.map((x) => tf.reshape(x, [-1])));
    });
    const got = Array.from(g.dataSync());
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(got).toBeAllclose(want, { rtol: 3e-3, atol: 3e-3 });
  });

  it('filter is the Gaussian conditional of the last hidden state given the observations (dense float64 conditioning)', () => {
    const { hmm, parts } = makeG1();
    const ys = [[0.3], [-0.5], [1.1], [0.4]];
    const T = ys.length;
    const before = tf.memory().numTensors;
    const post = hmm.filter(ys);
    expect(post).toBeInstanceOf(D.MultivariateNormal);
    const loc = Array.from(post.loc.dataSync());
    const cov = tf.tidy(() => tf.matMul(post.scaleTril, post.scaleTril, false, true).arraySync());
    post.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const { my, Syy, mz, Szz, Szy } = joint(G1, T);
    // z_{T-1} | y: mean mz + Szy Syy^{-1} (y - my), cov Szz - Szy Syy^{-1} Szy^T
    const Kzy = Szy[T - 1]!.reduce<M>(
      (acc, blk, t) => {
        for (let i = 0; i < 2; i++) acc[i]![t] = blk[i]![0]!;
        return acc;
      },
      zeros(2, T),
    );
    const gain = matmul(Kzy, inv(Syy));
    const resid = ys.flat().map((v, i) => [v - my[i]!]);
    const mean = mz[T - 1]!.map((v, i) => v + matmul(gain, resid)[i]![0]!);
    const c = add(
      Szz[T - 1]![T - 1]!,
      matmul(gain, tr(Kzy)).map((r) => r.map((v) => -v)),
    );
    expect(loc).toBeAllclose(mean, { atol: 1e-4 });
    expect((cov as number[][]).flat()).toBeAllclose(c.flat(), { atol: 1e-4 });
    disposeAll(hmm, parts);
  });

  it('rsample: shape [...shape, ...batch, T, O], mean and covariance of the stacked draws match the dense Gaussian within 5 standard errors; differentiable', () => {
    const { hmm, parts } = makeG1({ duration: 3 });
    expect(hmm.eventShape).toEqual([3, 1]);
    const N = 4000;
    const draws = expectNoLeak(() => hmm.sample([N], 3));
    const { my, Syy } = joint(G1, 3);
    for (let i = 0; i < 3; i++) {
      const xs = Array.from({ length: N }, (_, n) => draws[n * 3 + i]!);
      const m = xs.reduce((a, b) => a + b, 0) / N;
      expect(Math.abs(m - my[i]!)).toBeLessThan(5 * Math.sqrt(Syy[i]![i]! / N));
      for (let j = 0; j <= i; j++) {
        const ys = Array.from({ length: N }, (_, n) => draws[n * 3 + j]!);
        const mj = ys.reduce((a, b) => a + b, 0) / N;
        const c = xs.reduce((a, x, n) => a + (x - m) * (ys[n]! - mj), 0) / (N - 1);
        const se = Math.sqrt((Syy[i]![i]! * Syy[j]![j]! + Syy[i]![j]! ** 2) / N);
        expect(Math.abs(c - Syy[i]![j]!)).toBeLessThan(5 * se);
      }
    }
    // d E[y_2] / d b: the drift reaches the draws
    const g = tf.tidy(() =>
      tf.grad((b: tf.Tensor) =>
        tf.mean(
          new D.GaussianHMM(parts[0]!, A0, new D.Normal(b, [0.3, 0.2]).toEvent(1), C0, parts[2]!, {
            duration: 3,
          }).rsample([8], 1),
        ),
      )(tf.tensor1d([0.1, 0])),
    );
    expect(Array.from(g.dataSync()).every((v) => Number.isFinite(v) && v !== 0)).toBe(true);
    g.dispose();
    const { hmm: open, parts: p2 } = makeG1();
    expect(() => open.sample([2])).toThrow(/duration/);
    disposeAll(open, p2);
    disposeAll(hmm, parts);
  });

  it('bad arguments are refused naming them, without leaking', async () => {
    const mvn2 = new D.MultivariateNormal([0, 0], { covarianceMatrix: S0 });
    const mvn3 = new D.MultivariateNormal([0, 0, 0], { covarianceMatrix: diag([1, 1, 1]) });
    const n1 = new D.MultivariateNormalDiag([0], [1]);
    const plain = new D.Normal([0, 0], 1);
    const n5 = new D.MultivariateNormalDiag(tf.zeros([5, 1]), tf.ones([5, 1]));
    const A4 = Array.from({ length: 4 }, () => A0);
    const cases = [
      {
        call: 'transitionMatrix not H x H',
        run: () => new D.GaussianHMM(mvn2, [[1]], mvn2, C0, n1),
        arg: 'transitionMatrix',
        message: /H = 2/,
      },
      {
        call: 'initialDist of dimension 3',
        run: () => new D.GaussianHMM(mvn3, A0, mvn2, C0, n1),
        arg: 'initialDist',
      },
      {
        call: 'transitionDist not a Gaussian',
        run: () => new D.GaussianHMM(mvn2, A0, plain, C0, n1),
        arg: 'transitionDist',
      },
      {
        call: 'observationDist of dimension 2 for O = 1',
        run: () => new D.GaussianHMM(mvn2, A0, mvn2, C0, mvn2),
        arg: 'observationDist',
      },
      {
        call: 'observationMatrix a vector',
        run: () => new D.GaussianHMM(mvn2, A0, mvn2, [1, 2], n1),
        arg: 'observationMatrix',
      },
      {
        call: 'time dims 4 and 5',
        run: () => new D.GaussianHMM(mvn2, A4, mvn2, C0, n5),
        arg: /transitionMatrix.*observationDist/,
      },
      {
        call: 'duration against the time dim',
        run: () => new D.GaussianHMM(mvn2, A4, mvn2, C0, n1, { duration: 3 }),
        arg: 'duration',
      },
      {
        call: 'a value of the wrong width',
        run: () => {
          const h = new D.GaussianHMM(mvn2, A0, mvn2, C0, n1);
          try {
            return h.logProb([
              [1, 2],
              [3, 4],
            ]);
          } finally {
            h.dispose();
          }
        },
        arg: 'value',
      },
    ];
    for (const c of cases) {
      try {
        await expectBadInput(c);
      } catch (e) {
        throw new Error(`${c.call}: ${String(e)}`, { cause: e });
      }
    }
    [mvn2, mvn3, n1, plain, n5].forEach((d) => d.dispose());
  });
});
