/**
 * The gradient of `tf.einsum` (tfjs 4.22 has none: "gradient function not found for Einsum", a
 * NumPyro port's `jnp.einsum` under SVI or NUTS). Reference: central finite differences in float64
 * of the same contraction written as plain JS loops over every index assignment, for one- and
 * two-operand equations: matrix products, batched, inner and outer products, transposes, sums over
 * an index in one operand only. That last form was also wrong forward (`einsum('ij,k->i')` gave
 * shape `[1, 2]`): fixed by the `Einsum` wrapper `ready()` installs, checked against the same
 * brute force.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { einsumOperandGradient } from '../../src/backend/kernels/einsum_grad.js';

/** einsum in float64 by brute force over every index assignment. */
function hostEinsum(eq: string, vals: number[][], shapes: number[][]): number[] {
  const [lhs, out = ''] = eq.split('->') as [string, string | undefined];
  const ins = lhs.split(',');
  const size = new Map<string, number>();
  ins.forEach((idx, o) => [...idx].forEach((c, i) => size.set(c, shapes[o]![i]!)));
  const letters = [...size.keys()];
  const outSize = [...out].reduce((a, c) => a * size.get(c)!, 1);
  const res = new Array<number>(outSize).fill(0);
  const total = letters.reduce((a, c) => a * size.get(c)!, 1);
  const flat = (idx: string, at: Map<string, number>): number =>
    [...idx].reduce((a, c) => a * size.get(c)! + at.get(c)!, 0);
  for (let k = 0; k < total; k++) {
    const at = new Map<string, number>();
    let r = k;
    for (let i = letters.length - 1; i >= 0; i--) {
      const c = letters[i]!;
      at.set(c, r % size.get(c)!);
      r = Math.floor(r / size.get(c)!);
    }
    const p = ins.reduce((a, idx, o) => a * vals[o]![flat(idx, at)]!, 1);
    res[flat(out, at)] = res[flat(out, at)]! + p;
  }
  return res;
}

describe('Einsum gradient', () => {
  const cases: [string, number[][]][] = [
    [
      'ij,jk->ik',
      [
        [2, 3],
        [3, 4],
      ],
    ],
    [
      'bij,bjk->bik',
      [
        [2, 2, 3],
        [2, 3, 2],
      ],
    ],
    ['i,i->', [[4], [4]]],
    ['i,j->ij', [[3], [2]]],
    ['ij,j->i', [[3, 4], [4]]],
    ['ij,k->i', [[2, 3], [2]]],
    ['ij->ji', [[2, 3]]],
    ['ij->j', [[3, 2]]],
  ];
  for (const [eq, shapes] of cases) {
    it(`${eq}: every operand against float64 central differences`, () => {
      const vals = shapes.map((s, o) =>
        Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, k) => Math.sin(1.3 * k + o + 0.2)),
      );
      const outLen = hostEinsum(eq, vals, shapes).length;
      const w = Array.from({ length: outLen }, (_, k) => Math.cos(0.9 * k + 0.4));
      const ts = vals.map((v, o) => tf.tensor(v, shapes[o]!));
      const wt = tf.tensor(w, tf.einsum(eq, ...ts).shape);
      const before = tf.memory().numTensors;
      const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(tf.einsum(eq, ...xs), wt)))(ts);
      const got = grads.map((g) => Array.from(g.dataSync()));
      tf.dispose(grads);
      expect(tf.memory().numTensors).toBe(before);
      const f = (vs: number[][]): number =>
        hostEinsum(eq, vs, shapes).reduce((a, v, k) => a + v * w[k]!, 0);
      const h = 1e-6;
      vals.forEach((v, o) =>
        v.forEach((_, k) => {
          const p = vals.map((q) => q.slice());
          const m = vals.map((q) => q.slice());
          p[o]![k] = p[o]![k]! + h;
          m[o]![k] = m[o]![k]! - h;
          expect(got[o]![k]).toBeCloseTo((f(p) - f(m)) / (2 * h), 3);
        }),
      );
      tf.dispose([...ts, wt]);
    });
  }

  const forward: [string, number[][]][] = [
    ['i,k->i', [[2], [3]]],
    ['ij,k->i', [[2, 3], [2]]],
    [
      'ij,kl->j',
      [
        [2, 3],
        [2, 2],
      ],
    ],
    ['i,k->', [[3], [2]]],
    [
      'ijk,jl->il',
      [
        [2, 3, 2],
        [3, 2],
      ],
    ],
    [
      'ij,kj->',
      [
        [2, 3],
        [2, 3],
      ],
    ],
  ];
  for (const [eq, shapes] of forward) {
    it(`forward ${eq} (an index in one operand only) equals the brute force, nothing leaked`, () => {
      const vals = shapes.map((s, o) =>
        Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, k) => Math.cos(0.7 * k + o)),
      );
      const ts = vals.map((v, o) => tf.tensor(v, shapes[o]!));
      const before = tf.memory().numTensors;
      const y = tf.einsum(eq, ...ts);
      const out = eq.split('->')[1]!;
      const sizes = new Map<string, number>();
      eq.split('->')[0]!
        .split(',')
        .forEach((idx, o) => [...idx].forEach((c, i) => sizes.set(c, shapes[o]![i]!)));
      expect(y.shape).toEqual([...out].map((c) => sizes.get(c)));
      const want = hostEinsum(eq, vals, shapes);
      Array.from(y.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(want[k]!, 4));
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(ts);
    });
  }

  it('the same forward fix on the cpu backend', async () => {
    const previous = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      for (const [eq, shapes] of forward) {
        const vals = shapes.map((s, o) =>
          Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, k) => Math.sin(0.4 * k + o)),
        );
        const ts = vals.map((v, o) => tf.tensor(v, shapes[o]!));
        const before = tf.memory().numTensors;
        const y = tf.einsum(eq, ...ts);
        const want = hostEinsum(eq, vals, shapes);
        expect(y.size).toBe(want.length);
        Array.from(y.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(want[k]!, 4));
        y.dispose();
        expect(tf.memory().numTensors).toBe(before);
        // the inputs are intact after the call
        expect(Array.from(ts[0]!.dataSync())).toEqual(Array.from(new Float32Array(vals[0]!)));
        tf.dispose(ts);
      }
    } finally {
      await tf.setBackend(previous);
    }
  });

  it('einsumOperandGradient leaves nothing behind', () => {
    const dy = tf.ones([2, 4]);
    const b = tf.ones([3, 4]);
    const before = tf.memory().numTensors;
    const g = einsumOperandGradient(dy, 'ik', 'ij', [2, 3], { t: b, idx: 'jk' });
    expect(Array.from(g.dataSync())).toEqual([4, 4, 4, 4, 4, 4]);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([dy, b]);
  });
});
