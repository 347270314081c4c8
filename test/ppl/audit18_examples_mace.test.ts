/**
 * NumPyro's annotation example (`annotation.py`), the MACE model, ported as its users write it:
 * per-annotator `epsilon ~ Dirichlet(10)` and trustworthiness `theta ~ Beta(1/2, 1/2)` in a plate,
 * the true class `c ~ DiscreteUniform(0, K - 1)` of each item and the spamming indicator
 * `s ~ Bernoulli(1 - theta[positions])` of each annotation enumerated in parallel in nested plates,
 * the annotation a `Categorical` over `where(s == 0, one_hot(c), epsilon[positions])`.
 * `DiscreteUniform` (NumPyro's family) was missing; its values, moments and errors are checked
 * here too. References: brute-force sums over each item's class and each annotation's indicator
 * in float64; under NUTS (the enumerated sites summed out, `tf.where` over rank-5 operands, whose
 * `Tile` gradient tfjs lacked) the trustworthiness means against a float64 3-d grid.
 */
import * as tf from '@tensorflow/tfjs';
import gammaln from '@stdlib/math-base-special-gammaln';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';
import { meanAndSe } from '../fixtures/mc.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
};

describe('DiscreteUniform (NumPyro)', () => {
  it('log-probabilities, cdf, moments, entropy and enumerateSupport match the closed forms', () => {
    const d = new D.DiscreteUniform(tf.tensor1d([0, -2]), tf.tensor1d([2, 5]));
    expect(d.batchShape).toEqual([2]);
    expect(d.support.name).toContain('integerInterval');
    const xs = tf.tensor2d([
      [0, -2],
      [2, 5],
      [3, 6],
      [1.5, -3],
    ]);
    const lp = expectNoLeak(() => d.logProb(xs));
    const l3 = -Math.log(3);
    const l8 = -Math.log(8);
    expect(lp.slice(0, 4)).toEqual([l3, l8, l3, l8].map((v) => expect.closeTo(v, 6)));
    expect(lp.slice(4)).toEqual([-Infinity, -Infinity, -Infinity, -Infinity]);
    const qs = tf.tensor2d([
      [-1, -3],
      [0, -2],
      [1.5, 1],
      [9, 9],
    ]);
    const cdf = expectNoLeak(() => d.cdf(qs));
    [0, 0, 1 / 3, 1 / 8, 2 / 3, 4 / 8, 1, 1].forEach((v, i) => expect(cdf[i]).toBeCloseTo(v, 6));
    expect(expectNoLeak(() => d.mean())).toEqual([1, 1.5]);
    expect(expectNoLeak(() => d.variance())).toEqual(
      [8 / 12, 63 / 12].map((v) => expect.closeTo(v, 6)),
    );
    const h = expectNoLeak(() => d.entropy());
    expect(h[0]).toBeCloseTo(Math.log(3), 6);
    expect(h[1]).toBeCloseTo(Math.log(8), 6);
    expect(expectNoLeak(() => d.mode()).every((v) => Number.isNaN(v))).toBe(true);
    d.dispose();
    tf.dispose([xs, qs]);
    const e = new D.DiscreteUniform(1, 4);
    expect(expectNoLeak(() => e.enumerateSupport())).toEqual([1, 2, 3, 4]);
    e.dispose();
    // NumPyro's defaults: DiscreteUniform() is {0, 1}
    const b = new D.DiscreteUniform();
    expect(expectNoLeak(() => b.enumerateSupport())).toEqual([0, 1]);
    b.dispose();
  });

  it('draws are integers in {low..high} with frequencies 1/n (5 SE)', () => {
    const d = new D.DiscreteUniform(-1, 3);
    const n = 20000;
    const x = expectNoLeak(() => d.sample([n], 7));
    const counts = new Array<number>(5).fill(0);
    for (const v of x) {
      expect(Number.isInteger(v) && v >= -1 && v <= 3).toBe(true);
      counts[v + 1]!++;
    }
    const se = Math.sqrt((0.2 * 0.8) / n);
    counts.forEach((c) => expect(Math.abs(c / n - 0.2)).toBeLessThan(5 * se));
    d.dispose();
  });

  it('non-integer or crossed bounds are refused naming the argument, with nothing leaked', () => {
    const before = tf.memory().numTensors;
    expect(() => new D.DiscreteUniform(0.5, 3)).toThrow(ArgumentError);
    expect(() => new D.DiscreteUniform(0.5, 3)).toThrow(/low.*integers/);
    expect(() => new D.DiscreteUniform(0, [2, 2.5])).toThrow(/high.*integers/);
    expect(() => new D.DiscreteUniform(3, 1)).toThrow(/high.*high >= low/);
    expect(() => new D.DiscreteUniform(0, Infinity)).toThrow(/high/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("NumPyro's annotation models: MACE", () => {
  // 3 annotators over 4 positions (annotator 1 annotates twice), 3 classes, 5 items
  const positions = [0, 1, 1, 2];
  const annotationsV = [
    [0, 0, 1, 0],
    [2, 2, 2, 1],
    [1, 1, 0, 1],
    [0, 2, 2, 2],
    [1, 1, 1, 1],
  ];
  const K = 3;
  const epsV = [
    [0.5, 0.3, 0.2],
    [0.2, 0.5, 0.3],
    [0.3, 0.3, 0.4],
  ];
  const thetaV = [0.7, 0.4, 0.9];

  const mace = (pos: tf.Tensor, annotations: tf.Tensor): void => {
    const numAnnotators = Math.max(...(pos.arraySync() as number[])) + 1;
    const numClasses = Math.max(...(annotations.arraySync() as number[][]).flat()) + 1;
    const [numItems, numPositions] = annotations.shape as [number, number];
    const [epsilon, theta] = ppl.plate('annotator', numAnnotators, () => [
      ppl.sample('epsilon', new D.Dirichlet(tf.fill([numClasses], 10))),
      ppl.sample('theta', new D.Beta(0.5, 0.5)),
    ]);
    ppl.plate('item', numItems, { dim: -2 }, () => {
      const c = ppl.sample('c', new D.DiscreteUniform(0, numClasses - 1), {
        infer: { enumerate: 'parallel' },
      });
      ppl.plate('position', numPositions, () => {
        const s = ppl.sample('s', new D.Bernoulli(tf.sub(1, tf.gather(theta!, pos))), {
          infer: { enumerate: 'parallel' },
        });
        const probs = tf.where(
          tf.equal(tf.expandDims(s, -1), 0),
          tf.oneHot(tf.cast(c, 'int32'), numClasses).toFloat(),
          tf.gather(epsilon!, pos),
        );
        ppl.sample('y', new D.Categorical({ probs }), { obs: annotations });
      });
    });
  };

  /** log p(y_i, c_i = c | epsilon, theta) for every item and class, s summed out (float64). */
  const joint = annotationsV.map((row) =>
    Array.from(
      { length: K },
      (_, c) =>
        -Math.log(K) +
        row.reduce((acc, y, p) => {
          const a = positions[p]!;
          return acc + Math.log(thetaV[a]! * (y === c ? 1 : 0) + (1 - thetaV[a]!) * epsV[a]![y]!);
        }, 0),
    ),
  );

  it('TraceEnum_ELBO at fixed epsilon, theta is minus the log-joint with every c and s summed out', () => {
    const pos = tf.tensor1d(positions, 'int32');
    const ann = tf.tensor2d(annotationsV, undefined, 'int32');
    const data = { epsilon: tf.tensor2d(epsV), theta: tf.tensor1d(thetaV) };
    const conditioned = ppl.condition(mace, data);
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 2 });
    const before = tf.memory().numTensors;
    const loss = elbo.loss(conditioned, () => undefined, pos, ann);
    expect(tf.memory().numTensors).toBe(before);
    // Dirichlet(10, 10, 10) and Beta(1/2, 1/2) (B(1/2, 1/2) = pi) densities at the fixed values
    let prior = 0;
    for (const e of epsV)
      prior += gammaln(30) - 3 * gammaln(10) + e.reduce((s, v) => s + 9 * Math.log(v), 0);
    for (const t of thetaV) prior += -Math.log(Math.PI) - 0.5 * Math.log(t) - 0.5 * Math.log(1 - t);
    const ll = joint.reduce((s, row) => s + lse(row), 0);
    expect(loss).toBeCloseTo(-(prior + ll), 3);
    // the posterior of each item's class
    const m = elbo.computeMarginals(conditioned, () => undefined, pos, ann);
    const probs = (m.c as D.Categorical).probs.arraySync() as number[][][];
    joint.forEach((row, i) => {
      const z = lse(row);
      row.forEach((l, c) => expect(probs[i]![0]![c]).toBeCloseTo(Math.exp(l - z), 4));
    });
    Object.values(m).forEach((d) => d.dispose());
    tf.dispose([pos, ann, ...Object.values(data)]);
  });

  it('infer_discrete (temperature 0) gives the joint MAP of (c, s) of every item (brute force)', () => {
    const pos = tf.tensor1d(positions, 'int32');
    const ann = tf.tensor2d(annotationsV, undefined, 'int32');
    const data = { epsilon: tf.tensor2d(epsV), theta: tf.tensor1d(thetaV) };
    const conditioned = ppl.condition(mace, data);
    const before = tf.memory().numTensors;
    const tr = ppl
      .trace(ppl.inferDiscrete(conditioned, { firstAvailableDim: -3, temperature: 0 }))
      .getTrace(pos, ann);
    expect(tr.value('c').shape).toEqual([annotationsV.length, 1]);
    expect(tr.value('s').shape).toEqual([annotationsV.length, positions.length]);
    const cMap = Array.from(tr.value('c').dataSync());
    const sMap = tr.value('s').arraySync() as number[][];
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // brute force: for each item, the class and indicators maximizing the joint
    annotationsV.forEach((row, i) => {
      let best = -Infinity;
      let bestC = -1;
      let bestS: number[] = [];
      for (let c = 0; c < K; c++) {
        let l = -Math.log(K);
        const s: number[] = [];
        row.forEach((y, p) => {
          const a = positions[p]!;
          const l0 = y === c ? Math.log(thetaV[a]!) : -Infinity; // s = 0: the true class
          const l1 = Math.log(1 - thetaV[a]!) + Math.log(epsV[a]![y]!); // s = 1: spam
          s.push(l0 >= l1 ? 0 : 1);
          l += Math.max(l0, l1);
        });
        if (l > best) {
          best = l;
          bestC = c;
          bestS = s;
        }
      }
      expect(cMap[i]).toBe(bestC);
      expect(sMap[i]).toEqual(bestS);
    });
    tf.dispose([pos, ann, ...Object.values(data)]);
  });
  it(
    'NUTS with c and s enumerated (epsilon fixed): the means of theta match a 3-d grid',
    { timeout: 120_000 },
    async () => {
      const pos = tf.tensor1d(positions, 'int32');
      const ann = tf.tensor2d(annotationsV, undefined, 'int32');
      const epsilon = tf.tensor2d(epsV);
      const mcmc = new ppl.MCMC(new ppl.NUTS(ppl.condition(mace, { epsilon })), {
        numSamples: 300,
        warmupSteps: 200,
        progressBar: false,
        seed: 1,
      });
      await mcmc.run(pos, ann);
      const samples = mcmc.getSamples();
      expect(Object.keys(samples).sort()).toEqual(['theta']);
      // log p(theta | y) = sum_a log Beta(theta_a; 1/2, 1/2) + sum_i log sum_c p(y_i, c | theta)
      const G = 48;
      const at = (i: number): number => (i + 0.5) / G;
      const lw: number[] = [];
      const pts: number[][] = [];
      for (let i = 0; i < G; i++)
        for (let j = 0; j < G; j++)
          for (let k = 0; k < G; k++) {
            const th = [at(i), at(j), at(k)];
            let l = th.reduce((a, t) => a - 0.5 * Math.log(t) - 0.5 * Math.log(1 - t), 0);
            for (const row of annotationsV) {
              const perClass = Array.from({ length: K }, (_, c) =>
                row.reduce((acc, y, p) => {
                  const a = positions[p]!;
                  return acc + Math.log(th[a]! * (y === c ? 1 : 0) + (1 - th[a]!) * epsV[a]![y]!);
                }, -Math.log(K)),
              );
              l += lse(perClass);
            }
            lw.push(l);
            pts.push(th);
          }
      const mx = Math.max(...lw);
      const ws = lw.map((l) => Math.exp(l - mx));
      const z = ws.reduce((a, b) => a + b, 0);
      for (let a = 0; a < 3; a++) {
        const ref = ws.reduce((acc, w, g) => acc + w * pts[g]![a]!, 0) / z;
        const { mean, se } = meanAndSe(mcmc, 'theta', a);
        expect(Math.abs(mean - ref)).toBeLessThan(5 * se + 0.02);
      }
      tf.dispose([pos, ann, epsilon, ...Object.values(samples)]);
    },
  );
});
