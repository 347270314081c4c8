/**
 * Audit 17 (laplace-torch parity): `optimizePriorPrecision({ method: 'gridsearch' })` with
 * `predType: 'nn'` (the network run with sampled weights, laplace-torch's `pred_type='nn'`) and
 * `'glm'`, and `nnSampleOutputs`. References computed here: the network run in float64 with the
 * draws of `sample()` (same seed), the probit formula on `glmPredictive`, the Gaussian NLL.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput } from '../helpers.js';

const { lastLayerLaplace, allLayersLaplace } = toolbox;

const D = 2;
const H = 4;
const K = 3;

function rand(n: number, rng: () => number, scale = 1): number[] {
  return Array.from({ length: n }, () => scale * (2 * rng() - 1));
}

function mlp(seed: number, k: number) {
  const rng = makeRng(seed);
  const net = tf.sequential();
  net.add(tf.layers.dense({ units: H, inputShape: [D], activation: 'tanh' }));
  net.add(tf.layers.dense({ units: k }));
  const ws = [
    tf.tensor2d(rand(D * H, rng, 1.3), [D, H]),
    tf.tensor1d(rand(H, rng, 0.3)),
    tf.tensor2d(rand(H * k, rng, 1.5), [H, k]),
    tf.tensor1d(rand(k, rng, 0.3)),
  ];
  net.setWeights(ws);
  tf.dispose(ws);
  return { net, rng };
}

/** float64 forward of the MLP at flat parameters `[w1, b1, w2, b2]`. */
function forward(theta: ArrayLike<number>, x: number[], k: number): number[] {
  const w1 = (i: number, j: number) => theta[i * H + j] as number;
  const b1 = (j: number) => theta[D * H + j] as number;
  const o = D * H + H;
  const h = Array.from({ length: H }, (_, j) => {
    let s = b1(j);
    for (let i = 0; i < D; i++) s += x[i]! * w1(i, j);
    return Math.tanh(s);
  });
  return Array.from({ length: k }, (_, c) => {
    let s = theta[o + H * k + c] as number;
    for (let j = 0; j < H; j++) s += h[j]! * (theta[o + j * k + c] as number);
    return s;
  });
}

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

async function flatWeights(net: tf.LayersModel): Promise<number[]> {
  const out: number[] = [];
  for (const w of net.getWeights()) out.push(...(await w.data()));
  return out;
}

function grid(lo: number, hi: number, g: number): number[] {
  return Array.from({ length: g }, (_, i) => 10 ** (lo + (i * (hi - lo)) / (g - 1)));
}

describe('audit17 Laplace: gridsearch prior precision and the nn predictive', () => {
  it("last layer: nnSampleOutputs = the network run with sample()'s draws; weights restored", async () => {
    const { net, rng } = mlp(1, K);
    const xs = Array.from({ length: 10 }, () => rand(D, rng, 1.5));
    const ys = xs.map((_, i) => i % K);
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(net, x, ys, { hessianStructure: 'full', priorPrecision: 2 });
    const w0 = await flatWeights(net);
    const S = 5;
    const draws = la.sample(S, 42).arraySync();
    const before = tf.memory().numTensors;
    const f = la.nnSampleOutputs(x, S, 42);
    const fv = f.arraySync();
    f.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(await flatWeights(net)).toEqual(w0);
    const first = w0.slice(0, D * H + H);
    for (let s = 0; s < S; s++)
      for (let n = 0; n < xs.length; n += 3) {
        const z = forward([...first, ...draws[s]!], xs[n]!, K);
        for (let c = 0; c < K; c++) expect(fv[s]![n]![c]).toBeCloseTo(z[c]!, 4);
      }
    // a last layer is linear in its weights: nn samples = GLM samples of the same draws' mean
    const g = la.sampleOutputs(x, 400, 3);
    const nn = la.nnSampleOutputs(x, 400, 3);
    const gm = tf.mean(g, 0).arraySync() as number[][];
    const nm = tf.mean(nn, 0).arraySync() as number[][];
    tf.dispose([g, nn]);
    const mapOut = (net.predict(x) as tf.Tensor).arraySync() as number[][];
    // both means estimate f(x; theta*): SE of a mean of 400 draws with var <= 1/2 is < 0.04
    for (let n = 0; n < xs.length; n++)
      for (let c = 0; c < K; c++) {
        expect(Math.abs(gm[n]![c]! - mapOut[n]![c]!)).toBeLessThan(0.2);
        expect(Math.abs(nm[n]![c]! - mapOut[n]![c]!)).toBeLessThan(0.2);
      }
    x.dispose();
  });

  it("gridsearch predType 'nn' picks the grid point of lowest validation NLL computed independently", async () => {
    const { net, rng } = mlp(2, K);
    const xs = Array.from({ length: 12 }, () => rand(D, rng, 1.5));
    const ys = xs.map((x) => (x[0]! > 0.3 ? 0 : x[1]! > 0 ? 1 : 2));
    const xv = Array.from({ length: 9 }, () => rand(D, rng, 1.5));
    const yv = xv.map((x, i) =>
      i % 4 === 0 ? (x[0]! > 0.3 ? 1 : 0) : x[0]! > 0.3 ? 0 : x[1]! > 0 ? 1 : 2,
    );
    const x = tf.tensor2d(xs);
    const xVal = tf.tensor2d(xv);
    const w0 = await flatWeights(net);
    for (const kind of ['last', 'all'] as const) {
      const la =
        kind === 'last'
          ? lastLayerLaplace(net, x, ys, { hessianStructure: 'kron' })
          : allLayersLaplace(net, x, ys, { hessianStructure: 'diag' });
      const S = 16;
      const seed = 9;
      const g = grid(-2, 3, 11);
      const nlls = g.map((d) => {
        la.priorPrecision = d;
        const draws = la.sample(S, seed).arraySync();
        let nll = 0;
        xv.forEach((xx, n) => {
          let p = 0;
          for (const th of draws) {
            const theta = kind === 'last' ? [...w0.slice(0, D * H + H), ...th] : th;
            p += softmax(forward(theta, xx, K))[yv[n]!]! / S;
          }
          nll -= Math.log(p);
        });
        return nll / xv.length;
      });
      const spread = Math.max(...nlls) - Math.min(...nlls);
      expect(spread).toBeGreaterThan(1e-3); // the grid matters here
      const best = g[nlls.indexOf(Math.min(...nlls))]!;
      la.priorPrecision = 0.123;
      const before = tf.memory().numTensors;
      const d = la.optimizePriorPrecision({
        method: 'gridsearch',
        predType: 'nn',
        link: 'mc',
        xVal,
        yVal: yv,
        numSamples: S,
        seed,
        gridSize: 11,
        logPriorPrecMin: -2,
        logPriorPrecMax: 3,
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(d).toBeCloseTo(best, 10);
      expect(la.priorPrecision).toBe(d);
      expect(await flatWeights(net)).toEqual(w0);
    }
    tf.dispose([x, xVal]);
  });

  it("gridsearch predType 'glm' (probit; regression Gaussian NLL) picks the independent argmin", () => {
    const { net, rng } = mlp(3, K);
    const xs = Array.from({ length: 12 }, () => rand(D, rng, 1.5));
    const ys = xs.map((x) => (x[0]! > 0 ? 0 : x[1]! > 0 ? 1 : 2));
    const xv = Array.from({ length: 8 }, () => rand(D, rng, 1.5));
    const yv = xv.map((_, i) => i % K);
    const x = tf.tensor2d(xs);
    const xVal = tf.tensor2d(xv);
    const la = lastLayerLaplace(net, x, ys, { hessianStructure: 'full' });
    const g = grid(-3, 2, 9);
    const nlls = g.map((d) => {
      la.priorPrecision = d;
      const { mean, cov } = la.glmPredictive(xVal);
      const mu = mean.arraySync();
      const cv = cov.arraySync();
      tf.dispose([mean, cov]);
      let s = 0;
      mu.forEach((m, n) => {
        const p = softmax(m.map((v, c) => v / Math.sqrt(1 + (Math.PI / 8) * cv[n]![c]![c]!)));
        s -= Math.log(p[yv[n]!]!);
      });
      return s / xv.length;
    });
    expect(Math.max(...nlls) - Math.min(...nlls)).toBeGreaterThan(1e-3);
    const d = la.optimizePriorPrecision({
      method: 'gridsearch',
      xVal,
      yVal: yv,
      gridSize: 9,
      logPriorPrecMin: -3,
      logPriorPrecMax: 2,
    });
    expect(d).toBeCloseTo(g[nlls.indexOf(Math.min(...nlls))]!, 10);

    // regression: -mean log N(y; mu, var + sigma^2) over the grid
    const { net: reg } = mlp(4, 1);
    const yr = xs.map((x) => Math.sin(x[0]!) + 0.3 * x[1]!);
    const yvr = xv.map((x) => Math.sin(x[0]!) + 0.3 * x[1]!);
    const sigma = 0.3;
    const lr = allLayersLaplace(reg, x, yr, { likelihood: 'regression', sigmaNoise: sigma });
    const gr = grid(-2, 2, 7);
    const rn = gr.map((dd) => {
      lr.priorPrecision = dd;
      const { mean, cov } = lr.glmPredictive(xVal);
      const mu = mean.dataSync();
      const cv = cov.dataSync();
      tf.dispose([mean, cov]);
      let s = 0;
      yvr.forEach((y, n) => {
        const v = cv[n]! + sigma * sigma;
        s += 0.5 * (Math.log(2 * Math.PI * v) + (y - mu[n]!) ** 2 / v);
      });
      return s / yvr.length;
    });
    expect(Math.max(...rn) - Math.min(...rn)).toBeGreaterThan(1e-3);
    const dr = lr.optimizePriorPrecision({
      method: 'gridsearch',
      xVal,
      yVal: yvr,
      gridSize: 7,
      logPriorPrecMin: -2,
      logPriorPrecMax: 2,
    });
    expect(dr).toBeCloseTo(gr[rn.indexOf(Math.min(...rn))]!, 10);
    tf.dispose([x, xVal]);
  });

  it('gridsearch bad inputs are refused by name before any work', async () => {
    const { net, rng } = mlp(5, K);
    const xs = Array.from({ length: 6 }, () => rand(D, rng));
    const x = tf.tensor2d(xs);
    const la = lastLayerLaplace(net, x, [0, 1, 2, 0, 1, 2], { hessianStructure: 'diag' });
    la.priorPrecision = 0.7;
    const wrong = tf.zeros([6, 3]);
    const gs = { method: 'gridsearch' as const, xVal: x, yVal: [0, 1, 2, 0, 1, 2] };
    const cases: [string, string, () => unknown][] = [
      ['no yVal', 'yVal', () => la.optimizePriorPrecision({ method: 'gridsearch', xVal: x })],
      [
        'bad predType',
        'predType',
        () => la.optimizePriorPrecision({ ...gs, predType: 'x' as never }),
      ],
      ['bad link', 'link', () => la.optimizePriorPrecision({ ...gs, link: 'logit' as never })],
      ['gridSize 0', 'gridSize', () => la.optimizePriorPrecision({ ...gs, gridSize: 0 })],
      ['numSamples 1.5', 'numSamples', () => la.optimizePriorPrecision({ ...gs, numSamples: 1.5 })],
      [
        'max < min',
        'logPriorPrecMax',
        () => la.optimizePriorPrecision({ ...gs, logPriorPrecMin: 2, logPriorPrecMax: 1 }),
      ],
      [
        'NaN min',
        'logPriorPrecMin',
        () => la.optimizePriorPrecision({ ...gs, logPriorPrecMin: Number.NaN }),
      ],
      [
        'label out of range',
        'yVal',
        () => la.optimizePriorPrecision({ ...gs, yVal: [0, 1, 2, 0, 1, 3] }),
      ],
      ['wrong xVal shape', 'xVal', () => la.optimizePriorPrecision({ ...gs, xVal: wrong })],
      [
        'layerwise gridsearch',
        'priorStructure',
        () => la.optimizePriorPrecision({ ...gs, priorStructure: 'layerwise' }),
      ],
      ['marglik with xVal', 'xVal', () => la.optimizePriorPrecision({ xVal: x })],
      ['bad method', 'method', () => la.optimizePriorPrecision({ method: 'cv' as never })],
      [
        'unknown key',
        /optimizePriorPrecision|valLoader/,
        () => la.optimizePriorPrecision({ valLoader: 1 } as never),
      ],
    ] as never;
    for (const [call, arg, run] of cases) await expectBadInput({ call, arg, run });
    expect(la.priorPrecision).toBe(0.7);
    tf.dispose([x, wrong]);
  });
});
