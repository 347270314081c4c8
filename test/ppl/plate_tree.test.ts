/**
 * Variable elimination over the plate tree as Pyro's `_contract_component`: each factor goes to the
 * plates of the variables it still holds (a model with a variable per member of each of two
 * crossed plates, coupled only one at a time, is a tree), and a factor coupling variables of
 * independent plates is Pyro's "Expected tree-structured plate nesting" error, naming the plates
 * and the sites.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const W = [0.4, 1.8];
const Z = [
  [0.1, 1.3, 2.4],
  [1.1, -0.2, 1.9],
];
const npdf = (x: number, m: number): number =>
  Math.exp(-0.5 * (x - m) ** 2) / Math.sqrt(2 * Math.PI);

/**
 * x_i ~ Bern(0.3), w_i ~ N(x_i, 1) in plate a (dim -2); y_j ~ Bern(0.6) in plate b (dim -1);
 * z_ij ~ N(2 y_j + c x_i, 1) in both: a tree for c = 0, not one otherwise.
 */
const model = (c: number) => (): void => {
  const x = ppl.plate('a', 2, { dim: -2 }, () => {
    const x = ppl.sample('x', new D.Bernoulli(tf.fill([2, 1], 0.3)));
    ppl.sample('w', new D.Normal(x, 1), { obs: tf.tensor2d(W, [2, 1]) });
    return x;
  });
  const y = ppl.plate('b', 3, { dim: -1 }, () => ppl.sample('y', new D.Bernoulli(0.6)));
  const mean = c === 0 ? tf.mul(y, 2) : tf.add(tf.mul(y, 2), tf.mul(x, c));
  ppl.plate('a', 2, { dim: -2 }, () =>
    ppl.plate('b', 3, { dim: -1 }, () =>
      ppl.sample('z', new D.Normal(mean, 1), {
        obs: tf.tensor2d(Z),
      }),
    ),
  );
};
const enumerated = (c: number): (() => void) => ppl.configEnumerate(model(c));

describe('plates crossed by variables coupled one at a time (a tree, as Pyro)', () => {
  // p(x_i, w_i) and p(y_j, z_.j): the marginal factorizes over i and over j
  const px = (i: number, x: number): number => (x === 1 ? 0.3 : 0.7) * npdf(W[i] as number, x);
  const py = (j: number, y: number): number =>
    (y === 1 ? 0.6 : 0.4) * npdf(Z[0]?.[j] as number, 2 * y) * npdf(Z[1]?.[j] as number, 2 * y);

  it('TraceEnumELBO sums them out exactly (before: "enumerated variable e:y could not be summed out")', () => {
    let ref = 0;
    for (let i = 0; i < 2; i++) ref += Math.log(px(i, 0) + px(i, 1));
    for (let j = 0; j < 3; j++) ref += Math.log(py(j, 0) + py(j, 1));
    expectNoLeak(() => {
      const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 2 }).loss(enumerated(0), () => {});
      expect(-loss).toBeCloseTo(ref, 4);
    });
  });

  it('inferDiscrete at temperature 0 gives the brute-force argmax of each variable', () => {
    const argmax = (f: (k: number) => number): number => (f(1) > f(0) ? 1 : 0);
    const xs = [0, 1].map((i) => argmax((x) => px(i, x)));
    const ys = [0, 1, 2].map((j) => argmax((y) => py(j, y)));
    expect(new Set([...xs, ...ys]).size).toBe(2); // both values occur
    expectNoLeak(() => {
      const tr = ppl
        .trace(ppl.inferDiscrete(model(0), { temperature: 0, maxPlateNesting: 2 }))
        .getTrace();
      expect(Array.from(tr.value('x').dataSync())).toEqual(xs);
      expect(Array.from(tr.value('y').dataSync())).toEqual(ys);
      tr.dispose();
    });
  });
});

describe('a factor coupling variables of independent plates', () => {
  const message =
    /^model: expected tree-structured plate nesting, but found dependencies on independent plates \[(a, b|b, a)\]: a factor in those plates couples the enumerated sites ('y' \(plate b\), 'x' \(plate a\)|'x' \(plate a\), 'y' \(plate b\)).*sequential plate/;
  it('is Pyro`s error naming the plates and the sites, in TraceEnumELBO and inferDiscrete', () => {
    expectNoLeak(() => {
      expect(() =>
        new ppl.TraceEnumELBO({ maxPlateNesting: 2 }).loss(enumerated(1), () => {}),
      ).toThrow(message);
      expect(() => ppl.inferDiscrete(model(1), { maxPlateNesting: 2 })()).toThrow(message);
    });
  });
});
