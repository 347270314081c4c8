/**
 * The sequential Monte Carlo filter (Pyro's `SMCFilter`) on a 1-D linear-Gaussian state-space
 * model, against the exact Kalman filter written here in float64 (itself checked against the
 * project's `GaussianHMM.filter`):
 *
 * `z_{-1} ~ N(0, s0²)`, `z_t = a z_{t-1} + w_t`, `w_t ~ N(0, q²)`, `y_t ~ N(z_t, r²)`.
 *
 * The filter's estimates of the filtering mean and variance are compared within a Monte Carlo
 * tolerance: the standard error of a weighted mean of `N` particles is `sqrt(c P_t / N)`, with
 * `c >= 1` the inflation of the particle system's asymptotic variance over i.i.d. draws, and
 * that of a variance `P_t sqrt(2 c / N)`. Measured for this model and data (mean squared
 * z-score over 16 seeds, N = 1000): at most 8.7 (the bootstrap filter at the outlying y_6),
 * at most 3.6 with the locally optimal proposal; `c = 12` is used and each estimate is checked
 * within 4 standard errors.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { thrown } from '../helpers.js';
import {
  a,
  bootstrap,
  kalman,
  model,
  optimal,
  q,
  r,
  s0,
  ys,
  type Args,
} from './fixtures/linear_gaussian_ssm.js';

afterEach(() => clearSeed());

const C = 12;

function runFilter(
  guide: ppl.SMCProgram<[], Args>,
  n: number,
  essThreshold = 0.5,
): { m: number[]; v: number[]; filter: ppl.SMCFilter<[], Args> } {
  const filter = new ppl.SMCFilter(model, guide, { numParticles: n, essThreshold });
  filter.init();
  const m: number[] = [];
  const v: number[] = [];
  ys.forEach((yv, t) => {
    const y = tf.scalar(yv);
    filter.step(y, t);
    y.dispose();
    const { z } = filter.getEmpirical();
    const mt = z!.mean();
    const vt = z!.variance();
    m.push(mt.dataSync()[0] as number);
    v.push(vt.dataSync()[0] as number);
    tf.dispose([mt, vt]);
    z!.dispose();
  });
  return { m, v, filter };
}

describe('SMCFilter', () => {
  it('the float64 Kalman reference agrees with GaussianHMM.filter', () => {
    const { m, P } = kalman(ys);
    const hmm = new D.GaussianHMM(
      new D.Normal([0], [s0]).toEvent(1),
      [[a]],
      new D.Normal([0], [q]).toEvent(1),
      [[1]],
      new D.Normal([0], [r]).toEvent(1),
    );
    for (const T of [1, 4, ys.length]) {
      const post = hmm.filter(tf.tensor2d(ys.slice(0, T).map((y) => [y])));
      expect(post.mean().dataSync()[0]).toBeCloseTo(m[T - 1]!, 5);
      expect(post.variance().dataSync()[0]).toBeCloseTo(P[T - 1]!, 5);
    }
  });

  for (const [name, guide, thr] of [
    ['bootstrap', bootstrap, 0.5],
    ['locally optimal proposal', optimal, 0.5],
    ['resampling at every step (essThreshold 1)', bootstrap, 1],
  ] as const) {
    it(`${name}: filtering mean and variance match the Kalman filter at every step`, () => {
      setSeed(17);
      const n = 1000;
      const { m, P } = kalman(ys);
      const before = tf.memory().numTensors;
      const res = runFilter(guide, n, thr);
      expect(tf.memory().numTensors).toBe(before + 1); // the state's z
      for (let t = 0; t < ys.length; t++) {
        const seMean = Math.sqrt((C * P[t]!) / n);
        const seVar = P[t]! * Math.sqrt((2 * C) / n);
        expect(Math.abs(res.m[t]! - m[t]!), `mean at ${t}`).toBeLessThan(4 * seMean);
        expect(Math.abs(res.v[t]! - P[t]!), `variance at ${t}`).toBeLessThan(4 * seVar);
      }
      if (thr === 1) expect(res.filter.numResamples).toBe(ys.length);
      res.filter.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('a plate inside the particles (maxPlateNesting 1): two independent series', () => {
    setSeed(23);
    const ys2 = ys.map((y, t) => [y, ys[ys.length - 1 - t]!]);
    const model2: ppl.SMCProgram<[], Args> = {
      init(state) {
        ppl.plate('series', 2, { dim: -1 }, () =>
          state.set('z', ppl.sample('z_init', new D.Normal(0, s0))),
        );
      },
      step(state, y, t) {
        ppl.plate('series', 2, { dim: -1 }, () => {
          const z = ppl.sample(`z_${t}`, new D.Normal(tf.mul(state.get('z'), a), q));
          ppl.sample(`y_${t}`, new D.Normal(z, r), { obs: y });
          state.set('z', z);
        });
      },
    };
    const n = 1000;
    const filter = new ppl.SMCFilter(model2, bootstrap, { numParticles: n, maxPlateNesting: 1 });
    filter.init();
    ys2.forEach((yv, t) => {
      const y = tf.tensor1d(yv);
      filter.step(y, t);
      y.dispose();
    });
    const { z } = filter.getEmpirical();
    expect(z!.samples.shape).toEqual([n, 2]);
    const mean = z!.mean();
    const mt = Array.from(mean.dataSync());
    tf.dispose(mean);
    z!.dispose();
    for (const s of [0, 1]) {
      const ref = kalman(ys2.map((p) => p[s]!));
      const T = ys.length - 1;
      // the joint weights of two series: an ESS about that of one series squared over N, so
      // the inflation is larger: 3 c
      expect(Math.abs(mt[s]! - ref.m[T]!)).toBeLessThan(4 * Math.sqrt((3 * C * ref.P[T]!) / n));
    }
    filter.dispose();
  });

  it('systematic resampling copies each particle N w_j times on average over u', () => {
    const w = [0.05, 0.3, 0.0, 0.15, 0.25, 0.2, 0.05];
    const x = [-1.5, 0.2, 9.0, 1.1, -0.4, 2.3, 0.7];
    const n = w.length;
    const counts = new Array<number>(n).fill(0);
    let mean = 0;
    const G = 10000;
    for (let g = 0; g < G; g++) {
      const idx = ppl.systematicResample(w, (g + 0.5) / G);
      let sorted = idx.length === n;
      for (let i = 1; i < n; i++) sorted &&= idx[i]! >= idx[i - 1]!;
      expect(sorted).toBe(true);
      for (const j of idx) {
        counts[j]! += 1 / G;
        mean += x[j]! / (n * G);
      }
    }
    // over a midpoint grid of u the average is exact up to O(1/G)
    counts.forEach((c, j) => expect(c).toBeCloseTo(n * w[j]!, 3));
    expect(mean).toBeCloseTo(
      w.reduce((s, wj, j) => s + wj * x[j]!, 0),
      3,
    );
    // each particle gets floor or ceil of N w_j copies (low variance)
    for (const u of [0, 0.3, 0.77, 0.999]) {
      const idx = ppl.systematicResample(w, u);
      w.forEach((wj, j) => {
        const c = idx.filter((i) => i === j).length;
        expect(c === Math.floor(n * wj) || c === Math.ceil(n * wj)).toBe(true);
      });
    }
    expect(() => ppl.systematicResample(w, 1)).toThrow(/\bu\b/);
    expect(() => ppl.systematicResample([], 0.5)).toThrow(/probs/);
  });

  it('a resampling step keeps the weighted mean of the state (filter level, MC over seeds)', () => {
    // one step with heavy weights, essThreshold 1: the unweighted mean after resampling
    // estimates the weighted mean before it; averaged over R seeds the difference is ~0
    const n = 200;
    const R = 40;
    let diff = 0;
    let diff2 = 0;
    for (let s = 0; s < R; s++) {
      setSeed(100 + s);
      const filter = new ppl.SMCFilter(model, bootstrap, { numParticles: n, essThreshold: 1 });
      // the weights of this step, before resampling, via a threshold that never resamples
      const y = tf.scalar(2.5);
      const probe = new ppl.SMCFilter(model, bootstrap, {
        numParticles: n,
        essThreshold: 1e-9,
      });
      setSeed(100 + s);
      probe.init();
      probe.step(y, 0);
      const { z: zw } = probe.getEmpirical();
      const wm = zw!.mean();
      const weighted = wm.dataSync()[0] as number;
      tf.dispose(wm);
      zw!.dispose();
      probe.dispose();
      setSeed(100 + s);
      filter.init();
      filter.step(y, 0);
      y.dispose();
      expect(filter.numResamples).toBe(1);
      expect(Array.from(filter.logWeights)).toEqual(new Array(n).fill(0));
      const zs = Array.from(filter.state.get('z').dataSync());
      const unweighted = zs.reduce((p, v) => p + v, 0) / n;
      diff += (unweighted - weighted) / R;
      diff2 += (unweighted - weighted) ** 2 / R;
      filter.dispose();
    }
    const se = Math.sqrt((diff2 - diff * diff) / (R - 1));
    expect(Math.abs(diff)).toBeLessThan(4 * se + 1e-6);
    expect(se).toBeGreaterThan(0);
  });

  it('refuses bad arguments, options and state writes, naming them', () => {
    const cases: [() => unknown, string][] = [
      [() => new ppl.SMCFilter(model, bootstrap, { numParticles: 0 }), 'numParticles'],
      [() => new ppl.SMCFilter(model, bootstrap, {} as never), 'numParticles'],
      [
        () => new ppl.SMCFilter(model, bootstrap, { numParticles: 5, essThreshold: 0 }),
        'essThreshold',
      ],
      [
        () => new ppl.SMCFilter(model, bootstrap, { numParticles: 5, essThreshold: 1.5 }),
        'essThreshold',
      ],
      [
        () => new ppl.SMCFilter(model, bootstrap, { numParticles: 5, maxPlateNesting: 0.5 }),
        'maxPlateNesting',
      ],
      [
        () => new ppl.SMCFilter(model, bootstrap, { numParticles: 5, ess_threshold: 0.5 } as never),
        'ess_threshold',
      ],
      [
        () => new ppl.SMCFilter({ init: () => 0 } as never, bootstrap, { numParticles: 5 }),
        'model',
      ],
      [() => new ppl.SMCFilter(model, null as never, { numParticles: 5 }), 'guide'],
      [() => new ppl.SMCFilter(model, bootstrap, null as never), 'options'],
    ];
    for (const [f, name] of cases) {
      const err = thrown(f);
      expect(err, name).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).message).toContain(name);
    }
    const before = tf.memory().numTensors;
    // the guide may not write the state
    const writer: ppl.SMCProgram<[]> = {
      init: (state) => state.set('z', tf.zeros([4])),
      step: () => undefined,
    };
    const f1 = new ppl.SMCFilter(model as ppl.SMCProgram<[]>, writer, { numParticles: 4 });
    expect(() => f1.init()).toThrow(/state/);
    f1.dispose();
    // a state value without the particles first
    const badModel: ppl.SMCProgram<[]> = {
      init: (state) => state.set('z', tf.zeros([3])),
      step: () => undefined,
    };
    const f2 = new ppl.SMCFilter(badModel, bootstrap as ppl.SMCProgram<[]>, { numParticles: 4 });
    expect(() => f2.init()).toThrow(/\bz\b.*4 particles/);
    f2.dispose();
    expect(() => f2.state.get('nope')).toThrow(/nope/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('throws SMCFailed naming the site when every particle has zero weight', () => {
    const dead: ppl.SMCProgram<[]> = {
      init: (state) => state.set('z', ppl.sample('z0', new D.Normal(0, 1))),
      step: () => {
        ppl.factor('impossible', tf.fill([4], -Infinity));
      },
    };
    const before = tf.memory().numTensors;
    const f = new ppl.SMCFilter(dead, bootstrap as ppl.SMCProgram<[]>, { numParticles: 4 });
    f.init();
    expect(() => f.step()).toThrow(ppl.SMCFailed);
    expect(() => f.step()).toThrow(/impossible/);
    f.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is reproducible by seed; the tensor count is constant per step', () => {
    const run = (): number[] => {
      setSeed(31);
      const f = new ppl.SMCFilter(model, optimal, { numParticles: 50 });
      f.init();
      const y0 = tf.scalar(ys[0]!);
      f.step(y0, 0);
      const count = tf.memory().numTensors;
      for (let t = 1; t < 4; t++) {
        const y = tf.scalar(ys[t]!);
        f.step(y, t);
        y.dispose();
        expect(tf.memory().numTensors).toBe(count);
      }
      y0.dispose();
      const out = [...f.state.get('z').dataSync(), ...f.logWeights];
      f.dispose();
      return out;
    };
    const a1 = run();
    expect(run()).toEqual(a1);
  });
});
