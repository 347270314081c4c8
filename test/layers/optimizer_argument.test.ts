/**
 * `tf.Optimizer`'s `instanceof` reads `minimize` of its operand, so `undefined instanceof
 * tf.Optimizer` throws a raw TypeError: every public entry that takes an optimizer names the
 * argument instead.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { SVI as MindSporeSVI } from '../../src/infer/svi.js';
import { WithBNNLoss } from '../../src/layers/with_bnn_loss.js';
import { DenseReparam } from '../../src/layers/index.js';
import { ArgumentError } from '../../src/utils/errors.js';

describe('a missing optimizer', () => {
  it('is an ArgumentError naming optimizer in WithBNNLoss.trainStep and infer.SVI', () => {
    const model = tf.sequential({
      layers: [new DenseReparam({ outChannels: 2, inputShape: [3] } as never)],
    });
    const cell = new WithBNNLoss(model, 'softmaxCrossEntropy', 1, 1);
    const x = tf.ones([2, 3]);
    const y = tf.tensor1d([0, 1], 'int32');
    const before = tf.memory().numTensors;
    for (const bad of [undefined, null, 3]) {
      const f = (): unknown => cell.trainStep(bad as never, x, y);
      expect(f).toThrow(ArgumentError);
      expect(f).toThrow(/^optimizer: expected a tf.Optimizer/);
    }
    expect(tf.memory().numTensors).toBe(before);
    const net = { call: () => tf.scalar(0), trainableVariables: () => [] };
    expect(() => new MindSporeSVI({ netWithLoss: net, optimizer: undefined } as never)).toThrow(
      /^optimizer: expected a tf.Optimizer/,
    );
    tf.dispose([x, y]);
    model.dispose();
  });
});
