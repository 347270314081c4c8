/**
 * Audit 16: with both guide and model enumerating in parallel, `TraceEnumELBO` runs the guide
 * once (its enumerated dims broadcast through the model, which contracts its own sites with the
 * guide's dims kept free, each term then averaged under the guide) instead of once per value of
 * the guide's sites. References: the same ELBO and gradients from the guide's sites enumerated
 * sequentially (one run per value, what the parallel guide used to do), and the exact ELBO by
 * brute-force enumeration in float64.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

afterEach(() => {
  ppl.clearParamStore();
});

const xs = [1.1, -0.4, 2.0, 0.3];
const N = xs.length;
const pa = 0.35;
const pb = [0.5, 0.3, 0.2];
/** a ~ Bernoulli(0.35), b ~ Categorical(pb), w ~ Bernoulli(0.6), z_i ~ Bernoulli(0.3): x_i ~ N(.) */
const mean = (a: number, b: number, w: number, z: number): number => a + 0.7 * b - w + 1.5 * z;
const model = (obs: tf.Tensor): void => {
  const a = ppl.sample('a', new D.Bernoulli(pa));
  const b = ppl.sample('b', new D.Categorical({ probs: tf.tensor1d(pb) }));
  const w = ppl.sample('w', new D.Bernoulli(0.6), { infer: { enumerate: 'parallel' } });
  ppl.plate('data', N, () => {
    const z = ppl.sample('z', new D.Bernoulli(tf.fill([N], 0.3)), {
      infer: { enumerate: 'parallel' },
    });
    const loc = tf.add(tf.add(tf.add(a, tf.mul(b, 0.7)), tf.neg(w)), tf.mul(z, 1.5));
    ppl.sample('x', new D.Normal(loc, 1), { obs });
  });
};
/** q(a) = Bernoulli(qa), q(b | a) = Categorical(softmax(ℓ[a])), enumerated as `how`. */
const guideWith = (how: 'parallel' | 'sequential') => (): void => {
  const qa = ppl.param('qa', 0.55, { constraint: ppl.constraints.unitInterval });
  const lb = ppl.param('lb', tf.tensor2d([0.2, -0.3, 0.5, 1.0, 0.1, -0.8], [2, 3]));
  const a = ppl.sample('a', new D.Bernoulli(qa), { infer: { enumerate: how } });
  const logits = tf.gather(lb, tf.cast(a, 'int32'));
  ppl.sample('b', new D.Categorical({ logits }), { infer: { enumerate: how } });
};

/** The exact ELBO at the initial parameters, brute force in float64. */
function exactElbo(): number {
  const qa = 0.55;
  const lb = [
    [0.2, -0.3, 0.5],
    [1.0, 0.1, -0.8],
  ];
  let elbo = 0;
  for (const a of [0, 1]) {
    const row = lb[a] as number[];
    const zn = row.reduce((s, v) => s + Math.exp(v), 0);
    for (const b of [0, 1, 2]) {
      const qab = (a === 1 ? qa : 1 - qa) * (Math.exp(row[b] as number) / zn);
      // log sum_{w, z} p(x, a, b, w, z)
      let px = 0;
      for (const w of [0, 1]) {
        let prod = w === 1 ? 0.6 : 0.4;
        for (const x of xs) {
          prod *=
            0.3 * normalRef.pdf(x, mean(a, b, w, 1), 1) +
            0.7 * normalRef.pdf(x, mean(a, b, w, 0), 1);
        }
        px += prod;
      }
      const lp = Math.log(a === 1 ? pa : 1 - pa) + Math.log(pb[b] as number) + Math.log(px);
      elbo += qab * (lp - Math.log(qab));
    }
  }
  return elbo;
}

function lossAndGrads(guide: () => void, x: tf.Tensor): number[] {
  const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
  const vars = ppl.getParamStore().variables(['qa', 'lb']);
  const { value, grads } = tf.variableGrads(() => elbo.differentiableLoss(model, guide, [x]), vars);
  const out = [
    value.dataSync()[0] as number,
    ...vars.flatMap((v) => Array.from((grads[v.name] as tf.Tensor).dataSync())),
  ];
  value.dispose();
  tf.dispose(grads);
  return out;
}

describe('TraceEnumELBO: guide and model enumerating in parallel, one pass', () => {
  it('the same ELBO and gradients as one guide run per value, and the exact ELBO', () => {
    const x = tf.tensor1d(xs);
    tf.tidy(() => guideWith('sequential')()); // creates the params
    const before = tf.memory().numTensors;
    const joint = lossAndGrads(guideWith('parallel'), x);
    const seq = lossAndGrads(guideWith('sequential'), x);
    expect(tf.memory().numTensors).toBe(before);
    expect(-(joint[0] as number)).toBeCloseTo(exactElbo(), 4);
    joint.forEach((v, k) =>
      expect(Math.abs(v - (seq[k] as number)), `component ${k}`).toBeLessThan(
        1e-5 * Math.max(1, Math.abs(v)),
      ),
    );
    x.dispose();
  });

  it('runs the guide once (the sequential runs take 9)', () => {
    const x = tf.tensor1d(xs);
    tf.tidy(() => guideWith('parallel')());
    let calls = 0;
    const counted = (g: () => void) => (): void => {
      calls++;
      g();
    };
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    elbo.loss(model, counted(guideWith('parallel')), x);
    expect(calls).toBe(1);
    calls = 0;
    // one run per value: 6 complete runs (and 3 partial ones that stop at a site to extend)
    elbo.loss(model, counted(guideWith('sequential')), x);
    expect(calls).toBe(9);
    x.dispose();
  });

  it('a guide site enumerated in parallel inside a plate still runs once per value: the exact ELBO', () => {
    // z_i enumerated by the model, c_i by the guide, both in the plate (the rerun path)
    const x = tf.tensor1d(xs);
    const local = (obs: tf.Tensor): void => {
      ppl.plate('data', N, () => {
        const z = ppl.sample('z', new D.Bernoulli(tf.fill([N], 0.3)), {
          infer: { enumerate: 'parallel' },
        });
        const c = ppl.sample('c', new D.Bernoulli(tf.fill([N], 0.4)));
        ppl.sample('x', new D.Normal(tf.add(c, tf.mul(z, 1.5)), 1), { obs });
      });
    };
    const guide = (): void => {
      ppl.plate('data', N, () =>
        ppl.sample('c', new D.Bernoulli(tf.fill([N], 0.7)), { infer: { enumerate: 'parallel' } }),
      );
    };
    // sum_i E_q(c_i)[log sum_z p(z) p(c_i) N(x_i; c_i + 1.5 z) - log q(c_i)]
    let exact = 0;
    for (const v of xs) {
      for (const c of [0, 1]) {
        const q = c === 1 ? 0.7 : 0.3;
        const px =
          (c === 1 ? 0.4 : 0.6) *
          (0.3 * normalRef.pdf(v, c + 1.5, 1) + 0.7 * normalRef.pdf(v, c, 1));
        exact += q * (Math.log(px) - Math.log(q));
      }
    }
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    expect(-elbo.loss(local, guide, x)).toBeCloseTo(exact, 4);
    x.dispose();
  });
});
