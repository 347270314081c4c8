/**
 * Bad input on `train` (fit, evaluate, trainStep, elboLoss): each row is a call a user can make
 * wrongly; it must throw an `ArgumentError` naming the argument or option before any step or
 * batch runs, and leave no tensor behind (never a raw tfjs message, a silent clamp, a NaN result
 * or a failure at the first step).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, it } from 'vitest';
import { Batcher } from '../../src/data/index.js';
import * as train from '../../src/train/index.js';
import { setMode } from '../../src/layers/index.js';
import { expectBadInput, type BadInputCase } from '../helpers.js';
import { bands } from './helpers.js';

const set = bands(8, 4, 2);
const batcher = new Batcher(set, { batchSize: 4, shuffle: false });
const net = tf.sequential({
  layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 2 })],
});
const flat = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
const oneClass = tf.sequential({
  layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 1 })],
});
const opt = tf.train.sgd(0.1);
const ce = train.crossEntropyLoss();
const ctx = { step: 0, epoch: 0, numBatches: 1 };
const x = tf.zeros([2, 4, 4, 1]);
const y = tf.tensor1d([0, 1], 'int32');
const base = { optimizer: opt, loss: ce, train: batcher, epochs: 1 };
type Loose = Record<string, unknown>;
const fitWith = (o: Loose, model: tf.LayersModel = net): Promise<unknown> =>
  train.fit(model, { ...base, ...o } as unknown as train.FitOptions);
const evalWith = (o: Loose, model: tf.LayersModel = net, b: unknown = batcher): Promise<unknown> =>
  train.evaluate(model, b as Batcher, o as train.EvaluateOptions);
const step = (args: Partial<Record<'m' | 'o' | 'l' | 'x' | 'y', unknown>>): unknown => {
  const a = { m: net, o: opt, l: ce, x, y, ...args };
  return train.trainStep(
    a.m as tf.LayersModel,
    a.o as tf.Optimizer,
    a.l as train.TrainLoss,
    a.x as tf.Tensor,
    a.y as tf.Tensor1D,
    ctx,
  );
};
const withTensor = (make: () => tf.Tensor, f: (t: tf.Tensor) => unknown) => (): unknown => {
  const t = make();
  try {
    return f(t);
  } finally {
    t.dispose();
  }
};

const cases: BadInputCase[] = [
  // evaluate: silently clamped or NaN before
  { call: 'evaluate kind unknown', run: () => evalWith({ kind: 'bayes' }), arg: 'kind' },
  {
    call: 'evaluate mcSamples 0',
    run: () => evalWith({ kind: 'bayesian', mcSamples: 0, setMode }),
    arg: 'mcSamples',
  },
  {
    call: 'evaluate mcSamples 2.5',
    run: () => evalWith({ kind: 'bayesian', mcSamples: 2.5, setMode }),
    arg: 'mcSamples',
  },
  {
    call: 'evaluate bayesian without setMode',
    run: () => evalWith({ kind: 'bayesian' }),
    arg: 'setMode',
  },
  { call: 'evaluate unknown option', run: () => evalWith({ mc_samples: 3 }), arg: 'mc_samples' },
  {
    call: 'evaluate perExample "yes"',
    run: () => evalWith({ perExample: 'yes' }),
    arg: 'perExample',
  },
  { call: 'evaluate batcher null', run: () => evalWith({}, net, null), arg: 'batcher' },
  { call: 'evaluate model of other input', run: () => evalWith({}, flat), arg: 'batcher' },
  {
    call: 'evaluate model null',
    run: () => evalWith({}, null as unknown as tf.LayersModel),
    arg: 'model',
  },
  // fit
  {
    call: 'fit options null',
    run: () => train.fit(net, null as unknown as train.FitOptions),
    arg: 'options',
  },
  { call: 'fit unknown option', run: () => fitWith({ epoch: 1 }), arg: 'epoch' },
  { call: 'fit epochs 1.5', run: () => fitWith({ epochs: 1.5 }), arg: 'epochs' },
  { call: 'fit train null', run: () => fitWith({ train: null }), arg: 'train' },
  { call: 'fit optimizer null', run: () => fitWith({ optimizer: null }), arg: 'optimizer' },
  { call: 'fit loss a string', run: () => fitWith({ loss: 'crossEntropy' }), arg: 'loss' },
  { call: 'fit initialEpoch -1', run: () => fitWith({ initialEpoch: -1 }), arg: 'initialEpoch' },
  {
    call: 'fit initialEpoch > epochs',
    run: () => fitWith({ initialEpoch: 3 }),
    arg: 'initialEpoch',
  },
  { call: 'fit initialBatch 2.5', run: () => fitWith({ initialBatch: 2.5 }), arg: 'initialBatch' },
  {
    call: 'fit maxBatchesPerEpoch 0',
    run: () => fitWith({ maxBatchesPerEpoch: 0 }),
    arg: 'maxBatchesPerEpoch',
  },
  {
    call: 'fit onEpochEnd not a function',
    run: () => fitWith({ onEpochEnd: 1 }),
    arg: 'onEpochEnd',
  },
  { call: 'fit model of other input', run: () => fitWith({}, flat), arg: 'train' },
  { call: 'fit one-output model', run: () => fitWith({}, oneClass), arg: 'model' },
  // trainStep
  {
    call: 'trainStep labels out of range',
    run: withTensor(
      () => tf.tensor1d([0, 5], 'int32'),
      (t) => step({ y: t }),
    ),
    arg: 'y',
  },
  {
    call: 'trainStep fewer labels than inputs',
    run: withTensor(
      () => tf.tensor1d([0], 'int32'),
      (t) => step({ y: t }),
    ),
    arg: 'y',
  },
  {
    call: 'trainStep float labels',
    run: withTensor(
      () => tf.tensor1d([0, 1]),
      (t) => step({ y: t }),
    ),
    arg: 'y',
  },
  {
    call: 'trainStep inputs of another shape',
    run: withTensor(
      () => tf.zeros([2, 3, 3, 1]),
      (t) => step({ x: t }),
    ),
    arg: 'x',
  },
  { call: 'trainStep optimizer null', run: () => step({ o: null }), arg: 'optimizer' },
  { call: 'trainStep loss null', run: () => step({ l: null }), arg: 'loss' },
  { call: 'trainStep model null', run: () => step({ m: null }), arg: 'model' },
  {
    call: 'trainableVariables(null)',
    run: () => train.trainableVariables(null as unknown as tf.LayersModel),
    arg: 'model',
  },
  // elboLoss: checked at the call, not at the first step
  {
    call: 'elboLoss({})',
    run: () => train.elboLoss({} as train.ElboLossOptions),
    arg: 'datasetSize',
  },
  {
    call: 'elboLoss datasetSize 0',
    run: () => train.elboLoss({ datasetSize: 0 }),
    arg: 'datasetSize',
  },
  {
    call: 'elboLoss klWeight unknown name',
    run: () => train.elboLoss({ datasetSize: 10, klWeight: 'nope' as 'blundell' }),
    arg: 'klWeight',
  },
  {
    call: 'elboLoss unknown option',
    run: () => train.elboLoss({ datasetSize: 10, kl_weight: 2 } as train.ElboLossOptions),
    arg: 'kl_weight',
  },
];

describe('train: bad input is an ArgumentError naming it, before any work', () => {
  afterAll(() => {
    tf.dispose([x, y]);
    net.dispose();
    flat.dispose();
    oneClass.dispose();
  });
  it.each(cases.map((c) => [c.call, c] as const))('%s', async (_call, c) => {
    await expectBadInput(c);
  });
});
