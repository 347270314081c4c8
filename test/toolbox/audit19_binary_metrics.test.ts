/**
 * Audit 19: the metrics of a binary classifier with one sigmoid output. Its `p(y = 1)` — a rank-1
 * tensor, a typed array or an array of numbers, as scikit-learn's `brier_score_loss` /
 * `log_loss` and torchmetrics' binary metrics take it — was refused ('expected a rank-2 tensor',
 * 'expected an array of rows'), and its `[N, 1]` column was refused as 'row 0 sums to 0.9' with
 * no hint. A vector is now read as the rows `[1 - p, p]`: accuracy and NLL as for those rows, the
 * Brier score as sklearn's `mean (p - y)^2`, the calibration bins over `p` with a bin's accuracy its
 * fraction of positives (torchmetrics' `BinaryCalibrationError`). Checked against float64
 * re-implementations; a `[N, 1]` column that is not all ones is refused with the hint.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput } from '../helpers.js';

/** A seeded binary problem: p(y = 1) and labels drawn from a miscalibrated model. */
function problem(n: number, seed: number): { p: number[]; y: number[] } {
  const rng = makeRng(seed);
  const p: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const pi = Math.round(rng() * 1000) / 1000;
    p.push(pi);
    y.push(rng() < pi ** 1.5 ? 1 : 0);
  }
  // values on bin edges (equal-width bins of 10): 0.3 in (0.2, 0.3], 1 in the last bin, 0 in the first
  p.push(0.3, 1, 0, 0.5);
  y.push(1, 1, 0, 0);
  return { p, y };
}

/** torchmetrics' binary ECE / MCE in float64: bins (b/B, (b+1)/B] over p, accuracy = mean y. */
function binaryEce(p: number[], y: number[], bins: number): { ece: number; mce: number } {
  const cnt = new Array<number>(bins).fill(0);
  const pos = new Array<number>(bins).fill(0);
  const conf = new Array<number>(bins).fill(0);
  p.forEach((pi, i) => {
    let b = 0;
    while (b < bins - 1 && pi > (b + 1) / bins) b++;
    cnt[b] = (cnt[b] as number) + 1;
    pos[b] = (pos[b] as number) + (y[i] as number);
    conf[b] = (conf[b] as number) + pi;
  });
  let ece = 0;
  let mce = 0;
  cnt.forEach((c, b) => {
    if (c === 0) return;
    const gap = Math.abs((pos[b] as number) / c - (conf[b] as number) / c);
    ece += (c / p.length) * gap;
    mce = Math.max(mce, gap);
  });
  return { ece, mce };
}

describe('audit19 metrics of a binary classifier given p(y = 1) as a vector', () => {
  const { p, y } = problem(300, 19);
  const n = p.length;

  it('accuracy, NLL, Brier and ECE/MCE match float64 sklearn/torchmetrics formulas', () => {
    const acc = p.reduce((s, pi, i) => s + ((pi > 0.5 ? 1 : 0) === y[i] ? 1 : 0), 0) / n;
    const ll =
      -p.reduce((s, pi, i) => s + Math.log(Math.max(y[i] === 1 ? pi : 1 - pi, 1e-12)), 0) / n;
    const bs = p.reduce((s, pi, i) => s + (pi - (y[i] as number)) ** 2, 0) / n;
    const ref = binaryEce(p, y, 10);
    for (const probs of [p, Float64Array.from(p)]) {
      expect(toolbox.accuracy(probs, y)).toBeCloseTo(acc, 12);
      expect(toolbox.nll(probs, y)).toBeCloseTo(ll, 10);
      expect(toolbox.brierScore(probs, y)).toBeCloseTo(bs, 12);
      const cal = toolbox.calibration(probs, y, 10);
      expect(cal.ece).toBeCloseTo(ref.ece, 12);
      expect(cal.mce).toBeCloseTo(ref.mce, 12);
      const m = toolbox.classificationMetrics(probs, y, 10);
      expect(m.brier).toBeCloseTo(bs, 12);
      expect(m.ece).toBeCloseTo(ref.ece, 12);
    }
    // a float32 tensor [N] with int32 or float labels: the float32 values' metrics
    const pt = tf.tensor1d(p);
    const p32 = Array.from(pt.dataSync());
    const yi = tf.tensor1d(y, 'int32');
    const yf = tf.tensor1d(y);
    const before = tf.memory().numTensors;
    for (const labels of [yi, yf]) {
      expect(toolbox.brierScore(pt, labels)).toBeCloseTo(toolbox.brierScore(p32, y), 12);
      expect(toolbox.calibration(pt, labels, 10).ece).toBeCloseTo(binaryEce(p32, y, 10).ece, 12);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([pt, yi, yf]);
  });

  it('the rows [1 - p, p] give the same accuracy and NLL, twice the Brier score', () => {
    const rows = p.map((pi) => [1 - pi, pi]);
    expect(toolbox.nll(rows, y)).toBeCloseTo(toolbox.nll(p, y), 12);
    expect(toolbox.brierScore(rows, y)).toBeCloseTo(2 * toolbox.brierScore(p, y), 12);
  });

  it('refuses bad binary vectors and a [N, 1] sigmoid column, naming probs', async () => {
    await expectBadInput({
      call: 'brierScore of p > 1',
      run: () => toolbox.brierScore([0.2, 1.3], [0, 1]),
      arg: 'probs',
      message: /binary probabilities p\(y = 1\).*1\.3 at 1.*logits\?/,
    });
    await expectBadInput({
      call: 'calibration of a NaN',
      run: () => toolbox.calibration(Float32Array.from([0.2, NaN]), [0, 1]),
      arg: 'probs',
      message: /NaN at 1/,
    });
    await expectBadInput({
      call: 'nll of an empty tensor',
      run: () => {
        const t = tf.tensor1d([]);
        try {
          return toolbox.nll(t, []);
        } finally {
          t.dispose();
        }
      },
      arg: 'probs',
      message: /at least one/,
    });
    await expectBadInput({
      call: 'accuracy of labels out of range',
      run: () => toolbox.accuracy([0.2, 0.7], [0, 2]),
      arg: 'labels',
      message: /\[0, 2\)/,
    });
    await expectBadInput({
      call: 'brierScore with mismatched N',
      run: () => toolbox.brierScore([0.2, 0.7], [0, 1, 1]),
      arg: 'labels',
      message: /expected 2 labels/,
    });
    await expectBadInput({
      call: 'accuracy of a [N, 1] sigmoid column',
      run: () => toolbox.accuracy([[0.9], [0.2]], [1, 0]),
      arg: 'probs',
      message: /one column \[2, 1\].*pass it as a vector \[N\]/,
    });
  });
});
