/**
 * Audit of issue #13's training vocabulary end to end through the public entries: `train.fit` for
 * one epoch, `saveCheckpoint` / `loadCheckpoint` of `deepprob/node` (model, Adam state, trainer
 * state), a fresh optimizer restored from the checkpoint, and `fit` resumed at `initialEpoch`,
 * against the uninterrupted run; and early stopping from a validation callback.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, data, layers, setSeed, train } from '../../src/index.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/node.js';
import { bands } from './helpers.js';

const SIZE = 8;
const K = 4;

function net(): tf.LayersModel {
  setSeed(21);
  const C = layers.ESTIMATOR_CLASSES.flipout;
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [SIZE, SIZE, 1] }),
      new C.dense({ units: 8, activation: 'relu' }),
      new layers.ESTIMATOR_CLASSES.reparam.dense({ units: K }),
    ],
  });
}

const weights = (m: tf.LayersModel): number[] =>
  m.getWeights().flatMap((t) => Array.from(t.dataSync()));

describe('checkpoint and resume through the public API', () => {
  it('1 epoch + saveCheckpoint + loadCheckpoint + 2 more epochs = 3 uninterrupted epochs', async () => {
    const set = bands(40, SIZE, K);
    const loss = train.elboLoss({ datasetSize: set.count, klWeight: 'blundell' });
    const batcher = new data.Batcher(set, { batchSize: 16, seed: 5 });
    const seeds = (e: number): void => setSeed(500 + e);
    const base = { loss, train: batcher, onEpochStart: seeds };

    const a = net();
    const optA = tf.train.adam(0.01);
    await train.fit(a, { ...base, optimizer: optA, epochs: 3 });
    const want = weights(a);

    const b = net();
    const optB = tf.train.adam(0.01);
    const first = await train.fit(b, { ...base, optimizer: optB, epochs: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-audit15-ck-'));
    await saveCheckpoint(dir, b, optB, {
      version: 1,
      epoch: 1,
      step: first[0]?.step as number,
      config: { note: 'audit' },
      optimizer: { name: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      seed: 5,
      metrics: first,
    });
    b.dispose();
    optB.dispose();

    const before = tf.memory().numTensors;
    const ck = await loadCheckpoint<{ note: string }, train.EpochRecord>(dir);
    expect(ck.state?.epoch).toBe(1);
    expect(ck.state?.step).toBe(3);
    const optC = tf.train.adam(0.01);
    const saved = ck.optimizerWeights();
    await optC.setWeights(saved);
    tf.dispose(saved.map((s) => s.tensor));
    const more = await train.fit(ck.model, {
      ...base,
      optimizer: optC,
      epochs: 3,
      initialEpoch: ck.state?.epoch as number,
      initialStep: ck.state?.step as number,
    });
    expect(more.map((r) => r.epoch)).toEqual([2, 3]);
    expect(more.map((r) => r.step)).toEqual([6, 9]);
    const got = weights(ck.model);
    expect(got.length).toBe(want.length);
    let worst = 0;
    got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (want[i] as number)))));
    expect(worst).toBeLessThan(1e-5);
    optC.dispose();
    layers.disposeModel(ck.model);
    expect(tf.memory().numTensors).toBe(before);
    optA.dispose();
    a.dispose();
  });

  it('saveCheckpoint refuses, before writing, a state loadCheckpoint would refuse', async () => {
    const m = net();
    const opt = tf.train.adam(0.01);
    const dir = join(mkdtempSync(join(tmpdir(), 'deepprob-audit15-ck-')), 'run');
    const good = {
      version: 1 as const,
      epoch: 0,
      step: 0,
      config: {},
      optimizer: {
        name: 'adam' as const,
        learningRate: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-7,
      },
      seed: 1,
      metrics: [],
    };
    const bad: [string, unknown, string][] = [
      [
        'Adam settings without beta1',
        { ...good, optimizer: { name: 'adam', learningRate: 0.01 } },
        'state.optimizer',
      ],
      [
        'an sgd optimizer',
        { ...good, optimizer: { ...good.optimizer, name: 'sgd' } },
        'state.optimizer',
      ],
      ['epoch -1', { ...good, epoch: -1 }, 'state.epoch'],
      ['step 1.5', { ...good, step: 1.5 }, 'state.step'],
      ['version 2', { ...good, version: 2 }, 'state.version'],
      ['metrics not an array', { ...good, metrics: {} }, 'state.metrics'],
      ['state undefined', undefined, 'state'],
    ];
    for (const [what, state, arg] of bad) {
      const before = tf.memory().numTensors;
      const err = await saveCheckpoint(dir, m, opt, state as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).argument, what).toBe(arg);
      expect(tf.memory().numTensors).toBe(before);
      expect(existsSync(dir), what).toBe(false);
    }
    const err = await saveCheckpoint(dir, {} as tf.LayersModel, opt, good).catch((e: unknown) => e);
    expect((err as ArgumentError).argument).toBe('model');
    // and the good one loads back
    await saveCheckpoint(dir, m, opt, good);
    const ck = await loadCheckpoint(dir);
    expect(ck.state?.epoch).toBe(0);
    layers.disposeModel(ck.model);
    opt.dispose();
    m.dispose();
  });

  it('early stopping: validation that stops improving ends training at the next epoch boundary', async () => {
    const set = bands(32, SIZE, K);
    const m = net();
    const opt = tf.train.adam(0.01);
    const fake = [1.0, 0.8, 0.85, 0.9, 0.95, 0.7, 0.6];
    let best = Infinity;
    let bad = 0;
    const patience = 2;
    let stop = false;
    let stoppedAt: layers.LoopPosition | undefined;
    const recs = await train.fit(m, {
      optimizer: opt,
      loss: train.elboLoss({ datasetSize: set.count }),
      train: new data.Batcher(set, { batchSize: 16, seed: 1 }),
      epochs: fake.length,
      validate: async (epoch) =>
        ({ count: 1, accuracy: 0, nll: fake[epoch] as number, entropy: 0 }) as train.EvalResult,
      onEpochEnd: (r) => {
        const v = r.testNll as number;
        if (v < best) {
          best = v;
          bad = 0;
        } else if (++bad >= patience) stop = true;
      },
      shouldStop: () => stop,
      onStop: (p) => {
        stoppedAt = p;
      },
    });
    // epochs 1..4 (nll 1, 0.8, 0.85, 0.9): two epochs without improvement after epoch 2
    expect(recs.map((r) => r.testNll)).toEqual([1.0, 0.8, 0.85, 0.9]);
    expect(stoppedAt).toEqual({ epoch: 4, batch: 0, step: 8, totals: layers.emptyTotals() });
    opt.dispose();
    m.dispose();
  });
});
