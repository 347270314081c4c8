/**
 * Audit 18: the post-hoc methods leave the user's model bit-identical. Laplace's sampled-network
 * predictive (`nnSampleOutputs`, the `'nn'` gridsearch of `optimizePriorPrecision`) and SWAG's
 * predictor write draws into the model and put the weights back; tfjs's `setWeights`/`write`
 * apply a layer's weight constraint on every write, and `maxNorm` is not idempotent in float32,
 * so the weights came back changed by round-off (and the draws were projected). Checked here:
 * `getWeights()` bits before/after on the success and error paths, no tensor leaked, and the
 * draws written exactly (the network run with sample()'s draws, recomputed in float64).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { toolbox } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';

const { lastLayerLaplace, allLayersLaplace, Swag, swagPredictor } = toolbox;

/** The model's weights as their float32 bit patterns. */
function bits(m: tf.LayersModel): number[][] {
  return m.getWeights().map((w) => Array.from(new Uint32Array(w.dataSync().slice().buffer)));
}

/** A 3-5-3 tanh MLP whose kernels carry `maxNorm(0.5)` (weights set once, i.e. projected). */
function constrained(): tf.Sequential {
  const m = tf.sequential();
  const c = () => tf.constraints.maxNorm({ maxValue: 0.5 });
  m.add(tf.layers.dense({ units: 5, inputShape: [3], activation: 'tanh', kernelConstraint: c() }));
  m.add(tf.layers.dense({ units: 3, kernelConstraint: c() }));
  const ws = m.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 1, 'float32', 10 + i));
  m.setWeights(ws);
  tf.dispose(ws);
  return m;
}

describe('audit18 post-hoc methods leave the model bit-identical', () => {
  const x = tf.randomNormal([20, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
  const y = Array.from({ length: 20 }, (_, i) => i % 3);

  it('Laplace nn predictive and nn gridsearch on a model with kernel constraints', () => {
    const m = constrained();
    const w0 = bits(m);
    const fits = [
      lastLayerLaplace(m, x, y, { hessianStructure: 'full' }),
      allLayersLaplace(m, x, y, { hessianStructure: 'diag' }),
    ];
    for (const la of fits) {
      const before = tf.memory().numTensors;
      const f = la.nnSampleOutputs(x, 3, 1);
      f.dispose();
      expect(bits(m)).toEqual(w0);
      la.optimizePriorPrecision({
        method: 'gridsearch',
        xVal: x,
        yVal: y,
        predType: 'nn',
        numSamples: 3,
        gridSize: 3,
      });
      expect(bits(m)).toEqual(w0);
      expect(tf.memory().numTensors).toBe(before);
    }
    m.dispose();
  });

  it('the draws are written exactly: the last layer run with sample() draws, in float64', () => {
    const m = constrained();
    const la = lastLayerLaplace(m, x, y, { hessianStructure: 'full', priorPrecision: 0.5 });
    const draws = la.sample(4, 7).arraySync();
    const f = la.nnSampleOutputs(x, 4, 7);
    const fv = f.arraySync();
    f.dispose();
    const hidden = m.layers[0]!.apply(x) as tf.Tensor;
    const h = hidden.arraySync() as number[][];
    hidden.dispose();
    // the draw of a kernel [5, 3] and bias [3] has norms far beyond maxNorm's 0.5 per column:
    // projected draws would change the outputs by O(1)
    for (let s = 0; s < 4; s++)
      for (let n = 0; n < 20; n += 4)
        for (let c = 0; c < 3; c++) {
          let z = draws[s]![15 + c]!;
          for (let j = 0; j < 5; j++) z += h[n]![j]! * draws[s]![j * 3 + c]!;
          expect(fv[s]![n]![c]).toBeCloseTo(z, 4);
        }
    m.dispose();
  });

  it('a prediction failing mid-way puts the weights back (nn predictive and gridsearch)', () => {
    const m = constrained();
    const w0 = bits(m);
    for (const la of [
      lastLayerLaplace(m, x, y, { hessianStructure: 'kron' }),
      allLayersLaplace(m, x, y, { hessianStructure: 'kron' }),
    ]) {
      const host = la as unknown as { forwardOutputs: (xb: tf.Tensor) => tf.Tensor2D };
      const real = host.forwardOutputs.bind(la);
      let calls = 0;
      const spy = vi.spyOn(host, 'forwardOutputs').mockImplementation((xb) => {
        if (++calls === 2) throw new Error('boom');
        return real(xb);
      });
      const before = tf.memory().numTensors;
      expect(() => la.nnSampleOutputs(x, 3, 1)).toThrow('boom');
      expect(bits(m)).toEqual(w0);
      calls = 0;
      const d0 = la.priorPrecision;
      expect(() =>
        la.optimizePriorPrecision({
          method: 'gridsearch',
          xVal: x,
          yVal: y,
          predType: 'nn',
          numSamples: 3,
          gridSize: 3,
        }),
      ).toThrow('boom');
      expect(la.priorPrecision).toEqual(d0);
      expect(bits(m)).toEqual(w0);
      expect(tf.memory().numTensors).toBe(before);
      spy.mockRestore();
    }
    m.dispose();
  });

  it('SWAG predictor (with bn_update) and Swag.assign restore or refuse exactly', async () => {
    const m = constrained();
    const sw = new Swag(m, { rank: 3 });
    sw.collect();
    const w = m.getWeights();
    const moved = w.map((t, i) => tf.add(t, 0.05 * (i + 1)));
    sw.assign(moved); // exact: the constraint is not applied
    const mv = moved.map((t) => Array.from(new Uint32Array(t.dataSync().slice().buffer)));
    expect(bits(m)).toEqual(mv);
    sw.collect();
    const w1 = bits(m);
    const before = tf.memory().numTensors;
    const p = swagPredictor(sw, { seed: 1, bnUpdate: { x } }).predictSamples(x, 3);
    p.dispose();
    expect(bits(m)).toEqual(w1);
    expect(tf.memory().numTensors).toBe(before);
    // a wrong shape is refused before anything is written
    const bad = [moved[0]!, moved[1]!, moved[2]!, tf.zeros([4])];
    await expectBadInput({ call: 'a wrong shape', run: () => sw.assign(bad), arg: 'values[3]' });
    await expectBadInput({
      call: 'too few tensors',
      run: () => sw.assign(moved.slice(1)),
      arg: 'values',
    });
    expect(bits(m)).toEqual(w1);
    tf.dispose([moved, bad[3]!]); // getWeights() gives the variables themselves: not disposed
    sw.dispose();
    m.dispose();
  });

  it('trainSwag failing mid-way gives every weight back, BatchNormalization statistics included', async () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ units: 4, inputShape: [3], activation: 'relu' }));
    m.add(tf.layers.batchNormalization());
    m.add(
      tf.layers.dense({ units: 3, kernelConstraint: tf.constraints.maxNorm({ maxValue: 0.5 }) }),
    );
    const w0 = bits(m);
    const before = tf.memory().numTensors;
    // the first epoch's training-mode passes move the moving mean and variance; the callback throws
    await expect(
      toolbox.trainSwag(m, x, y, {
        epochs: 2,
        onEpoch: () => {
          throw new Error('stop');
        },
      }),
    ).rejects.toThrow('stop');
    expect(bits(m)).toEqual(w0);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});
