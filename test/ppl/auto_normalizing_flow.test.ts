import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { bijectors as B, distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

// a correlated 2-D Gaussian target: z ~ N(mu, S), no data (the posterior is the prior)
const MU = [1, -1];
const S = [
  [1, 0.8],
  [0.8, 1.5],
];
const target = (): void => {
  ppl.sample('z', new D.MultivariateNormal(tf.tensor1d(MU), { covarianceMatrix: tf.tensor2d(S) }));
};

/** `KL(N(m, I) || N(MU, S))` (float64), the `-ELBO` of the identity-like flow at `loc = m`. */
function klToTarget(m: number[]): number {
  const [a, b, c] = [S[0]![0]!, S[0]![1]!, S[1]![1]!];
  const det = a * c - b * b;
  const inv = [
    [c / det, -b / det],
    [-b / det, a / det],
  ];
  const d = [m[0]! - MU[0]!, m[1]! - MU[1]!];
  const tr = inv[0]![0]! + inv[1]![1]!;
  const quad =
    d[0]! * (inv[0]![0]! * d[0]! + inv[0]![1]! * d[1]!) +
    d[1]! * (inv[1]![0]! * d[0]! + inv[1]![1]! * d[1]!);
  return 0.5 * (tr + quad - 2 + Math.log(det));
}

describe('AutoNormalizingFlow', () => {
  it('an affine flow from the identity: q = N(loc, I), -ELBO = the closed-form KL', () => {
    const guide = new ppl.AutoNormalizingFlow(target, { initTransformFn: ppl.affineFlow() });
    setSeed(1);
    tf.dispose(Object.values(guide.call()));
    // the per-particle log q of a draw is the N(u; 0, I) log-density (loc starts at 0: feasible)
    setSeed(2);
    const tr = ppl.trace(() => guide.call()).getTrace();
    const u = tr.get(guide.latentSiteName)!;
    const uv = u.value!.arraySync() as number[];
    const logN = -0.5 * (uv[0]! ** 2 + uv[1]! ** 2) - Math.log(2 * Math.PI);
    expect(u.fn!.logProb(u.value!).arraySync() as number).toBeCloseTo(logN, 5);
    tr.dispose();
    // the -ELBO estimate of 4000 vectorized particles against KL(N(0, I) || N(MU, S))
    setSeed(3);
    const elbo = new ppl.TraceELBO({ numParticles: 4000, vectorizeParticles: true });
    const before = tf.memory().numTensors;
    const l = elbo.loss(target, guide);
    expect(tf.memory().numTensors).toBe(before);
    // the per-particle spread of log q - log p under q = N(0, I): sd ~ 1.3, SE ~ 0.02
    expect(Math.abs(l - klToTarget([0, 0]))).toBeLessThan(0.1);
  });

  it('equals AutoDiagonalNormal (initScale 1) at the same draws', () => {
    const flow = new ppl.AutoNormalizingFlow(target, { initTransformFn: ppl.affineFlow() });
    const diag = new ppl.AutoDiagonalNormal(target, { initScale: 1 });
    const elbo = new ppl.TraceELBO({ numParticles: 3 });
    setSeed(5);
    const a = elbo.loss(target, flow);
    setSeed(5);
    const b = elbo.loss(target, diag);
    expect(Math.abs(a - b)).toBeLessThan(1e-4);
  });

  it('an IAF flow on the correlated target recovers its mean and covariance', () => {
    setSeed(11);
    const guide = new ppl.AutoNormalizingFlow(target, {
      initTransformFn: ppl.iafFlow({ hiddenDims: [6] }),
    });
    const svi = new ppl.SVI(
      target,
      guide,
      tf.train.adam(0.03),
      new ppl.TraceELBO({ numParticles: 16, vectorizeParticles: true }),
    );
    for (let i = 0; i < 300; i++) svi.step();
    const fine = new ppl.SVI(
      target,
      guide,
      tf.train.adam(0.005),
      new ppl.TraceELBO({ numParticles: 16, vectorizeParticles: true }),
    );
    for (let i = 0; i < 200; i++) fine.step();
    const before = tf.memory().numTensors;
    const draws = guide.samplePosterior(4000);
    const z = draws.z!;
    const { mean, variance } = tf.moments(z, 0);
    const m = mean.arraySync() as number[];
    const v = variance.arraySync() as number[];
    const zs = z.arraySync() as number[][];
    const cov = zs.reduce((a, r) => a + (r[0]! - m[0]!) * (r[1]! - m[1]!), 0) / (zs.length - 1);
    tf.dispose([mean, variance, z]);
    expect(tf.memory().numTensors).toBe(before);
    // optimisation tolerance (the Monte Carlo SE of 4000 draws is ~0.02)
    expect(Math.abs(m[0]! - MU[0]!)).toBeLessThan(0.12);
    expect(Math.abs(m[1]! - MU[1]!)).toBeLessThan(0.12);
    expect(Math.abs(v[0]! - S[0]![0]!)).toBeLessThan(0.2);
    expect(Math.abs(v[1]! - S[1]![1]!)).toBeLessThan(0.3);
    expect(Math.abs(cov - S[0]![1]!)).toBeLessThan(0.2);
  }, 60000);

  it('coupling, BNAF and affine flows compose; vectorized and sequential losses agree', () => {
    const flows = {
      coupling: ppl.iterated(2, ppl.affineCouplingFlow({ hiddenDims: [4] })),
      bnaf: ppl.bnafFlow({ hiddenFactors: [4] }),
      iaf: ppl.iafFlow(),
    };
    for (const [name, f] of Object.entries(flows)) {
      ppl.clearParamStore();
      setSeed(21);
      const guide = new ppl.AutoNormalizingFlow(target, { initTransformFn: f, prefix: name });
      tf.dispose(Object.values(guide.call()));
      const xs = Array.from({ length: 40 }, (_, i) => {
        setSeed(100 + i);
        return new ppl.TraceELBO().loss(target, guide);
      });
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
      setSeed(7);
      const vec = new ppl.TraceELBO({ numParticles: 400, vectorizeParticles: true }).loss(
        target,
        guide,
      );
      expect(Math.abs(vec - mean)).toBeLessThan(4.5 * sd * Math.sqrt(1 / 40 + 1 / 400) + 1e-6);
      // the summaries and the NeuTra map
      const before = tf.memory().numTensors;
      const med = guide.median();
      expect(med.z!.shape).toEqual([2]);
      const q = guide.quantiles([0.1, 0.9]);
      expect(q.z!.shape).toEqual([2, 2]);
      const t = guide.getTransform();
      const z0 = tf.zeros([3, 2]);
      const { u, logDet } = t.forwardAndLogDet(z0);
      expect(u.shape).toEqual([3, 2]);
      expect(logDet.shape).toEqual([3]);
      t.dispose();
      tf.dispose([z0, u, logDet, ...Object.values(med), ...Object.values(q)]);
      expect(tf.memory().numTensors).toBe(before);
    }
  }, 60000);

  it('a coupling flow inverts: logProb of another value matches the draw density', () => {
    setSeed(31);
    const guide = new ppl.AutoNormalizingFlow(target, {
      initTransformFn: ppl.affineCouplingFlow({ hiddenDims: [4] }),
    });
    tf.dispose(Object.values(guide.call()));
    const q = guide.getPosterior();
    const x = q.sample([5]);
    const lp = q.logProb(x); // by the inverse (the draws of sample([5]) are not cached)
    const t = guide.getTransform();
    const z = tf.randomNormal([5, 2], 0, 1, 'float32', 3);
    const { u, logDet } = t.forwardAndLogDet(z);
    const lq = tf.sub(
      tf.mul(-0.5, tf.add(tf.sum(tf.square(z), -1), 2 * Math.log(2 * Math.PI))),
      logDet,
    );
    expect(q.logProb(u)).toBeAllclose(lq, { atol: 1e-4 });
    tf.dispose([x, lp, z, u, logDet, lq]);
    t.dispose();
    q.dispose();
  });

  it('refuses bad options, naming them', () => {
    const f = ppl.affineFlow();
    expect(() => new ppl.AutoNormalizingFlow(target, {} as never)).toThrow(/initTransformFn/);
    expect(
      () => new ppl.AutoNormalizingFlow(target, { initTransformFn: f, numFlows: 2 } as never),
    ).toThrow(/numFlows/);
    expect(
      () => new ppl.AutoNormalizingFlow(target, { initTransformFn: f, initScale: 1 } as never),
    ).toThrow(/initScale/);
    expect(() => ppl.iafFlow({ hiddenDims: [0] })).toThrow(/hiddenDims/);
    expect(() => ppl.iafFlow({ hidden: [4] } as never)).toThrow(/hidden/);
    expect(() => ppl.affineCouplingFlow({ splitDim: 0 })).toThrow(/splitDim/);
    expect(() => ppl.bnafFlow({ hiddenFactors: [0] })).toThrow(/hiddenFactors/);
    expect(() => ppl.iterated(0, f)).toThrow(/\bn\b/);
    // a transform of the wrong dimension, or not a bijector
    const wrong = new ppl.AutoNormalizingFlow(target, {
      initTransformFn: () => new B.StickBreaking(),
    });
    expect(() => wrong.call()).toThrow(/initTransformFn/);
    const notB = new ppl.AutoNormalizingFlow(target, {
      initTransformFn: (() => ({})) as never,
    });
    expect(() => notB.call()).toThrow(/initTransformFn/);
    // a coupling flow needs D >= 2
    const scalar = (): void => {
      ppl.sample('s', new D.Normal(0, 1));
    };
    const g = new ppl.AutoNormalizingFlow(scalar, { initTransformFn: ppl.affineCouplingFlow() });
    ppl.clearParamStore();
    const before = tf.memory().numTensors;
    expect(() => g.call()).toThrow(/splitDim/);
    g.dispose(); // its prototype
    ppl.clearParamStore(); // its loc
    expect(tf.memory().numTensors).toBe(before);
  });
});
