/**
 * Pyro's capture-recapture example (`cjs.py`), `model_3`, ported as its users write it: survival
 * varying over time by random effects `phi_logit_t ~ Normal(logit(phi_mean), phi_sigma)` drawn
 * inside `pyro.markov`, the `animals` plate created once and entered at every step, the survival
 * states `z_t` enumerated in parallel under `poutine.mask(first_capture_mask)`, their means
 * through `dist.util.clamp_probs`. Reference: the model as written enumerated in float64 JS (the
 * forward algorithm per animal, masked factors 1 for both values of a state, the probabilities
 * clamped to `[2^-23, 1 - 2^-23]` as `clamp_probs` does).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { captureHistories, lcg, lse } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const ENUM = { infer: { enumerate: 'parallel' as const } };
const lpN = (x: number, m: number, s: number): number =>
  -0.5 * Math.log(2 * Math.PI * s * s) - ((x - m) * (x - m)) / (2 * s * s);

/** Pyro's `cjs.py` `model_3`. */
function model3(captureHistory: tf.Tensor2D): void {
  const [N, T] = captureHistory.shape;
  const phiMean = ppl.sample('phi_mean', new D.Uniform(0, 1));
  const phiLogitMean = tf.log(tf.div(phiMean, tf.sub(1, phiMean)));
  const phiSigma = ppl.sample('phi_sigma', new D.Uniform(0, 10));
  const rho = ppl.sample('rho', new D.Uniform(0, 1));
  let z: tf.Tensor = tf.ones([N]);
  let firstCaptureMask: tf.Tensor = tf.zeros([N], 'bool');
  for (const t of ppl.markov(T)) {
    const phiLogitT = ppl.sample(`phi_logit_${t}`, new D.Normal(phiLogitMean, phiSigma));
    const phiT = tf.sigmoid(phiLogitT);
    const col = tf.squeeze(tf.slice(captureHistory, [0, t], [-1, 1]), [1]);
    const m = firstCaptureMask;
    ppl.plate('animals', N, { dim: -1 }, () =>
      ppl.mask(() => {
        const mf = tf.cast(m, 'float32');
        const muZ = tf.add(tf.mul(tf.mul(mf, phiT), z), tf.sub(1, mf));
        z = ppl.sample(`z_${t}`, new D.Bernoulli({ probs: D.clampProbs(muZ) }), ENUM);
        ppl.sample(`y_${t}`, new D.Bernoulli({ probs: tf.mul(rho, z) }), { obs: col });
      }, m)(),
    );
    firstCaptureMask = tf.logicalOr(firstCaptureMask, tf.cast(col, 'bool'));
  }
}

describe("Pyro's capture-recapture model_3 (cjs.py)", () => {
  it('TraceEnum_ELBO at a point is minus the log-joint with every survival state summed out (float64 forward algorithm)', () => {
    const N = 10;
    const T = 6;
    const u = lcg(5);
    const hist = captureHistories(u, N, T, 0.75, 0.6);
    const EPS = 2 ** -23;
    const clamp = (p: number): number => Math.min(Math.max(p, EPS), 1 - EPS);
    const phiMean = 0.7;
    const phiSigma = 0.8;
    const rho = 0.55;
    const phiLogits = [0.3, 1.4, -0.2, 0.9, 0.5, 1.1];
    const logJoint = (): number => {
      const lm = Math.log(phiMean / (1 - phiMean));
      // Uniform(0, 1), Uniform(0, 10), Uniform(0, 1) and the random effects
      let total = -Math.log(10) + phiLogits.reduce((a, v) => a + lpN(v, lm, phiSigma), 0);
      for (const h of hist) {
        let alpha = [-Infinity, 0]; // the initial z is 1
        let masked = false;
        for (let t = 0; t < T; t++) {
          const phi = 1 / (1 + Math.exp(-phiLogits[t]!));
          const a = alpha;
          const m = masked;
          alpha = [0, 1].map((zt) =>
            lse(
              [0, 1].map((zp) => {
                const mu = clamp(m ? phi * zp : 1);
                const pz = zt === 1 ? mu : 1 - mu;
                const py = h[t] === 1 ? rho * zt : 1 - rho * zt;
                return a[zp]! + (m ? Math.log(pz) + Math.log(py) : 0);
              }),
            ),
          );
          masked = masked || h[t] === 1;
        }
        total += lse(alpha);
      }
      return total;
    };
    const capture = tf.tensor2d(hist);
    const guide = (): void => {
      ppl.sample('phi_mean', new ppl.Delta(tf.scalar(phiMean)));
      ppl.sample('phi_sigma', new ppl.Delta(tf.scalar(phiSigma)));
      ppl.sample('rho', new ppl.Delta(tf.scalar(rho)));
      phiLogits.forEach((v, t) => ppl.sample(`phi_logit_${t}`, new ppl.Delta(tf.scalar(v))));
    };
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const before = tf.memory().numTensors;
    const loss = elbo.loss(model3, guide, capture);
    expect(tf.memory().numTensors).toBe(before);
    expect(loss).toBeCloseTo(-logJoint(), 3);
    // SVI as in the example: an AutoDiagonalNormal over the continuous sites, finite steps
    const auto = new ppl.AutoDiagonalNormal(
      ppl.block(model3, { exposeFn: (msg) => !msg.name.startsWith('z_') }),
    );
    const svi = new ppl.SVI(model3, auto, tf.train.adam(0.05), elbo);
    for (let i = 0; i < 5; i++) expect(Number.isFinite(svi.step(capture))).toBe(true);
    capture.dispose();
  });

  it('clamp_probs keeps probabilities in [2^-23, 1 - 2^-23] with the clamp gradient', () => {
    const p = tf.tensor1d([0, 1e-9, 0.3, 1, 1.5]);
    const before = tf.memory().numTensors;
    const c = D.clampProbs(p);
    expect(Array.from(c.dataSync())).toEqual([
      2 ** -23,
      2 ** -23,
      Math.fround(0.3),
      Math.fround(1 - 2 ** -23),
      Math.fround(1 - 2 ** -23),
    ]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(D.clampProbs(x)))(p);
    expect(Array.from(g.dataSync())).toEqual([0, 0, 1, 0, 0]);
    tf.dispose([c, g]);
    expect(tf.memory().numTensors).toBe(before);
    const n = D.clampProbs([0.5, 2]);
    expect(Array.from(n.dataSync())).toEqual([0.5, Math.fround(1 - 2 ** -23)]);
    n.dispose();
    expect(() => D.clampProbs('x' as unknown as number)).toThrow(/probs/);
    p.dispose();
  });
});
