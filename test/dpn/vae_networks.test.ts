/**
 * VAEs over networks other than the MindSpore seed's: declared shapes checked at construction,
 * the loss of a fixed-weight network against a float64 computation by hand, its gradient against
 * finite differences, convolutional encoders/decoders, one-hot labels.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConditionalVAE } from '../../src/dpn/conditional_vae.js';
import { VAE } from '../../src/dpn/vae.js';
import { ELBO } from '../../src/infer/elbo.js';
import { SVI } from '../../src/infer/svi.js';
import { WithLossCell } from '../../src/infer/with_loss.js';
import { nextSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';

const dense = (inputs: number, units: number, activation?: 'sigmoid' | 'relu'): tf.Sequential =>
  tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputs], units, ...(activation ? { activation } : {}) }),
    ],
  });

const convEncoder = (h: number, c: number, hidden: number): tf.Sequential =>
  tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [h, h, c],
        filters: 2,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: hidden }),
    ],
  });
const convDecoder = (h: number, c: number, hidden: number): tf.Sequential =>
  tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [hidden], units: (h / 2) * (h / 2) * 2, activation: 'relu' }),
      tf.layers.reshape({ targetShape: [h / 2, h / 2, 2] }),
      tf.layers.conv2dTranspose({ filters: c, kernelSize: 3, strides: 2, padding: 'same' }),
    ],
  });

/** y = act(x W + b) in float64; W row-major [in, out]. */
function affine(x: number[], W: number[], b: number[], act = (t: number): number => t): number[] {
  return b.map((bj, j) =>
    act(x.reduce((s, xi, i) => s + xi * (W[i * b.length + j] as number), bj)),
  );
}
const softplus = (t: number): number => Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));

describe('dpn.VAE on networks other than the seed', () => {
  it('refuses, at construction, networks whose declared shapes do not fit, naming the shapes', () => {
    const cases: [() => unknown, RegExp][] = [];
    const nets: tf.Sequential[] = [];
    const keep = <T extends tf.Sequential>(m: T): T => {
      nets.push(m);
      return m;
    };
    // a decoder for 32x32 behind an encoder of 28x28x1: the old VAE trained until the first loss
    const [e1, d1] = [keep(convEncoder(28, 1, 6)), keep(convDecoder(32, 1, 6))];
    cases.push([
      () => new VAE(e1, d1, 6, 2),
      /decoder: .*encoder input \[n, 28, 28, 1\]: 784, but it outputs \[n, 32, 32, 1\]: 1024/,
    ]);
    const [e2, d2] = [keep(dense(10, 6)), keep(dense(5, 10))];
    cases.push([
      () => new VAE(e2, d2, 6, 2),
      /decoder: expected the decoder to take \[n, 6\] \(hiddenSize\), but it takes \[n, 5\]/,
    ]);
    // hiddenSize 9 for an encoder of width 7: the old VAE failed only in the forward pass
    const [e3, d3] = [keep(dense(10, 7)), keep(dense(9, 10))];
    cases.push([
      () => new VAE(e3, d3, 9, 2),
      /encoder: expected the encoder to output \[n, 9\] \(hiddenSize\), but it outputs \[n, 7\]/,
    ]);
    // conditional, one-input encoder: its input is the flattened image and the one-hot label
    const [e4, d4] = [keep(dense(10 + 3, 6)), keep(dense(6, 13))];
    cases.push([
      () => new ConditionalVAE(e4, d4, 6, 2, 3),
      /decoder: .*less the 3 one-hot label columns: 10, but it outputs \[n, 13\]: 13/,
    ]);
    // a Pyro-style encoder returning (loc, scale): the VAE adds those heads itself
    const inp = tf.input({ shape: [10] });
    const e5 = tf.model({
      inputs: inp,
      outputs: [
        tf.layers.dense({ units: 6 }).apply(inp) as tf.SymbolicTensor,
        tf.layers.dense({ units: 6 }).apply(inp) as tf.SymbolicTensor,
      ],
    });
    const d5 = keep(dense(6, 10));
    cases.push([() => new VAE(e5, d5, 6, 2), /encoder: expected a network with one output, got 2/]);
    const before = tf.memory().numTensors;
    for (const [make, msg] of cases) expect(make).toThrow(msg);
    expect(tf.memory().numTensors).toBe(before);
    nets.forEach((m) => m.dispose());
    e5.dispose();
  });

  it("refuses a batch of another shape than the encoder's declared input, naming x", () => {
    const vae = new VAE(convEncoder(16, 3, 5), convDecoder(16, 3, 5), 5, 2);
    const cvae = new ConditionalVAE(dense(10 + 3, 6), dense(6, 10), 6, 2, 3);
    const x = tf.zeros([2, 8, 8, 3]);
    const x2 = tf.zeros([2, 12]);
    const y = tf.tensor1d([0, 2], 'int32');
    const before = tf.memory().numTensors;
    // the old VAE failed inside tfjs: 'Input 0 is incompatible with layer dense_Dense1 ...'
    expect(() => vae.apply(x)).toThrow(
      /x: expected a batch of the encoder's input shape \[n, 16, 16, 3\], got \[2, 8, 8, 3\]/,
    );
    expect(() => vae.reconstructSample(x)).toThrow(/x: .*\[n, 16, 16, 3\]/);
    expect(() => cvae.apply(x2, y)).toThrow(
      /x: expected 10 values per example \(the encoder's input \[n, 13\] less the 3 one-hot label columns\), got \[2, 12\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, x2, y]);
    vae.dispose();
    cvae.dispose();
  });

  it('generateSample refuses a shape that cannot hold the samples, naming shape', () => {
    const vae = new VAE(dense(16, 5), dense(5, 16), 5, 2);
    const cvae = new ConditionalVAE(dense(16 + 2, 5), dense(5, 16), 5, 2, 2);
    const before = tf.memory().numTensors;
    // the old VAE failed inside tf.reshape: "The implicit shape can't be a fractional number. Got 48 / 25"
    expect(() => vae.generateSample(3, [-1, 5, 5])).toThrow(
      /shape: cannot hold the decoder's output \[3, 16\] \(48 values\), got \[-1, 5, 5\]/,
    );
    expect(() => cvae.generateSample(1, 3, [3, 4, 5])).toThrow(/shape: cannot hold/);
    expect(() => vae.generateSample(3, [-1, -1, 4])).toThrow(/shape: expected integers >= 1/);
    expect(() => vae.generateSample(3, [2.5, 4])).toThrow(/shape: .*got \[2.5,4\]/);
    expect(tf.memory().numTensors).toBe(before);
    expect(expectNoLeak(() => vae.generateSample(3, [-1, 4, 4])).length).toBe(48);
    vae.dispose();
    cvae.dispose();
  });

  it('convolutional encoder and transposed-conv decoder at 28x28x1 and 32x32x3; latent 1 and 64', () => {
    setSeed(3);
    for (const [h, c, latent] of [
      [28, 1, 1],
      [32, 3, 64],
    ] as const) {
      const vae = new VAE(convEncoder(h, c, 5), convDecoder(h, c, 5), 5, latent);
      const x = tf.randomUniform([3, h, h, c]);
      const loss = new ELBO({ outputPrior: 'Bernoulli', fromLogits: true });
      const vi = new SVI({
        netWithLoss: new WithLossCell(vae, loss),
        optimizer: tf.train.adam(1e-2),
      });
      const losses = [vi.step(x)]; // the first step makes Adam's moment variables
      const before = tf.memory().numTensors;
      for (let i = 0; i < 14; i++) losses.push(vi.step(x));
      expect(tf.memory().numTensors).toBe(before);
      const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(mean(losses.slice(-3))).toBeLessThan(mean(losses.slice(0, 3)));
      expect(expectNoLeak(() => vae.generateSample(2, [-1, h, h, c])).length).toBe(2 * h * h * c);
      const rec = vae.reconstructSample(x);
      expect(rec.shape).toEqual([3, h, h, c]);
      rec.dispose();
      expectNoLeak(() => vae.reconstructSample(x));
      tf.dispose(x);
      vi.optimizer.dispose();
      vae.dispose();
    }
  });

  it('the loss of a fixed-weight network equals a float64 computation by hand; its gradient matches finite differences', () => {
    const vae = new VAE(dense(3, 4, 'relu'), dense(4, 3), 4, 2);
    const vars = vae.trainableVariables();
    // encoder (3x4, 4), mu head (4x2, 2), std head (4x2, 2), z -> hidden (2x4, 4), decoder (4x3, 3)
    const sizes = vars.map((v) => v.size);
    expect(sizes).toEqual([12, 4, 8, 2, 8, 2, 8, 4, 12, 3]);
    const total = sizes.reduce((a, b) => a + b, 0);
    const theta0 = Array.from({ length: total }, (_, i) => 0.4 * Math.sin(1.7 * i + 0.3));
    const assign = (theta: number[]): void => {
      let k = 0;
      for (const v of vars) {
        v.assign(tf.tensor(theta.slice(k, k + v.size), v.shape));
        k += v.size;
      }
    };
    const x = [
      [0.2, -0.5, 1.0],
      [0.7, 0.1, -0.3],
    ];
    const xt = tf.tensor2d(x);
    const scale = 0.5;
    const loss = new ELBO({ outputScale: scale });
    const cell = new WithLossCell(vae, loss);
    // the draws eps the VAE makes after setSeed(11): its first random draw
    setSeed(11);
    const epsT = tf.randomNormal([2, 2], 0, 1, 'float32', nextSeed());
    const eps = Array.from(epsT.dataSync());
    epsT.dispose();
    const byHand = (theta: number[]): number => {
      const p: number[][] = [];
      let k = 0;
      for (const s of sizes) {
        p.push(theta.slice(k, k + s));
        k += s;
      }
      const [We, be, Wm, bm, Ws, bs, Wz, bz, Wd, bd] = p as number[][];
      let value = 0;
      x.forEach((xi, n) => {
        const h = affine(xi, We!, be!, (t) => Math.max(t, 0));
        const mu = affine(h, Wm!, bm!);
        const sd = affine(h, Ws!, bs!, softplus);
        const z = mu.map((m, j) => m + (sd[j] as number) * (eps[n * 2 + j] as number));
        const xh = affine(affine(z, Wz!, bz!), Wd!, bd!);
        xi.forEach((v, i) => {
          const d = v - (xh[i] as number);
          value += (d * d) / (2 * scale * scale) + Math.log(scale) + 0.5 * Math.log(2 * Math.PI);
        });
        mu.forEach((m, j) => {
          const s = sd[j] as number;
          value += 0.5 * (s * s + m * m - 1) - Math.log(s);
        });
      });
      return value;
    };
    const lossAt = (theta: number[]): number => {
      assign(theta);
      setSeed(11);
      const l = cell.call(xt);
      const v = l.dataSync()[0] as number;
      l.dispose();
      return v;
    };
    const want = byHand(theta0);
    expect(lossAt(theta0)).toBeCloseTo(want, 3);
    // gradient by tfjs vs central differences of the float64 hand computation
    assign(theta0);
    setSeed(11);
    const { value, grads } = tf.variableGrads(() => cell.call(xt), vars);
    const g = vars.flatMap((v) => Array.from((grads[v.name] as tf.Tensor).dataSync()));
    const fd = finiteDiff(byHand, theta0, 1e-5);
    g.forEach((gi, i) => expect(gi).toBeCloseTo(fd[i] as number, 3));
    expect(Math.max(...fd.map(Math.abs))).toBeGreaterThan(0.1);
    tf.dispose([value, ...Object.values(grads), xt]);
    vae.dispose();
  });
});

describe('dpn.ConditionalVAE labels', () => {
  it('takes integer labels or one-hot rows alike, for 2 and 100 classes', () => {
    for (const C of [2, 100]) {
      const cvae = new ConditionalVAE(dense(6 + C, 5), dense(5, 6, 'sigmoid'), 5, 3, C);
      const x = tf.randomUniform([4, 6]);
      const y = tf.tensor1d([0, 1, C - 1, 1], 'int32');
      const oh = tf.oneHot(y, C);
      const cell = new WithLossCell(cvae, new ELBO());
      setSeed(5);
      const [a] = expectNoLeak(() => cell.call(x, y));
      setSeed(5);
      // the old ConditionalVAE refused [4, C]: 'y: expected integer labels of shape [4]'
      const [b] = expectNoLeak(() => cell.call(x, oh));
      expect(b).toBeCloseTo(a as number, 5);
      setSeed(6);
      const ga = cvae.generateSample(y, 4);
      setSeed(6);
      const gb = cvae.generateSample(oh, 4);
      expect(Array.from(gb.dataSync())).toEqual(Array.from(ga.dataSync()));
      expectNoLeak(() => cvae.reconstructSample(x, oh));
      const bad = tf.tensor2d([
        [1, 1, ...new Array<number>(C - 2).fill(0)],
        ...(tf.oneHot([0, 1, 0], C).arraySync() as number[][]),
      ]);
      const wide = tf.zeros([4, C + 1]);
      const before = tf.memory().numTensors;
      expect(() => cell.call(x, bad)).toThrow(
        /y: expected one-hot rows \[4, \d+\] with a single 1, got 2 ones in row 0/,
      );
      expect(() => cvae.reconstructSample(x, wide)).toThrow(
        new RegExp(`y: expected integer labels of shape \\[4\\] or one-hot rows \\[4, ${C}\\]`),
      );
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y, oh, ga, gb, bad, wide]);
      cvae.dispose();
    }
  });
});

describe('dpn VAE weights', () => {
  const bnEncoder = (): tf.Sequential =>
    tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [6], units: 5 }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 4, activation: 'relu' }),
      ],
    });
  const mk = (): VAE => new VAE(bnEncoder(), dense(4, 6, 'sigmoid'), 4, 2);

  it('getWeights/setWeights resume training exactly, BatchNorm statistics included', () => {
    const x = tf.randomUniform([8, 6], 0, 1, 'float32', 3);
    const data = [{ x }];
    const a = mk();
    const sviA = new SVI({
      netWithLoss: new WithLossCell(a, new ELBO()),
      optimizer: tf.train.sgd(0.05),
    });
    setSeed(1);
    sviA.run(data, 1);
    const saved = a.getWeights();
    // encoder 2 + BatchNorm 4 (gamma, beta, moving mean, moving variance) + 2, heads 6, decoder 2
    expect(saved.length).toBe(16);
    setSeed(2);
    sviA.run(data, 2);
    const b = mk();
    const before = tf.memory().numTensors;
    b.setWeights(saved);
    expect(tf.memory().numTensors).toBe(before);
    const sviB = new SVI({
      netWithLoss: new WithLossCell(b, new ELBO()),
      optimizer: tf.train.sgd(0.05),
    });
    setSeed(2);
    sviB.run(data, 2);
    const wa = a.getWeights();
    const wb = b.getWeights();
    wa.forEach((t, i) => {
      const u = wb[i] as tf.Tensor;
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(t, u))).dataSync()[0] as number);
      expect(d).toBeLessThan(1e-6);
    });
    expect(sviB.getTrainLoss()).toBeCloseTo(sviA.getTrainLoss(), 5);
    // the moving statistics moved (training mode) and were carried over
    expect(
      tf.tidy(
        () => tf.max(tf.abs(tf.sub(saved[4] as tf.Tensor, wa[4] as tf.Tensor))).dataSync()[0],
      ),
    ).toBeGreaterThan(0);
    tf.dispose([...saved, ...wa, ...wb, x]);
    a.dispose();
    b.dispose();
  });

  it('setWeights checks the count and every shape before changing any weight', () => {
    const a = mk();
    const w = a.getWeights();
    const ones = tf.onesLike(w[0] as tf.Tensor);
    const wrong = tf.zeros([7]);
    const before = tf.memory().numTensors;
    expect(() => a.setWeights(w.slice(1))).toThrow(/weights: expected 16 tensors .*got 15/);
    // a valid first tensor, a wrong last one: nothing may change
    expect(() => a.setWeights([ones, ...w.slice(1, 15), wrong])).toThrow(
      /weights\[15\]: expected float32 \[6\] .*got float32 \[7\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const now = a.getWeights();
    expect(Array.from((now[0] as tf.Tensor).dataSync())).toEqual(
      Array.from((w[0] as tf.Tensor).dataSync()),
    );
    tf.dispose([...w, ...now, ones, wrong]);
    a.dispose();
  });
});

describe('dpn VAE over layer arrays', () => {
  it('the first SVI step also trains layers built lazily on that batch', () => {
    setSeed(4);
    const init = (): ReturnType<typeof tf.initializers.constant> =>
      tf.initializers.constant({ value: 0.1 });
    const vae = new VAE(
      [tf.layers.dense({ units: 5, kernelInitializer: init() })],
      [tf.layers.dense({ units: 6, kernelInitializer: init() })],
      5,
      2,
    );
    const cvae = new ConditionalVAE(
      [tf.layers.dense({ units: 5, kernelInitializer: init() })],
      [tf.layers.dense({ units: 6, kernelInitializer: init() })],
      5,
      2,
      3,
    );
    const x = tf.randomUniform([4, 6], 0, 1, 'float32', 2);
    const y = tf.tensor1d([0, 1, 2, 0], 'int32');
    for (const net of [vae, cvae]) {
      const svi = new SVI({
        netWithLoss: new WithLossCell(net, new ELBO()),
        optimizer: tf.train.sgd(0.1),
      });
      const before = tf.memory().numTensors;
      svi.step(x, y);
      // the first step builds 2 kernels and 2 biases, nothing else stays
      expect(tf.memory().numTensors).toBe(before + 4);
      // the old SVI listed the variables before the first forward pass built these layers:
      // their kernels stayed at 0.1 after the first step
      for (const layers of [net.encoder, net.decoder] as tf.layers.Layer[][]) {
        const k = (layers[0] as tf.layers.Layer).getWeights()[0] as tf.Tensor;
        expect(Math.max(...Array.from(k.dataSync()).map((v) => Math.abs(v - 0.1)))).toBeGreaterThan(
          1e-6,
        );
      }
      const after = tf.memory().numTensors;
      svi.step(x, y);
      expect(tf.memory().numTensors).toBe(after);
      net.dispose();
    }
    tf.dispose([x, y]);
  });
});
