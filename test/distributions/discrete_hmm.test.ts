/**
 * DiscreteHMM (Pyro's): references are brute force over every hidden path in float64, a
 * sequential forward algorithm in float64, the markov + enumeration model's TraceEnumELBO,
 * finite differences of the float64 brute force, and Monte Carlo frequencies with tolerances from
 * their standard errors.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { sequentialLogMatMulExp } from '../../src/distributions/discrete_hmm.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak, finiteDiff } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const LOG_2PI = Math.log(2 * Math.PI);
const logN = (x: number, m: number, s: number): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LOG_2PI;
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
};
const normRow = (l: number[]): number[] => {
  const z = lse(l);
  return l.map((v) => v - z);
};

/** A float64 HMM: log pi [S], log P_t [T][S][S] (t-indexed), emission log-density e(t, s). */
interface Ref {
  init: number[];
  trans: (t: number) => number[][];
  emit: (t: number, s: number) => number;
}

/** `log p(y)` by brute force over all `S^(T+1)` paths `x_{-1}, x_0, ..., x_{T-1}`. */
function bruteLogProb(r: Ref, T: number): number {
  const S = r.init.length;
  const terms: number[] = [];
  const path = new Array<number>(T + 1).fill(0);
  const total = S ** (T + 1);
  for (let code = 0; code < total; code++) {
    let c = code;
    for (let i = 0; i <= T; i++) {
      path[i] = c % S;
      c = Math.floor(c / S);
    }
    let lp = r.init[path[0]!]!;
    for (let t = 0; t < T; t++) {
      lp += r.trans(t)[path[t]!]![path[t + 1]!]! + r.emit(t, path[t + 1]!);
    }
    terms.push(lp);
  }
  return lse(terms);
}

/** `log p(x_{T-1} = j, y)` for each j by brute force. */
function bruteFilter(r: Ref, T: number): number[] {
  const S = r.init.length;
  return Array.from({ length: S }, (_, j) => {
    const terms: number[] = [];
    const path = new Array<number>(T + 1).fill(0);
    for (let code = 0; code < S ** (T + 1); code++) {
      let c = code;
      for (let i = 0; i <= T; i++) {
        path[i] = c % S;
        c = Math.floor(c / S);
      }
      if (path[T] !== j) continue;
      let lp = r.init[path[0]!]!;
      for (let t = 0; t < T; t++) {
        lp += r.trans(t)[path[t]!]![path[t + 1]!]! + r.emit(t, path[t + 1]!);
      }
      terms.push(lp);
    }
    return lse(terms);
  });
}

/** `log p(y)` by the sequential forward algorithm in float64. */
function forwardLogProb(r: Ref, T: number): number {
  const S = r.init.length;
  let a = r.init;
  for (let t = 0; t < T; t++) {
    const P = r.trans(t);
    a = Array.from({ length: S }, (_, j) => lse(a.map((ai, i) => ai + P[i]![j]!)) + r.emit(t, j));
  }
  return lse(a);
}

const S3_INIT = [0.3, -0.2, 0.5];
/** Time-varying transition logits [T, 3, 3]. */
const transLogits = (T: number): number[][][] =>
  Array.from({ length: T }, (_, t) =>
    [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? 1.2 : 0) + 0.3 * Math.sin(t + i - j))),
  );
const LOCS = [-1.5, 0.2, 1.7];
const SCALES = [0.6, 1.1, 0.8];

describe('DiscreteHMM', { timeout: 600_000 }, () => {
  it('logProb equals brute force over all 3^5 paths (T = 4, S = 3): Normal emissions with time-varying transitions, homogeneous ones, Categorical and Bernoulli-Independent emissions', () => {
    const T = 4;
    const ys = [0.4, -1.2, 1.9, 0.1];
    const tl = transLogits(T);
    // time-varying transitions, Normal emissions [S]
    {
      const hmm = new D.DiscreteHMM(S3_INIT, tl, new D.Normal(LOCS, SCALES));
      expect(hmm.batchShape).toEqual([]);
      expect(hmm.eventShape).toEqual([T]);
      expect(hmm.duration).toBe(T);
      const want = bruteLogProb(
        {
          init: normRow(S3_INIT),
          trans: (t) => tl[t]!.map(normRow),
          emit: (t, s) => logN(ys[t]!, LOCS[s]!, SCALES[s]!),
        },
        T,
      );
      const [got] = expectNoLeak(() => hmm.logProb(ys));
      expect(got).toBeCloseTo(want, 4);
      hmm.dispose();
    }
    // homogeneous transitions, emissions varying over time [T, S]
    {
      const locsT = Array.from({ length: T }, (_, t) => LOCS.map((l) => l + 0.1 * t));
      const hmm = new D.DiscreteHMM(S3_INIT, tl[0]!, new D.Normal(locsT, SCALES));
      expect(hmm.eventShape).toEqual([T]);
      const want = bruteLogProb(
        {
          init: normRow(S3_INIT),
          trans: () => tl[0]!.map(normRow),
          emit: (t, s) => logN(ys[t]!, locsT[t]![s]!, SCALES[s]!),
        },
        T,
      );
      expect(expectNoLeak(() => hmm.logProb(ys))[0]).toBeCloseTo(want, 4);
      hmm.dispose();
    }
    // Categorical emissions with 4 symbols
    {
      const emitL = [
        [1, 0, -1, 0.5],
        [0, 2, 0, -1],
        [-0.5, 0, 1.5, 1],
      ];
      const seq = [3, 1, 2, 0];
      const obs = new D.Categorical({ logits: emitL });
      const hmm = new D.DiscreteHMM(S3_INIT, tl, obs);
      const want = bruteLogProb(
        {
          init: normRow(S3_INIT),
          trans: (t) => tl[t]!.map(normRow),
          emit: (t, s) => normRow(emitL[s]!)[seq[t]!]!,
        },
        T,
      );
      expect(expectNoLeak(() => hmm.logProb(seq))[0]).toBeCloseTo(want, 4);
      hmm.dispose();
      obs.dispose();
    }
    // Bernoulli emissions over 2 features: event shape [2], the HMM's [T, 2]
    {
      const probs = [
        [0.9, 0.2],
        [0.4, 0.5],
        [0.1, 0.7],
      ];
      const seq = [
        [1, 0],
        [0, 1],
        [1, 1],
        [0, 0],
      ];
      const obs = new D.Bernoulli({ probs }).toEvent(1);
      const hmm = new D.DiscreteHMM(S3_INIT, tl, obs);
      expect(hmm.eventShape).toEqual([T, 2]);
      const want = bruteLogProb(
        {
          init: normRow(S3_INIT),
          trans: (t) => tl[t]!.map(normRow),
          emit: (t, s) =>
            seq[t]!.reduce(
              (a, v, d) => a + Math.log(v === 1 ? probs[s]![d]! : 1 - probs[s]![d]!),
              0,
            ),
        },
        T,
      );
      expect(expectNoLeak(() => hmm.logProb(seq))[0]).toBeCloseTo(want, 4);
      hmm.dispose();
    }
  });

  it('batch shapes broadcast as Pyro documents: a batch of initial logits [2, S], Poisson emissions [T, S], value batch [5, 1, T]; an odd length (T = 7) through the pairwise tree', () => {
    const T = 7;
    const init = [S3_INIT, [0, 0, -1]];
    const tl = transLogits(T);
    const rates = Array.from({ length: T }, (_, t) => [0.5 + t * 0.1, 2, 4.5]);
    const obs = new D.Poisson(rates);
    const hmm = new D.DiscreteHMM(init, tl, obs);
    expect(hmm.batchShape).toEqual([2]);
    expect(hmm.eventShape).toEqual([T]);
    const seqs = Array.from({ length: 5 }, (_, i) =>
      Array.from({ length: T }, (_, t) => (i * 3 + t * 2) % 6),
    );
    const v = tf.tensor(seqs, [5, 1, T]);
    const lp = expectNoLeak(() => hmm.logProb(v));
    const lpShape = tf.tidy(() => hmm.logProb(v).shape);
    expect(lpShape).toEqual([5, 2]);
    const lfact = (k: number): number => (k <= 1 ? 0 : Math.log(k) + lfact(k - 1));
    for (let i = 0; i < 5; i++) {
      for (let b = 0; b < 2; b++) {
        const want = forwardLogProb(
          {
            init: normRow(init[b]!),
            trans: (t) => tl[t]!.map(normRow),
            emit: (t, s) => {
              const k = seqs[i]![t]!;
              const r = rates[t]![s]!;
              return k * Math.log(r) - r - lfact(k);
            },
          },
          T,
        );
        expect(lp[i * 2 + b]).toBeCloseTo(want, 3);
      }
    }
    v.dispose();
    hmm.dispose();
    obs.dispose();
  });

  it('a homogeneous model has an unknown duration (event shape [1], as Pyro) and scores sequences of any length; duration fixes it; sample needs it', () => {
    const tl = transLogits(1)[0]!;
    const obs = new D.Normal(LOCS, SCALES);
    const hmm = new D.DiscreteHMM(S3_INIT, tl, obs);
    expect(hmm.duration).toBeUndefined();
    expect(hmm.eventShape).toEqual([1]);
    const ref = (ys: number[]): number =>
      forwardLogProb(
        {
          init: normRow(S3_INIT),
          trans: () => tl.map(normRow),
          emit: (t, s) => logN(ys[t]!, LOCS[s]!, SCALES[s]!),
        },
        ys.length,
      );
    for (const ys of [[0.3], [0.3, -1, 2, 0.5], [1, 1, -2, 0, 0.4, 0.9, -0.1, 1.3, 2]]) {
      expect(expectNoLeak(() => hmm.logProb(ys))[0]).toBeCloseTo(ref(ys), 4);
    }
    // wrapped by mask / expand, the length is still read from the value
    const m = tf.tensor1d([true, false], 'bool');
    const masked = hmm.mask(m);
    const ys2 = [
      [0.3, -1, 2, 0.5, 1],
      [1, 1, -2, 0, 0.4],
    ];
    expect(expectNoLeak(() => masked.logProb(ys2))).toBeAllclose([ref(ys2[0]!), 0], {
      atol: 1e-4,
    });
    const expanded = hmm.expand([2]);
    expect(expectNoLeak(() => expanded.logProb(ys2))).toBeAllclose(ys2.map(ref), { atol: 1e-4 });
    const both = expanded.toEvent(1);
    expect(both.eventShape).toEqual([2, 1]);
    expect(expectNoLeak(() => both.logProb(ys2))[0]).toBeCloseTo(ref(ys2[0]!) + ref(ys2[1]!), 3);
    m.dispose();
    expect(() => hmm.sample([2])).toThrow(/duration/);
    const fixed = new D.DiscreteHMM(S3_INIT, tl, obs, { duration: 6 });
    expect(fixed.eventShape).toEqual([6]);
    expect(expectNoLeak(() => fixed.sample([3])).length).toBe(18);
    hmm.dispose();
    fixed.dispose();
  });

  it('logProb equals the marginal likelihood of the markov + enumeration model (TraceEnumELBO) for the same parameters', () => {
    const T = 12;
    const ys = Array.from({ length: T }, (_, t) => 1.5 * Math.sin(t) - 0.2);
    const tl = transLogits(1)[0]!;
    const model = (): void => {
      const trans = tf.softmax(tf.tensor2d(tl));
      let x = ppl.sample('x_init', new D.Categorical({ logits: S3_INIT }), {
        infer: { enumerate: 'parallel' },
      });
      for (const t of ppl.markov(T)) {
        x = ppl.sample(
          `x_${t}`,
          new D.Categorical({ probs: tf.gather(trans, tf.cast(x, 'int32')) }),
          {
            infer: { enumerate: 'parallel' },
          },
        );
        ppl.sample(
          `y_${t}`,
          new D.Normal(
            tf.gather(tf.tensor1d(LOCS), tf.cast(x, 'int32')),
            tf.gather(tf.tensor1d(SCALES), tf.cast(x, 'int32')),
          ),
          { obs: tf.scalar(ys[t]!) },
        );
      }
    };
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(model, () => undefined);
    const obs = new D.Normal(LOCS, SCALES);
    const hmm = new D.DiscreteHMM(S3_INIT, tl, obs);
    const [lp] = expectNoLeak(() => hmm.logProb(ys));
    expect(Math.abs(-loss - lp!) / Math.abs(lp!)).toBeLessThan(1e-5);
    hmm.dispose();
  });

  it('the gradient in every parameter (initial and time-varying transition logits, emission locs and scales) matches finite differences of the float64 brute force', () => {
    const T = 4;
    const ys = [0.4, -1.2, 1.9, 0.1];
    const nI = 3;
    const nT = T * 9;
    const ref = (p: number[]): number => {
      const init = p.slice(0, nI);
      const tr = p.slice(nI, nI + nT);
      const locs = p.slice(nI + nT, nI + nT + 3);
      const scales = p.slice(nI + nT + 3);
      return bruteLogProb(
        {
          init: normRow(init),
          trans: (t) => [0, 1, 2].map((i) => normRow(tr.slice(t * 9 + i * 3, t * 9 + i * 3 + 3))),
          emit: (t, s) => logN(ys[t]!, locs[s]!, scales[s]!),
        },
        T,
      );
    };
    const p0 = [...S3_INIT, ...transLogits(T).flat(2), ...LOCS, ...SCALES];
    const want = finiteDiff(ref, p0, 1e-5);
    const before = tf.memory().numTensors;
    const grads = tf.tidy(() => {
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor): tf.Tensor => {
        const obs = new D.Normal(c, d);
        return new D.DiscreteHMM(a, b, obs).logProb(ys);
      };
      const g = tf.grads(f as (...xs: tf.Tensor[]) => tf.Tensor)([
        tf.tensor1d(S3_INIT),
        tf.tensor3d(transLogits(T)),
        tf.tensor1d(LOCS),
        tf.tensor1d(SCALES),
      ]);
      return tf.concat(g.map((x) => tf.reshape(x, [-1])));
    });
    const got = Array.from(grads.dataSync());
    grads.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(got).toBeAllclose(want, { atol: 2e-3, rtol: 2e-3 });
  });

  it('filter is the brute-force posterior of the last hidden state (a Categorical; its batch that of the values)', () => {
    const T = 4;
    const tl = transLogits(T);
    const obs = new D.Normal(LOCS, SCALES);
    const hmm = new D.DiscreteHMM(S3_INIT, tl, obs);
    const seqs = [
      [0.4, -1.2, 1.9, 0.1],
      [-1, -1.4, -0.2, 2.2],
    ];
    const before = tf.memory().numTensors;
    const post = hmm.filter(seqs);
    expect(post).toBeInstanceOf(D.Categorical);
    expect(post.batchShape).toEqual([2]);
    const probs = Array.from(post.probs.dataSync());
    post.dispose();
    expect(tf.memory().numTensors).toBe(before);
    seqs.forEach((ys, i) => {
      const lj = bruteFilter(
        {
          init: normRow(S3_INIT),
          trans: (t) => tl[t]!.map(normRow),
          emit: (t, s) => logN(ys[t]!, LOCS[s]!, SCALES[s]!),
        },
        T,
      );
      const z = lse(lj);
      expect(probs.slice(i * 3, i * 3 + 3)).toBeAllclose(
        lj.map((l) => Math.exp(l - z)),
        { atol: 1e-5 },
      );
    });
    hmm.dispose();
  });

  it('impossible transitions (-Infinity logits) give finite log-probabilities and gradients; an impossible sequence scores -Infinity', () => {
    const tl = [
      [0, -Infinity],
      [Math.log(0.3), Math.log(0.7)],
    ];
    const obs = new D.Categorical({
      probs: [
        [1, 0, 0],
        [0.2, 0.5, 0.3],
      ],
    });
    const init = [0, -Infinity];
    const hmm = new D.DiscreteHMM(init, tl, obs);
    // from state 0 the chain stays in 0, which only emits symbol 0
    const [ok] = expectNoLeak(() => hmm.logProb([0, 0, 0]));
    expect(ok).toBeCloseTo(0, 5);
    const [bad] = expectNoLeak(() => hmm.logProb([0, 1, 0]));
    expect(bad).toBe(-Infinity);
    const g = tf.tidy(() =>
      tf.grad((l: tf.Tensor) =>
        new D.DiscreteHMM(
          l,
          tl,
          new D.Categorical({
            probs: [
              [0.5, 0.5, 0],
              [0.2, 0.5, 0.3],
            ],
          }),
        ).logProb([0, 1, 0]),
      )(tf.tensor1d([0, 0.5])),
    );
    const gv = Array.from(g.dataSync());
    g.dispose();
    expect(gv.every(Number.isFinite)).toBe(true);
    hmm.dispose();
    obs.dispose();
  });

  it('T = 1000: logProb equals the sequential forward algorithm, gradients are finite, in ceil(log2 T) levels', () => {
    const T = 1000;
    const ys = Array.from({ length: T }, (_, t) => 2 * Math.sin(t / 7) + 0.5 * Math.cos(t * 1.3));
    const tl = transLogits(1)[0]!;
    const obs = new D.Normal(LOCS, SCALES);
    const hmm = new D.DiscreteHMM(S3_INIT, tl, obs);
    const want = forwardLogProb(
      {
        init: normRow(S3_INIT),
        trans: () => tl.map(normRow),
        emit: (t, s) => logN(ys[t]!, LOCS[s]!, SCALES[s]!),
      },
      T,
    );
    const [got] = expectNoLeak(() => hmm.logProb(ys));
    expect(Math.abs(got! - want) / Math.abs(want)).toBeLessThan(1e-5);
    const g = tf.tidy(() =>
      tf.grad((l: tf.Tensor) =>
        new D.DiscreteHMM(S3_INIT, tl, new D.Normal(l, SCALES)).logProb(ys),
      )(tf.tensor1d(LOCS)),
    );
    const gv = Array.from(g.dataSync());
    g.dispose();
    // d/d loc_s log p(y) = sum_t p(x_t = s | y) (y_t - loc_s) / scale_s^2: finite differences
    const fd = finiteDiff(
      (l) =>
        forwardLogProb(
          {
            init: normRow(S3_INIT),
            trans: () => tl.map(normRow),
            emit: (t, s) => logN(ys[t]!, l[s]!, SCALES[s]!),
          },
          T,
        ),
      LOCS,
      1e-5,
    );
    expect(gv).toBeAllclose(fd, { rtol: 1e-3, atol: 0.05 });
    hmm.dispose();
  });

  it('sequentialLogMatMulExp equals the left-to-right log-space product for every length 1..9', () => {
    for (let T = 1; T <= 9; T++) {
      const vals = Array.from({ length: T * 4 }, (_, i) => Math.sin(i * 1.7) * 2);
      const got = tf.tidy(() => sequentialLogMatMulExp(tf.tensor(vals, [T, 2, 2])));
      let acc = [
        [0, -Infinity],
        [-Infinity, 0],
      ];
      for (let t = 0; t < T; t++) {
        const m = [0, 1].map((i) => [0, 1].map((j) => vals[t * 4 + i * 2 + j]!));
        acc = [0, 1].map((i) => [0, 1].map((k) => lse([0, 1].map((j) => acc[i]![j]! + m[j]![k]!))));
      }
      expect(Array.from(got.dataSync())).toBeAllclose(acc.flat(), { atol: 1e-4 });
      got.dispose();
    }
  });
  it('sample: the frequencies of all 2^3 binary sequences match exp(logProb) within 4.5 standard errors, per batch entry; sampleWithStates gives the same observations and hidden paths whose first state follows pi P_0', () => {
    const T = 3;
    const init = [
      [0, 0],
      [1.5, -1],
    ];
    const tl = [
      [
        [1, -1],
        [0, 0.5],
      ],
      [
        [-0.5, 0.5],
        [2, 0],
      ],
      [
        [0, 0],
        [0.3, -0.3],
      ],
    ];
    const obs = new D.Bernoulli({ probs: [0.15, 0.8] });
    const hmm = new D.DiscreteHMM(init, tl, obs);
    expect(hmm.batchShape).toEqual([2]);
    const N = 4000;
    const draws = expectNoLeak(() => hmm.sample([N], 11));
    const counts = [new Array<number>(8).fill(0), new Array<number>(8).fill(0)];
    for (let n = 0; n < N; n++) {
      for (let b = 0; b < 2; b++) {
        const o = (n * 2 + b) * T;
        counts[b]![draws[o]! * 4 + draws[o + 1]! * 2 + draws[o + 2]!]! += 1;
      }
    }
    const all = tf.tensor(
      Array.from({ length: 8 }, (_, c) => [(c >> 2) & 1, (c >> 1) & 1, c & 1]),
      [8, 1, T],
    );
    const p = Array.from(tf.tidy(() => tf.exp(hmm.logProb(all))).dataSync());
    all.dispose();
    for (let b = 0; b < 2; b++) {
      let total = 0;
      for (let c = 0; c < 8; c++) {
        const pc = p[c * 2 + b]!;
        total += pc;
        const se = Math.sqrt((pc * (1 - pc)) / N);
        expect(Math.abs(counts[b]![c]! / N - pc)).toBeLessThan(4.5 * se + 1e-9);
      }
      expect(total).toBeCloseTo(1, 5);
    }
    // the joint draw: the same observations; x_0 ~ pi P_0
    const before = tf.memory().numTensors;
    const { states, observations } = hmm.sampleWithStates([N], 11);
    expect(states.shape).toEqual([N, 2, T]);
    expect(Array.from(observations.dataSync())).toEqual(draws);
    const st = states.dataSync();
    tf.dispose([states, observations]);
    expect(tf.memory().numTensors).toBe(before);
    for (let b = 0; b < 2; b++) {
      const pi = normRow(init[b]!).map(Math.exp);
      const P0 = tl[0]!.map((r) => normRow(r).map(Math.exp));
      const q1 = pi[0]! * P0[0]![1]! + pi[1]! * P0[1]![1]!;
      let c1 = 0;
      for (let n = 0; n < N; n++) c1 += st[(n * 2 + b) * T]!;
      expect(Math.abs(c1 / N - q1)).toBeLessThan(4.5 * Math.sqrt((q1 * (1 - q1)) / N));
    }
    hmm.dispose();
  });

  it('sample draws observations of any event shape at the drawn states (MultivariateNormal-free: Normal.toEvent(2) emissions), shape [...shape, ...batch, T, ...event]; setSeed reproduces', () => {
    const locs = tf.tensor3d([
      [
        [-10, -10],
        [-10, -10],
      ],
      [
        [10, 10],
        [10, 10],
      ],
    ]); // [S = 2, 2, 2]
    const obs = new D.Normal(locs, 0.01).toEvent(2);
    const hmm = new D.DiscreteHMM(
      [0, 0],
      [
        [0, 0],
        [0, 0],
      ],
      obs,
      { duration: 5 },
    );
    expect(hmm.eventShape).toEqual([5, 2, 2]);
    setSeed(4);
    const a = expectNoLeak(() => hmm.sample([3]));
    setSeed(4);
    const b = expectNoLeak(() => hmm.sample([3]));
    expect(a).toEqual(b);
    expect(a.length).toBe(3 * 5 * 4);
    // each step's 4 coordinates come from one state: all near -10 or all near 10
    for (let i = 0; i < 15; i++) {
      const blk = a.slice(i * 4, i * 4 + 4);
      expect(Math.abs(blk[0]!)).toBeGreaterThan(9.9);
      expect(blk.every((v) => Math.sign(v) === Math.sign(blk[0]!))).toBe(true);
    }
    hmm.dispose();
    locs.dispose();
  });

  it('bad arguments are refused naming them, before any work and without leaking', async () => {
    const obs3 = new D.Normal(LOCS, SCALES);
    const obs2 = new D.Normal([0, 1], 1);
    const obs0 = new D.Normal(0, 1);
    const obs5 = new D.Normal(
      Array.from({ length: 5 }, () => LOCS),
      1,
    );
    const tl = transLogits(4);
    const cases = [
      {
        call: 'initialLogits scalar',
        run: () => new D.DiscreteHMM(1, tl, obs3),
        arg: 'initialLogits',
      },
      {
        call: 'transitionLogits with 2 states for 3',
        run: () =>
          new D.DiscreteHMM(
            S3_INIT,
            [
              [0, 0],
              [0, 0],
            ],
            obs3,
          ),
        arg: 'transitionLogits',
        message: /S = 3/,
      },
      {
        call: 'transitionLogits not square',
        run: () =>
          new D.DiscreteHMM(
            S3_INIT,
            [
              [0, 0, 0],
              [0, 0, 0],
            ],
            obs3,
          ),
        arg: 'transitionLogits',
      },
      {
        call: 'observationDist with 2 states for 3',
        run: () => new D.DiscreteHMM(S3_INIT, tl, obs2),
        arg: 'observationDist',
        message: /S = 3/,
      },
      {
        call: 'observationDist without a batch dim',
        run: () => new D.DiscreteHMM(S3_INIT, tl, obs0),
        arg: 'observationDist',
      },
      {
        call: 'observationDist not a distribution',
        run: () => new D.DiscreteHMM(S3_INIT, tl, {} as never),
        arg: 'observationDist',
      },
      {
        call: 'time dims 4 and 5',
        run: () => new D.DiscreteHMM(S3_INIT, tl, obs5),
        arg: /transitionLogits.*observationDist/,
      },
      {
        call: 'batch dims 2 and 3',
        run: () => new D.DiscreteHMM([S3_INIT, S3_INIT], [tl, tl, tl], obs3),
        arg: /initialLogits.*transitionLogits/,
      },
      {
        call: 'duration not the time dim',
        run: () => new D.DiscreteHMM(S3_INIT, tl, obs3, { duration: 3 }),
        arg: 'duration',
        message: /4/,
      },
      {
        call: 'duration not a positive integer',
        run: () => new D.DiscreteHMM(S3_INIT, tl[0]!, obs3, { duration: 2.5 }),
        arg: 'duration',
      },
      {
        call: 'NaN logits',
        run: () => new D.DiscreteHMM([0, NaN, 0], tl, obs3),
        arg: 'initialLogits',
      },
      {
        call: '+Infinity transition logits',
        run: () =>
          new D.DiscreteHMM(
            S3_INIT,
            [
              [Infinity, 0, 0],
              [0, 0, 0],
              [0, 0, 0],
            ],
            obs3,
          ),
        arg: 'transitionLogits',
      },
      {
        call: 'a value of the wrong length',
        run: () => {
          const h = new D.DiscreteHMM(S3_INIT, tl, obs3);
          try {
            return h.logProb([1, 2, 3]);
          } finally {
            h.dispose();
          }
        },
        arg: 'value',
      },
      {
        call: 'filter of the wrong length',
        run: () => {
          const h = new D.DiscreteHMM(S3_INIT, tl, obs3);
          try {
            return h.filter([1, 2, 3, 4, 5]);
          } finally {
            h.dispose();
          }
        },
        arg: 'value',
      },
      {
        call: 'sampleWithStates of unknown duration',
        run: () => {
          const h = new D.DiscreteHMM(S3_INIT, tl[0]!, obs3);
          try {
            return h.sampleWithStates([2]);
          } finally {
            h.dispose();
          }
        },
        arg: 'duration',
      },
      {
        call: 'a Categorical value outside the support',
        run: () => {
          const o = new D.Categorical({
            logits: [
              [0, 0],
              [0, 1],
              [1, 0],
            ],
          });
          const h = new D.DiscreteHMM(S3_INIT, tl, o);
          try {
            return h.logProb([0, 1, 1, 2]);
          } finally {
            h.dispose();
            o.dispose();
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
    [obs0, obs2, obs3, obs5].forEach((o) => o.dispose());
  });
});
