/**
 * Audit (issue 17): deep ensembles of models with different heads (logits, a fused softmax, a
 * trailing Softmax layer) against their softmaxes computed in float64; members with different class
 * counts; the temperature of an MC predictive recovered from labels drawn at a known temperature;
 * the all-layers GLM MC predictive of a classifier against Monte Carlo of the linearised network
 * drawn in float64 (FD Jacobians of a JS copy of the network).
 */
import * as tf from '@tensorflow/tfjs';
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

const { ensemblePredictor, fitMixtureTemperature, allLayersLaplace } = toolbox;

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function member(kind: 'logits' | 'fused' | 'layer', seed: number, k = 4): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      units: k,
      inputShape: [3],
      activation: kind === 'fused' ? 'softmax' : 'linear',
      kernelInitializer: tf.initializers.randomNormal({ stddev: 1.5, seed }),
      biasInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: seed + 1 }),
    }),
  );
  if (kind === 'layer') m.add(tf.layers.softmax());
  return m;
}

/** Host logits of a one-Dense member. */
function logitsOf(m: tf.LayersModel, x: number[][]): number[][] {
  const [w, b] = m.layers[0]!.getWeights().map((t) => t.arraySync()) as [number[][], number[]];
  return x.map((row) => b.map((bc, c) => row.reduce((s, v, d) => s + v * w[d]![c]!, bc)));
}

describe('audit15 deep ensembles', () => {
  it('members with logits / a fused softmax / a Softmax layer: sample s = softmax of member s (float64)', () => {
    const ms = [member('logits', 1), member('fused', 2), member('layer', 3)];
    const xs = [
      [0.1, -0.5, 2],
      [1, 1, -1],
      [0, 0, 0],
    ];
    const x = tf.tensor2d(xs);
    const pred = ensemblePredictor(ms);
    let got: number[][][] = [];
    expectNoLeak(() => {
      const s = pred.predictSamples(x, 3);
      expect(s.shape).toEqual([3, 3, 4]);
      got = s.arraySync() as number[][][];
      return s;
    });
    ms.forEach((m, s) => {
      logitsOf(m, xs).forEach((z, n) => {
        const p = softmax(z);
        for (let c = 0; c < 4; c++) expect(got[s]![n]![c]!).toBeCloseTo(p[c]!, 5);
      });
    });
    // the ensemble's predictive and its mutual information from the samples
    const st = tf.tensor3d(got);
    const mi = expectNoLeak(() => toolbox.mutualInformation(st));
    st.dispose();
    xs.forEach((_, n) => {
      const ps = got.map((g) => g[n]!);
      const mean = [0, 1, 2, 3].map((c) => ps.reduce((a, p) => a + p[c]!, 0) / 3);
      const H = (p: number[]): number => -p.reduce((a, v) => a + (v > 0 ? v * Math.log(v) : 0), 0);
      const want = H(mean) - ps.reduce((a, p) => a + H(p), 0) / 3;
      expect(mi[n]!).toBeCloseTo(want, 4);
    });
    x.dispose();
    ms.forEach((m) => m.dispose());
  });

  it('refuses members of different class counts, more samples than members, a wrong input, naming them', async () => {
    const a = member('logits', 5, 4);
    const b = member('logits', 6, 3);
    const x = tf.zeros([2, 3]);
    const x4 = tf.zeros([2, 4]);
    const cases = [
      {
        call: 'class counts 4 and 3',
        run: () => ensemblePredictor([a, b]).predictSamples(x, 2),
        arg: /members|model|predict/,
      },
      {
        call: 'more samples than members',
        run: () => ensemblePredictor([a, a]).predictSamples(x, 3),
        arg: 'numSamples',
      },
      {
        call: 'wrong input width',
        run: () => ensemblePredictor([a]).predictSamples(x4, 1),
        arg: 'x',
      },
      { call: 'no members', run: () => ensemblePredictor([]), arg: /members/ },
    ];
    for (const c of cases) {
      try {
        await expectBadInput(c);
      } catch (e) {
        throw new Error(`${c.call}: ${(e as Error).message}`, { cause: e });
      }
    }
    tf.dispose([x, x4]);
    a.dispose();
    b.dispose();
  });
});

describe('audit15 temperature of an MC predictive', () => {
  it('recovers T0 = 2 from labels drawn from mean_s softmax(z_s / T0); NLL after = float64 value', () => {
    const r = makeRng(17);
    const S = 4;
    const N = 2500;
    const K = 4;
    const z: number[][][] = Array.from({ length: S }, () => []);
    const labels: number[] = [];
    const t0 = 2;
    for (let n = 0; n < N; n++) {
      const base = Array.from({ length: K }, () => 5 * (r() - 0.5));
      const ps: number[][] = [];
      for (let s = 0; s < S; s++) {
        const zs = base.map((v) => v + 1.5 * (r() - 0.5));
        z[s]!.push(zs);
        ps.push(softmax(zs.map((v) => v / t0)));
      }
      const mean = [0, 1, 2, 3].map((c) => ps.reduce((a, p) => a + p[c]!, 0) / S);
      let u = r();
      let y = K - 1;
      for (let c = 0; c < K; c++) {
        u -= mean[c]!;
        if (u < 0) {
          y = c;
          break;
        }
      }
      labels.push(y);
    }
    const zt = tf.tensor3d(z);
    const before = tf.memory().numTensors;
    const fit = fitMixtureTemperature(zt, labels);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(fit.temperature / t0 - 1)).toBeLessThan(0.15);
    const nllAt = (t: number): number => {
      let s = 0;
      for (let n = 0; n < N; n++) {
        let p = 0;
        for (let k = 0; k < S; k++) p += softmax(z[k]![n]!.map((v) => v / t))[labels[n]!]! / S;
        s -= Math.log(p);
      }
      return s / N;
    };
    expect(fit.nllAfter).toBeCloseTo(nllAt(fit.temperature), 4);
    expect(fit.nllBefore).toBeCloseTo(nllAt(1), 4);
    expect(nllAt(fit.temperature * 1.05)).toBeGreaterThan(fit.nllAfter - 1e-9);
    expect(nllAt(fit.temperature / 1.05)).toBeGreaterThan(fit.nllAfter - 1e-9);
    zt.dispose();
  });
});

describe('audit15 all-layers GLM MC predictive of a classifier', () => {
  it('equals Monte Carlo of the linearised network drawn in float64 (kron and diag, 5 SE)', () => {
    const d = 2;
    const h = 3;
    const k = 3;
    const r = makeRng(23);
    const theta = Array.from({ length: d * h + h + h * k + k }, () => 1.5 * (r() - 0.5));
    const f = (t: number[], x: number[]): number[] => {
      const o = d * h + h;
      const a = Array.from({ length: h }, (_, j) =>
        Math.tanh(x.reduce((s, v, i) => s + v * t[i * h + j]!, t[d * h + j]!)),
      );
      return Array.from({ length: k }, (_, c) =>
        a.reduce((s, v, j) => s + v * t[o + j * k + c]!, t[o + h * k + c]!),
      );
    };
    const net = tf.sequential();
    net.add(tf.layers.dense({ units: h, activation: 'tanh', inputShape: [d] }));
    net.add(tf.layers.dense({ units: k }));
    const o = d * h + h;
    net.layers[0]!.setWeights([
      tf.tensor2d(theta.slice(0, d * h), [d, h]),
      tf.tensor1d(theta.slice(d * h, o)),
    ]);
    net.layers[1]!.setWeights([
      tf.tensor2d(theta.slice(o, o + h * k), [h, k]),
      tf.tensor1d(theta.slice(o + h * k)),
    ]);
    const xs = Array.from({ length: 30 }, () => [2 * r() - 1, 2 * r() - 1]);
    const ys = xs.map((_, i) => i % k);
    const x = tf.tensor2d(xs);
    const xt = [[0.4, -0.8]];
    const xtT = tf.tensor2d(xt);
    const eps = 1e-6;
    const J = Array.from({ length: k }, () => new Array<number>(theta.length).fill(0));
    for (let i = 0; i < theta.length; i++) {
      const tp = [...theta];
      const tm = [...theta];
      tp[i] = tp[i]! + eps;
      tm[i] = tm[i]! - eps;
      const fp = f(tp, xt[0]!);
      const fm = f(tm, xt[0]!);
      for (let c = 0; c < k; c++) J[c]![i] = (fp[c]! - fm[c]!) / (2 * eps);
    }
    const mu = f(theta, xt[0]!);
    for (const structure of ['kron', 'diag'] as const) {
      const la = allLayersLaplace(net, x, ys, { hessianStructure: structure, priorPrecision: 2 });
      const blocks = [
        [0, o],
        [o, theta.length],
      ] as const;
      const chol = blocks.map(([s, e], l) => {
        const m = e - s;
        const c = la.denseBlock(l, 'covariance');
        return new CholeskyDecomposition(
          new Matrix(Array.from({ length: m }, (_, i) => Array.from(c.slice(i * m, (i + 1) * m)))),
        ).lowerTriangularMatrix;
      });
      const S = 3000;
      const g = makeRng(structure === 'kron' ? 1 : 2);
      const gauss = (): number => Math.sqrt(-2 * Math.log(1 - g())) * Math.cos(2 * Math.PI * g());
      const sum = new Array<number>(k).fill(0);
      const sq = new Array<number>(k).fill(0);
      for (let s = 0; s < S; s++) {
        const dev = new Array<number>(theta.length).fill(0);
        blocks.forEach(([b0, e], l) => {
          const m = e - b0;
          const z = Array.from({ length: m }, gauss);
          for (let i = 0; i < m; i++) {
            let v = 0;
            for (let j = 0; j <= i; j++) v += chol[l]!.get(i, j) * z[j]!;
            dev[b0 + i] = v;
          }
        });
        const lin = mu.map((m, c) => m + J[c]!.reduce((a, jv, i) => a + jv * dev[i]!, 0));
        const p = softmax(lin);
        for (let c = 0; c < k; c++) {
          sum[c]! += p[c]!;
          sq[c]! += p[c]! ** 2;
        }
      }
      const mc = expectNoLeak(() => la.predictProbs(xtT, { link: 'mc', numSamples: S, seed: 3 }));
      for (let c = 0; c < k; c++) {
        const m = sum[c]! / S;
        const se = Math.sqrt(Math.max(sq[c]! / S - m * m, 1e-12) / S);
        expect(Math.abs(mc[c]! - m), `${structure} class ${c}`).toBeLessThan(
          5 * Math.SQRT2 * se + 1e-4,
        );
      }
    }
    tf.dispose([x, xtT]);
    net.dispose();
  });
});
