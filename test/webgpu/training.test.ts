/**
 * Training on webgpu against wasm from the same start and seeds: steps of the Bayesian LeNet-5
 * (every estimator, Adam, negative ELBO) and SVI steps of the PPL (an autoguide and TraceELBO).
 * Losses and the parameters after the steps agree within float32 tolerance (accumulated over a
 * few Adam steps).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/models/index.js';
import { elboLoss } from '../../src/train/loss.js';
import { trainStep } from '../../src/train/step.js';
import { Normal } from '../../src/distributions/normal.js';
import {
  AutoNormal,
  clearParamStore,
  getParamStore,
  plate,
  sample,
  SVI,
  TraceELBO,
} from '../../src/ppl/index.js';
import { setSeed } from '../../src/utils/seed.js';
import { fixedArray } from '../layers/reference.js';
import { onBackend, webgpuForTests } from './backends.js';

const why = await webgpuForTests();
const STEPS = 2;
/** Small images and batch: SwiftShader runs the GPU on the CPU. */
const SIZE = 16;
const BATCH = 4;

/** SwiftShader compiles every shader on first use: minutes on a loaded 2-core machine. */
const SLOW = { timeout: 600_000 };

describe.skipIf(why !== undefined)('training on webgpu vs wasm', SLOW, () => {
  it.each(['reparam', 'flipout', 'local'] as const)(
    'Bayesian LeNet-5 (%s): losses and weights after Adam steps agree',
    async (estimator) => {
      const before = tf.memory().numTensors;
      setSeed(3);
      const model = createModel('bayes-lenet5', {
        bayesian: estimator,
        inputShape: [SIZE, SIZE, 1],
      });
      const start = model.getWeights().map((w) => w.clone());
      const x = tf.tensor(fixedArray(BATCH * SIZE * SIZE, 9, 0, 1), [BATCH, SIZE, SIZE, 1]);
      const y = tf.tensor1d([0, 3, 5, 7], 'int32');
      const loss = elboLoss({ datasetSize: 64 });
      const run = (): { losses: number[]; weights: number[][] } => {
        model.setWeights(start);
        const opt = tf.train.adam(1e-3);
        setSeed(17);
        const losses: number[] = [];
        for (let step = 0; step < STEPS; step++) {
          const s = trainStep(model, opt, loss, x, y, {
            step,
            epoch: 0,
            numBatches: STEPS,
            numEpochs: 1,
          });
          losses.push(s.loss, s.nll, s.kl);
        }
        opt.dispose();
        return { losses, weights: model.getWeights().map((w) => Array.from(w.dataSync())) };
      };
      const a = run();
      const b = await onBackend('webgpu', run);
      expect(b.losses).toBeAllclose(a.losses, { rtol: 1e-4, atol: 1e-4 });
      a.weights.forEach((w, i) =>
        expect(b.weights[i], `weight ${i}`).toBeAllclose(w, { rtol: 1e-3, atol: 1e-5 }),
      );
      tf.dispose([x, y, ...start]);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('PPL: SVI steps (AutoNormal, TraceELBO) agree', async () => {
    const before = tf.memory().numTensors;
    const xs = tf.tensor(fixedArray(32 * 3, 4, -1, 1), [32, 3]);
    const ys = tf.tensor(fixedArray(32, 6, -2, 2), [32]);
    const model = (x: tf.Tensor, y: tf.Tensor): void => {
      const w = sample('w', new Normal(tf.zeros([3]), 1));
      const noise = sample('noise', new Normal(0, 1));
      const mean = tf.squeeze(tf.matMul(x, tf.reshape(w, [3, 1])), [1]);
      plate('data', 32, () => sample('y', new Normal(mean, tf.exp(noise)), { obs: y }));
    };
    const run = (): { losses: number[]; params: number[][] } => {
      clearParamStore();
      setSeed(23);
      const opt = tf.train.adam(0.05);
      const guide = new AutoNormal(model);
      const svi = new SVI(model, guide, opt, new TraceELBO());
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) losses.push(svi.step(xs, ys));
      const store = getParamStore();
      const params = store.names().map((n) => {
        const v = store.value(n);
        const out = Array.from(v.dataSync());
        v.dispose();
        return out;
      });
      clearParamStore();
      guide.dispose(); // the guide owns its prototype's support bijectors
      opt.dispose();
      return { losses, params };
    };
    const a = run();
    const b = await onBackend('webgpu', run);
    expect(a.params.length).toBeGreaterThan(0);
    expect(b.losses).toBeAllclose(a.losses, { rtol: 1e-4, atol: 1e-4 });
    a.params.forEach((p, i) =>
      expect(b.params[i], `param ${i}`).toBeAllclose(p, { rtol: 1e-4, atol: 1e-5 }),
    );
    tf.dispose([xs, ys]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
