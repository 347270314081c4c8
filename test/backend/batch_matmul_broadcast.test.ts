import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { makeRng } from '../../src/utils/seed.js';

/** Row-major strides of `shape`. */
function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--)
    s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

/**
 * float64 reference of d/dA and d/dB of L = Σ W ⊙ (op(A) op(B)) with numpy broadcasting of the
 * batch dims: loops over every output element and scatters into the (broadcast) operands.
 */
function reference(
  a: number[],
  aShape: number[],
  b: number[],
  bShape: number[],
  w: number[],
  ta: boolean,
  tb: boolean,
): { y: number[]; da: number[]; db: number[]; outShape: number[] } {
  const ra = aShape.length;
  const rb = bShape.length;
  const [a0, a1] = aShape.slice(ra - 2) as [number, number];
  const [b0, b1] = bShape.slice(rb - 2) as [number, number];
  const m = ta ? a1 : a0;
  const k = ta ? a0 : a1;
  const n = tb ? b0 : b1;
  const ba = aShape.slice(0, ra - 2);
  const bb = bShape.slice(0, rb - 2);
  const rank = Math.max(ba.length, bb.length);
  const padA = [...new Array<number>(rank - ba.length).fill(1), ...ba];
  const padB = [...new Array<number>(rank - bb.length).fill(1), ...bb];
  const bo = padA.map((d, i) => Math.max(d, padB[i] as number));
  const outShape = [...bo, m, n];
  const sa = strides(padA);
  const sb = strides(padB);
  const so = strides(bo);
  const nb = bo.reduce((p, d) => p * d, 1);
  const da = new Array<number>(a.length).fill(0);
  const db = new Array<number>(b.length).fill(0);
  const y = new Array<number>(nb * m * n).fill(0);
  for (let q = 0; q < nb; q++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      const c = Math.floor(q / (so[d] as number)) % (bo[d] as number);
      ia += ((padA[d] as number) === 1 ? 0 : c) * (sa[d] as number);
      ib += ((padB[d] as number) === 1 ? 0 : c) * (sb[d] as number);
    }
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        const wij = w[q * m * n + i * n + j] as number;
        for (let l = 0; l < k; l++) {
          const pa = ia * a0 * a1 + (ta ? l * a1 + i : i * a1 + l);
          const pb = ib * b0 * b1 + (tb ? j * b1 + l : l * b1 + j);
          y[q * m * n + i * n + j] =
            (y[q * m * n + i * n + j] as number) + (a[pa] as number) * (b[pb] as number);
          da[pa] = (da[pa] as number) + wij * (b[pb] as number);
          db[pb] = (db[pb] as number) + wij * (a[pa] as number);
        }
      }
  }
  return { y, da, db, outShape };
}

describe('BatchMatMul gradient with broadcast batch dims (tfjs 4.22 throws or is wrong)', () => {
  const cases: [number[], number[]][] = [
    [
      [2, 3, 4],
      [4, 5],
    ],
    [
      [3, 4],
      [2, 4, 5],
    ],
    [
      [2, 1, 3, 4],
      [5, 4, 2],
    ],
    [
      [1, 3, 4],
      [2, 4, 5],
    ],
    [
      [2, 3, 4],
      [2, 4, 5],
    ],
    [
      [3, 4],
      [4, 5],
    ],
  ];
  const rng = makeRng(5);
  const draw = (n: number): number[] => Array.from({ length: n }, () => 2 * rng() - 1);
  for (const [aShape, bShape] of cases) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`A ${JSON.stringify(aShape)} B ${JSON.stringify(bShape)} transposeA ${ta} transposeB ${tb}`, () => {
        const swap = (s: number[], t: boolean): number[] =>
          t ? [...s.slice(0, -2), s[s.length - 1] as number, s[s.length - 2] as number] : s;
        const as = swap(aShape, ta);
        const bs = swap(bShape, tb);
        const av = draw(as.reduce((p, d) => p * d, 1));
        const bv = draw(bs.reduce((p, d) => p * d, 1));
        const probe = reference(av, as, bv, bs, [], ta, tb).outShape;
        const wv = draw(probe.reduce((p, d) => p * d, 1));
        const ref = reference(av, as, bv, bs, wv, ta, tb);
        const before = tf.memory().numTensors;
        const [A, B, W] = [tf.tensor(av, as), tf.tensor(bv, bs), tf.tensor(wv, ref.outShape)];
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(tf.matMul(x, y, ta, tb), W)),
        )([A, B]) as [tf.Tensor, tf.Tensor];
        const y = tf.matMul(A, B, ta, tb);
        expect(y.shape).toEqual(ref.outShape);
        expect(y).toBeAllclose(ref.y, { rtol: 1e-4, atol: 1e-5 });
        y.dispose();
        expect(ga.shape).toEqual(as);
        expect(gb.shape).toEqual(bs);
        expect(ga).toBeAllclose(ref.da, { rtol: 1e-4, atol: 1e-5 });
        expect(gb).toBeAllclose(ref.db, { rtol: 1e-4, atol: 1e-5 });
        tf.dispose([A, B, W, ga, gb]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }
});
