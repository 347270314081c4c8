/**
 * NumPyro's semi-supervised hidden Markov model example (`hmm.py`), ported as its users write it:
 * `transition_prob` and `emission_prob` rows `Dirichlet`, the supervised categories and words
 * scored by `Categorical(transition_prob[categories[:-1]])` and
 * `Categorical(emission_prob[categories])`, the unsupervised words by a hand-written forward
 * algorithm (`forward_one_step`: `logsumexp(log_prob_tm1[:, None] + log A, 0) + log B[:, w]`)
 * injected by `numpyro.factor('forward_log_prob', ...)`, run by NUTS.
 *
 * Reference in float64: with two categories and two words every row is one number, so the
 * posterior is a 4-d grid over their logits (the Dirichlet densities with the logistic Jacobian),
 * the supervised part by counts and the unsupervised part by the forward algorithm in plain JS.
 * MCMC tolerances are 5 Monte Carlo standard errors from the draws' bulk ESS plus the grid's
 * resolution.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';
import { lcg, RunningWeightedMeans } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** NumPyro's `forward_one_step`: `logsumexp(prev[:, None] + logA, 0) + logB[:, word]`. */
function forwardOneStep(
  prev: tf.Tensor,
  word: number,
  logA: tf.Tensor,
  logB: tf.Tensor,
): tf.Tensor {
  const x = tf.add(tf.expandDims(prev, 1), logA);
  const emit = tf.squeeze(tf.slice(logB, [0, word], [-1, 1]), [1]);
  return tf.add(tf.logSumExp(x, 0), emit);
}

/** NumPyro's `forward_log_prob` (a `lax.scan` there, a loop here). */
function forwardLogProb(
  init: tf.Tensor,
  words: number[],
  logA: tf.Tensor,
  logB: tf.Tensor,
): tf.Tensor {
  return words.reduce((prev, w) => forwardOneStep(prev, w, logA, logB), init);
}

/** NumPyro's `semi_supervised_hmm`. */
function semiSupervisedHmm(
  transitionPrior: tf.Tensor,
  emissionPrior: tf.Tensor,
  supervisedCategories: tf.Tensor,
  supervisedWords: tf.Tensor,
  unsupervisedWords: number[],
): void {
  const numCategories = transitionPrior.shape[0]!;
  const numWords = emissionPrior.shape[0]!;
  const transitionProb = ppl.sample(
    'transition_prob',
    new D.Dirichlet(tf.broadcastTo(transitionPrior, [numCategories, numCategories])),
  );
  const emissionProb = ppl.sample(
    'emission_prob',
    new D.Dirichlet(tf.broadcastTo(emissionPrior, [numCategories, numWords])),
  );
  const n = supervisedCategories.shape[0]!;
  // a flat prior on the first supervised category
  ppl.sample(
    'supervised_categories',
    new D.Categorical(tf.gather(transitionProb, tf.slice(supervisedCategories, 0, n - 1))),
    { obs: tf.slice(supervisedCategories, 1, n - 1) },
  );
  ppl.sample('supervised_words', new D.Categorical(tf.gather(emissionProb, supervisedCategories)), {
    obs: supervisedWords,
  });
  const transitionLogProb = tf.log(transitionProb);
  const emissionLogProb = tf.log(emissionProb);
  const initLogProb = tf.squeeze(
    tf.slice(emissionLogProb, [0, unsupervisedWords[0]!], [-1, 1]),
    [1],
  );
  const logProb = forwardLogProb(
    initLogProb,
    unsupervisedWords.slice(1),
    transitionLogProb,
    emissionLogProb,
  );
  ppl.factor('forward_log_prob', tf.logSumExp(logProb, 0));
}

describe("NumPyro's semi-supervised HMM (hmm.py)", { timeout: 120_000 }, () => {
  it('NUTS with the forward algorithm as a factor: the transition and emission means match a 4-d grid', async () => {
    // simulate 2 categories, 2 words: stay probabilities 0.8 / 0.7, emission of the own word
    // 0.85 / 0.8; 30 supervised and 16 unsupervised steps
    const u = lcg(21);
    const A = [
      [0.8, 0.2],
      [0.3, 0.7],
    ];
    const B = [
      [0.85, 0.15],
      [0.2, 0.8],
    ];
    const cats: number[] = [0];
    const words: number[] = [];
    for (let t = 0; t < 46; t++) {
      if (t > 0) cats.push(u() < A[cats[t - 1]!]![0]! ? 0 : 1);
      words.push(u() < B[cats[t]!]![0]! ? 0 : 1);
    }
    const supC = cats.slice(0, 30);
    const supW = words.slice(0, 30);
    const unsW = words.slice(30);
    const transitionPrior = tf.ones([2]);
    const emissionPrior = tf.fill([2], 0.1);
    const sc = tf.tensor1d(supC, 'int32');
    const sw = tf.tensor1d(supW, 'int32');
    const mcmc = new ppl.MCMC(new ppl.NUTS(semiSupervisedHmm), {
      numSamples: 500,
      warmupSteps: 300,
      progressBar: false,
      seed: 6,
    });
    await mcmc.run(transitionPrior, emissionPrior, sc, sw, unsW);

    // the grid: p = A[0][0], q = A[1][1], r = B[0][0], s = B[1][1], each a logistic of its logit
    const cnt = { a00: 0, a01: 0, a10: 0, a11: 0, b00: 0, b01: 0, b10: 0, b11: 0 };
    for (let t = 1; t < supC.length; t++) {
      const k = `a${supC[t - 1]}${supC[t]}` as keyof typeof cnt;
      cnt[k] += 1;
    }
    supC.forEach((c, t) => (cnt[`b${c}${supW[t]}` as keyof typeof cnt] += 1));
    const G = 36;
    const lo = -5;
    const hi = 6;
    const logits = Array.from({ length: G }, (_, g) => lo + ((hi - lo) * (g + 0.5)) / G);
    const sig = (x: number): number => 1 / (1 + Math.exp(-x));
    // Dirichlet(alpha, alpha) on (v, 1 - v) times the Jacobian v (1 - v) of the logit
    const lpRow = (v: number, alpha: number, n0: number, n1: number): number =>
      (alpha + n0) * Math.log(v) + (alpha + n1) * Math.log(1 - v);
    const acc = new RunningWeightedMeans(4);
    for (const lp of logits) {
      const p = sig(lp);
      const wp = lpRow(p, 1, cnt.a00, cnt.a01);
      for (const lq of logits) {
        const q = sig(lq);
        const wq = lpRow(q, 1, cnt.a11, cnt.a10);
        for (const lr of logits) {
          const r = sig(lr);
          const wr = lpRow(r, 0.1, cnt.b00, cnt.b01);
          for (const ls of logits) {
            const s = sig(ls);
            const ws = lpRow(s, 0.1, cnt.b11, cnt.b10);
            // the forward algorithm in probability space (16 steps stay far from underflow)
            const b = [
              [r, 1 - r],
              [1 - s, s],
            ];
            let f0 = b[0]![unsW[0]!]!;
            let f1 = b[1]![unsW[0]!]!;
            for (let t = 1; t < unsW.length; t++) {
              const w = unsW[t]!;
              const n0 = (f0 * p + f1 * (1 - q)) * b[0]![w]!;
              f1 = (f0 * (1 - p) + f1 * q) * b[1]![w]!;
              f0 = n0;
            }
            const lw = wp + wq + wr + ws + Math.log(f0 + f1);
            acc.add(lw, [p, q, r, s]);
          }
        }
      }
    }
    const ref = acc.means();
    const checks: [string, number, number][] = [
      ['transition_prob', 0, ref[0]!],
      ['transition_prob', 3, ref[1]!],
      ['emission_prob', 0, ref[2]!],
      ['emission_prob', 3, ref[3]!],
    ];
    for (const [site, i, want] of checks) {
      const { mean, se } = meanAndSe(mcmc, site, i);
      expect(Math.abs(mean - want), `${site}[${i}]: ${mean} vs ${want}`).toBeLessThan(
        5 * se + 0.01,
      );
    }
    tf.dispose([transitionPrior, emissionPrior, sc, sw, ...Object.values(mcmc.getSamples())]);
  });
});
