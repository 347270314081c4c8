/**
 * Audit 18: the target forms a Laplace fit takes. Classification labels as integers (`[N]`,
 * `[N, 1]`, arrays, typed arrays) or as one-hot rows `[N, K]` (tensor or nested array) give the
 * same posterior; regression targets `[N, K]` as a tensor, a flat array or an array of rows alike.
 * Before, one-hot rows were refused with 'expected N labels, got N*K values', nested rows were
 * read as NaN ('got NaN at 0') and `null` raised a raw TypeError.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';

const { lastLayerLaplace, allLayersLaplace } = toolbox;

function mlp(k: number, seed: number): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 4, inputShape: [3], activation: 'tanh' }));
  m.add(tf.layers.dense({ units: k, activation: k === 1 ? 'sigmoid' : 'linear' }));
  const ws = m.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 1, 'float32', seed + i));
  m.setWeights(ws);
  tf.dispose(ws);
  return m;
}

describe('audit18 Laplace targets: integer labels, one-hot rows, rows of targets', () => {
  const n = 12;
  const x = tf.randomNormal([n, 3], 0, 1, 'float32', 5) as tf.Tensor2D;
  const labels = Array.from({ length: n }, (_, i) => (i * 7) % 3);
  const oneHot = labels.map((c) => [0, 1, 2].map((j) => (j === c ? 1 : 0)));

  it('one-hot rows (tensor, nested array, typed rows) give the posterior of the integer labels', () => {
    const m = mlp(3, 1);
    const fits = [
      (y: Parameters<typeof lastLayerLaplace>[2]) =>
        lastLayerLaplace(m, x, y, { hessianStructure: 'full' }),
      (y: Parameters<typeof lastLayerLaplace>[2]) =>
        allLayersLaplace(m, x, y, { hessianStructure: 'diag' }),
    ];
    for (const fit of fits) {
      const ref = fit(labels);
      const lml = ref.logMarginalLikelihood();
      const pRef = ref.predictProbs(x, { link: 'probit' });
      const refV = pRef.arraySync();
      pRef.dispose();
      const ohT = tf.tensor2d(oneHot);
      const intT = tf.tensor2d(labels, [n, 1], 'int32');
      const before = tf.memory().numTensors;
      for (const y of [ohT, oneHot, oneHot.map((r) => Float32Array.from(r)), intT]) {
        const la = fit(y);
        expect(la.logMarginalLikelihood()).toBe(lml);
        const p = la.predictProbs(x, { link: 'probit' });
        expect(p.arraySync()).toEqual(refV);
        p.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      // the gridsearch takes one-hot validation rows too
      const d1 = fit(labels).optimizePriorPrecision({
        method: 'gridsearch',
        xVal: x,
        yVal: labels,
        gridSize: 5,
      });
      const d2 = fit(labels).optimizePriorPrecision({
        method: 'gridsearch',
        xVal: x,
        yVal: oneHot,
        gridSize: 5,
      });
      expect(d2).toBe(d1);
      tf.dispose([ohT, intT]);
    }
    m.dispose();
  });

  it('a binary (sigmoid) head takes labels {0, 1} or one-hot rows [N, 2]', () => {
    const m = mlp(1, 3);
    const y01 = labels.map((c) => c % 2);
    const ref = lastLayerLaplace(m, x, y01, { hessianStructure: 'full' }).logMarginalLikelihood();
    const oh = y01.map((c) => (c === 1 ? [0, 1] : [1, 0]));
    expect(lastLayerLaplace(m, x, oh, { hessianStructure: 'full' }).logMarginalLikelihood()).toBe(
      ref,
    );
    const ohT = tf.tensor2d(oh);
    expect(lastLayerLaplace(m, x, ohT, { hessianStructure: 'full' }).logMarginalLikelihood()).toBe(
      ref,
    );
    ohT.dispose();
    m.dispose();
  });

  it('regression targets [N, 3]: tensor, flat array and array of rows give one posterior', () => {
    const m = mlp(3, 7);
    const yT = tf.randomNormal([n, 3], 0, 1, 'float32', 9) as tf.Tensor2D;
    const rows = yT.arraySync();
    const o = { likelihood: 'regression' as const, sigmaNoise: 0.7 };
    for (const fit of [
      (y: Parameters<typeof lastLayerLaplace>[2]) => lastLayerLaplace(m, x, y, o),
      (y: Parameters<typeof lastLayerLaplace>[2]) => allLayersLaplace(m, x, y, o),
    ]) {
      const ref = fit(yT).logMarginalLikelihood();
      expect(Number.isFinite(ref)).toBe(true);
      expect(fit(rows).logMarginalLikelihood()).toBe(ref);
      expect(fit(rows.flat()).logMarginalLikelihood()).toBe(ref);
    }
    yT.dispose();
    m.dispose();
  });

  it('targets it cannot read are refused naming y, before any work', async () => {
    const m = mlp(3, 1);
    const notOneHot = oneHot.map((r, i) => (i === 4 ? [0.5, 0.5, 0] : r));
    const cases: [string, () => unknown, RegExp][] = [
      [
        'a row that is not one-hot',
        () => lastLayerLaplace(m, x, notOneHot),
        /row 4 is not one-hot/,
      ],
      [
        'two ones in a row',
        () =>
          allLayersLaplace(
            m,
            x,
            oneHot.map((r, i) => (i === 2 ? [1, 1, 0] : r)),
          ),
        /row 2/,
      ],
      [
        'ragged rows',
        () =>
          lastLayerLaplace(
            m,
            x,
            oneHot.map((r, i) => (i === 3 ? [1, 0] : r)),
          ),
        /row 3/,
      ],
      [
        'rows [N, 2] for 3 classes',
        () =>
          lastLayerLaplace(
            m,
            x,
            labels.map(() => [1, 0]),
          ),
        /12 labels/,
      ],
      ['too few rows', () => lastLayerLaplace(m, x, oneHot.slice(1)), /12 rows/],
      ['null', () => lastLayerLaplace(m, x, null as unknown as number[]), /got null/],
      ['a string', () => allLayersLaplace(m, x, 'abc' as unknown as number[]), /got string/],
      [
        'regression rows of the wrong width',
        () =>
          lastLayerLaplace(
            m,
            x,
            labels.map(() => [1, 2]),
            { likelihood: 'regression' },
          ),
        /targets \[12, 3\]/,
      ],
    ];
    for (const [call, run, message] of cases) {
      await expectBadInput({ call, run, arg: 'y', message });
    }
    m.dispose();
  });
});
