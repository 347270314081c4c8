/**
 * Saved-model compatibility: models and a training checkpoint written by the code of 2026-12-06
 * (before the estimator registry; `test/fixtures/compat/make.ts` and a `deepprob train` run) load
 * with today's code under their class names and give the same mean-mode outputs and KL.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import * as L from '../../src/layers/index.js';
import { fileIO, loadCheckpoint } from '../../src/node.js';
import '../../src/transforms/index.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'compat');

interface Expected {
  input: number[];
  shape: number[];
  mean: number[];
  kl: number;
}

function meanOutput(model: tf.LayersModel, input: number[], shape: number[]): Float32Array {
  const modes = L.setMode(model, 'mean');
  const y = tf.tidy(() => model.predict(tf.tensor(input, shape)) as tf.Tensor);
  L.restoreModes(model, modes);
  const out = y.dataSync() as Float32Array;
  y.dispose();
  return out;
}

function klOf(model: tf.LayersModel): number {
  const kl = L.modelKL(model);
  const v = kl.dataSync()[0] as number;
  kl.dispose();
  return v;
}

describe('models saved by earlier code load unchanged', () => {
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<
    string,
    Expected
  >;
  for (const [name, e] of Object.entries(expected)) {
    it(`${name}: same classes, mean output and KL`, async () => {
      const model = await tf.loadLayersModel(fileIO(join(dir, name)));
      const saved = JSON.parse(readFileSync(join(dir, name, 'model.json'), 'utf8')) as {
        modelTopology: { config: { layers: { class_name: string }[] } };
      };
      const classes = saved.modelTopology.config.layers.map((l) => l.class_name);
      expect(model.layers.map((l) => l.getClassName())).toEqual(classes);
      expect(L.bayesianLayers(model).length).toBeGreaterThan(0);
      expect(meanOutput(model, e.input, e.shape)).toBeAllclose(e.mean, { rtol: 1e-5, atol: 1e-6 });
      expect(klOf(model)).toBeCloseTo(e.kl, 2);
      model.dispose();
    });
  }

  it('a `deepprob train` checkpoint (state, optimizer, model) loads', async () => {
    const e = JSON.parse(readFileSync(join(dir, 'run-local-expected.json'), 'utf8')) as {
      shape: number[];
      mean: number[];
      kl: number;
      epoch: number;
      step: number;
    };
    const ck = await loadCheckpoint<{ model: string; estimator: string }, unknown>(
      join(dir, 'run-local'),
    );
    expect(ck.state?.epoch).toBe(e.epoch);
    expect(ck.state?.step).toBe(e.step);
    expect(ck.state?.config.model).toBe('bayes-lenet5');
    expect(ck.state?.config.estimator).toBe('local');
    const n = e.shape.reduce((a, b) => a * b, 1);
    const input = Array.from({ length: n }, (_, i) => Math.cos(i * 0.11) * 1.5);
    expect(meanOutput(ck.model, input, e.shape)).toBeAllclose(e.mean, { rtol: 1e-4, atol: 1e-5 });
    expect(klOf(ck.model) / e.kl).toBeCloseTo(1, 5);
    const opt = ck.optimizerWeights();
    expect(opt.length).toBe(ck.state?.optimizerWeights.length);
    tf.dispose(opt.map((o) => o.tensor));
    ck.model.dispose();
  });
});
