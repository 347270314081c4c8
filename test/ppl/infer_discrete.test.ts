/**
 * `inferDiscrete` (Pyro's `infer_discrete`): its randomness comes from the enclosing `seed`
 * handler, a subsampled plate visits the same members in every internal run, and it leaks no
 * tensors, also when the model throws; its one forward and one backward pass give exactly the MAP
 * values of the chain-rule implementation it replaced (one model run per site) and draw from the
 * brute-force posterior. References: the closed-form argmax of a two-component mixture per datum,
 * the chain-rule implementation (test/ppl/fixtures), brute-force sums over every assignment.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Bernoulli,
  Categorical,
  Normal,
  OneHotCategorical,
} from '../../src/distributions/index.js';
import { condition } from '../../src/ppl/handlers/condition.js';
import { markov } from '../../src/ppl/handlers/markov.js';
import { plate } from '../../src/ppl/handlers/plate.js';
import { seed } from '../../src/ppl/handlers/seed.js';
import { trace } from '../../src/ppl/handlers/trace.js';
import { inferDiscrete } from '../../src/ppl/infer/infer_discrete.js';
import { sample } from '../../src/ppl/runtime.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { inferDiscreteChainRule } from './fixtures/infer_discrete_chain_rule.js';

afterEach(() => clearSeed());

const LOGIT = 0.4; // prior log-odds of z = 1
/** 40 data alternating around the two component means -1.5 and 1.5 (distinct values). */
const YS = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? -1 : 1) * (0.1 + 0.07 * i));
/** `z_i = 1` is the argmax of `p(z_i | y_i, shift)` for the mixture below. */
const argmaxOne = (y: number, shift: number): number => {
  const l1 = LOGIT - 0.5 * (y - (1.5 + shift)) ** 2;
  const l0 = -0.5 * (y - (-1.5 + shift)) ** 2;
  return l1 > l0 ? 1 : 0;
};

/**
 * A mixture with a latent continuous shift, a per-datum assignment and a per-datum continuous
 * jitter, optionally over a random subsample of the data.
 */
function mixture(subsampleSize?: number): () => void {
  const data = tf.tensor1d(YS);
  return () => {
    const shift = sample('shift', new Normal(0, 0.3));
    plate('data', YS.length, subsampleSize === undefined ? {} : { subsampleSize }, (idx) => {
      const z = sample('z', new Bernoulli({ logits: LOGIT }));
      const loc = tf.add(tf.sub(tf.mul(z, 3), 1.5), shift);
      sample('jitter', new Normal(0, 1));
      sample('y', new Normal(loc, 1), { obs: tf.gather(data, idx) });
    });
  };
}

/** The values of a trace's sites, by name. */
function values(tr: ReturnType<ReturnType<typeof trace>['getTrace']>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const s of tr.sites()) if (s.value !== null) out[s.name] = Array.from(s.value.dataSync());
  return out;
}

describe('inferDiscrete', () => {
  it('draws from the enclosing seed handler: seed(inferDiscrete(model), s) repeats its draws whatever the global stream, and another seed gives others', () => {
    const model = mixture(12);
    const before = tf.memory().numTensors;
    const run = (rngSeed: number, globalSeed: number): Record<string, number[]> => {
      setSeed(globalSeed);
      const tr = trace(seed(inferDiscrete(model), rngSeed)).getTrace();
      const v = values(tr);
      tr.dispose();
      return v;
    };
    const a = run(0, 1);
    const b = run(0, 2);
    expect(b).toEqual(a);
    const c = run(5, 1);
    expect(c['shift']).not.toEqual(a['shift']);
    expect(c['z']).not.toEqual(a['z']);
    // without a seed handler the global stream decides
    setSeed(3);
    const tr1 = trace(inferDiscrete(model)).getTrace();
    setSeed(3);
    const tr2 = trace(inferDiscrete(model)).getTrace();
    expect(values(tr2)).toEqual(values(tr1));
    tr1.dispose();
    tr2.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a random subsample plate draws its members once: each assignment is the argmax for the datum its member holds', () => {
    const model = mixture(10);
    const before = tf.memory().numTensors;
    setSeed(8);
    let bad = 0;
    for (let r = 0; r < 15; r++) {
      const tr = trace(inferDiscrete(model, { temperature: 0 })).getTrace();
      const idx = Array.from(tr.get('data')!.value!.dataSync());
      const z = Array.from(tr.value('z').dataSync());
      const y = Array.from(tr.value('y').dataSync());
      const shift = tr.value('shift').dataSync()[0]!;
      expect(z.length).toBe(10);
      idx.forEach((i, m) => {
        expect(y[m]).toBeCloseTo(YS[i]!, 6); // the observed data are the members'
        if (z[m] !== argmaxOne(YS[i]!, shift)) bad++;
      });
      tr.dispose();
    }
    expect(bad).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaks no tensors when the model throws in any of its runs', () => {
    const before = tf.memory().numTensors;
    for (const failAt of [1, 2, 3]) {
      let calls = 0;
      const model = (): void => {
        // thrown before the model makes a tensor of its own: what is left is inferDiscrete's
        if (++calls === failAt) throw new Error(`boom ${calls}`);
        sample('mu', new Normal(0, 1));
        plate('data', 5, { subsampleSize: 3 }, () => {
          sample('z', new Bernoulli({ probs: 0.3 }));
        });
      };
      expect(() => inferDiscrete(model)()).toThrow(`boom ${failAt}`);
      expect(tf.memory().numTensors).toBe(before);
    }
    // thrown in the replay after the discrete site got its value (the model's distributions made
    // outside it, so it makes no tensor of its own)
    const pz = new Bernoulli({ probs: 0.3 });
    const pmu = new Normal(0, 1);
    const start = tf.memory().numTensors;
    let calls = 0;
    const late = (): void => {
      sample('mu', pmu);
      plate('data', 5, () => void sample('z', pz));
      if (++calls === 3) throw new Error('late boom');
    };
    expect(() => inferDiscrete(late)()).toThrow('late boom');
    expect(tf.memory().numTensors).toBe(start);
    pz.dispose();
    pmu.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// The one-pass algorithm (forward elimination, backward pass, one replay) against the chain-rule
// implementation it replaced (test/ppl/fixtures), exactly at temperature 0, and against the
// brute-force posterior at temperature 1.

const ENUM = { infer: { enumerate: 'parallel' } };
const K = 3;
const INIT = [0.5, 0.3, 0.2];
const TRANS = [
  [0.8, 0.1, 0.1],
  [0.2, 0.7, 0.1],
  [0.15, 0.15, 0.7],
];
const LOCS = [-2, 0, 2.5];
/** `n` numbers from a fixed LCG stream, spread over [-3, 3.5]. */
function stream(n: number, s0: number): number[] {
  let st = s0;
  return Array.from({ length: n }, () => {
    st = (st * 1103515245 + 12345) % 2147483648;
    return -3 + (6.5 * st) / 2147483648;
  });
}

/** A first-order HMM over `ys` (`[T]`, or `[T, B]` in a plate of `B` sequences). */
function hmm(ys: number[][] | number[], history = 1): () => void {
  return () => {
    const trans = tf.tensor2d(TRANS);
    const locs = tf.tensor1d(LOCS);
    const body = (): void => {
      const xs: tf.Tensor[] = [];
      for (const t of markov(ys.length, { history })) {
        const prev = xs[t - 1];
        let probs =
          prev === undefined ? tf.tensor1d(INIT) : tf.gather(trans, tf.cast(prev, 'int32'));
        // second order: the step two back pulls towards its own state
        const back = history > 1 ? xs[t - 2] : undefined;
        if (back !== undefined) {
          probs = tf.add(tf.mul(probs, 0.6), tf.mul(tf.oneHot(tf.cast(back, 'int32'), K), 0.4));
        }
        const x = sample(`x_${t}`, new Categorical({ probs }), ENUM);
        xs.push(x);
        const y = ys[t]!;
        sample(`y_${t}`, new Normal(tf.gather(locs, tf.cast(x, 'int32')), 1.2), {
          obs: typeof y === 'number' ? tf.scalar(y) : tf.tensor1d(y),
        });
      }
    };
    const B = (ys[0] as number[] | number) instanceof Array ? (ys[0] as number[]).length : 0;
    if (B > 0) plate('seqs', B, () => body());
    else body();
  };
}

const zProbs = [
  [0.2, 0.5, 0.3],
  [0.6, 0.1, 0.3],
];
const offsets = [-1, 0, 1.5];
/** A global g, a chain x0 -> x1 and a plate of assignments depending on g (72 configurations). */
function globalsAndPlate(): void {
  const g = sample('g', new Bernoulli({ probs: 0.4 }));
  const x0 = sample('x0', new Bernoulli({ probs: 0.5 }));
  sample('o0', new Normal(tf.mul(x0, 1.5), 1), { obs: 1.1 });
  const trans = tf.tensor2d([
    [0.8, 0.2],
    [0.3, 0.7],
  ]);
  const x1 = sample('x1', new Categorical({ probs: tf.gather(trans, tf.cast(x0, 'int32')) }));
  sample('o1', new Normal(tf.add(tf.mul(x1, 1.5), tf.mul(g, 0.5)), 1), { obs: 0.2 });
  const probs = tf.gather(tf.tensor2d(zProbs), tf.cast(g, 'int32'));
  plate('data', 2, () => {
    const z = sample('z', new Categorical({ probs }));
    const loc = tf.gather(tf.tensor1d(offsets), tf.cast(z, 'int32'));
    sample('y', new Normal(loc, 0.8), { obs: tf.tensor1d([0.7, -0.4]) });
  });
}

/** Nested plates: g global, u per member of plate a, w per member of a x b, depending down. */
function nested(): void {
  const g = sample('g', new Bernoulli({ probs: 0.45 }));
  const pu = tf.gather(tf.tensor2d(zProbs), tf.cast(g, 'int32'));
  plate('a', 2, () => {
    const u = sample('u', new Categorical({ probs: pu }));
    plate('b', 2, () => {
      const pw = tf.gather(tf.tensor1d([0.2, 0.5, 0.85]), tf.cast(u, 'int32'));
      const w = sample('w', new Bernoulli({ probs: pw }));
      const loc = tf.add(tf.mul(w, 2), tf.sub(u, 1));
      sample('y', new Normal(loc, 1), {
        obs: tf.tensor2d([
          [1.9, -0.6],
          [0.4, 2.8],
        ]),
      });
    });
  });
}

/** A one-hot mixture, a latent mixture over a random subsample, and g -> mu -> y. */
function oneHotMixture(): void {
  plate('data', 6, () => {
    const z = sample('z', new OneHotCategorical({ probs: [0.3, 0.5, 0.2] }), ENUM);
    sample('y', new Normal(tf.sum(tf.mul(z, tf.tensor1d(LOCS)), -1), 0.9), {
      obs: tf.tensor1d(stream(6, 5)),
    });
  });
}
function chained(): void {
  const g = sample('g', new Bernoulli({ probs: 0.5 }));
  const mu = sample('mu', new Normal(tf.mul(g, 3), 1));
  sample('y', new Normal(mu, 1), { obs: 1.5 });
}

const MODELS: [string, () => void][] = [
  ['HMM, 30 steps', hmm(stream(30, 1))],
  ['HMM, history 2, 12 steps', hmm(stream(12, 2), 2)],
  [
    'HMM in a plate of 4 sequences',
    hmm(
      stream(40, 3).reduce<number[][]>((rows, v, i) => {
        (rows[Math.floor(i / 4)] ??= []).push(v);
        return rows;
      }, []),
    ),
  ],
  ['globals, a chain and a plate', globalsAndPlate],
  ['nested plates', nested],
  ['one-hot mixture', oneHotMixture],
  ['latent mixture over a random subsample', mixture(10)],
  ['g -> mu -> y (continuous site depending on a discrete one)', chained],
];

/** The discrete values of a seeded run of `impl(model)`, by site. */
function discreteValues(
  impl: (fn: () => void, o: { temperature: 0 | 1 }) => () => void,
  model: () => void,
  temperature: 0 | 1,
  rngSeed: number,
): Record<string, number[]> {
  const tr = trace(seed(impl(model, { temperature }), rngSeed)).getTrace();
  const out: Record<string, number[]> = {};
  for (const s of tr.latentSites()) {
    if (s.fn?.support.isDiscrete === true) out[s.name] = Array.from(s.value!.dataSync());
  }
  tr.dispose();
  return out;
}

/** Every assignment of the discrete sites (name, shape, K) with its log-joint, by brute force. */
function bruteForce(
  model: () => void,
  sites: { name: string; shape: number[]; k: number }[],
): { config: number[]; lp: number }[] {
  const cells = sites.flatMap((s) =>
    new Array<number>(s.shape.reduce((a, b) => a * b, 1)).fill(s.k),
  );
  const out: { config: number[]; lp: number }[] = [];
  const rec = (prefix: number[]): void => {
    if (prefix.length === cells.length) {
      let at = 0;
      const data: Record<string, tf.Tensor> = {};
      for (const s of sites) {
        const n = s.shape.reduce((a, b) => a * b, 1);
        data[s.name] = tf.tensor(prefix.slice(at, at + n), s.shape);
        at += n;
      }
      const lp = tf.tidy(() => {
        const tr = trace(condition(model, data)).getTrace();
        const v = tr.logProbSum().dataSync()[0]!;
        tr.dispose();
        return v;
      });
      tf.dispose(Object.values(data));
      out.push({ config: prefix, lp });
      return;
    }
    for (let v = 0; v < cells[prefix.length]!; v++) rec([...prefix, v]);
  };
  rec([]);
  return out;
}

/** The upper `1 - p` quantile of chi-square with `df` degrees (Wilson-Hilferty), for z = 4. */
const chi2Bound = (df: number): number =>
  df * (1 - 2 / (9 * df) + 4 * Math.sqrt(2 / (9 * df))) ** 3;

describe('inferDiscrete, one forward and one backward pass', () => {
  it.each(MODELS)(
    '%s: temperature 0 gives exactly the values of the chain-rule implementation, under 3 seeds',
    (_, model) => {
      const before = tf.memory().numTensors;
      for (const s of [0, 1, 2]) {
        const want = discreteValues(inferDiscreteChainRule, model, 0, s);
        expect(Object.keys(want).length).toBeGreaterThan(0);
        expect(discreteValues(inferDiscrete, model, 0, s)).toEqual(want);
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('runs the model three times whatever the number of discrete sites (plain run, enumerated run, replay); the chain-rule implementation ran it once per site plus three', () => {
    for (const T of [5, 40]) {
      let calls = 0;
      const inner = hmm(stream(T, 9));
      const counted = (): void => {
        calls++;
        inner();
      };
      for (const impl of [inferDiscrete, inferDiscreteChainRule]) {
        calls = 0;
        const tr = trace(impl(counted, { temperature: 0 })).getTrace();
        tr.dispose();
        expect(calls).toBe(impl === inferDiscrete ? 3 : T + 3);
      }
    }
  });

  it('temperature 1 draws the joint posterior: chi-square against brute force (globals, a chain and a plate: 72 assignments; nested plates: 288)', () => {
    const cases: [() => void, { name: string; shape: number[]; k: number }[], number][] = [
      [
        globalsAndPlate,
        [
          { name: 'g', shape: [], k: 2 },
          { name: 'x0', shape: [], k: 2 },
          { name: 'x1', shape: [], k: 2 },
          { name: 'z', shape: [2], k: 3 },
        ],
        1200,
      ],
      [
        nested,
        [
          { name: 'g', shape: [], k: 2 },
          { name: 'u', shape: [2], k: 3 },
          { name: 'w', shape: [2, 2], k: 2 },
        ],
        1200,
      ],
    ];
    const before = tf.memory().numTensors;
    setSeed(21);
    for (const [model, sites, S] of cases) {
      const joint = bruteForce(model, sites);
      const m = Math.max(...joint.map((j) => j.lp));
      const z = joint.reduce((a, j) => a + Math.exp(j.lp - m), 0);
      const prob = new Map(joint.map((j) => [j.config.join(','), Math.exp(j.lp - m) / z]));
      const counts = new Map<string, number>();
      const sampler = inferDiscrete(model);
      for (let r = 0; r < S; r++) {
        const tr = trace(sampler).getTrace();
        const key = sites.flatMap((s) => Array.from(tr.value(s.name).dataSync())).join(',');
        tr.dispose();
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      // Pearson's statistic over the assignments expected 5 times or more, the rest pooled
      let stat = 0;
      let df = -1;
      let poolE = 0;
      let poolO = 0;
      for (const [key, p] of prob) {
        const e = S * p;
        const o = counts.get(key) ?? 0;
        if (e >= 5) {
          stat += (o - e) ** 2 / e;
          df++;
        } else {
          poolE += e;
          poolO += o;
        }
      }
      if (poolE > 0) {
        stat += (poolO - poolE) ** 2 / poolE;
        df++;
      }
      expect(df).toBeGreaterThan(5);
      expect(stat).toBeLessThan(chi2Bound(df));
      // every draw is a possible assignment
      for (const key of counts.keys()) expect(prob.has(key)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
