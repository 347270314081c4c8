/**
 * The robustness sweep, part 2 (moments and gradients) over every family of `sweep_cases.ts`:
 * `mean`/`variance`/`entropy` against Monte Carlo estimates on 20k seeded draws of a batch `[3]`
 * (tolerance from the estimate's standard error), and `logProb` differentiable in the parameters
 * (finite, matching central finite differences) and, for continuous families, in the value.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { clearSeed, distributions, setSeed } from '../../src/index.js';
import { SWEEP, freeMade, type SweepRow } from './sweep_cases.js';

type Dist = distributions.Distribution;

afterEach(() => clearSeed());

const N = 20000;

/** Per-coordinate mean, variance, and fourth central moment of `[N, ...rest]` draws (float64). */
function stats(
  x: Float32Array | Int32Array | Uint8Array,
  n: number,
): {
  mean: number[];
  v: number[];
  m4: number[];
} {
  const k = x.length / n;
  const mean = new Array<number>(k).fill(0);
  const v = new Array<number>(k).fill(0);
  const m4 = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) mean[j]! += x[i * k + j]! / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const dlt = x[i * k + j]! - mean[j]!;
      v[j]! += (dlt * dlt) / n;
      m4[j]! += (dlt * dlt * dlt * dlt) / n;
    }
  }
  return { mean, v, m4 };
}

/** Build, run, dispose, and check that nothing is left. */
function withDist(row: SweepRow, batch: number[], body: (dist: Dist) => void): void {
  const before = tf.memory().numTensors;
  const dist = row.make(batch);
  try {
    body(dist);
  } finally {
    dist.dispose();
    freeMade();
  }
  expect(tf.memory().numTensors, 'tensors left').toBe(before);
}

/** A moment of the distribution as a flat array, leaving no tensor behind. */
function read(f: () => tf.Tensor): number[] {
  const before = tf.memory().numTensors;
  const t = f();
  const out = Array.from(t.dataSync());
  t.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

/** |est - ref| <= z * se (+ a float32 floor), coordinate by coordinate. */
function expectWithin(what: string, est: number[], ref: number[], se: number[], z: number): void {
  expect(est.length, `${what} length`).toBe(ref.length);
  est.forEach((e, i) => {
    const r = ref[i]!;
    const tol = z * se[i]! + 1e-4 * (1 + Math.abs(r));
    expect(Number.isFinite(r), `${what}[${i}] finite: ${r}`).toBe(true);
    expect(Math.abs(e - r), `${what}[${i}]: MC ${e} vs ${r} (tol ${tol})`).toBeLessThanOrEqual(tol);
  });
}

const momentRows = SWEEP.filter((r) => r.moments.length > 0);

describe.each(momentRows)('$name moments', (row) => {
  it(`${row.moments.join('/')} match ${N} draws within the Monte Carlo error`, () => {
    setSeed(11);
    withDist(row, [3], (dist) => {
      const z = row.zMax ?? 5;
      const x = dist.sample([N]);
      try {
        if (row.circular === true) {
          circularMoments(dist, x, z);
        } else {
          linearMoments(dist, x, z, row);
        }
        if (row.moments.includes('entropy')) {
          const ref = read(() => dist.entropy());
          const lp = dist.logProb(x);
          try {
            const ls = stats(lp.dataSync() as Float32Array, N);
            const se = ls.v.map((v) => Math.sqrt(v / N));
            expectWithin(
              'entropy',
              ls.mean.map((m) => -m),
              ref,
              se,
              z,
            );
          } finally {
            lp.dispose();
          }
        }
      } finally {
        x.dispose();
      }
    });
  });
});

/** Mean and variance of the draws `x` against the family's, within `z` standard errors. */
function linearMoments(dist: Dist, x: tf.Tensor, z: number, row: SweepRow): void {
  const s = stats(x.dataSync() as Float32Array, N);
  if (row.moments.includes('mean')) {
    const ref = read(() => dist.mean());
    const se = s.v.map((v) => Math.sqrt(v / N));
    expectWithin('mean', s.mean, ref, se, z);
  }
  if (row.moments.includes('variance')) {
    const ref = read(() => dist.variance());
    const se = s.m4.map((m4, j) => Math.sqrt(Math.max(m4 - s.v[j]! ** 2, 0) / N));
    expectWithin('variance', s.v, ref, se, z);
  }
}

/**
 * Circular mean `atan2(E sin X, E cos X)` and circular variance `1 - R`, `R = |E e^{iX}|`, of the
 * draws against the family's (standard errors from the draws of `sin X`, `cos X`; delta method).
 */
function circularMoments(dist: Dist, x: tf.Tensor, z: number): void {
  const xv = x.dataSync();
  const k = xv.length / N;
  const sn = stats(Float32Array.from(xv, Math.sin), N);
  const cs = stats(Float32Array.from(xv, Math.cos), N);
  const mean = read(() => dist.mean());
  const variance = read(() => dist.variance());
  for (let j = 0; j < k; j++) {
    const s = sn.mean[j]!;
    const c = cs.mean[j]!;
    const r = Math.hypot(s, c);
    const seS = Math.sqrt(sn.v[j]! / N);
    const seC = Math.sqrt(cs.v[j]! / N);
    // d atan2 ~ sqrt(seS^2 c^2 + seC^2 s^2) / R^2; d R ~ max(seS, seC)
    const seAngle = Math.sqrt(seS ** 2 * c ** 2 + seC ** 2 * s ** 2) / r ** 2;
    let dAngle = Math.atan2(s, c) - mean[j]!;
    dAngle = Math.atan2(Math.sin(dAngle), Math.cos(dAngle));
    expect(Math.abs(dAngle), `circular mean[${j}]`).toBeLessThanOrEqual(z * seAngle + 1e-4);
    expect(Math.abs(1 - r - variance[j]!), `circular variance[${j}]`).toBeLessThanOrEqual(
      z * Math.max(seS, seC) + 1e-4,
    );
  }
}

const gradRows = SWEEP.filter((r) => r.grad !== undefined);

describe.each(gradRows)('$name gradients', (row) => {
  it('logProb is differentiable in the parameters: finite, equal to finite differences', () => {
    const g = row.grad!;
    setSeed(12);
    const probe = g.build(g.theta.map((t) => tf.scalar(t)));
    const x = probe.sample([3]);
    probe.dispose();
    freeMade();
    const before = tf.memory().numTensors;
    const f = (theta: tf.Tensor[]): tf.Tensor => {
      const dist = g.build(theta);
      try {
        return tf.sum(dist.logProb(x));
      } finally {
        dist.dispose();
        freeMade();
      }
    };
    const params = g.theta.map((t) => tf.scalar(t));
    const grads = tf.grads((...p: tf.Tensor[]) => f(p))(params);
    const gv = grads.map((t) => t.dataSync()[0]!);
    tf.dispose(grads);
    const h = 1e-2;
    const fd = g.theta.map((_, i) => {
      const at = (delta: number): number =>
        tf.tidy(() => f(g.theta.map((t, j) => tf.scalar(j === i ? t + delta : t))).dataSync()[0]!);
      return (at(h) - at(-h)) / (2 * h);
    });
    tf.dispose(params);
    expect(tf.memory().numTensors, 'tensors left').toBe(before);
    x.dispose();
    gv.forEach((v, i) => {
      expect(Number.isFinite(v), `d/dtheta_${i} finite: ${v}`).toBe(true);
      expect(Math.abs(v - fd[i]!), `d/dtheta_${i}: ${v} vs FD ${fd[i]}`).toBeLessThanOrEqual(
        2e-2 * Math.abs(fd[i]!) + 2e-2,
      );
    });
  });
});

const valueRows = SWEEP.filter(
  (r) => r.continuous && r.noSample === undefined && r.name !== 'LKJCholesky' && r.name !== 'LKJ',
);

describe.each(valueRows)('$name value gradient', (row) => {
  it('logProb is differentiable in the value (finite; finite differences on one coordinate)', () => {
    setSeed(13);
    withDist(row, [3], (dist) => {
      const x = dist.sample([2]);
      const before = tf.memory().numTensors;
      const g = tf.grad((v: tf.Tensor) => tf.sum(dist.logProb(v)))(x);
      const gv = Array.from(g.dataSync());
      g.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(
        gv.every((v) => Number.isFinite(v)),
        `finite: ${gv.slice(0, 6).join(',')}`,
      ).toBe(true);
      // a free coordinate: an interior value of a scalar family (event families move on a
      // constrained set, where a single-coordinate difference leaves the support)
      if (dist.eventShape.length === 0) {
        const xv = Array.from(x.dataSync());
        const h = 1e-3 * Math.max(1, Math.abs(xv[0]!));
        const at = (delta: number): number =>
          tf.tidy(() => {
            const y = xv.slice();
            y[0]! += delta;
            return tf.sum(dist.logProb(tf.tensor(y, x.shape))).dataSync()[0]!;
          });
        const fd = (at(h) - at(-h)) / (2 * h);
        expect(Math.abs(gv[0]! - fd), `${gv[0]} vs FD ${fd}`).toBeLessThanOrEqual(
          3e-2 * Math.abs(fd) + 3e-2,
        );
      }
      x.dispose();
    });
  });
});
