import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

const logpdf = normalRef.logpdf as (x: number, m: number, s: number) => number;

// z ~ N(0, 1); x ~ N(z, 1): do(z = 2) gives x ~ N(2, 1), z still drawn from its prior
const model = (): tf.Tensor => {
  const z = ppl.sample('z', new D.Normal(0, 1));
  return ppl.sample('x', new D.Normal(z, 1));
};

describe("intervene (Pyro's poutine.do)", () => {
  it('cuts the site from the model downstream, without scoring the intervention', () => {
    const before = tf.memory().numTensors;
    const tr = ppl.trace(ppl.seed(ppl.intervene(model, { z: 2 }), 7)).getTrace();
    expect(tr.sites().map((s) => s.name)).toEqual(['z', 'x']); // z__CF is not recorded
    const z = tr.value('z').dataSync()[0] as number;
    const x = tr.value('x').dataSync()[0] as number;
    expect(tr.get('z')?.isObserved).toBe(false);
    expect(z).not.toBeCloseTo(2, 3);
    const loc = (tr.get('x')?.fn as D.Normal).loc.dataSync()[0];
    expect(loc).toBe(2); // x's parent is the intervention
    // log p = log p(z drawn) + log p(x | z = 2); condition would score log p(z = 2) instead
    const lp = tf.tidy(() => tr.logProbSum().dataSync()[0] as number);
    expect(lp).toBeCloseTo(logpdf(z, 0, 1) + logpdf(x, 2, 1), 4);
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives x ~ N(2, 1) by Monte Carlo (mean within 5 standard errors)', () => {
    const n = 2000;
    const pred = new ppl.Predictive(ppl.intervene(model, { z: 2 }), { numSamples: n });
    const out = pred.call();
    const xs = Array.from((out.x as tf.Tensor).dataSync());
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean - 2)).toBeLessThan(5 / Math.sqrt(n));
    expect(sd).toBeGreaterThan(0.9);
    expect(sd).toBeLessThan(1.1);
    tf.dispose(Object.values(out));
  });

  it('checks its data before the model runs', () => {
    expect(() => ppl.intervene(model, { z: 'a' as unknown as number })).toThrow(
      /intervene: site 'z': expected a live numeric tensor/,
    );
  });
});
