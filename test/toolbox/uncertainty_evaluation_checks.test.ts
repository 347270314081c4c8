import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { toolbox, ArgumentError } from '../../src/index.js';
import type { UncertaintyEvaluationOptions } from '../../src/toolbox/uncertainty_evaluation.js';
import type { DataBatch } from '../../src/toolbox/fit.js';

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

describe('UncertaintyEvaluation data checks (before any work)', () => {
  const nanX = tf.concat([tf.fill([1, 4], NaN), x.slice(1)]);
  afterAll(() => nanX.dispose());

  it('training inputs and targets must be finite (one NaN row gave epistemic 0 everywhere)', () => {
    rejects(
      { trainDataset: { x: nanX, y } },
      /^trainDataset\.x: expected finite inputs, got NaN at index 0/,
    );
    const reg = mlp(1);
    const yr = tf.tensor1d([0, 1, NaN, 0, 1, 2, 0, 1]);
    rejects(
      { model: reg, taskType: 'regression', trainDataset: { x, y: yr } },
      /^trainDataset\.y: expected finite targets/,
    );
    tf.dispose(yr);
    reg.dispose();
  });

  it('labels: integers in [0, numClasses) of shape [N] (7, 0.5 and one-hot rows were accepted or failed raw)', () => {
    const seven = tf.fill([8], 7, 'int32');
    const half = tf.fill([8], 0.5);
    const oneHot = tf.oneHot(y, 3);
    rejects(
      { trainDataset: { x, y: seven } },
      /^trainDataset\.y: expected integer class labels in \[0, 3\), got 7 at index 0/,
    );
    rejects(
      { trainDataset: { x, y: half } },
      /^trainDataset\.y: expected integer class labels in \[0, 3\), got 0\.5/,
    );
    rejects(
      { trainDataset: { x, y: oneHot } },
      /^trainDataset\.y: .*\[8, 3\] \(one-hot rows\? .*tf\.argMax/,
    );
    rejects(
      { trainDataset: { x, y: y.slice(0, 2) } },
      /^trainDataset\.y: expected 8 labels \(one per row of x\), got 2/,
    );
    rejects(
      { trainDataset: { x: x.slice([0, 0], [8, 3]), y } },
      /^trainDataset\.x: expected shape \[N, 4\]/,
    );
    tf.dispose([seven, half, oneHot]);
  });

  it('regression targets shaped like the model output ([N] only for one output)', () => {
    const reg2 = mlp(2);
    const flat = tf.zeros([8]);
    rejects(
      { model: reg2, taskType: 'regression', trainDataset: { x, y: flat } },
      /^trainDataset\.y: expected targets \[N, 2\] like the model's output, got \[8\]/,
    );
    const reg1 = mlp(1);
    const ok = new toolbox.UncertaintyEvaluation({
      model: reg1,
      taskType: 'regression',
      trainDataset: { x, y: flat },
    });
    ok.dispose();
    tf.dispose(flat);
    reg1.dispose();
    reg2.dispose();
  });

  it('numClasses must match the model output width (5 vs 3 failed raw or returned 3 columns)', () => {
    rejects(
      { numClasses: 5 },
      /^numClasses: the model outputs 3 values per input, so expected numClasses 3, got 5/,
    );
    const drop = tf.sequential({
      layers: [
        tf.layers.dense({ units: 6, inputShape: [4] }),
        tf.layers.dropout({ rate: 0.2 }),
        tf.layers.dense({ units: 3 }),
      ],
    });
    rejects({ model: drop, numClasses: 5 }, /^numClasses/);
    drop.dispose();
    const binary = mlp(1);
    rejects(
      { model: binary, numClasses: 3, trainDataset: undefined },
      /^numClasses: .*expected numClasses 2 \(one output: a binary classifier\), got 3/,
    );
    new toolbox.UncertaintyEvaluation({
      ...base(),
      model: binary,
      numClasses: 2,
      trainDataset: undefined,
    }).dispose();
    binary.dispose();
  });

  it('an empty training set is refused (it skipped training: aleatoric exactly 3)', () => {
    const x0 = tf.zeros([0, 4]);
    const y0 = tf.zeros([0], 'int32');
    rejects({ trainDataset: { x: x0, y: y0 } }, /^trainDataset: is empty/);
    tf.dispose([x0, y0]);
  });

  it('empty evaluation inputs give empty results of the right shape, with no training', async () => {
    const x0 = tf.zeros([0, 4]);
    let epochs = 0;
    const ue = new toolbox.UncertaintyEvaluation({ ...base(), onEpoch: () => void epochs++ });
    const before = tf.memory().numTensors;
    const epi = await ue.evalEpistemicUncertainty(x0);
    const ale = await ue.evalAleatoricUncertainty(x0);
    expect(epi.shape).toEqual([0, 3]);
    expect(ale.shape).toEqual([0]);
    expect(epochs).toBe(0);
    tf.dispose([epi, ale]);
    expect(tf.memory().numTensors).toBe(before);
    ue.dispose();
    const reg = mlp(2);
    const r = new toolbox.UncertaintyEvaluation({ model: reg, taskType: 'regression' });
    const e2 = await r.evalEpistemicUncertainty(x0);
    expect(e2.shape).toEqual([0, 2]);
    tf.dispose([e2, x0]);
    r.dispose();
    reg.dispose();
  });

  it('evaluation inputs: a finite tensor of the model input shape, named x', async () => {
    const ue = new toolbox.UncertaintyEvaluation(base());
    const wide = tf.zeros([2, 5]);
    await expect(ue.evalEpistemicUncertainty(wide)).rejects.toThrow(
      /^x: expected shape \[N, 4\] \(the model's input\), got \[2, 5\]/,
    );
    await expect(ue.evalAleatoricUncertainty(nanX)).rejects.toThrow(/^x: expected finite inputs/);
    await expect(
      ue.evalEpistemicUncertainty([[1, 2, 3, 4]] as unknown as tf.Tensor),
    ).rejects.toThrow(/^x: expected a tf\.Tensor/);
    wide.dispose();
    ue.dispose();
  });
});

describe('UncertaintyEvaluation frees its copies on every failure', () => {
  /** Run `call` on a fresh evaluation; it must reject with `re` and leave numTensors unchanged. */
  async function failsClean(
    opts: Partial<UncertaintyEvaluationOptions> & Record<string, unknown>,
    which: 'epi' | 'ale',
    re: RegExp,
  ): Promise<void> {
    const before = tf.memory().numTensors;
    const ue = new toolbox.UncertaintyEvaluation({
      ...base(),
      ...opts,
    } as UncertaintyEvaluationOptions);
    const run = (): Promise<tf.Tensor> =>
      which === 'epi' ? ue.evalEpistemicUncertainty(x) : ue.evalAleatoricUncertainty(x);
    await expect(run()).rejects.toThrow(re);
    // a second call fails the same way (nothing half-built is cached)
    await expect(run()).rejects.toThrow(re);
    ue.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }

  /** A batch source of `x`/`y` in batches of 4; `poison` puts a NaN in the second batch's x. */
  function source(poison: boolean, empty = false): { batches(e: number): Iterable<DataBatch> } {
    return {
      *batches() {
        if (empty) return;
        for (let i = 0; i < 8; i += 4) {
          const xb = tf.tidy(() => {
            const b = x.slice(i, 4);
            return poison && i > 0 ? tf.concat([tf.fill([1, 4], NaN), b.slice(1)]) : b;
          });
          const yb = y.slice(i, 4);
          yield { x: xb, y: yb, dispose: () => tf.dispose([xb, yb]) };
        }
      },
    };
  }

  it('no trainDataset (leaked 4 / 6 tensors)', async () => {
    await failsClean(
      { trainDataset: undefined },
      'epi',
      /^trainDataset: needed to train the epistemic/,
    );
    await failsClean(
      { trainDataset: undefined },
      'ale',
      /^trainDataset: needed to train the aleatoric/,
    );
  });

  it('a throwing onEpoch callback or store.save', async () => {
    const onEpoch = (): void => {
      throw new Error('stop here');
    };
    await failsClean({ onEpoch }, 'epi', /stop here/);
    await failsClean({ onEpoch }, 'ale', /stop here/);
    const store = {
      save: (): Promise<void> => Promise.reject(new Error('disk full')),
      load: (): Promise<tf.LayersModel> => Promise.reject(new Error('no model')),
    };
    const paths = { epiUncerModelPath: 'e', aleUncerModelPath: 'a' };
    await failsClean({ store, ...paths, saveModel: true }, 'epi', /disk full/);
    await failsClean({ store, ...paths, saveModel: true }, 'ale', /disk full/);
  });

  it('a batch source with a NaN batch, or no batches', async () => {
    await failsClean(
      { trainDataset: source(true) },
      'epi',
      /^trainDataset \(a batch x\): expected finite inputs/,
    );
    await failsClean({ trainDataset: source(true) }, 'ale', /^trainDataset \(a batch x\)/);
    await failsClean(
      { trainDataset: source(false, true) },
      'epi',
      /^trainDataset: yielded no training examples/,
    );
    await failsClean(
      { trainDataset: source(false, true) },
      'ale',
      /^trainDataset: yielded no training examples/,
    );
  });

  it('a functional regression model without a Dense mean head for the aleatoric copy (leaked 4 tensors)', async () => {
    // a functional model whose output is made by a Dense is supported (its input feeds the
    // log-variance head); one whose output is an Add of two branches has no mean head
    const inp = tf.input({ shape: [4] });
    const out = tf.layers
      .add()
      .apply([
        tf.layers.dense({ units: 2 }).apply(inp) as tf.SymbolicTensor,
        tf.layers.dense({ units: 2 }).apply(inp) as tf.SymbolicTensor,
      ]) as tf.SymbolicTensor;
    const fn = tf.model({ inputs: inp, outputs: out });
    const yr = tf.zeros([8, 2]);
    await failsClean(
      { model: fn, taskType: 'regression', numClasses: undefined, trainDataset: { x, y: yr } },
      'ale',
      /^model: .*tf\.Sequential/,
    );
    tf.dispose(yr);
    fn.dispose();
  });

  it('a loaded model that does not fit the given model is disposed and named', async () => {
    const other = mlp(5);
    const store = {
      save: (): Promise<void> => Promise.resolve(),
      load: async (): Promise<tf.LayersModel> => toolbox.cloneModel(other),
    };
    const paths = { epiUncerModelPath: 'e', aleUncerModelPath: 'a', store };
    await failsClean(paths, 'epi', /^epiUncerModelPath: the loaded model does not fit/);
    await failsClean(paths, 'ale', /^aleUncerModelPath: the loaded model does not fit/);
    const plain = { ...paths, store: { ...store, load: async () => toolbox.cloneModel(model) } };
    await failsClean(
      plain,
      'epi',
      /^epiUncerModelPath: the loaded model has no dropout or Bayesian layer/,
    );
    other.dispose();
  });
});

describe('heteroscedasticRegressor', () => {
  it('refuses a functional or dense-less model before copying it (no tensor left behind)', async () => {
    const inp = tf.input({ shape: [3] });
    const out = tf.layers
      .add()
      .apply([
        tf.layers.dense({ units: 2 }).apply(inp) as tf.SymbolicTensor,
        tf.layers.dense({ units: 2 }).apply(inp) as tf.SymbolicTensor,
      ]) as tf.SymbolicTensor;
    const functional = tf.model({ inputs: inp, outputs: out });
    const convOnly = tf.sequential({
      layers: [tf.layers.conv1d({ inputShape: [4, 1], filters: 1, kernelSize: 2 })],
    });
    const before = tf.memory().numTensors;
    await expect(toolbox.heteroscedasticRegressor(functional)).rejects.toThrow(
      /model: a regression model must be a tf.Sequential ending in a dense layer/,
    );
    await expect(toolbox.heteroscedasticRegressor(convOnly)).rejects.toThrow(
      /model: has no dense layer to use as the mean head/,
    );
    expect(tf.memory().numTensors).toBe(before);
    functional.dispose();
    convOnly.dispose();
  });
});
