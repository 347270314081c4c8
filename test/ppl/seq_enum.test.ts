/**
 * Sequential enumeration of guide sites in `TraceEnumELBO` (Pyro's `TraceEnum_ELBO` with guide
 * sites marked `{infer: {enumerate: 'sequential'}}`): the ELBO and its gradient in the guide's
 * parameters against brute-force sums over every joint assignment written in float64 JS (value),
 * and against central differences of that float64 function (gradient); agreement with parallel
 * enumeration of the same guide site; sequential sites in and out of plates, two of them, mixed
 * with parallel-enumerated model sites and with parallel-enumerated guide sites; memory.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';
import { assignments, normalLp, softmax } from '../fixtures/float64.js';
import { elboAndGrad, expectClose } from '../fixtures/elbo.js';

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

describe('TraceEnumELBO: a global guide site enumerated sequentially', () => {
  const x = [0.3, -1.2, 2.1, 0.8];
  const locs = [-1, 0.5, 2];
  const prior = [0.2, 0.5, 0.3];
  const model = (): void => {
    const z = ppl.sample('z', new D.Categorical({ probs: prior }));
    ppl.plate('data', x.length, () => {
      const loc = tf.gather(tf.tensor1d(locs), tf.cast(z, 'int32'));
      ppl.sample('x', new D.Normal(loc, 1), { obs: tf.tensor1d(x) });
    });
  };
  /** The exact ELBO in float64: sum_z q(z) [log p(z) + log p(x | z) - log q(z)]. */
  const exact = (theta: number[]): number => {
    const q = softmax(theta);
    return q.reduce((acc, qk, k) => {
      const ll = x.reduce((a, xi) => a + normalLp(xi, locs[k] as number), 0);
      return acc + qk * (Math.log(prior[k] as number) + ll - Math.log(qk));
    }, 0);
  };

  it('equals the brute-force ELBO and its gradient (float64)', () => {
    const t0 = [0.1, -0.3, 0.4];
    const theta = tf.variable(tf.tensor1d(t0));
    const guide = (): void => {
      ppl.sample('z', new D.Categorical({ logits: theta }), {
        infer: { enumerate: 'sequential' },
      });
    };
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const { value, grad } = elboAndGrad(() => elbo.differentiableLoss(model, guide, []), [theta]);
    expect(value).toBeCloseTo(exact(t0), 3);
    expectClose(grad, finiteDiff(exact, t0, 1e-5), 2e-3);
    // a wrong weighting (e.g. 1/K instead of q, or no weights) would be far off
    expect(Math.abs(exact(t0) - exact([0, 0, 0]))).toBeGreaterThan(0.05);
    theta.dispose();
  });

  it('agrees with parallel enumeration of the same guide site (value and gradient)', () => {
    const t0 = [0.7, -0.2, -0.5];
    const theta = tf.variable(tf.tensor1d(t0));
    const guideOf = (mode: 'sequential' | 'parallel') => (): void => {
      ppl.sample('z', new D.Categorical({ logits: theta }), { infer: { enumerate: mode } });
    };
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const seq = elboAndGrad(
      () => elbo.differentiableLoss(model, guideOf('sequential'), []),
      [theta],
    );
    const par = elboAndGrad(() => elbo.differentiableLoss(model, guideOf('parallel'), []), [theta]);
    expect(seq.value).toBeCloseTo(par.value, 4);
    expectClose(seq.grad, par.grad, 1e-4);
    theta.dispose();
  });

  it('configEnumerate(guide, "sequential") marks the discrete guide sites', () => {
    const t0 = [0.1, 0.2, -0.6];
    const theta = tf.variable(tf.tensor1d(t0));
    const guide = ppl.configEnumerate((): void => {
      ppl.sample('z', new D.Categorical({ logits: theta }));
    }, 'sequential');
    const tr = ppl.trace(guide).getTrace();
    expect(tr.get('z')?.infer.enumerate).toBe('sequential');
    tr.dispose();
    const elbo = new ppl.TraceEnumELBO(); // maxPlateNesting found by a trial run
    let loss = 0;
    expectNoLeak(() => {
      loss = elbo.loss(model, guide);
    });
    expect(-loss).toBeCloseTo(exact(t0), 3);
    theta.dispose();
  });
});

describe('TraceEnumELBO: a guide site in a plate enumerated sequentially', () => {
  const x = [0.4, -0.9, 1.7];
  const locs = [-1, 1.5];
  const prior = [0.35, 0.65];
  const model = (): void => {
    ppl.plate('data', x.length, () => {
      const z = ppl.sample('z', new D.Categorical({ probs: prior }));
      const loc = tf.gather(tf.tensor1d(locs), tf.cast(z, 'int32'));
      ppl.sample('x', new D.Normal(loc, 0.8), { obs: tf.tensor1d(x) });
    });
  };
  /** Brute force over all K^N joint assignments (float64). */
  const exact = (flat: number[]): number => {
    const q = x.map((_, i) => softmax(flat.slice(2 * i, 2 * i + 2)));
    let total = 0;
    for (const z of assignments(x.length, 2)) {
      let qz = 1;
      let f = 0;
      z.forEach((k, i) => {
        const qik = (q[i] as number[])[k] as number;
        qz *= qik;
        f += Math.log(prior[k] as number) + normalLp(x[i] as number, locs[k] as number, 0.8);
        f -= Math.log(qik);
      });
      total += qz * f;
    }
    return total;
  };

  it('equals the brute-force ELBO over the K^N assignments, and its gradient', () => {
    const t0 = [0.3, -0.4, 1.1, 0.2, -0.7, 0.5];
    const logits = tf.variable(tf.tensor2d(t0, [3, 2]));
    const guide = (): void => {
      ppl.plate('data', x.length, () => {
        ppl.sample('z', new D.Categorical({ logits }), { infer: { enumerate: 'sequential' } });
      });
    };
    // the guide runs K = 2 times (one value for every member at once), not 2^3
    let runs = 0;
    const counted = (): void => {
      runs++;
      guide();
    };
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const { value, grad } = elboAndGrad(
      () => elbo.differentiableLoss(model, counted, []),
      [logits],
    );
    expect(runs).toBe(1 + 2); // the escaped run, then one complete run per value
    expect(value).toBeCloseTo(exact(t0), 3);
    expectClose(grad, finiteDiff(exact, t0, 1e-5), 2e-3);
    logits.dispose();
  });
});
