/**
 * DNN -> BNN conversion of models off the seeds' path: a softmax-ended classifier trains on the
 * NLL of its probabilities, misspelt options are refused, a multi-input model's loss says what it
 * takes.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, transforms } from '../../src/index.js';

function net(activation: 'softmax' | 'linear'): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [4],
        units: 6,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.dense({
        units: 3,
        activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
}

describe('transformToBnn on unseen models', () => {
  it('a softmax-ended model trains on the NLL of its probabilities (not a second softmax)', async () => {
    const x = tf.randomNormal([8, 4], 0, 1, 'float32', 3);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
    const nll: number[] = [];
    for (const act of ['softmax', 'linear'] as const) {
      const r = await transforms.transformToBnn(net(act));
      layers.setMode(r.model, 'mean');
      const t = tf.tidy(() => r.loss.compute(x, y).nll.dataSync()[0]!);
      nll.push(t);
      r.model.dispose();
    }
    // the softmax model's probabilities are softmax(logits of the linear twin): same NLL
    // (before: 1.33 for the softmax model vs its true 3.23)
    expect(nll[0]).toBeCloseTo(nll[1]!, 4);
    tf.dispose([x, y]);
  });

  it('refuses misspelt options; a converted multi-input model trains with x as an array, checked per input', async () => {
    const n1 = net('linear');
    const m = net('linear');
    const before = tf.memory().numTensors;
    await expect(transforms.transformToBnn(n1, { estimatr: 'flipout' } as object)).rejects.toThrow(
      /estimatr: not an option of transformToBnn/,
    );
    await expect(transforms.transformToBnn(n1, { dnn_factor: 6 } as object)).rejects.toThrow(
      /dnn_factor: .*did you mean dnnFactor/,
    );
    const t = new transforms.TransformToBNN(m);
    await expect(t.transformToBnnModel({ getDenseArg: () => ({}) } as object)).rejects.toThrow(
      /getDenseArg: not an option of transformToBnnModel/,
    );
    await expect(
      t.transformToBnnLayer('Dense', 'DenseReparam', { addArg: {} } as object),
    ).rejects.toThrow(/addArg: not an option of transformToBnnLayer/);
    expect(tf.memory().numTensors).toBe(before);
    n1.dispose();
    const a = tf.input({ shape: [2] });
    const b = tf.input({ shape: [2] });
    const c = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
    const o = tf.layers.dense({ units: 3 }).apply(c) as tf.SymbolicTensor;
    const two = tf.model({ inputs: [a, b], outputs: o });
    const r = await transforms.transformToBnn(two);
    const xa = tf.zeros([2, 2]);
    const y = tf.tensor1d([0, 1], 'int32');
    // the converted two-input model trains with x = [xa, xb] (tfjs's convention)
    const sgd = tf.train.sgd(0.1);
    const step = r.loss.trainStep(sgd, [xa, xa], y);
    sgd.dispose();
    expect(Number.isFinite(step.loss.dataSync()[0])).toBe(true);
    tf.dispose([step.loss, step.nll, step.kl]);
    const beforeBad = tf.memory().numTensors;
    expect(() => r.loss.compute(xa, y)).toThrow(
      /x: expected an array of 2 input tensors \(one per model input/,
    );
    expect(() => r.loss.compute([xa, tf.zeros([2, 3])], y)).toThrow(
      /x\[1\]: expected inputs \[B, 2\]/,
    );
    expect(tf.memory().numTensors).toBe(beforeBad + 1); // the zeros made in the call's argument
    tf.dispose([xa, y]);
    r.model.dispose();
    two.dispose();
    m.dispose();
  });

  it('a conversion that fails while building the Bayesian model frees what it built', async () => {
    // a convolution, converted and built, then a Dense whose arguments fail
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    const before = tf.memory().numTensors;
    for (const addDenseArgs of [{ priorSigma: -1 }, { foo: 1 }]) {
      await expect(transforms.transformToBnn(m, { addDenseArgs })).rejects.toThrow(
        /priorSigma: expected a number > 0|foo: not an option/,
      );
      // the Bayesian convolution built before the Dense failed held 4 tensors
      expect(tf.memory().numTensors).toBe(before);
    }
    m.dispose();
  });
});
