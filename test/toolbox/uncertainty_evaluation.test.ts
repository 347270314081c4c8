import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toolbox, ArgumentError } from '../../src/index.js';
import { fileModelStore } from '../../src/toolbox/node.js';
import { makeRng } from '../../src/utils/seed.js';

const dir = mkdtempSync(join(tmpdir(), 'deepprob-ue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function blobs(n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const rng = makeRng(seed);
  const xs: number[][] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    xs.push([(c ? 1.5 : -1.5) + rng() - 0.5, (c ? 1 : -1) + rng() - 0.5]);
    ys.push(c);
  }
  return { x: tf.tensor2d(xs), y: tf.tensor1d(ys, 'int32') };
}

function mlp(outUnits: number, seed: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [2],
        units: 16,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.dense({
        units: outUnits,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
}

describe('UncertaintyEvaluation', () => {
  it('validates MindSpore-style arguments', () => {
    const m = mlp(2, 1);
    expect(
      () => new toolbox.UncertaintyEvaluation({ model: m, taskType: 'classification' }),
    ).toThrow(/numClasses/);
    expect(
      () =>
        new toolbox.UncertaintyEvaluation({
          model: m,
          taskType: 'classification',
          numClasses: 2,
          saveModel: true,
        }),
    ).toThrow(ArgumentError);
    expect(
      () => new toolbox.UncertaintyEvaluation({ model: m, taskType: 'detection' as 'regression' }),
    ).toThrow(/taskType/);
    m.dispose();
  });

  it('classification: trains, saves, reloads, and returns [N, K] epistemic and [N] aleatoric', async () => {
    const model = mlp(2, 3);
    const data = blobs(256, 4);
    const paths = { epiUncerModelPath: join(dir, 'epi'), aleUncerModelPath: join(dir, 'ale') };
    const before = tf.memory().numTensors;
    const ue = new toolbox.UncertaintyEvaluation({
      model,
      trainDataset: data,
      taskType: 'classification',
      numClasses: 2,
      epochs: 2,
      ...paths,
      saveModel: true,
      store: fileModelStore,
      seed: 1,
    });
    const probe = tf.tensor2d([
      [-1.5, -1],
      [0, 0],
      [8, -8],
    ]);
    const epi = await ue.evalEpistemicUncertainty(probe);
    expect(epi.shape).toEqual([3, 2]);
    const ev = Array.from(epi.dataSync());
    expect(ev.every((v) => v >= 0)).toBe(true);
    expect(Math.max(...ev)).toBeGreaterThan(0);
    const ale = await ue.evalAleatoricUncertainty(probe);
    expect(ale.shape).toEqual([3]);
    expect(Array.from(ale.dataSync()).every((v) => v > 0)).toBe(true);
    expect(existsSync(join(paths.epiUncerModelPath, 'model.json'))).toBe(true);
    expect(existsSync(join(paths.aleUncerModelPath, 'weights.bin'))).toBe(true);
    // the given model is untouched: it still has no dropout layer
    expect(toolbox.hasDropout(model)).toBe(false);

    const again = new toolbox.UncertaintyEvaluation({
      model,
      taskType: 'classification',
      numClasses: 2,
      ...paths,
      store: fileModelStore,
    });
    const ale2 = await again.evalAleatoricUncertainty(probe);
    expect(ale2).toBeAllclose(ale, { rtol: 1e-5 });
    const epi2 = await again.evalEpistemicUncertainty(probe);
    expect(epi2.shape).toEqual([3, 2]);
    tf.dispose([epi, ale, ale2, epi2]);
    ue.dispose();
    again.dispose();
    tf.dispose([probe]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([data.x, data.y]);
    model.dispose();
  });

  it("epistemicMethod 'bnn': DNN -> BNN copy fine-tuned with the ELBO, saved and reloaded", async () => {
    const model = mlp(2, 11);
    const data = blobs(128, 12);
    const path = join(dir, 'epi-bnn');
    const ue = new toolbox.UncertaintyEvaluation({
      model,
      trainDataset: data,
      taskType: 'classification',
      numClasses: 2,
      epochs: 1,
      epistemicMethod: 'bnn',
      epiUncerModelPath: path,
      aleUncerModelPath: join(dir, 'ale-bnn'),
      saveModel: true,
      store: fileModelStore,
    });
    const probe = tf.tensor2d([
      [-1.5, -1],
      [6, -6],
    ]);
    const epi = await ue.evalEpistemicUncertainty(probe);
    expect(epi.shape).toEqual([2, 2]);
    expect(Math.min(...Array.from(epi.dataSync()))).toBeGreaterThan(0);
    const loaded = await fileModelStore.load(path);
    expect(loaded.layers.map((l) => l.getClassName())).toContain('DenseReparam');
    loaded.dispose();
    tf.dispose([epi, probe, data.x, data.y]);
    ue.dispose();
    model.dispose();
  });

  it('regression: aleatoric variance follows the noise level of the data', async () => {
    // y = x + eps, sd(eps) = 0.05 + 0.6 |x|
    const rng = makeRng(9);
    const n = 256;
    const xs: number[][] = [];
    const ys: number[][] = [];
    for (let i = 0; i < n; i++) {
      const x = -2 + (4 * i) / n;
      const u1 = Math.max(rng(), 1e-12);
      const g = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng());
      xs.push([x, x * x]);
      ys.push([x + (0.05 + 0.6 * Math.abs(x)) * g]);
    }
    const x = tf.tensor2d(xs);
    const y = tf.tensor2d(ys);
    const model = mlp(1, 5);
    const ue = new toolbox.UncertaintyEvaluation({
      model,
      trainDataset: { x, y },
      taskType: 'regression',
      epochs: 20,
      learningRate: 0.02,
      batchSize: 64,
      seed: 2,
    });
    const probe = tf.tensor2d([
      [0, 0],
      [1.8, 3.24],
      [-1.8, 3.24],
    ]);
    const ale = Array.from((await ue.evalAleatoricUncertainty(probe)).dataSync());
    // true variances: 0.0025 at 0, ~1.27 at |x| = 1.8
    expect(ale[1] as number).toBeGreaterThan(10 * (ale[0] as number));
    expect(ale[2] as number).toBeGreaterThan(10 * (ale[0] as number));
    expect(ale[1] as number).toBeGreaterThan(0.3);
    expect(ale[1] as number).toBeLessThan(4);
    const epi = await ue.evalEpistemicUncertainty(probe);
    expect(epi.shape).toEqual([3, 1]);
    tf.dispose([x, y, probe, epi]);
    ue.dispose();
    model.dispose();
  });
});
