/**
 * Class labels observed for some items and summed out for the others in one model — the
 * semi-supervised pattern of Pyro's SS-VAE and of Pyro issue #3255, written with Pyro's
 * `obs_mask`: `y ~ Categorical(pi)` with `obs: labels, obsMask: known, infer: {enumerate:
 * 'parallel'}`, then `x ~ Normal(locs[y], 1)`. Pyro splits the site into `y_observed` and
 * `y_unobserved` and passes the site's `infer` (so the enumeration) to both; `y` is their
 * `where`. References (float64, brute force over the 2^3 labelings of the unlabelled items):
 * the TraceEnum_ELBO loss at fixed `locs` (minus `log p(x, labels)` plus Pyro's `log K` per
 * masked enumerated entry, a constant), the MAP labels of `inferDiscrete`, and the NUTS posterior
 * means of `locs` (a conjugate Gaussian per labeling, mixed by the labelings' evidence).
 * Before the fix the `_unobserved` site lost `infer` and `where` mixed the int32 labels with the
 * float32 enumerated values (tfjs read the int bits as floats: `gather` index 1065353216).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';

afterEach(() => {
  clearSeed();
  ppl.clearParamStore();
});

const X = [-1.2, 0.3, 2.5, 3.1, -0.4, 2.2];
const LABELS = [0, 0, 1, 1, 0, 1];
const KNOWN = [true, false, true, false, false, true];
const PI = [0.4, 0.6];
const K = 2;
const PRIOR_SD = 3;
const LOG2PI = Math.log(2 * Math.PI);
const lnorm = (x: number, m: number, s: number): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LOG2PI;
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, v) => a + Math.exp(v - m), 0));
};
const ENUM = { enumerate: 'parallel' } as const;

/** `locs` given (a number pair) or a latent `Normal(0, 3)` pair. */
function model(x: tf.Tensor, labels: tf.Tensor, known: tf.Tensor, locs?: tf.Tensor): void {
  const l = locs ?? ppl.sample('locs', new D.Normal(tf.zeros([K]), PRIOR_SD).toEvent(1));
  ppl.plate('data', x.shape[0] as number, () => {
    const y = ppl.sample('y', new D.Categorical({ probs: tf.tensor1d(PI) }), {
      obs: labels,
      obsMask: known,
      infer: ENUM,
    });
    ppl.sample('x', new D.Normal(tf.gather(l, tf.cast(y, 'int32')), 1), { obs: x });
  });
}

/** Every labeling of the unlabelled items: the labels of all items. */
function labelings(): number[][] {
  const free = KNOWN.flatMap((k, i) => (k ? [] : [i]));
  return Array.from({ length: K ** free.length }, (_, code) => {
    const z = [...LABELS];
    free.forEach((i, j) => (z[i] = Math.floor(code / K ** j) % K));
    return z;
  });
}

const data = (): [tf.Tensor, tf.Tensor, tf.Tensor] => [
  tf.tensor1d(X),
  tf.tensor1d(LABELS, 'int32'),
  tf.tensor1d(KNOWN, 'bool'),
];

describe(
  'partially observed labels (obsMask) summed out by enumeration',
  { timeout: 120_000 },
  () => {
    it('the y_unobserved site keeps infer (enumerated [K, 1]); y is the where of both, one dtype', () => {
      const [x, labels, known] = data();
      const locs = tf.tensor1d([-1, 2.5]);
      const before = tf.memory().numTensors;
      const tr = ppl
        .trace(ppl.enumerate((a: tf.Tensor) => model(a, labels, known, locs), -2))
        .getTrace(x);
      expect(tr.get('y_unobserved')?.infer.enumerate).toBe('parallel');
      expect(tr.get('y_observed')?.infer.enumerate).toBe('parallel');
      expect(tr.value('y_unobserved').shape).toEqual([K, 1]);
      const y = tr.value('y');
      expect(y.shape).toEqual([K, X.length]);
      const yv = y.arraySync() as number[][];
      for (let k = 0; k < K; k++) {
        X.forEach((_, i) => expect(yv[k]?.[i]).toBe(KNOWN[i] ? LABELS[i] : k));
      }
      tr.dispose();
      // outside enumeration: the labels where known, draws in {0, 1} elsewhere
      const plain = ppl.trace(ppl.seed(() => model(x, labels, known, locs), 3)).getTrace();
      const drawn = Array.from(plain.value('y').dataSync());
      drawn.forEach((v, i) => (KNOWN[i] ? expect(v).toBe(LABELS[i]) : expect([0, 1]).toContain(v)));
      plain.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, labels, known, locs]);
    });

    it('TraceEnumELBO at fixed locs: minus the brute-force log p(x, labels) plus log K per labelled item', () => {
      const [x, labels, known] = data();
      const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
      for (const lv of [
        [-1, 2.5],
        [0.3, 1.1],
      ]) {
        const locs = tf.tensor1d(lv);
        const ref = lse(
          labelings().map((z) =>
            z.reduce(
              (a, k, i) =>
                a +
                (KNOWN[i] ? 0 : Math.log(PI[k] as number)) +
                lnorm(X[i] as number, lv[k] as number, 1),
              0,
            ),
          ),
        );
        const labelled = KNOWN.filter((k) => k);
        const logPrior = LABELS.reduce(
          (a, k, i) => a + (KNOWN[i] ? Math.log(PI[k] as number) : 0),
          0,
        );
        const before = tf.memory().numTensors;
        const loss = elbo.loss(
          (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => model(a, b, c, locs),
          () => undefined,
          x,
          labels,
          known,
        );
        expect(tf.memory().numTensors).toBe(before);
        expect(loss).toBeCloseTo(-(ref + logPrior) - labelled.length * Math.log(K), 3);
        locs.dispose();
      }
      tf.dispose([x, labels, known]);
    });

    it('inferDiscrete (temperature 0) gives each unlabelled item its most probable label; labels kept', () => {
      const [x, labels, known] = data();
      const lv = [-1, 2.5];
      const locs = tf.tensor1d(lv);
      const before = tf.memory().numTensors;
      const tr = ppl
        .trace(ppl.inferDiscrete(() => model(x, labels, known, locs), { temperature: 0 }))
        .getTrace();
      const y = Array.from(tr.value('y').dataSync());
      X.forEach((xi, i) => {
        const scores = PI.map((p, k) => Math.log(p) + lnorm(xi, lv[k] as number, 1));
        expect(y[i]).toBe(KNOWN[i] ? LABELS[i] : scores.indexOf(Math.max(...scores)));
      });
      tr.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, labels, known, locs]);
    });

    it('NUTS on locs with the unknown labels summed out: means within 5 SE of the exact mixture', async () => {
      const [x, labels, known] = data();
      // exact: per labeling a conjugate Gaussian for each loc, weighted by the labeling's evidence
      const v0 = PRIOR_SD * PRIOR_SD;
      let logWs: number[] = [];
      const means: number[][] = [];
      for (const z of labelings()) {
        let lw = z.reduce((a, k, i) => a + (KNOWN[i] ? 0 : Math.log(PI[k] as number)), 0);
        const m: number[] = [];
        for (let k = 0; k < K; k++) {
          const xs = X.filter((_, i) => z[i] === k);
          const n = xs.length;
          const s = xs.reduce((a, v) => a + v, 0);
          const ss = xs.reduce((a, v) => a + v * v, 0);
          lw +=
            -0.5 * n * LOG2PI -
            0.5 * Math.log(1 + v0 * n) -
            0.5 * (ss - (v0 * s * s) / (1 + v0 * n));
          m.push(s / (1 / v0 + n));
        }
        logWs.push(lw);
        means.push(m);
      }
      const z = lse(logWs);
      logWs = logWs.map((l) => Math.exp(l - z));
      const exact = [0, 1].map((k) =>
        logWs.reduce((a, w, j) => a + w * (means[j]?.[k] as number), 0),
      );
      const mc = new ppl.MCMC(new ppl.NUTS(model), {
        numSamples: 300,
        warmupSteps: 200,
        seed: 5,
        progressBar: false,
      });
      await mc.run(x, labels, known);
      for (let k = 0; k < K; k++) {
        const { mean, se } = meanAndSe(mc, 'locs', k);
        expect(Math.abs(mean - (exact[k] as number))).toBeLessThan(5 * se);
      }
      tf.dispose([x, labels, known]);
    });
  },
);

describe("obsMask's combined site is deterministic (Pyro's and NumPyro's _masked_observe)", () => {
  const imputed = (y: tf.Tensor, m: tf.Tensor): void => {
    const mu = ppl.sample('mu', new D.Normal(0, 5));
    ppl.plate('data', y.shape[0] as number, () => {
      ppl.sample('y', new D.Normal(mu, 1), { obs: y, obsMask: m });
    });
  };
  it('flagged as deterministic; logLikelihood leaves it out; Predictive recomputes it from each draw', () => {
    const y = tf.tensor1d([0.5, 0, 1.5, 0]);
    const m = tf.tensor1d([true, false, true, false], 'bool');
    const draws = {
      mu: tf.tensor1d([0.2, 0.9]),
      y_unobserved: tf.tensor2d([
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ]),
    };
    const stale = tf.zeros([2, 4]);
    const before = tf.memory().numTensors;
    const tr = ppl.trace(ppl.seed(imputed, 1)).getTrace(y, m);
    expect(tr.get('y')?.infer.deterministic).toBe(true);
    expect(tr.get('y')?.mask).toBe(false);
    tr.dispose();
    const ll = ppl.logLikelihood(imputed, draws, y, m);
    expect(Object.keys(ll)).toEqual(['y_observed']);
    // the observed entries scored at each mu, the missing ones 0 (NumPyro's masked distribution)
    const l = ll.y_observed?.arraySync() as number[][];
    [0.2, 0.9].forEach((mu, s) =>
      [0.5, 0, 1.5, 0].forEach((v, i) =>
        expect(l[s]?.[i]).toBeCloseTo(
          i % 2 === 0 ? -0.5 * (v - mu) ** 2 - 0.5 * Math.log(2 * Math.PI) : 0,
          5,
        ),
      ),
    );
    const p = new ppl.Predictive(imputed, {
      posteriorSamples: { ...draws, y: stale },
    }).call(y, m);
    // y is where(m, obs, y_unobserved) of each draw, not the stale value among the samples
    expect(p.y?.arraySync()).toEqual([
      [0.5, 2, 1.5, 4],
      [0.5, 6, 1.5, 8],
    ]);
    tf.dispose([...Object.values(ll), ...Object.values(p)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, m, stale, ...Object.values(draws)]);
  });
});

describe('missing continuous data (obsMask) in a mixture whose assignment is enumerated', () => {
  it('TraceEnumELBO with the guide imputing x_unobserved is minus the exact log mixture density', () => {
    const xv = [-1.2, 0.3, 2.5, 3.1];
    const mv = [true, false, true, false];
    const imputedV = [9, 0.7, 9, 2.2]; // the guide's values (placeholders where observed)
    const locsV = [-1, 2.5];
    const mixture = (x: tf.Tensor, m: tf.Tensor): void => {
      ppl.plate('data', xv.length, () => {
        const c = ppl.sample('c', new D.Categorical({ probs: tf.tensor1d(PI) }), { infer: ENUM });
        const loc = tf.gather(tf.tensor1d(locsV), tf.cast(c, 'int32'));
        ppl.sample('x', new D.Normal(loc, 1), { obs: x, obsMask: m });
      });
    };
    const guide = (): void => {
      ppl.plate('data', xv.length, () =>
        ppl.sample('x_unobserved', new D.Delta(tf.tensor1d(imputedV))),
      );
    };
    const x = tf.tensor1d(xv);
    const m = tf.tensor1d(mv, 'bool');
    const before = tf.memory().numTensors;
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss<[tf.Tensor, tf.Tensor]>(
      mixture,
      guide,
      x,
      m,
    );
    expect(tf.memory().numTensors).toBe(before);
    // each entry, observed or imputed, scored by the mixture with its assignment summed out
    const ref = xv.reduce((acc, xi, i) => {
      const v = mv[i] ? xi : (imputedV[i] as number);
      return acc + lse(PI.map((p, k) => Math.log(p) + lnorm(v, locsV[k] as number, 1)));
    }, 0);
    expect(loss).toBeCloseTo(-ref, 4);
    tf.dispose([x, m]);
  });
});
