/**
 * posteriordb models (github.com/stan-dev/posteriordb) written in the probabilistic language, with
 * their data and Stan reference posterior summaries from `fixtures/posteriordb.json`. Shared by the
 * quick test in `posteriordb.test.ts` and the full `npm run test:posteriordb` script.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  HalfCauchy,
  HalfNormal,
  ImproperUniform,
  Normal,
} from '../../../src/distributions/index.js';
import { constraints } from '../../../src/distributions/index.js';
import { deterministic } from '../../../src/ppl/deterministic.js';
import { sample } from '../../../src/ppl/runtime.js';

/** Reference mean and sd of one scalar parameter (Stan names, 1-based indices). */
export interface RefStat {
  mean: number;
  sd: number;
}

interface Fixture {
  source: string;
  posteriors: Record<string, { data: Record<string, unknown>; reference: Record<string, RefStat> }>;
}

const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('./fixtures/posteriordb.json', import.meta.url)), 'utf8'),
) as Fixture;

/** A posteriordb posterior: the model, its reference summaries, and how to name our draws. */
export interface Posterior {
  name: string;
  model: () => void;
  reference: Record<string, RefStat>;
  /** Free the data tensors. */
  dispose(): void;
}

function get(name: string): { data: Record<string, unknown>; reference: Record<string, RefStat> } {
  const p = fixture.posteriors[name];
  if (p === undefined) throw new Error(`posteriordb fixture: no posterior ${name}`);
  return p;
}

/** eight_schools-eight_schools_noncentered: `theta = mu + tau * theta_trans`, tau ~ HalfCauchy(5). */
export function eightSchoolsNoncentered(): Posterior {
  const { data, reference } = get('eight_schools-eight_schools_noncentered');
  const y = tf.tensor1d(data.y as number[]);
  const sigma = tf.tensor1d(data.sigma as number[]);
  const J = data.J as number;
  const model = (): void => {
    const thetaTrans = sample('theta_trans', new Normal(tf.zeros([J]), 1));
    const mu = sample('mu', new Normal(0, 5));
    const tau = sample('tau', new HalfCauchy(5));
    const theta = deterministic('theta', tf.add(tf.mul(thetaTrans, tau), mu));
    sample('y', new Normal(theta, sigma), { obs: y });
  };
  return {
    name: 'eight_schools_noncentered',
    model,
    reference,
    dispose: () => tf.dispose([y, sigma]),
  };
}

/** sblri-blr: `y ~ Normal(X beta, sigma)`, beta ~ Normal(0, 10), sigma ~ HalfNormal(10). */
export function sblriBlr(): Posterior {
  const { data, reference } = get('sblri-blr');
  const X = tf.tensor2d(data.X as number[][]);
  const y = tf.tensor1d(data.y as number[]);
  const D = data.D as number;
  const model = (): void => {
    const beta = sample('beta', new Normal(tf.zeros([D]), 10));
    const sigma = sample('sigma', new HalfNormal(10));
    const mu = tf.squeeze(tf.matMul(X, tf.reshape(beta, [D, 1])), [1]);
    sample('y', new Normal(mu, sigma), { obs: y });
  };
  return { name: 'sblri-blr', model, reference, dispose: () => tf.dispose([X, y]) };
}

/**
 * kidiq-kidscore_momiq (badly scaled: intercept ~26, slope ~0.6 on IQs ~100): flat priors on
 * beta, sigma ~ HalfCauchy(2.5).
 */
export function kidscoreMomiq(): Posterior {
  const { data, reference } = get('kidiq-kidscore_momiq');
  const score = tf.tensor1d(data.kid_score as number[]);
  const iq = tf.tensor1d(data.mom_iq as number[]);
  const model = (): void => {
    const beta = sample('beta', new ImproperUniform(constraints.realVector, [], [2]));
    const sigma = sample('sigma', new HalfCauchy(2.5));
    const [b0, b1] = tf.split(beta, 2);
    sample('kid_score', new Normal(tf.add(b0 as tf.Tensor, tf.mul(b1 as tf.Tensor, iq)), sigma), {
      obs: score,
    });
  };
  return { name: 'kidiq-kidscore_momiq', model, reference, dispose: () => tf.dispose([score, iq]) };
}

/** arK-arK: AR(5), alpha, beta ~ Normal(0, 10), sigma ~ HalfCauchy(2.5). */
export function arK(): Posterior {
  const { data, reference } = get('arK-arK');
  const K = data.K as number;
  const T = data.T as number;
  const ys = data.y as number[];
  const lags: number[][] = [];
  for (let t = K; t < T; t++)
    lags.push(Array.from({ length: K }, (_, k) => ys[t - k - 1] as number));
  const L = tf.tensor2d(lags);
  const y = tf.tensor1d(ys.slice(K));
  const model = (): void => {
    const alpha = sample('alpha', new Normal(0, 10));
    const beta = sample('beta', new Normal(tf.zeros([K]), 10));
    const sigma = sample('sigma', new HalfCauchy(2.5));
    const mu = tf.add(alpha, tf.squeeze(tf.matMul(L, tf.reshape(beta, [K, 1])), [1]));
    sample('y', new Normal(mu, sigma), { obs: y });
  };
  return { name: 'arK-arK', model, reference, dispose: () => tf.dispose([L, y]) };
}

/** Where the fixture comes from (printed with results). */
export const POSTERIORDB_SOURCE = fixture.source;

/**
 * Compare our draws with the reference: for each reference parameter `name` or `name[i]`
 * (1-based), the standardized mean error `|mean - ref| / ref.sd` and the sd ratio.
 */
export function compare(
  posterior: Posterior,
  samples: Record<string, tf.Tensor>,
): {
  param: string;
  mean: number;
  sd: number;
  refMean: number;
  refSd: number;
  zMean: number;
  sdRatio: number;
}[] {
  const rows = [];
  for (const [param, ref] of Object.entries(posterior.reference)) {
    const m = /^(\w+)(?:\[(\d+)\])?$/.exec(param);
    if (m === null) continue;
    const site = m[1] as string;
    const t = samples[site];
    if (t === undefined) throw new Error(`no draws of site ${site}`);
    const n = t.shape[0] as number;
    const size = t.size / n;
    const idx = m[2] === undefined ? 0 : Number(m[2]) - 1;
    const v = t.dataSync();
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i * size + idx] as number;
    const mean = s / n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += ((v[i * size + idx] as number) - mean) ** 2;
    const sd = Math.sqrt(ss / (n - 1));
    rows.push({
      param,
      mean,
      sd,
      refMean: ref.mean,
      refSd: ref.sd,
      zMean: Math.abs(mean - ref.mean) / ref.sd,
      sdRatio: sd / ref.sd,
    });
  }
  return rows;
}
