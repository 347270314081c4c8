/**
 * More of Pyro's and NumPyro's example programs, ported as their users write them, each checked
 * against an independent reference: the forward algorithm and exact enumeration in float64 JS,
 * the conjugate closed form, brute force over a discrete latent, a float64 grid, Monte Carlo
 * within its standard error.
 */
import * as tf from '@tensorflow/tfjs';
import digamma from '@stdlib/math-base-special-digamma';
import gammaln from '@stdlib/math-base-special-gammaln';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { captureHistories, lcg, lse } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const ENUM = { infer: { enumerate: 'parallel' as const } };

describe('ported Pyro/NumPyro examples, part 3', () => {
  it("Pyro's hmm.py model_2: markov + mask by lengths + TraceEnumELBO is minus the forward algorithm's log-likelihood", () => {
    // sequences of binary "tones" [N, T, D] of varying lengths; x_t a hidden K-state chain
    const K = 2;
    const N = 3;
    const T = 4;
    const Dd = 3;
    const lengths = [4, 2, 3];
    const u = lcg(7);
    const seqs: number[][][] = Array.from({ length: N }, (_, n) =>
      Array.from({ length: T }, (_, t) =>
        Array.from({ length: Dd }, () => (t < (lengths[n] as number) && u() < 0.4 ? 1 : 0)),
      ),
    );
    const model2 = (sequences: tf.Tensor, lens: tf.Tensor, includePrior: boolean): void => {
      const [num, maxLen, dataDim] = sequences.shape as [number, number, number];
      const [probsX, probsY] = ppl.mask(
        () => [
          ppl.sample('probs_x', new D.Dirichlet(tf.add(tf.mul(tf.eye(K), 0.9), 0.1)).toEvent(1)),
          ppl.sample('probs_y', new D.Beta(0.1, 0.9).expand([K, dataDim]).toEvent(2)),
        ],
        includePrior,
      )();
      ppl.plate('sequences', num, { dim: -2 }, (batch) => {
        const l = tf.gather(lens, batch);
        let x: tf.Tensor = tf.scalar(0, 'int32');
        for (const t of ppl.markov(maxLen)) {
          ppl.mask(
            () => {
              x = ppl.sample(
                `x_${t}`,
                new D.Categorical({ probs: tf.gather(probsX as tf.Tensor, tf.cast(x, 'int32')) }),
                ENUM,
              );
              const py = tf.gather(probsY as tf.Tensor, tf.cast(tf.squeeze(x, [-1]), 'int32'));
              ppl.plate('tones', dataDim, { dim: -1 }, () =>
                ppl.sample(`y_${t}`, new D.Bernoulli({ probs: py }), {
                  obs: tf.squeeze(
                    tf.slice(tf.gather(sequences, batch), [0, t, 0], [-1, 1, -1]),
                    [1],
                  ),
                }),
              );
            },
            tf.expandDims(tf.less(t, l), -1),
          )();
        }
      });
    };
    const seqT = tf.tensor3d(seqs);
    const lensT = tf.tensor1d(lengths, 'int32');
    const guide = new ppl.AutoDelta(
      ppl.block(model2, { exposeFn: (m) => m.name.startsWith('probs_') }),
    );
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 2 });
    const svi = new ppl.SVI(model2, guide, tf.train.adam(0.05), elbo);
    const first = svi.step(seqT, lensT, false);
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 5; i++) last = svi.step(seqT, lensT, false);
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBeLessThan(first);
    // reference: the forward algorithm over each sequence's first lengths[n] steps, x_{-1} = 0
    const med = guide.median(seqT, lensT, false);
    const px = med.probs_x?.arraySync() as number[][];
    const py = med.probs_y?.arraySync() as number[][];
    let ll = 0;
    seqs.forEach((s, n) => {
      const obsLp = (k: number, t: number): number =>
        (s[t] as number[]).reduce(
          (a, y, d) => a + Math.log(y === 1 ? py[k]![d]! : 1 - py[k]![d]!),
          0,
        );
      let alpha = [0, 1].map((k) => Math.log(px[0]![k]!) + obsLp(k, 0));
      for (let t = 1; t < (lengths[n] as number); t++) {
        const a = alpha;
        alpha = [0, 1].map(
          (j) => lse([0, 1].map((i) => a[i]! + Math.log(px[i]![j]!))) + obsLp(j, t),
        );
      }
      ll += lse(alpha);
    });
    // Pyro's TraceEnum_ELBO sums a masked enumerated site over its K values with factor 1 each:
    // the model as written adds log K per masked step x_t (t >= length), a constant
    const masked = lengths.reduce((a, l) => a + T - l, 0);
    ll += masked * Math.log(K);
    expect(elbo.loss(model2, guide, seqT, lensT, false)).toBeCloseTo(-ll, 3);
    tf.dispose([seqT, lensT, ...Object.values(med)]);
  });

  it("Pyro's cjs.py model_1: masks before the first capture and enumerated survival states give the exact enumeration", () => {
    const N = 12;
    const T = 5;
    const u = lcg(11);
    // simulate: first capture at f, alive while u < 0.7, seen while alive with prob 0.6
    const hist = captureHistories(u, N, T, 0.7, 0.6);
    const model1 = (capture: tf.Tensor): void => {
      const [n, steps] = capture.shape as [number, number];
      const phi = ppl.sample('phi', new D.Uniform(0, 1));
      const rho = ppl.sample('rho', new D.Uniform(0, 1));
      ppl.plate('animals', n, { dim: -1 }, () => {
        let z: tf.Tensor = tf.ones([n]);
        let firstCaptureMask: tf.Tensor = tf.zeros([n], 'bool');
        for (const t of ppl.markov(steps)) {
          const m = firstCaptureMask;
          const col = tf.squeeze(tf.slice(capture, [0, t], [-1, 1]), [1]);
          ppl.mask(() => {
            const mf = tf.cast(m, 'float32');
            const muZ = tf.add(tf.mul(tf.mul(mf, phi), z), tf.sub(1, mf));
            z = ppl.sample(`z_${t}`, new D.Bernoulli({ probs: muZ }), ENUM);
            ppl.sample(`y_${t}`, new D.Bernoulli({ probs: tf.mul(rho, z) }), { obs: col });
          }, m)();
          firstCaptureMask = tf.logicalOr(firstCaptureMask, tf.cast(col, 'bool'));
        }
      });
    };
    const capture = tf.tensor2d(hist);
    // the model as written, enumerated in JS: masked factors are 1 for both values of a state
    const logLik = (phi: number, rho: number): number => {
      let total = 0;
      for (const h of hist) {
        // alpha[z]: log weight of the paths ending in z; the initial z is 1
        let alpha = [-Infinity, 0];
        let masked = false; // first_capture_mask before step t: true after the first capture
        for (let t = 0; t < T; t++) {
          const a = alpha;
          const m = masked;
          alpha = [0, 1].map((zt) =>
            lse(
              [0, 1].map((zp) => {
                const mu = m ? phi * zp : 1;
                const pz = zt === 1 ? mu : 1 - mu;
                const py = h[t] === 1 ? rho * zt : 1 - rho * zt;
                return (a[zp] as number) + (m ? Math.log(pz) + Math.log(py) : 0);
              }),
            ),
          );
          masked = masked || h[t] === 1;
        }
        total += lse(alpha);
      }
      return total;
    };
    const phi0 = 0.65;
    const rho0 = 0.55;
    const point = (): void => {
      ppl.sample('phi', new ppl.Delta(tf.scalar(phi0)));
      ppl.sample('rho', new ppl.Delta(tf.scalar(rho0)));
    };
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    expect(elbo.loss(model1, point, capture)).toBeCloseTo(-logLik(phi0, rho0), 3);
    // the gradient: one SGD step of a point guide moves (phi, rho) by lr * d logLik (finite
    // differences of the JS enumeration); it was NaN (log 0 at the masked first capture)
    const pointGuide = (): void => {
      ppl.sample('phi', new ppl.Delta(ppl.param('phi_q', phi0)));
      ppl.sample('rho', new ppl.Delta(ppl.param('rho_q', rho0)));
    };
    const lr = 1e-4;
    new ppl.SVI(model1, pointGuide, tf.train.sgd(lr), elbo).step(capture);
    const ps = ppl.getParamStore();
    const h = 1e-5;
    const dPhi = (logLik(phi0 + h, rho0) - logLik(phi0 - h, rho0)) / (2 * h);
    const dRho = (logLik(phi0, rho0 + h) - logLik(phi0, rho0 - h)) / (2 * h);
    expect((ps.value('phi_q').dataSync()[0]! - phi0) / lr).toBeCloseTo(dPhi, 1);
    expect((ps.value('rho_q').dataSync()[0]! - rho0) / lr).toBeCloseTo(dRho, 1);
    ppl.clearParamStore();
    // SVI as in the example (AutoDiagonalNormal over the exposed phi, rho): finite gradients
    const guide = new ppl.AutoDiagonalNormal(
      ppl.block(model1, { exposeFn: (m) => ['phi', 'rho'].includes(m.name.slice(0, 3)) }),
    );
    const svi = new ppl.SVI(model1, guide, tf.train.adam(0.05), elbo);
    setSeed(3);
    svi.step(capture);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) expect(Number.isFinite(svi.step(capture))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    const loc = ppl.getParamStore().value('AutoDiagonalNormal.loc');
    expect(Array.from(loc.dataSync()).every(Number.isFinite)).toBe(true);
    capture.dispose();
  });
  it("Pyro's semi-supervised VAE (ss_vae.py): configEnumerate on the guide's label under TraceEnumELBO is unbiased for the exact ELBO", () => {
    // linear-Gaussian networks so that the ELBO has a closed form: x | z, y ~ N(z W + y V, 1),
    // q(y | x) = softmax(x A + a), q(z | x, y) = N(x B + y C, e^s); z_dim 1, x_dim 2, 3 labels
    const K = 3;
    const xs = tf.tensor2d([
      [0.5, -1.2],
      [2.1, 0.3],
      [-0.7, 1.4],
    ]);
    const ysObs = tf.oneHot(tf.tensor1d([2, 0, 1], 'int32'), K).toFloat();
    const init = {
      W: [[0.8, -0.5]],
      V: [
        [1, 0],
        [0, 1],
        [-1, -1],
      ],
      A: [
        [0.3, -0.2, 0.1],
        [0.5, 0.4, -0.6],
      ],
      a: [0.1, -0.1, 0],
      B: [[0.4], [-0.3]],
      C: [[0.2], [-0.5], [0.7]],
      s: [-0.4],
    };
    const p = (k: keyof typeof init): tf.Tensor => ppl.param(`ss_vae.${k}`, tf.tensor(init[k]));
    /** `v @ M` over any leading dims of `v` (torch's Linear on a broadcast input). */
    const lin = (v: tf.Tensor, M: tf.Tensor): tf.Tensor =>
      tf.sum(tf.mul(tf.expandDims(v, -1), M), -2);
    const model = (x: tf.Tensor, ys?: tf.Tensor): void => {
      const B = x.shape[0] as number;
      ppl.plate('data', B, () => {
        const zs = ppl.sample('z', new D.Normal(tf.zeros([B, 1]), tf.ones([B, 1])).toEvent(1));
        const y = ppl.sample('y', new D.OneHotCategorical(tf.fill([B, K], 1 / K)), { obs: ys });
        const loc = tf.add(lin(zs, p('W')), lin(y, p('V')));
        ppl.sample('x', new D.Normal(loc, 1).toEvent(1), { obs: x });
      });
    };
    const guide = (x: tf.Tensor, ys?: tf.Tensor): void => {
      ppl.plate('data', x.shape[0] as number, () => {
        let y = ys;
        if (y === undefined) {
          const alpha = tf.softmax(tf.add(lin(x, p('A')), p('a')));
          y = ppl.sample('y', new D.OneHotCategorical(alpha));
        }
        const loc = tf.add(lin(x, p('B')), lin(y, p('C')));
        ppl.sample('z', new D.Normal(loc, tf.exp(p('s'))).toEvent(1));
      });
    };
    const enumGuide = ppl.configEnumerate(guide);
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    // the closed form, in float64: sum over labels of q(y|x) [log p(y) - log q(y|x) + E_q log
    // p(x|z,y) - KL(q(z|x,y) || N(0, 1))]
    const X = xs.arraySync() as number[][];
    const { W, V, A, a, B, C, s } = init;
    const sd = Math.exp(s[0]!);
    const term = (xb: number[], k: number): number => {
      const m = xb[0]! * B[0]![0]! + xb[1]! * B[1]![0]! + C[k]![0]!;
      let e = -(Math.log(1 / sd) + (sd * sd + m * m) / 2 - 0.5);
      for (let d = 0; d < 2; d++) {
        const r = xb[d]! - W[0]![d]! * m - V[k]![d]!;
        e += -0.5 * Math.log(2 * Math.PI) - 0.5 * (r * r + W[0]![d]! ** 2 * sd * sd);
      }
      return e + Math.log(1 / K);
    };
    let exact = 0;
    X.forEach((xb) => {
      const lg = [0, 1, 2].map((k) => xb[0]! * A[0]![k]! + xb[1]! * A[1]![k]! + a[k]!);
      const lz = lse(lg);
      for (let k = 0; k < K; k++) {
        const lq = lg[k]! - lz;
        exact += Math.exp(lq) * (term(xb, k) - lq);
      }
    });
    setSeed(21);
    const R = 120;
    const before = tf.memory().numTensors;
    const losses = Array.from({ length: R }, () => elbo.loss(model, enumGuide, xs));
    expect(tf.memory().numTensors).toBe(before + 7); // the seven parameters, made once
    const mean = losses.reduce((u, v) => u + v, 0) / R;
    const se = Math.sqrt(losses.reduce((u, v) => u + (v - mean) ** 2, 0) / (R - 1) / R);
    expect(se).toBeGreaterThan(0);
    expect(Math.abs(mean + exact)).toBeLessThan(4 * se);
    // supervised: the label observed in the model, absent from the guide
    const ysArr = [2, 0, 1];
    let exactSup = 0;
    X.forEach((xb, b) => (exactSup += term(xb, ysArr[b]!)));
    const sup = Array.from({ length: R }, () => elbo.loss(model, enumGuide, xs, ysObs));
    const ms = sup.reduce((u, v) => u + v, 0) / R;
    const ses = Math.sqrt(sup.reduce((u, v) => u + (v - ms) ** 2, 0) / (R - 1) / R);
    expect(Math.abs(ms + exactSup)).toBeLessThan(4 * ses);
    // and SVI alternates the two as the example does, without leaking
    const svi = new ppl.SVI(model, enumGuide, tf.train.adam(0.05), elbo);
    svi.step(xs);
    svi.step(xs, ysObs);
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) {
      svi.step(xs);
      svi.step(xs, ysObs);
    }
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([xs, ysObs]);
  });
  it("Pyro's Bayesian regression tutorial: AutoMultivariateNormal + Predictive reach the conjugate posterior (sigma conditioned)", () => {
    // rugged terrain and GDP: log_gdp ~ N(a + bA africa + bR rugged + bAR africa rugged, sigma)
    const N = 16;
    const u = lcg(5);
    const africa = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 1 : 0));
    const rugged = Array.from({ length: N }, () => 3 * u());
    const truth = [9, -1.8, -0.2, 0.35];
    const sigma = 0.5;
    const gdp = africa.map((af, i) => {
      const g = Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
      const r = rugged[i]!;
      return truth[0]! + truth[1]! * af + truth[2]! * r + truth[3]! * af * r + sigma * g;
    });
    const model = (isAfrica: tf.Tensor, rug: tf.Tensor, logGdp?: tf.Tensor): tf.Tensor => {
      const a = ppl.sample('a', new D.Normal(0, 10));
      const bA = ppl.sample('bA', new D.Normal(0, 1));
      const bR = ppl.sample('bR', new D.Normal(0, 1));
      const bAR = ppl.sample('bAR', new D.Normal(0, 1));
      const s = ppl.sample('sigma', new D.Uniform(0, 10));
      const mean = tf.add(
        tf.add(a, tf.mul(bA, isAfrica)),
        tf.add(tf.mul(bR, rug), tf.mul(tf.mul(bAR, isAfrica), rug)),
      );
      return ppl.plate('data', rug.shape[0] as number, () =>
        ppl.sample('obs', new D.Normal(mean, s), { obs: logGdp }),
      );
    };
    const conditioned = ppl.condition(model, { sigma: sigma });
    const afT = tf.tensor1d(africa);
    const rT = tf.tensor1d(rugged);
    const yT = tf.tensor1d(gdp);
    // conjugate posterior: Sigma = (X^T X / s^2 + diag(1/100, 1, 1, 1))^-1, mu = Sigma X^T y / s^2
    const X = africa.map((af, i) => [1, af, rugged[i]!, af * rugged[i]!]);
    const prec = [0, 1, 2, 3].map((j) =>
      [0, 1, 2, 3].map(
        (k) =>
          X.reduce((acc, row) => acc + row[j]! * row[k]!, 0) / sigma ** 2 +
          (j === k ? (j === 0 ? 1 / 100 : 1) : 0),
      ),
    );
    const cov = invert(prec);
    const xty = [0, 1, 2, 3].map(
      (j) => X.reduce((acc, row, i) => acc + row[j]! * gdp[i]!, 0) / sigma ** 2,
    );
    const mu = cov.map((row) => row.reduce((acc, c, k) => acc + c * xty[k]!, 0));
    // the guide starts at least squares (init_to_value; the prior shrinks the posterior mean away
    // from it) and learns mean and covariance with a decaying rate (ClippedAdam's lrd)
    const ls = invert(
      prec.map((row, j) => row.map((v, k) => v - (j === k ? (j === 0 ? 0.01 : 1) : 0))),
    );
    const start = ls.map((row) => row.reduce((acc, c, k) => acc + c * xty[k]!, 0));
    const guide = new ppl.AutoMultivariateNormal(conditioned, {
      initLoc: ppl.initToValue({ a: start[0]!, bA: start[1]!, bR: start[2]!, bAR: start[3]! }),
    });
    const svi = new ppl.SVI(
      conditioned,
      guide,
      tf.train.adam(0.05),
      new ppl.TraceELBO({ numParticles: 4, vectorizeParticles: true }),
      { lrSchedule: (step) => 0.05 * 0.99 ** step },
    );
    setSeed(6);
    svi.step(afT, rT, yT);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 250; i++) svi.step(afT, rT, yT);
    expect(tf.memory().numTensors).toBe(before);
    // draws from the fitted guide (Predictive): their mean and covariance
    const S = 2000;
    const pred = new ppl.Predictive(conditioned, {
      guide,
      numSamples: S,
      returnSites: ['a', 'bA', 'bR', 'bAR', 'obs'],
      parallel: true,
    });
    setSeed(7);
    const out = pred.call(afT, rT);
    const draws = ['a', 'bA', 'bR', 'bAR'].map((k) => Array.from(out[k]!.dataSync()));
    const m = draws.map((d) => d.reduce((acc, v) => acc + v, 0) / S);
    for (let j = 0; j < 4; j++) {
      const sd = Math.sqrt(cov[j]![j]!);
      // the fitted mean within 0.4 posterior sd plus the draws' MC error (it starts up to 1.2 sd
      // away; 250 steps of SVI), the sd within 30%
      expect(Math.abs(m[j]! - mu[j]!)).toBeLessThan(0.4 * sd + (4 * sd) / Math.sqrt(S));
      const v = draws[j]!.reduce((acc, x) => acc + (x - m[j]!) ** 2, 0) / (S - 1);
      expect(Math.sqrt(v) / sd).toBeGreaterThan(0.7);
      expect(Math.sqrt(v) / sd).toBeLessThan(1.3);
    }
    // the correlation of a and bR (strongly negative in the closed form)
    const c02 =
      draws[0]!.reduce((acc, x, i) => acc + (x - m[0]!) * (draws[2]![i]! - m[2]!), 0) / (S - 1);
    const r02 = cov[0]![2]! / Math.sqrt(cov[0]![0]! * cov[2]![2]!);
    const sd0 = Math.sqrt(draws[0]!.reduce((acc, x) => acc + (x - m[0]!) ** 2, 0) / (S - 1));
    const sd2 = Math.sqrt(draws[2]!.reduce((acc, x) => acc + (x - m[2]!) ** 2, 0) / (S - 1));
    expect(Math.abs(c02 / (sd0 * sd2) - r02)).toBeLessThan(0.2);
    // posterior predictive mean at each datum: x_i^T mu, within the draws' MC error
    expect(out.obs?.shape).toEqual([S, N]);
    const obs = out.obs?.arraySync() as number[][];
    for (const i of [0, 5, 11]) {
      const col = obs.map((r) => r[i]!);
      const cm = col.reduce((acc, v) => acc + v, 0) / S;
      const csd = Math.sqrt(col.reduce((acc, v) => acc + (v - cm) ** 2, 0) / (S - 1));
      const ref = X[i]!.reduce((acc, xj, j) => acc + xj * mu[j]!, 0);
      const refSd = Math.sqrt(
        X[i]!.reduce(
          (acc, xj, j) => acc + xj * X[i]!.reduce((b, xk, k) => b + cov[j]![k]! * xk, 0),
          0,
        ),
      );
      expect(Math.abs(cm - ref)).toBeLessThan((4 * csd) / Math.sqrt(S) + 0.4 * refSd);
    }
    tf.dispose([afT, rT, yT, ...Object.values(out)]);
  });

  it('a change point enumerated exactly: inferDiscrete MAP and posterior draws match brute force', () => {
    // counts with a rate change: tau ~ uniform over 0..T-1, y_t ~ Poisson(t < tau ? l1 : l2)
    const ys = [2, 4, 3, 5, 3, 4, 1, 0, 2, 1, 0, 1];
    const T = ys.length;
    const [l1, l2] = [3.5, 0.8];
    const model = (y: tf.Tensor): void => {
      const tau = ppl.sample('tau', new D.Categorical({ probs: tf.fill([T], 1 / T) }));
      const rate = tf.where(tf.less(tf.range(0, T), tau), tf.fill([T], l1), tf.fill([T], l2));
      ppl.plate('time', T, () => ppl.sample('y', new D.Poisson(rate), { obs: y }));
    };
    const y = tf.tensor1d(ys);
    const logpoi = (k: number, l: number): number => {
      let lf = 0;
      for (let i = 2; i <= k; i++) lf += Math.log(i);
      return k * Math.log(l) - l - lf;
    };
    const lp = Array.from({ length: T }, (_, tau) =>
      ys.reduce((acc, k, t) => acc + logpoi(k, t < tau ? l1 : l2), 0),
    );
    const z = lse(lp);
    const post = lp.map((v) => Math.exp(v - z));
    const map = lp.indexOf(Math.max(...lp));
    const enumModel = ppl.configEnumerate(model);
    const before = tf.memory().numTensors;
    const tr = ppl
      .trace(ppl.inferDiscrete(enumModel, { temperature: 0, maxPlateNesting: 1 }))
      .getTrace(y);
    expect(tr.value('tau').dataSync()[0]).toBe(map);
    tr.dispose();
    setSeed(8);
    const R = 200;
    const counts = new Array<number>(T).fill(0);
    for (let r = 0; r < R; r++) {
      const t2 = ppl.trace(ppl.inferDiscrete(enumModel, { maxPlateNesting: 1 })).getTrace(y);
      const v = t2.value('tau').dataSync()[0]!;
      counts[v] = counts[v]! + 1;
      t2.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    for (let t = 0; t < T; t++) {
      const se = Math.sqrt((post[t]! * (1 - post[t]!)) / R);
      expect(Math.abs(counts[t]! / R - post[t]!)).toBeLessThan(4 * se + 1e-9);
    }
    // the marginal likelihood by TraceEnumELBO with no guide: log (1/T) sum_tau p(y | tau)
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(enumModel, () => undefined, y);
    expect(loss).toBeCloseTo(-(z - Math.log(T)), 3);
    y.dispose();
  });
  it("Pyro's Dirichlet-process mixture tutorial: truncated stick breaking runs under TraceELBO; its TraceEnumELBO at a point is the exact enumeration", () => {
    const T = 5;
    const alpha = 0.5;
    const centres = [
      [-4, -3],
      [0, 4],
      [4, -2],
    ];
    const per = 10;
    const g = lcg(13);
    const nrm = (): number => Math.sqrt(-2 * Math.log(g() + 1e-12)) * Math.cos(2 * Math.PI * g());
    const pts = centres.flatMap((c) =>
      Array.from({ length: per }, () => [c[0]! + 0.5 * nrm(), c[1]! + 0.5 * nrm()]),
    );
    const N = pts.length;
    const data = tf.tensor2d(pts);
    /** pi_k = beta_k prod_{j<k} (1 - beta_j), the last stick taking the rest. */
    const mixWeights = (beta: tf.Tensor): tf.Tensor => {
      const cum = tf.exp(tf.cumsum(tf.log1p(tf.neg(beta)), -1));
      return tf.mul(tf.pad(beta, [[0, 1]], 1), tf.pad(cum, [[1, 0]], 1));
    };
    const model = (x: tf.Tensor): void => {
      const beta = ppl.plate('beta_plate', T - 1, () => ppl.sample('beta', new D.Beta(1, alpha)));
      const mu = ppl.plate('mu_plate', T, () =>
        ppl.sample(
          'mu',
          new D.MultivariateNormal(tf.zeros([2]), { covarianceMatrix: tf.mul(tf.eye(2), 5) }),
        ),
      );
      ppl.plate('data', N, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: mixWeights(beta) }));
        ppl.sample(
          'obs',
          new D.MultivariateNormal(tf.gather(mu, tf.cast(z, 'int32')), {
            covarianceMatrix: tf.eye(2),
          }),
          { obs: x },
        );
      });
    };
    setSeed(14);
    const guide = (): void => {
      const kappa = ppl.param('kappa', () => tf.randomUniform([T - 1], 0, 2), {
        constraint: ppl.constraints.positive,
      });
      const tau = ppl.param('tau', () => tf.mul(tf.randomNormal([T, 2]), Math.sqrt(3)));
      const phi = ppl.param('phi', () => new D.Dirichlet(tf.fill([T], 1 / T)).sample([N]), {
        constraint: ppl.constraints.simplex,
      });
      ppl.plate('beta_plate', T - 1, () => ppl.sample('beta', new D.Beta(tf.ones([T - 1]), kappa)));
      ppl.plate('mu_plate', T, () =>
        ppl.sample('mu', new D.MultivariateNormal(tau, { covarianceMatrix: tf.eye(2) })),
      );
      ppl.plate('data', N, () => ppl.sample('z', new D.Categorical({ probs: phi })));
    };
    // as written: Trace_ELBO, the guide's z by its score function; steps run, finite, no leak
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    svi.step(data);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) expect(Number.isFinite(svi.step(data))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    // the ELBO at a point (Delta sticks and locations, the guide's z enumerated), exactly:
    // sum_n sum_k phi_nk [log pi_k + log N(x_n; mu_k, I) - log phi_nk] + log p(beta) + log p(mu)
    const ps = ppl.getParamStore();
    const phi = ps.value('phi').arraySync() as number[][];
    const betaV = [0.4, 0.5, 0.3, 0.6];
    const muV = [
      [-3, -3],
      [0, 3],
      [3, -1],
      [1, 1],
      [-1, 0],
    ];
    const pointGuide = (): void => {
      ppl.plate('beta_plate', T - 1, () => ppl.sample('beta', new ppl.Delta(tf.tensor1d(betaV))));
      ppl.plate('mu_plate', T, () => ppl.sample('mu', new ppl.Delta(tf.tensor2d(muV), 1)));
      ppl.plate('data', N, () =>
        ppl.sample('z', new D.Categorical({ probs: ps.get('phi') }), ENUM),
      );
    };
    const pi = [...betaV, 1].map(
      (b, k) => b * betaV.slice(0, k).reduce((acc, v) => acc * (1 - v), 1),
    );
    const lmvn = (x: number[], m: number[], v: number): number =>
      -Math.log(2 * Math.PI * v) - ((x[0]! - m[0]!) ** 2 + (x[1]! - m[1]!) ** 2) / (2 * v);
    // Beta(1, alpha) density: alpha (1 - b)^(alpha - 1)
    let exact = betaV.reduce((acc, b) => acc + Math.log(alpha) + (alpha - 1) * Math.log(1 - b), 0);
    exact += muV.reduce((acc, m) => acc + lmvn(m, [0, 0], 5), 0);
    pts.forEach((x, n) => {
      phi[n]!.forEach((q, k) => {
        if (q > 0) exact += q * (Math.log(pi[k]!) + lmvn(x, muV[k]!, 1) - Math.log(q));
      });
    });
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    expect(elbo.loss(model, pointGuide, data)).toBeCloseTo(-exact, 2);
    expect(pi.reduce((acc, v) => acc + v, 0)).toBeCloseTo(1, 12);
    data.dispose();
  });
  it("sparse gamma DEF's building block: non-reparameterized Gamma guides (setHasRsample(false)) under TraceGraphELBO", () => {
    // lam ~ Gamma(2, 1), y_i ~ Poisson(lam); q(lam) = Gamma(alpha, beta) scored by its score
    // function (Pyro's Gamma(...).has_rsample_(False)); the exact posterior is Gamma(2 + sum y, 1 + N)
    const ys = [3, 5, 4, 6];
    const y = tf.tensor1d(ys);
    const model = (obs: tf.Tensor): void => {
      const lam = ppl.sample('lam', new D.Gamma(2, 1));
      ppl.plate('data', obs.shape[0] as number, () => ppl.sample('y', new D.Poisson(lam), { obs }));
    };
    const guide = (): void => {
      const a = ppl.param('alpha', 3, { constraint: ppl.constraints.positive });
      const b = ppl.param('beta', 1.5, { constraint: ppl.constraints.positive });
      ppl.sample('lam', new D.Gamma(a, b).setHasRsample(false));
    };
    const elbo = new ppl.TraceGraphELBO();
    // the ELBO of Gamma(3, 1.5) in closed form: E log p(y, lam) + H(q)
    const [al, be] = [3, 1.5];
    const elog = digamma(al) - Math.log(be);
    const elam = al / be;
    let exact = Math.log(1) - gammaln(2) + (2 - 1) * elog - 1 * elam; // log Gamma(lam; 2, 1)
    for (const k of ys) exact += k * elog - elam - gammaln(k + 1);
    exact += al - Math.log(be) + gammaln(al) + (1 - al) * digamma(al); // entropy
    setSeed(31);
    const R = 100;
    const losses = Array.from({ length: R }, () => elbo.loss(model, guide, y));
    const mean = losses.reduce((u, v) => u + v, 0) / R;
    const se = Math.sqrt(losses.reduce((u, v) => u + (v - mean) ** 2, 0) / (R - 1) / R);
    expect(Math.abs(mean + exact)).toBeLessThan(4 * se);
    // SVI on the score-function gradient alone: the posterior mean 20 / 5 = 4 is approached from
    // the start 3 / 1.5 = 2, the parameters stay positive
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.1), elbo);
    svi.step(y);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 12; i++) svi.step(y);
    expect(tf.memory().numTensors).toBe(before);
    const ps = ppl.getParamStore();
    const a = ps.value('alpha').dataSync()[0]!;
    const b = ps.value('beta').dataSync()[0]!;
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(a / b).toBeGreaterThan(2.2);
    // it draws the guide without rsample: rsample is refused, as Pyro's has_rsample_(False)
    const g = new D.Gamma(2, 1).setHasRsample(false);
    expect(g.hasRsample).toBe(false);
    expect(() => g.rsample()).toThrow(/rsample/);
    expect(() => new D.Poisson(1).setHasRsample(true)).toThrow(/has no rsample/);
    g.dispose();
    y.dispose();
  });
});

/** The inverse of a small symmetric positive-definite matrix (Gauss-Jordan, float64). */
function invert(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    const p = m[c]![c]!;
    for (let j = 0; j < 2 * n; j++) m[c]![j] = m[c]![j]! / p;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      for (let j = 0; j < 2 * n; j++) m[r]![j] = m[r]![j]! - f * m[c]![j]!;
    }
  }
  return m.map((row) => row.slice(n));
}
