/**
 * Small models in the style of Pyro's tutorials, checked against numbers computed by hand:
 * minibatch plates, block/condition nesting, Predictive's returnSites.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const lpN = (x: number, m: number, s: number): number => normalRef.logpdf(x, m, s);

describe('tutorial-style models', () => {
  it('a subsampled plate: the losses over every minibatch average to the full-data loss', () => {
    // SVI Part II: plate('data', N, {subsample}) scales the minibatch by N / B, so the minibatch
    // ELBO is unbiased; over all C(5, 2) minibatches the mean is exact
    const yv = [0.3, -1, 2, 0.5, 1.5];
    const y = tf.tensor1d(yv);
    const model = (idx: number[]) => (): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('data', 5, { subsample: idx }, (ind) =>
        ppl.sample('y', new D.Normal(mu, 1), { obs: tf.gather(y, ind) }),
      );
    };
    const guide = (): void => {
      ppl.sample('mu', new ppl.Delta(tf.scalar(0.4)));
    };
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) {
      for (let j = i + 1; j < 5; j++) {
        losses.push(new ppl.TraceELBO().loss(model([i, j]), guide));
      }
    }
    const full = -(lpN(0.4, 0, 1) + yv.reduce((a, v) => a + lpN(v, 0.4, 1), 0));
    expect(losses.length).toBe(10);
    expect(losses.reduce((a, b) => a + b, 0) / losses.length).toBeCloseTo(full, 4);
    // one minibatch: log N(mu) + (5 / 2) * its two terms
    expect(losses[0]).toBeCloseTo(
      -(lpN(0.4, 0, 1) + 2.5 * (lpN(yv[0] as number, 0.4, 1) + lpN(yv[1] as number, 0.4, 1))),
      4,
    );
    y.dispose();
  });

  it('block and condition nest as in Pyro', () => {
    const model = (): tf.Tensor => {
      const z = ppl.sample('z', new D.Normal(0, 1));
      return ppl.sample('w', new D.Normal(z, 2));
    };
    // a blocked conditioned site: hidden from the trace, still fixing the downstream draw
    setSeed(1);
    const t1 = ppl.trace(ppl.block(ppl.condition(model, { z: 1.5 }), { hide: ['z'] })).getTrace();
    expect(t1.sampleSites().map((s) => s.name)).toEqual(['w']);
    const w = t1.value('w').dataSync()[0] as number;
    expect(t1.logProbSum().dataSync()[0]).toBeCloseTo(lpN(w, 1.5, 2), 4);
    t1.dispose();
    // a condition outside the block does not reach the hidden site: w is drawn, not 100
    setSeed(2);
    const t2 = ppl.trace(ppl.condition(ppl.block(model, { hide: ['w'] }), { w: 100 })).getTrace();
    expect(t2.sampleSites().map((s) => s.name)).toEqual(['z']);
    t2.dispose();
    const r = ppl.condition(ppl.block(model, { hide: ['w'] }), { w: 100 })();
    expect(Math.abs(r.dataSync()[0] as number)).toBeLessThan(50);
    // without the block the condition applies
    const r2 = ppl.condition(model, { w: 100 })();
    expect(r2.dataSync()[0]).toBe(100);
    // nested conditions on one site: the outer one wins (Pyro's handlers run inner to outer)
    const t3 = ppl
      .trace(ppl.condition(ppl.condition(model, { z: 1 }), { z: 2, w: 0.5 }))
      .getTrace();
    expect(t3.value('z').dataSync()[0]).toBe(2);
    expect(t3.logProbSum().dataSync()[0]).toBeCloseTo(lpN(2, 0, 1) + lpN(0.5, 2, 2), 4);
    t3.dispose();
  });

  it('Predictive with returnSites returns guide latents, deterministic and observed sites', () => {
    setSeed(3);
    const model = (obs?: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 10));
      ppl.deterministic('twice', tf.mul(mu, 2));
      ppl.plate('N', 3, () => ppl.sample('obs', new D.Normal(mu, 1e-3), { obs }));
    };
    const guide = (): void => {
      ppl.sample('mu', new D.Normal(ppl.param('loc', 5), 1e-3));
    };
    const pred = new ppl.Predictive(model, {
      guide,
      numSamples: 4,
      returnSites: ['mu', 'twice', 'obs'],
    });
    const out = pred.call();
    expect(Object.keys(out).sort()).toEqual(['mu', 'obs', 'twice']);
    expect(out.mu?.shape).toEqual([4]);
    expect(out.obs?.shape).toEqual([4, 3]);
    expect(out.mu).toBeAllclose(5, { atol: 0.01 });
    expect(out.twice).toBeAllclose(tf.mul(out.mu as tf.Tensor, 2), { rtol: 1e-6 });
    // each draw's observations centre on that draw's mu
    const mu = Array.from(out.mu?.dataSync() ?? []);
    expect(out.obs).toBeAllclose(
      mu.flatMap((m) => [m, m, m]),
      { atol: 0.01 },
    );
    tf.dispose(Object.values(out));
  });
});
