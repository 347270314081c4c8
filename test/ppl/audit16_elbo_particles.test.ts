/**
 * Audit 16: the particle average `-(1/P) sum_p L_p` is owned by the ELBO base
 * (`ELBOEstimator.particleAverage`) for `TraceELBO` (looped and vectorized), `TraceEnumELBO` (a
 * particle summing its sequential guide runs) and `TraceGraphELBO`. Reference: `P` seeded
 * single-particle estimates drawn from the same stream, averaged in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const xs = [0.3, -1.2, 2.1];
const N = xs.length;
// loc continuous, c discrete (scored, or enumerated sequentially by the guide), z enumerated
const enumModel = (obs: tf.Tensor): void => {
  const loc = ppl.sample('loc', new D.Normal(0, 2));
  const c = ppl.sample('c', new D.Bernoulli(0.3));
  ppl.plate('data', N, () => {
    const z = ppl.sample('z', new D.Bernoulli(tf.fill([N], 0.4)), {
      infer: { enumerate: 'parallel' },
    });
    ppl.sample('x', new D.Normal(tf.add(tf.add(loc, tf.mul(z, 2)), c), 1), { obs });
  });
};
const plainModel = (obs: tf.Tensor): void => {
  const loc = ppl.sample('loc', new D.Normal(0, 2));
  const c = ppl.sample('c', new D.Bernoulli(0.3));
  ppl.plate('data', N, () => ppl.sample('x', new D.Normal(tf.add(loc, c), 1), { obs }));
};
const guideWith = (infer: Record<string, unknown>) => (): void => {
  const m = ppl.param('m', 0.2);
  const p = ppl.param('p', 0.6, { constraint: ppl.constraints.unitInterval });
  ppl.sample('loc', new D.Normal(m, 0.7));
  ppl.sample('c', new D.Bernoulli(p), { infer });
};

/** The loss and its gradients in (m, p), as float64 numbers. */
function lossAndGrads(loss: () => tf.Scalar): number[] {
  const { value, grads } = tf.variableGrads(loss, ppl.getParamStore().variables(['m', 'p']));
  const out = [
    value.dataSync()[0] as number,
    ...Object.values(grads).map((g) => g.dataSync()[0] as number),
  ];
  value.dispose();
  tf.dispose(grads);
  return out;
}

describe('the particle average of the ELBO base', () => {
  it.each([
    ['TraceELBO', (n: number) => new ppl.TraceELBO({ numParticles: n }), false],
    ['TraceGraphELBO', (n: number) => new ppl.TraceGraphELBO({ numParticles: n }), false],
    [
      'TraceEnumELBO (sequential guide runs)',
      (n: number) => new ppl.TraceEnumELBO({ numParticles: n, maxPlateNesting: 1 }),
      true,
    ],
  ] as const)(
    '%s: P particles are the mean of P seeded single-particle estimates',
    (_, mk, enumerated) => {
      const x = tf.tensor1d(xs);
      const model = enumerated ? enumModel : plainModel;
      const guide = guideWith(enumerated ? { enumerate: 'sequential' } : {});
      tf.tidy(() => {
        ppl.param('m', 0.2);
        ppl.param('p', 0.6, { constraint: ppl.constraints.unitInterval });
      });
      const P = 3;
      setSeed(4);
      const many = mk(P);
      const before = tf.memory().numTensors;
      const got = lossAndGrads(() => many.differentiableLoss(model, guide, [x]));
      expect(tf.memory().numTensors).toBe(before);
      setSeed(4);
      const one = mk(1);
      const singles = Array.from({ length: P }, () =>
        lossAndGrads(() => one.differentiableLoss(model, guide, [x])),
      );
      got.forEach((v, k) => {
        const ref = singles.reduce((a, s) => a + (s[k] as number), 0) / P;
        expect(v, `component ${k}`).toBeCloseTo(ref, 4);
      });
      // the estimates differ between particles (a test that could not fail otherwise)
      expect(Math.abs((singles[0]?.[0] as number) - (singles[1]?.[0] as number))).toBeGreaterThan(
        1e-3,
      );
      x.dispose();
    },
  );

  it('TraceELBO with vectorized particles: one run of P particles divided by P', () => {
    // loc ~ N(0, 2), x_i ~ N(loc, 1); q(loc) = N(m, 0.7): the estimate's mean is the exact ELBO
    const x = tf.tensor1d(xs);
    const model = (obs: tf.Tensor): void => {
      const loc = ppl.sample('loc', new D.Normal(0, 2));
      ppl.plate('data', N, () => ppl.sample('x', new D.Normal(loc, 1), { obs }));
    };
    const guide = (): void => {
      ppl.sample('loc', new D.Normal(ppl.param('m', 0.2), 0.7));
    };
    const m = 0.2;
    const s2 = 0.49;
    const lnN = (v: number, mu: number, var_: number): number =>
      -0.5 * Math.log(2 * Math.PI * var_) - (v - mu) ** 2 / (2 * var_);
    const exact =
      lnN(m, 0, 4) -
      s2 / 8 +
      xs.reduce((a, v) => a + lnN(v, m, 1) - s2 / 2, 0) +
      0.5 * Math.log(2 * Math.PI * Math.E * s2);
    tf.tidy(() => ppl.param('m', 0.2));
    setSeed(6);
    const P = 4000;
    const elbo = new ppl.TraceELBO({
      numParticles: P,
      vectorizeParticles: true,
      maxPlateNesting: 1,
    });
    const before = tf.memory().numTensors;
    const loss = elbo.loss(model, guide, x);
    expect(tf.memory().numTensors).toBe(before);
    // the per-particle sd of the estimate is below 4 here: 4 SE = 16 / sqrt(P)
    expect(Math.abs(-loss - exact)).toBeLessThan(16 / Math.sqrt(P));
    x.dispose();
  });
});
