import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/models/index.js';
import { loadCheckpoint, resolveCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { atomicWriteFile, fileIO } from '../../src/utils/file_io.js';
import { toCsv, toJsonl, writeMetricLogs } from '../../src/train/metrics_log.js';
import { crossEntropyLoss } from '../../src/train/loss.js';
import { trainStep } from '../../src/train/step.js';
import { fit } from '../../src/train/fit.js';
import { Batcher } from '../../src/data/index.js';
import { setSeed } from '../../src/utils/seed.js';
import { bands } from './helpers.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'deepprob-ck-'));
}

describe('atomic files', () => {
  it('atomicWriteFile replaces the file and leaves no temporary behind', () => {
    const dir = tmp();
    const p = join(dir, 'sub', 'a.json');
    atomicWriteFile(p, '{"a":1}');
    atomicWriteFile(p, new Uint8Array([123, 125]));
    expect(readFileSync(p, 'utf8')).toBe('{}');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['a.json']);
  });

  it('fileIO round-trips a model and reports truncated weights', async () => {
    const dir = join(tmp(), 'model');
    const m = createModel('lenet5');
    await m.save(fileIO(dir));
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const back = await tf.loadLayersModel(fileIO(dir));
    m.getWeights().forEach((w, i) =>
      expect(back.getWeights()[i]).toBeAllclose(w, { rtol: 0, atol: 0 }),
    );
    const bytes = readFileSync(join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'weights.bin'), bytes.subarray(0, 1000));
    await expect(tf.loadLayersModel(fileIO(dir))).rejects.toThrow(
      /weight files hold 1000 bytes, the manifest of model.json expects 246736/,
    );
    await expect(tf.loadLayersModel(fileIO(join(dir, 'nope')))).rejects.toThrow(
      /model.json: cannot read model/,
    );
    m.dispose();
    back.dispose();
  });
});

describe('checkpoints', () => {
  it('save -> load restores weights, optimizer state and trainer state', async () => {
    const run = tmp();
    const model = createModel('lenet5', { numClasses: 3, inputShape: [32, 32, 1] });
    const opt = tf.train.adam(1e-3);
    const x = tf.randomNormal([4, 32, 32, 1], 0, 1, 'float32', 1);
    const y = tf.tensor1d([0, 1, 2, 1], 'int32');
    const p = { step: 0, epoch: 0, numBatches: 1, numEpochs: 1 };
    for (let i = 0; i < 3; i++) trainStep(model, opt, crossEntropyLoss(), x, y, p);
    const dir = await saveCheckpoint(run, model, opt, {
      version: 1,
      epoch: 1,
      step: 3,
      config: { model: 'lenet5' },
      optimizer: { name: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      seed: 4,
      metrics: [{ epoch: 1 }],
    });
    expect(dir).toBe(join(run, 'checkpoint'));
    expect(readdirSync(run)).toEqual(['checkpoint']);
    expect(readdirSync(dir).sort()).toEqual([
      'manifest.json',
      'model.json',
      'optimizer.bin',
      'state.json',
      'weights.bin',
    ]);
    // saving again replaces the directory atomically (no .old or .tmp left)
    await saveCheckpoint(run, model, opt, {
      version: 1,
      epoch: 2,
      step: 3,
      config: { model: 'lenet5' },
      optimizer: { name: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      seed: 4,
      metrics: [{ epoch: 1 }, { epoch: 2 }],
    });
    expect(readdirSync(run)).toEqual(['checkpoint']);
    const ck = await loadCheckpoint<{ model: string }, { epoch: number }>(run);
    expect(ck.state?.epoch).toBe(2);
    expect(ck.state?.metrics.length).toBe(2);
    model
      .getWeights()
      .forEach((w, i) => expect(ck.model.getWeights()[i]).toBeAllclose(w, { rtol: 0, atol: 0 }));
    const saved = ck.optimizerWeights();
    const live = await opt.getWeights();
    expect(saved.map((s) => s.name)).toEqual(live.map((s) => s.name));
    saved.forEach((s, i) =>
      expect(s.tensor).toBeAllclose(live[i]?.tensor as tf.Tensor, { rtol: 0, atol: 0 }),
    );
    expect(saved[0]?.tensor.dataSync()[0]).toBe(3); // Adam's step count
    // the optimizer's own moment variables survive saving: it still trains
    expect(() => trainStep(model, opt, crossEntropyLoss(), x, y, p)).not.toThrow();
    tf.dispose([x, y, ...saved.map((s) => s.tensor), live[0]?.tensor as tf.Tensor]);
    model.dispose();
    ck.model.dispose();
  });

  it('resolveCheckpoint falls back to checkpoint.old and explains a missing one', async () => {
    const run = tmp();
    expect(() => resolveCheckpoint(run)).toThrow(/checkpoint: no model.json in .*train with --out/);
    const m = createModel('lenet5');
    await m.save(fileIO(join(run, 'checkpoint.old')));
    expect(resolveCheckpoint(run)).toBe(join(run, 'checkpoint.old'));
    await m.save(fileIO(join(run, 'checkpoint')));
    expect(resolveCheckpoint(run)).toBe(join(run, 'checkpoint'));
    expect(resolveCheckpoint(join(run, 'checkpoint'))).toBe(join(run, 'checkpoint'));
    const bare = await loadCheckpoint(join(run, 'checkpoint'));
    expect(bare.state).toBeUndefined();
    expect(bare.optimizerWeights()).toEqual([]);
    m.dispose();
    bare.model.dispose();
  });
});

describe('resume', () => {
  it('1 epoch + checkpoint + resume gives the same weights as 2 epochs in one go', async () => {
    const init = join(tmp(), 'init');
    const m0 = createModel('bayes-lenet5', { bayesian: 'reparam', numClasses: 10 });
    await m0.save(fileIO(init));
    m0.dispose();
    const set = bands(24, 32, 10);
    const batches = new Batcher(set, { batchSize: 8, seed: 9 });
    const settings = {
      name: 'adam' as const,
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
    };
    const common = {
      loss: crossEntropyLoss(),
      train: batches,
      onEpochStart: (e: number) => setSeed(100 + e),
    };
    // A: two epochs in one go
    const a = await tf.loadLayersModel(fileIO(init));
    const optA = tf.train.adam(1e-3);
    await fit(a, { ...common, optimizer: optA, epochs: 2 });
    // B: one epoch, checkpoint, load into a fresh model and optimizer, second epoch
    const b1 = await tf.loadLayersModel(fileIO(init));
    const optB1 = tf.train.adam(1e-3);
    const recs = await fit(b1, { ...common, optimizer: optB1, epochs: 1 });
    const run = tmp();
    await saveCheckpoint(run, b1, optB1, {
      version: 1,
      epoch: 1,
      step: recs[0]?.step ?? 0,
      config: {},
      optimizer: settings,
      seed: 9,
      metrics: recs,
    });
    const ck = await loadCheckpoint(run);
    const optB2 = tf.train.adam(1e-3);
    const saved = ck.optimizerWeights();
    await optB2.setWeights(saved);
    await fit(ck.model, {
      ...common,
      optimizer: optB2,
      epochs: 2,
      initialEpoch: 1,
      initialStep: 3,
    });
    // The threaded backends are not bit-reproducible from run to run (about 1 run in 8 differs by
    // up to ~5e-5 relative after these 6 steps, i.e. a few 1e-6 absolute on weights ~0.1; seen on
    // a weight of -0.0017: 2.6e-6 apart; single-threaded runs agree to 1e-5). A resume that loses
    // the Adam state, the step count or the noise stream moves weights by ~1e-3 absolute (one
    // Adam step is lr = 1e-3), so rtol 2e-4 + atol 1e-5 still tells them apart 100-fold.
    a.getWeights().forEach((w, i) =>
      expect(ck.model.getWeights()[i]).toBeAllclose(w, { rtol: 2e-4, atol: 1e-5 }),
    );
    tf.dispose(saved.map((s) => s.tensor));
    [a, b1, ck.model].forEach((m) => m.dispose());
    [optA, optB1, optB2].forEach((o) => o.dispose());
  });
});

describe('metric logs', () => {
  it('writes JSONL and CSV with quoting and missing values', () => {
    const recs = [
      { epoch: 1, loss: 0.5 },
      { epoch: 2, loss: 0.25, note: 'a,"b"' },
    ];
    expect(toJsonl(recs)).toBe(
      '{"epoch":1,"loss":0.5}\n{"epoch":2,"loss":0.25,"note":"a,\\"b\\""}\n',
    );
    expect(toCsv(recs)).toBe('epoch,loss,note\n1,0.5,\n2,0.25,"a,""b"""\n');
    const dir = tmp();
    writeMetricLogs(dir, recs);
    expect(existsSync(join(dir, 'metrics.jsonl'))).toBe(true);
    expect(readFileSync(join(dir, 'metrics.csv'), 'utf8').split('\n')[0]).toBe('epoch,loss,note');
  });
});
