/**
 * The gradient of `tf.cumprod` (tfjs 4.22 has none: "gradient function not found for Cumprod", e.g.
 * the stick-breaking weights `beta * cumprod(1 - beta, exclusive)` of Pyro's Dirichlet-process
 * tutorial under SVI or NUTS). Reference: central finite differences in float64 of the same running
 * products written in plain JS, for every `exclusive`/`reverse` combination, a negative axis and a
 * rank-3 input; the stick-breaking log-weights against their closed-form derivative.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

/** Running products of `x` ([rows, n], along the last axis) with tfjs's flags, in float64. */
function hostCumprod(x: number[][], exclusive: boolean, reverse: boolean): number[][] {
  return x.map((row) => {
    const n = row.length;
    const out = new Array<number>(n).fill(0);
    let acc = 1;
    for (let s = 0; s < n; s++) {
      const i = reverse ? n - 1 - s : s;
      if (exclusive) {
        out[i] = acc;
        acc *= row[i]!;
      } else {
        acc *= row[i]!;
        out[i] = acc;
      }
    }
    return out;
  });
}

describe('Cumprod gradient', () => {
  const xV = [
    [0.9, -1.3, 0.7, 1.6],
    [1.2, 0.5, -0.8, 2.1],
  ];
  const wV = [
    [0.3, -1.1, 0.6, 0.9],
    [1.4, 0.2, -0.5, 0.7],
  ];
  for (const exclusive of [false, true]) {
    for (const reverse of [false, true]) {
      it(`exclusive ${exclusive}, reverse ${reverse}, axis -1: against float64 central differences`, () => {
        const x = tf.tensor2d(xV);
        const w = tf.tensor2d(wV);
        const before = tf.memory().numTensors;
        const g = tf.grad((t: tf.Tensor) =>
          tf.sum(tf.mul(tf.cumprod(t, -1, exclusive, reverse), w)),
        )(x);
        const got = g.arraySync() as number[][];
        g.dispose();
        expect(tf.memory().numTensors).toBe(before);
        const f = (m: number[][]): number =>
          hostCumprod(m, exclusive, reverse).reduce(
            (a, row, r) => a + row.reduce((b, v, c) => b + v * wV[r]![c]!, 0),
            0,
          );
        const h = 1e-6;
        xV.forEach((row, r) =>
          row.forEach((_, c) => {
            const p = xV.map((q) => q.slice());
            const m = xV.map((q) => q.slice());
            p[r]![c] = p[r]![c]! + h;
            m[r]![c] = m[r]![c]! - h;
            expect(got[r]![c]).toBeCloseTo((f(p) - f(m)) / (2 * h), 3);
          }),
        );
        tf.dispose([x, w]);
      });
    }
  }

  it('a rank-3 input along axis 1', () => {
    const vals = Array.from({ length: 12 }, (_, k) => 0.5 + 0.1 * k);
    const x = tf.tensor3d(vals, [2, 3, 2]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.cumprod(t, 1)))(x);
    // d/dx_i sum_j prod_{k <= j} x_k along axis 1 (columns of 3), host closed form
    const got = Array.from(g.dataSync());
    for (let a = 0; a < 2; a++)
      for (let c = 0; c < 2; c++) {
        const col = [0, 1, 2].map((b) => vals[a * 6 + b * 2 + c]!);
        col.forEach((_, i) => {
          let want = 0;
          for (let j = i; j < 3; j++) {
            let p = 1;
            for (let k = 0; k <= j; k++) if (k !== i) p *= col[k]!;
            want += p;
          }
          expect(got[a * 6 + i * 2 + c]).toBeCloseTo(want, 4);
        });
      }
    tf.dispose([x, g]);
  });

  it("Pyro's stick breaking: d/dbeta of sum log(beta_k prod_{j<k} (1 - beta_j)) in closed form", () => {
    const bV = [0.3, 0.6, 0.2, 0.5];
    const beta = tf.tensor1d(bV);
    const g = tf.grad((b: tf.Tensor) =>
      tf.sum(tf.log(tf.mul(b, tf.cumprod(tf.sub(1, b), -1, true)))),
    )(beta);
    // sum_k [log b_k + sum_{j<k} log(1 - b_j)]: d/db_i = 1/b_i - (K - 1 - i)/(1 - b_i)
    const K = bV.length;
    Array.from(g.dataSync()).forEach((v, i) =>
      expect(v).toBeCloseTo(1 / bV[i]! - (K - 1 - i) / (1 - bV[i]!), 4),
    );
    tf.dispose([beta, g]);
  });
});
