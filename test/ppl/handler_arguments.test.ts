/**
 * The effect handlers check their arguments when applied, before the model runs: an
 * `ArgumentError` naming the argument, never a raw TypeError/RangeError or a tfjs message from
 * inside the run (and nothing leaked).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, distributions as D, ppl, setSeed, monteCarloKL } from '../../src/index.js';

afterEach(() => {
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

const model = (): tf.Tensor => ppl.sample('a', new D.Normal(0, 1));

describe('handler arguments', () => {
  it('are ArgumentErrors naming the argument', () => {
    const gone = tf.scalar(1);
    gone.dispose();
    const cases: [() => unknown, RegExp][] = [
      [() => ppl.condition(model, null as never), /^data: condition: expected \{site: value\}/],
      [() => ppl.condition(model, { a: 'x' } as never), /^data: condition: site 'a': expected/],
      [() => ppl.condition(model, { a: gone }), /^data: condition: site 'a'.*disposed/],
      [() => ppl.substitute(model, null as never), /^data: substitute:/],
      [() => ppl.replay(model, {} as never), /^trace: replay: expected \{trace\}/],
      [
        () => ppl.block(model, { hide: 'a' } as never),
        /^hide: block: expected an array of strings/,
      ],
      [
        () => ppl.block(model, { hide_fn: () => true } as never),
        /^hide_fn: not an option of block/,
      ],
      [() => ppl.block(model, { hideFn: 3 } as never), /^hideFn: block: expected a function/],
      [() => ppl.mask(model, 'x' as never), /^mask: expected true, false or a live tensor/],
      [() => ppl.seed(model, Number.NaN), /^rngSeed: expected a finite number/],
      [() => ppl.scale(3 as never, 2), /^fn: expected the model or guide function/],
      [() => ppl.trace(3 as never), /^fn: trace: expected the function to trace/],
      [() => setSeed(Number.NaN), /^seed: expected a finite number/],
    ];
    const before = tf.memory().numTensors;
    for (const [f, re] of cases) {
      expect(f).toThrow(ArgumentError);
      expect(f).toThrow(re);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('monteCarloKL names a bad numSamples', () => {
    const p = new D.Normal(0, 1);
    const q = new D.Normal(1, 2);
    expect(() => monteCarloKL(p, q, { numSamples: 0 })).toThrow(ArgumentError);
    expect(() => monteCarloKL(p, q, { numSamples: 0 })).toThrow(/^numSamples: expected an integer/);
    p.dispose();
    q.dispose();
  });

  it('valid arguments still condition, substitute, block and mask as before', () => {
    const tr = ppl
      .trace(ppl.block(ppl.condition(model, { a: [2] as never }), { hide: ['b'] }))
      .getTrace();
    expect(tr.value('a')).toBeAllclose([2]);
    tr.dispose();
    const t2 = ppl.trace(ppl.mask(model, false)).getTrace();
    expect(t2.logProbSum()).toBeAllclose(0);
    t2.dispose();
  });
});
