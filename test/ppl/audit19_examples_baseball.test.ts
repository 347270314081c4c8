/**
 * NumPyro's `baseball.py` (Efron–Morris batting averages), its `partially_pooled_with_logit`
 * model as its users write it: `loc ~ Normal(-1, 1)`, `scale ~ HalfCauchy(1)`, per player
 * `alpha ~ Normal(loc, scale)` and `obs ~ Binomial(at_bats, logits=alpha)`; NUTS, then
 * `log_likelihood(model, posterior_samples, at_bats, hits)` on the rest of the season and the
 * log pointwise predictive density `log mean_s p(y_i | θ_s)`. References: each entry recomputed
 * on the host in float64 from the same draws (binomial log-pmf by @stdlib `gammaln`). And the
 * masked case: as NumPyro's `handlers.mask` / `obs_mask` fold the mask into the site's
 * distribution, `log_likelihood` gives 0 for the players a mask drops (it had scored them).
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';

afterEach(() => clearSeed());

// first 45 at-bats of 12 players, and a later stretch of the season (Efron-Morris style data)
const HITS = [18, 17, 16, 15, 14, 14, 13, 12, 11, 11, 10, 9];
const AT_BATS = HITS.map(() => 45);
const REST_AT_BATS = [367, 426, 521, 275, 418, 466, 586, 138, 510, 200, 277, 270];
const REST_HITS = [127, 127, 144, 61, 114, 126, 155, 29, 137, 46, 73, 69];
const N = HITS.length;

function partiallyPooledWithLogit(atBats: tf.Tensor, hits?: tf.Tensor, keep?: tf.Tensor): void {
  const loc = ppl.sample('loc', new D.Normal(-1, 1));
  const scale = ppl.sample('scale', new D.HalfCauchy(1));
  ppl.plate('num_players', atBats.shape[0] as number, () => {
    const alpha = ppl.sample('alpha', new D.Normal(loc, scale));
    const obs = (): tf.Tensor =>
      ppl.sample('obs', new D.Binomial(atBats, { logits: alpha }), { obs: hits });
    if (keep === undefined) obs();
    else ppl.mask(obs, keep)();
  });
}

const logSigmoid = (x: number): number =>
  x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
const binomLogPmf = (k: number, n: number, logit: number): number =>
  gammaln(n + 1) -
  gammaln(k + 1) -
  gammaln(n - k + 1) +
  k * logSigmoid(logit) +
  (n - k) * logSigmoid(-logit);

describe(
  "NumPyro's baseball: NUTS, log_likelihood and the pointwise predictive density",
  { timeout: 120_000 },
  () => {
    it('log_likelihood on the rest of the season and its lppd equal float64 recomputations from the draws', async () => {
      const atBats = tf.tensor1d(AT_BATS);
      const hits = tf.tensor1d(HITS);
      const m = new ppl.MCMC(new ppl.NUTS(partiallyPooledWithLogit), {
        numSamples: 200,
        warmupSteps: 200,
        seed: 4,
        progressBar: false,
      });
      await m.run(atBats, hits);
      const samples = m.getSamples();
      const restAtBats = tf.tensor1d(REST_AT_BATS);
      const restHits = tf.tensor1d(REST_HITS);
      const before = tf.memory().numTensors;
      const ll = ppl.logLikelihood(partiallyPooledWithLogit, samples, restAtBats, restHits);
      expect(Object.keys(ll)).toEqual(['obs']);
      expect(ll.obs?.shape).toEqual([200, N]);
      const got = ll.obs?.arraySync() as number[][];
      const alpha = samples.alpha?.arraySync() as number[][];
      const lppd: number[] = [];
      for (let i = 0; i < N; i++) {
        const col = alpha.map((row) =>
          binomLogPmf(REST_HITS[i] as number, REST_AT_BATS[i] as number, row[i] as number),
        );
        col.forEach((v, s) => expect(got[s]?.[i]).toBeCloseTo(v, 2));
        const mx = Math.max(...col);
        lppd.push(mx + Math.log(col.reduce((a, v) => a + Math.exp(v - mx), 0) / col.length));
      }
      // NumPyro's evaluate_pointwise_pred_density: logsumexp over draws minus log S
      const fromLl = tf.tidy(() => tf.sub(tf.logSumExp(ll.obs as tf.Tensor, 0), Math.log(200)));
      expect(fromLl).toBeAllclose(lppd, { rtol: 1e-4, atol: 1e-3 });
      fromLl.dispose();
      tf.dispose(Object.values(ll));
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([atBats, hits, restAtBats, restHits, ...Object.values(samples)]);
    });

    it('a mask (NumPyro folds it into the distribution) gives 0 for the dropped players, the rest unchanged', () => {
      const S = 5;
      const draws = {
        loc: tf.fill([S], -1),
        scale: tf.fill([S], 0.3),
        alpha: tf.tidy(() =>
          tf.add(-1.1, tf.mul(0.1, tf.randomNormal([S, N], 0, 1, 'float32', 3))),
        ),
      };
      const atBats = tf.tensor1d(REST_AT_BATS);
      const hits = tf.tensor1d(REST_HITS);
      const keepV = HITS.map((_, i) => i % 3 !== 1);
      const keep = tf.tensor1d(keepV, 'bool');
      const before = tf.memory().numTensors;
      const full = ppl.logLikelihood(partiallyPooledWithLogit, draws, atBats, hits);
      const masked = ppl.logLikelihood(partiallyPooledWithLogit, draws, atBats, hits, keep);
      const allOff = ppl.logLikelihood(
        (a: tf.Tensor, h: tf.Tensor) => ppl.mask(() => partiallyPooledWithLogit(a, h), false)(),
        draws,
        atBats,
        hits,
      );
      const f = full.obs?.arraySync() as number[][];
      const g = masked.obs?.arraySync() as number[][];
      f.forEach((row, s) => row.forEach((v, i) => expect(g[s]?.[i]).toBe(keepV[i] ? v : 0)));
      expect(Array.from(allOff.obs?.dataSync() ?? []).every((v) => v === 0)).toBe(true);
      tf.dispose([...Object.values(full), ...Object.values(masked), ...Object.values(allOff)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([atBats, hits, keep, ...Object.values(draws)]);
    });
  },
);
