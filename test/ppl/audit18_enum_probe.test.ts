/**
 * Audit 18: enumeration as a Pyro user probes it. References in float64: the forward algorithm /
 * `DiscreteHMM.logProb` (a batch of sequences in a plate under `markov`), brute force over every
 * path (a second-order chain, Viterbi for `inferDiscrete` at temperature 0, smoothing marginals
 * for `computeMarginals`), a global enumerated site over a subsampled plate; Pyro's rules for
 * `poutine.scale` (one common scale, applied outside the sum over the enumerated values).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});
const LOG_2PI = Math.log(2 * Math.PI);
const nlp = (x: number, m: number, s: number): number =>
  -0.5 * LOG_2PI - Math.log(s) - (0.5 * (x - m) ** 2) / s ** 2;
const lse = (a: number[]): number => {
  const m = Math.max(...a);
  return m + Math.log(a.reduce((s, v) => s + Math.exp(v - m), 0));
};
const noGuide = (): void => undefined;
const ENUM = { infer: { enumerate: 'parallel' as const } };

const init = [0.6, 0.3, 0.1];
const trans = [
  [0.7, 0.2, 0.1],
  [0.1, 0.8, 0.1],
  [0.3, 0.3, 0.4],
];
const locs = [-1, 0.5, 2];
const Ys = [
  [0.1, 1.9, 2.2, -0.3, 0.4, 0.7],
  [-1.2, -0.8, 0.6, 2.5, 2.1, 1.0],
];

/** The 3-state Gaussian HMM of this file under `markov`, its states enumerated, observing `y`. */
function markovHmm(y: readonly number[]): () => void {
  return () => {
    const tr = tf.tensor2d(trans);
    const lc = tf.tensor1d(locs);
    let x: tf.Tensor | null = null;
    for (const t of ppl.markov(y.length)) {
      const probs: tf.Tensor = x === null ? tf.tensor1d(init) : tf.gather(tr, tf.cast(x, 'int32'));
      x = ppl.sample(`x_${t}`, new D.Categorical({ probs }), ENUM);
      ppl.sample(`y_${t}`, new D.Normal(tf.gather(lc, tf.cast(x, 'int32')), 0.7), {
        obs: tf.scalar(y[t] as number),
      });
    }
  };
}

describe('enumeration probes', () => {
  it('batched HMM in a plate with markov vs DiscreteHMM.logProb', () => {
    const y = tf.tensor2d(Ys); // [2, T]
    const T = 6;
    const model = (): void => {
      const tr = tf.tensor2d(trans);
      const lc = tf.tensor1d(locs);
      ppl.plate('seqs', 2, { dim: -1 }, () => {
        let x: tf.Tensor | null = null;
        for (const t of ppl.markov(T)) {
          // DiscreteHMM's initial distribution is the state's before the first transition
          const probs: tf.Tensor =
            x === null
              ? tf.matMul(tf.tensor2d([init]), tr).reshape([3])
              : tf.gather(tr, tf.cast(x, 'int32'));
          x = ppl.sample(`x_${t}`, new D.Categorical({ probs }), ENUM);
          ppl.sample(`y_${t}`, new D.Normal(tf.gather(lc, tf.cast(x, 'int32')), 0.7), {
            obs: tf.squeeze(tf.slice(y, [0, t], [2, 1]), [1]),
          });
        }
      });
    };
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(model, noGuide);
    const hmm = new D.DiscreteHMM(
      tf.log(tf.tensor1d(init)),
      tf.log(tf.tensor2d(trans)),
      new D.Normal(tf.tensor1d(locs), 0.7),
    );
    const lp = hmm.logProb(y);
    const ref = -Array.from(lp.dataSync()).reduce((a, b) => a + b, 0);
    expect(loss).toBeCloseTo(ref, 3);
    // float64 forward algorithm (the same convention)
    let f64 = 0;
    for (const ys of Ys) {
      let a = init.map((_, j) => init.reduce((s2, p, i) => s2 + p * trans[i]![j]!, 0));
      a = a.map((v, k) => v * Math.exp(nlp(ys[0] as number, locs[k] as number, 0.7)));
      for (let t = 1; t < T; t++) {
        a = [0, 1, 2].map(
          (j) =>
            a.reduce((s2, v, i) => s2 + v * trans[i]![j]!, 0) *
            Math.exp(nlp(ys[t] as number, locs[j] as number, 0.7)),
        );
      }
      f64 -= Math.log(a.reduce((s2, v) => s2 + v, 0));
    }
    expect(loss).toBeCloseTo(f64, 3);
    tf.dispose([lp, y]);
    hmm.dispose();
  });

  it('second-order HMM with markov history 2 vs brute force', () => {
    const y = [0.3, 1.1, -0.4, 0.9, 1.5];
    const T = y.length;
    const p2 = (a: number, b: number): number[] => {
      const s = 0.2 + 0.3 * a + 0.4 * b; // prob of 1
      return [1 - s, s];
    };
    const model = (): void => {
      const xs: tf.Tensor[] = [];
      for (const t of ppl.markov(T, { history: 2 })) {
        let p: tf.Tensor;
        if (t < 2) p = tf.scalar(0.5);
        else
          p = tf.add(
            0.2,
            tf.add(tf.mul(0.3, xs[t - 2] as tf.Tensor), tf.mul(0.4, xs[t - 1] as tf.Tensor)),
          );
        const x = ppl.sample(`x_${t}`, new D.Bernoulli(p), ENUM);
        xs.push(x);
        ppl.sample(`y_${t}`, new D.Normal(x, 1), { obs: tf.scalar(y[t] as number) });
      }
    };
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(model, noGuide);
    const paths: number[] = [];
    for (let m = 0; m < 2 ** T; m++) {
      const x = Array.from({ length: T }, (_, t) => (m >> t) & 1);
      let l = 0;
      for (let t = 0; t < T; t++) {
        const p = t < 2 ? [0.5, 0.5] : p2(x[t - 2] as number, x[t - 1] as number);
        l += Math.log(p[x[t] as number] as number) + nlp(y[t] as number, x[t] as number, 1);
      }
      paths.push(l);
    }
    expect(loss).toBeCloseTo(-lse(paths), 3);
  });

  it('global enumerated with a subsampled plate: scale inside the logsumexp', () => {
    const ys = [0.3, 2.2, 1.9, -0.1, 2.5, 1.7];
    const idx = [1, 3, 4];
    const y = tf.tensor1d(idx.map((i) => ys[i] as number));
    const model = (obs: tf.Tensor): void => {
      const g = ppl.sample('g', new D.Bernoulli(0.3), ENUM);
      ppl.plate('data', ys.length, { subsample: idx }, () => {
        ppl.sample('y', new D.Normal(tf.mul(g, 2), 1), { obs });
      });
    };
    const want = -lse(
      [0, 1].map(
        (g) =>
          Math.log(g === 1 ? 0.3 : 0.7) +
          (ys.length / idx.length) * idx.reduce((s, i) => s + nlp(ys[i] as number, 2 * g, 1), 0),
      ),
    );
    expect(new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(model, noGuide, y)).toBeCloseTo(
      want,
      3,
    );
    y.dispose();
  });

  it('inferDiscrete temperature 0 on an HMM under markov = Viterbi (brute force)', () => {
    const y = [0.1, 1.9, 2.2, -0.3, 0.4];
    const T = y.length;
    const model = markovHmm(y);
    const tr = ppl
      .trace(ppl.inferDiscrete(model, { temperature: 0, maxPlateNesting: 0 }))
      .getTrace();
    const got = Array.from({ length: T }, (_, t) => tr.value(`x_${t}`).dataSync()[0]);
    let best = -Infinity;
    let arg: number[] = [];
    for (let m = 0; m < 3 ** T; m++) {
      const x: number[] = [];
      let r = m;
      for (let t = 0; t < T; t++) {
        x.push(r % 3);
        r = Math.floor(r / 3);
      }
      let l = 0;
      for (let t = 0; t < T; t++) {
        const p = t === 0 ? init[x[0] as number] : trans[x[t - 1] as number]![x[t] as number];
        l += Math.log(p as number) + nlp(y[t] as number, locs[x[t] as number] as number, 0.7);
      }
      if (l > best) {
        best = l;
        arg = x;
      }
    }
    expect(got).toEqual(arg);
    tr.dispose();
  });

  it('computeMarginals on HMM = smoothing (brute force)', () => {
    const y = [0.1, 1.9, 2.2, -0.3];
    const T = y.length;
    const model = markovHmm(y);
    const m = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).computeMarginals(model, noGuide);
    const post: number[][] = Array.from({ length: T }, () => [0, 0, 0]);
    let Z = 0;
    for (let c = 0; c < 3 ** T; c++) {
      const x: number[] = [];
      let r = c;
      for (let t = 0; t < T; t++) {
        x.push(r % 3);
        r = Math.floor(r / 3);
      }
      let l = 0;
      for (let t = 0; t < T; t++) {
        const p = t === 0 ? init[x[0] as number] : trans[x[t - 1] as number]![x[t] as number];
        l += Math.log(p as number) + nlp(y[t] as number, locs[x[t] as number] as number, 0.7);
      }
      Z += Math.exp(l);
      x.forEach((k, t) => {
        const row = post[t] as number[];
        row[k] = (row[k] as number) + Math.exp(l);
      });
    }
    for (let t = 0; t < T; t++) {
      const d = m[`x_${t}`] as D.Categorical;
      const probs = Array.from(d.probs.dataSync());
      probs.forEach((p, k) => expect(p).toBeCloseTo(post[t]![k]! / Z, 4));
    }
  });

  it('GMM with enumerated assignments + AutoNormal guide on locs: loss finite, SVI step', () => {
    setSeed(1);
    const y = tf.tensor1d([-1.5, 0.2, 2.8, 3.1, -0.9]);
    const model = (obs: tf.Tensor): void => {
      const locs = ppl.plate('comps', 2, () => ppl.sample('locs', new D.Normal(0, 5)));
      ppl.plate('data', 5, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: tf.tensor1d([0.4, 0.6]) }), ENUM);
        ppl.sample('y', new D.Normal(tf.gather(locs, tf.cast(z, 'int32')), 1), { obs });
      });
    };
    const guide = new ppl.AutoNormal(ppl.block(model, { hide: ['z'] }));
    const svi = new ppl.SVI(
      model,
      guide,
      tf.train.adam(0.01),
      new ppl.TraceEnumELBO({ maxPlateNesting: 1 }),
    );
    const l = svi.step(y);
    expect(Number.isFinite(l)).toBe(true);
  });
});
describe('enumeration and poutine.scale', () => {
  it('poutine.scale on an enumerated model: scale outside the logsumexp (Pyro)', () => {
    const ys = [-1.5, 0.2, 2.8];
    const y = tf.tensor1d(ys);
    const model = (obs: tf.Tensor): void => {
      ppl.plate('data', 3, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: tf.tensor1d([0.3, 0.7]) }), ENUM);
        ppl.sample('y', new D.Normal(tf.gather(tf.tensor1d([-1, 3]), tf.cast(z, 'int32')), 0.8), {
          obs,
        });
      });
    };
    const base = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(model, noGuide, y);
    const scaled = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(
      ppl.scale(model, 0.5) as (obs: tf.Tensor) => void,
      noGuide,
      y,
    );
    expect(scaled).toBeCloseTo(0.5 * base, 3);
    // float64: 0.5 * -sum_i log sum_z w_z N(y_i | mu_z, 0.8)
    const ref = -ys.reduce(
      (s2, v) =>
        s2 + lse([0.3, 0.7].map((w, k) => Math.log(w) + nlp(v, [-1, 3][k] as number, 0.8))),
      0,
    );
    expect(scaled).toBeCloseTo(0.5 * ref, 3);
    y.dispose();
  });

  it('different scales on an enumerated site and a site depending on it: Pyro`s error, naming the site', () => {
    const model = (): void => {
      const x = ppl.sample('x', new D.Bernoulli(0.3), ENUM);
      ppl.scale(() => ppl.sample('y', new D.Normal(x, 1), { obs: tf.scalar(0.5) }), 2)();
    };
    const run = (): unknown => new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(model, noGuide);
    expect(run).toThrow(ArgumentError);
    expect(run).toThrow(/y.*common scale/);
    // a site that does not depend on the enumerated one keeps its own scale
    const ok = (): void => {
      const x = ppl.sample('x', new D.Bernoulli(0.3), ENUM);
      ppl.sample('y', new D.Normal(x, 1), { obs: tf.scalar(0.5) });
      ppl.scale(() => ppl.sample('w', new D.Normal(0, 1), { obs: tf.scalar(1) }), 3)();
    };
    const want = -(
      lse([0, 1].map((x) => Math.log(x === 1 ? 0.3 : 0.7) + nlp(0.5, x, 1))) +
      3 * nlp(1, 0, 1)
    );
    expect(new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(ok, noGuide)).toBeCloseTo(want, 3);
  });

  it('a tensor scale on a site depending on an enumerated one: an ArgumentError naming it (Pyro)', () => {
    const w = tf.tensor1d([1, 2, 0.5]);
    const model = (): void => {
      ppl.plate('d', 3, () => {
        const z = ppl.sample('z', new D.Bernoulli(0.3), ENUM);
        ppl.sample('y', new D.Normal(z, 1), { obs: tf.tensor1d([0.1, 0.9, 0.4]) });
      });
    };
    const run = (): unknown =>
      new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(ppl.scale(model, w), noGuide);
    expect(run).toThrow(ArgumentError);
    expect(run).toThrow(/'z'.*tensor scale.*scalar scale only/);
    w.dispose();
  });
});
