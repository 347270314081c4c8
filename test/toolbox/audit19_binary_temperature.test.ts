/**
 * Audit 19: temperature scaling of a binary classifier with one sigmoid output. Its logit vector
 * `z` `[N]` was refused ('expected an array of rows, got number at row 0'). It is now fitted as the
 * rows `[0, z]`, whose tempered softmax is `sigmoid(z / T)`; a column `[N, 1]` stays refused (one
 * class) with the hint to pass the vector. Checked against a float64 ternary search of the binary NLL
 * `-mean(y log sigmoid(z/T) + (1-y) log sigmoid(-z/T))` on seeded overconfident logits.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput } from '../helpers.js';

/** log(1 + e^-t) in float64, stable. */
const softplusNeg = (t: number): number =>
  t > 0 ? Math.log1p(Math.exp(-t)) : -t + Math.log1p(Math.exp(t));

/** The mean binary NLL of sigmoid(beta z) on labels y. */
function binaryNll(z: number[], y: number[], beta: number): number {
  let s = 0;
  z.forEach((zi, i) => {
    s += y[i] === 1 ? softplusNeg(beta * zi) : softplusNeg(-beta * zi);
  });
  return s / z.length;
}

describe('audit19 fitTemperature of a single-logit binary classifier', () => {
  const rng = makeRng(23);
  const z: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 400; i++) {
    // Box-Muller normal logits, labels drawn at temperature 2.5 (the logits are overconfident)
    const g = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const zi = 4 * g;
    z.push(zi);
    y.push(rng() < 1 / (1 + Math.exp(-zi / 2.5)) ? 1 : 0);
  }

  it('the vector z and the rows [0, z] give the float64 minimiser of the sigmoid NLL', () => {
    // ternary search of the convex NLL in beta = 1/T
    let lo = 1e-3;
    let hi = 100;
    for (let k = 0; k < 300; k++) {
      const a = lo + (hi - lo) / 3;
      const b = hi - (hi - lo) / 3;
      if (binaryNll(z, y, a) < binaryNll(z, y, b)) hi = b;
      else lo = a;
    }
    const tRef = 2 / (lo + hi);
    const col = toolbox.fitTemperature(z, y);
    expect(col.temperature).toBeCloseTo(tRef, 6);
    expect(col.temperature).toBeGreaterThan(1.5);
    expect(col.nllBefore).toBeCloseTo(binaryNll(z, y, 1), 10);
    expect(col.nllAfter).toBeCloseTo(binaryNll(z, y, 1 / tRef), 10);
    expect(toolbox.fitTemperature(Float64Array.from(z), y).temperature).toBeCloseTo(tRef, 6);
    const rows = toolbox.fitTemperature(
      z.map((v) => [0, v]),
      y,
    );
    expect(rows.temperature).toBeCloseTo(col.temperature, 10);
    const t = tf.tensor1d(z);
    const yi = tf.tensor1d(y, 'int32');
    const before = tf.memory().numTensors;
    const fromTensor = toolbox.fitTemperature(t, yi);
    expect(tf.memory().numTensors).toBe(before);
    expect(fromTensor.temperature).toBeCloseTo(tRef, 3);
    tf.dispose([t, yi]);
  });

  it('refuses NaN logits, empty logits and labels out of range, naming them', async () => {
    await expectBadInput({
      call: 'fitTemperature of a NaN logit',
      run: () => toolbox.fitTemperature([0.5, NaN], [0, 1]),
      arg: 'logits',
      message: /finite/,
    });
    await expectBadInput({
      call: 'fitTemperature of no logits',
      run: () => toolbox.fitTemperature([], []),
      arg: 'logits',
    });
    await expectBadInput({
      call: 'fitTemperature of a label 2 with one logit',
      run: () => toolbox.fitTemperature([0.5, 1], [0, 2]),
      arg: 'labels',
      message: /\[0, 2\)/,
    });
    await expectBadInput({
      call: 'fitTemperature of a [N, 1] logit column',
      run: () => toolbox.fitTemperature([[0.5], [1]], [0, 1]),
      arg: 'logits',
      message: /K >= 2 classes, got 1 .*pass it as a vector \[N\]/,
    });
  });
});
