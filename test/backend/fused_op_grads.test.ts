/**
 * The lazy gradients of tf.fused.conv2d / tf.fused.matMul (src/backend/kernels/fused_op_grads.ts)
 * against the same functions written with unfused ops (tf.conv2d / tf.matMul + add, whose
 * registered gradients are independent code), on wasm and cpu, plus the point of the change: the
 * data input's gradient is no longer computed.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FUSED_CONV2D_OP, FUSED_MATMUL_OP } from '../../src/backend/kernels/fused_op_grads.js';
import { onCpu, randTensor, rng } from './reference.js';

type Pad =
  | 'valid'
  | 'same'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  x: number[];
  f: number[];
  strides: number | [number, number];
  pad: Pad;
  bias?: number[];
  activation?: 'linear' | 'relu';
}

const CONV_CASES: ConvCase[] = [
  { x: [2, 9, 9, 3], f: [3, 3, 3, 4], strides: 1, pad: 'valid', bias: [4] },
  { x: [2, 9, 8, 3], f: [3, 3, 3, 4], strides: 2, pad: 'same', bias: [4] },
  { x: [1, 7, 7, 2], f: [5, 5, 2, 3], strides: 1, pad: 2 },
  {
    x: [2, 8, 7, 1],
    f: [3, 2, 1, 5],
    strides: [2, 1],
    pad: [
      [0, 0],
      [1, 0],
      [0, 2],
      [0, 0],
    ],
    bias: [5],
  },
  { x: [8, 8, 2], f: [3, 3, 2, 2], strides: 1, pad: 'same', bias: [2] }, // rank-3 x
  { x: [2, 6, 6, 2], f: [3, 3, 2, 3], strides: 1, pad: 'valid', bias: [3], activation: 'relu' },
  // ReLU without bias, strided 'same' and explicit pads: the one-kernel FusedConv2D path
  { x: [2, 9, 8, 3], f: [3, 3, 3, 4], strides: 2, pad: 'same', activation: 'relu' },
  { x: [1, 7, 7, 2], f: [5, 5, 2, 3], strides: 1, pad: 2, bias: [3], activation: 'relu' },
  { x: [8, 8, 2], f: [3, 3, 2, 2], strides: 1, pad: 'same', bias: [2], activation: 'relu' },
];

type Fn = (...t: tf.Tensor[]) => tf.Tensor;

/**
 * Gradients of sum(dy * f(ins)) for the fused and the unfused form of the same function, with
 * dy drawn from `r` in the output's shape; frees the inputs.
 */
function bothGrads(
  r: () => number,
  ins: tf.Tensor[],
  fused: Fn,
  unfused: Fn,
): { fused: tf.Tensor[]; ref: tf.Tensor[] } {
  const y0 = unfused(...ins);
  const dy = randTensor(r, y0.shape);
  y0.dispose();
  const grads = (f: Fn): tf.Tensor[] =>
    tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(dy, f(...t))))(ins);
  const out = { fused: grads(fused), ref: grads(unfused) };
  tf.dispose([dy, ...ins]);
  return out;
}

/** Gradients of sum(dy * conv(x)) w.r.t. x, filter (and bias), fused and unfused. */
function convGrads(c: ConvCase, seed: number): { fused: tf.Tensor[]; ref: tf.Tensor[] } {
  const r = rng(seed);
  const x = randTensor(r, c.x);
  const f = randTensor(r, c.f);
  const b = c.bias === undefined ? undefined : randTensor(r, c.bias);
  const ins = b === undefined ? [x, f] : [x, f, b];
  const act = c.activation ?? 'linear';
  return bothGrads(
    r,
    ins,
    (...t) =>
      tf.fused.conv2d({
        x: t[0] as tf.Tensor4D,
        filter: t[1] as tf.Tensor4D,
        strides: c.strides,
        pad: c.pad,
        bias: t[2],
        activation: act,
      }),
    (...t) => {
      let y: tf.Tensor = tf.conv2d(t[0] as tf.Tensor4D, t[1] as tf.Tensor4D, c.strides, c.pad);
      if (t[2] !== undefined) y = tf.add(y, t[2]);
      return act === 'relu' ? tf.relu(y) : y;
    },
  );
}

interface MatMulCase {
  a: number[];
  b: number[];
  tA: boolean;
  tB: boolean;
  bias?: number[];
  activation?: 'linear' | 'relu';
}

const MATMUL_CASES: MatMulCase[] = [
  { a: [5, 4], b: [4, 3], tA: false, tB: false, bias: [3] },
  { a: [5, 4], b: [3, 4], tA: false, tB: true, bias: [3] },
  { a: [4, 5], b: [4, 3], tA: true, tB: false },
  { a: [4, 5], b: [3, 4], tA: true, tB: true, bias: [3] },
  { a: [2, 5, 4], b: [2, 4, 3], tA: false, tB: false, bias: [3] }, // batched
  // ReLU: the one-kernel _FusedMatMul path for 2-D operands, every transpose case
  { a: [5, 4], b: [4, 3], tA: false, tB: false, bias: [3], activation: 'relu' },
  { a: [5, 4], b: [3, 4], tA: false, tB: true, activation: 'relu' },
  { a: [4, 5], b: [4, 3], tA: true, tB: false, bias: [3], activation: 'relu' },
  { a: [4, 5], b: [3, 4], tA: true, tB: true, activation: 'relu' },
  { a: [2, 5, 4], b: [2, 4, 3], tA: false, tB: false, bias: [3], activation: 'relu' },
];

function matMulGrads(c: MatMulCase, seed: number): { fused: tf.Tensor[]; ref: tf.Tensor[] } {
  const r = rng(seed);
  const a = randTensor(r, c.a);
  const b = randTensor(r, c.b);
  const bias = c.bias === undefined ? undefined : randTensor(r, c.bias);
  const ins = bias === undefined ? [a, b] : [a, b, bias];
  return bothGrads(
    r,
    ins,
    (...t) =>
      tf.fused.matMul({
        a: t[0] as tf.Tensor,
        b: t[1] as tf.Tensor,
        transposeA: c.tA,
        transposeB: c.tB,
        bias: t[2],
        activation: c.activation ?? 'linear',
      }),
    (...t) => {
      const y = tf.matMul(t[0] as tf.Tensor, t[1] as tf.Tensor, c.tA, c.tB);
      const z = t[2] === undefined ? y : tf.add(y, t[2]);
      return c.activation === 'relu' ? tf.relu(z) : z;
    },
  );
}

function expectSame({ fused, ref }: { fused: tf.Tensor[]; ref: tf.Tensor[] }): void {
  expect(fused.length).toBe(ref.length);
  fused.forEach((g, i) => {
    expect(g.shape).toEqual((ref[i] as tf.Tensor).shape);
    expect(g).toBeAllclose(ref[i] as tf.Tensor, { rtol: 1e-4, atol: 1e-4 });
  });
  tf.dispose([...fused, ...ref]);
}

describe('lazy gradients of the fused ops', () => {
  it('are registered under the ops’ tape names', () => {
    expect(tf.getGradient(FUSED_CONV2D_OP)).toBeDefined();
    expect(tf.getGradient(FUSED_MATMUL_OP)).toBeDefined();
  });

  it('fused conv2d: same gradients as conv2d + bias (+ relu) for strides, pads, biases, ranks', async () => {
    for (const [i, c] of CONV_CASES.entries()) expectSame(convGrads(c, 10 + i));
    await onCpu(() => {
      for (const [i, c] of CONV_CASES.entries()) expectSame(convGrads(c, 20 + i));
    });
  });

  it('fused matMul: same gradients as matMul + bias (+ relu) for the four transpose cases and batches', async () => {
    for (const [i, c] of MATMUL_CASES.entries()) expectSame(matMulGrads(c, 30 + i));
    await onCpu(() => {
      for (const [i, c] of MATMUL_CASES.entries()) expectSame(matMulGrads(c, 40 + i));
    });
  });

  it('a training step of a tf.layers model no longer computes the data input’s gradient, without leaks', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 5 }),
      ],
    });
    const r = rng(3);
    const x = randTensor(r, [8, 12, 12, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32'), 5);
    const opt = tf.train.sgd(0.1);
    const step = (): void => {
      const l = opt.minimize(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor),
        true,
      );
      l?.dispose();
    };
    step();
    const before = tf.memory().numTensors;
    const prof = await tf.profile(step);
    expect(tf.memory().numTensors).toBe(before);
    const names = prof.kernels.map((k) => k.name);
    // conv: only the filter gradient (the image is data); dense: only dW (its input is a feature
    // map, so its gradient flows back into the conv... through dW of the conv, not dx)
    expect(names.filter((n) => n === 'Conv2DBackpropInput')).toHaveLength(0);
    expect(names.filter((n) => n === 'Conv2DBackpropFilter')).toHaveLength(1);
    // dense: dA (the flattened conv output leads to the conv's weights) and dB are both needed
    expect(names.filter((n) => n === 'BatchMatMul')).toHaveLength(2);
    // and the step still trains: the loss falls
    const loss = (): number =>
      tf.tidy(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor).dataSync()[0] as number,
      );
    const l0 = loss();
    for (let i = 0; i < 20; i++) step();
    expect(loss()).toBeLessThan(l0);
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  });

  it('a ReLU conv/dense layer trains through one fused kernel each, same loss path, no leaks', async () => {
    const make = (relu: boolean): tf.Sequential => {
      const act = relu ? ({ activation: 'relu' } as const) : {};
      const m = tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [10, 10, 2],
            filters: 3,
            kernelSize: 3,
            useBias: false,
            kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
            ...act,
          }),
          ...(relu ? [] : [tf.layers.activation({ activation: 'relu' })]),
          tf.layers.flatten(),
          tf.layers.dense({
            units: 6,
            kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
            ...act,
          }),
          ...(relu ? [] : [tf.layers.activation({ activation: 'relu' })]),
          tf.layers.dense({
            units: 4,
            kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
          }),
        ],
      });
      return m;
    };
    const fused = make(true);
    const plain = make(false);
    const r = rng(5);
    const x = randTensor(r, [6, 10, 10, 2]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1], 'int32'), 4);
    const grads = (m: tf.Sequential): tf.Tensor[] => {
      const { value, grads: g } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, m.apply(x) as tf.Tensor) as tf.Scalar,
        m.trainableWeights.map((w) => w.read() as tf.Variable),
      );
      value.dispose();
      return Object.values(g);
    };
    const gf = grads(fused);
    const gp = grads(plain);
    expect(gf.length).toBe(gp.length);
    gf.forEach((g, i) => expect(g).toBeAllclose(gp[i] as tf.Tensor, { rtol: 1e-4, atol: 1e-5 }));
    tf.dispose([...gf, ...gp]);
    grads(fused).forEach((g) => g.dispose());
    const before = tf.memory().numTensors;
    const prof = await tf.profile(() => tf.dispose(grads(fused)));
    expect(tf.memory().numTensors).toBe(before);
    const names = prof.kernels.map((k) => k.name);
    expect(names.filter((n) => n === 'FusedConv2D')).toHaveLength(1);
    expect(names.filter((n) => n === '_FusedMatMul')).toHaveLength(2);
    expect(names).not.toContain('Relu');
    expect(names).not.toContain('Conv2D');
    tf.dispose([x, y]);
    fused.dispose();
    plain.dispose();
  });
});
