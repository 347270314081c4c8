/**
 * Audit (NumPyro parity, session 17): `ppl.initializeModel` (NumPyro's `initialize_model`). The
 * potential is checked against `-(log p(x, T(z)) + Σ log|J_T(z)|)` written here in float64 with
 * @stdlib densities and the bijectors' Jacobians by hand (`exp`: `log|J| = z`; `sigmoid`:
 * `log σ(z)(1 - σ(z))`), and against `-ppl.logDensity - Σ log|J|`; the gradient against central
 * finite differences of that reference; the postprocess against the bijectors.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import normalRef from '@stdlib/stats-base-dists-normal';
import betaRef from '@stdlib/stats-base-dists-beta';
import { distributions as D, ppl } from '../../../src/index.js';
import { ArgumentError } from '../../../src/utils/errors.js';
import { finiteDiff } from '../../helpers.js';

const YS = [0.4, -1.1, 2.3];
const BS = [1, 0, 1, 1];

function model(y: tf.Tensor, b: tf.Tensor): void {
  const mu = ppl.sample('mu', new D.Normal(0, 2));
  const sigma = ppl.sample('sigma', new D.HalfNormal(1));
  const p = ppl.sample('p', new D.Beta(2, 3));
  ppl.deterministic('scale2', tf.mul(sigma, 2));
  ppl.plate('n', 3, () => ppl.sample('y', new D.Normal(mu, sigma), { obs: y }));
  ppl.plate('m', 4, () => ppl.sample('b', new D.Bernoulli(p), { obs: b }));
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
const normalLog = (x: number, m: number, s: number): number =>
  (normalRef.logpdf as (x: number, m: number, s: number) => number)(x, m, s);

/** Constrained values of z = [z_mu, z_sigma, z_p] (in the layout's order). */
const constrain = (z: number[]): { mu: number; sigma: number; p: number } => ({
  mu: z[0]!,
  sigma: Math.exp(z[1]!),
  p: sigmoid(z[2]!),
});
const logJ = (z: number[]): number =>
  z[1]! + Math.log(sigmoid(z[2]!)) + Math.log(1 - sigmoid(z[2]!));
function logJoint(c: { mu: number; sigma: number; p: number }): number {
  let lp = normalLog(c.mu, 0, 2) + Math.log(2) + normalLog(c.sigma, 0, 1);
  lp += (betaRef.logpdf as (x: number, a: number, b: number) => number)(c.p, 2, 3);
  for (const y of YS) lp += normalLog(y, c.mu, c.sigma);
  for (const b of BS) lp += Math.log(b === 1 ? c.p : 1 - c.p);
  return lp;
}
const potentialRef = (z: number[]): number => -(logJoint(constrain(z)) + logJ(z));

function withData<T>(f: (y: tf.Tensor, b: tf.Tensor) => T): T {
  const y = tf.tensor1d(YS);
  const b = tf.tensor1d(BS);
  try {
    return f(y, b);
  } finally {
    tf.dispose([y, b]);
  }
}

describe("initializeModel (NumPyro's initialize_model)", () => {
  it('the layout, the init point in (-2, 2), U and ∇U at it equal the float64 reference', () => {
    withData((y, b) => {
      const before = tf.memory().numTensors;
      const info = ppl.initializeModel(model, { modelArgs: [y, b], seed: 3 });
      expect(info.sites.map((s) => [s.name, s.offset, s.size])).toEqual([
        ['mu', 0, 1],
        ['sigma', 1, 1],
        ['p', 2, 1],
      ]);
      const z0 = Array.from(info.paramInfo.z);
      expect(z0).toHaveLength(3);
      for (const v of z0) expect(Math.abs(v)).toBeLessThan(2);
      expect(info.paramInfo.potentialEnergy).toBeCloseTo(potentialRef(z0), 4);
      const fd = finiteDiff(potentialRef, z0, 1e-5);
      Array.from(info.paramInfo.zGrad).forEach((g, i) => expect(g).toBeCloseTo(fd[i]!, 3));
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('potentialFn = -logDensity - Σ log|J| and the reference at other points; gradient = finite differences', () => {
    withData((y, b) => {
      for (const compile of [false, 'auto'] as const) {
        const info = ppl.initializeModel(model, { modelArgs: [y, b], seed: 1, compile });
        const points = [
          [0.3, -0.7, 1.2],
          [-2.5, 1.1, -0.4],
          [1.7, 0.2, 2.9],
        ];
        for (const z of points) {
          const before = tf.memory().numTensors;
          const u = info.potentialFn(z);
          const { value, grad } = info.valueAndGrad(Float64Array.from(z));
          expect(tf.memory().numTensors).toBe(before);
          expect(u).toBeCloseTo(potentialRef(z), 4);
          expect(value).toBeCloseTo(u, 10);
          const c = constrain(z);
          const ld = ppl.logDensity(model, c, y, b);
          expect(u).toBeCloseTo(-ld.dataSync()[0]! - logJ(z), 4);
          ld.dispose();
          const fd = finiteDiff(potentialRef, z, 1e-5);
          Array.from(grad).forEach((g, i) => expect(g).toBeCloseTo(fd[i]!, 3));
        }
      }
    });
  });

  it('postprocessFn gives the bijectors’ values and the deterministic site, as new tensors', () => {
    withData((y, b) => {
      const info = ppl.initializeModel(model, { modelArgs: [y, b], seed: 2 });
      const z = [0.5, -1.3, 0.8];
      const before = tf.memory().numTensors;
      const out = info.postprocessFn(z);
      expect(Object.keys(out).sort()).toEqual(['mu', 'p', 'scale2', 'sigma']);
      const c = constrain(z);
      expect(out.mu!.dataSync()[0]).toBeCloseTo(c.mu, 6);
      expect(out.sigma!.dataSync()[0]).toBeCloseTo(c.sigma, 6);
      expect(out.p!.dataSync()[0]).toBeCloseTo(c.p, 6);
      expect(out.scale2!.dataSync()[0]).toBeCloseTo(2 * c.sigma, 6);
      expect(out.sigma!.shape).toEqual([]);
      tf.dispose(Object.values(out));
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('the seed fixes the init point; initToValue starts at the values’ unconstrained images', () => {
    withData((y, b) => {
      const a = ppl.initializeModel(model, { modelArgs: [y, b], seed: 9 });
      const a2 = ppl.initializeModel(model, { modelArgs: [y, b], seed: 9 });
      const c = ppl.initializeModel(model, { modelArgs: [y, b], seed: 10 });
      expect(Array.from(a2.paramInfo.z)).toEqual(Array.from(a.paramInfo.z));
      expect(Array.from(c.paramInfo.z)).not.toEqual(Array.from(a.paramInfo.z));
      const v = ppl.initializeModel(model, {
        modelArgs: [y, b],
        initStrategy: ppl.initToValue({ mu: 0.25, sigma: 2, p: 0.2 }),
      });
      const z = Array.from(v.paramInfo.z);
      expect(z[0]).toBeCloseTo(0.25, 6);
      expect(z[1]).toBeCloseTo(Math.log(2), 5);
      expect(z[2]).toBeCloseTo(Math.log(0.2 / 0.8), 5);
    });
  });

  it('its potential samples with NUTS: the posterior mean of mu within 5 MC SE of the brute-force mean', async () => {
    const y = tf.tensor1d(YS);
    const b = tf.tensor1d(BS);
    {
      const info = ppl.initializeModel(model, { modelArgs: [y, b], seed: 4 });
      const m = new ppl.MCMC(new ppl.NUTS(info.potential), {
        numSamples: 200,
        warmupSteps: 150,
        seed: 4,
        progressBar: false,
        initParams: info.paramInfo.z,
      });
      await m.run();
      const zs = m.getSamples({ groupByChain: true }).z!;
      const draws = (zs.arraySync() as number[][][])[0]!.map((r) => r[0]!);
      zs.dispose();
      // brute-force E[mu | data] on a grid over (mu, log sigma, logit p), float64
      let w = 0;
      let wm = 0;
      for (let i = -80; i <= 80; i++)
        for (let j = -60; j <= 40; j++)
          for (let k = -40; k <= 40; k += 4) {
            const z = [i * 0.06, j * 0.04, k * 0.1];
            const e = Math.exp(-potentialRef(z));
            w += e;
            wm += e * z[0]!;
          }
      const mean = wm / w;
      const m0 = draws.reduce((p, q) => p + q, 0) / draws.length;
      const sd = Math.sqrt(draws.reduce((p, q) => p + (q - m0) ** 2, 0) / (draws.length - 1));
      const ess = ppl.mcmc.essBulk([draws]);
      expect(Math.abs(m0 - mean)).toBeLessThan((5 * sd) / Math.sqrt(ess));
    }
    tf.dispose([y, b]);
  }, 30000);

  it('bad input is an ArgumentError naming it, before any work', () => {
    withData((y, b) => {
      const cases: [() => unknown, RegExp][] = [
        [() => ppl.initializeModel(3 as never), /model/],
        [() => ppl.initializeModel(model, null as never), /options/],
        [() => ppl.initializeModel(model, { modelArgs: [y, b], seeds: 1 } as never), /seeds/],
        [() => ppl.initializeModel(model, { modelArgs: y as never }), /modelArgs/],
        [() => ppl.initializeModel(model, { modelArgs: [y, b], seed: NaN }), /seed/],
        [
          () => ppl.initializeModel(model, { modelArgs: [y, b], initStrategy: 'nope' as never }),
          /initStrategy/,
        ],
      ];
      const before = tf.memory().numTensors;
      for (const [f, re] of cases) {
        let err: unknown;
        try {
          f();
        } catch (e) {
          err = e;
        }
        expect(err, String(re)).toBeInstanceOf(ArgumentError);
        expect(String((err as Error).message)).toMatch(re);
      }
      expect(tf.memory().numTensors).toBe(before);
      const info = ppl.initializeModel(model, { modelArgs: [y, b], seed: 0 });
      expect(() => info.potentialFn([1, 2])).toThrow(/z.*3 unconstrained/);
      expect(() => info.postprocessFn([1, NaN, 2])).toThrow(/finite/);
      expect(() => info.valueAndGrad('abc' as never)).toThrow(ArgumentError);
    });
  });
});
