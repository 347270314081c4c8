import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

const logpdf = normalRef.logpdf as (x: number, m: number, s: number) => number;

afterEach(() => ppl.clearParamStore());

const ys = [1, 2, 3];

// before: the second entry threw "site 'J' appears twice in one run"
describe('a plate entered twice in one run (same name, size and dim)', () => {
  it('is one plate: the log-joint of the two blocks', () => {
    const y = tf.tensor1d(ys);
    const model = (): void => {
      const a = ppl.plate('J', 3, () => ppl.sample('a', new D.Normal(0, 1)));
      ppl.plate('J', 3, () => ppl.sample('obs', new D.Normal(a, 2), { obs: y }));
    };
    const before = tf.memory().numTensors;
    const tr = ppl.trace(ppl.seed(model, 1)).getTrace();
    const a = Array.from(tr.value('a').dataSync());
    const hand = a.reduce((s, ai, i) => s + logpdf(ai, 0, 1) + logpdf(ys[i] as number, ai, 2), 0);
    expect(tf.tidy(() => tr.logProbSum().dataSync()[0] as number)).toBeCloseTo(hand, 4);
    expect(tr.sites().filter((s) => s.name === 'J')).toHaveLength(1);
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // and inference runs through it
    const guide = new ppl.AutoNormal(model);
    expect(Number.isFinite(new ppl.TraceELBO().loss(model, guide))).toBe(true);
    guide.dispose();
    y.dispose();
  });

  it('visits the same members when subsampled', () => {
    const model = (): void => {
      ppl.plate('J', 10, { subsampleSize: 3 }, () => ppl.sample('a', new D.Normal(0, 1)));
      ppl.plate('J', 10, { subsampleSize: 3 }, () => ppl.sample('b', new D.Normal(0, 1)));
    };
    const tr = ppl.trace(model).getTrace();
    expect(tr.sites().filter((s) => s.type === 'subsample')).toHaveLength(1);
    expect(tr.get('a')?.scale).toBeCloseTo(10 / 3, 6);
    tr.dispose();
  });

  it('is an error naming the plate when size or dim differ', () => {
    const bySize = (): void => {
      ppl.plate('J', 3, () => ppl.sample('a', new D.Normal(0, 1)));
      ppl.plate('J', 4, () => ppl.sample('b', new D.Normal(0, 1)));
    };
    expect(() => ppl.trace(bySize).getTrace()).toThrow(
      /plate 'J' entered again with size 4; earlier in this run it had size 3/,
    );
    const byDim = (): void => {
      ppl.plate('J', 3, () => ppl.sample('a', new D.Normal(0, 1)));
      ppl.plate('J', 3, { dim: -2 }, () => ppl.sample('b', new D.Normal(0, 1)));
    };
    expect(() => ppl.trace(byDim).getTrace()).toThrow(
      /plate 'J' at site 'b' has size 3, dim -2; earlier in this run it had size 3, dim -1/,
    );
  });
});

// before: tfjs's "broadcastTo(): [2] cannot be broadcast to [4]." without the site
describe('a mask that does not fit its site', () => {
  it('is an error naming the site and both shapes', () => {
    const y = tf.tensor1d([1, 2, 3, 4]);
    const m = tf.tensor1d([true, false], 'bool');
    const model = (): void => {
      ppl.plate('N', 4, () => ppl.sample('y', new D.Normal(0, 1), { obs: y }));
    };
    const tr = ppl.trace(ppl.mask(model, m)).getTrace();
    const before = tf.memory().numTensors;
    expect(() => tr.logProbSum()).toThrow(
      /sample site 'y': its mask of shape \[2\] does not broadcast to the site's log-probability shape \[4\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const g = (): void => undefined;
    expect(() => new ppl.TraceELBO().loss(ppl.mask(model, m), g)).toThrow(/sample site 'y'/);
    tr.dispose();
    tf.dispose([y, m]);
  });
});

describe('a vector-valued draw inside a plate without toEvent', () => {
  it("is an error naming the site and suggesting .toEvent(k), Pyro's .to_event", () => {
    const before = tf.memory().numTensors;
    const oneDim = (): void => {
      ppl.plate('data', 5, () => ppl.sample('beta', new D.Normal(tf.zeros([3]), 1)));
    };
    expect(() => ppl.trace(oneDim).getTrace()).toThrow(
      /^beta: sample site 'beta' inside plate 'data' .*expected 1 or 5 \(.*\.toEvent\(1\)/,
    );
    // an event of two dims under a plate at dim -2
    const twoDims = (): void => {
      ppl.plate('groups', 4, { dim: -2 }, () => ppl.sample('w', new D.Normal(tf.zeros([2, 3]), 1)));
    };
    expect(() => ppl.trace(twoDims).getTrace()).toThrow(/\.toEvent\(2\)/);
    // nested plates, a at dim -1 (3) and b at dim -2 (4), and a draw of batch [3,4,5]: the
    // k to declare is 2 (batch [3]), not -dim of the first plate that fails (before: .toEvent(1),
    // which leaves [3,4], still failing); the plates' own batch shape is the alternative
    const nested = (): void => {
      ppl.plate('a', 3, () =>
        ppl.plate('b', 4, () => ppl.sample('x', new D.Normal(tf.zeros([3, 4, 5]), 1))),
      );
    };
    expect(() => ppl.trace(nested).getTrace()).toThrow(
      /^x: .*inside plate 'a' \(size 3 at dim -1\).*\.toEvent\(2\), Pyro's \.to_event\(2\), leaving the batch shape \[3\]; else give it the batch shape \[4,3\] of its plates\)$/,
    );
    // options after the body were dropped silently (the plate ran at dim -1)
    const misordered = (): void => {
      ppl.plate('groups', 4, () => ppl.sample('w', new D.Normal(0, 1)), { dim: -2 } as never);
    };
    expect(() => ppl.trace(misordered).getTrace()).toThrow(
      /^options: plate 'groups': the options come before the body/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
