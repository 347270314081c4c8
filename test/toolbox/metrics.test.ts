import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox, ArgumentError, setSeed } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';

const { accuracy, nll, brierScore, calibration, auroc, aupr, fprAtTpr, oodMetrics } = toolbox;

function randomProbs(rng: () => number, n: number, k: number, sharp: number): number[][] {
  return Array.from({ length: n }, () => {
    const e = Array.from({ length: k }, () => Math.exp(sharp * (rng() * 2 - 1)));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  });
}

/** Brute-force ECE/MCE: loop over bins, collect members with lower < conf <= upper. */
function eceBrute(p: number[][], y: number[], B: number): { ece: number; mce: number } {
  let ece = 0;
  let mce = 0;
  for (let b = 0; b < B; b++) {
    const lo = b / B;
    const hi = (b + 1) / B;
    const members = p
      .map((row, i) => ({ c: Math.max(...row), ok: row.indexOf(Math.max(...row)) === y[i] }))
      .filter(({ c }) => (b === 0 ? c >= lo : c > lo) && c <= hi);
    if (members.length === 0) continue;
    const acc = members.filter((m) => m.ok).length / members.length;
    const conf = members.reduce((a, m) => a + m.c, 0) / members.length;
    ece += (members.length / p.length) * Math.abs(acc - conf);
    mce = Math.max(mce, Math.abs(acc - conf));
  }
  return { ece, mce };
}

/** O(n^2) AUROC by counting pairs. */
function aurocBrute(a: number[], b: number[]): number {
  let s = 0;
  for (const x of a) for (const z of b) s += z > x ? 1 : z === x ? 0.5 : 0;
  return s / (a.length * b.length);
}

/** Average precision and FPR@TPR by sweeping every distinct threshold. */
function sweepBrute(a: number[], b: number[], target: number): { ap: number; fpr: number } {
  const ts = [...new Set([...a, ...b])].sort((u, v) => v - u);
  let prevR = 0;
  let ap = 0;
  let fpr = 1;
  let found = false;
  for (const t of ts) {
    const tp = b.filter((v) => v >= t).length;
    const fp = a.filter((v) => v >= t).length;
    const r = tp / b.length;
    ap += (r - prevR) * (tp / (tp + fp));
    prevR = r;
    if (!found && r >= target) {
      fpr = fp / a.length;
      found = true;
    }
  }
  return { ap, fpr };
}

describe('classification metrics', () => {
  it('accuracy, NLL and Brier on a hand example', () => {
    const p = [
      [0.9, 0.1],
      [0.3, 0.7],
    ];
    expect(accuracy(p, [0, 0])).toBe(0.5);
    expect(nll(p, [0, 0])).toBeAllclose((-Math.log(0.9) - Math.log(0.3)) / 2);
    expect(brierScore(p, [0, 0])).toBeAllclose((0.01 + 0.01 + 0.49 + 0.49) / 2);
    const t = tf.tensor2d(p);
    expect(accuracy(t, tf.tensor1d([0, 1], 'int32'))).toBe(1);
    t.dispose();
  });

  it('ECE and MCE match a brute-force implementation on random data', () => {
    setSeed(3);
    const rng = makeRng();
    for (const [n, k, B, sharp] of [
      [500, 10, 15, 4],
      [300, 3, 10, 1],
      [200, 2, 7, 8],
    ] as const) {
      const p = randomProbs(rng, n, k, sharp);
      // labels correlated with the argmax so that bins differ
      const y = p.map((row) =>
        rng() < Math.max(...row) ? row.indexOf(Math.max(...row)) : Math.floor(rng() * k),
      );
      const got = calibration(p, y, B);
      const ref = eceBrute(p, y, B);
      expect(got.ece).toBeAllclose(ref.ece, { rtol: 1e-10 });
      expect(got.mce).toBeAllclose(ref.mce, { rtol: 1e-10 });
      expect(got.bins.reduce((a, b) => a + b.count, 0)).toBe(n);
    }
  });

  it('a perfectly calibrated predictor has small ECE; an overconfident one does not', () => {
    const rng = makeRng(11);
    const n = 20000;
    const p: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = 0.5 + 0.5 * rng();
      p.push([c, 1 - c]);
      y.push(rng() < c ? 0 : 1);
    }
    expect(calibration(p, y, 10).ece).toBeLessThan(0.015);
    const over = p.map(([c]) => [
      Math.min(1, (c as number) + 0.2),
      Math.max(0, 1 - (c as number) - 0.2),
    ]);
    expect(calibration(over, y, 10).ece).toBeGreaterThan(0.15);
  });

  it('rejects bad labels and bins, naming the argument', () => {
    expect(() => accuracy([[0.5, 0.5]], [2])).toThrow(/labels/);
    expect(() => calibration([[0.5, 0.5]], [0], 0)).toThrow(ArgumentError);
    expect(() => nll([[0.5, 0.5]], [0, 1])).toThrow(/labels/);
  });
});

describe('OOD detection metrics', () => {
  it('AUROC, AUPR and FPR@95 match brute force on random data with ties', () => {
    const rng = makeRng(5);
    for (const [na, nb, shift] of [
      [200, 150, 0.8],
      [90, 300, 0.1],
      [50, 50, 3],
    ] as const) {
      // rounding creates ties between the two sets
      const a = Array.from({ length: na }, () => Math.round(rng() * 40) / 20);
      const b = Array.from({ length: nb }, () => Math.round((rng() + shift) * 40) / 20);
      expect(auroc(a, b)).toBeAllclose(aurocBrute(a, b), { rtol: 1e-10 });
      const ref = sweepBrute(a, b, 0.95);
      expect(aupr(a, b)).toBeAllclose(ref.ap, { rtol: 1e-10 });
      expect(fprAtTpr(a, b)).toBeAllclose(ref.fpr, { rtol: 1e-10 });
    }
  });

  it('separable scores give AUROC 1 and FPR@95 0; identical ones 0.5', () => {
    expect(oodMetrics([0.1, 0.2], [0.3, 0.4])).toEqual({ auroc: 1, aupr: 1, fpr95: 0 });
    expect(auroc([1, 1, 1], [1, 1])).toBe(0.5);
    expect(auroc([0.3, 0.4], [0.1, 0.2])).toBe(0);
    const t = tf.tensor1d([0.1, 0.2]);
    expect(auroc(t, [0.3])).toBe(1);
    t.dispose();
  });

  it('rejects empty or NaN scores', () => {
    expect(() => auroc([], [1])).toThrow(/inScores/);
    expect(() => auroc([1], [NaN])).toThrow(/outScores/);
    // tensors too (their NaN used to sort anywhere: AUROC 0.75 or 1 for the same data)
    const a = tf.tensor1d([0.1, 0.2, 0.3, NaN]);
    const b = tf.tensor1d([0.5, 0.6, 0.7]);
    const before = tf.memory().numTensors;
    expect(() => toolbox.oodMetrics(a, b)).toThrow(/inScores: NaN at index 3/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });
});
