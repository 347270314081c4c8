/**
 * Bayesian linear regression with the probabilistic language, checked against the closed form.
 *
 *   w ~ N(0, I_3),  y_i ~ N(w·[x_i, 1], 0.3²),  i = 1..200
 *
 * The exact posterior is N(m, S) with S⁻¹ = Λ = I + XᵀX/σ², m = S Xᵀy/σ². A mean-field Normal
 * guide q(w) = Π N(loc_j, scale_j²) fitted by SVI has its optimum at loc = m (exact for a Gaussian
 * target) and scale_j = 1/sqrt(Λ_jj) (mean-field variances are the inverse diagonal precisions,
 * smaller than the exact marginal variances S_jj when the inputs are correlated).
 * The ELBO is averaged over 64 vectorized particles (`scale(1/64)`) and the last 1000 iterates
 * are averaged.
 *
 *   npx tsx examples/bayesian_regression.ts
 */
import * as tf from '@tensorflow/tfjs';
import { makeRng, ready, setSeed, distributions, ppl } from 'deepprob';

const { Normal } = distributions;
const {
  clearParamStore,
  constraints,
  getParamStore,
  param,
  plate,
  sample,
  scale,
  SVI,
  TraceMeanFieldELBO,
} = ppl;

await ready();
setSeed(0);
const n = 200;
const sigma = 0.3;
const wTrue = [2, -1, 0.5];
const rng = makeRng(1);
const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
const X: number[][] = [];
const Y: number[] = [];
for (let i = 0; i < n; i++) {
  const a = gauss();
  const b = 0.6 * a + 0.8 * gauss(); // correlated inputs
  X.push([a, b, 1]);
  Y.push(wTrue[0]! * a + wTrue[1]! * b + wTrue[2]! + sigma * gauss());
}

// Closed form (3x3, in float64 on the host).
const lam = [0, 1, 2].map((i) =>
  [0, 1, 2].map((j) => (i === j ? 1 : 0) + X.reduce((s, r) => s + r[i]! * r[j]!, 0) / sigma ** 2),
);
const xty = [0, 1, 2].map((j) => X.reduce((s, r, i) => s + r[j]! * Y[i]!, 0) / sigma ** 2);
function inv3(m: number[][]): number[][] {
  const [a, b, c] = m as [number[], number[], number[]];
  const det =
    a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) -
    a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) +
    a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!);
  const cof = (r1: number[], r2: number[], i: number, j: number): number =>
    r1[i]! * r2[j]! - r1[j]! * r2[i]!;
  return [
    [cof(b, c, 1, 2) / det, -cof(a, c, 1, 2) / det, cof(a, b, 1, 2) / det],
    [-cof(b, c, 0, 2) / det, cof(a, c, 0, 2) / det, -cof(a, b, 0, 2) / det],
    [cof(b, c, 0, 1) / det, -cof(a, c, 0, 1) / det, cof(a, b, 0, 1) / det],
  ];
}
const S = inv3(lam);
const mean = S.map((row) => row.reduce((s, v, j) => s + v * xty[j]!, 0));
const exactSd = [0, 1, 2].map((j) => Math.sqrt(S[j]![j]!));
const mfSd = [0, 1, 2].map((j) => 1 / Math.sqrt(lam[j]![j]!));

const P = 64;
const x = tf.tensor2d(X);
const y = tf.tensor2d(Y, [n, 1]);
const model = scale((xx: tf.Tensor, yy: tf.Tensor): void => {
  const w = sample('w', new Normal(tf.zeros([P, 3]), 1));
  // the likelihood is [n, P]: the data plate is dim -2 (the particles fill dim -1)
  plate('data', n, { dim: -2 }, () =>
    sample('y', new Normal(tf.matMul(xx, w, false, true), sigma), { obs: yy }),
  );
}, 1 / P);
const guide = scale((): void => {
  const loc = param('w_loc', tf.zeros([3]));
  const sd = param('w_scale', tf.fill([3], 0.1), { constraint: constraints.positive });
  sample('w', new Normal(tf.add(tf.zeros([P, 3]), loc), tf.add(tf.zeros([P, 3]), sd)));
}, 1 / P);

clearParamStore();
const t0 = performance.now();
const svi = new SVI(model, guide, tf.train.adam(0.05), new TraceMeanFieldELBO());
for (let i = 0; i < 1000; i++) svi.step(x, y);
const svi2 = new SVI(model, guide, tf.train.adam(0.005), new TraceMeanFieldELBO());
const avgLoc = [0, 0, 0];
const avgSd = [0, 0, 0];
for (let i = 0; i < 1000; i++) {
  svi2.step(x, y);
  const l = getParamStore().value('w_loc');
  const s = getParamStore().value('w_scale');
  l.dataSync().forEach((v, j) => (avgLoc[j] = avgLoc[j]! + v / 1000));
  s.dataSync().forEach((v, j) => (avgSd[j] = avgSd[j]! + v / 1000));
  tf.dispose([l, s]);
}
console.log(
  `SVI: 2000 steps in ${((performance.now() - t0) / 1000).toFixed(1)} s; final -ELBO ${svi2.evaluateLoss(x, y).toFixed(2)}`,
);
const f = (v: number): string => v.toFixed(4).padStart(9);
console.log('weight   true    closed-form mean   SVI loc   | exact sd  mean-field sd   SVI scale');
['w1', 'w2', 'bias'].forEach((name, j) => {
  console.log(
    `${name.padEnd(5)} ${f(wTrue[j]!)} ${f(mean[j]!)}        ${f(avgLoc[j]!)} | ${f(exactSd[j]!)} ${f(mfSd[j]!)}      ${f(avgSd[j]!)}`,
  );
});
const relLoc = Math.max(...avgLoc.map((v, j) => Math.abs(v - mean[j]!) / Math.abs(mean[j]!)));
const relSd = Math.max(...avgSd.map((v, j) => Math.abs(v - mfSd[j]!) / mfSd[j]!));
console.log(
  `max relative error: loc ${(100 * relLoc).toFixed(2)}%, scale vs mean-field optimum ${(100 * relSd).toFixed(2)}%`,
);
tf.dispose([x, y]);
