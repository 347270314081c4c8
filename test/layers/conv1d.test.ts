/**
 * Bayesian Conv1D layers (TFP's `Convolution1DReparameterization` / `Convolution1DFlipout`): in
 * mean mode they are tfjs's `conv1d` (same, valid, causal padding, strides, dilation, groups
 * through the 2-D kind); sampled, each estimator gives per output element
 * `mean = conv1d(x, mu) + mu_b` and `variance = conv1d(x², σ²) + σ_b²` over many calls (float64
 * reference loop below, tolerance 4.5 standard errors); models with them save and load.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Conv1DFlipout,
  Conv1DLocalReparam,
  Conv1DReparam,
  Conv1DVariational,
  modelKL,
  setMode,
} from '../../src/layers/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak, saveAndLoad } from '../helpers.js';

beforeAll(() => setSeed(11));
afterAll(() => clearSeed());

const softplus = (r: number): number => Math.log1p(Math.exp(r));

/** float64 conv1d of x [L, C] with kernel [k, C, O], stride s, dilation d, left/right pads. */
function refConv1d(
  x: number[][],
  w: number[][][],
  s: number,
  d: number,
  padL: number,
  outLen: number,
): number[][] {
  const k = w.length;
  const out: number[][] = [];
  for (let t = 0; t < outLen; t++) {
    const row = new Array<number>(w[0]?.[0]?.length ?? 0).fill(0);
    for (let j = 0; j < k; j++) {
      const i = t * s + j * d - padL;
      const xi = x[i];
      if (xi === undefined) continue;
      xi.forEach((v, c) => w[j]?.[c]?.forEach((wv, o) => (row[o] = (row[o] as number) + v * wv)));
    }
    out.push(row);
  }
  return out;
}

function build(layer: Conv1DVariational, shape: number[]): void {
  layer.build([null, ...shape]);
}

describe('Bayesian Conv1D', () => {
  it('mean mode equals tf.conv1d (same, valid, strides, dilation) and causal padding', () => {
    const x = tf.randomNormal([2, 11, 3], 0, 1, 'float32', 3);
    const configs = [
      { padding: 'same' as const, strides: 1, dilationRate: 1 },
      { padding: 'valid' as const, strides: 2, dilationRate: 1 },
      { padding: 'same' as const, strides: 1, dilationRate: 2 },
      { padding: 'valid' as const, strides: 1, dilationRate: 3 },
    ];
    for (const c of configs) {
      const l = new Conv1DReparam({ filters: 4, kernelSize: 3, ...c });
      build(l, [11, 3]);
      setMode(l, 'mean');
      const [k, , b] = l.getWeights();
      const want = tf.add(
        tf.conv1d(x as tf.Tensor3D, k as tf.Tensor3D, c.strides, c.padding, 'NWC', c.dilationRate),
        b as tf.Tensor,
      );
      const got = l.apply(x) as tf.Tensor;
      expect(got.shape, JSON.stringify(c)).toEqual(want.shape);
      expect(l.computeOutputShape([null, 11, 3])).toEqual([null, ...want.shape.slice(1)]);
      expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-5);
      tf.dispose([got, want]);
    }
    // causal: output t sees inputs <= t (TF.js pads (k - 1) d on the left)
    const l = new Conv1DFlipout({ filters: 2, kernelSize: 3, dilationRate: 2, padding: 'causal' });
    build(l, [11, 3]);
    setMode(l, 'mean');
    const [k, , b] = l.getWeights();
    const padded = tf.pad(x, [
      [0, 0],
      [4, 0],
      [0, 0],
    ]);
    const want = tf.add(
      tf.conv1d(padded as tf.Tensor3D, k as tf.Tensor3D, 1, 'valid', 'NWC', 2),
      b as tf.Tensor,
    );
    const got = l.apply(x) as tf.Tensor;
    expect(got.shape).toEqual([2, 11, 2]);
    expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, padded, want, got]);
  });

  it.each([
    ['Conv1DReparam', (a: object) => new Conv1DReparam({ ...a, kernelSize: 3 })],
    ['Conv1DLocalReparam', (a: object) => new Conv1DLocalReparam({ ...a, kernelSize: 3 })],
    ['Conv1DFlipout', (a: object) => new Conv1DFlipout({ ...a, kernelSize: 3 })],
  ] as const)(
    '%s samples mean conv1d(x, mu) + mu_b, variance conv1d(x², σ²) + σ_b²',
    (_n, make) => {
      const L = 6;
      const C = 2;
      const O = 2;
      const layer = make({ filters: O, padding: 'valid', posteriorRhoInitial: [-1, 0.5] });
      build(layer, [L, C]);
      const xs = Array.from({ length: L }, (_, i) =>
        Array.from({ length: C }, (_, c) => Math.sin(i + 2 * c) + 0.3),
      );
      const [kMu, kRho, bMu, bRho] = layer.getWeights().map((w) => {
        const v = Array.from(w.dataSync());
        return { v, shape: w.shape };
      }) as { v: number[]; shape: number[] }[];
      const k3 = (f: (v: number) => number, t: { v: number[] }): number[][][] =>
        Array.from({ length: 3 }, (_, j) =>
          Array.from({ length: C }, (_, c) =>
            Array.from({ length: O }, (_, o) => f(t.v[(j * C + c) * O + o] as number)),
          ),
        );
      const outLen = L - 2;
      const mean = refConv1d(
        xs,
        k3((v) => v, kMu!),
        1,
        1,
        0,
        outLen,
      ).map((r) => r.map((v, o) => v + (bMu!.v[o] as number)));
      const variance = refConv1d(
        xs.map((r) => r.map((v) => v * v)),
        k3((r) => softplus(r) ** 2, kRho!),
        1,
        1,
        0,
        outLen,
      ).map((r) => r.map((v, o) => v + softplus(bRho!.v[o] as number) ** 2));
      const S = 600;
      const x = tf.tensor3d([xs]);
      const draws = tf.tidy(() =>
        tf.concat(Array.from({ length: S }, () => layer.apply(x) as tf.Tensor)),
      );
      const m = tf.moments(draws, 0);
      const gotMean = m.mean.arraySync() as number[][];
      const gotVar = m.variance.arraySync() as number[][];
      for (let t = 0; t < outLen; t++) {
        for (let o = 0; o < O; o++) {
          const v = variance[t]![o]!;
          expect(Math.abs(gotMean[t]![o]! - mean[t]![o]!)).toBeLessThan(4.5 * Math.sqrt(v / S));
          expect(Math.abs(gotVar[t]![o]! / v - 1)).toBeLessThan(4.5 * Math.sqrt(2 / S));
        }
      }
      tf.dispose([x, draws, m.mean, m.variance]);
      const z = tf.zeros([1, L, C]);
      expectNoLeak(() => layer.apply(z) as tf.Tensor);
      z.dispose();
    },
  );

  it('a model with Conv1D layers trains its KL, saves and loads with the same mean predictions', async () => {
    const model = tf.sequential({
      layers: [
        new Conv1DFlipout({ filters: 4, kernelSize: 3, padding: 'causal', inputShape: [8, 2] }),
        new Conv1DLocalReparam({ filters: 3, kernelSize: 2, strides: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2 }),
      ],
    });
    expect(model.outputs[0]?.shape).toEqual([null, 2]);
    const kl = modelKL(model);
    expect(kl.dataSync()[0]).toBeGreaterThan(0);
    kl.dispose();
    const loaded = await saveAndLoad(model);
    setMode(model, 'mean');
    setMode(loaded, 'mean');
    const x = tf.randomNormal([3, 8, 2], 0, 1, 'float32', 5);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    expect(loaded.layers[0]?.getClassName()).toBe('Conv1DFlipout');
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('bad arguments and inputs are named', () => {
    expect(() => new Conv1DReparam({ filters: 2, kernelSize: [3, 3] })).toThrow(
      /^kernelSize: expected an integer >= 1 or \[n\] for a 1-D convolution/,
    );
    expect(
      () => new Conv1DReparam({ filters: 2, kernelSize: 3, padMode: 'pad', padding: [1, 2, 3] }),
    ).toThrow(/^padding: expected a number or \[left, right\]/);
    const l = new Conv1DReparam({ filters: 2, kernelSize: 3 });
    build(l, [5, 2]);
    const img = tf.zeros([1, 5, 5, 2]);
    expect(() => l.apply(img)).toThrow(
      /^inputs: layer .* expects inputs of shape \[batch, length, inChannels\]/,
    );
    const short = tf.zeros([1, 2, 2]);
    expect(() => l.apply(short)).toThrow(/^inputs: .* too small for kernelSize/);
    tf.dispose([img, short]);
  });
});
