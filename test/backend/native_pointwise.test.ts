/**
 * The native path's element-wise, pooling and reduction kernels (`native/pointwise.h`,
 * `native/pool_reduce.h` through `src/backend/native/pointwise_kernels.ts`): softplus, sigmoid and
 * the variational kernels against float64 closed forms (rho from -100 to 100, so the exp / log
 * edges are hit), the fused Adam against the float64 update, max pooling and its gradient
 * (overlapping 3x3 / stride 2 windows, odd shapes, padding, ties) and leading-axes sums against
 * the cpu backend; odd lengths (vector tails, thread splits); no tensor left behind. Skipped (with
 * the reason) only where the addon was not built.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nativeAddon } from '../../src/backend/native/kernels.js';
import { MIN_POINTWISE_ELEMENTS, pointwiseCalls } from '../../src/backend/native/pointwise_call.js';
import { nativeAddonPath } from '../../src/backend/native/load.js';
import { adamLoop } from '../../src/backend/kernels/adam.js';
import { expectNoLeak } from '../helpers.js';
import { activeKernel, cpuKernel, randInt, randTensor, rng } from './reference.js';

const built = fs.existsSync(nativeAddonPath());
const on = built && process.env['DEEPPROB_NATIVE'] !== '0';

const softplus = (r: number): number => (r > 36 ? r : Math.log1p(Math.exp(r)));
const sigmoid = (r: number): number =>
  r >= 0 ? 1 / (1 + Math.exp(-r)) : Math.exp(r) / (1 + Math.exp(r));

/** Values spread over [-lo, hi] with the exp / log edges: +-15, +-36, +-88, +-100. */
function spread(r: () => number, n: number, lo = 100, hi = 100): Float32Array {
  const edges = [-100, -88, -87.5, -36, -15.5, -15, -1e-7, 0, 1e-7, 13.9, 15, 36, 88, 100];
  return Float32Array.from({ length: n }, (_, i) =>
    i < edges.length
      ? Math.max(-lo, Math.min(hi, edges[i] as number))
      : r() < 0.7
        ? 8 * (r() - 0.5)
        : -lo + (lo + hi) * r(),
  );
}

/**
 * Run kernel `name` on the active backend and compare each output with `want` (float64):
 * |got - want| <= rtol (|want| + scale), `scale` the size of the terms of a sum that may cancel.
 */
function expectKernel(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, unknown>,
  want: ArrayLike<number>[],
  rtol: number,
  scale?: ArrayLike<number>,
): void {
  const before = pointwiseCalls[name] ?? 0;
  const got = activeKernel(name, inputs, attrs);
  const outs = Array.isArray(got) ? got : [got];
  expect(pointwiseCalls[name] ?? 0).toBe(before + 1);
  outs.forEach((o, k) => {
    const w = want[k] as ArrayLike<number>;
    const v = o.dataSync();
    expect(v.length).toBe(w.length);
    for (let i = 0; i < v.length; i++) {
      const wi = w[i] as number;
      const err = Math.abs((v[i] as number) - wi);
      const tol = rtol * (Math.abs(wi) + Math.abs((scale?.[i] as number | undefined) ?? 0));
      if (!(err <= tol + 1e-30)) {
        throw new Error(`${name} output ${k}[${i}]: got ${v[i]}, want ${wi} (rtol ${rtol})`);
      }
    }
  });
  tf.dispose([...outs, ...Object.values(inputs)]);
}

describe.skipIf(!on)('native element-wise, pooling and sum kernels (addon built)', () => {
  it('Softplus and its gradient match float64 closed forms over the exp / log edges', () => {
    const r = rng(31);
    expectNoLeak(() => {
      for (const n of [1024, 1031, 70001]) {
        const x = spread(r, n);
        const dy = Float32Array.from({ length: n }, () => 2 * r() - 1);
        expectKernel('Softplus', { x: tf.tensor(x) }, {}, [Array.from(x, softplus)], 4e-7);
        expectKernel(
          'DeepprobSoftplusGrad',
          { dy: tf.tensor(dy), x: tf.tensor(x) },
          {},
          [Array.from(x, (v, i) => (dy[i] as number) * sigmoid(v))],
          4e-7,
        );
      }
    });
  });

  it('the variational kernels match float64 closed forms', () => {
    const r = rng(32);
    expectNoLeak(() => {
      for (const n of [1024, 4099, 50003]) {
        const shape = [n];
        const mu = Float32Array.from({ length: n }, () => 2 * r() - 1);
        const rho = spread(r, n, 80, 30);
        const eps = Float32Array.from({ length: n }, () => 2 * r() - 1);
        const dy = Float32Array.from({ length: n }, () => 2 * r() - 1);
        const t = (a: Float32Array): tf.Tensor => tf.tensor(a, shape);
        expectKernel(
          'DeepprobSoftplusReparam',
          { mu: t(mu), rho: t(rho), eps: t(eps) },
          {},
          [Array.from(mu, (m, i) => m + softplus(rho[i] as number) * (eps[i] as number))],
          5e-7,
          // mu + s eps cancels: compare relative to |mu| + |s eps|
          Array.from(
            mu,
            (m, i) => Math.abs(m) + Math.abs(softplus(rho[i] as number) * (eps[i] as number)),
          ),
        );
        expectKernel(
          'DeepprobSoftplusReparamGrad',
          { dy: t(dy), eps: t(eps), rho: t(rho) },
          {},
          [Array.from(dy, (g, i) => g * (eps[i] as number) * sigmoid(rho[i] as number))],
          5e-7,
        );
        for (const priorSigma of [0.1, 1.3]) {
          const scalarCentre = r() < 0.5;
          const centre = scalarCentre
            ? Float32Array.of(0.25)
            : Float32Array.from({ length: n }, () => r() - 0.5);
          const c = (i: number): number => centre[scalarCentre ? 0 : i] as number;
          let kl = 0;
          for (let i = 0; i < n; i++) {
            const s = softplus(rho[i] as number);
            const d = (mu[i] as number) - c(i);
            kl += Math.log(priorSigma / s) + (s * s + d * d) / (2 * priorSigma * priorSigma) - 0.5;
          }
          const cT = scalarCentre ? tf.scalar(0.25) : t(centre);
          expectKernel(
            'DeepprobKLSoftplusNormal',
            { mu: t(mu), rho: t(rho), centre: cT },
            { priorSigma },
            [[kl]],
            2e-6,
          );
          const g = 0.7;
          expectKernel(
            'DeepprobKLNormalGradMu',
            { dy: tf.scalar(g), mu: t(mu), centre: scalarCentre ? tf.scalar(0.25) : t(centre) },
            { priorSigma },
            [Array.from(mu, (m, i) => (g * (m - c(i))) / (priorSigma * priorSigma))],
            5e-7,
          );
          expectKernel(
            'DeepprobKLSoftplusGradRho',
            { dy: tf.scalar(g), rho: t(rho) },
            { priorSigma },
            [
              Array.from(rho, (v) => {
                const s = softplus(v);
                // sigmoid / softplus -> 1 as rho -> -inf
                const ratio = v < -30 ? 1 : sigmoid(v) / s;
                return g * ((s * sigmoid(v)) / (priorSigma * priorSigma) - ratio);
              }),
            ],
            1e-6,
            // a difference of two terms: relative to the sum of their sizes
            Array.from(rho, (v) => {
              const s = softplus(v);
              const ratio = v < -30 ? 1 : sigmoid(v) / s;
              return g * ((s * sigmoid(v)) / (priorSigma * priorSigma) + ratio);
            }),
          );
        }
      }
    });
  });

  it('the fused Adam update matches the float64 update', () => {
    const r = rng(33);
    expectNoLeak(() => {
      for (const n of [1024, 3001, 40007]) {
        const f = (scale: number): Float32Array =>
          Float32Array.from({ length: n }, () => scale * (2 * r() - 1));
        const [x, m, g] = [f(1), f(0.1), f(1)];
        const v = Float32Array.from({ length: n }, () => 0.01 * r());
        const a = {
          beta1: 0.9,
          beta2: 0.999,
          epsilon: 1e-7,
          learningRate: 1e-3,
          c1: 1 / (1 - 0.9 ** 3),
          c2: 1 / (1 - 0.999 ** 3),
        };
        const [xo, mo, vo] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
        adamLoop(x, m, v, g, xo, mo, vo, a);
        expectKernel(
          'DeepprobAdamUpdate',
          { x: tf.tensor(x), m: tf.tensor(m), v: tf.tensor(v), g: tf.tensor(g) },
          a,
          [xo, mo, vo],
          5e-7,
          // x' = x - step cancels: relative to |x| + |m| + |v|
          Array.from(x, (xi, i) => Math.abs(xi) + Math.abs(m[i] as number) + (v[i] as number)),
        );
      }
    });
  });

  it('MaxPool and MaxPoolGrad match the cpu backend (overlapping windows, padding, ties)', () => {
    const r = rng(34);
    expectNoLeak(() => {
      const cases: { x: number[]; f: number; s: number; pad: 'valid' | 'same' | number }[] = [
        { x: [5, 32, 32, 32], f: 3, s: 2, pad: 'valid' },
        { x: [3, 15, 15, 64], f: 3, s: 2, pad: 'valid' },
        { x: [4, 8, 8, 64], f: 2, s: 2, pad: 'valid' },
        // tiled windows (stride = window): odd sizes leave rows and columns uncovered
        { x: [5, 29, 27, 6], f: 3, s: 3, pad: 'valid' },
        { x: [3, 11, 10, 20], f: 3, s: 3, pad: 'valid' },
        { x: [2, 9, 11, 7], f: 3, s: 2, pad: 'same' },
        { x: [1, 13, 12, 33], f: 2, s: 1, pad: 1 },
      ];
      for (let i = 0; i < 4; i++) {
        const f = randInt(r, 1, 4);
        const H = randInt(r, f, 14);
        const pad = (['valid', 'same'] as const)[randInt(r, 0, 1)] as 'valid' | 'same';
        cases.push({
          x: [randInt(r, 1, 5), H, randInt(r, f, 14), randInt(r, 3, 40)],
          f,
          s: randInt(r, 1, 3),
          pad,
        });
      }
      for (const c of cases) {
        // quantised values: ties inside windows (the first strict maximum takes the gradient)
        const tie = r() < 0.5;
        const x = tie ? tf.tidy(() => tf.round(tf.mul(randTensor(r, c.x), 2))) : randTensor(r, c.x);
        const attrs = { filterSize: c.f, strides: c.s, pad: c.pad, dimRoundingMode: undefined };
        const [y] = cpuKernel('MaxPool', { x }, attrs);
        const before = pointwiseCalls['MaxPool'] ?? 0;
        const got = activeKernel('MaxPool', { x }, attrs);
        // the plain 2x2 / stride 2 stays with the replaced kernels
        const plain = c.f === 2 && c.s === 2 && c.pad === 'valid';
        const native = x.size >= MIN_POINTWISE_ELEMENTS && !plain ? 1 : 0;
        expect(pointwiseCalls['MaxPool'] ?? 0).toBe(before + native);
        expect(got.shape).toEqual(y?.shape);
        expect(got).toBeAllclose(y?.values, { rtol: 0, atol: 0 });
        const dy = randTensor(r, got.shape);
        const inputs = { dy, input: x, output: got };
        const [dx] = cpuKernel('MaxPoolGrad', inputs, attrs);
        const g0 = pointwiseCalls['MaxPoolGrad'] ?? 0;
        const gx = activeKernel('MaxPoolGrad', inputs, attrs);
        expect(pointwiseCalls['MaxPoolGrad'] ?? 0).toBe(g0 + native);
        expect(gx.shape).toEqual(c.x);
        expect(gx).toBeAllclose(dx?.values, { rtol: 1e-6, atol: 1e-6 });
        tf.dispose([x, got, dy, gx]);
      }
    });
  });

  it('Sum over leading axes matches the cpu backend; other axes fall back', () => {
    const r = rng(35);
    expectNoLeak(() => {
      const cases: { shape: number[]; axis: number[]; keepDims: boolean }[] = [
        { shape: [16, 32, 32, 32], axis: [0, 1, 2], keepDims: false },
        { shape: [64, 4, 4, 192], axis: [0, 1, 2], keepDims: true },
        { shape: [257, 33], axis: [0], keepDims: false },
        { shape: [3, 1001, 7], axis: [1, 0], keepDims: false },
      ];
      for (const c of cases) {
        const x = tf.tidy(() => tf.add(randTensor(r, c.shape), 0.5));
        const attrs = { axis: c.axis, keepDims: c.keepDims };
        const [want] = cpuKernel('Sum', { x }, attrs);
        const before = pointwiseCalls['Sum'] ?? 0;
        const got = activeKernel('Sum', { x }, attrs);
        expect(pointwiseCalls['Sum']).toBe(before + 1);
        expect(got.shape).toEqual(want?.shape);
        // float32 sums of up to 65,536 terms: the cpu backend adds in float32 too
        expect(got).toBeAllclose(want?.values, { rtol: 2e-5, atol: 1e-3 });
        tf.dispose([x, got]);
      }
      // trailing axes: the replaced kernel
      const x = randTensor(r, [64, 100]);
      const before = pointwiseCalls['Sum'] ?? 0;
      tf.dispose([activeKernel('Sum', { x }, { axis: [1], keepDims: false }), x]);
      expect(pointwiseCalls['Sum'] ?? 0).toBe(before);
    });
  });

  it('PadV2 and Slice match the cpu backend (ranks 1-6, odd shapes, unit and whole axes)', () => {
    const r = rng(37);
    const seen = { pad: 0, slice: 0 };
    expectNoLeak(() => {
      const shapes = [
        [64, 32, 32, 3],
        [64, 2, 2, 256],
        [5000],
        [7, 33, 41],
        [2, 3, 5, 7, 11, 3],
        [3, 1, 17, 9, 40],
      ];
      for (const shape of shapes) {
        for (let i = 0; i < 3; i++) {
          const x = randTensor(r, shape);
          const paddings = shape.map(() =>
            r() < 0.4 ? [0, 0] : [randInt(r, 0, 3), randInt(r, 0, 3)],
          );
          const pa = { paddings, constantValue: r() < 0.5 ? 0 : 1.5 };
          const [want] = cpuKernel('PadV2', { x }, pa);
          const before = pointwiseCalls['PadV2'] ?? 0;
          const got = activeKernel('PadV2', { x }, pa);
          expect(got.shape).toEqual(want?.shape);
          expect(got).toBeAllclose(want?.values, { rtol: 0, atol: 0 });
          const native = (pointwiseCalls['PadV2'] ?? 0) - before;
          const begin = shape.map((d) => randInt(r, 0, d - 1));
          const size = shape.map((d, k) =>
            r() < 0.3 ? -1 : randInt(r, 1, d - (begin[k] as number)),
          );
          const sa = { begin, size };
          const [ws] = cpuKernel('Slice', { x }, sa);
          const s0 = pointwiseCalls['Slice'] ?? 0;
          const gs = activeKernel('Slice', { x }, sa);
          expect(gs.shape).toEqual(ws?.shape);
          expect(gs).toBeAllclose(ws?.values, { rtol: 0, atol: 0 });
          seen.pad += native;
          seen.slice += (pointwiseCalls['Slice'] ?? 0) - s0;
          tf.dispose([x, got, gs]);
        }
      }
      // the gradient of AlexNet's paddings: slices of the padded maps, native
      for (const [shape, begin, size] of [
        [
          [64, 4, 4, 384],
          [0, 1, 1, 0],
          [64, 2, 2, 384],
        ],
        [
          [64, 42, 42, 3],
          [0, 5, 5, 0],
          [64, 32, 32, 3],
        ],
      ] as const) {
        const x = randTensor(r, [...shape]);
        const sa = { begin: [...begin], size: [...size] };
        const [ws] = cpuKernel('Slice', { x }, sa);
        const got = activeKernel('Slice', { x }, sa);
        expect(got).toBeAllclose(ws?.values, { rtol: 0, atol: 0 });
        seen.slice += 1;
        tf.dispose([x, got]);
      }
      expect(seen.pad).toBeGreaterThanOrEqual(6);
      expect(pointwiseCalls['Slice'] ?? 0).toBeGreaterThanOrEqual(seen.slice);
    });
  });

  it('Add, Sub and Multiply with broadcasting match the cpu backend', () => {
    const r = rng(38);
    expectNoLeak(() => {
      const pairs: [number[], number[]][] = [
        [
          [256, 28, 28, 6],
          [256, 1, 1, 6],
        ], // Flipout's sign flips
        [[64, 4, 4, 192], [192]], // a bias row
        [
          [3001, 7],
          [3001, 1],
        ], // a column
        [[40000], []], // a scalar
        [[1], [129, 257]], // a scalar on the left
        [
          [3, 1, 33, 40],
          [1, 9, 33, 1],
        ], // both broadcast
        [
          [5, 1, 33, 1, 20],
          [1, 9, 33, 7, 20],
        ], // 5 broadcast patterns: the replaced kernel
      ];
      let calls = 0;
      for (const [sa, sb] of pairs) {
        for (const name of ['Add', 'Sub', 'Multiply']) {
          const a = randTensor(r, sa);
          const b = randTensor(r, sb);
          const [want] = cpuKernel(name, { a, b }, {});
          const before = pointwiseCalls[name] ?? 0;
          const got = activeKernel(name, { a, b }, {});
          calls += (pointwiseCalls[name] ?? 0) - before;
          expect(got.shape).toEqual(want?.shape);
          const g = got.dataSync();
          const w = want?.values ?? new Float32Array();
          const bad = g.findIndex((v, j) => v !== w[j]);
          if (bad >= 0)
            throw new Error(
              `${name} ${JSON.stringify([sa, sb])} at ${bad}: ${g[bad]} vs ${w[bad]}`,
            );
          tf.dispose([a, b, got]);
        }
      }
      // all but the last pair (5 alternating broadcast patterns) ran native
      expect(calls).toBe(3 * 6);
      // int32: the replaced kernel
      const i = tf.ones([20000], 'int32');
      const before = pointwiseCalls['Add'] ?? 0;
      tf.dispose([activeKernel('Add', { a: i, b: i }, {}), i]);
      expect(pointwiseCalls['Add'] ?? 0).toBe(before);
    });
  });

  it('flushes subnormal operands inside the kernels and leaves JavaScript arithmetic alone', () => {
    const r = rng(36);
    expectNoLeak(() => {
      // dy with subnormal entries (|v| < 2^-126) next to normal ones: they count as 0 in the GEMM
      const x = randTensor(r, [4, 6, 6, 8]);
      const dyVals = Float32Array.from({ length: 4 * 6 * 6 * 16 }, (_, i) =>
        i % 3 === 0 ? 1e-39 * (1 + (i % 7)) : r() - 0.5,
      );
      const dy = tf.tensor(dyVals, [4, 6, 6, 16]);
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 8, 16] };
      const [want] = cpuKernel('Conv2DBackpropFilter', { x, dy }, attrs);
      const got = activeKernel('Conv2DBackpropFilter', { x, dy }, attrs);
      // the subnormal terms are below 1e-37 in size: the sums agree to float32 rounding
      expect(got).toBeAllclose(want?.values, { rtol: 1e-5, atol: 1e-5 });
      // the calling thread's float mode is restored: JS and Float32Array keep subnormals
      expect(5e-324 * 1).toBe(5e-324);
      expect(Math.fround(1e-40)).not.toBe(0);
      expect(new Float32Array([1e-39])[0]! * 2).toBeGreaterThan(0);
      tf.dispose([x, dy, got]);
    });
  });

  it('rejects operands outside the heap and unknown ops with a RangeError', () => {
    const addon = nativeAddon();
    expect(addon).toBeDefined();
    const heap = new Float32Array(64);
    expect(() =>
      addon?.pointwise(0, heap, 100, 0, 0, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0),
    ).toThrow(/outside the heap/);
    expect(() => addon?.pointwise(99, heap, 1, 0, 0, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0)).toThrow(
      /unknown op/,
    );
    expect(() => addon?.colsum(heap, 0, 10, 10, 0)).toThrow(/outside the heap/);
    expect(() => addon?.pool(0, heap, 0, 0, -1, 1, 8, 8, 2, 4, 4, 2, 2, 2, 2, 1, 1, 0, 0)).toThrow(
      /outside the heap/,
    );
  });
});
