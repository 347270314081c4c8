/**
 * NumPyro's annotation model `logistic_random_effects` (annotation.py), ported as its users
 * write it: class-level `zeta ~ Normal(0, 1)`, `Omega, Chi ~ HalfNormal(1)` (each `[K - 1]`), an
 * annotator x class plate of `beta ~ Normal(zeta, Omega)` under `reparam({beta:
 * LocScaleReparam(0)})`, `pi ~ Dirichlet(1)`, an item plate (dim -2) of `c ~ Categorical(pi)`
 * enumerated, `theta ~ Normal(0, Chi[c])` under `LocScaleReparam(0)` — so the reparameterized
 * site's scale carries the enumeration dim of `c` — and a position plate of `y ~
 * Categorical(logits = Vindex(beta)[positions, c, :] - theta)` (both padded by a last 0). The
 * continuous sites (`beta_decentered`, `theta_decentered`, ...) are fixed by `condition`; with an
 * empty guide TraceEnum_ELBO's loss must be minus the float64 log joint with every `c` summed
 * out (brute force), and `inferDiscrete` at temperature 0 the per-item argmax.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';

afterEach(() => clearSeed());

const K = 3; // classes
const A = 2; // annotators
const POSITIONS = [0, 1, 1]; // annotator of each position
const ANNOTATIONS = [
  [0, 0, 1],
  [2, 2, 2],
  [1, 0, 1],
  [2, 1, 2],
];
const N = ANNOTATIONS.length;
const P = POSITIONS.length;

const pad = (t: tf.Tensor): tf.Tensor =>
  tf.pad(t, [...t.shape.slice(0, -1).map((): [number, number] => [0, 0]), [0, 1]]);

function lre(positions: tf.Tensor, annotations: tf.Tensor): void {
  const [zeta, omega, chi] = ppl.plate('class', K, () => [
    ppl.sample('zeta', new D.Normal(0, 1).expand([K - 1]).toEvent(1)),
    ppl.sample('Omega', new D.HalfNormal(1).expand([K - 1]).toEvent(1)),
    ppl.sample('Chi', new D.HalfNormal(1).expand([K - 1]).toEvent(1)),
  ]) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const beta = ppl.plate('annotator', A, { dim: -2 }, () =>
    ppl.plate('class', K, () =>
      ppl.reparam(() => pad(ppl.sample('beta', new D.Normal(zeta, omega).toEvent(1))), {
        beta: new ppl.LocScaleReparam(0),
      })(),
    ),
  );
  const pi = ppl.sample('pi', new D.Dirichlet(tf.ones([K])));
  ppl.plate('item', N, { dim: -2 }, () => {
    const c = ppl.sample('c', new D.Categorical({ probs: pi }), {
      infer: { enumerate: 'parallel' },
    });
    const ci = tf.cast(c, 'int32');
    const theta = ppl.reparam(
      () => pad(ppl.sample('theta', new D.Normal(0, tf.gather(chi, ci)).toEvent(1))),
      { theta: new ppl.LocScaleReparam(0) },
    )();
    ppl.plate('position', P, () => {
      const logits = tf.sub(ppl.vindex(beta, [positions, ci, ':']), theta);
      ppl.sample('y', new D.Categorical({ logits }), { obs: annotations });
    });
  });
}

// the fixed continuous values
// zeta, Omega, Chi: one row per class (the class plate), K - 1 entries each
const ZETA = [
  [0.3, -0.2],
  [-0.4, 0.1],
  [0.6, 0.5],
];
const OMEGA = [
  [0.8, 1.1],
  [0.5, 0.7],
  [1.3, 0.9],
];
const CHI = [
  [0.5, 0.9],
  [1.2, 0.4],
  [0.7, 0.6],
];
const BETA_DEC = [
  [
    [0.4, -0.3],
    [1.0, 0.2],
    [-0.5, 0.8],
  ],
  [
    [0.1, 0.6],
    [-0.9, 0.3],
    [0.2, -0.1],
  ],
];
const PI = [0.5, 0.3, 0.2];
const THETA_DEC = [
  [0.2, -0.4],
  [0.5, 0.1],
  [-0.3, 0.9],
  [0.0, -0.6],
];

const LOG2PI = Math.log(2 * Math.PI);
const lnorm = (x: number, m: number, s: number): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LOG2PI;
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, v) => a + Math.exp(v - m), 0));
};

/** log p(c_i = c, y_i | continuous) per item and class, and the log prior of the continuous. */
function reference(): { joint: number[][]; prior: number } {
  let prior = 0;
  ZETA.forEach((row) => row.forEach((v) => (prior += lnorm(v, 0, 1))));
  OMEGA.forEach((row) => row.forEach((v) => (prior += Math.log(2) + lnorm(v, 0, 1))));
  CHI.forEach((row) => row.forEach((v) => (prior += Math.log(2) + lnorm(v, 0, 1))));
  BETA_DEC.forEach((m) => m.forEach((row) => row.forEach((v) => (prior += lnorm(v, 0, 1)))));
  THETA_DEC.forEach((row) => row.forEach((v) => (prior += lnorm(v, 0, 1))));
  // Dirichlet(1, 1, 1): density Gamma(3) = 2
  prior += Math.log(2);
  const beta = BETA_DEC.map((m) =>
    m.map((row, k) => [
      ...row.map((v, j) => (ZETA[k]?.[j] as number) + (OMEGA[k]?.[j] as number) * v),
      0,
    ]),
  );
  const joint = ANNOTATIONS.map((ys, i) =>
    Array.from({ length: K }, (_, c) => {
      const theta = [...(THETA_DEC[i] as number[]).map((v, j) => (CHI[c]?.[j] as number) * v), 0];
      let acc = Math.log(PI[c] as number);
      ys.forEach((y, p) => {
        const logits = (beta[POSITIONS[p] as number]?.[c] as number[]).map(
          (b, k) => b - (theta[k] as number),
        );
        acc += (logits[y] as number) - lse(logits);
      });
      return acc;
    }),
  );
  return { joint, prior };
}

const fixed = (): Record<string, tf.Tensor> => ({
  zeta: tf.tensor2d(ZETA),
  Omega: tf.tensor2d(OMEGA),
  Chi: tf.tensor2d(CHI),
  beta_decentered: tf.tensor3d(BETA_DEC),
  pi: tf.tensor1d(PI),
  theta_decentered: tf.tensor3d(THETA_DEC.map((r) => [r])),
});

describe("NumPyro's logistic random effects annotation model", () => {
  it('TraceEnumELBO at fixed continuous sites is minus the log joint with c summed out (brute force)', () => {
    const positions = tf.tensor1d(POSITIONS, 'int32');
    const annotations = tf.tensor2d(ANNOTATIONS, undefined, 'int32');
    const v = fixed();
    const before = tf.memory().numTensors;
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 2 }).loss<[tf.Tensor, tf.Tensor]>(
      ppl.condition(lre, v),
      () => undefined,
      positions,
      annotations,
    );
    expect(tf.memory().numTensors).toBe(before);
    const { joint, prior } = reference();
    const ref = prior + joint.reduce((a, row) => a + lse(row), 0);
    expect(loss).toBeCloseTo(-ref, 3);
    tf.dispose([positions, annotations, ...Object.values(v)]);
  });

  it('inferDiscrete (temperature 0) gives each item its most probable class', () => {
    const positions = tf.tensor1d(POSITIONS, 'int32');
    const annotations = tf.tensor2d(ANNOTATIONS, undefined, 'int32');
    const v = fixed();
    const before = tf.memory().numTensors;
    const tr = ppl
      .trace(ppl.inferDiscrete(ppl.condition(lre, v), { temperature: 0, maxPlateNesting: 2 }))
      .getTrace(positions, annotations);
    const c = Array.from(tr.value('c').dataSync());
    const { joint } = reference();
    joint.forEach((row, i) => expect(c[i]).toBe(row.indexOf(Math.max(...row))));
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([positions, annotations, ...Object.values(v)]);
  });
});
