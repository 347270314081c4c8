/**
 * Audit 19: a Bayesian layer's config keeps every option a TF.js user gives, so that
 * `fromConfig(getConfig())`, `tf.models.modelFromJSON(model.toJSON())` and `model.save` +
 * `tf.loadLayersModel` rebuild the same layer: here the posterior-mean initializers
 * (`kernelInitializer` / `biasInitializer`, saved by tfjs's own Dense as `{className, config}`).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, setSeed } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectArgumentErrorNaming, saveAndLoad } from '../helpers.js';
import { disposeLayer, maxDiff } from '../fixtures/layers.js';

type Make = (a: Record<string, unknown>) => tf.layers.Layer;
const L = layers as unknown as Record<string, new (a: Record<string, unknown>) => tf.layers.Layer>;

/** Every kind, with the input shape it is built on. */
const KINDS: [string, Record<string, unknown>, number[]][] = [
  ['DenseFlipout', { units: 4 }, [2, 5]],
  ['ConvReparam', { filters: 3, kernelSize: 2, dataFormat: 'channelsFirst' }, [2, 2, 4, 5]],
  ['Conv1DLocalReparam', { filters: 3, kernelSize: 2, padding: 'causal' }, [2, 5, 2]],
  ['Conv2DTransposeFlipout', { filters: 3, kernelSize: 2, strides: 2 }, [1, 3, 2, 2]],
  ['Conv3DReparam', { filters: 2, kernelSize: 2 }, [1, 3, 3, 3, 2]],
  ['Conv3DTransposeLocalReparam', { filters: 2, kernelSize: 2 }, [1, 2, 2, 2, 2]],
  ['LSTMFlipout', { units: 3 }, [2, 3, 2]],
  ['GRUReparam', { units: 3 }, [2, 3, 2]],
  ['SimpleRNNLocalReparam', { units: 3 }, [2, 3, 2]],
  ['MopedDenseReparam', { units: 4 }, [2, 5]],
];

/** The kernel posterior mean a layer built from `make` on `shape` starts with (seed 11). */
function initialKernelMu(make: () => tf.layers.Layer, shape: number[]): Float32Array {
  setSeed(11);
  const l = make();
  l.build(shape);
  const mu = l.getWeights()[0]!.dataSync() as Float32Array;
  const out = Float32Array.from(mu);
  disposeLayer(l);
  return out;
}

describe('audit19: posterior-mean initializers are part of the config', () => {
  for (const [name, args, shape] of KINDS) {
    it(`${name}: fromConfig(getConfig()) starts from the same kernelInitializer / biasInitializer`, () => {
      const make: Make = (a) => new L[name]!(a);
      const full = {
        ...args,
        kernelInitializer: tf.initializers.glorotNormal({ seed: 5 }),
        biasInitializer: 'ones',
      };
      const l = make(full);
      const cfg = l.getConfig();
      // JSON and in tfjs's serialized-initializer form
      expect(JSON.parse(JSON.stringify(cfg))).toEqual(cfg);
      expect(cfg['kernelInitializer']).toEqual({
        className: 'VarianceScaling',
        config: { scale: 1, mode: 'fanAvg', distribution: 'normal', seed: 5 },
      });
      expect(cfg['biasInitializer']).toEqual({ className: 'Ones', config: {} });
      const entry = tf.serialization.SerializationMap.getMap().classNameMap[name]!;
      const rebuilt = () => entry[1](entry[0], JSON.parse(JSON.stringify(cfg))) as tf.layers.Layer;
      expect(rebuilt().getConfig()).toEqual(cfg);
      // the rebuilt layer draws the same initial kernel mean (a seeded Glorot normal, not the
      // posterior's N(0, 0.1^2)) and a bias mean of ones
      const want = initialKernelMu(() => make(full), shape);
      const got = initialKernelMu(rebuilt, shape);
      expect(Array.from(got)).toEqual(Array.from(want));
      const plain = initialKernelMu(() => make(args), shape);
      expect(Array.from(plain)).not.toEqual(Array.from(want));
      setSeed(1);
      const r = rebuilt();
      r.build(shape);
      const biasMu = r.getWeights()[2]!.dataSync();
      expect(Array.from(biasMu).every((v) => v === 1)).toBe(true);
      disposeLayer(r);
    });
  }

  it('a config without initializers is unchanged (no kernelInitializer key)', () => {
    const l = new layers.DenseReparam({ units: 2 });
    expect('kernelInitializer' in l.getConfig()).toBe(false);
    expect('biasInitializer' in l.getConfig()).toBe(false);
  });

  it('modelFromJSON(toJSON()) and save/load keep the initializer; save/load keeps the outputs', async () => {
    setSeed(4);
    // a 2-D Dense output feeds a Conv1D: reshape in between
    const m = tf.sequential({
      layers: [
        new layers.DenseReparam({
          units: 6,
          inputShape: [4],
          kernelInitializer: tf.initializers.heUniform({ seed: 9 }),
          biasInitializer: tf.initializers.constant({ value: 0.25 }),
          mode: 'mean',
        }),
        tf.layers.reshape({ targetShape: [3, 2] }),
        new layers.Conv1DFlipout({
          filters: 2,
          kernelSize: 2,
          biasInitializer: 'zeros',
          mode: 'mean',
        }),
      ],
    });
    const json = m.toJSON(null, false) as tf.io.ModelJSON['modelTopology'];
    const fresh = await tf.models.modelFromJSON({ modelTopology: json });
    const [d0, d1] = [m.layers[0]!, fresh.layers[0]!];
    expect(d1.getConfig()['kernelInitializer']).toEqual(d0.getConfig()['kernelInitializer']);
    expect(d1.getConfig()['biasInitializer']).toEqual({
      className: 'Constant',
      config: { value: 0.25 },
    });
    // the same seeded He-uniform draw, the bias mean 0.25
    expect(maxDiff(d1.getWeights()[0]!, d0.getWeights()[0]!)).toBe(0);
    expect(Array.from(d1.getWeights()[2]!.dataSync())).toEqual(new Array(6).fill(0.25));
    const loaded = await saveAndLoad(m);
    expect(loaded.layers[2]!.getConfig()).toEqual(m.layers[2]!.getConfig());
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 2);
    const y0 = m.predict(x) as tf.Tensor;
    const y1 = loaded.predict(x) as tf.Tensor;
    expect(maxDiff(y0, y1)).toBe(0);
    tf.dispose([x, y0, y1]);
    for (const model of [m, fresh, loaded]) layers.disposeModel(model);
  });

  it('a serialized initializer naming no initializer class is an ArgumentError naming it', () => {
    const bad: [unknown, string][] = [
      [{ className: 'NoSuchInit', config: {} }, 'kernelInitializer.className'],
      // a registered class that is not an initializer
      [{ className: 'DenseReparam', config: {} }, 'kernelInitializer.className'],
      [{ className: 'Zeros', config: 3 }, 'kernelInitializer.config'],
      [{ config: {} }, 'kernelInitializer'],
    ];
    for (const [spec, argName] of bad) {
      expectArgumentErrorNaming(
        () => new layers.DenseReparam({ units: 2, kernelInitializer: spec as 'zeros' }),
        argName,
      );
    }
    expect(() => layers.resolveInitializer({ className: 'L2', config: {} }, 'init')).toThrow(
      ArgumentError,
    );
  });
});
