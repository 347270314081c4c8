/**
 * Last-layer Laplace on a head Dense applied several times (weight sharing) or merged into the
 * output by layers without weights. References, in float64 plain JS: the exact GGN
 * `sum_n J_n^T Lambda_n J_n` from central finite differences of the network written out by hand,
 * KFAC-expand `(1/(N R)) (sum a~ a~^T) (x) (sum g g^T)` from explicit back-propagated signals, and
 * the closed-form evidence of Bayesian linear regression for a linear shared head.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { CholeskyDecomposition, inverse, Matrix } from 'ml-matrix';
import { ArgumentError, toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

const { lastLayerLaplace } = toolbox;

const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.7, seed: s });

/** x [3] -> h = Dense(3, tanh) -> shared Dense(3) -> tanh -> the same shared Dense(3) -> softmax. */
function sharedNet(): { model: tf.LayersModel; first: tf.layers.Layer; shared: tf.layers.Layer } {
  const inp = tf.input({ shape: [3] });
  const first = tf.layers.dense({
    units: 3,
    activation: 'tanh',
    kernelInitializer: init(1),
    biasInitializer: init(2),
  });
  const shared = tf.layers.dense({
    units: 3,
    kernelInitializer: init(3),
    biasInitializer: init(4),
  });
  const h = first.apply(inp) as tf.SymbolicTensor;
  const z1 = shared.apply(h) as tf.SymbolicTensor;
  const t = tf.layers.activation({ activation: 'tanh' }).apply(z1) as tf.SymbolicTensor;
  const z2 = shared.apply(t) as tf.SymbolicTensor;
  const out = tf.layers.softmax().apply(z2) as tf.SymbolicTensor;
  return { model: tf.model({ inputs: inp, outputs: out }), first, shared };
}

const host = (l: tf.layers.Layer): number[][] =>
  l.getWeights().map((w) => Array.from(w.dataSync()));

/** The shared net's logits in float64, for the shared parameters `theta = [W (3x3 row-major); b]`. */
function logits64(first: number[][], theta: number[], x: number[]): number[] {
  const [w1, b1] = first as [number[], number[]];
  const lin = (w: number[], b: number[], a: number[]): number[] =>
    [0, 1, 2].map((j) => a.reduce((s, ai, i) => s + ai * w[i * 3 + j]!, b[j]!));
  const h = lin(w1, b1, x).map(Math.tanh);
  const ws = theta.slice(0, 9);
  const bs = theta.slice(9, 12);
  const z1 = lin(ws, bs, h);
  return lin(ws, bs, z1.map(Math.tanh));
}

function softmax64(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Exact GGN `sum_n J_n^T (diag p - p p^T) J_n` `[12 x 12]` by central differences (float64). */
function exactGgn(first: number[][], theta: number[], xs: number[][]): number[][] {
  const p = theta.length;
  const h = 1e-6;
  const out = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  for (const x of xs) {
    const jac: number[][] = []; // [P][K]
    for (let i = 0; i < p; i++) {
      const tp = [...theta];
      const tm = [...theta];
      tp[i]! += h;
      tm[i]! -= h;
      const fp = logits64(first, tp, x);
      const fm = logits64(first, tm, x);
      jac.push(fp.map((v, c) => (v - fm[c]!) / (2 * h)));
    }
    const pr = softmax64(logits64(first, theta, x));
    const lam = pr.map((pi, c) => pr.map((pj, e) => (c === e ? pi : 0) - pi * pj));
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) {
        let s = 0;
        for (let c = 0; c < 3; c++)
          for (let e = 0; e < 3; e++) s += jac[i]![c]! * lam[c]![e]! * jac[j]![e]!;
        out[i]![j]! += s;
      }
    }
  }
  return out;
}

function setup(n: number): { xs: number[][]; labels: number[] } {
  const rng = makeRng(11);
  const xs = Array.from({ length: n }, () => [0, 1, 2].map(() => 2 * rng() - 1));
  const labels = xs.map((_, i) => i % 3);
  return { xs, labels };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('last-layer Laplace on a head Dense applied several times', () => {
  it('full and diag equal the exact GGN summed over the applications (float64 finite differences)', () => {
    const { model, first, shared } = sharedNet();
    const { xs, labels } = setup(12);
    const x = tf.tensor2d(xs);
    const delta = 0.7;
    const ref = exactGgn(host(first), host(shared).flat(), xs);
    const scale = Math.max(...ref.map((r, i) => Math.abs(r[i]!)));
    for (const structure of ['full', 'diag'] as const) {
      const before = tf.memory().numTensors;
      const la = lastLayerLaplace(model, x, labels, {
        hessianStructure: structure,
        priorPrecision: delta,
        batchSize: 5,
      });
      expect(tf.memory().numTensors).toBe(before);
      const prec = la.denseMatrix('precision');
      for (let i = 0; i < 12; i++) {
        for (let j = 0; j < 12; j++) {
          const want = structure === 'full' || i === j ? ref[i]![j]! + (i === j ? delta : 0) : 0;
          expect(Math.abs(prec[i * 12 + j]! - want)).toBeLessThan(2e-4 * scale + 1e-6);
        }
      }
      expect(la.numParams).toBe(12);
    }
    model.dispose();
    x.dispose();
  });

  it('kron is KFAC-expand: (1/(N R)) (sum a~ a~^T) (x) (sum g g^T) over the R applications', () => {
    const { model, first, shared } = sharedNet();
    const { xs, labels } = setup(9);
    const x = tf.tensor2d(xs);
    const [w1, b1] = host(first) as [number[], number[]];
    const [ws, bs] = host(shared) as [number[], number[]];
    const lin = (w: number[], b: number[], a: number[]): number[] =>
      [0, 1, 2].map((j) => a.reduce((s, ai, i) => s + ai * w[i * 3 + j]!, b[j]!));
    const A = Array.from({ length: 4 }, () => new Array<number>(4).fill(0));
    const G = Array.from({ length: 3 }, () => new Array<number>(3).fill(0));
    for (const xv of xs) {
      const h = lin(w1, b1, xv).map(Math.tanh);
      const z1 = lin(ws, bs, h);
      const t = z1.map(Math.tanh);
      const z2 = lin(ws, bs, t);
      const p = softmax64(z2);
      for (const a of [
        [...h, 1],
        [...t, 1],
      ]) {
        for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) A[i]![j]! += a[i]! * a[j]!;
      }
      for (let c = 0; c < 3; c++) {
        // u_c = sqrt(p_c) (e_c - p); site 2 (z2): g = u; site 1 (z1): g = diag(1 - t^2) W u
        const u = p.map((pk, k) => Math.sqrt(p[c]!) * ((k === c ? 1 : 0) - pk));
        const g1 = [0, 1, 2].map(
          (i) => (1 - t[i]! * t[i]!) * [0, 1, 2].reduce((s, j) => s + ws[i * 3 + j]! * u[j]!, 0),
        );
        for (const g of [u, g1]) {
          for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) G[i]![j]! += g[i]! * g[j]!;
        }
      }
    }
    const nr = xs.length * 2;
    const delta = 1.3;
    const la = lastLayerLaplace(model, x, labels, {
      hessianStructure: 'kron',
      priorPrecision: delta,
    });
    const prec = la.denseMatrix('precision');
    let scale = 0;
    const want = new Float64Array(144);
    for (let d = 0; d < 4; d++) {
      for (let k = 0; k < 3; k++) {
        for (let e = 0; e < 4; e++) {
          for (let l = 0; l < 3; l++) {
            const v = (A[d]![e]! * G[k]![l]!) / nr + (d === e && k === l ? delta : 0);
            want[(d * 3 + k) * 12 + e * 3 + l] = v;
            scale = Math.max(scale, Math.abs(v));
          }
        }
      }
    }
    expect(maxAbsDiff(prec, want)).toBeLessThan(1e-4 * scale);
    model.dispose();
    x.dispose();
  });

  it('the GLM predictive is J Sigma J^T with J summed over the applications; samples are drawn from it', () => {
    const { model, first, shared } = sharedNet();
    const { xs, labels } = setup(12);
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(model, x, labels, { hessianStructure: 'full', priorPrecision: 2 });
    const sigma = inverse(
      new Matrix(
        Array.from({ length: 12 }, (_, i) =>
          Array.from(la.denseMatrix('precision').subarray(i * 12, i * 12 + 12)),
        ),
      ),
    );
    const xt = [
      [0.3, -0.2, 0.9],
      [-0.7, 0.5, 0.1],
    ];
    const xtT = tf.tensor2d(xt);
    const before = tf.memory().numTensors;
    const { mean, cov } = la.glmPredictive(xtT);
    const covHost = cov.arraySync();
    const meanHost = mean.arraySync();
    tf.dispose([mean, cov]);
    expect(tf.memory().numTensors).toBe(before);
    const theta = host(shared).flat();
    xt.forEach((xv, n) => {
      const f0 = logits64(host(first), theta, xv);
      f0.forEach((v, c) => expect(meanHost[n]![c]!).toBeCloseTo(v, 4));
      const jac = new Matrix(3, 12);
      for (let i = 0; i < 12; i++) {
        const tp = [...theta];
        const tm = [...theta];
        tp[i]! += 1e-6;
        tm[i]! -= 1e-6;
        const fp = logits64(host(first), tp, xv);
        const fm = logits64(host(first), tm, xv);
        for (let c = 0; c < 3; c++) jac.set(c, i, (fp[c]! - fm[c]!) / 2e-6);
      }
      const ref = jac.mmul(sigma).mmul(jac.transpose());
      for (let c = 0; c < 3; c++) {
        for (let e = 0; e < 3; e++) expect(covHost[n]![c]![e]!).toBeCloseTo(ref.get(c, e), 4);
      }
    });
    // every structure: MC samples of the GLM predictive against draws from N(mean, cov) (float64)
    const rng = makeRng(9);
    const normal = (): number =>
      Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    for (const structure of ['diag', 'kron', 'full'] as const) {
      const l2 = lastLayerLaplace(model, x, labels, { hessianStructure: structure });
      const draws = 3000;
      const mc = expectNoLeak(() =>
        l2.predictProbs(xtT, { link: 'mc', numSamples: draws, seed: 3 }),
      );
      const g = l2.glmPredictive(xtT);
      const mu = g.mean.arraySync();
      const cv = g.cov.arraySync();
      tf.dispose([g.mean, g.cov]);
      const ref: number[] = [];
      const sd: number[] = [];
      mu.forEach((m, nIdx) => {
        const chol = new CholeskyDecomposition(new Matrix(cv[nIdx]!).add(Matrix.eye(3).mul(1e-9)))
          .lowerTriangularMatrix;
        const acc = [0, 0, 0];
        const acc2 = [0, 0, 0];
        for (let t = 0; t < draws; t++) {
          const z = [normal(), normal(), normal()];
          const f = m.map(
            (v, c) => v + [0, 1, 2].reduce((s2, e) => s2 + chol.get(c, e) * z[e]!, 0),
          );
          softmax64(f).forEach((pv, c) => {
            acc[c]! += pv;
            acc2[c]! += pv * pv;
          });
        }
        acc.forEach((a, c) => {
          ref.push(a / draws);
          sd.push(Math.sqrt(Math.max(acc2[c]! / draws - (a / draws) ** 2, 0) / draws));
        });
      });
      // two independent MC means: 5 standard errors of their difference
      ref.forEach((r, i) =>
        expect(Math.abs(mc[i]! - r)).toBeLessThan(5 * Math.SQRT2 * sd[i]! + 1e-4),
      );
      const s = l2.sampleProbs(xtT, 7, 1);
      expect(s.shape).toEqual([7, 2, 3]);
      s.dispose();
    }
    tf.dispose([x, xtT]);
    model.dispose();
  });

  it('a linear Dense shared by two inputs and added: the evidence of Bayesian linear regression', () => {
    // f = d(x1) + d(x2) = (x1 + x2)^T w + 2 b: Bayesian linear regression with phi = [x1 + x2, 2]
    const rng = makeRng(4);
    const n = 20;
    const sigma = 0.4;
    const delta = 0.8;
    const x1 = Array.from({ length: n }, () => [2 * rng() - 1, 2 * rng() - 1]);
    const x2 = Array.from({ length: n }, () => [2 * rng() - 1, 2 * rng() - 1]);
    const phiRows = x1.map((r, i) => [r[0]! + x2[i]![0]!, r[1]! + x2[i]![1]!, 2]);
    const ys = phiRows.map((r) => 0.7 * r[0]! - 0.4 * r[1]! + 0.2 * r[2]! + sigma * (rng() - 0.5));
    const phi = new Matrix(phiRows);
    const yv = Matrix.columnVector(ys);
    const prec = phi
      .transpose()
      .mmul(phi)
      .div(sigma * sigma)
      .add(Matrix.eye(3).mul(delta));
    const post = inverse(prec)
      .mmul(phi.transpose().mmul(yv))
      .div(sigma * sigma);
    const C = phi
      .mmul(phi.transpose())
      .div(delta)
      .add(Matrix.eye(n).mul(sigma * sigma));
    const L = new CholeskyDecomposition(C).lowerTriangularMatrix;
    let logDet = 0;
    for (let i = 0; i < n; i++) logDet += 2 * Math.log(L.get(i, i));
    const quad = yv.transpose().mmul(inverse(C)).mmul(yv).get(0, 0);
    const closed = -0.5 * (quad + logDet + n * Math.log(2 * Math.PI));

    const a = tf.input({ shape: [2], name: 'left' });
    const b = tf.input({ shape: [2], name: 'right' });
    const d = tf.layers.dense({ units: 1 });
    const out = tf.layers
      .add()
      .apply([d.apply(a) as tf.SymbolicTensor, d.apply(b) as tf.SymbolicTensor]);
    const model = tf.model({ inputs: [a, b], outputs: out as tf.SymbolicTensor });
    d.setWeights([
      tf.tensor2d([[post.get(0, 0)], [post.get(1, 0)]]),
      tf.tensor1d([post.get(2, 0)]),
    ]);
    const xs = [tf.tensor2d(x1), tf.tensor2d(x2)];
    const y = tf.tensor2d(ys, [n, 1]);
    for (const structure of ['full', 'diag', 'kron'] as const) {
      const la = lastLayerLaplace(model, xs, y, {
        likelihood: 'regression',
        hessianStructure: structure,
        priorPrecision: delta,
        sigmaNoise: sigma,
      });
      if (structure === 'full') {
        expect(la.logMarginalLikelihood()).toBeCloseTo(closed, 3);
        const got = la.denseMatrix('precision');
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < 3; j++) expect(got[i * 3 + j]!).toBeCloseTo(prec.get(i, j), 2);
        }
      } else {
        // diag / kron approximate the same evidence
        expect(Number.isFinite(la.logMarginalLikelihood())).toBe(true);
      }
      const g = la.glmPredictive(xs);
      const meanHost = g.mean.dataSync();
      phiRows.slice(0, 3).forEach((r, i) => {
        const want = r[0]! * post.get(0, 0) + r[1]! * post.get(1, 0) + r[2]! * post.get(2, 0);
        expect(meanHost[i]!).toBeCloseTo(want, 4);
      });
      tf.dispose([g.mean, g.cov]);
    }
    tf.dispose([...xs, y]);
    model.dispose();
  });

  it('a binary head (sigmoid after a shared Dense added over two inputs): H = sum p (1 - p) phi phi^T', () => {
    const rng = makeRng(6);
    const n = 15;
    const x1 = Array.from({ length: n }, () => [2 * rng() - 1, 2 * rng() - 1]);
    const x2 = Array.from({ length: n }, () => [2 * rng() - 1, 2 * rng() - 1]);
    const labels = x1.map((_, i) => i % 2);
    const a = tf.input({ shape: [2] });
    const b = tf.input({ shape: [2] });
    const d = tf.layers.dense({ units: 1, kernelInitializer: init(8), biasInitializer: init(9) });
    const sum = tf.layers
      .add()
      .apply([d.apply(a) as tf.SymbolicTensor, d.apply(b) as tf.SymbolicTensor]);
    const out = tf.layers.activation({ activation: 'sigmoid' }).apply(sum) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [a, b], outputs: out });
    const [w, bias] = d.getWeights().map((t) => Array.from(t.dataSync()));
    const want = new Float64Array(9);
    x1.forEach((r, i) => {
      const phi = [r[0]! + x2[i]![0]!, r[1]! + x2[i]![1]!, 2];
      const z = phi[0]! * w![0]! + phi[1]! * w![1]! + 2 * bias![0]!;
      const p = 1 / (1 + Math.exp(-z));
      for (let u = 0; u < 3; u++)
        for (let v = 0; v < 3; v++) want[u * 3 + v]! += p * (1 - p) * phi[u]! * phi[v]!;
    });
    const xs = [tf.tensor2d(x1), tf.tensor2d(x2)];
    const la = lastLayerLaplace(model, xs, labels, {
      hessianStructure: 'full',
      priorPrecision: 0.5,
    });
    expect(la.binary).toBe(true);
    const got = la.denseMatrix('precision');
    want.forEach((v, i) => expect(got[i]!).toBeCloseTo(v + (i % 4 === 0 ? 0.5 : 0), 4));
    const probs = expectNoLeak(() => la.predictProbs(xs));
    for (let i = 0; i < n; i++) expect(probs[2 * i]! + probs[2 * i + 1]!).toBeCloseTo(1, 5);
    tf.dispose(xs);
    model.dispose();
  });

  it('a Dropout shared by a branch and the output is skipped at the output', () => {
    const inp = tf.input({ shape: [3] });
    const drop = tf.layers.dropout({ rate: 0.3 });
    const h = tf.layers.dense({ units: 4, activation: 'tanh' }).apply(drop.apply(inp));
    const out = drop.apply(tf.layers.dense({ units: 3 }).apply(h as tf.SymbolicTensor));
    const model = tf.model({ inputs: inp, outputs: out as tf.SymbolicTensor });
    const { xs, labels } = setup(8);
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(model, x, labels);
    expect(la.numParams).toBe(15);
    const g = la.glmPredictive(x);
    const want = model.predict(x) as tf.Tensor;
    expect(maxAbsDiff(g.mean.dataSync(), want.dataSync())).toBeLessThan(1e-5);
    tf.dispose([g.mean, g.cov, want, x]);
    model.dispose();
  });

  it('a nested head applied twice in series at the output: all-layers and last-layer fits', () => {
    const { xs, labels } = setup(10);
    const x = tf.tensor2d(xs);
    const inp = tf.input({ shape: [3] });
    const first = tf.layers.dense({ units: 3, activation: 'tanh' });
    const h = first.apply(inp) as tf.SymbolicTensor;
    const square = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 3 })] });
    const nested = tf.model({
      inputs: inp,
      outputs: square.apply(square.apply(h)) as tf.SymbolicTensor,
    });
    // the same network with its own layers (a flat Dense applied twice)
    const inp2 = tf.input({ shape: [3] });
    const first2 = tf.layers.dense({ units: 3, activation: 'tanh' });
    const flat = tf.layers.dense({ units: 3 });
    const flatModel = tf.model({
      inputs: inp2,
      outputs: flat.apply(flat.apply(first2.apply(inp2))) as tf.SymbolicTensor,
    });
    first2.setWeights(first.getWeights());
    flat.setWeights(square.getWeights());
    for (const hessianStructure of ['diag', 'kron'] as const) {
      const before = tf.memory().numTensors;
      const a = toolbox.allLayersLaplace(nested, x, labels, { hessianStructure });
      const b = toolbox.allLayersLaplace(flatModel, x, labels, { hessianStructure });
      expect(tf.memory().numTensors).toBe(before);
      expect(a.numParams).toBe(24);
      for (const l of [0, 1]) {
        const pa = a.denseBlock(l, 'precision');
        const pb = b.denseBlock(l, 'precision');
        pa.forEach((v, i) => expect(v).toBeCloseTo(pb[i]!, 4));
      }
    }
    const la = lastLayerLaplace(nested, x, labels, { hessianStructure: 'diag' });
    const lb = lastLayerLaplace(flatModel, x, labels, { hessianStructure: 'diag' });
    const pa = la.denseMatrix('precision');
    lb.denseMatrix('precision').forEach((v, i) => expect(pa[i]!).toBeCloseTo(v, 4));
    x.dispose();
    nested.dispose();
    flatModel.dispose();
  });

  it('refuses, naming the argument, before any work', () => {
    const { model } = sharedNet();
    const { xs, labels } = setup(6);
    const x = tf.tensor2d(xs);
    const inp = tf.input({ shape: [3] });
    const two = tf.model({
      inputs: inp,
      outputs: tf.layers
        .add()
        .apply([
          tf.layers.dense({ units: 3 }).apply(inp) as tf.SymbolicTensor,
          tf.layers.dense({ units: 3 }).apply(inp) as tf.SymbolicTensor,
        ]) as tf.SymbolicTensor,
    });
    const bad = tf.zeros([6, 4]);
    const before = tf.memory().numTensors;
    const cases: [() => unknown, RegExp][] = [
      [
        () => lastLayerLaplace(two, x, labels),
        /model: .*expected one Dense layer nearest the output/,
      ],
      [
        () => lastLayerLaplace(model, x, labels, { hessianStructure: 'block' as 'full' }),
        /hessianStructure/,
      ],
      [() => lastLayerLaplace(model, x, labels, { prior: 1 } as object), /prior/],
      [() => lastLayerLaplace(model, x, [0, 1, 2]), /y/],
      [() => lastLayerLaplace(model, bad, labels), /x: expected inputs \[N, 3\]/],
    ];
    for (const [fn, msg] of cases) {
      expect(fn).toThrow(ArgumentError);
      expect(fn).toThrow(msg);
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    two.dispose();
    tf.dispose([x, bad]);
  });
});
