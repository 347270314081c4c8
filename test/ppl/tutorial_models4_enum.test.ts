/**
 * NumPyro's annotation example (`annotation.py`), the Dawid-Skene model, ported as its users
 * write it: annotator confusion matrices `beta` in two nested plates, the true class `c` of each
 * item enumerated in parallel, the annotations scored by `Vindex(beta)[positions, c, :]`. The
 * references are brute-force sums over every item's class in float64: the enumerated
 * log-likelihood, the posterior of each item's class (`computeMarginals`), its MAP
 * (`inferDiscrete` at temperature 0) and draws (temperature 1, within 4 MC standard errors).
 */
import * as tf from '@tensorflow/tfjs';
import gammaln from '@stdlib/math-base-special-gammaln';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
};

describe("NumPyro's annotation models: Dawid-Skene", () => {
  // 3 annotators over 4 positions (annotator 1 annotates twice), 3 classes, 5 items
  const positions = [0, 1, 1, 2];
  const annotationsV = [
    [0, 0, 1, 0],
    [2, 2, 2, 1],
    [1, 1, 0, 1],
    [0, 2, 2, 2],
    [1, 1, 1, 1],
  ];
  const A = 3;
  const K = 3;
  const I = annotationsV.length;
  // fixed confusion matrices (rows: true class; a simplex over the annotated class) and pi
  const betaV = Array.from({ length: A }, (_, a) =>
    Array.from({ length: K }, (_, c) => {
      const row = Array.from({ length: K }, (_, k) => (k === c ? 3 + a : 1 + 0.3 * ((a + k) % 2)));
      const s = row.reduce((u, v) => u + v, 0);
      return row.map((v) => v / s);
    }),
  );
  const piV = [0.5, 0.3, 0.2];

  const daWidSkene = (pos: tf.Tensor, annotations: tf.Tensor): void => {
    const numAnnotators = Math.max(...(pos.arraySync() as number[])) + 1;
    const numClasses = K;
    const [numItems, numPositions] = annotations.shape as [number, number];
    const beta = ppl.plate('annotator', numAnnotators, { dim: -2 }, () =>
      ppl.plate('class', numClasses, () =>
        ppl.sample('beta', new D.Dirichlet(tf.ones([numClasses]))),
      ),
    );
    const pi = ppl.sample('pi', new D.Dirichlet(tf.ones([numClasses])));
    ppl.plate('item', numItems, { dim: -2 }, () => {
      const c = ppl.sample('c', new D.Categorical({ probs: pi }), {
        infer: { enumerate: 'parallel' },
      });
      ppl.plate('position', numPositions, () =>
        ppl.sample('y', new D.Categorical({ probs: ppl.vindex(beta, [pos, c, ':']) }), {
          obs: annotations,
        }),
      );
    });
  };

  /** log p(y_i, c_i = c | beta, pi) for every item and class (float64). */
  const joint = annotationsV.map((row) =>
    Array.from(
      { length: K },
      (_, c) =>
        Math.log(piV[c]!) + row.reduce((s, y, p) => s + Math.log(betaV[positions[p]!]![c]![y]!), 0),
    ),
  );

  it('TraceEnum_ELBO at fixed beta, pi is minus the log-joint with every c summed out (brute force)', () => {
    const pos = tf.tensor1d(positions, 'int32');
    const ann = tf.tensor2d(annotationsV, undefined, 'int32');
    const beta = tf.tensor3d(betaV);
    const pi = tf.tensor1d(piV);
    const conditioned = ppl.condition(daWidSkene, { beta, pi });
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 2 });
    const before = tf.memory().numTensors;
    const loss = elbo.loss(conditioned, () => undefined, pos, ann);
    expect(tf.memory().numTensors).toBe(before);
    // Dirichlet(1) densities: Gamma(K) on each of the A K + 1 simplexes
    const prior = (A * K + 1) * gammaln(K);
    const ll = joint.reduce((s, row) => s + lse(row), 0);
    expect(loss).toBeCloseTo(-(prior + ll), 3);
    // the posterior of each item's class
    const m = elbo.computeMarginals(conditioned, () => undefined, pos, ann);
    const probs = (m.c as D.Categorical).probs.arraySync() as number[][][];
    const flat = probs.flat(2);
    expect(flat.length).toBe(I * K);
    joint.forEach((row, i) => {
      const z = lse(row);
      row.forEach((l, c) => expect(flat[i * K + c]).toBeCloseTo(Math.exp(l - z), 4));
    });
    Object.values(m).forEach((d) => d.dispose());
    tf.dispose([pos, ann, beta, pi]);
  });

  it('infer_discrete: the MAP class of each item, and draws at temperature 1 with the posterior frequencies', () => {
    const pos = tf.tensor1d(positions, 'int32');
    const ann = tf.tensor2d(annotationsV, undefined, 'int32');
    const beta = tf.tensor3d(betaV);
    const pi = tf.tensor1d(piV);
    const conditioned = ppl.condition(daWidSkene, { beta, pi });
    const traced = (t: 0 | 1) =>
      ppl.trace(ppl.inferDiscrete(conditioned, { firstAvailableDim: -3, temperature: t }));
    const map = traced(0).getTrace(pos, ann);
    const cMap = Array.from(map.value('c').dataSync());
    expect(map.value('c').shape).toEqual([I, 1]);
    expect(cMap).toEqual(joint.map((row) => row.indexOf(Math.max(...row))));
    map.dispose();
    // draws: p(c_i | y_i) per item, checked on item 0 and item 3 (the two most uncertain)
    setSeed(9);
    const R = 200;
    const counts = Array.from({ length: I }, () => new Array<number>(K).fill(0));
    const before = tf.memory().numTensors;
    for (let r = 0; r < R; r++) {
      const tr = traced(1).getTrace(pos, ann);
      tr.value('c')
        .dataSync()
        .forEach((c, i) => counts[i]![c]!++);
      tr.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    joint.forEach((row, i) => {
      const z = lse(row);
      row.forEach((l, c) => {
        const p = Math.exp(l - z);
        const se = Math.sqrt((p * (1 - p)) / R);
        expect(Math.abs(counts[i]![c]! / R - p)).toBeLessThan(4 * se + 1e-9);
      });
    });
    tf.dispose([pos, ann, beta, pi]);
  });
});
