/**
 * The smallest input side of each zoo model, derived from its layer list (`minInputSide`), at the
 * boundary: the minimum builds and predicts `[1, K]` logits, one pixel less leaves a feature map
 * of no pixels, and `checkConfig` refuses it (naming `input-size`, the model and the minimum)
 * before any data is loaded. Closed forms: LeNet-5 `((n - 4) / 2 - 4) / 2 >= 1` gives 16; AlexNet
 * conv 11/4 pad 5 then three 2x2 poolings, `floor((n - 1) / 4) + 1 >= 8` gives 29; 3Conv3FC three
 * 3/2 poolings around a pad-1 5x5 conv gives 23.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { checkConfig, TRAIN_DEFAULTS } from '../../src/app/run_config.js';
import { createModel, MODELS } from '../../src/models/registry.js';
import { alexnetSpec } from '../../src/models/alexnet.js';
import { lenet5Spec } from '../../src/models/lenet5.js';
import { featureSide, minInputSide } from '../../src/models/spec.js';
import { threeConvThreeFCSpec } from '../../src/models/three_conv_three_fc.js';

describe('minimum input side of the zoo', () => {
  it('matches the closed forms of the architectures', () => {
    expect(minInputSide(lenet5Spec(10, 'mindspore'))).toBe(16);
    expect(minInputSide(alexnetSpec(10))).toBe(29);
    expect(minInputSide(threeConvThreeFCSpec(10))).toBe(23);
    // AlexNet: brute force of its side formula
    const alex = (n: number): number =>
      Math.floor(Math.floor(Math.floor((Math.floor((n - 1) / 4) + 1) / 2) / 2) / 2);
    for (let n = 1; n <= 64; n++) expect(featureSide(alexnetSpec(10), n)).toBe(alex(n));
    expect(MODELS['alexnet']?.minInputSide).toBe(29);
    expect(MODELS['bayes-3conv3fc']?.minInputSide).toBe(23);
  });

  for (const name of ['3conv3fc', 'bayes-3conv3fc', 'alexnet', 'bayes-alexnet', 'lenet5']) {
    it(`${name}: the minimum works, one less is refused`, () => {
      const m = MODELS[name]?.minInputSide as number;
      const before = tf.memory().numTensors;
      const net = createModel(name, {
        inputShape: [m, m, 1],
        ...(name.startsWith('bayes-') ? { bayesian: 'reparam' } : {}),
      });
      const x = tf.zeros([1, m, m, 1]);
      const y = net.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([1, 10]);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      tf.dispose([x, y]);
      net.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const cfg = { ...TRAIN_DEFAULTS, model: name, out: 'unused' };
      expect(() => checkConfig({ ...cfg, inputSize: m })).not.toThrow();
      expect(() => checkConfig({ ...cfg, inputSize: m - 1 })).toThrow(
        new RegExp(`input-size: ${name} takes inputs of at least ${m}x${m} .*got ${m - 1}`),
      );
      expect(() =>
        createModel(name, {
          inputShape: [m - 1, m - 1, 1],
          ...(name.startsWith('bayes-') ? { bayesian: 'reparam' } : {}),
        }),
      ).toThrow();
    });
  }
});
