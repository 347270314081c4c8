/**
 * Audit 18: a Swag's posterior is over the weights that were trainable when it was made. Before,
 * every `collect()` re-read `model.trainableWeights`: freezing a layer between snapshots shifted the
 * remaining weights onto the frozen layer's running moments (same shapes: silently wrong SWA
 * means; other shapes: a raw tfjs error), and `assign`/the predictor wrote to the wrong weights.
 * Reference: the SWA mean and variance of every snapshot computed here in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';

describe('audit18 Swag keeps the weights it was made over', () => {
  it('freezing a layer between snapshots does not move the moments', () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ units: 3, inputShape: [3], useBias: false }));
    m.add(tf.layers.dense({ units: 3, useBias: false }));
    const sw = new toolbox.Swag(m, { rank: 2 });
    expect(sw.variables.length).toBe(2);
    const snaps: number[][][] = [];
    for (let t = 0; t < 3; t++) {
      const ws = [0, 1].map((i) => tf.randomNormal([3, 3], 0, 1, 'float32', 10 * t + i));
      ws.forEach((w, i) => m.layers[i]!.setWeights([w])); // model order moves with trainable
      snaps.push(ws.map((w) => Array.from(w.dataSync())));
      tf.dispose(ws);
      sw.collect();
      m.layers[0]!.trainable = t % 2 === 0; // frozen after the first snapshot, then unfrozen
    }
    const mean = sw.swaMean();
    const variance = sw.diagVariance();
    expect(mean.length).toBe(2);
    for (let l = 0; l < 2; l++) {
      const mv = mean[l]!.dataSync();
      const vv = variance[l]!.dataSync();
      for (let j = 0; j < 9; j++) {
        const xs = snaps.map((s) => s[l]![j]!);
        const mu = xs.reduce((a, b) => a + b, 0) / 3;
        const v = xs.reduce((a, b) => a + (b - mu) ** 2, 0) / 3;
        expect(mv[j]).toBeCloseTo(mu, 5);
        expect(vv[j]).toBeCloseTo(v, 4);
      }
    }
    // the predictor writes its draws into both layers and puts both back
    m.layers[0]!.trainable = false;
    const weightsOf = () => m.layers.map((l) => Array.from(l.getWeights()[0]!.dataSync()));
    const before = weightsOf();
    const p = toolbox.swagPredictor(sw, { seed: 1, output: 'regression', scale: 0 });
    const out = p.predictSamples(tf.eye(3), 1);
    const ref = tf.tidy(() => tf.matMul(tf.matMul(tf.eye(3), mean[0]!), mean[1]!));
    const ov = out.dataSync();
    ref.dataSync().forEach((r, i) => expect(ov[i]).toBeCloseTo(r, 5));
    expect(weightsOf()).toEqual(before);
    tf.dispose([...mean, ...variance, out, ref]);
    sw.dispose();
    m.dispose();
  });
});
