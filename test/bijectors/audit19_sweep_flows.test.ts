/**
 * Audit 19: the normalizing flows of `AutoNormalizingFlow` (`iafFlow`, `affineCouplingFlow`,
 * `splineCouplingFlow`, `bnafFlow`, `iterated`) as bijectors, at a random start
 * whose output heads are scaled up (the default start is near the identity, where every check
 * would pass trivially):
 *
 * - the pushforward density `p_Y(y) = N(f⁻¹(y); 0, I) |det J_{f⁻¹}(y)|` integrates to 1 by
 *   quadrature over a 2-D grid covering the image of `[-6, 6]²` (the trapezoid error of the grid
 *   is below the tolerance);
 * - `inverse(forward(x)) = x`; `log|det J|` equals the float64 log-determinant of the autodiff
 *   Jacobian (D = 3), and the inverse's is minus the forward's;
 * - BNAF (no inverse): in 1-D, `∫_a^b e^{log|f'(x)|} dx = f(b) - f(a)`, and its log-det is the
 *   autodiff one in 3-D;
 * - nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ppl, setSeed, type bijectors } from '../../src/index.js';
import { logAbsDet } from '../fixtures/float64.js';

type Bij = bijectors.Bijector;

/** The flow of `factory` on `R^d`, its output heads' weights scaled by `gain`; tensors kept. */
function build(factory: ppl.FlowFactory, d: number, gain: number, kept: tf.Tensor[]): Bij {
  const p: ppl.FlowParam = (name, init) => {
    const t0 = init();
    const t = /(shift_w|scale_w|head_w|head_b)$/.test(name) ? tf.mul(t0, gain) : t0;
    if (t !== t0) t0.dispose();
    kept.push(t);
    return t;
  };
  return factory(d, p);
}

interface Row {
  name: string;
  factory: () => ppl.FlowFactory;
  gain: number;
}

const ROWS: Row[] = [
  { name: 'iafFlow', factory: () => ppl.iafFlow({ hiddenDims: [16] }), gain: 60 },
  {
    name: 'iterated(2, iafFlow)',
    factory: () => ppl.iterated(2, ppl.iafFlow({ hiddenDims: [12] })),
    gain: 40,
  },
  {
    name: 'iterated(2, affineCouplingFlow)',
    factory: () => ppl.iterated(2, ppl.affineCouplingFlow({ hiddenDims: [16] })),
    gain: 15,
  },
  {
    name: 'splineCouplingFlow (8 bins)',
    factory: () => ppl.splineCouplingFlow({ hiddenDims: [16] }),
    gain: 12,
  },
  {
    name: 'iterated(2, splineCouplingFlow) (4 bins, bound 2)',
    factory: () => ppl.iterated(2, ppl.splineCouplingFlow({ hiddenDims: [8], count: 4, bound: 2 })),
    gain: 12,
  },
];

const num = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** The Jacobians (float64 `[D][D]`) of `f` at each row of `x` `[n, D]`, by autodiff. */
function jacobians(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): number[][][] {
  const [n, dim] = x.shape as [number, number];
  const jac: number[][][] = Array.from({ length: n }, () => []);
  for (let j = 0; j < dim; j++) {
    const g = tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(tf.slice(f(v), [0, j], [n, 1])))(x));
    const gv = g.arraySync() as number[][];
    g.dispose();
    for (let e = 0; e < n; e++) jac[e]![j] = gv[e]!;
  }
  return jac;
}

const kept: tf.Tensor[] = [];
afterAll(() => tf.dispose(kept));

describe.each(ROWS)('$name', (row) => {
  it('the pushforward density of N(0, I) integrates to 1 over a 2-D grid', () => {
    setSeed(190);
    const bj = build(row.factory(), 2, row.gain, kept);
    const before = tf.memory().numTensors;
    // the image of the box [-6, 6]^2 (its boundary, finely) bounds the grid
    const m = 400;
    const edge = tf.tidy(() => {
      const t = tf.linspace(-6, 6, m);
      const lo = tf.fill([m], -6);
      const hi = tf.fill([m], 6);
      const sides = [
        tf.stack([t, lo], 1),
        tf.stack([t, hi], 1),
        tf.stack([lo, t], 1),
        tf.stack([hi, t], 1),
      ];
      return bj.forward(tf.concat(sides, 0));
    });
    const ev = edge.arraySync() as number[][];
    edge.dispose();
    const lo0 = Math.min(...ev.map((r) => r[0]!)) - 0.5;
    const hi0 = Math.max(...ev.map((r) => r[0]!)) + 0.5;
    const lo1 = Math.min(...ev.map((r) => r[1]!)) - 0.5;
    const hi1 = Math.max(...ev.map((r) => r[1]!)) + 0.5;
    const n = 401;
    const h0 = (hi0 - lo0) / (n - 1);
    const h1 = (hi1 - lo1) / (n - 1);
    const total = tf.tidy(() => {
      const g0 = tf.linspace(lo0, hi0, n);
      const g1 = tf.linspace(lo1, hi1, n);
      const y = tf.stack(
        [tf.reshape(tf.tile(tf.reshape(g0, [n, 1]), [1, n]), [-1]), tf.tile(g1, [n])],
        1,
      );
      const { x, logDet } = bj.inverseAndLogDet(y);
      const logN = tf.sub(tf.mul(-0.5, tf.sum(tf.square(x), 1)), Math.log(2 * Math.PI));
      return tf.exp(tf.add(logN, logDet));
    });
    const dens = num(total);
    total.dispose();
    expect(tf.memory().numTensors, 'tensors left').toBe(before);
    // trapezoid rule
    let s = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const w = (i === 0 || i === n - 1 ? 0.5 : 1) * (j === 0 || j === n - 1 ? 0.5 : 1);
        s += w * dens[i * n + j]!;
      }
    }
    expect(dens.every(Number.isFinite)).toBe(true);
    expect(s * h0 * h1).toBeCloseTo(1, 2);
    bj.dispose();
  });

  it('inverts, and log|det J| (forward and inverse) equals the autodiff Jacobian (D = 3)', () => {
    setSeed(191);
    const bj = build(row.factory(), 3, row.gain, kept);
    const x = tf.tidy(() => tf.mul(tf.randomNormal([4, 3], 0, 1, 'float32', 7), 1.5));
    const before = tf.memory().numTensors;
    const { y, logDet } = bj.forwardAndLogDet(x);
    const { x: back, logDet: ildj } = bj.inverseAndLogDet(y);
    expect(num(back)).toBeAllclose(num(x), { rtol: 1e-3, atol: 1e-3 });
    expect(num(ildj)).toBeAllclose(
      num(logDet).map((v) => -v),
      { rtol: 1e-4, atol: 1e-4 },
    );
    const ldj = num(logDet);
    // the start is far from the identity (a check at log|det J| = 0 could not fail)
    expect(Math.max(...ldj.map(Math.abs)), 'a non-trivial flow').toBeGreaterThan(0.2);
    tf.dispose([y, logDet, back, ildj]);
    expect(tf.memory().numTensors, 'tensors left').toBe(before);
    const ref = jacobians((v) => bj.forward(v), x).map(logAbsDet);
    expect(ldj).toBeAllclose(ref, { rtol: 1e-3, atol: 1e-3 });
    // the inverse's Jacobian at y
    const y2 = bj.forward(x);
    const refInv = jacobians((v) => bj.inverse(v), y2).map(logAbsDet);
    expect(refInv).toBeAllclose(
      ldj.map((v) => -v),
      { rtol: 2e-3, atol: 2e-3 },
    );
    tf.dispose([x, y2]);
    bj.dispose();
  });
});

describe('bnafFlow (no inverse)', () => {
  it('1-D: the integral of exp(log|f′|) over [a, b] is f(b) - f(a)', () => {
    setSeed(192);
    const bj = build(ppl.bnafFlow({ hiddenFactors: [4, 4] }), 1, 1, kept);
    const n = 4001;
    const a = -4;
    const c = 4;
    const xs = tf.linspace(a, c, n).reshape([n, 1]);
    const before = tf.memory().numTensors;
    const { y, logDet } = bj.forwardAndLogDet(xs);
    const yv = num(y);
    const slope = num(logDet).map(Math.exp);
    tf.dispose([y, logDet]);
    expect(tf.memory().numTensors).toBe(before);
    const h = (c - a) / (n - 1);
    let s = 0;
    slope.forEach((v, i) => (s += (i === 0 || i === n - 1 ? 0.5 : 1) * v));
    expect(s * h).toBeCloseTo(yv[n - 1]! - yv[0]!, 3);
    // monotone increasing
    expect(yv.every((v, i) => i === 0 || v > yv[i - 1]!)).toBe(true);
    xs.dispose();
    bj.dispose();
  });

  it('3-D: log|det J| equals the autodiff Jacobian; the Jacobian is lower triangular', () => {
    setSeed(193);
    const bj = build(ppl.iterated(2, ppl.bnafFlow({ hiddenFactors: [3] })), 3, 1, kept);
    const x = tf.randomNormal([3, 3], 0, 1.5, 'float32', 11);
    const ldj = num(bj.forwardLogDetJacobian(x));
    const jac = jacobians((v) => bj.forward(v), x);
    expect(ldj).toBeAllclose(jac.map(logAbsDet), { rtol: 1e-3, atol: 1e-3 });
    x.dispose();
    bj.dispose();
  });
});

describe('IAFLatent (the flow distribution of AutoIAFNormal)', () => {
  /** One MADE step of R^2 with hidden width 6, weights seeded and scaled to be far from 0. */
  function latent(): { q: ppl.IAFLatent; weights: tf.Tensor[] } {
    const m = ppl.madeMasks([0, 1], [6]);
    const w: ppl.MadeWeights = {
      hidden: [
        {
          w: tf.randomNormal([2, 6], 0, 1, 'float32', 31),
          b: tf.randomNormal([6], 0, 0.5, 'float32', 32),
          mask: tf.tensor2d(m.hidden[0]!),
        },
      ],
      shift: { w: tf.randomNormal([6, 2], 0, 0.6, 'float32', 33), b: tf.zeros([2]) },
      logScale: { w: tf.randomNormal([6, 2], 0, 0.4, 'float32', 34), b: tf.zeros([2]) },
      outMask: tf.tensor2d(m.out),
    };
    const weights = [
      w.hidden[0]!.w,
      w.hidden[0]!.b,
      w.hidden[0]!.mask,
      w.shift.w,
      w.shift.b,
      w.logScale.w,
      w.logScale.b,
      w.outMask,
    ];
    return { q: new ppl.IAFLatent(2, [w]), weights };
  }

  it('a single draw and its logProb leave no tensor behind, also called outside a tidy', () => {
    const { q, weights } = latent();
    for (let i = 0; i < 3; i++) {
      const before = tf.memory().numTensors;
      const u = q.rsample([], 40 + i);
      const lp = q.logProb(u);
      const again = q.logProb(u);
      // the kept density is the density at the draw, found again by inverting the flow
      const copy = u.clone();
      const elsewhere = q.logProb(copy);
      expect(num(again)).toEqual(num(lp));
      expect(num(elsewhere)).toBeAllclose(num(lp), { rtol: 1e-4, atol: 1e-4 });
      tf.dispose([u, lp, again, copy, elsewhere]);
      // one kept scalar density at most
      expect(tf.memory().numTensors - before, 'tensors left').toBeLessThanOrEqual(1);
    }
    q.dispose();
    tf.dispose(weights);
  });

  it('its density integrates to 1 over a 2-D grid', () => {
    const { q, weights } = latent();
    const s = q.sample([4000], 41);
    const sv = s.arraySync() as number[][];
    s.dispose();
    const lo = [0, 1].map((k) => Math.min(...sv.map((r) => r[k]!)) - 3);
    const hi = [0, 1].map((k) => Math.max(...sv.map((r) => r[k]!)) + 3);
    const n = 301;
    const h = [0, 1].map((k) => (hi[k]! - lo[k]!) / (n - 1));
    const lp = tf.tidy(() => {
      const g0 = tf.linspace(lo[0]!, hi[0]!, n);
      const g1 = tf.linspace(lo[1]!, hi[1]!, n);
      const u = tf.stack(
        [tf.reshape(tf.tile(tf.reshape(g0, [n, 1]), [1, n]), [-1]), tf.tile(g1, [n])],
        1,
      );
      return tf.exp(q.logProb(u));
    });
    const dens = num(lp);
    lp.dispose();
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        total +=
          (i === 0 || i === n - 1 ? 0.5 : 1) *
          (j === 0 || j === n - 1 ? 0.5 : 1) *
          dens[i * n + j]!;
      }
    }
    expect(total * h[0]! * h[1]!).toBeCloseTo(1, 2);
    q.dispose();
    tf.dispose(weights);
  });
});
