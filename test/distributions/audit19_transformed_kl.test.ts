/**
 * Audit 19: `KL(TransformedDistribution ‖ TransformedDistribution)` was analytic only when both
 * held the very same bijector object, so two `new Exp()` (the way a user writes it) gave
 * NotRegisteredError. torch compares transforms with `==` (by class for parameterless ones, by
 * parameter values for affine/power, part by part for compositions): now the KL is the base KL
 * for equal bijectors built apart, and still NotRegisteredError for different maps. Reference:
 * `KL(f(X) ‖ f(Z)) = KL(X ‖ Z)`, the base pair's closed form.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { NotRegisteredError, bijectors as B, distributions as d } from '../../src/index.js';

type Bij = B.Bijector;

/** Parts of chains (a chain leaves its parts the caller's), disposed after each case. */
const made: Bij[] = [];
const part = <T extends Bij>(b: T): T => {
  made.push(b);
  return b;
};

function klOf(f1: () => Bij, f2: () => Bij): { value?: number[]; error?: unknown } {
  const before = tf.memory().numTensors;
  const a = new d.Normal([0, 1], [1, 2]);
  const b = new d.Normal([0.5, -1], [1.5, 1]);
  const b1 = f1();
  const b2 = f2();
  const p = new d.TransformedDistribution(a, b1);
  const q = new d.TransformedDistribution(b, b2);
  const out: { value?: number[]; error?: unknown } = {};
  try {
    const kl = p.klDivergence(q);
    out.value = Array.from(kl.dataSync());
    kl.dispose();
  } catch (e) {
    out.error = e;
  } finally {
    p.dispose();
    q.dispose();
    b1.dispose();
    b2.dispose();
    for (const m of made.splice(0)) m.dispose();
    a.dispose();
    b.dispose();
  }
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

/** KL(N(0,1) ‖ N(0.5,1.5)), KL(N(1,2) ‖ N(-1,1)) in closed form. */
const BASE = [
  [0, 1, 0.5, 1.5],
  [1, 2, -1, 1],
].map(
  ([m1, s1, m2, s2]) => Math.log(s2! / s1!) + (s1! ** 2 + (m1! - m2!) ** 2) / (2 * s2! ** 2) - 0.5,
);

describe('KL of transformed distributions with equal bijectors built apart', () => {
  const EQUAL: Array<[string, () => Bij, () => Bij]> = [
    ['Exp, Exp', () => new B.Exp(), () => new B.Exp()],
    ['Sigmoid, Sigmoid', () => new B.Sigmoid(), () => new B.Sigmoid()],
    ['ScalarAffine(2, 1) twice', () => new B.ScalarAffine(2, 1), () => new B.ScalarAffine(2, 1)],
    [
      'Chain([ScalarAffine(2, 1), Exp]) twice',
      () => new B.Chain([part(new B.ScalarAffine(2, 1)), part(new B.Exp())]),
      () => new B.Chain([part(new B.ScalarAffine(2, 1)), part(new B.Exp())]),
    ],
    ['Exp named differently', () => new B.Exp({ name: 'a' }), () => new B.Exp({ name: 'b' })],
  ];
  it.each(EQUAL)('%s: the base KL', (_, f1, f2) => {
    const { value, error } = klOf(f1, f2);
    expect(error).toBeUndefined();
    expect(value).toBeAllclose(BASE, { rtol: 1e-5, atol: 1e-6 });
  });

  const DIFFERENT: Array<[string, () => Bij, () => Bij]> = [
    ['Exp, Sigmoid', () => new B.Exp(), () => new B.Sigmoid()],
    [
      'ScalarAffine(2, 1), ScalarAffine(3, 1)',
      () => new B.ScalarAffine(2, 1),
      () => new B.ScalarAffine(3, 1),
    ],
    ['Softplus(1), Softplus(2)', () => new B.Softplus(1), () => new B.Softplus(2)],
    [
      'Chains in another order',
      () => new B.Chain([part(new B.ScalarAffine(2, 1)), part(new B.Exp())]),
      () => new B.Chain([part(new B.Exp()), part(new B.ScalarAffine(2, 1))]),
    ],
  ];
  it.each(DIFFERENT)('%s: NotRegisteredError', (_, f1, f2) => {
    const { error } = klOf(f1, f2);
    expect(error).toBeInstanceOf(NotRegisteredError);
  });
});
