/**
 * `deepprob shift` on a model that ends in a softmax (as Keras / TF.js models often do): read as
 * its log-probabilities, it gives the same figures as the identical model that outputs logits
 * (before, every method softmaxed the probabilities again: near-uniform predictions).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseMethodSpec, runShiftBenchmark } from '../../src/app/shift/run.js';
import { fileIO } from '../../src/utils/file_io.js';

/** A small 28x28 classifier; `softmax` ends it in a softmax, with the same weights. */
function net(activation: 'linear' | 'softmax'): tf.Sequential {
  const init = (seed: number): ReturnType<typeof tf.initializers.varianceScaling> =>
    tf.initializers.varianceScaling({ scale: 4, mode: 'fanIn', distribution: 'normal', seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 4,
        kernelSize: 5,
        strides: 2,
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation, kernelInitializer: init(2) }),
    ],
  });
}

describe('shift: a softmax-ended model', () => {
  it('gives the figures of the same model with logit outputs (plain and temperature)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-softmax-head-'));
    for (const [activation, sub] of [
      ['linear', 'logits'],
      ['softmax', 'probs'],
    ] as const) {
      const m = net(activation);
      await m.save(fileIO(join(dir, sub)));
      m.dispose();
    }
    const before = tf.memory().numTensors;
    const res = await runShiftBenchmark({
      methods: ['a=plain', 'b=plain', 'ta=temperature', 'tb=temperature'].map((s, i) =>
        parseMethodSpec(`${s}:${join(dir, i % 2 === 0 ? 'logits' : 'probs')}`),
      ),
      limit: 60,
      calibrationSize: 60,
      mcSamples: 1,
      families: ['rotation'],
      angles: [45],
      ood: [],
      out: join(dir, 'shift'),
      log: () => undefined,
    });
    expect(tf.memory().numTensors).toBe(before);
    const rows = (m: string) => res.result.rows.filter((r) => r.method === m);
    for (const [x, y] of [
      ['a', 'b'],
      ['ta', 'tb'],
    ]) {
      const rx = rows(x as string);
      const ry = rows(y as string);
      expect(rx).toHaveLength(2);
      rx.forEach((r, i) => {
        expect(ry[i]!.accuracy).toBe(r.accuracy);
        expect(ry[i]!.nll).toBeCloseTo(r.nll, 4);
        expect(ry[i]!.ece).toBeCloseTo(r.ece, 4);
      });
    }
    // a random net of this scale is confident: its NLL is far from the near-uniform log 10
    // that a second softmax of its probabilities gave
    expect(Math.abs((rows('b')[0] as { nll: number }).nll - Math.log(10))).toBeGreaterThan(0.3);
  }, 120_000);

  it('mc-dropout keeps BatchNorm at inference: with rate 0 it equals plain, in any order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-mc-bn-'));
    const init = (seed: number): ReturnType<typeof tf.initializers.varianceScaling> =>
      tf.initializers.varianceScaling({ scale: 4, mode: 'fanIn', distribution: 'normal', seed });
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [28, 28, 1],
          filters: 4,
          kernelSize: 5,
          strides: 2,
          kernelInitializer: init(3),
        }),
        tf.layers.batchNormalization(),
        tf.layers.flatten(),
        tf.layers.dropout({ rate: 0 }),
        tf.layers.dense({ units: 10, kernelInitializer: init(4) }),
      ],
    });
    await m.save(fileIO(join(dir, 'bn')));
    m.dispose();
    const d = join(dir, 'bn');
    const before = tf.memory().numTensors;
    const res = await runShiftBenchmark({
      methods: [parseMethodSpec(`mc-dropout:${d}`), parseMethodSpec(`plain:${d}`)],
      limit: 40,
      calibrationSize: 20,
      mcSamples: 3,
      families: ['rotation'],
      angles: [45],
      ood: [],
      out: join(dir, 'shift'),
      log: () => undefined,
    });
    expect(tf.memory().numTensors).toBe(before);
    const rows = (name: string) => res.result.rows.filter((r) => r.method === name);
    const mc = rows('mc-dropout');
    rows('plain').forEach((r, i) => {
      // batch statistics (training mode) would move every prediction; moving statistics do not
      expect(mc[i]!.nll).toBeCloseTo(r.nll, 4);
      expect(mc[i]!.accuracy).toBe(r.accuracy);
    });
  }, 120_000);
});
