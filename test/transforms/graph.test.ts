/**
 * Topology and equivalence on LeNet5, a VGG-style stack, a functional ResNet and a MobileNet
 * block: same input/output shapes and layer graph, only the requested types changed, and with a
 * vanishing posterior scale the DNN's predictions (exactly in 'mean' mode).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setMode } from '../../src/layers/index.js';
import {
  BNN_CONV1D_CLASS,
  BNN_CONV2D_TRANSPOSE_CLASS,
  BNN_CONV_CLASS,
  BNN_DENSE_CLASS,
  transformToBnn,
  type Estimator,
} from '../../src/transforms/index.js';
import { layerGraph, NETS } from './nets.js';

const ESTIMATORS: Estimator[] = ['reparam', 'local', 'flipout'];
type Which = 'all' | 'dense' | 'conv';

/** Every estimator converts all layers; dense-only and conv-only rotate estimators across nets. */
function cases(netIndex: number): (readonly [Estimator, Which])[] {
  return [
    ...ESTIMATORS.map((e) => [e, 'all'] as const),
    [ESTIMATORS[netIndex % 3] as Estimator, 'dense'] as const,
    [ESTIMATORS[(netIndex + 1) % 3] as Estimator, 'conv'] as const,
  ];
}

describe.each(NETS.map((n, i) => ({ ...n, i })))('$name', ({ build, input, i, exactMean }) => {
  /** Mean-mode predictions equal the DNN's: exactly, or within float32 rounding (exactMean false). */
  const expectDnn = (y: tf.Tensor, want: Float32Array): void => {
    if (exactMean === false) expect(y).toBeAllclose(want, { rtol: 1e-6, atol: 1e-7 });
    else expect(Array.from(y.dataSync())).toEqual(Array.from(want));
  };
  let dnn: tf.LayersModel;
  let x: tf.Tensor;
  let yDnn: Float32Array;

  beforeAll(() => {
    dnn = build();
    x = tf.randomNormal([3, ...input]);
    yDnn = (dnn.predict(x) as tf.Tensor).dataSync() as Float32Array;
  });
  afterAll(() => {
    dnn.dispose();
    x.dispose();
  });

  it.each(cases(i))(
    'estimator %s, layers %s: same graph, only requested types changed, DNN predictions',
    async (estimator, which) => {
      const before = tf.memory().numTensors;
      const { model, converted, summary } = await transformToBnn(dnn, {
        estimator,
        layers: which,
        posteriorSigma: 1e-8,
      });
      try {
        // Same inputs/outputs.
        expect(model.inputs.map((t) => t.shape)).toEqual(dnn.inputs.map((t) => t.shape));
        expect(model.outputs.map((t) => t.shape)).toEqual(dnn.outputs.map((t) => t.shape));
        // Same graph (names, order, inbound connections); only the requested classes change.
        const g0 = layerGraph(dnn);
        const g1 = layerGraph(model);
        expect(g1.map(({ name, inbound }) => ({ name, inbound }))).toEqual(
          g0.map(({ name, inbound }) => ({ name, inbound })),
        );
        const expected = g0.map(({ cls }) => {
          if (cls === 'Dense' && which !== 'conv') return BNN_DENSE_CLASS[estimator];
          if ((cls === 'Conv2D' || cls === 'DepthwiseConv2D') && which !== 'dense') {
            return BNN_CONV_CLASS[estimator];
          }
          if (cls === 'Conv1D' && which !== 'dense') return BNN_CONV1D_CLASS[estimator];
          if (cls === 'Conv2DTranspose' && which !== 'dense') {
            return BNN_CONV2D_TRANSPOSE_CLASS[estimator];
          }
          return cls;
        });
        expect(g1.map((l) => l.cls)).toEqual(expected);
        expect(converted.map((c) => c.name)).toEqual(
          g0.filter((l, i) => l.cls !== expected[i]).map((l) => l.name),
        );
        expect(converted.length).toBeGreaterThan(0);
        expect(g0.map((l) => l.cls)).not.toContain('DenseReparam');
        // The summary marks exactly the converted layers.
        const s = summary();
        expect(s.match(/\[Bayesian\]/g)?.length).toBe(converted.length);
        // Posterior scale ~ 0: the DNN's predictions in sample mode, exactly in mean mode.
        const ySample = model.predict(x) as tf.Tensor;
        expect(ySample).toBeAllclose(yDnn, { rtol: 1e-4, atol: 1e-5 });
        ySample.dispose();
        setMode(model, 'mean');
        const yMean = model.predict(x) as tf.Tensor;
        expectDnn(yMean, yDnn);
        yMean.dispose();
      } finally {
        model.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('default MOPED init (delta 0.1) predicts differently in sample mode, same mean', async () => {
    const { model } = await transformToBnn(dnn, { estimator: 'flipout' });
    const y = model.predict(x) as tf.Tensor;
    // sigma = 0.1 |w| perturbs the outputs ...
    const diff = Math.max(
      ...Array.from(y.dataSync()).map((v, i) => Math.abs(v - (yDnn[i] as number))),
    );
    expect(diff).toBeGreaterThan(1e-6);
    y.dispose();
    // ... but the posterior means are the DNN's weights.
    setMode(model, 'mean');
    const m = model.predict(x) as tf.Tensor;
    expectDnn(m, yDnn);
    m.dispose();
    model.dispose();
  });
});
