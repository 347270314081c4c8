import { describe, it, expect, beforeEach } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ppl } from '../../../src/index.js';
import { expectBadInput, expectNoLeak } from '../../helpers.js';
import {
  add,
  exactGP,
  gram,
  lcg,
  matmul,
  mvnLogPdf,
  rbf,
  spdSolve,
  transpose,
  type Mat,
} from './reference.js';

const gp = ppl.gp;
type Approx = 'DTC' | 'FITC' | 'VFE';

function negLml(m: { model: () => unknown; guide: () => void }): number {
  return tf.tidy(
    () => new ppl.TraceMeanFieldELBO().differentiableLoss(m.model, m.guide, []).dataSync()[0],
  ) as number;
}

const rnd = lcg(5);
const N = 14;
const Xs = Array.from({ length: N }, (_, i) => [-3 + (6 * i) / (N - 1) + 0.2 * rnd()]);
const ys = Xs.map((x) => Math.sin(x[0]!) + 0.2 * (rnd() - 0.5));
const Xus = [[-2.4], [-1.1], [0.2], [1.3], [2.6]];
const Xt = [[-1.7], [0.5], [2.9]];
const V = 1.2;
const LS = [0.9];
const NOISE = 0.05;

/** float64 sparse GP: the (bound on the) evidence and the predictive of f. */
function sparseRef(approx: Approx): { lml: number; mean: number[]; cov: Mat } {
  const k = rbf(V, LS);
  const Kuu = gram(k, Xus);
  const Kuf = gram(k, Xus, Xs);
  const Qff = matmul(transpose(Kuf), spdSolve(Kuu, Kuf));
  const gap = Xs.map((x, i) => k(x, x) - Qff[i]![i]!);
  const d = gap.map((g) => NOISE + (approx === 'FITC' ? g : 0));
  const cov = Qff.map((r, i) => r.map((v, j) => v + (i === j ? d[i]! : 0)));
  let lml = mvnLogPdf(ys, new Array<number>(N).fill(0), cov);
  if (approx === 'VFE') lml -= gap.reduce((s, g) => s + g, 0) / (2 * NOISE);
  // predictive: Sigma = (Kuu + Kuf D^-1 Kfu)^-1
  const KufD = Kuf.map((r) => r.map((v, j) => v / d[j]!));
  const A = add(Kuu, matmul(KufD, transpose(Kuf)));
  const Ksu = gram(k, Xt, Xus);
  const b = matmul(
    KufD,
    ys.map((v) => [v]),
  );
  const mean = matmul(Ksu, spdSolve(A, b)).map((r) => r[0]!);
  const Qss = matmul(Ksu, spdSolve(Kuu, transpose(Ksu)));
  const c = add(add(gram(k, Xt), Qss, -1), matmul(Ksu, spdSolve(A, transpose(Ksu))));
  return { lml, mean, cov: c };
}

function make(
  approx: Approx,
  Xu: number[][],
  jitter = 1e-6,
): InstanceType<typeof gp.models.SparseGPRegression> {
  const X = tf.tensor2d(Xs);
  const y = tf.tensor1d(ys);
  const xu = tf.tensor2d(Xu);
  const k = new gp.kernels.RBF({ inputDim: 1, variance: V, lengthscale: LS[0] });
  const m = new gp.models.SparseGPRegression(X, y, k, xu, { noise: NOISE, approx, jitter });
  tf.dispose([X, y, xu]);
  return m;
}

describe('SparseGPRegression', () => {
  beforeEach(() => ppl.clearParamStore());

  it('DTC, FITC and VFE evidence and predictive equal float64 references', () => {
    const xt = tf.tensor2d(Xt);
    for (const approx of ['DTC', 'FITC', 'VFE'] as const) {
      const m = make(approx, Xus, 0);
      const ref = sparseRef(approx);
      expect(-negLml(m)).toBeCloseTo(ref.lml, 2);
      const [mu, cov] = m.forward(xt, { fullCov: true });
      expect(mu).toBeAllclose(ref.mean, { atol: 5e-4 });
      expect(cov).toBeAllclose(ref.cov.flat(), { atol: 5e-4 });
      const [mu2, v2] = m.forward(xt, { noiseless: false });
      expect(v2).toBeAllclose(
        ref.cov.map((r, i) => r[i]! + NOISE),
        { atol: 5e-4 },
      );
      tf.dispose([mu, cov, mu2, v2]);
      expectNoLeak(() => m.forward(xt));
    }
    xt.dispose();
  });

  it('VFE <= exact <= DTC-style bounds hold; with Xu = X all equal the exact GP', () => {
    const exact = exactGP(rbf(V, LS), Xs, ys, NOISE, Xt);
    const vfe = -negLml(make('VFE', Xus));
    const dtc = -negLml(make('DTC', Xus));
    expect(vfe).toBeLessThanOrEqual(exact.lml + 1e-3);
    expect(vfe).toBeLessThan(dtc);
    const xt = tf.tensor2d(Xt);
    for (const approx of ['DTC', 'FITC', 'VFE'] as const) {
      const m = make(approx, Xs);
      expect(-negLml(m)).toBeCloseTo(exact.lml, 1);
      const [mu, cov] = m.forward(xt, { fullCov: true });
      expect(mu).toBeAllclose(exact.mean, { atol: 3e-3 });
      expect(cov).toBeAllclose(exact.cov.flat(), { atol: 3e-3 });
      tf.dispose([mu, cov]);
    }
    xt.dispose();
  });

  it('training moves the inducing inputs and lowers the loss without leaking', () => {
    const m = make('VFE', Xus);
    const before = m.value('Xu');
    const losses = gp.train(m, { optimizer: tf.train.adam(0.05), numSteps: 40 });
    expect(losses[39]!).toBeLessThan(losses[0]!);
    const after = m.value('Xu');
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(after, before))).dataSync()[0])).toBeGreaterThan(
      1e-3,
    );
    tf.dispose([before, after]);
    expectNoLeak(() => void gp.train(m, { numSteps: 1 }));
  });

  it('bad inputs name the argument', async () => {
    const X = tf.tensor2d(Xs);
    const y = tf.tensor1d(ys);
    const xu2 = tf.zeros([3, 2]);
    const xu = tf.tensor2d(Xus);
    const k = new gp.kernels.RBF({ inputDim: 1 });
    const S = gp.models.SparseGPRegression;
    const sg = new S(X, y, k, xu);
    const cases = [
      { call: 'Xu with the wrong feature count', run: () => new S(X, y, k, xu2), arg: 'Xu' },
      { call: 'Xu not a tensor', run: () => new S(X, y, k, [[0]] as never), arg: 'Xu' },
      {
        call: 'unknown approx',
        run: () => new S(X, y, k, xu, { approx: 'SoR' as never }),
        arg: 'approx',
      },
      { call: 'y of the wrong length', run: () => new S(X, xu, k, xu), arg: 'y' },
      { call: 'setData with other features than Xu', run: () => sg.setData(xu2), arg: 'X' },
    ];
    for (const c of cases) await expectBadInput(c);
    tf.dispose([X, y, xu2, xu]);
  });
});
