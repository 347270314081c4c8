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
import { thrown } from '../helpers.js';

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

/** Adam at `lr` with `particles` vectorized particles for `steps` steps; checks no leak. */
function fit(
  guide: ppl.AutoGuide<[]>,
  model: () => void,
  steps: number,
  lr: number,
  particles = 4,
): void {
  const svi = new ppl.SVI(
    model,
    guide,
    tf.train.adam(lr),
    new ppl.TraceELBO({ numParticles: particles, vectorizeParticles: true }),
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

  it('recovers the moments of a correlated Gaussian (means, scales, correlation)', () => {
    const mean = [1, -0.5];
    const sd = [1.5, 0.7];
    const rho = 0.8;
    const cov = [
      [sd[0]! ** 2, rho * sd[0]! * sd[1]!],
      [rho * sd[0]! * sd[1]!, sd[1]! ** 2],
    ];
    const gauss = (): void => {
      ppl.sample('z', new D.MultivariateNormal(mean, { covarianceMatrix: cov }));
    };
    setSeed(1);
    const guide = new ppl.AutoBNAFNormal(gauss, { hiddenFactors: [4] });
    // Adam, then a tenth of the rate with more particles (the last iterate's noise down)
    fit(guide, gauss, 500, 0.03, 8);
    fit(guide, gauss, 300, 0.003, 16);
    const n = 4000;
    const draws = guide.samplePosterior(n);
    const z = draws.z?.arraySync() as number[][];
    tf.dispose(Object.values(draws));
    const m = [0, 1].map((k) => z.reduce((a, r) => a + r[k]!, 0) / n);
    const s = [0, 1].map((k) =>
      Math.sqrt(z.reduce((a, r) => a + (r[k]! - m[k]!) ** 2, 0) / (n - 1)),
    );
    const c =
      z.reduce((a, r) => a + (r[0]! - m[0]!) * (r[1]! - m[1]!), 0) / (n - 1) / (s[0]! * s[1]!);
    console.log(
      `correlated Gaussian: mean ${m.map((v) => v.toFixed(3))}, sd ${s.map((v) => v.toFixed(3))}, corr ${c.toFixed(3)}`,
    );
    // tolerance: the fit's error (2-3 % measured) plus 5 Monte Carlo SEs
    for (let k = 0; k < 2; k++) {
      expect(Math.abs(m[k]! - mean[k]!)).toBeLessThan(0.1 * sd[k]! + (5 * sd[k]!) / Math.sqrt(n));
      expect(Math.abs(s[k]! / sd[k]! - 1)).toBeLessThan(0.1);
    }
    expect(Math.abs(c - rho)).toBeLessThan(0.05);
    // the summaries: Monte Carlo medians/quantiles of the joint draws, in the support's shape
    const med = guide.median();
    expect(med.z?.shape).toEqual([2]);
    const q = guide.quantiles([0.1, 0.9]);
    expect(q.z?.shape).toEqual([2, 2]);
    const qv = q.z?.arraySync() as number[][];
    for (let k = 0; k < 2; k++) {
      // Gaussian quantiles mean ± 1.2816 sd
      expect(Math.abs(qv[0]![k]! - (mean[k]! - 1.2816 * sd[k]!))).toBeLessThan(0.25 * sd[k]!);
      expect(Math.abs(qv[1]![k]! - (mean[k]! + 1.2816 * sd[k]!))).toBeLessThan(0.25 * sd[k]!);
    }
    tf.dispose([...Object.values(med), ...Object.values(q)]);
  });

  it('getTransform maps the base as the guide; getPosterior draws (its logProb needs the draw); no leaks', () => {
    const model = (): void => {
      ppl.sample('a', new D.Normal(0, 1));
      ppl.sample('b', new D.HalfNormal(1));
    };
    setSeed(2);
    const guide = new ppl.AutoBNAFNormal(model, { numFlows: 2, hiddenFactors: [3] });
    const drawn = guide.call();
    expect((drawn.b?.dataSync()[0] as number) > 0).toBe(true);
    tf.dispose(Object.values(drawn));
    const before = tf.memory().numTensors;
    const t = guide.getTransform();
    const z = tf.tensor2d([
      [0.1, -0.3],
      [1.2, 0.4],
    ]);
    const { u, logDet } = t.forwardAndLogDet(z);
    expect(u.shape).toEqual([2, 2]);
    expect(logDet.shape).toEqual([2]);
    // log|det| by central differences of the transform (2-D), per row
    const uAt = (v: number[]): number[] =>
      tf.tidy(() => Array.from(t.forwardAndLogDet(tf.tensor2d([v])).u.dataSync()));
    const zs = z.arraySync();
    const ld = Array.from(logDet.dataSync());
    zs.forEach((row, r) => {
      const h = 1e-2;
      const J = [0, 1].map((i) => {
        const p = [...row];
        const m = [...row];
        p[i]! += h;
        m[i]! -= h;
        const up = uAt(p);
        const um = uAt(m);
        return [0, 1].map((k) => (up[k]! - um[k]!) / (2 * h));
      });
      // J[i][k] = du_k / dz_i; det is transpose-invariant
      const det = J[0]![0]! * J[1]![1]! - J[0]![1]! * J[1]![0]!;
      expect(Math.abs(Math.log(Math.abs(det)) - ld[r]!)).toBeLessThan(5e-3);
    });
    tf.dispose([u, logDet, z]);
    t.dispose();
    const q = guide.getPosterior();
    const s = q.sample([5]);
    expect(s.shape).toEqual([5, 2]);
    expect(() => q.logProb(s)).toThrow(NotDefinedError);
    s.dispose();
    q.dispose();
    const post = guide.samplePosterior(10);
    tf.dispose(Object.values(post));
    expect(tf.memory().numTensors).toBe(before);
    // parameter names as NumPyro's flows, under the prefix
    const names = ppl.getParamStore().names();
    expect(names).toContain('AutoBNAFNormal.loc');
    expect(names).toContain('AutoBNAFNormal.flows.0.layers.0.weight');
    expect(names).toContain('AutoBNAFNormal.flows.0.gate');
    expect(names).not.toContain('AutoBNAFNormal.flows.1.gate');
  });

  it('refuses bad options naming them, before any work', () => {
    const model = (): void => {
      ppl.sample('a', new D.Normal(0, 1));
    };
    const bad: [() => unknown, string][] = [
      [() => new ppl.AutoBNAFNormal(model, { numFlows: 0 }), 'numFlows'],
      [() => new ppl.AutoBNAFNormal(model, { numFlows: 1.5 }), 'numFlows'],
      [() => new ppl.AutoBNAFNormal(model, { hiddenFactors: [] }), 'hiddenFactors'],
      [() => new ppl.AutoBNAFNormal(model, { hiddenFactors: [2, -1] }), 'hiddenFactors'],
      [() => new ppl.AutoBNAFNormal(model, { hidden_factors: [8] } as never), 'hidden_factors'],
      [() => new ppl.AutoBNAFNormal(model, { initScale: 0.1 } as never), 'initScale'],
      [() => new ppl.AutoBNAFNormal(model, { initLoc: 'middle' } as never), 'initLoc'],
    ];
    const before = tf.memory().numTensors;
    for (const [run, arg] of bad) {
      const err = thrown(run);
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as Error).message.startsWith(`${arg}:`)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(ppl.AutoBNAF).toBe(ppl.AutoBNAFNormal);
  });
});
