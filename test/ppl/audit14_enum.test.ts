/**
 * Audit (issue 14): TraceEnumELBO with two enumerated discrete sites in DIFFERENT plates (and a
 * global enumerated site above both), against brute-force enumeration in float64: the loss, its
 * gradient in the model's params against finite differences of the brute-force marginal, and a
 * continuous latent with a guide (the ELBO's expectation by Monte Carlo within its SE).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { finiteDiff } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const ENUM = { infer: { enumerate: 'parallel' } } as const;
const LN2PI = Math.log(2 * Math.PI);
const normLp = (x: number, m: number, s: number): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LN2PI;
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
};

const xs = [-1.3, 0.4, 2.1]; // plate A (size 3)
const ys = [0.9, -0.2, 1.7, 3.0]; // plate B (size 4)
const pC = 0.35; // global c ~ Bernoulli
// a_i | c ~ Categorical(probsA[c]) with 3 classes; b_j ~ Bernoulli(pB)
const probsA = [
  [0.2, 0.5, 0.3],
  [0.6, 0.1, 0.3],
];
const pB = 0.45;

/** float64 log p(x, y) with c, a, b summed out; `mu` (3 locs of a) and `nu` (2 locs of b). */
function logMarginal(mu: number[], nu: number[]): number {
  const terms = [0, 1].map((c) => {
    const lc = Math.log(c === 1 ? pC : 1 - pC);
    const la = xs.reduce(
      (s, x) => s + lse([0, 1, 2].map((a) => Math.log(probsA[c]![a]!) + normLp(x, mu[a]! + c, 1))),
      0,
    );
    const lb = ys.reduce(
      (s, y) =>
        s +
        lse([0, 1].map((b) => Math.log(b === 1 ? pB : 1 - pB) + normLp(y, nu[b]! * (1 + c), 0.8))),
      0,
    );
    return lc + la + lb;
  });
  return lse(terms);
}

const MU0 = [-1, 0.5, 2];
const NU0 = [0.3, 1.4];

function model(): void {
  const mu = ppl.param('mu', tf.tensor1d(MU0));
  const nu = ppl.param('nu', tf.tensor1d(NU0));
  const c = ppl.sample('c', new D.Bernoulli(pC), ENUM);
  const ci = tf.cast(c, 'int32');
  const pa = tf.gather(tf.tensor2d(probsA), ci); // [..., 3]
  ppl.plate('A', xs.length, () => {
    const a = ppl.sample('a', new D.Categorical({ probs: pa }), ENUM);
    const loc = tf.add(tf.gather(mu, tf.cast(a, 'int32')), c);
    ppl.sample('x', new D.Normal(loc, 1), { obs: tf.tensor1d(xs) });
  });
  ppl.plate('B', ys.length, () => {
    const b = ppl.sample('b', new D.Bernoulli(pB), ENUM);
    const loc = tf.mul(tf.gather(nu, tf.cast(b, 'int32')), tf.add(1, c));
    ppl.sample('y', new D.Normal(loc, 0.8), { obs: tf.tensor1d(ys) });
  });
}
const noGuide = (): void => undefined;

describe('audit14: TraceEnumELBO, enumerated sites in two different plates below a global one', () => {
  it('the loss is minus the brute-force log marginal', () => {
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const before = tf.memory().numTensors;
    const loss = elbo.loss(model, noGuide);
    ppl.clearParamStore();
    expect(tf.memory().numTensors).toBe(before);
    const want = -logMarginal(MU0, NU0);
    expect(Math.abs(loss - want)).toBeLessThan(2e-4 * Math.abs(want));
  });

  it('the gradient in the params matches finite differences of the brute-force marginal', () => {
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const before = tf.memory().numTensors;
    // one SVI-free gradient: d loss / d (mu, nu) through the param store's variables
    elbo.loss(model, noGuide); // creates the params
    const store = ppl.getParamStore();
    const muV = store.unconstrained('mu');
    const nuV = store.unconstrained('nu');
    const { grads, value } = tf.variableGrads(
      () => elbo.differentiableLoss(model, noGuide, []) as tf.Scalar,
      [muV, nuV],
    );
    const gMu = Array.from(grads[muV.name]!.dataSync());
    const gNu = Array.from(grads[nuV.name]!.dataSync());
    tf.dispose([value, ...Object.values(grads)]);
    ppl.clearParamStore();
    expect(tf.memory().numTensors).toBe(before);
    const fd = finiteDiff((p) => -logMarginal(p.slice(0, 3), p.slice(3)), [...MU0, ...NU0], 1e-5);
    [...gMu, ...gNu].forEach((g, i) =>
      expect(Math.abs(g - fd[i]!), `param ${i}`).toBeLessThan(2e-3 * (1 + Math.abs(fd[i]!))),
    );
  });

  it('SVI steps on the enumerated model lower the loss and stay finite', () => {
    setSeed(3);
    const opt = tf.train.adam(0.05);
    const svi = new ppl.SVI(model, noGuide, opt, new ppl.TraceEnumELBO({ maxPlateNesting: 1 }));
    const losses = Array.from({ length: 15 }, () => svi.step());
    losses.forEach((l) => expect(Number.isFinite(l)).toBe(true));
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    opt.dispose();
  });

  it('with a continuous latent under a guide: the ELBO is E_q[log p(x, y | s) + log p(s) - log q(s)] (MC within its SE)', () => {
    // s ~ LogNormal(0, 0.3) scales the observation noise of plate A; q(s) = LogNormal(0.1, 0.2)
    const m2 = (): void => {
      const s = ppl.sample('s', new D.LogNormal(0, 0.3));
      const c = ppl.sample('c', new D.Bernoulli(pC), ENUM);
      const ci = tf.cast(c, 'int32');
      const pa = tf.gather(tf.tensor2d(probsA), ci);
      ppl.plate('A', xs.length, () => {
        const a = ppl.sample('a', new D.Categorical({ probs: pa }), ENUM);
        const loc = tf.add(tf.gather(tf.tensor1d(MU0), tf.cast(a, 'int32')), c);
        ppl.sample('x', new D.Normal(loc, s), { obs: tf.tensor1d(xs) });
      });
      ppl.plate('B', ys.length, () => {
        const b = ppl.sample('b', new D.Bernoulli(pB), ENUM);
        const loc = tf.mul(tf.gather(tf.tensor1d(NU0), tf.cast(b, 'int32')), tf.add(1, c));
        ppl.sample('y', new D.Normal(loc, 0.8), { obs: tf.tensor1d(ys) });
      });
    };
    const g2 = (): void => {
      ppl.sample('s', new D.LogNormal(0.1, 0.2));
    };
    const logJoint = (s: number): number => {
      const terms = [0, 1].map((c) => {
        const lc = Math.log(c === 1 ? pC : 1 - pC);
        const la = xs.reduce(
          (acc, x) =>
            acc + lse([0, 1, 2].map((a) => Math.log(probsA[c]![a]!) + normLp(x, MU0[a]! + c, s))),
          0,
        );
        const lb = ys.reduce(
          (acc, y) =>
            acc +
            lse(
              [0, 1].map(
                (b) => Math.log(b === 1 ? pB : 1 - pB) + normLp(y, NU0[b]! * (1 + c), 0.8),
              ),
            ),
          0,
        );
        return lc + la + lb;
      });
      return lse(terms);
    };
    const logLN = (s: number, m: number, sd: number): number =>
      normLp(Math.log(s), m, sd) - Math.log(s);
    // the exact ELBO by quadrature over z = log s ~ N(0.1, 0.2)
    let exact = 0;
    let second = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const z = 0.1 + 0.2 * (-8 + (16 * (i + 0.5)) / n);
      const w = (Math.exp(normLp(z, 0.1, 0.2)) * (16 * 0.2)) / n;
      const s = Math.exp(z);
      const f = logJoint(s) + logLN(s, 0, 0.3) - logLN(s, 0.1, 0.2);
      exact += w * f;
      second += w * f * f;
    }
    const sd = Math.sqrt(second - exact * exact);
    setSeed(4);
    const P = 120;
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1, numParticles: P });
    const loss = elbo.loss(m2, g2);
    expect(Math.abs(-loss - exact)).toBeLessThan(5 * (sd / Math.sqrt(P)) + 1e-3);
  });

  it('a factor in the cross of two plates fed by sites of each (not a tree): exact or a clear error', () => {
    // a_i (plate A, 2) and b_j (plate B, 2) both feed x_ij (plates A x B): Pyro refuses this
    // structure; exact enumeration over the 16 joint assignments is the only other right answer
    const X = [
      [0.3, -0.5],
      [1.2, 0.8],
    ];
    const m3 = (): void => {
      const a = ppl.plate('A', 2, { dim: -1 }, () => ppl.sample('a', new D.Bernoulli(0.3), ENUM));
      const b = ppl.plate('B', 2, { dim: -2 }, () => ppl.sample('b', new D.Bernoulli(0.6), ENUM));
      ppl.plate('A', 2, { dim: -1 }, () =>
        ppl.plate('B', 2, { dim: -2 }, () => {
          // x[j][i]: rows are plate B (dim -2), columns plate A (dim -1)
          const loc = tf.sub(tf.add(a, tf.mul(2, b)), 1);
          ppl.sample('x', new D.Normal(loc, 1), { obs: tf.tensor2d(X) });
        }),
      );
    };
    const terms: number[] = [];
    for (let code = 0; code < 16; code++) {
      const av = [code & 1, (code >> 1) & 1];
      const bv = [(code >> 2) & 1, (code >> 3) & 1];
      let t = 0;
      av.forEach((ai) => (t += Math.log(ai ? 0.3 : 0.7)));
      bv.forEach((bj) => (t += Math.log(bj ? 0.6 : 0.4)));
      for (let j = 0; j < 2; j++) {
        for (let i = 0; i < 2; i++) t += normLp(X[j]![i]!, av[i]! + 2 * bv[j]! - 1, 1);
      }
      terms.push(t);
    }
    const brute = lse(terms);
    const before = tf.memory().numTensors;
    let loss: number | undefined;
    let err: unknown;
    try {
      loss = new ppl.TraceEnumELBO({ maxPlateNesting: 2 }).loss(m3, noGuide);
    } catch (e) {
      err = e;
    }
    expect(tf.memory().numTensors).toBe(before);
    if (err !== undefined) {
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/plate|tree/i);
    } else {
      expect(Math.abs(loss! + brute)).toBeLessThan(1e-3 * Math.abs(brute));
    }
  });
});
