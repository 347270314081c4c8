/**
 * Audit 19, Pyro's `pyro.contrib.autoname` as a user: `autoname` (functions and loops as name
 * scopes, `sample(dist)` named by its class, counters `x1` on repeated names and `f__1` on
 * re-entered scopes), checked against the names of Pyro's documented examples.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { expectArgumentError } from '../helpers.js';

const { autoname, sample, genname, scope, nameCount } = ppl.autoname;

/** The sample-site names of one traced run of `fn` (the trace disposed, nothing leaked). */
function siteNames(fn: () => unknown): string[] {
  const before = tf.memory().numTensors;
  const tr = ppl.trace(fn).getTrace();
  const names = [...tr.nodes.values()].filter((s) => s.type === 'sample').map((s) => s.name);
  tr.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return names;
}
const coin = (): D.Bernoulli => new D.Bernoulli({ probs: 0.5 });

// Pyro's docstring: f1 samples a Bernoulli; f2 calls f1 twice and samples one
const f1 = autoname(function f1() {
  sample(coin());
});
const f2 = autoname(function f2() {
  f1();
  f1();
  sample(coin());
});

describe('autoname.autoname (audit 19)', () => {
  it("functions are scopes: f2/f1/Bernoulli, f2/f1__1/Bernoulli, f2/Bernoulli (Pyro's example)", () => {
    expect(siteNames(f2)).toEqual(['f2/f1/Bernoulli', 'f2/f1__1/Bernoulli', 'f2/Bernoulli']);
    // each run starts afresh
    expect(siteNames(f2)).toEqual(['f2/f1/Bernoulli', 'f2/f1__1/Bernoulli', 'f2/Bernoulli']);
  });

  it('loops are scopes, one entry per iteration: model/time__k/Bernoulli and model/time__k/f1/...', () => {
    const f3 = autoname(
      () => {
        for (const _ of autoname([0, 1, 2], { name: 'time' })) {
          sample(coin());
          f1();
        }
      },
      { name: 'model' },
    );
    expect(siteNames(f3)).toEqual([
      'model/time/Bernoulli',
      'model/time/f1/Bernoulli',
      'model/time__1/Bernoulli',
      'model/time__1/f1/Bernoulli',
      'model/time__2/Bernoulli',
      'model/time__2/f1/Bernoulli',
    ]);
  });

  it("a sequential plate names its loop's scope (Pyro's autoname(pyro.plate(...)))", () => {
    const m = autoname(
      () => {
        for (const _ of autoname(ppl.plateSeq('data', 3))) sample(new D.Normal(0, 1));
      },
      { name: 'model' },
    );
    expect(siteNames(m)).toEqual([
      'model/data/Normal',
      'model/data__1/Normal',
      'model/data__2/Normal',
    ]);
  });

  it('a name repeated in one scope gets a bare counter: x, x1, x2; names given or by class', () => {
    const m = autoname(
      () => {
        for (let i = 0; i < 3; i++) sample('x', new D.Normal(0, 1));
        sample(new D.Normal(0, 1));
        sample(new D.Normal(0, 1), { name: 'y' });
        ppl.sample('plain', new D.Normal(0, 1)); // a plain site is never renamed
        expect(genname('g')).toBe('m/g');
        expect(genname('g')).toBe('m/g1');
      },
      { name: 'm' },
    );
    expect(siteNames(m)).toEqual(['m/x', 'm/x1', 'm/x2', 'm/Normal', 'm/y', 'plain']);
  });

  it('a prefix scope as a function (Pyro`s `with autoname(name="prefix")`)', () => {
    const f4 = (): void =>
      autoname(
        () => {
          f1();
          f1();
          sample(coin());
        },
        { name: 'prefix' },
      )();
    expect(siteNames(f4)).toEqual([
      'prefix/f1/Bernoulli',
      'prefix/f1__1/Bernoulli',
      'prefix/Bernoulli',
    ]);
  });

  it('outside every autoname function names are left as they are; loops alone do not rename', () => {
    const m = (): void => {
      for (const _ of autoname([0, 1], { name: 't' })) sample('z', new D.Normal(0, 1), {});
    };
    // the same name twice: the runtime's duplicate-site error, as Pyro's
    expect(() => siteNames(m)).toThrow(/z/);
    expect(genname('free')).toBe('free');
    expect(siteNames(() => sample(coin()))).toEqual(['Bernoulli']);
  });

  it('observations and the scope state survive an exception in the body', () => {
    const y = tf.tensor1d([1, 0]);
    const bad = autoname(function bad() {
      sample(coin());
      throw new Error('boom');
    });
    expect(() => siteNames(bad)).toThrow(/boom/);
    const m = autoname(function m() {
      sample('y', new D.Bernoulli({ probs: 0.3 }).expand([2]).toEvent(1), { obs: y });
    });
    const tr = ppl.trace(m).getTrace();
    expect(tr.get('m/y')!.isObserved).toBe(true);
    // a fresh run after the exception: no scope left over
    expect(siteNames(f2)[0]).toBe('f2/f1/Bernoulli');
    tr.dispose();
    y.dispose();
  });

  it('composes with scope and nameCount (names stay unique)', () => {
    const m = nameCount(
      scope(
        () => {
          f1();
          f1();
        },
        { prefix: 'outer' },
      ),
    );
    // each top-level call of f1 starts afresh: f1/Bernoulli twice, nameCount counts the repeat
    expect(siteNames(m)).toEqual(['outer/f1/Bernoulli', 'outer/f1/Bernoulli__1']);
  });

  it('refuses bad arguments, naming them', () => {
    expectArgumentError(() => autoname(() => undefined), 'name', /give name/);
    expectArgumentError(() => autoname([1, 2]), 'name', /loop \(give name\)/);
    expectArgumentError(() => autoname(3 as never, { name: 'a' }), 'fn', /function or an iterable/);
    expectArgumentError(() => autoname(f1, { name: 'a/b' }), 'name', /without '\/'/);
    expectArgumentError(() => autoname(f1, { nme: 'a' } as never), 'nme', /./);
    expectArgumentError(() => sample(3 as never), 'dist', /Distribution/);
    expectArgumentError(() => genname(''), 'name', /non-empty/);
  });
});
