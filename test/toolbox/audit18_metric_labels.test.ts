/**
 * Audit 18: one-hot labels given to the metrics, conformal and temperature fits. An array of
 * one-hot rows was read as labels 'got 0,1 at 0'; a one-hot tensor [N, K] as 'expected a rank-1
 * tensor'. Both stay refused (the functions take class indices, as scikit-learn's metrics) but the
 * message now says what was given and what to pass, naming `labels`.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';

describe('audit18 one-hot labels are refused with a message that says so', () => {
  const probs = [
    [0.2, 0.8],
    [0.7, 0.3],
    [0.4, 0.6],
  ];
  const rows = [
    [0, 1],
    [1, 0],
    [0, 1],
  ];
  it('metrics, calibration, conformal and temperature name labels and the fix', async () => {
    const calls: [string, (y: tf.Tensor | number[][]) => unknown][] = [
      ['accuracy', (y) => toolbox.accuracy(probs, y as unknown as number[])],
      ['nll', (y) => toolbox.nll(probs, y as unknown as number[])],
      ['brierScore', (y) => toolbox.brierScore(probs, y as unknown as number[])],
      ['calibration', (y) => toolbox.calibration(probs, y as unknown as number[], 5)],
      ['calibrateConformal', (y) => toolbox.calibrateConformal(probs, y as unknown as number[])],
      [
        'fitTemperature',
        (y) =>
          toolbox.fitTemperature(
            [
              [1, 2],
              [2, 0],
              [0, 1],
            ],
            y as unknown as number[],
          ),
      ],
    ];
    for (const [name, f] of calls) {
      await expectBadInput({
        call: `${name} with an array of one-hot rows`,
        run: () => f(rows),
        arg: 'labels',
        message: /array of rows \(one-hot rows\? pass their class indices\)/,
      });
      await expectBadInput({
        call: `${name} with a one-hot tensor`,
        run: () => {
          const t = tf.tensor2d(rows);
          try {
            return f(t);
          } finally {
            t.dispose();
          }
        },
        arg: 'labels',
        message: /one-hot rows\? pass their class indices, tf.argMax\(y, 1\)/,
      });
    }
  });
});
