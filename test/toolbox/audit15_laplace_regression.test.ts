/**
 * Audit (issue 17): Laplace on regression models the seed tests did not use — several outputs, a
 * last layer without bias, a Dense straight on the input, noise `sigma != 1`, a tanh feature net —
 * against Bayesian linear regression in float64 (ml-matrix), and the all-layers GGN against exact
 * Jacobians by central finite differences of a float64 JS copy of the network.
 */
import * as tf from '@tensorflow/tfjs';
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

const { lastLayerLaplace, allLayersLaplace } = toolbox;

function data(n: number, d: number, seed: number): number[][] {
  const rng = makeRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => 2 * rng() - 1));
}

/** BLR with K independent outputs sharing the features Phi (rows `phi~`). */
function blr(phi: number[][], ys: number[][], delta: number, sigma: number) {
  const P = new Matrix(phi);
  const n = phi.length;
  const d1 = phi[0]!.length;
  const prec = P.transpose()
    .mmul(P)
    .div(sigma * sigma)
    .add(Matrix.eye(d1).mul(delta));
  const cov = inverse(prec);
  const Y = new Matrix(ys);
  const mean = cov.mmul(P.transpose().mmul(Y)).div(sigma * sigma); // [D1, K]
  const C = P.mmul(P.transpose())
    .div(delta)
    .add(Matrix.eye(n).mul(sigma * sigma));
  const L = new CholeskyDecomposition(C).lowerTriangularMatrix;
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet += 2 * Math.log(L.get(i, i));
  const Ci = inverse(C);
  let evidence = 0;
  for (let k = 0; k < Y.columns; k++) {
    const yk = Y.getColumnVector(k);
    evidence +=
      -0.5 * (yk.transpose().mmul(Ci).mmul(yk).get(0, 0) + logDet + n * Math.log(2 * Math.PI));
  }
  return { prec, cov, mean, evidence };
}

/** `kron(M, I_K)` entry for parameter order `(d, k)`, d outer. */
function kronI(m: Matrix, k: number, a: number, b: number): number {
  const [da, ka] = [Math.floor(a / k), a % k];
  const [db, kb] = [Math.floor(b / k), b % k];
  return ka === kb ? m.get(da, db) : 0;
}

function linearNet(d: number, k: number, useBias: boolean, mean: Matrix): tf.Sequential {
  const net = tf.sequential();
  net.add(tf.layers.dense({ units: k, inputShape: [d], useBias }));
  const w = mean.subMatrix(0, d - 1, 0, k - 1).to2DArray();
  const ws: tf.Tensor[] = [tf.tensor2d(w)];
  if (useBias) ws.push(tf.tensor1d(mean.getRow(d)));
  net.layers[0]!.setWeights(ws);
  tf.dispose(ws);
  return net;
}

describe('audit15 last-layer Laplace = Bayesian linear regression (multi-output, sigma, bias)', () => {
  const n = 30;
  const d = 3;
  const k = 2;
  const sigma = 0.45;
  const delta = 1.7;
  const xs = data(n, d, 11);
  const rng = makeRng(12);
  const ys = xs.map((r) => [
    0.7 * r[0]! - 0.4 * r[2]! + 0.2 + sigma * (rng() - 0.5) * 3,
    -0.3 * r[1]! + 0.5 + sigma * (rng() - 0.5) * 3,
  ]);

  for (const useBias of [true, false]) {
    for (const structure of ['full', 'kron'] as const) {
      it(`${structure}, bias=${useBias}: posterior covariance, mean and log evidence are exact`, () => {
        const phi = xs.map((r) => (useBias ? [...r, 1] : [...r]));
        const ref = blr(phi, ys, delta, sigma);
        const net = linearNet(d, k, useBias, ref.mean);
        const x = tf.tensor2d(xs);
        const y = tf.tensor2d(ys);
        const before = tf.memory().numTensors;
        const la = lastLayerLaplace(net, x, y, {
          likelihood: 'regression',
          hessianStructure: structure,
          sigmaNoise: sigma,
          priorPrecision: delta,
        });
        expect(tf.memory().numTensors).toBe(before);
        const p = (useBias ? d + 1 : d) * k;
        expect(la.numParams).toBe(p);
        const cov = la.denseMatrix('covariance');
        const prec = la.denseMatrix('precision');
        for (let a = 0; a < p; a++) {
          for (let b = 0; b < p; b++) {
            expect(cov[a * p + b]!).toBeCloseTo(kronI(ref.cov, k, a, b), 4);
            expect(prec[a * p + b]! / delta).toBeCloseTo(kronI(ref.prec, k, a, b) / delta, 3);
          }
        }
        // theta_MAP is the posterior mean, so the Laplace evidence is exact
        expect(la.logMarginalLikelihood()).toBeCloseTo(ref.evidence, 2);
        expect(Math.abs(la.logMarginalLikelihood() - ref.evidence)).toBeLessThan(
          1e-4 * Math.abs(ref.evidence) + 2e-3,
        );
        // the GLM predictive of f(x*): mean = model output, cov = phi*^T Sigma phi* I_K
        const xt = tf.tensor2d([
          [0.3, -1.2, 2],
          [0, 0, 0],
          [-2, 1, 0.5],
        ]);
        const before2 = tf.memory().numTensors;
        const { mean, cov: fcov } = la.glmPredictive(xt);
        expect(mean.shape).toEqual([3, k]);
        expect(fcov.shape).toEqual([3, k, k]);
        const mv = mean.arraySync();
        const cv = fcov.arraySync();
        tf.dispose([mean, fcov]);
        expect(tf.memory().numTensors).toBe(before2);
        xt.arraySync().forEach((row, i) => {
          const ph = useBias ? [...row, 1] : row;
          const v = Matrix.rowVector(ph).mmul(ref.cov).mmul(Matrix.columnVector(ph)).get(0, 0);
          const m = Matrix.rowVector(ph).mmul(ref.mean).to1DArray();
          for (let c = 0; c < k; c++) {
            expect(mv[i]![c]!).toBeCloseTo(m[c]!, 4);
            for (let e = 0; e < k; e++) expect(cv[i]![c]![e]!).toBeCloseTo(c === e ? v : 0, 4);
          }
        });
        tf.dispose([x, y, xt]);
        net.dispose();
      });
    }
  }

  it('sampleOutputs (GLM samples of a regressor): mean f(x*), covariance phi*^T Sigma phi* I_K within 5 MC SE', () => {
    const phi = xs.map((r) => [...r, 1]);
    const ref = blr(phi, ys, delta, sigma);
    const net = linearNet(d, k, true, ref.mean);
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(net, x, ys.flat(), {
      likelihood: 'regression',
      hessianStructure: 'kron',
      sigmaNoise: sigma,
      priorPrecision: delta,
    });
    const xt = [[1.5, -0.5, 0.25]];
    const xtT = tf.tensor2d(xt);
    const S = 4000;
    let draws: number[][][] = [];
    expectNoLeak(() => {
      const f = la.sampleOutputs(xtT, S, 7);
      expect(f.shape).toEqual([S, 1, k]);
      draws = f.arraySync() as number[][][];
      return f;
    });
    const ph = [...xt[0]!, 1];
    const v = Matrix.rowVector(ph).mmul(ref.cov).mmul(Matrix.columnVector(ph)).get(0, 0);
    const m = Matrix.rowVector(ph).mmul(ref.mean).to1DArray();
    for (let c = 0; c < k; c++) {
      const vals = draws.map((dr) => dr[0]![c]!);
      const mu = vals.reduce((a, b) => a + b, 0) / S;
      const va = vals.reduce((a, b) => a + (b - mu) ** 2, 0) / (S - 1);
      expect(Math.abs(mu - m[c]!)).toBeLessThan(5 * Math.sqrt(v / S));
      expect(Math.abs(va - v)).toBeLessThan(5 * v * Math.sqrt(2 / (S - 1)));
    }
    // the two outputs are independent under the posterior (I_K): covariance near 0
    const c01 = draws.reduce((a, dr) => a + (dr[0]![0]! - m[0]!) * (dr[0]![1]! - m[1]!), 0) / S;
    expect(Math.abs(c01)).toBeLessThan(5 * v * Math.sqrt(1 / S));
    const empty = tf.zeros([0, d]);
    const e = la.sampleOutputs(empty, 3);
    expect(e.shape).toEqual([3, 0, k]);
    tf.dispose([e, empty, x, xtT]);
    net.dispose();
  });

  it('diag: the precision is the diagonal of the exact one, the covariance its inverse', () => {
    const phi = xs.map((r) => [...r, 1]);
    const ref = blr(phi, ys, delta, sigma);
    const net = linearNet(d, k, true, ref.mean);
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(net, x, ys.flat(), {
      likelihood: 'regression',
      hessianStructure: 'diag',
      sigmaNoise: sigma,
      priorPrecision: delta,
    });
    const p = (d + 1) * k;
    const prec = la.denseMatrix('precision');
    const cov = la.denseMatrix('covariance');
    for (let a = 0; a < p; a++) {
      expect(prec[a * p + a]!).toBeCloseTo(kronI(ref.prec, k, a, a), 3);
      expect(cov[a * p + a]! * prec[a * p + a]!).toBeCloseTo(1, 6);
      for (let b = 0; b < p; b++) if (a !== b) expect(prec[a * p + b]).toBe(0);
    }
    x.dispose();
    net.dispose();
  });

  it('optimizePriorPrecision: the marginal likelihood is stationary there and higher than anywhere on a grid', () => {
    const phi = xs.map((r) => [...r, 1]);
    const ref = blr(phi, ys, 1, sigma);
    const net = linearNet(d, k, true, ref.mean);
    const x = tf.tensor2d(xs);
    for (const structure of ['full', 'kron', 'diag'] as const) {
      const la = lastLayerLaplace(net, x, ys.flat(), {
        likelihood: 'regression',
        hessianStructure: structure,
        sigmaNoise: sigma,
      });
      const ml0 = la.logMarginalLikelihood();
      const best = la.optimizePriorPrecision();
      expect(la.priorPrecision).toBe(best);
      const mlBest = la.logMarginalLikelihood();
      expect(mlBest).toBeGreaterThanOrEqual(ml0 - 1e-9);
      for (let e = -4; e <= 4; e += 0.25) {
        expect(la.logMarginalLikelihood(best * Math.exp(e))).toBeLessThanOrEqual(mlBest + 1e-9);
      }
      const h = 1e-4 * best;
      const slope =
        (la.logMarginalLikelihood(best + h) - la.logMarginalLikelihood(best - h)) / (2 * h);
      expect(Math.abs(slope)).toBeLessThan(1e-3);
    }
    x.dispose();
    net.dispose();
  });

  it('a tanh feature net: the full GGN is Phi~^T Phi~ / sigma^2 (x) I with Phi~ computed in float64', () => {
    const h = 4;
    const r = makeRng(21);
    const w1 = Array.from({ length: d * h }, () => 2 * r() - 1);
    const b1 = Array.from({ length: h }, () => r() - 0.5);
    const net = tf.sequential();
    net.add(tf.layers.dense({ units: h, activation: 'tanh', inputShape: [d] }));
    net.add(tf.layers.dense({ units: k }));
    net.layers[0]!.setWeights([tf.tensor2d(w1, [d, h]), tf.tensor1d(b1)]);
    const phi = xs.map((row) => [
      ...Array.from({ length: h }, (_, j) =>
        Math.tanh(row.reduce((s, v, i) => s + v * w1[i * h + j]!, b1[j]!)),
      ),
      1,
    ]);
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(net, x, ys.flat(), {
      likelihood: 'regression',
      hessianStructure: 'full',
      sigmaNoise: sigma,
      priorPrecision: 0.5,
    });
    const Pm = new Matrix(phi);
    const A = Pm.transpose()
      .mmul(Pm)
      .div(sigma * sigma);
    const p = (h + 1) * k;
    const prec = la.denseMatrix('precision');
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        const want = kronI(A, k, a, b) + (a === b ? 0.5 : 0);
        expect(Math.abs(prec[a * p + b]! - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)));
      }
    }
    x.dispose();
    net.dispose();
  });

  it('rejects class-probability calls, bad targets and bad options with ArgumentError before work', async () => {
    const net = tf.sequential();
    net.add(tf.layers.dense({ units: 2, inputShape: [3] }));
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(net, x, ys.flat(), { likelihood: 'regression' });
    const x4 = tf.zeros([2, 4]);
    const x0 = tf.zeros([0, 3]);
    const cases = [
      { call: 'predictProbs of a regressor', run: () => la.predictProbs(x), arg: 'likelihood' },
      { call: 'sampleProbs of a regressor', run: () => la.sampleProbs(x, 3), arg: 'likelihood' },
      { call: 'sampleOutputs(x, 0)', run: () => la.sampleOutputs(x, 0), arg: 'numSamples' },
      { call: 'sampleOutputs of a wrong x', run: () => la.sampleOutputs(x4, 2), arg: 'x' },
      {
        call: 'targets [N] for 2 outputs',
        run: () =>
          lastLayerLaplace(
            net,
            x,
            ys.map((v) => v[0]!),
            { likelihood: 'regression' },
          ),
        arg: 'y',
      },
      {
        call: 'NaN target',
        run: () =>
          lastLayerLaplace(net, x, [NaN, ...ys.flat().slice(1)], { likelihood: 'regression' }),
        arg: 'y',
      },
      {
        call: 'sigmaNoise 0',
        run: () => lastLayerLaplace(net, x, ys.flat(), { likelihood: 'regression', sigmaNoise: 0 }),
        arg: 'sigmaNoise',
      },
      {
        call: 'sigmaNoise NaN',
        run: () =>
          lastLayerLaplace(net, x, ys.flat(), { likelihood: 'regression', sigmaNoise: NaN }),
        arg: 'sigmaNoise',
      },
      {
        call: 'priorPrecision -1',
        run: () =>
          lastLayerLaplace(net, x, ys.flat(), { likelihood: 'regression', priorPrecision: -1 }),
        arg: 'priorPrecision',
      },
      {
        call: 'logMarginalLikelihood(0)',
        run: () => la.logMarginalLikelihood(0),
        arg: 'priorPrecision',
      },
      {
        call: 'unknown structure',
        run: () =>
          lastLayerLaplace(net, x, ys.flat(), {
            likelihood: 'regression',
            hessianStructure: 'lowrank' as 'full',
          }),
        arg: 'hessianStructure',
      },
      {
        call: 'laplace-torch option name',
        run: () =>
          lastLayerLaplace(net, x, ys.flat(), {
            likelihood: 'regression',
            sigma_noise: 1,
          } as unknown as toolbox.LaplaceOptions),
        arg: /sigma_noise/,
      },
      {
        call: 'unknown likelihood',
        run: () => lastLayerLaplace(net, x, ys.flat(), { likelihood: 'gaussian' as 'regression' }),
        arg: 'likelihood',
      },
      {
        call: 'x with a wrong feature count',
        run: () => la.glmPredictive(x4),
        arg: 'x',
      },
      {
        call: 'empty training set',
        run: () => lastLayerLaplace(net, x0, [], { likelihood: 'regression' }),
        arg: 'x',
      },
    ];
    for (const c of cases) await expectBadInput(c);
    tf.dispose([x, x4, x0]);
    net.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// all-layers Laplace on a regression MLP vs the exact GGN (float64 JS network, FD Jacobians)

/** Dense(h, tanh) -> Dense(k) in float64: theta = [W1 (d-major), b1, W2 (h-major), b2]. */
function mlp(d: number, h: number, k: number) {
  const sizes = [d * h, h, h * k, k];
  const f = (theta: number[], x: number[]): number[] => {
    const W1 = theta.slice(0, d * h);
    const b1 = theta.slice(d * h, d * h + h);
    const o = d * h + h;
    const W2 = theta.slice(o, o + h * k);
    const b2 = theta.slice(o + h * k);
    const a = Array.from({ length: h }, (_, j) =>
      Math.tanh(x.reduce((s, v, i) => s + v * W1[i * h + j]!, b1[j]!)),
    );
    return Array.from({ length: k }, (_, c) =>
      a.reduce((s, v, j) => s + v * W2[j * k + c]!, b2[c]!),
    );
  };
  return { f, sizes, p: sizes.reduce((a, b) => a + b, 0) };
}

function jacobian(f: (t: number[]) => number[], t: number[], eps = 1e-6): number[][] {
  const k = f(t).length;
  const J = Array.from({ length: k }, () => new Array<number>(t.length).fill(0));
  for (let i = 0; i < t.length; i++) {
    const tp = [...t];
    const tm = [...t];
    tp[i] = tp[i]! + eps;
    tm[i] = tm[i]! - eps;
    const fp = f(tp);
    const fm = f(tm);
    for (let c = 0; c < k; c++) J[c]![i] = (fp[c]! - fm[c]!) / (2 * eps);
  }
  return J;
}

describe('audit15 all-layers Laplace on a regression MLP vs the exact GGN', () => {
  const d = 2;
  const h = 3;
  const k = 2;
  const sigma = 0.7;
  const { f, sizes, p } = mlp(d, h, k);
  const r = makeRng(31);
  const theta = Array.from({ length: p }, () => 1.2 * (r() - 0.5));
  function tfNet(): tf.Sequential {
    const net = tf.sequential();
    net.add(tf.layers.dense({ units: h, activation: 'tanh', inputShape: [d] }));
    net.add(tf.layers.dense({ units: k }));
    let o = 0;
    const parts = sizes.map((s) => {
      const v = theta.slice(o, o + s);
      o += s;
      return v;
    });
    net.layers[0]!.setWeights([tf.tensor2d(parts[0]!, [d, h]), tf.tensor1d(parts[1]!)]);
    net.layers[1]!.setWeights([tf.tensor2d(parts[2]!, [h, k]), tf.tensor1d(parts[3]!)]);
    return net;
  }
  const xs = data(12, d, 32);
  const ys = xs.map((row) =>
    f(theta, row).map((v, c) => v + 0.1 * (c + 1) * Math.sin(7 * row[0]!)),
  );

  /** Exact GGN Σ_n J_n^T J_n / sigma^2 over the examples `idx`. */
  function exactGgn(idx: number[]): number[][] {
    const G = Array.from({ length: p }, () => new Array<number>(p).fill(0));
    for (const n of idx) {
      const J = jacobian((t) => f(t, xs[n]!), theta);
      for (let a = 0; a < p; a++)
        for (let b = 0; b < p; b++)
          for (let c = 0; c < k; c++) G[a]![b]! += (J[c]![a]! * J[c]![b]!) / (sigma * sigma);
    }
    return G;
  }
  const blocks = [
    [0, d * h + h],
    [d * h + h, p],
  ] as const;

  it('diag equals the exact GGN diagonal of every layer (N = 12, sigma = 0.7)', () => {
    const net = tfNet();
    const x = tf.tensor2d(xs);
    const before = tf.memory().numTensors;
    const la = allLayersLaplace(net, x, ys.flat(), {
      likelihood: 'regression',
      hessianStructure: 'diag',
      sigmaNoise: sigma,
      batchSize: 5,
    });
    expect(tf.memory().numTensors).toBe(before);
    const G = exactGgn(xs.map((_, i) => i));
    blocks.forEach(([s, e], l) => {
      const c = la.denseBlock(l, 'curvature');
      const m = e - s;
      for (let i = 0; i < m; i++) {
        const want = G[s + i]![s + i]!;
        expect(Math.abs(c[i * m + i]! - want)).toBeLessThan(1e-4 * (1 + want));
      }
    });
    // log p(D | theta*) of the Gaussian likelihood with sigma, in float64
    let ll = 0;
    xs.forEach((row, n) => {
      const out = f(theta, row);
      for (let c = 0; c < k; c++)
        ll +=
          -0.5 * ((out[c]! - ys[n]![c]!) / sigma) ** 2 -
          0.5 * Math.log(2 * Math.PI * sigma * sigma);
    });
    expect(la.logLikelihood).toBeCloseTo(ll, 3);
    x.dispose();
    net.dispose();
  });

  it('kron on one example equals every exact GGN block', () => {
    const net = tfNet();
    const x = tf.tensor2d([xs[3]!]);
    const la = allLayersLaplace(net, x, ys[3]!, {
      likelihood: 'regression',
      hessianStructure: 'kron',
      sigmaNoise: sigma,
    });
    const G = exactGgn([3]);
    blocks.forEach(([s, e], l) => {
      const c = la.denseBlock(l, 'curvature');
      const m = e - s;
      // the block's parameter order: kernel rows [D, U] then the bias row, as theta here
      for (let i = 0; i < m; i++)
        for (let j = 0; j < m; j++) {
          const want = G[s + i]![s + j]!;
          expect(Math.abs(c[i * m + j]! - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)));
        }
    });
    x.dispose();
    net.dispose();
  });

  it('glmPredictive: cov = sum_l J_l Sigma_l J_l^T with FD Jacobians; optimizePriorPrecision raises marglik', () => {
    const net = tfNet();
    const x = tf.tensor2d(xs);
    const la = allLayersLaplace(net, x, ys.flat(), {
      likelihood: 'regression',
      hessianStructure: 'diag',
      sigmaNoise: sigma,
      priorPrecision: 0.8,
    });
    const xt = [
      [0.5, -0.25],
      [2, 1],
    ];
    const xtT = tf.tensor2d(xt);
    let mv: number[][] = [];
    let cv: number[][][] = [];
    expectNoLeak(() => {
      const { mean, cov } = la.glmPredictive(xtT);
      mv = mean.arraySync();
      cv = cov.arraySync();
      return [mean, cov];
    });
    const covs = blocks.map((_, l) => la.denseBlock(l, 'covariance'));
    xt.forEach((row, i) => {
      const out = f(theta, row);
      const J = jacobian((t) => f(t, row), theta);
      for (let c = 0; c < k; c++) {
        expect(mv[i]![c]!).toBeCloseTo(out[c]!, 4);
        for (let e = 0; e < k; e++) {
          let v = 0;
          blocks.forEach(([s, en], l) => {
            const m = en - s;
            for (let a = 0; a < m; a++)
              for (let b = 0; b < m; b++) v += J[c]![s + a]! * covs[l]![a * m + b]! * J[e]![s + b]!;
          });
          expect(Math.abs(cv[i]![c]![e]! - v)).toBeLessThan(1e-3 * (1 + Math.abs(v)));
        }
      }
    });
    const ml0 = la.logMarginalLikelihood();
    la.optimizePriorPrecision();
    expect(la.logMarginalLikelihood()).toBeGreaterThanOrEqual(ml0);
    tf.dispose([x, xtT]);
    net.dispose();
  });
  it('kron over all layers: the last block equals the exact last-layer GGN (Gaussian: KFAC exact there)', () => {
    const net = tfNet();
    const x = tf.tensor2d(xs);
    const all = allLayersLaplace(net, x, ys.flat(), {
      likelihood: 'regression',
      hessianStructure: 'kron',
      sigmaNoise: sigma,
    });
    const last = lastLayerLaplace(net, x, ys.flat(), {
      likelihood: 'regression',
      hessianStructure: 'full',
      sigmaNoise: sigma,
    });
    const G = exactGgn(xs.map((_, i) => i));
    const a = all.denseBlock(1, 'curvature');
    const b = last.denseMatrix('precision');
    const [s0, e0] = blocks[1];
    const m = e0 - s0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) {
        const want = G[s0 + i]![s0 + j]!;
        expect(Math.abs(a[i * m + j]! - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)));
        expect(Math.abs(b[i * m + j]! - (i === j ? 1 : 0) - want)).toBeLessThan(
          1e-4 * (1 + Math.abs(want)),
        );
      }
    x.dispose();
    net.dispose();
  });
});
