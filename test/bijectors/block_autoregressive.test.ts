/**
 * `BlockAutoregressive` (BNAF, De Cao et al. 2019; Pyro's transform): its forward map and
 * log|det J| against a float64 reimplementation in plain JS whose Jacobian is taken by central
 * finite differences and whose determinant by LU; the Jacobian is lower triangular (output k
 * depends on x_1..x_k only) with a positive diagonal.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bijectors } from '../../src/index.js';
import { ArgumentError, NotDefinedError } from '../../src/utils/errors.js';
import { expectNoLeak, thrown } from '../helpers.js';
import { logAbsDet } from '../fixtures/float64.js';

const { BlockAutoregressive, initBlockAutoregressive } = bijectors;
type Act = 'tanh' | 'elu' | 'leakyRelu' | 'sigmoid';
type Layer = { weight: number[][]; diagWeight: number[]; bias: number[] };

const act64: Record<Act, (a: number) => number> = {
  tanh: Math.tanh,
  elu: (a) => (a > 0 ? a : Math.exp(a) - 1),
  leakyRelu: (a) => (a > 0 ? a : 0.01 * a),
  sigmoid: (a) => 1 / (1 + Math.exp(-a)),
};

/** The BNAF forward map in float64, straight from the definition. */
function forward64(
  x: number[],
  layers: Layer[],
  act: Act,
  residual: 'normal' | 'gated' | null,
  gate: number,
): number[] {
  const d = x.length;
  let h = [...x];
  layers.forEach((l, idx) => {
    const nOut = l.weight.length;
    const nIn = h.length;
    const bo = nOut / d;
    const bi = nIn / d;
    const a: number[] = [];
    for (let j = 0; j < nOut; j++) {
      const kj = Math.floor(j / bo);
      const row = l.weight[j] as number[];
      const wt = row.map((v, i) => {
        const ki = Math.floor(i / bi);
        return ki === kj ? Math.exp(v) : ki < kj ? v : 0;
      });
      const norm = Math.sqrt(wt.reduce((s, v) => s + v * v, 0));
      const g = Math.exp(l.diagWeight[j] as number);
      let s = l.bias[j] as number;
      for (let i = 0; i < nIn; i++) s += ((g * (wt[i] as number)) / norm) * (h[i] as number);
      a.push(s);
    }
    h = idx < layers.length - 1 ? a.map(act64[act]) : a;
  });
  if (residual === 'normal') return h.map((v, i) => v + (x[i] as number));
  if (residual === 'gated') {
    const al = 1 / (1 + Math.exp(-gate));
    return h.map((v, i) => al * (x[i] as number) + (1 - al) * v);
  }
  return h;
}

/** Central finite-difference Jacobian `J_ki = ∂y_k/∂x_i` (float64). */
function jacobian(f: (x: number[]) => number[], x: number[], eps = 1e-6): number[][] {
  const d = x.length;
  const J = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    const xp = [...x];
    const xm = [...x];
    xp[i] = (xp[i] as number) + eps;
    xm[i] = (xm[i] as number) - eps;
    const yp = f(xp);
    const ym = f(xm);
    for (let k = 0; k < d; k++)
      (J[k] as number[])[i] = ((yp[k] as number) - (ym[k] as number)) / (2 * eps);
  }
  return J;
}

/** Seeded standard normals (Box-Muller over a small LCG). */
function normals(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return Array.from(
    { length: n },
    () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()),
  );
}

describe('BlockAutoregressive', () => {
  const cases: { d: number; h: number[]; act: Act; residual: 'normal' | 'gated' | null }[] = [
    { d: 1, h: [4], act: 'tanh', residual: null },
    { d: 2, h: [3], act: 'tanh', residual: null },
    { d: 3, h: [2, 3], act: 'tanh', residual: null },
    { d: 4, h: [2], act: 'sigmoid', residual: null },
    { d: 3, h: [3], act: 'elu', residual: 'normal' },
    { d: 3, h: [2, 2], act: 'leakyRelu', residual: 'gated' },
    { d: 5, h: [8, 8], act: 'tanh', residual: 'gated' },
  ];
  for (const c of cases) {
    it(`D=${c.d} hidden ${JSON.stringify(c.h)} ${c.act} residual ${c.residual}: y and log|det J| vs float64 finite differences`, () => {
      const layers = initBlockAutoregressive(c.d, c.h, 17 + c.d) as Layer[];
      // perturb the weights so the diagonal blocks are not at Pyro's init pattern only
      const gate = c.residual === 'gated' ? 0.7 : 0;
      const f = new BlockAutoregressive(c.d, {
        layers,
        activation: c.act,
        residual: c.residual,
        ...(c.residual === 'gated' ? { gate } : {}),
      });
      const n = 4;
      const xs = Array.from({ length: n }, (_, r) => normals(c.d, 100 + r).map((v) => 1.5 * v));
      const xt = tf.tensor2d(xs);
      const before = tf.memory().numTensors;
      const { y, logDet } = f.forwardAndLogDet(xt);
      const ys = y.arraySync() as number[][];
      const ld = logDet.arraySync() as number[];
      tf.dispose([y, logDet]);
      expect(tf.memory().numTensors).toBe(before);
      xt.dispose();
      for (let r = 0; r < n; r++) {
        const x = xs[r] as number[];
        const ref = forward64(x, layers, c.act, c.residual, gate);
        for (let k = 0; k < c.d; k++)
          expect(Math.abs(ys[r]![k]! - ref[k]!)).toBeLessThan(2e-5 * (1 + Math.abs(ref[k]!)));
        const J = jacobian((z) => forward64(z, layers, c.act, c.residual, gate), x);
        // lower triangular: output k does not move with x_i, i > k (exactly, in float64)
        for (let k = 0; k < c.d; k++) {
          for (let i = k + 1; i < c.d; i++) expect(J[k]![i]).toBe(0);
          expect(J[k]![k]!).toBeGreaterThan(0);
        }
        expect(Math.abs(ld[r]! - logAbsDet(J))).toBeLessThan(2e-4 * (1 + Math.abs(ld[r]!)));
      }
      f.dispose();
    });
  }

  it('broadcasts over leading dims, frees what it makes, and its log|det| has gradients', () => {
    const f = new BlockAutoregressive(3, { hiddenFactors: [4], seed: 1 });
    const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 3);
    expectNoLeak(() => {
      const { y, logDet } = f.forwardAndLogDet(x);
      expect(y.shape).toEqual([2, 5, 3]);
      expect(logDet.shape).toEqual([2, 5]);
      return [y, logDet];
    });
    const w = tf.variable(tf.tensor2d((initBlockAutoregressive(2, [3], 5)[0] as Layer).weight));
    const rest = initBlockAutoregressive(2, [3], 5) as Layer[];
    const before = tf.memory().numTensors;
    const g = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const b = new BlockAutoregressive(2, {
          layers: [{ ...(rest[0] as Layer), weight: w }, rest[1] as Layer],
        });
        const out = tf.sum(b.forwardLogDetJacobian(tf.tensor2d([[0.3, -0.4]])));
        b.dispose();
        return out as tf.Scalar;
      });
      return tf.keep(grads[w.name] as tf.Tensor);
    });
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    expect(Array.from(g.dataSync()).some((v) => v !== 0)).toBe(true);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
    x.dispose();
    f.dispose();
  });

  it('has no closed-form inverse (NotDefinedError), as Pyro', () => {
    const f = new BlockAutoregressive(2, { seed: 0 });
    const before = tf.memory().numTensors;
    expect(() => f.inverse([[0.1, 0.2]])).toThrow(NotDefinedError);
    expect(tf.memory().numTensors).toBe(before);
    f.dispose();
  });

  it('refuses bad input naming the argument, before making tensors', () => {
    const before = tf.memory().numTensors;
    const bad: [() => unknown, string][] = [
      [() => new BlockAutoregressive(0), 'inputDim'],
      [() => new BlockAutoregressive(2.5), 'inputDim'],
      [() => new BlockAutoregressive(2, { hiddenFactors: [] }), 'hiddenFactors'],
      [() => new BlockAutoregressive(2, { hiddenFactors: [0] }), 'hiddenFactors'],
      [() => new BlockAutoregressive(2, { activation: 'relu' as Act }), 'activation'],
      [() => new BlockAutoregressive(2, { residual: 'skip' as 'normal' }), 'residual'],
      [() => new BlockAutoregressive(2, { gate: 1 }), 'gate'],
      [() => new BlockAutoregressive(2, { hidden_factors: [2] } as object), 'hidden_factors'],
      [() => new BlockAutoregressive(2, { layers: [] }), 'layers'],
      [
        () =>
          new BlockAutoregressive(3, {
            layers: initBlockAutoregressive(2, [2], 0),
          }),
        'layers',
      ],
    ];
    for (const [run, arg] of bad) {
      const err = thrown(run);
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).message.startsWith(`${arg}:`)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    const f = new BlockAutoregressive(3, { seed: 0 });
    expect(() => f.forward([[1, 2]])).toThrow(/x: expected a last dimension of 3/);
    expect(tf.memory().numTensors).toBe(before + countOwned(f));
    f.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

function countOwned(f: InstanceType<typeof BlockAutoregressive>): number {
  return f.layers.length * 3 + f.layers.length * 2;
}
