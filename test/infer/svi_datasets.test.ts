/**
 * `infer.SVI` on the data sets a TensorFlow.js or PyTorch user brings: `tf.data.Dataset`s,
 * async generators, one-shot iterators, `{xs, ys}` elements, an uneven last batch.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConditionalVAE } from '../../src/dpn/conditional_vae.js';
import { VAE } from '../../src/dpn/vae.js';
import { ELBO } from '../../src/infer/elbo.js';
import { SVI } from '../../src/infer/svi.js';
import { WithLossCell } from '../../src/infer/with_loss.js';
import { setSeed } from '../../src/utils/seed.js';

const D = 6;
const dense = (inputs: number, units: number, activation?: 'sigmoid'): tf.Sequential =>
  tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputs], units, ...(activation ? { activation } : {}) }),
    ],
  });

function setup(lr = 0): { vae: VAE; svi: SVI<VAE>; cell: WithLossCell<VAE> } {
  const vae = new VAE(dense(D, 4), dense(4, D, 'sigmoid'), 4, 2);
  const cell = new WithLossCell(vae, new ELBO());
  return { vae, cell, svi: new SVI({ netWithLoss: cell, optimizer: tf.train.sgd(lr) }) };
}

/** 10 rows: batches of 4, 4 and an uneven 2. */
const rows = Array.from({ length: 10 }, (_, i) =>
  Array.from({ length: D }, (_, j) => (Math.sin(i * 3 + j) + 1) / 2),
);
const sizes = [4, 4, 2];
const slices = (): number[][][] => [rows.slice(0, 4), rows.slice(4, 8), rows.slice(8)];

/** The epoch's mean loss per example from the batches one by one (lr 0: weights fixed). */
function expectedEpochLoss(cell: WithLossCell<VAE>, seed: number): number {
  setSeed(seed);
  let total = 0;
  for (const s of slices()) {
    const x = tf.tensor2d(s);
    const l = cell.call(x);
    total += l.dataSync()[0] as number;
    tf.dispose([x, l]);
  }
  return total / 10;
}

describe('infer.SVI data sets', () => {
  it('runAsync reads a tf.data.Dataset ({xs} elements, uneven last batch), frees its elements, each epoch afresh', async () => {
    const { vae, svi, cell } = setup();
    const want = expectedEpochLoss(cell, 4);
    const ds = tf.data.array(rows.map((r) => ({ xs: tf.tensor1d(r) }))).batch(4);
    const before = tf.memory().numTensors;
    setSeed(4);
    const reports: number[] = [];
    // the old SVI had no async entry, and run(ds) threw "TypeError: it is not iterable"
    await svi.runAsync(ds, 2, (r) => reports.push(r.examples));
    expect(reports).toEqual([10, 10]);
    expect(tf.memory().numTensors).toBe(before);
    expect(svi.getHistory()[0]?.loss).toBeCloseTo(want, 4);
    // a Dataset of another copy of tfjs-data: known by its iterator/batch/forEachAsync methods
    const foreign = {
      iterator: () => ds.iterator(),
      batch: () => foreign,
      forEachAsync: async () => undefined,
    };
    await svi.runAsync(foreign as never, 1);
    expect(svi.getHistory()[2]?.examples).toBe(10);
    expect(tf.memory().numTensors).toBe(before);
    vae.dispose();
  });

  it('runAsync reads an async generator function (fresh per epoch, freed) and an async iterable of tensors', async () => {
    const { vae, svi, cell } = setup();
    const want = expectedEpochLoss(cell, 5);
    async function* batches(): AsyncGenerator<tf.Tensor> {
      for (const s of slices()) {
        await Promise.resolve();
        yield tf.tensor2d(s);
      }
    }
    const before = tf.memory().numTensors;
    setSeed(5);
    await svi.runAsync(batches, 2);
    expect(tf.memory().numTensors).toBe(before);
    expect(svi.getHistory().map((r) => r.examples)).toEqual([10, 10]);
    expect(svi.getHistory()[0]?.loss).toBeCloseTo(want, 4);
    vae.dispose();
  });

  it('a one-shot iterator is refused for more than one epoch before any work; one epoch runs', () => {
    const { vae, svi } = setup(0.1);
    const xs = slices().map((s) => tf.tensor2d(s));
    function* gen(): Generator<{ x: tf.Tensor }> {
      for (const x of xs) yield { x };
    }
    const w0 = vae.trainableVariables().map((v) => Array.from(v.dataSync()));
    // the old SVI trained an epoch, then threw 'the data set yielded no batches'
    expect(() => svi.run(gen(), 2)).toThrow(
      /dataset: a one-shot iterator .* got epochs 2: pass a function returning a fresh iterable/,
    );
    expect(vae.trainableVariables().map((v) => Array.from(v.dataSync()))).toEqual(w0);
    expect(svi.getHistory()).toEqual([]);
    svi.run(gen(), 1);
    expect(svi.getHistory().map((r) => r.examples)).toEqual([10]);
    // its batches stay the caller's
    expect(xs.every((x) => !x.isDisposed)).toBe(true);
    tf.dispose(xs);
    vae.dispose();
  });

  it('run names runAsync for a tf.data.Dataset or an async iterable; malformed batches are named and freed', async () => {
    const { vae, svi } = setup();
    const z = tf.zeros([1, D]);
    const ds = tf.data.array([{ xs: z }]);
    expect(() => svi.run(ds as never, 1)).toThrow(/dataset: .*use await svi.runAsync/);
    async function* agen(): AsyncGenerator<tf.Tensor> {
      await Promise.resolve();
      yield tf.zeros([1, D]);
    }
    expect(() => svi.run(agen() as never, 1)).toThrow(/dataset: .*runAsync/);
    expect(() => svi.run(agen as never, 1)).toThrow(/async iterable: use runAsync/);
    const before = tf.memory().numTensors;
    expect(() => svi.run(() => [{ images: tf.zeros([2, D]) }] as never, 1)).toThrow(
      /dataset: expected batches \{x, y\?\} .*got an object with keys \[images\] at batch 0/,
    );
    await expect(svi.runAsync(tf.data.array([{ a: 1 }]), 1)).rejects.toThrow(
      /dataset: expected batches .*keys \[a\] at batch 0/,
    );
    expect(tf.memory().numTensors).toBe(before);
    z.dispose();
    vae.dispose();
  });

  it('a ConditionalVAE trains on tf.data {xs, ys} elements with int labels', async () => {
    setSeed(1);
    const cvae = new ConditionalVAE(dense(D + 3, 4), dense(4, D, 'sigmoid'), 4, 2, 3);
    const svi = new SVI({
      netWithLoss: new WithLossCell(cvae, new ELBO()),
      optimizer: tf.train.sgd(0.01),
    });
    const ds = tf.data
      .array(rows.map((r, i) => ({ xs: tf.tensor1d(r), ys: tf.scalar(i % 3, 'int32') })))
      .batch(4);
    const before = tf.memory().numTensors;
    await svi.runAsync(ds, 1);
    expect(tf.memory().numTensors).toBe(before);
    expect(svi.getHistory()[0]?.examples).toBe(sizes.reduce((a, b) => a + b, 0));
    cvae.dispose();
  });

  it('a function data set handing back the same tensors is named after the first epoch freed them', () => {
    const { vae, svi } = setup();
    const batches = slices().map((s) => ({ x: tf.tensor2d(s) }));
    // the old SVI failed in tfjs: 'Tensor is disposed.'
    expect(() => svi.run(() => batches, 2)).toThrow(
      /dataset: batch 0 holds a disposed tensor: a function data set must make fresh tensors each epoch/,
    );
    expect(svi.getHistory().length).toBe(1);
    vae.dispose();
  });
});
