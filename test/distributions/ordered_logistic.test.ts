/**
 * OrderedLogistic (Pyro/NumPyro's ordinal family) against float64 sigmoid differences, its
 * gradients against finite differences of that reference, draws against the class
 * probabilities, argument errors, and parallel enumeration in TraceEnumELBO / inferDiscrete.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Normal, OrderedLogistic } from '../../src/distributions/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { TraceEnumELBO } from '../../src/ppl/infer/trace_enum_elbo.js';
import { inferDiscrete } from '../../src/ppl/infer/infer_discrete.js';
import { trace } from '../../src/ppl/handlers/trace.js';
import { seed } from '../../src/ppl/handlers/seed.js';
import { plate } from '../../src/ppl/handlers/plate.js';
import { sample } from '../../src/ppl/runtime.js';
import { clearSeed } from '../../src/utils/seed.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';

afterEach(() => clearSeed());

const sig = (x: number): number => 1 / (1 + Math.exp(-x));
/** P(Y = k) by the definition, float64: differences of cumulative sigmoids. */
function refProbs(eta: number, cuts: number[]): number[] {
  const cdf = [...cuts.map((c) => sig(c - eta)), 1];
  return cdf.map((f, k) => f - (k === 0 ? 0 : (cdf[k - 1] as number)));
}
const read = (t: tf.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

describe('OrderedLogistic', () => {
  it('probs are sigmoid differences summing to one; logProb is their log; batch broadcasts predictor with the cutpoints; no leaks', () => {
    const eta = [0.3, -1.2, 2.5];
    const cuts = [-1, 0.2, 1.7];
    expectNoLeak(() => {
      const d = new OrderedLogistic(eta, cuts);
      expect(d.batchShape).toEqual([3]);
      expect(d.numCategories).toBe(4);
      const p = d.probs.arraySync() as number[][];
      p.forEach((row, i) => {
        const want = refProbs(eta[i] as number, cuts);
        row.forEach((v, k) => expect(v).toBeCloseTo(want[k] as number, 6));
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      });
      const lp = read(d.logProb([3, 0, 1]));
      [3, 0, 1].forEach((k, i) =>
        expect(lp[i]).toBeCloseTo(Math.log(refProbs(eta[i] as number, cuts)[k] as number), 5),
      );
      d.dispose();
    });
    // predictor [2, 1] with cutpoints [3, 2] -> batch [2, 3]
    expectNoLeak(() => {
      const cutRows = [
        [-1, 0],
        [0, 0.5],
        [-2, 3],
      ];
      const d = new OrderedLogistic([[0.4], [-0.7]], cutRows);
      expect(d.batchShape).toEqual([2, 3]);
      const p = d.probs.arraySync() as number[][][];
      [0.4, -0.7].forEach((e, i) =>
        cutRows.forEach((c, j) =>
          refProbs(e, c).forEach((v, k) => expect(p[i]?.[j]?.[k]).toBeCloseTo(v, 6)),
        ),
      );
      const all = d.enumerateSupport();
      const bare = d.enumerateSupport(false);
      expect(all.shape).toEqual([3, 2, 3]);
      expect(bare.shape).toEqual([3, 1, 1]);
      expect(Array.from(bare.dataSync())).toEqual([0, 1, 2]);
      tf.dispose([all, bare]);
      d.dispose();
    });
  });

  it('keeps relative accuracy for close cutpoints and far tails (no cancellation of sigmoids)', () => {
    // cutpoints 1e-5 apart: sigmoid(1e-5) - sigmoid(0) in float32 is off by ~2%
    const d = new OrderedLogistic(0, [0, 1e-5, 30]);
    const lp = read(d.logProb([1, 2, 3]));
    const p1 = sig(1e-5) - 0.5; // 2.5e-6
    expect(Math.abs(Math.exp(lp[0] as number) / p1 - 1)).toBeLessThan(1e-4);
    // P(Y = 3) = 1 - sigmoid(30) = sigmoid(-30) ~ 9.4e-14
    expect(lp[2]).toBeCloseTo(-30 - Math.log1p(Math.exp(-30)), 4);
    expect(lp[1]).toBeCloseTo(Math.log(sig(30) - sig(1e-5)), 5);
    d.dispose();
  });

  it('logProb is differentiable in the predictor and the cutpoints (finite differences of the float64 reference)', () => {
    const cuts = [-0.8, 0.1, 1.3];
    const eta = 0.45;
    for (const y of [0, 1, 2, 3]) {
      const f = (x: number[]): number =>
        Math.log(refProbs(x[0] as number, x.slice(1))[y] as number);
      const want = finiteDiff(f, [eta, ...cuts], 1e-5);
      const got = expectNoLeak(() =>
        tf.tidy(() => {
          const g = tf.grads((e: tf.Tensor, c: tf.Tensor) => {
            const d = new OrderedLogistic(e, c);
            return d.logProb(y);
          })([tf.scalar(eta), tf.tensor1d(cuts)]);
          return tf.concat([tf.reshape(g[0] as tf.Tensor, [1]), g[1] as tf.Tensor]);
        }),
      );
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 3));
    }
  });

  it('draws follow the class probabilities (within 4 standard errors); mean is NaN, the mode the likeliest class', () => {
    const d = new OrderedLogistic(0.5, [-1, 0, 1.5]);
    const n = 20000;
    const x = read(d.sample([n], 7));
    const want = refProbs(0.5, [-1, 0, 1.5]);
    want.forEach((p, k) => {
      const f = x.filter((v) => v === k).length / n;
      expect(Math.abs(f - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    });
    expect(read(d.mean())[0]).toBeNaN();
    expect(read(d.mode())[0]).toBe(want.indexOf(Math.max(...want)));
    d.dispose();
  });

  it('refuses bad arguments naming them, before any work and without leaking', () => {
    const bad: Array<[() => unknown, RegExp]> = [
      [() => new OrderedLogistic(0, 1), /cutpoints.*vector/],
      [() => new OrderedLogistic(0, [[], []]), /cutpoints.*vector/],
      [() => new OrderedLogistic(0, [0.5, 0.2]), /cutpoints.*increasing/],
      [() => new OrderedLogistic(0, [0.5, 0.5]), /cutpoints.*increasing/],
      [() => new OrderedLogistic(NaN, [0, 1]), /predictor/],
      [
        () =>
          new OrderedLogistic(
            [0, 1, 2],
            [
              [0, 1],
              [1, 2],
            ],
          ),
        /predictor|cutpoints/,
      ],
    ];
    for (const [make, re] of bad) {
      expectNoLeak(() => {
        expect(make).toThrow(ArgumentError);
        expect(make).toThrow(re);
      });
    }
    // unordered cutpoints are accepted without validation (Pyro's validate_args=False)
    expect(() =>
      new OrderedLogistic(0, [0.5, 0.2], { validateArgs: false }).dispose(),
    ).not.toThrow();
  });

  it('enumerates in TraceEnumELBO (the loss is -log sum_y by brute force) and in inferDiscrete (the posterior class frequencies)', () => {
    const cuts = [-0.5, 0.8];
    const mus = [-2, 0, 2];
    const obs = 1.4;
    const model = (): void => {
      const y = sample('y', new OrderedLogistic(0.2, cuts), { infer: { enumerate: 'parallel' } });
      sample('x', new Normal(tf.gather(tf.tensor1d(mus), tf.cast(y, 'int32')), 1), {
        obs: tf.scalar(obs),
      });
    };
    const joint = refProbs(0.2, cuts).map(
      (p, k) => (p * Math.exp(-0.5 * (obs - (mus[k] as number)) ** 2)) / Math.sqrt(2 * Math.PI),
    );
    const ev = joint.reduce((a, b) => a + b, 0);
    const loss = new TraceEnumELBO().loss(model, () => undefined);
    expect(loss).toBeCloseTo(-Math.log(ev), 4);
    // inferDiscrete: 600 posterior draws of y in a plate
    const counts = [0, 0, 0];
    const n = 600;
    const batched = (): void =>
      void plate('draws', n, () => {
        const y = sample('y', new OrderedLogistic(0.2, cuts), {
          infer: { enumerate: 'parallel' },
        });
        sample('x', new Normal(tf.gather(tf.tensor1d(mus), tf.cast(y, 'int32')), 1), {
          obs: tf.fill([n], obs),
        });
      });
    const tr = trace(seed(inferDiscrete(batched, { maxPlateNesting: 1 }), 3)).getTrace();
    read(tr.value('y')).forEach((v) => (counts[v] = (counts[v] as number) + 1));
    tr.dispose();
    joint.forEach((j, k) => {
      const p = j / ev;
      expect(Math.abs((counts[k] as number) / n - p)).toBeLessThan(
        4 * Math.sqrt((p * (1 - p)) / n),
      );
    });
  });
});
