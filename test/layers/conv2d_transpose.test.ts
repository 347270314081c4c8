/**
 * Bayesian Conv2DTranspose layers (the upsampling layer of decoders): in mean mode they are a
 * transposed convolution, checked against a float64 scatter loop (each input pixel adds
 * `x[i, j, c] W[a, b, o, c]` at output `(i s + a - top, j s + b - left)`, TF.js's output sizes
 * and 'same' offsets) and against tfjs's own `conv2dTranspose` layer with the same weights;
 * sampled, each estimator gives per output element `mean = convT(x, mu) + mu_b` and
 * `variance = convT(x², σ²) + σ_b²` over many calls (tolerance 4.5 standard errors); models with
 * them train, save and load; a DNN's Conv2DTranspose layers convert to Bayesian ones that predict
 * as the DNN when started with a vanishing scale.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Conv2DTransposeFlipout,
  Conv2DTransposeLocalReparam,
  Conv2DTransposeReparam,
  Conv2DTransposeVariational,
  type Conv2DTransposeVariationalArgs,
  MopedConv2DTransposeReparam,
  compileBayesian,
  modelKL,
  setMode,
} from '../../src/layers/index.js';
import { transformToBnn } from '../../src/transforms/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak, saveAndLoad } from '../helpers.js';

beforeAll(() => setSeed(21));
afterAll(() => clearSeed());

const softplus = (r: number): number => Math.log1p(Math.exp(r));

/**
 * float64 transposed convolution of one image x [H][W][C] with kernel w [kh][kw][O][C]: output
 * size `H s` ('same') or `H s + max(k - s, 0)` ('valid'); 'same' crops `floor(pad / 2)` at the
 * top/left, `pad = max((H - 1) s + k - H s, 0)` (the forward 'same' convolution's padding).
 */
function refConvT(
  x: number[][][],
  w: number[][][][],
  s: [number, number],
  mode: 'same' | 'valid',
): number[][][] {
  const H = x.length;
  const W = x[0]!.length;
  const kh = w.length;
  const kw = w[0]!.length;
  const O = w[0]![0]!.length;
  const oh = mode === 'same' ? H * s[0] : H * s[0] + Math.max(kh - s[0], 0);
  const ow = mode === 'same' ? W * s[1] : W * s[1] + Math.max(kw - s[1], 0);
  const top = mode === 'same' ? Math.floor(Math.max((H - 1) * s[0] + kh - oh, 0) / 2) : 0;
  const left = mode === 'same' ? Math.floor(Math.max((W - 1) * s[1] + kw - ow, 0) / 2) : 0;
  const out = Array.from({ length: oh }, () =>
    Array.from({ length: ow }, () => new Array<number>(O).fill(0)),
  );
  x.forEach((row, i) =>
    row.forEach((px, j) =>
      px.forEach((v, c) => {
        for (let a = 0; a < kh; a++) {
          for (let b = 0; b < kw; b++) {
            const r = i * s[0] + a - top;
            const q = j * s[1] + b - left;
            if (r < 0 || r >= oh || q < 0 || q >= ow) continue;
            for (let o = 0; o < O; o++) {
              out[r]![q]![o] = out[r]![q]![o]! + v * w[a]![b]![o]![c]!;
            }
          }
        }
      }),
    ),
  );
  return out;
}

/** A flat weight as [kh][kw][O][C] nested arrays (tfjs conv2dTranspose kernel layout). */
function nest4(v: ArrayLike<number>, [kh, kw, O, C]: number[]): number[][][][] {
  return Array.from({ length: kh! }, (_, a) =>
    Array.from({ length: kw! }, (_, b) =>
      Array.from({ length: O! }, (_, o) =>
        Array.from({ length: C! }, (_, c) => Number(v[((a * kw! + b) * O! + o) * C! + c])),
      ),
    ),
  );
}

const image = (H: number, W: number, C: number, phase: number): number[][][] =>
  Array.from({ length: H }, (_, i) =>
    Array.from({ length: W }, (_, j) =>
      Array.from({ length: C }, (_, c) => Math.sin(1.3 * i + 0.7 * j + 2 * c + phase) + 0.2),
    ),
  );

describe('Bayesian Conv2DTranspose', () => {
  it('mean mode is the transposed convolution (float64 scatter loop and tfjs conv2dTranspose layer)', () => {
    const configs = [
      { padding: 'same' as const, strides: 2, kernelSize: 3 },
      { padding: 'valid' as const, strides: 2, kernelSize: 3 },
      { padding: 'same' as const, strides: 1, kernelSize: [2, 3] },
      { padding: 'valid' as const, strides: [2, 1], kernelSize: [3, 2] },
      { padding: 'valid' as const, strides: 3, kernelSize: 2 },
    ];
    const xs = [image(3, 4, 2, 0), image(3, 4, 2, 1)];
    const x = tf.tensor4d(xs);
    for (const c of configs) {
      const l = new Conv2DTransposeReparam({ filters: 3, ...c });
      l.build([null, 3, 4, 2]);
      setMode(l, 'mean');
      const [k, , b] = l.getWeights() as [tf.Tensor, tf.Tensor, tf.Tensor];
      expect(k.shape).toEqual([
        ...(typeof c.kernelSize === 'number' ? [c.kernelSize, c.kernelSize] : c.kernelSize),
        3,
        2,
      ]);
      const got = l.apply(x) as tf.Tensor;
      const s = (typeof c.strides === 'number' ? [c.strides, c.strides] : c.strides) as [
        number,
        number,
      ];
      const bias = Array.from(b.dataSync());
      const want = xs.map((xi) =>
        refConvT(xi, nest4(k.dataSync(), k.shape), s, c.padding).map((r) =>
          r.map((px) => px.map((v, o) => v + bias[o]!)),
        ),
      );
      expect(got.shape, JSON.stringify(c)).toEqual([2, want[0]!.length, want[0]![0]!.length, 3]);
      expect(l.computeOutputShape([null, 3, 4, 2])).toEqual([null, ...got.shape.slice(1)]);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(got, tf.tensor4d(want)))).dataSync()[0]);
      expect(diff, JSON.stringify(c)).toBeLessThan(1e-5);
      // tfjs's own layer with the posterior means
      const ref = tf.layers.conv2dTranspose({ filters: 3, ...c });
      ref.build([null, 3, 4, 2]);
      ref.setWeights([k, b]);
      const want2 = ref.apply(x) as tf.Tensor;
      expect(tf.max(tf.abs(tf.sub(got, want2))).dataSync()[0]).toBeLessThan(1e-5);
      tf.dispose([got, want2]);
    }
    x.dispose();
  });

  it.each([
    ['Conv2DTransposeReparam', Conv2DTransposeReparam],
    ['Conv2DTransposeLocalReparam', Conv2DTransposeLocalReparam],
    ['Conv2DTransposeFlipout', Conv2DTransposeFlipout],
  ] as const)('%s samples mean convT(x, mu) + mu_b, variance convT(x², σ²) + σ_b²', (_n, Cls) => {
    const layer = new Cls({
      filters: 2,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      posteriorRhoInitial: [-1, 0.5],
    });
    layer.build([null, 2, 2, 2]);
    const xs = image(2, 2, 2, 0.4);
    const [kMu, kRho, bMu, bRho] = layer.getWeights();
    const muK = nest4(kMu!.dataSync(), kMu!.shape);
    const varK = nest4(
      Array.from(kRho!.dataSync(), (r) => softplus(r) ** 2),
      kRho!.shape,
    );
    const bm = Array.from(bMu!.dataSync());
    const bv = Array.from(bRho!.dataSync(), (r) => softplus(r) ** 2);
    const mean = refConvT(xs, muK, [2, 2], 'same').map((r) =>
      r.map((px) => px.map((v, o) => v + bm[o]!)),
    );
    const variance = refConvT(
      xs.map((r) => r.map((px) => px.map((v) => v * v))),
      varK,
      [2, 2],
      'same',
    ).map((r) => r.map((px) => px.map((v, o) => v + bv[o]!)));
    const S = 500;
    const x = tf.tensor4d([xs]);
    const draws = tf.tidy(() =>
      tf.concat(Array.from({ length: S }, () => layer.apply(x) as tf.Tensor)),
    );
    const m = tf.moments(draws, 0);
    const gotMean = m.mean.arraySync() as number[][][];
    const gotVar = m.variance.arraySync() as number[][][];
    let checked = 0;
    mean.forEach((row, r) =>
      row.forEach((px, q) =>
        px.forEach((mu, o) => {
          const v = variance[r]![q]![o]!;
          expect(Math.abs(gotMean[r]![q]![o]! - mu)).toBeLessThan(4.5 * Math.sqrt(v / S));
          expect(Math.abs(gotVar[r]![q]![o]! / v - 1)).toBeLessThan(4.5 * Math.sqrt(2 / S));
          checked++;
        }),
      ),
    );
    expect(checked).toBe(4 * 4 * 2);
    tf.dispose([x, draws, m.mean, m.variance]);
    const z = tf.zeros([1, 2, 2, 2]);
    expectNoLeak(() => layer.apply(z) as tf.Tensor);
    z.dispose();
  });

  it('a decoder with Conv2DTranspose layers trains with model.fit, saves and loads', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 2 * 2 * 3, inputShape: [4] }),
        tf.layers.reshape({ targetShape: [2, 2, 3] }),
        new Conv2DTransposeFlipout({
          filters: 4,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        }),
        new Conv2DTransposeLocalReparam({
          filters: 1,
          kernelSize: 2,
          strides: 2,
          padding: 'valid',
        }),
      ],
    });
    expect(model.outputs[0]?.shape).toEqual([null, 8, 8, 1]);
    compileBayesian(model, {
      optimizer: tf.train.adam(0.02),
      loss: 'meanSquaredError',
      datasetSize: 32,
    });
    const x = tf.randomNormal([32, 4], 0, 1, 'float32', 1);
    const y = tf.tidy(() =>
      tf.tile(tf.reshape(tf.sigmoid(tf.sum(x, 1)), [32, 1, 1, 1]), [1, 8, 8, 1]),
    );
    const h = await model.fit(x, y, { epochs: 15, batchSize: 8, verbose: 0 });
    const losses = h.history.loss as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(0.6 * losses[0]!);
    const kl = modelKL(model);
    expect(kl.dataSync()[0]).toBeGreaterThan(0);
    kl.dispose();
    const loaded = await saveAndLoad(model);
    setMode(model, 'mean');
    setMode(loaded, 'mean');
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    expect(loaded.layers[2]?.getClassName()).toBe('Conv2DTransposeFlipout');
    tf.dispose([x, y, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('DNN -> BNN conversion turns Conv2DTranspose layers Bayesian, predicting as the DNN', async () => {
    const input = tf.input({ shape: [6, 6, 1] });
    const enc = tf.layers
      .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' })
      .apply(input) as tf.SymbolicTensor;
    const dec = tf.layers
      .conv2dTranspose({
        filters: 3,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
      })
      .apply(enc) as tf.SymbolicTensor;
    const out = tf.layers
      .conv2dTranspose({ filters: 1, kernelSize: [2, 1], padding: 'valid', useBias: false })
      .apply(dec) as tf.SymbolicTensor;
    const dnn = tf.model({ inputs: input, outputs: out });
    const x = tf.randomNormal([2, 6, 6, 1], 0, 1, 'float32', 4);
    const want = dnn.predict(x) as tf.Tensor;
    expect(want.shape).toEqual([2, 7, 6, 1]);
    const { model, converted } = await transformToBnn(dnn, { posteriorSigma: 1e-7 });
    expect(converted.map((c) => `${c.from}->${c.to}`)).toEqual([
      'Conv2D->ConvReparam',
      'Conv2DTranspose->Conv2DTransposeReparam',
      'Conv2DTranspose->Conv2DTransposeReparam',
    ]);
    for (const mode of ['mean', 'sample'] as const) {
      setMode(model, mode);
      const got = model.predict(x) as tf.Tensor;
      expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0], mode).toBeLessThan(1e-4);
      got.dispose();
    }
    model.dispose();
    const moped = await transformToBnn(dnn, { mopedPrior: true, layers: 'conv' });
    expect(moped.model.layers.some((l) => l instanceof MopedConv2DTransposeReparam)).toBe(true);
    expect(moped.model.layers.filter((l) => l instanceof Conv2DTransposeVariational)).toHaveLength(
      2,
    );
    moped.model.dispose();
    tf.dispose([x, want]);
    dnn.dispose();
  });

  it('bad arguments and inputs are named', () => {
    expect(
      () =>
        new Conv2DTransposeReparam({
          filters: 2,
          kernelSize: 3,
          dilationRate: 2,
        } as object as Conv2DTransposeVariationalArgs),
    ).toThrow(/^dilationRate: a transposed convolution has no dilation/);
    expect(
      () =>
        new Conv2DTransposeReparam({
          outChannels: 2,
          kernelSize: 3,
          group: 2,
        } as object as Conv2DTransposeVariationalArgs),
    ).toThrow(/^group: a transposed convolution has no channel groups/);
    expect(
      () =>
        new Conv2DTransposeReparam({ outChannels: 2, kernelSize: 3, padMode: 'pad', padding: 1 }),
    ).toThrow(/^padMode: expected 'same' or 'valid' for a transposed convolution/);
    const l = new Conv2DTransposeReparam({ filters: 2, kernelSize: 3 });
    l.build([null, 4, 4, 2]);
    const seq = tf.zeros([1, 4, 2]);
    expect(() => l.apply(seq)).toThrow(/^inputs: layer .* expects NHWC inputs/);
    const wrongC = tf.zeros([1, 4, 4, 3]);
    expect(() => l.apply(wrongC)).toThrow(/inChannels|channels/);
    tf.dispose([seq, wrongC]);
  });
});
