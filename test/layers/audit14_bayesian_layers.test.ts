/**
 * Audit (session 14) of the Bayesian layers and loss cells as a user who read only the docs would
 * probe them: every Dense/Conv estimator on shapes off the seed path (rank-3 dense input,
 * non-square RGB images, strides, valid padding, batch size 1), mean-mode output against float64,
 * output moments by Monte Carlo, the KL against the closed form from the layer's own posterior,
 * gradients against finite differences with the noise fixed by the seed, WithBNNLoss/ELBOLoss with
 * every `klWeight` form, `model.fit` on a tiny regression, save/load, and bad options.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { layers, setSeed, clearSeed } from '../../src/index.js';
import { expectBadInput, expectNoLeak, saveAndLoad, type BadInputCase } from '../helpers.js';
import { refConv2d } from './reference.js';

afterAll(() => clearSeed());

const flat = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const klNormal = (m: number, s: number, pm: number, ps: number): number =>
  Math.log(ps / s) + (s * s + (m - pm) ** 2) / (2 * ps * ps) - 0.5;

type Est = 'reparam' | 'local' | 'flipout';
const ESTS: Est[] = ['reparam', 'local', 'flipout'];
const dense = (e: Est, a: Record<string, unknown>): layers.BayesianLayer =>
  e === 'reparam'
    ? layers.denseReparam(a as never)
    : e === 'local'
      ? layers.denseLocalReparam(a as never)
      : layers.denseFlipout(a as never);
const conv = (e: Est, a: Record<string, unknown>): layers.BayesianLayer =>
  e === 'reparam'
    ? layers.convReparam(a as never)
    : e === 'local'
      ? layers.convLocalReparam(a as never)
      : layers.convFlipout(a as never);

/** float64 `x @ K + b` over the last axis of rows. */
function denseRef(x: number[], inF: number, k: number[], b: number[] | null, sq = false): number[] {
  const out = k.length / inF;
  const n = x.length / inF;
  const y: number[] = [];
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < out; j++) {
      let s = b === null ? 0 : (b[j] as number);
      for (let i = 0; i < inF; i++) {
        const xv = x[r * inF + i] as number;
        s += (sq ? xv * xv : xv) * (k[i * out + j] as number);
      }
      y.push(s);
    }
  }
  return y;
}

describe('forward shapes and mean-mode outputs off the seed path', () => {
  for (const e of ESTS) {
    it(`${e} Dense on a rank-3 input [2, 3, 5] and on a batch of 1`, () => {
      setSeed(1);
      const l = dense(e, { units: 4, priorSigma: 0.3 });
      const x = tf.randomNormal([2, 3, 5]);
      const y = l.apply(x) as tf.Tensor;
      expect(y.shape).toEqual([2, 3, 4]);
      y.dispose();
      const x1 = tf.randomNormal([1, 5]);
      const y1 = l.apply(x1) as tf.Tensor;
      expect(y1.shape).toEqual([1, 4]);
      y1.dispose();
      // mean mode: x mu + b in float64
      layers.setMode(l, 'mean');
      const p = l.getPosterior();
      const ref = denseRef(flat(x), 5, flat(p.kernelMu), flat(p.biasMu!));
      const ym = l.apply(x) as tf.Tensor;
      expect(ym).toBeAllclose(ref, { rtol: 1e-5, atol: 1e-5 });
      tf.dispose([ym, x, x1, p.kernelMu, p.kernelSigma, p.biasMu!, p.biasSigma!]);
      l.dispose();
    });

    it(`${e} Conv on non-square RGB images [2, 5, 7, 3], stride 2, valid, kernel [2, 3]`, () => {
      setSeed(2);
      const l = conv(e, {
        filters: 4,
        kernelSize: [2, 3],
        strides: 2,
        padding: 'valid',
        priorSigma: 0.2,
      });
      const x = tf.randomUniform([2, 5, 7, 3]);
      const y = l.apply(x) as tf.Tensor;
      expect(y.shape).toEqual([2, 2, 3, 4]);
      y.dispose();
      const ys = l.apply(tf.slice(x, [0], [1])) as tf.Tensor;
      expect(ys.shape).toEqual([1, 2, 3, 4]);
      ys.dispose();
      layers.setMode(l, 'mean');
      const p = l.getPosterior();
      const ref = refConv2d(
        { data: flat(x), shape: [2, 5, 7, 3] },
        { data: flat(p.kernelMu), shape: p.kernelMu.shape },
        { stride: [2, 2], padMode: 'valid' },
      ).data.map((v, i) => v + (flat(p.biasMu!)[i % 4] as number));
      const ym = l.apply(x) as tf.Tensor;
      expect(ym).toBeAllclose(ref, { rtol: 1e-4, atol: 1e-5 });
      tf.dispose([ym, x, p.kernelMu, p.kernelSigma, p.biasMu!, p.biasSigma!]);
      l.dispose();
    });
  }

  it('same padding on a non-square input gives ceil(H/s) x ceil(W/s) for every estimator', () => {
    for (const e of ESTS) {
      const l = conv(e, { filters: 2, kernelSize: 3, strides: [2, 3], padding: 'same' });
      tf.dispose(l.apply(tf.ones([1, 7, 8, 2])) as tf.Tensor); // builds the weights
      const y = expectNoLeak(() =>
        tf.tidy(() => tf.tensor1d((l.apply(tf.ones([1, 7, 8, 2])) as tf.Tensor).shape)),
      );
      expect(y).toEqual([1, 4, 3, 2]);
      l.dispose();
    }
  });
});

describe('output moments of every estimator (Monte Carlo within 5 SE)', () => {
  for (const e of ESTS) {
    it(`${e} Dense: E[y] = x mu + mu_b, Var[y] = x^2 sigma^2 + sigma_b^2`, () => {
      setSeed(3);
      // the bias is one reparameterized draw per call, shared by the batch (as TFP's layers):
      // without it the rows of a batch are uncorrelated draws for local and flipout
      const l = dense(e, {
        units: 2,
        posteriorRhoInitial: [-1, 0.3],
        inputShape: [3],
        useBias: false,
      });
      const xv = [0.5, -1.5, 2];
      const x = tf.tensor2d([xv]);
      const S = 3000;
      // one example repeated in a batch: local/flipout draw per example, reparam per call
      const draws: number[][] = [];
      const batch = e === 'reparam' ? 1 : 100;
      const xb = tf.tile(x, [batch, 1]);
      for (let i = 0; i < S / batch; i++) {
        const y = tf.tidy(() => l.apply(xb) as tf.Tensor);
        const v = flat(y);
        for (let r = 0; r < batch; r++) draws.push([v[2 * r] as number, v[2 * r + 1] as number]);
        y.dispose();
      }
      const p = l.getPosterior();
      const m = denseRef(xv, 3, flat(p.kernelMu), null);
      const sk = flat(p.kernelSigma).map((s) => s * s);
      const var_ = denseRef(xv, 3, sk, null, true);
      for (let j = 0; j < 2; j++) {
        const col = draws.map((d) => d[j] as number);
        const mean = col.reduce((a, b) => a + b, 0) / col.length;
        const v = col.reduce((a, b) => a + (b - mean) ** 2, 0) / (col.length - 1);
        const se = Math.sqrt((var_[j] as number) / col.length);
        expect(Math.abs(mean - (m[j] as number))).toBeLessThan(5 * se);
        // the variance of a Normal's sample variance is 2 sigma^4 / (n - 1)
        const seV = (var_[j] as number) * Math.sqrt(2 / (col.length - 1));
        expect(Math.abs(v - (var_[j] as number))).toBeLessThan(5 * seV);
      }
      tf.dispose([x, xb, p.kernelMu, p.kernelSigma]);
      l.dispose();
    });
  }
});

describe('KL against the closed form from the layer’s own posterior', () => {
  for (const e of ESTS) {
    for (const kind of ['dense', 'conv'] as const) {
      it(`${e} ${kind}, prior N(0.3, 0.7^2), ${kind === 'conv' ? 'no bias' : 'with bias'}`, () => {
        setSeed(4);
        const l =
          kind === 'dense'
            ? dense(e, {
                units: 3,
                priorMu: 0.3,
                priorSigma: 0.7,
                posteriorRhoInitial: [-0.5, 0.4],
              })
            : conv(e, {
                filters: 2,
                kernelSize: [2, 1],
                useBias: false,
                priorMu: 0.3,
                priorSigma: 0.7,
                posteriorRhoInitial: [-0.5, 0.4],
              });
        tf.dispose(
          l.apply(kind === 'dense' ? tf.zeros([1, 4]) : tf.zeros([1, 3, 3, 2])) as tf.Tensor,
        );
        const p = l.getPosterior();
        let ref = 0;
        const acc = (mu: tf.Tensor, sd: tf.Tensor): void => {
          const s = flat(sd);
          flat(mu).forEach((m, i) => (ref += klNormal(m, s[i] as number, 0.3, 0.7)));
        };
        acc(p.kernelMu, p.kernelSigma);
        if (p.biasMu !== null) acc(p.biasMu, p.biasSigma!);
        expect(p.biasMu === null).toBe(kind === 'conv');
        const [kl] = expectNoLeak(() => l.kl());
        expect(kl).toBeAllclose(ref, { rtol: 1e-5 });
        // the model's summed KL agrees
        const [mk] = expectNoLeak(() => layers.modelKL(l));
        expect(mk).toBeAllclose(ref, { rtol: 1e-5 });
        tf.dispose([p.kernelMu, p.kernelSigma, p.biasMu ?? [], p.biasSigma ?? []].flat());
        l.dispose();
      });
    }
  }

  it('a scale-mixture prior: the Monte Carlo KL averages to E_q[log q - log p] by quadrature', () => {
    setSeed(5);
    const prior = layers.scaleMixturePrior(0.25, 1, 0.05);
    const l = layers.denseReparam({
      units: 1,
      inChannels: 1,
      useBias: false,
      prior,
      posteriorRhoInitial: [-2, 0],
    });
    tf.dispose(l.apply(tf.zeros([1, 1])) as tf.Tensor);
    const p = l.getPosterior();
    const m = flat(p.kernelMu)[0] as number;
    const s = flat(p.kernelSigma)[0] as number;
    // E_q[log q(w) - log p(w)] by the trapezoid rule on +-10 sigma
    const npdf = (w: number, mu: number, sd: number): number =>
      Math.exp(-0.5 * ((w - mu) / sd) ** 2) / (sd * Math.sqrt(2 * Math.PI));
    let ref = 0;
    const K = 20000;
    for (let i = 0; i <= K; i++) {
      const w = m - 10 * s + (20 * s * i) / K;
      const q = npdf(w, m, s);
      const pw = 0.25 * npdf(w, 0, 1) + 0.75 * npdf(w, 0, 0.05);
      ref += (i === 0 || i === K ? 0.5 : 1) * q * (Math.log(q) - Math.log(pw)) * ((20 * s) / K);
    }
    const S = 4000;
    const vals: number[] = [];
    for (let i = 0; i < S; i++) {
      const k = l.kl();
      vals.push(k.dataSync()[0] as number);
      k.dispose();
    }
    const mean = vals.reduce((a, b) => a + b, 0) / S;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / (S - 1));
    expect(Math.abs(mean - ref)).toBeLessThan(5 * (sd / Math.sqrt(S)) + 1e-6);
    tf.dispose([p.kernelMu, p.kernelSigma]);
    l.dispose();
  });
});

describe('gradients against central finite differences (noise fixed by setSeed)', () => {
  for (const e of ESTS) {
    for (const kind of ['dense', 'conv'] as const) {
      it(`${e} ${kind}: d/d(mu, rho, bias) of sum(c * y) + KL`, () => {
        setSeed(6);
        const l =
          kind === 'dense'
            ? dense(e, { units: 2, posteriorRhoInitial: [-1, 0.3], priorSigma: 0.5 })
            : conv(e, {
                filters: 2,
                kernelSize: 2,
                strides: 1,
                padding: 'valid',
                posteriorRhoInitial: [-1, 0.3],
                priorSigma: 0.5,
              });
        const x =
          kind === 'dense'
            ? tf.tensor2d([
                [0.3, -0.8, 1.1],
                [1, 0.5, -0.2],
              ])
            : tf.randomNormal([2, 3, 4, 2]);
        tf.dispose(l.apply(x) as tf.Tensor);
        const c = tf.tidy(() => tf.randomNormal((l.apply(x) as tf.Tensor).shape));
        const f = (): tf.Scalar => {
          setSeed(77);
          return tf.tidy(
            () => tf.add(tf.sum(tf.mul(c, l.apply(x) as tf.Tensor)), l.kl()) as tf.Scalar,
          );
        };
        const vars = l.trainableWeights.map((w) => w.read() as tf.Variable);
        expect(vars.length).toBe(4); // kernel mu, rho; bias mu, rho
        const { grads } = tf.variableGrads(f, vars);
        for (const v of vars) {
          const g = flat(grads[v.name]!);
          const base = flat(v);
          for (const i of [0, base.length - 1]) {
            const at = (d: number): number => {
              const b = base.slice();
              b[i] = (b[i] as number) + d;
              v.assign(tf.tensor(b, v.shape));
              return tf.tidy(() => f().dataSync()[0] as number);
            };
            const h = 1e-2;
            const fd = (at(h) - at(-h)) / (2 * h);
            v.assign(tf.tensor(base, v.shape));
            expect(Math.abs((g[i] as number) - fd), `${v.name}[${i}]`).toBeLessThan(
              3e-3 + 2e-2 * Math.abs(fd),
            );
          }
        }
        tf.dispose([...Object.values(grads), x, c]);
        l.dispose();
      });
    }
  }
});

describe('loss cells with every klWeight form', () => {
  const model = (): tf.Sequential =>
    tf.sequential({
      layers: [
        layers.denseFlipout({ inputShape: [3], units: 4, activation: 'relu' }),
        layers.denseReparam({ units: 3 }),
      ],
    });
  it('WithBNNLoss: loss = dnnFactor * NLL + bnnFactor * KL for several factors', () => {
    setSeed(7);
    const m = model();
    const x = tf.randomNormal([5, 3]);
    const y = tf.tensor1d([0, 1, 2, 1, 0], 'int32');
    for (const [d, b] of [
      [1, 1],
      [60000, 1e-6],
      [0.5, 0],
      [0, 2],
    ] as const) {
      const cell = new layers.WithBNNLoss(m, 'softmaxCrossEntropy', d, b);
      const vals = expectNoLeak(() =>
        tf.tidy(() => {
          const t = cell.compute(x, y);
          return tf.stack([t.loss, t.nll, t.kl]);
        }),
      );
      const [loss, nll, kl] = vals as [number, number, number];
      expect(loss).toBeCloseTo(d * nll + b * kl, 2);
      expect(kl).toBeGreaterThan(0);
    }
    tf.dispose([x, y]);
    layers.disposeModel(m);
  });

  it('ELBOLoss: loss = NLL + beta * KL / N with beta from a number, each schedule name, a function', () => {
    setSeed(8);
    const m = model();
    const x = tf.randomNormal([4, 3]);
    const y = tf.tensor1d([0, 1, 2, 1], 'int32');
    const N = 40;
    const ctx = { step: 2, epoch: 3, numBatches: 10, numEpochs: 8 };
    const cases: [layers.KLScheduleSpec, number][] = [
      [0.25, 0.25],
      ['0.5' as never, 0.5],
      ['constant', 1],
      ['blundell', Math.pow(2, 10 - 3) / (Math.pow(2, 10) - 1)],
      ['uniform', 1 / 10],
      ['standard', 1 / 10],
      ['soenderby', Math.min(1, 3 / Math.floor(8 / 4))],
      [(c: layers.KLScheduleContext) => c.step / 100, 0.02],
    ];
    for (const [spec, beta] of cases) {
      const cell = new layers.ELBOLoss(m, { datasetSize: N, klWeight: spec });
      expect(cell.klWeight(4, ctx)).toBeCloseTo(beta, 12);
      const [loss, nll, kl] = expectNoLeak(() =>
        tf.tidy(() => {
          const t = cell.compute(x, y, ctx);
          return tf.stack([t.loss, t.nll, t.kl]);
        }),
      ) as [number, number, number];
      expect(loss).toBeCloseTo(nll + (beta * kl) / N, 3);
    }
    // Sønderby with an explicit warm-up inside the first epochs, per step
    const s = layers.soenderbyKL({ warmupEpochs: 4, perStep: true });
    expect(s({ step: 5, epoch: 1, numBatches: 10 })).toBeCloseTo(1.5 / 4, 12);
    // Blundell's weights sum to 1 over an epoch
    const bl = layers.blundellKL();
    let sum = 0;
    for (let i = 0; i < 7; i++) sum += bl({ step: i, epoch: 0, numBatches: 7 });
    expect(sum).toBeCloseTo(1, 12);
    tf.dispose([x, y]);
    layers.disposeModel(m);
  });

  it('trainStep lowers the ELBO on a tiny classification set; no tensor left per step', () => {
    setSeed(9);
    const m = model();
    const x = tf.randomNormal([32, 3]);
    const y = tf.tidy(() =>
      tf.cast(
        tf.argMax(
          tf.matMul(
            x,
            tf.tensor2d([
              [1, 0, -1],
              [0, 1, 1],
              [1, -1, 0],
            ]),
          ),
          1,
        ),
        'int32',
      ),
    );
    const cell = new layers.ELBOLoss(m, { datasetSize: 32, klWeight: 'blundell', numBatches: 1 });
    const opt = tf.train.adam(0.05);
    const step = (): number => {
      const r = cell.trainStep(opt, x, y, { step: 0, epoch: 0, numBatches: 1 });
      const v = r.loss.dataSync()[0] as number;
      tf.dispose([r.loss, r.nll, r.kl]);
      return v;
    };
    const first = step();
    const n0 = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 60; i++) last = step();
    expect(tf.memory().numTensors).toBe(n0);
    expect(last).toBeLessThan(first * 0.8);
    tf.dispose([x, y]);
    layers.disposeModel(m);
  });
});

describe('model.fit, prediction and save/load', () => {
  it('a Bayesian regression fitted with compileBayesian: loss falls, MC predictions vary, mean mode is fixed, save/load keeps it', async () => {
    setSeed(10);
    const m = tf.sequential({
      layers: [
        layers.denseLocalReparam({ inputShape: [1], units: 8, activation: 'tanh', priorSigma: 1 }),
        layers.denseFlipout({ units: 1, priorSigma: 1 }),
      ],
    });
    layers.compileBayesian(m, {
      datasetSize: 64,
      optimizer: tf.train.adam(0.03),
      loss: 'meanSquaredError',
    });
    const xs = tf.linspace(-1, 1, 64).reshape([64, 1]);
    const ys = tf.tidy(() => tf.mul(xs, 2).add(0.5));
    const h = await m.fit(xs, ys, { epochs: 30, batchSize: 16, verbose: 0, shuffle: false });
    const losses = h.history.loss as number[];
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.5);
    const p1 = m.predict(xs) as tf.Tensor;
    const p2 = m.predict(xs) as tf.Tensor;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(p1, p2))).dataSync()[0] as number)).toBeGreaterThan(
      0,
    );
    layers.setMode(m, 'mean');
    const q1 = m.predict(xs) as tf.Tensor;
    const q2 = m.predict(xs) as tf.Tensor;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(q1, q2))).dataSync()[0] as number)).toBe(0);
    const back = await saveAndLoad(m);
    const q3 = back.predict(xs) as tf.Tensor; // the mode is saved with the model
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(q1, q3))).dataSync()[0] as number)).toBe(0);
    const [a, b] = [layers.bayesianLayers(m), layers.bayesianLayers(back)];
    expect(b.map((l) => l.getClassName())).toEqual(a.map((l) => l.getClassName()));
    a.forEach((l, i) => {
      const pa = l.getWeights();
      const pb = b[i]!.getWeights();
      pa.forEach((t, j) => expect(flat(pb[j]!)).toEqual(flat(t)));
    });
    expect(b[0]!.kl().dataSync()[0]).toBeCloseTo(a[0]!.kl().dataSync()[0] as number, 5);
    tf.dispose([xs, ys, p1, p2, q1, q2, q3]);
    layers.disposeModel(m);
    layers.disposeModel(back);
  });

  it('conv layers of every estimator with a non-default prior save and load with identical posterior and config', async () => {
    for (const e of ESTS) {
      setSeed(11);
      const m = tf.sequential({
        layers: [
          conv(e, {
            inputShape: [5, 6, 3],
            filters: 2,
            kernelSize: 3,
            priorMu: 0.1,
            priorSigma: 0.4,
            mode: 'mean',
          }),
          tf.layers.flatten(),
          dense(e, { units: 3, prior: layers.scaleMixturePrior(0.5, 1, 0.01) }),
        ],
      });
      const back = await saveAndLoad(m);
      const x = tf.randomUniform([2, 5, 6, 3]);
      layers.setMode(m, 'mean');
      layers.setMode(back, 'mean');
      const a = m.predict(x) as tf.Tensor;
      const b = back.predict(x) as tf.Tensor;
      expect(flat(b)).toEqual(flat(a));
      const la = layers.bayesianLayers(back);
      expect(la[0]!.prior).toEqual({ type: 'normal', mu: 0.1, sigma: 0.4 });
      expect(la[1]!.prior).toEqual(layers.bayesianLayers(m)[1]!.prior);
      tf.dispose([x, a, b]);
      layers.disposeModel(m);
      layers.disposeModel(back);
    }
  });
});

describe('bad options are refused naming the option', () => {
  const mk = (a: Record<string, unknown>) => (): unknown => layers.denseReparam(a as never);
  const mkc = (a: Record<string, unknown>) => (): unknown => layers.convFlipout(a as never);
  const m = tf.sequential({ layers: [layers.denseReparam({ inputShape: [2], units: 2 })] });
  const cases: BadInputCase[] = [
    { call: 'priorSigma negative', run: mk({ units: 2, priorSigma: -0.1 }), arg: 'priorSigma' },
    { call: 'priorSigma 0', run: mk({ units: 2, priorSigma: 0 }), arg: 'priorSigma' },
    { call: 'priorSigma NaN', run: mk({ units: 2, priorSigma: NaN }), arg: 'priorSigma' },
    { call: 'priorMu Infinity', run: mk({ units: 2, priorMu: Infinity }), arg: 'priorMu' },
    { call: 'units 0', run: mk({ units: 0 }), arg: /units|outChannels/ },
    { call: 'units 2.5', run: mk({ units: 2.5 }), arg: /units|outChannels/ },
    {
      call: 'posteriorRhoInitial of one number',
      run: mk({ units: 2, posteriorRhoInitial: [-3] }),
      arg: /^posteriorRhoInitial/,
    },
    {
      call: 'posteriorRhoInitial negative std',
      run: mk({ units: 2, posteriorRhoInitial: [-3, -1] }),
      arg: /^posteriorRhoInitial/,
    },
    {
      call: 'posteriorMuInitial NaN',
      run: mk({ units: 2, posteriorMuInitial: [NaN, 0.1] }),
      arg: /^posteriorMuInitial/,
    },
    { call: 'unknown key priorSigam', run: mk({ units: 2, priorSigam: 0.2 }), arg: 'priorSigam' },
    { call: "mode 'median'", run: mk({ units: 2, mode: 'median' }), arg: 'mode' },
    { call: 'klScale -1', run: mk({ units: 2, klScale: -1 }), arg: 'klScale' },
    { call: "activation 'swishh'", run: mk({ units: 2, activation: 'swishh' }), arg: 'activation' },
    { call: 'kernelSize 0', run: mkc({ filters: 2, kernelSize: 0 }), arg: 'kernelSize' },
    {
      call: 'strides 0',
      run: mkc({ filters: 2, kernelSize: 2, strides: 0 }),
      arg: /strides|stride/,
    },
    {
      call: "padding 'full'",
      run: mkc({ filters: 2, kernelSize: 2, padding: 'full' }),
      arg: /padding|padMode/,
    },
    { call: 'filters -1', run: mkc({ filters: -1, kernelSize: 2 }), arg: /filters|outChannels/ },
    {
      call: 'scaleMixturePrior pi 1.5',
      run: () => layers.scaleMixturePrior(1.5, 1, 0.1),
      arg: /(^|\.)pi$/,
    },
    {
      call: 'scaleMixturePrior sigma2 0',
      run: () => layers.scaleMixturePrior(0.5, 1, 0),
      arg: /(^|\.)sigma2$/,
    },
    { call: 'normalPrior sigma -1', run: () => layers.normalPrior(0, -1), arg: /(^|\.)sigma$/ },
    {
      call: 'ELBOLoss datasetSize 0',
      run: () => new layers.ELBOLoss(m, { datasetSize: 0 }),
      arg: 'datasetSize',
    },
    {
      call: 'ELBOLoss klWeight -1',
      run: () => new layers.ELBOLoss(m, { datasetSize: 5, klWeight: -1 }),
      arg: 'klWeight',
    },
    {
      call: "ELBOLoss klWeight 'blundel'",
      run: () => new layers.ELBOLoss(m, { datasetSize: 5, klWeight: 'blundel' as never }),
      arg: 'klWeight',
    },
    {
      call: 'ELBOLoss unknown key',
      run: () => new layers.ELBOLoss(m, { datasetSize: 5, batchSize: 3 } as never),
      arg: 'batchSize',
    },
    {
      call: 'WithBNNLoss bnnFactor -1',
      run: () => new layers.WithBNNLoss(m, 'softmaxCrossEntropy', 1, -1),
      arg: 'bnnFactor',
    },
    {
      call: 'WithBNNLoss dnnFactor NaN',
      run: () => new layers.WithBNNLoss(m, 'softmaxCrossEntropy', NaN, 1),
      arg: 'dnnFactor',
    },
    {
      call: 'compileBayesian datasetSize 0',
      run: () =>
        layers.compileBayesian(m, { datasetSize: 0, optimizer: 'sgd', loss: 'meanSquaredError' }),
      arg: 'datasetSize',
    },
    {
      call: "a prior object with torch's scale for sigma (was ignored: sigma 0.1 used)",
      run: mk({ units: 2, prior: { type: 'normal', mu: 0, scale: 1 } }),
      arg: 'prior.scale',
    },
    {
      call: 'a scale-mixture prior object with a misspelt field',
      run: mk({ units: 2, prior: { type: 'scaleMixture', pi: 0.5, sigma1: 1, sigma_2: 0.1 } }),
      arg: 'prior.sigma_2',
    },
    {
      call: 'a posterior object with a misspelt field',
      run: mk({ units: 2, posterior: { type: 'normal', rhoInit: [-3, 0.1] } }),
      arg: 'posterior.rhoInit',
    },
    {
      call: 'Sønderby warm-up of Infinity epochs (the KL weight would stay 0)',
      run: () => layers.soenderbyKL({ warmupEpochs: Infinity }),
      arg: 'warmupEpochs',
    },
    {
      call: 'compileBayesian misspelt klweight (model.compile ignores unknown keys)',
      run: () =>
        layers.compileBayesian(m, {
          datasetSize: 10,
          klweight: 0.1,
          optimizer: 'sgd',
          loss: 'meanSquaredError',
        } as never),
      arg: 'klweight',
    },
    {
      call: 'compileBayesian klWeight given as a schedule name (model.fit takes a number)',
      run: () =>
        layers.compileBayesian(m, {
          datasetSize: 10,
          klWeight: 'blundell' as never,
          optimizer: 'sgd',
          loss: 'meanSquaredError',
        }),
      arg: 'klWeight',
    },
    {
      call: 'trainStep with x of the wrong width',
      run: () => {
        const x = tf.zeros([2, 3]);
        const y = tf.tensor1d([0, 1], 'int32');
        try {
          return new layers.ELBOLoss(m, { datasetSize: 5 }).trainStep(opt, x, y);
        } finally {
          tf.dispose([x, y]);
        }
      },
      arg: 'x',
    },
    {
      call: 'trainStep with labels out of range',
      run: () => {
        const x = tf.zeros([2, 2]);
        const y = tf.tensor1d([0, 2], 'int32');
        try {
          return new layers.ELBOLoss(m, { datasetSize: 5 }).trainStep(opt, x, y);
        } finally {
          tf.dispose([x, y]);
        }
      },
      arg: 'y',
    },
  ];
  const opt = tf.train.sgd(0.1);
  for (const c of cases) it(c.call, async () => expectBadInput(c));
  afterAll(() => layers.disposeModel(m));
});

describe('MindSpore convolution arguments in mean mode against a float64 loop', () => {
  const cases: [string, Record<string, unknown>, Parameters<typeof refConv2d>[2]][] = [
    [
      "padMode 'pad' with [top, bottom, left, right] = [1, 2, 0, 1], stride 2",
      { padMode: 'pad', padding: [1, 2, 0, 1], stride: 2 },
      { padMode: 'pad', padding: [1, 2, 0, 1], stride: [2, 2] },
    ],
    [
      "dilation 2, stride [1, 2], padMode 'same'",
      { padMode: 'same', dilation: 2, stride: [1, 2] },
      { padMode: 'same', dilation: [2, 2], stride: [1, 2] },
    ],
    ['group 2 (inChannels 4)', { padMode: 'valid', group: 2 }, { padMode: 'valid', group: 2 }],
  ];
  for (const e of ESTS) {
    for (const [what, args, ref] of cases) {
      it(`${e}: ${what}`, () => {
        setSeed(12);
        const l = conv(e, {
          inChannels: 4,
          outChannels: 4,
          kernelSize: [2, 3],
          hasBias: true,
          mode: 'mean',
          ...args,
        });
        const x = tf.randomNormal([2, 6, 7, 4]);
        const y = l.apply(x) as tf.Tensor;
        const p = l.getPosterior();
        const b = flat(p.biasMu!);
        const r = refConv2d(
          { data: flat(x), shape: [2, 6, 7, 4] },
          { data: flat(p.kernelMu), shape: p.kernelMu.shape },
          ref,
        );
        expect(y.shape).toEqual(r.shape);
        expect(y).toBeAllclose(
          r.data.map((v, i) => v + (b[i % 4] as number)),
          { rtol: 1e-4, atol: 1e-5 },
        );
        tf.dispose([x, y, p.kernelMu, p.kernelSigma, p.biasMu!, p.biasSigma!]);
        l.dispose();
      });
    }
  }
});

describe('the scale-mixture KL estimate is differentiable: gradient against finite differences', () => {
  it('d KL / d(mu, rho) with the draw fixed by setSeed', () => {
    setSeed(13);
    const l = layers.denseReparam({
      units: 2,
      inChannels: 2,
      prior: layers.scaleMixturePrior(0.3, 1, 0.02),
      posteriorRhoInitial: [-2, 0.3],
    });
    tf.dispose(l.apply(tf.ones([1, 2])) as tf.Tensor);
    const f = (): tf.Scalar => {
      setSeed(5);
      return l.kl();
    };
    const vars = l.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads, value } = tf.variableGrads(f, vars);
    for (const v of vars) {
      const g = flat(grads[v.name]!);
      const base = flat(v);
      for (let i = 0; i < base.length; i++) {
        const at = (d: number): number => {
          const b = base.slice();
          b[i] = (b[i] as number) + d;
          v.assign(tf.tensor(b, v.shape));
          return tf.tidy(() => f().dataSync()[0] as number);
        };
        const h = 5e-3;
        const fd = (at(h) - at(-h)) / (2 * h);
        v.assign(tf.tensor(base, v.shape));
        expect(Math.abs((g[i] as number) - fd), `${v.name}[${i}]`).toBeLessThan(
          5e-3 + 2e-2 * Math.abs(fd),
        );
      }
    }
    tf.dispose([value, ...Object.values(grads)]);
    l.dispose();
  });
});
