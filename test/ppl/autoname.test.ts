import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

const { scope, nameCount } = ppl.autoname;

/** The sample-site names of one traced run of `fn` (the trace disposed). */
function siteNames(fn: () => unknown): string[] {
  const before = tf.memory().numTensors;
  const tr = ppl.trace(fn).getTrace();
  const names = [...tr.nodes.values()].filter((s) => s.type === 'sample').map((s) => s.name);
  tr.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return names;
}
const coin = (name = 'x'): tf.Tensor => ppl.sample(name, new D.Bernoulli({ probs: 0.5 }));

describe('autoname (Pyro pyro.contrib.autoname documented examples)', () => {
  it('scope prefixes sample sites; scopes compose outer first; the prefix defaults to fn.name', () => {
    expect(siteNames(scope(() => coin(), { prefix: 'a' }))).toEqual(['a/x']);
    const nested = scope(() => scope(() => coin(), { prefix: 'a' })(), { prefix: 'b' });
    expect(siteNames(nested)).toEqual(['b/a/x']);
    function model(): tf.Tensor {
      return coin();
    }
    expect(siteNames(scope(model))).toEqual(['model/x']);
  });

  it('nameCount suffixes repeats x, x__1, x__2 and counts afresh on each run', () => {
    const m = nameCount(() => {
      for (let i = 0; i < 3; i++) coin();
    });
    expect(siteNames(m)).toEqual(['x', 'x__1', 'x__2']);
    expect(siteNames(m)).toEqual(['x', 'x__1', 'x__2']);
  });

  it('nameCount counts repeated scopes (a/x, a__1/x) or, with inner, the sites (a/x, a/x__1)', () => {
    const perScope = nameCount(() => {
      for (let i = 0; i < 3; i++) scope(() => coin(), { prefix: 'a' })();
    });
    expect(siteNames(perScope)).toEqual(['a/x', 'a__1/x', 'a__2/x']);
    const inScope = nameCount(() =>
      scope(
        () => {
          for (let i = 0; i < 3; i++) coin();
        },
        { prefix: 'a' },
      )(),
    );
    expect(siteNames(inScope)).toEqual(['a/x', 'a/x__1', 'a/x__2']);
    const innerScope = nameCount(() => {
      for (let i = 0; i < 2; i++) scope(() => coin(), { prefix: 'a', inner: true })();
    });
    expect(siteNames(innerScope)).toEqual(['a/x', 'a/x__1']);
    // a nested repeated scope counts its full path: b/a, b/a__1
    const nested = nameCount(() =>
      scope(
        () => {
          for (let i = 0; i < 2; i++) scope(() => coin(), { prefix: 'a' })();
        },
        { prefix: 'b' },
      )(),
    );
    expect(siteNames(nested)).toEqual(['b/a/x', 'b/a__1/x']);
  });

  it('works with SVI and an autoguide on a scoped, counted model', { timeout: 120_000 }, () => {
    const model = nameCount((y: tf.Tensor) => {
      for (let i = 0; i < 2; i++) {
        scope(
          () => {
            const mu = ppl.sample('mu', new D.Normal(0, 1));
            ppl.sample('y', new D.Normal(mu, 1), { obs: y });
          },
          { prefix: 'group' },
        )();
      }
    });
    const y = tf.scalar(1);
    const guide = new ppl.AutoNormal(model);
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.01), new ppl.TraceELBO());
    svi.step(y);
    expect(ppl.getParamStore().names()).toEqual(
      expect.arrayContaining(['AutoNormal.locs.group/mu', 'AutoNormal.locs.group__1/mu']),
    );
    ppl.clearParamStore();
    y.dispose();
  });

  it('refuses bad arguments naming them', () => {
    expect(() => scope(() => coin())).toThrow(/^prefix:.*give prefix/);
    expect(() => scope(() => coin(), { prefix: 'a/b' })).toThrow(/^prefix:/);
    expect(() => scope(() => coin(), { prefx: 'a' } as never)).toThrow(/^prefx:/);
    expect(() => scope(() => coin(), { prefix: 'a', inner: 1 as never })).toThrow(/^inner:/);
    expect(() => scope('a' as never)).toThrow(/^fn:/);
    expect(() => nameCount(null as never)).toThrow(/^fn:/);
  });
});
