import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bayesianLayers, setMode } from '../../src/layers/index.js';
import {
  MODELS,
  alexnet,
  createModel,
  evidentialLenet,
  lenet,
  lenet5,
  outSize,
  threeConvThreeFC,
} from '../../src/models/index.js';
import { fileIO } from '../../src/utils/file_io.js';
import { setSeed } from '../../src/utils/seed.js';

/** Parameters of a conv (k x k, cin -> cout) and a dense layer, counted by hand. */
const conv = (k: number, cin: number, cout: number, bias = true): number =>
  k * k * cin * cout + (bias ? cout : 0);
const dense = (i: number, o: number): number => i * o + o;

const LENET5 =
  conv(5, 1, 6, false) + conv(5, 6, 16, false) + dense(400, 120) + dense(120, 84) + dense(84, 10);
const ALEXNET = (c: number, k: number): number =>
  conv(11, c, 64) +
  conv(5, 64, 192) +
  conv(3, 192, 384) +
  conv(3, 384, 256) +
  conv(3, 256, 128) +
  dense(128, k);
const THREE = (c: number, flat: number, k: number): number =>
  conv(5, c, 32) +
  conv(5, 32, 64) +
  conv(5, 64, 128) +
  dense(flat, 1000) +
  dense(1000, 1000) +
  dense(1000, k);
const LENET = conv(5, 1, 20) + conv(5, 20, 50) + dense(800, 500) + dense(500, 10);

function outShape(model: tf.LayersModel, input: number[]): number[] {
  const y = tf.tidy(() => model.predict(tf.zeros(input)) as tf.Tensor);
  const s = y.shape;
  y.dispose();
  return s;
}

describe('model zoo', () => {
  it('LeNet-5 (MindSpore 32x32 and classic 28x28) has 61,684 parameters and 10 logits', () => {
    expect(LENET5).toBe(61684);
    const m = lenet5();
    expect(m.countParams()).toBe(LENET5);
    expect(outShape(m, [3, 32, 32, 1])).toEqual([3, 10]);
    const classic = lenet5({ inputShape: [28, 28, 1] });
    expect(classic.countParams()).toBe(LENET5);
    expect(outShape(classic, [2, 28, 28, 1])).toEqual([2, 10]);
    tf.dispose([m, classic].flatMap((x) => x.weights.map((w) => w.read())));
  });

  it('Bayesian twins have a posterior mean and rho for every weight', () => {
    for (const bayesian of ['reparam', 'local', 'flipout'] as const) {
      const m = lenet5({ bayesian });
      expect(m.countParams()).toBe(2 * LENET5);
      expect(bayesianLayers(m).length).toBe(5);
      expect(outShape(m, [2, 32, 32, 1])).toEqual([2, 10]);
    }
  });

  it('AlexNet and 3Conv3FC match BayesianCNN sizes for 1- and 3-channel inputs', () => {
    expect(alexnet().countParams()).toBe(ALEXNET(1, 10));
    expect(alexnet({ inputShape: [32, 32, 3], numClasses: 100 }).countParams()).toBe(
      ALEXNET(3, 100),
    );
    expect(alexnet({ bayesian: 'local', inputShape: [32, 32, 3] }).countParams()).toBe(
      2 * ALEXNET(3, 10),
    );
    expect(threeConvThreeFC().countParams()).toBe(THREE(1, 512, 10));
    expect(threeConvThreeFC({ inputShape: [28, 28, 1] }).countParams()).toBe(THREE(1, 128, 10));
    const cifar = threeConvThreeFC({ inputShape: [32, 32, 3], bayesian: 'flipout' });
    expect(cifar.countParams()).toBe(2 * THREE(3, 512, 10));
    expect(outShape(cifar, [2, 32, 32, 3])).toEqual([2, 10]);
    expect(outShape(alexnet({ inputShape: [32, 32, 3] }), [1, 32, 32, 3])).toEqual([1, 10]);
  });

  it('AlexNet rejects 28x28 inputs with a hint', () => {
    expect(() => alexnet({ inputShape: [28, 28, 1] })).toThrow(
      /inputShape: \[28, 28, 1\] is too small for alexnet: the feature map shrinks to 0x0 \(pad or resize/,
    );
  });

  it('the conv 20/50 LeNet and the evidential LeNet (dropout 0.5)', () => {
    expect(LENET).toBe(431080);
    expect(lenet().countParams()).toBe(LENET);
    const ev = evidentialLenet();
    expect(ev.countParams()).toBe(LENET);
    const drop = ev.layers.filter((l) => l.getClassName() === 'Dropout');
    expect(drop.length).toBe(1);
    expect((drop[0]?.getConfig() as { rate: number }).rate).toBe(0.5);
    expect(lenet().layers.some((l) => l.getClassName() === 'Dropout')).toBe(false);
    expect(outShape(ev, [2, 28, 28, 1])).toEqual([2, 10]);
  });

  it('the registry builds every model by name and rejects unknown ones', () => {
    for (const [name, entry] of Object.entries(MODELS)) {
      const m = createModel(name);
      expect(m.name).toBe(name);
      expect(bayesianLayers(m).length > 0).toBe(entry.kind === 'bayesian');
      expect(m.inputs[0]?.shape.slice(1)).toEqual(entry.defaultInputShape);
    }
    expect(createModel('bayes-lenet5', { bayesian: 'flipout' }).layers[0]?.getClassName()).toBe(
      'ConvFlipout',
    );
    expect(() => createModel('resnet')).toThrow(/model: expected one of lenet5, bayes-lenet5/);
    expect(() => createModel('lenet5', { bayesian: 'reparam' })).toThrow(
      /bayesian: model 'lenet5' is not Bayesian/,
    );
    expect(() => lenet5({ numClasses: 1 })).toThrow(/numClasses: expected an integer >= 2/);
  });

  it("createModel's activation reaches the hidden layers of the models that take one", () => {
    const acts = (m: tf.Sequential): string[] =>
      m.layers.flatMap((l) => {
        const c = l.getConfig() as { activation?: string };
        return l.getClassName() === 'Activation' || (c.activation ?? 'linear') !== 'linear'
          ? [c.activation as string]
          : [];
      });
    for (const name of ['3conv3fc', 'bayes-3conv3fc', 'alexnet', 'lenet5', 'bayes-lenet5']) {
      const entry = MODELS[name];
      const relu = createModel(name, { activation: 'relu' });
      const soft = createModel(name, { activation: 'softplus' });
      const dflt = createModel(name);
      expect(acts(relu).length).toBeGreaterThan(0);
      expect(new Set(acts(relu))).toEqual(new Set(['relu']));
      expect(new Set(acts(soft))).toEqual(new Set(['softplus']));
      expect(new Set(acts(dflt))).toEqual(new Set([entry?.activations?.[0]]));
      for (const m of [relu, soft, dflt]) m.dispose();
    }
  });

  it('outSize follows the conv/pool arithmetic', () => {
    expect(outSize(32, 5, 1, 'valid')).toBe(28);
    expect(outSize(32, 11, 4, 5)).toBe(8);
    expect(outSize(15, 3, 2, 'valid')).toBe(7);
    expect(outSize(7, 2, 2, 'same')).toBe(4);
  });

  it('a Bayesian LeNet-5 saves and loads with identical posteriors and frozen predictions', async () => {
    const m = lenet5({
      bayesian: 'flipout',
      priors: { priorSigma: 0.5, posteriorRhoInitial: [-4, 0.1] },
    });
    const dir = join(mkdtempSync(join(tmpdir(), 'deepprob-model-')), 'm');
    await m.save(fileIO(dir));
    const back = await tf.loadLayersModel(fileIO(dir));
    const a = m.getWeights();
    const b = back.getWeights();
    expect(b.length).toBe(a.length);
    a.forEach((w, i) => expect(b[i]).toBeAllclose(w, { rtol: 0, atol: 0 }));
    expect(back.layers[0]?.getClassName()).toBe('ConvFlipout');
    setMode(m, 'mean');
    setMode(back, 'mean');
    const x = tf.randomNormal([4, 32, 32, 1], 0, 1, 'float32', 3);
    const ya = m.predict(x) as tf.Tensor;
    const yb = back.predict(x) as tf.Tensor;
    expect(yb).toBeAllclose(ya, { rtol: 1e-6, atol: 1e-6 });
    tf.dispose([x, ya, yb]);
  });

  it('setSeed makes the plain twins reproducible (seeded Glorot kernels)', () => {
    const kernels = (seed: number): Float32Array[] => {
      setSeed(seed);
      const net = lenet5();
      const out = net.getWeights().map((w) => w.dataSync() as Float32Array);
      net.dispose();
      return out;
    };
    const a = kernels(7);
    const b = kernels(7);
    const c = kernels(8);
    expect(a.length).toBe(b.length);
    a.forEach((w, i) => expect(b[i]).toEqual(w));
    // a different seed gives different kernels, each inside Glorot's U(-a, a)
    expect(c[0]).not.toEqual(a[0]);
    const limit = Math.sqrt(6 / (5 * 5 * 1 + 5 * 5 * 6)); // conv1: fanIn 25, fanOut 150
    expect(Math.max(...Array.from(a[0] as Float32Array).map(Math.abs))).toBeLessThanOrEqual(limit);
  });

  it('plain twins fold each ReLU into the conv/dense before it: same function and weights as separate Activation layers', () => {
    setSeed(3);
    const net = lenet5({ inputShape: [32, 32, 1] });
    const layers = net.layers.map(
      (l) => `${l.getClassName()}:${String((l.getConfig() as { activation?: string }).activation)}`,
    );
    expect(layers).toEqual([
      'Conv2D:relu',
      'MaxPooling2D:undefined',
      'Conv2D:relu',
      'MaxPooling2D:undefined',
      'Flatten:undefined',
      'Dense:relu',
      'Dense:relu',
      'Dense:linear',
    ]);
    // weight names (checkpoints, conversion) are those of the unfolded model
    expect(net.weights.map((w) => w.originalName)).toEqual([
      'conv1/kernel',
      'conv2/kernel',
      'fc1/kernel',
      'fc1/bias',
      'fc2/kernel',
      'fc2/bias',
      'fc3/kernel',
      'fc3/bias',
    ]);
    // the same network written with separate Activation layers (the older topology) computes
    // the same function from the same weights
    const relu = (): tf.layers.Layer => tf.layers.activation({ activation: 'relu' });
    const ref = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [32, 32, 1], filters: 6, kernelSize: 5, useBias: false }),
        relu(),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.conv2d({ filters: 16, kernelSize: 5, useBias: false }),
        relu(),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 120 }),
        relu(),
        tf.layers.dense({ units: 84 }),
        relu(),
        tf.layers.dense({ units: 10 }),
      ],
    });
    const w = net.getWeights();
    ref.setWeights(w);
    const x = tf.randomUniform([4, 32, 32, 1], 0, 1, 'float32', 9);
    const [a, b] = [net.predict(x) as tf.Tensor, ref.predict(x) as tf.Tensor];
    expect(a).toBeAllclose(b, { rtol: 1e-5, atol: 1e-6 });
    tf.dispose([x, a, b]);
    ref.dispose();
    net.dispose();
    // the Bayesian twins keep their Activation layers
    const bnn = lenet5({ bayesian: 'reparam' });
    expect(bnn.layers.filter((l) => l.getClassName() === 'Activation')).toHaveLength(4);
    bnn.dispose();
  });
});

describe('3Conv3FC learnability (docs/guides/cli.md, "3Conv3FC learns very slowly")', () => {
  /** 64 24x24 images of 4 classes: class c is a bright 8x8 block in quadrant c, on noise. */
  function quadrants(): { x: tf.Tensor4D; y: tf.Tensor2D } {
    const n = 64;
    const s = 24;
    const px = new Float32Array(n * s * s);
    const labels: number[] = [];
    let u = 12345;
    const rand = (): number => (u = (u * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < n; i++) {
      const c = i % 4;
      labels.push(c);
      const r0 = c < 2 ? 2 : 14;
      const c0 = c % 2 === 0 ? 2 : 14;
      for (let r = 0; r < s; r++) {
        for (let q = 0; q < s; q++) {
          const on = r >= r0 && r < r0 + 8 && q >= c0 && q < c0 + 8;
          px[i * s * s + r * s + q] = (on ? 1 : 0) + 0.2 * rand();
        }
      }
    }
    return {
      x: tf.tensor4d(px, [n, s, s, 1]),
      y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 4) as tf.Tensor2D),
    };
  }

  /** Cross-entropy after `steps` full-batch Adam steps at lr 1e-3. */
  function lossAfter(activation: 'relu' | 'softplus', steps: number): number {
    setSeed(3);
    const { x, y } = quadrants();
    const net = threeConvThreeFC({ inputShape: [24, 24, 1], numClasses: 4, activation });
    const opt = tf.train.adam(1e-3);
    const f = (): tf.Scalar => tf.losses.softmaxCrossEntropy(y, net.apply(x) as tf.Tensor);
    for (let i = 0; i < steps; i++) opt.minimize(f, true)?.dispose();
    const loss = tf.tidy(() => f().dataSync()[0] as number);
    tf.dispose([x, y]);
    opt.dispose();
    net.dispose();
    return loss;
  }

  it('ReLU learns a 4-class set in 25 steps; the reference softplus stays near ln 4', () => {
    const before = tf.memory().numTensors;
    const relu = lossAfter('relu', 25);
    const soft = lossAfter('softplus', 25);
    expect(relu).toBeLessThan(0.3);
    expect(soft).toBeGreaterThan(0.8 * Math.log(4));
    expect(tf.memory().numTensors).toBe(before);
  }, 30_000);
});
