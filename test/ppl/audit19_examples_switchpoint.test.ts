/**
 * The coal-mining switchpoint model (PyMC's classic, NumPyro's `DiscreteHMCGibbs` docs example),
 * ported as a NumPyro user writes it: `s ~ DiscreteUniform(0, T - 1)`, early and late rates
 * `e, l ~ Exponential(1)`, `d_t ~ Poisson(t < s ? e : l)`. Reference: with conjugate Gamma
 * rates the posterior of `s` is exact by enumeration,
 *
 * $$p(s \mid d) \propto \frac{\Gamma(1 + A_s)}{(1 + s)^{1 + A_s}}
 *   \frac{\Gamma(1 + B_s)}{(1 + T - s)^{1 + B_s}},\quad A_s = \sum_{t < s} d_t,\ B_s = \sum_{t \ge s} d_t,$$
 *
 * and `E[e | d] = Σ_s p(s | d) (1 + A_s) / (1 + s)` (likewise `l`). Checked: `DiscreteHMCGibbs`
 * (NUTS inside) on `s, e, l`; NUTS with `s` summed out (`configEnumerate`), then `s` recovered
 * by `Predictive(inferDiscrete(model), {posteriorSamples})` — the pattern of a user who wraps the
 * model themselves — and by `Predictive(model, {inferDiscrete: true})`; and `inferDiscrete` under
 * an outer `substitute` / `condition` / `replay` against the exact conditional `p(s | e, l, d)`
 * (the hidden runs of `inferDiscrete` had ignored the outer values and drawn fresh `e, l`).
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';

afterEach(() => clearSeed());

// British coal-mining disasters 1851-1885 (the first 35 years of the classic series)
const COUNTS = [
  4, 5, 4, 1, 0, 4, 3, 4, 0, 6, 3, 3, 4, 0, 2, 6, 3, 3, 5, 4, 5, 3, 1, 4, 4, 1, 5, 5, 3, 4, 2, 5, 2,
  2, 3,
].map((c, t) => (t < 20 ? c : Math.max(0, c - 3)));
const T = COUNTS.length;

function switchpoint(d: tf.Tensor): void {
  const s = ppl.sample('s', new D.DiscreteUniform(0, T - 1));
  const e = ppl.sample('e', new D.Exponential(1));
  const l = ppl.sample('l', new D.Exponential(1));
  const rate = tf.where(tf.less(tf.range(0, T), s), e, l);
  ppl.plate('years', T, () => ppl.sample('d', new D.Poisson(rate), { obs: d }));
}

/** The exact posterior of s (float64) and the posterior means of e, l, s. */
function exactPosterior(): { ps: number[]; e: number; l: number; s: number } {
  const lw: number[] = [];
  const eS: number[] = [];
  const lS: number[] = [];
  for (let s = 0; s < T; s++) {
    const a = COUNTS.slice(0, s).reduce((x, y) => x + y, 0);
    const b = COUNTS.slice(s).reduce((x, y) => x + y, 0);
    lw.push(
      gammaln(1 + a) - (1 + a) * Math.log(1 + s) + gammaln(1 + b) - (1 + b) * Math.log(1 + T - s),
    );
    eS.push((1 + a) / (1 + s));
    lS.push((1 + b) / (1 + T - s));
  }
  const m = Math.max(...lw);
  const w = lw.map((v) => Math.exp(v - m));
  const z = w.reduce((x, y) => x + y, 0);
  const ps = w.map((v) => v / z);
  const avg = (f: (i: number) => number): number => ps.reduce((acc, p, i) => acc + p * f(i), 0);
  return { ps, e: avg((i) => eS[i] as number), l: avg((i) => lS[i] as number), s: avg((i) => i) };
}

/** The exact conditional p(s | e, l, d) (float64). */
function exactConditional(e: number, l: number): number[] {
  const lw = Array.from({ length: T }, (_, s) =>
    COUNTS.reduce((acc, c, t) => {
      const r = t < s ? e : l;
      return acc + c * Math.log(r) - r;
    }, 0),
  );
  const m = Math.max(...lw);
  const w = lw.map((v) => Math.exp(v - m));
  const z = w.reduce((x, y) => x + y, 0);
  return w.map((v) => v / z);
}

const meanSd = (xs: number[]): { mean: number; sd: number } => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1);
  return { mean, sd: Math.sqrt(v) };
};

describe('the coal-mining switchpoint against exact enumeration', { timeout: 120_000 }, () => {
  const ex = exactPosterior();

  it('DiscreteHMCGibbs(NUTS): the means of s, e and l within 5 SE of the exact ones', async () => {
    const d = tf.tensor1d(COUNTS);
    const before = tf.memory().numTensors;
    const m = new ppl.MCMC(new ppl.DiscreteHMCGibbs(new ppl.NUTS(switchpoint)), {
      numSamples: 400,
      warmupSteps: 200,
      seed: 1,
      progressBar: false,
    });
    await m.run(d);
    for (const [site, want] of [
      ['s', ex.s],
      ['e', ex.e],
      ['l', ex.l],
    ] as const) {
      const { mean, se } = meanAndSe(m, site);
      expect(Math.abs(mean - want)).toBeLessThan(5 * se);
    }
    expect(tf.memory().numTensors).toBe(before);
    d.dispose();
  });

  it('NUTS with s summed out, then s by Predictive(inferDiscrete(model)) and {inferDiscrete: true}', async () => {
    const d = tf.tensor1d(COUNTS);
    const model = ppl.configEnumerate(switchpoint);
    const m = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 200,
      warmupSteps: 150,
      seed: 2,
      progressBar: false,
    });
    await m.run(d);
    const samples = m.getSamples();
    expect(Object.keys(samples).sort()).toEqual(['e', 'l']);
    for (const [site, want] of [
      ['e', ex.e],
      ['l', ex.l],
    ] as const) {
      const { mean, se } = meanAndSe(m, site);
      expect(Math.abs(mean - want)).toBeLessThan(5 * se);
    }
    const first = Object.fromEntries(
      Object.entries(samples).map(([k, t]) => [k, tf.slice(t, 0, 100)]),
    );
    // the discrete draws of inferDiscrete come from the global stream
    setSeed(8);
    const before = tf.memory().numTensors;
    const wrapped = new ppl.Predictive(ppl.inferDiscrete(model, { temperature: 1 }), {
      posteriorSamples: samples,
      returnSites: ['s', 'e'],
    }).call(d);
    const option = new ppl.Predictive(model, {
      posteriorSamples: first,
      returnSites: ['s'],
      inferDiscrete: true,
    }).call(d);
    // e is the posterior draw itself; s a draw of p(s | e_i, l_i, d), so E[s] is the exact mean
    expect(Array.from(wrapped.e?.dataSync() ?? [])).toEqual(
      Array.from(samples.e?.dataSync() ?? []),
    );
    for (const out of [wrapped, option]) {
      const sv = Array.from(out.s?.dataSync() ?? []);
      expect([200, 100]).toContain(sv.length);
      const { mean, sd } = meanSd(sv);
      const e = ppl.mcmc.ess([sv]);
      expect(Math.abs(mean - ex.s)).toBeLessThan(5 * (sd / Math.sqrt(Math.min(e, sv.length))));
    }
    tf.dispose([...Object.values(wrapped), ...Object.values(option)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...Object.values(samples), ...Object.values(first)]);
    d.dispose();
  });

  it('inferDiscrete under an outer substitute / condition / replay draws s given their e, l', () => {
    const d = tf.tensor1d(COUNTS);
    const model = ppl.configEnumerate(switchpoint);
    // two settings whose conditionals put their mass at opposite ends of the series
    for (const [e, l] of [
      [3.2, 0.9],
      [0.5, 3.5],
    ] as const) {
      const cond = exactConditional(e, l);
      const argmax = cond.indexOf(Math.max(...cond));
      const values = { e: tf.scalar(e), l: tf.scalar(l) };
      // a guide's trace holding the globals only (Pyro's GMM tutorial replays one)
      const given = ppl
        .trace(() => {
          ppl.sample('e', new D.Delta(values.e));
          ppl.sample('l', new D.Delta(values.l));
        })
        .getTrace();
      const before = tf.memory().numTensors;
      const outer = [
        (f: typeof model) => ppl.substitute(f, values),
        (f: typeof model) => ppl.condition(f, values),
        (f: typeof model) => ppl.replay(f, given),
      ];
      for (const wrap of outer) {
        const tr = ppl.trace(wrap(ppl.inferDiscrete(model, { temperature: 0 }))).getTrace(d);
        expect(tr.value('s').dataSync()[0]).toBe(argmax);
        expect(tr.value('e').dataSync()[0]).toBeCloseTo(e, 6);
        tr.dispose();
      }
      // temperature 1 under substitute: the frequencies of p(s | e, l, d), mean within 5 SE
      const draws: number[] = [];
      for (let i = 0; i < 60; i++) {
        const tr = ppl
          .trace(ppl.seed(ppl.substitute(ppl.inferDiscrete(model), values), 100 + i))
          .getTrace(d);
        draws.push(tr.value('s').dataSync()[0] as number);
        tr.dispose();
      }
      const mean = cond.reduce((acc, p, i) => acc + p * i, 0);
      const sd = Math.sqrt(cond.reduce((acc, p, i) => acc + p * (i - mean) ** 2, 0));
      expect(Math.abs(meanSd(draws).mean - mean)).toBeLessThan(5 * (sd / Math.sqrt(60)) + 1e-9);
      expect(tf.memory().numTensors).toBe(before);
      given.dispose();
      tf.dispose(Object.values(values));
    }
    d.dispose();
  });
});
