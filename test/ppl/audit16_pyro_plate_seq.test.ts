/**
 * Pyro's sequential plate, `for i in pyro.plate('data', N, subsample_size=k)`, as `ppl.plateSeq`:
 * the visited members, the `N / k` scale of the loop body's sites (float64 reference), its
 * subsample site under `trace`/`replay`/`seed`, SVI through it, argument checks and the handler
 * stack after `break` or an exception.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectNoLeak } from '../helpers.js';
import { normalLp as nlp } from '../fixtures/float64.js';
import { lps, num } from '../fixtures/tensors.js';

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

const Y = [0.5, -1.0, 2.0, 0.1, 1.4, -0.3];
const model = (k?: number): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 2));
  const o = k === undefined ? {} : { subsampleSize: k };
  for (const i of ppl.plateSeq('data', Y.length, o)) {
    ppl.sample(`y_${i}`, new D.Normal(mu, 1), { obs: Y[i] as number });
  }
};

describe('plateSeq (Pyro`s sequential plate)', () => {
  it('without subsampling: every member in order, no scale', () => {
    expectNoLeak(() => {
      const tr = ppl.trace(model).getTrace();
      const mu = num(tr.value('mu'));
      expect(tr.observationNodes).toEqual(Y.map((_, i) => `y_${i}`));
      const ref = nlp(mu, 0, 2) + Y.reduce((s, y) => s + nlp(y, mu, 1), 0);
      expect(lps(tr)).toBeCloseTo(ref, 4);
      tr.dispose();
    });
  });
  it('subsampleSize k: k distinct members, each site scaled by N/k; the prior is not', () => {
    expectNoLeak(() => {
      const tr = ppl.trace(ppl.seed(() => model(2), 3)).getTrace();
      const mu = num(tr.value('mu'));
      const idx = Array.from(tr.value('data').dataSync());
      expect(idx.length).toBe(2);
      expect(new Set(idx).size).toBe(2);
      expect(tr.observationNodes).toEqual(idx.map((i) => `y_${i}`));
      expect(tr.get(`y_${idx[0]}`)?.scale).toBe(3);
      expect(tr.get('mu')?.scale).toBe(1);
      const ref = nlp(mu, 0, 2) + 3 * idx.reduce((s, i) => s + nlp(Y[i] as number, mu, 1), 0);
      expect(lps(tr)).toBeCloseTo(ref, 4);
      // replaying the trace visits the same members; seed repeats them
      const again = ppl.trace(ppl.replay(() => model(2), tr)).getTrace();
      expect(again.observationNodes).toEqual(tr.observationNodes);
      const seeded = ppl.trace(ppl.seed(() => model(2), 3)).getTrace();
      expect(seeded.observationNodes).toEqual(tr.observationNodes);
      for (const t of [tr, again, seeded]) t.dispose();
    });
  });
  it('the mean of the scaled estimate over all subsamples is the full log-likelihood', () => {
    // exact: every 2-subset of 6 is equally likely; average the estimator over all 15 of them
    const mu = 0.3;
    let total = 0;
    let n = 0;
    for (let a = 0; a < 6; a++)
      for (let b = a + 1; b < 6; b++) {
        const tr = ppl
          .trace(() => {
            for (const i of ppl.plateSeq('data', 6, { subsample: [a, b] })) {
              ppl.sample(`y_${i}`, new D.Normal(mu, 1), { obs: Y[i] as number });
            }
          })
          .getTrace();
        total += lps(tr);
        n++;
        tr.dispose();
      }
    const full = Y.reduce((s, y) => s + nlp(y, mu, 1), 0);
    expect(total / n).toBeCloseTo(full, 4);
  });
  it('break and a throwing body leave the handler stack as it was; outside handlers no leak', () => {
    expectNoLeak(() => {
      for (const i of ppl.plateSeq('d', 5)) {
        if (i === 2) break;
      }
      expect(ppl.HANDLER_STACK.length).toBe(0);
      expect(() => {
        for (const i of ppl.plateSeq('d', 5, { subsampleSize: 3 })) {
          if (i >= 0) throw new Error('boom');
        }
      }).toThrow('boom');
      expect(ppl.HANDLER_STACK.length).toBe(0);
    });
  });
  it('SVI through a subsampled sequential plate recovers the conjugate posterior mean', () => {
    // mu ~ N(0, 2^2), y_i ~ N(mu, 1): posterior N(sum y / (n + 1/4), 1 / (n + 1/4))
    const guide = (): void => {
      const loc = ppl.param('loc', 0);
      const s = ppl.param('s', 1, { constraint: ppl.constraints.positive });
      ppl.sample('mu', new D.Normal(loc, s));
    };
    const svi = new ppl.SVI(() => model(3), guide, tf.train.adam(0.05), new ppl.TraceELBO());
    let avg = 0;
    for (let i = 0; i < 700; i++) {
      svi.step();
      if (i >= 400) avg += num(ppl.getParamStore().value('loc')) / 300;
    }
    const post = Y.reduce((s, y) => s + y, 0) / (Y.length + 0.25);
    expect(Math.abs(avg - post)).toBeLessThan(0.1);
  });
  it('bad arguments are ArgumentErrors naming them, before any iteration', () => {
    expect(() => ppl.plateSeq('d', 0)).toThrow(/^size/);
    expect(() => ppl.plateSeq('d', 3, { subsampleSize: 5 })).toThrow(/^subsampleSize/);
    expect(() => ppl.plateSeq('d', 3, { dim: -1 } as unknown as ppl.PlateSeqOptions)).toThrow(
      ArgumentError,
    );
    expect(() => ppl.plateSeq('', 3)).toThrow(/^name/);
    expect(() => [...ppl.plateSeq('d', 3, { subsample: [0, 9] })]).toThrow(/^subsample/);
    expect(ppl.HANDLER_STACK.length).toBe(0);
  });
});
