/**
 * NumPyro's `holt_winters.py` (additive Holt-Winters exponential smoothing as a `scan`), ported
 * as its users write it: Beta smoothing factors, a `HalfNormal` noise, the initial level, trend
 * and `n_seasons` seasonal terms (a plate), and a `scan` over `t = 0..T+future-1` whose carry is
 * `(level, trend, seasonality[n_seasons])`, `pred ~ Normal(mu_t, noise)` conditioned on `y` for
 * the first `T` steps only (NumPyro's forecasting pattern), `y_forecast` the deterministic last
 * `future` predictions. References (float64 hand loop of the recursions): the log joint at
 * given parameters, and the forecast draws at fixed parameters (`substitute`), whose step-`h`
 * mean is `level_T + h trend_T + season_T[(h - 1) mod n]` and sd `noise` (Monte Carlo, 5 SE).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => clearSeed());

const Y = [1.2, 2.9, 0.4, 1.8, 3.2, 0.9, 2.1, 3.8, 1.2, 2.6, 4.1, 1.7];
const N_SEASONS = 3;
const FUTURE = 4;

function holtWinters(y: tf.Tensor, nSeasons: number, future = 0): void {
  const T = y.shape[0] as number;
  const levelSmoothing = ppl.sample('level_smoothing', new D.Beta(1, 1));
  const trendSmoothing = ppl.sample('trend_smoothing', new D.Beta(1, 1));
  const seasonalitySmoothing = ppl.sample('seasonality_smoothing', new D.Beta(1, 1));
  const adj = tf.mul(seasonalitySmoothing, tf.sub(1, levelSmoothing));
  const noise = ppl.sample('noise', new D.HalfNormal(1));
  const levelInit = ppl.sample('level_init', new D.Normal(0, 1));
  const trendInit = ppl.sample('trend_init', new D.Normal(0, 1));
  const seasonalityInit = ppl.plate('n_seasons', nSeasons, () =>
    ppl.sample('seasonality_init', new D.Normal(0, 1)),
  );
  type Carry = [tf.Tensor, tf.Tensor, tf.Tensor];
  const transition = (carry: Carry, t: tf.Tensor): readonly [Carry, tf.Tensor] => {
    const [prevLevel, prevTrend, prevSeason] = carry;
    const inData = tf.less(t, T);
    const yt = tf.gather(y, tf.minimum(t, tf.scalar(T - 1, 'int32')));
    const s0 = tf.gather(prevSeason, 0);
    const level = tf.where(
      inData,
      tf.add(
        tf.mul(levelSmoothing, tf.sub(yt, s0)),
        tf.mul(tf.sub(1, levelSmoothing), tf.add(prevLevel, prevTrend)),
      ),
      prevLevel,
    );
    const trend = tf.where(
      inData,
      tf.add(
        tf.mul(trendSmoothing, tf.sub(level, prevLevel)),
        tf.mul(tf.sub(1, trendSmoothing), prevTrend),
      ),
      prevTrend,
    );
    const newSeason = tf.where(
      inData,
      tf.add(tf.mul(adj, tf.sub(yt, tf.add(prevLevel, prevTrend))), tf.mul(tf.sub(1, adj), s0)),
      s0,
    );
    const step = tf.where(inData, tf.scalar(1), tf.add(tf.sub(tf.cast(t, 'float32'), T), 1));
    const mu = tf.add(tf.add(prevLevel, tf.mul(step, prevTrend)), s0);
    const pred = ppl.sample('pred', new D.Normal(mu, noise));
    const season = tf.concat([tf.slice(prevSeason, 1), tf.reshape(newSeason, [1])]);
    return [[level, trend, season], pred] as const;
  };
  const [, preds] = ppl.condition(
    () =>
      ppl.scan(
        transition,
        [levelInit, trendInit, seasonalityInit] as Carry,
        tf.range(0, T + future, 1, 'int32'),
      ),
    { pred: y },
  )();
  if (future > 0) ppl.deterministic('y_forecast', tf.slice(preds, T));
}

interface Params {
  ls: number;
  ts: number;
  ss: number;
  noise: number;
  level: number;
  trend: number;
  season: number[];
}
const P: Params = {
  ls: 0.4,
  ts: 0.2,
  ss: 0.3,
  noise: 0.6,
  level: 1.1,
  trend: 0.05,
  season: [0.3, 1.2, -0.9],
};

/** Float64 hand loop: the one-step means of the data, and the state after the data. */
function handLoop(p: Params): { mus: number[]; level: number; trend: number; season: number[] } {
  let level = p.level;
  let trend = p.trend;
  let season = [...p.season];
  const adj = p.ss * (1 - p.ls);
  const mus: number[] = [];
  for (const yt of Y) {
    const s0 = season[0] as number;
    mus.push(level + trend + s0);
    const l = p.ls * (yt - s0) + (1 - p.ls) * (level + trend);
    const tr = p.ts * (l - level) + (1 - p.ts) * trend;
    const ns = adj * (yt - (level + trend)) + (1 - adj) * s0;
    season = [...season.slice(1), ns];
    level = l;
    trend = tr;
  }
  return { mus, level, trend, season };
}
const lnorm = (x: number, m: number, s: number): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * Math.log(2 * Math.PI);

const values = (p: Params): Record<string, tf.Tensor> => ({
  level_smoothing: tf.scalar(p.ls),
  trend_smoothing: tf.scalar(p.ts),
  seasonality_smoothing: tf.scalar(p.ss),
  noise: tf.scalar(p.noise),
  level_init: tf.scalar(p.level),
  trend_init: tf.scalar(p.trend),
  seasonality_init: tf.tensor1d(p.season),
});

describe("NumPyro's Holt-Winters (scan with a vector carry, forecasting)", () => {
  it('the log joint at given parameters equals the float64 hand loop of the recursions', () => {
    const y = tf.tensor1d(Y);
    const v = values(P);
    const before = tf.memory().numTensors;
    const tr = ppl.trace(ppl.substitute(holtWinters, v)).getTrace(y, N_SEASONS);
    expect(tr.value('pred').shape).toEqual([Y.length]);
    expect(tr.get('pred')?.isObserved).toBe(true);
    const lp = tr.logProbSum();
    const got = lp.dataSync()[0] as number;
    lp.dispose();
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const { mus } = handLoop(P);
    let ref = Y.reduce((a, yt, t) => a + lnorm(yt, mus[t] as number, P.noise), 0);
    // priors: Beta(1, 1) densities are 1; HalfNormal(1); Normal(0, 1) for the initial states
    ref += Math.log(2) + lnorm(P.noise, 0, 1) + lnorm(P.level, 0, 1) + lnorm(P.trend, 0, 1);
    ref += P.season.reduce((a, s) => a + lnorm(s, 0, 1), 0);
    expect(got).toBeCloseTo(ref, 3);
    tf.dispose([y, ...Object.values(v)]);
  });

  it('Predictive forecasts: pred [S, T + F] holds y, y_forecast [S, F] has the closed-form means and sd', () => {
    const y = tf.tensor1d(Y);
    const v = values(P);
    const S = 150;
    const posterior = Object.fromEntries(
      Object.entries(v).map(([k, t]) => [
        k,
        tf.tile(tf.expandDims(t, 0), [S, ...t.shape.map(() => 1)]),
      ]),
    );
    setSeed(6); // the forecast draws come from the global stream
    const before = tf.memory().numTensors;
    const out = new ppl.Predictive(holtWinters, {
      posteriorSamples: posterior,
      returnSites: ['pred', 'y_forecast'],
    }).call(y, N_SEASONS, FUTURE);
    expect(out.pred?.shape).toEqual([S, Y.length + FUTURE]);
    expect(out.y_forecast?.shape).toEqual([S, FUTURE]);
    const pred = out.pred?.arraySync() as number[][];
    pred.forEach((row) => Y.forEach((yt, t) => expect(row[t]).toBeCloseTo(yt, 5)));
    const fc = out.y_forecast?.arraySync() as number[][];
    const { level, trend, season } = handLoop(P);
    for (let h = 1; h <= FUTURE; h++) {
      // past the data level and trend stay put and the seasons rotate:
      // mu = level_T + h trend_T + season_T[(h - 1) mod n_seasons]
      const want = level + h * trend + (season[(h - 1) % N_SEASONS] as number);
      const col = fc.map((r) => r[h - 1] as number);
      const mean = col.reduce((a, b) => a + b, 0) / S;
      const sd = Math.sqrt(col.reduce((a, x) => a + (x - mean) ** 2, 0) / (S - 1));
      expect(Math.abs(mean - want)).toBeLessThan(5 * (P.noise / Math.sqrt(S)));
      expect(Math.abs(sd - P.noise)).toBeLessThan(5 * P.noise * Math.sqrt(1 / (2 * S)));
    }
    tf.dispose(Object.values(out));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, ...Object.values(v), ...Object.values(posterior)]);
  });
});
