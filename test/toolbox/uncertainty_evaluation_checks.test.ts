import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { toolbox, ArgumentError } from '../../src/index.js';
import type { UncertaintyEvaluationOptions } from '../../src/toolbox/uncertainty_evaluation.js';

function mlp(units: number, activation?: 'softmax'): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [4],
        units: 6,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.dense({
        units,
        activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
}

const x = tf.randomNormal([8, 4], 0, 1, 'float32', 3);
const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
const model = mlp(3);
afterAll(() => {
  tf.dispose([x, y]);
  model.dispose();
});

const base = (): UncertaintyEvaluationOptions => ({
  model,
  trainDataset: { x, y },
  taskType: 'classification',
  numClasses: 3,
});

/** Construct with `extra` options; the error must be an ArgumentError matching `re`. */
function rejects(extra: Record<string, unknown>, re: RegExp): void {
  const before = tf.memory().numTensors;
  const make = (): unknown =>
    new toolbox.UncertaintyEvaluation({ ...base(), ...extra } as UncertaintyEvaluationOptions);
  expect(make).toThrow(ArgumentError);
  expect(make).toThrow(re);
  expect(tf.memory().numTensors).toBe(before);
}

describe('UncertaintyEvaluation option checks', () => {
  it('batchSize: a positive integer (0 and -1 hung the training loop, 1.5 was accepted)', () => {
    for (const batchSize of [0, -1, 1.5, NaN, Infinity]) {
      rejects({ batchSize }, /^batchSize: expected a positive integer/);
    }
  });

  it('learningRate: finite and > 0 (NaN gave all-NaN results, -1 ascended the loss)', () => {
    for (const learningRate of [NaN, -1, 0, Infinity]) {
      rejects({ learningRate }, /^learningRate: expected a finite number > 0/);
    }
  });

  it('dropoutRate, mcSamples, epochs, seed, saveModel, paths, store, onEpoch', () => {
    rejects({ dropoutRate: 1 }, /^dropoutRate/);
    rejects({ dropoutRate: 0 }, /^dropoutRate/);
    rejects({ mcSamples: 1 }, /^mcSamples/);
    rejects({ epochs: 1.5 }, /^epochs/);
    rejects({ seed: 0.5 }, /^seed/);
    rejects({ saveModel: 'yes' }, /^saveModel/);
    rejects({ epiUncerModelPath: 3 }, /^epiUncerModelPath/);
    rejects({ store: {} }, /^store/);
    rejects({ onEpoch: 1 }, /^onEpoch/);
  });

  it("epistemicMethod: only 'mc-dropout' or 'bnn' ('BNN' fell back to MC dropout)", () => {
    rejects(
      { epistemicMethod: 'BNN' },
      /^epistemicMethod: expected 'mc-dropout' or 'bnn', got "BNN"/,
    );
    rejects({ epistemicMethod: 'mc_dropout' }, /^epistemicMethod/);
  });

  it('unknown option keys are named (MindSpore snake_case gets the camelCase name)', () => {
    rejects({ epoch: 50 }, /^epoch: not an option of UncertaintyEvaluation/);
    rejects({ num_classes: 3 }, /^num_classes: .*did you mean numClasses\?/);
    rejects({ epi_uncer_model_path: 'a' }, /did you mean epiUncerModelPath\?/);
    rejects({ save_model: true }, /did you mean saveModel\?/);
  });

  it('toolbox.fit checks batchSize and learningRate before training', async () => {
    const loss = (): tf.Scalar => tf.scalar(0);
    const data = { x, y };
    await expect(toolbox.fit(model, loss, data, { epochs: 1, batchSize: 0 })).rejects.toThrow(
      /^batchSize/,
    );
    await expect(toolbox.fit(model, loss, data, { epochs: 1, learningRate: NaN })).rejects.toThrow(
      /^learningRate/,
    );
  });
});
