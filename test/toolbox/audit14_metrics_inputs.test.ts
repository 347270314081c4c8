/**
 * Audit (#16, fresh eyes): the toolbox metrics on inputs off the seed paths, against float64
 * references written here: labels as an `Int32Array` and as an int32 tensor, probabilities as a
 * tensor, a single class, rows that are not probabilities (sum 0.5), a rank-3 tensor, and the
 * tensors of every refused call (none left behind).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';

const P = [
  [0.7, 0.2, 0.1],
  [0.1, 0.3, 0.6],
  [0.25, 0.5, 0.25],
  [0.9, 0.05, 0.05],
];
const Y = [0, 2, 0, 1];

/** float64 references. */
const refNll = -P.reduce((a, r, i) => a + Math.log(r[Y[i] as number] as number), 0) / P.length;
const refBrier =
  P.reduce((a, r, i) => a + r.reduce((b, p, j) => b + (p - (j === Y[i] ? 1 : 0)) ** 2, 0), 0) /
  P.length;
const refAcc = 2 / 4; // argmax 0, 2, 1, 0 vs 0, 2, 0, 1

function refused(fn: () => unknown, arg: string): void {
  const before = tf.memory().numTensors;
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(tf.memory().numTensors).toBe(before);
  expect(err, 'no error').toBeInstanceOf(ArgumentError);
  expect((err as ArgumentError).argument).toBe(arg);
}

describe('toolbox metrics: labels and probabilities of every form', () => {
  it('arrays, Int32Array labels, int32 label tensors and probability tensors give the float64 values', () => {
    const pt = tf.tensor2d(P);
    const yt = tf.tensor1d(Y, 'int32');
    for (const [probs, labels] of [
      [P, Y],
      [P, Int32Array.from(Y)],
      [pt, yt],
      [pt, Float32Array.from(Y)],
    ] as const) {
      expect(toolbox.nll(probs, labels)).toBeCloseTo(refNll, 6);
      expect(toolbox.brierScore(probs, labels)).toBeCloseTo(refBrier, 6);
      expect(toolbox.accuracy(probs, labels)).toBe(refAcc);
    }
    pt.dispose();
    yt.dispose();
  });

  it('the ECE of a hand-computed case (two bins)', () => {
    // confidences 0.7, 0.6, 0.5, 0.9; correct 1, 1, 0, 0; bins [0, 0.5), [0.5, 1]
    const c = toolbox.calibration(P, Y, 2);
    const conf = [0.7, 0.6, 0.5, 0.9];
    const ok = [1, 1, 0, 0];
    const gap = Math.abs(conf.reduce((a, b) => a + b, 0) / 4 - ok.reduce((a, b) => a + b, 0) / 4);
    expect(c.ece).toBeCloseTo(gap, 6);
  });

  it('one class: accuracy 1, NLL 0, Brier 0', () => {
    expect(toolbox.accuracy([[1], [1]], [0, 0])).toBe(1);
    expect(toolbox.nll([[1], [1]], [0, 0])).toBeCloseTo(0, 9);
    expect(toolbox.brierScore([[1], [1]], [0, 0])).toBeCloseTo(0, 9);
  });

  it('rows that are not probabilities, a rank-3 tensor, a fractional label tensor are refused naming the argument', () => {
    refused(() => toolbox.nll([[0.25, 0.25]], [0]), 'probs');
    refused(() => toolbox.brierScore([[0.6, 0.6]], [0]), 'probs');
    const t3 = tf.ones([2, 2, 2]);
    refused(() => toolbox.accuracy(t3 as tf.Tensor2D, [0, 1]), 'probs');
    t3.dispose();
    const yf = tf.tensor1d([0.5, 1]);
    refused(() => toolbox.nll([P[0] as number[], P[1] as number[]], yf), 'labels');
    yf.dispose();
  });
});
