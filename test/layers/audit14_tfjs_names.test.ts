/**
 * Issue 18 audit: the Bayesian layer factories written with TF.js's argument names (`units`,
 * `filters`, `kernelSize`, `strides`, `padding`, `dilationRate`, `useBias`, `kernelInitializer`,
 * `biasInitializer`), checked against tfjs's own layers. In `'mean'` mode a Bayesian layer is
 * the deterministic layer with its posterior means, `y = act(W_mu * x + b_mu)`, so its output
 * must equal `tf.layers.*` given the same weights, for every shape option: a wrong stride,
 * padding, dilation or bias default shows as a shape or value mismatch.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { layers, ready } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { saveAndLoad } from '../helpers.js';

beforeAll(async () => {
  await ready();
});

/** A Bayesian layer's posterior means `[kernel_mu, bias_mu?]`, by weight name. */
function means(layer: tf.layers.Layer): tf.Tensor[] {
  return layer.weights
    .filter((w) => /\/(kernel|bias)_mu$/.test(w.name))
    .sort((a, b) => (a.name.endsWith('kernel_mu') ? -1 : b.name.endsWith('kernel_mu') ? 1 : 0))
    .map((w) => w.read());
}

/** max |bayes(x) - plain(x)| with plain given the posterior means; also the two output shapes. */
function compare(
  bayes: tf.layers.Layer,
  plain: tf.layers.Layer,
  x: tf.Tensor,
): { err: number; shapes: [number[], number[]] } {
  const mb = tf.sequential({ layers: [bayes] });
  const mp = tf.sequential({ layers: [plain] });
  layers.setMode(mb, 'mean');
  mp.layers[0]?.setWeights(means(bayes));
  return tf.tidy(() => {
    const a = mb.predict(x) as tf.Tensor;
    const b = mp.predict(x) as tf.Tensor;
    const shapes: [number[], number[]] = [a.shape, b.shape];
    const err = a.shape.join() === b.shape.join() ? tf.max(tf.abs(tf.sub(a, b))).arraySync() : NaN;
    return { err: err as number, shapes };
  });
}

const seedInit = (seed: number): ReturnType<typeof tf.initializers.randomNormal> =>
  tf.initializers.randomNormal({ mean: 0, stddev: 0.5, seed });

describe('TF.js argument names against tfjs layers (mean mode = the plain layer)', () => {
  const x2 = tf.randomNormal([3, 7], 0, 1, 'float32', 11);
  const x4 = tf.randomNormal([2, 9, 8, 3], 0, 1, 'float32', 12);
  const x3 = tf.randomNormal([2, 11, 3], 0, 1, 'float32', 13);
  const x5 = tf.randomNormal([1, 5, 6, 7, 2], 0, 1, 'float32', 14);

  const cases: [string, () => [tf.layers.Layer, tf.layers.Layer, tf.Tensor]][] = [
    [
      'denseFlipout units + tanh',
      () => [
        layers.denseFlipout({
          inputShape: [7],
          units: 5,
          activation: 'tanh',
          kernelInitializer: seedInit(1),
          biasInitializer: seedInit(2),
        }),
        tf.layers.dense({ inputShape: [7], units: 5, activation: 'tanh' }),
        x2,
      ],
    ],
    [
      'denseLocalReparam useBias false',
      () => [
        layers.denseLocalReparam({
          inputShape: [7],
          units: 4,
          useBias: false,
          kernelInitializer: seedInit(3),
        }),
        tf.layers.dense({ inputShape: [7], units: 4, useBias: false }),
        x2,
      ],
    ],
    [
      'convReparam kernelSize [3, 2], strides [2, 1], valid',
      () => [
        layers.convReparam({
          inputShape: [9, 8, 3],
          filters: 4,
          kernelSize: [3, 2],
          strides: [2, 1],
          padding: 'valid',
          kernelInitializer: seedInit(4),
          biasInitializer: seedInit(5),
        }),
        tf.layers.conv2d({
          inputShape: [9, 8, 3],
          filters: 4,
          kernelSize: [3, 2],
          strides: [2, 1],
          padding: 'valid',
        }),
        x4,
      ],
    ],
    [
      'convFlipout same padding, stride 2 on odd sizes, relu',
      () => [
        layers.convFlipout({
          inputShape: [9, 8, 3],
          filters: 2,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: seedInit(6),
          biasInitializer: seedInit(7),
        }),
        tf.layers.conv2d({
          inputShape: [9, 8, 3],
          filters: 2,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        }),
        x4,
      ],
    ],
    [
      'convLocalReparam dilationRate 2, same',
      () => [
        layers.convLocalReparam({
          inputShape: [9, 8, 3],
          filters: 3,
          kernelSize: 3,
          dilationRate: 2,
          padding: 'same',
          kernelInitializer: seedInit(8),
          biasInitializer: seedInit(9),
        }),
        tf.layers.conv2d({
          inputShape: [9, 8, 3],
          filters: 3,
          kernelSize: 3,
          dilationRate: 2,
          padding: 'same',
        }),
        x4,
      ],
    ],
    [
      'conv1dFlipout strides 2, same',
      () => [
        layers.conv1dFlipout({
          inputShape: [11, 3],
          filters: 4,
          kernelSize: 4,
          strides: 2,
          padding: 'same',
          kernelInitializer: seedInit(10),
          biasInitializer: seedInit(11),
        }),
        tf.layers.conv1d({
          inputShape: [11, 3],
          filters: 4,
          kernelSize: 4,
          strides: 2,
          padding: 'same',
        }),
        x3,
      ],
    ],
    [
      'conv2dTransposeReparam strides 2, same',
      () => [
        layers.conv2dTransposeReparam({
          inputShape: [9, 8, 3],
          filters: 2,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          kernelInitializer: seedInit(12),
          biasInitializer: seedInit(13),
        }),
        tf.layers.conv2dTranspose({
          inputShape: [9, 8, 3],
          filters: 2,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
        }),
        x4,
      ],
    ],
    [
      'conv3dReparam kernelSize [2, 3, 2], valid',
      () => [
        layers.conv3dReparam({
          inputShape: [5, 6, 7, 2],
          filters: 2,
          kernelSize: [2, 3, 2],
          padding: 'valid',
          kernelInitializer: seedInit(14),
          biasInitializer: seedInit(15),
        }),
        tf.layers.conv3d({
          inputShape: [5, 6, 7, 2],
          filters: 2,
          kernelSize: [2, 3, 2],
          padding: 'valid',
        }),
        x5,
      ],
    ],
  ];

  for (const [what, make] of cases) {
    it(what, () => {
      const [bayes, plain, x] = make();
      const before = tf.memory().numTensors;
      const { err, shapes } = compare(bayes, plain, x);
      expect(shapes[0]).toEqual(shapes[1]);
      expect(err).toBeLessThan(1e-5);
      // building the two models made their variables; the comparison itself leaks nothing
      expect(tf.memory().numTensors).toBe(before + bayes.weights.length + plain.weights.length);
    });
  }

  it('useBias defaults to true on every family (conv layers too), false removes the bias', () => {
    const withBias = [
      layers.denseReparam({ inputShape: [3], units: 2 }),
      layers.convFlipout({ inputShape: [4, 4, 1], filters: 2, kernelSize: 2 }),
      layers.conv1dReparam({ inputShape: [5, 1], filters: 2, kernelSize: 2 }),
      layers.conv2dTransposeFlipout({ inputShape: [4, 4, 1], filters: 2, kernelSize: 2 }),
    ];
    for (const l of withBias) {
      tf.sequential({ layers: [l] });
      expect(l.weights.map((w) => w.name.split('/').pop())).toEqual([
        'kernel_mu',
        'kernel_rho',
        'bias_mu',
        'bias_rho',
      ]);
    }
    const noBias = layers.convReparam({
      inputShape: [4, 4, 1],
      filters: 2,
      kernelSize: 2,
      useBias: false,
    });
    tf.sequential({ layers: [noBias] });
    expect(noBias.weights.map((w) => w.name.split('/').pop())).toEqual(['kernel_mu', 'kernel_rho']);
  });

  it("initializer names: 'zeros' / 'ones' give those posterior means", () => {
    const l = layers.denseFlipout({
      inputShape: [3],
      units: 2,
      kernelInitializer: 'zeros',
      biasInitializer: 'ones',
    });
    tf.sequential({ layers: [l] });
    const [k, b] = means(l);
    expect(Array.from(k?.dataSync() ?? [])).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(b?.dataSync() ?? [])).toEqual([1, 1]);
  });

  it("TF.js's Conv2D names (audit 19): Conv2DFlipout / conv2dReparam are the Conv classes, saved as them", async () => {
    expect(layers.Conv2DReparam).toBe(layers.ConvReparam);
    expect(layers.Conv2DLocalReparam).toBe(layers.ConvLocalReparam);
    expect(layers.Conv2DFlipout).toBe(layers.ConvFlipout);
    const factories = [layers.conv2dReparam, layers.conv2dLocalReparam, layers.conv2dFlipout];
    const classes = ['ConvReparam', 'ConvLocalReparam', 'ConvFlipout'];
    for (const [i, make] of factories.entries()) {
      const l = make({
        inputShape: [5, 4, 2],
        filters: 3,
        kernelSize: 2,
        strides: 2,
        padding: 'same',
      });
      expect(l.getClassName()).toBe(classes[i]);
      // mean mode = tf.layers.conv2d with the same arguments and weights
      const x = tf.randomNormal([2, 5, 4, 2], 0, 1, 'float32', 7);
      const plain = tf.layers.conv2d({
        inputShape: [5, 4, 2],
        filters: 3,
        kernelSize: 2,
        strides: 2,
        padding: 'same',
      });
      const { err, shapes } = compare(l, plain, x);
      expect(shapes[0]).toEqual([2, 3, 2, 3]);
      expect(err).toBeLessThan(1e-6);
      x.dispose();
    }
    // a model built from the TF.js names saves and loads under the registered class names
    const m = tf.sequential({
      layers: [
        new layers.Conv2DFlipout({
          inputShape: [4, 4, 1],
          filters: 2,
          kernelSize: 3,
          mode: 'mean',
        }),
      ],
    });
    const back = await saveAndLoad(m);
    expect(back.layers[0]).toBeInstanceOf(layers.Conv2DFlipout);
    const x = tf.randomNormal([1, 4, 4, 1], 0, 1, 'float32', 8);
    const [a, b] = [m.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    layers.disposeModel(m);
    layers.disposeModel(back);
  });

  it('bad TF.js-named arguments are ArgumentErrors naming them', () => {
    const bad: [() => unknown, RegExp][] = [
      [() => layers.denseFlipout({ units: 0 }), /units|outChannels/],
      [() => layers.denseFlipout({ units: 2.5 }), /units|outChannels/],
      [
        () => layers.convFlipout({ filters: 2, kernelSize: 3, padding: 'full' as never }),
        /padding/,
      ],
      [() => layers.convFlipout({ filters: 2, kernelSize: 0 }), /kernelSize/],
      [() => layers.convFlipout({ filters: 2, kernelSize: 3, strides: -1 }), /strides|stride/],
      [
        () => layers.denseFlipout({ units: 2, kernelInitializer: 'nope' as never }),
        /kernelInitializer/,
      ],
      [() => layers.denseFlipout({ units: 2, useBias: 'yes' as never }), /useBias|hasBias/],
      [() => layers.denseFlipout({ units: 2, unit: 3 } as never), /unit/],
    ];
    for (const [call, name] of bad) {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).argument).toMatch(name);
    }
  });
});
