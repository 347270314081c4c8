/**
 * Audit of the CPU engine's matrix products (issue 19) on shapes the benchmarks never used:
 * `tf.matMul` (BatchMatMul) and `tf.fused.matMul` (_FusedMatMul) with every transpose pair, batch
 * broadcasting, sizes 1, primes, non-multiples of the SIMD width, thin/wide operands, K = 1 and
 * zero-size dims, each against a float64 loop and the tfjs cpu backend; the fused epilogues (bias +
 * every activation) forward and backward; no tensor left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoLeak } from '../helpers.js';
import { cpuKernel } from './reference.js';
import { activation, matmulRef, numel, values, worstRatio } from './audit15_ref.js';

/** float32 products: each entry within `1e-5 sum_k |a_ik b_kj|` of the float64 value. */
const RTOL = 1e-5;
const ATOL = 1e-6;

function checkMatMul(as: number[], bs: number[], tA: boolean, tB: boolean, seed: number): void {
  const av = values(seed, numel(as));
  const bv = values(seed + 1, numel(bs));
  const ref = matmulRef(av, as, bv, bs, tA, tB);
  expectNoLeak(() => {
    const a = tf.tensor(av, as);
    const b = tf.tensor(bv, bs);
    const c = tf.matMul(a, b, tA, tB);
    expect(c.shape).toEqual(ref.out.shape);
    const got = c.dataSync();
    const r = worstRatio(got, ref.out.v, ref.abs, RTOL, ATOL);
    expect(r, `${JSON.stringify([as, bs, tA, tB])}`).toBeLessThanOrEqual(1);
    tf.dispose([a, b, c]);
  });
}

const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

/** [M, K, N] off the benchmark shapes: ones, primes, SIMD-width remainders, thin and wide. */
const MKN: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 1],
  [7, 1, 13],
  [13, 257, 7],
  [257, 3, 5],
  [3, 257, 257],
  [1, 300, 2049],
  [2049, 17, 1],
  [17, 33, 15],
  [65, 129, 31],
  [5, 1, 700],
];

describe('engine audit: BatchMatMul (2-D)', () => {
  it('every transpose pair on sizes 1, primes, remainders, thin/wide, K=1 matches float64', () => {
    let seed = 100;
    for (const [m, k, n] of MKN) {
      for (const [tA, tB] of TRANSPOSES) {
        const as = tA ? [k, m] : [m, k];
        const bs = tB ? [n, k] : [k, n];
        checkMatMul(as, bs, tA, tB, seed);
        seed += 2;
      }
    }
  });

  it('agrees with the tfjs cpu backend kernel', () => {
    for (const [m, k, n] of [
      [13, 257, 7],
      [31, 64, 9],
    ] as [number, number, number][]) {
      for (const [tA, tB] of TRANSPOSES) {
        const a = tf.tensor(values(m * 7 + k, m * k), tA ? [1, k, m] : [1, m, k]);
        const b = tf.tensor(values(n * 3 + k, k * n), tB ? [1, n, k] : [1, k, n]);
        const [want] = cpuKernel('BatchMatMul', { a, b }, { transposeA: tA, transposeB: tB });
        const got = tf.matMul(a, b, tA, tB);
        expect(got).toBeAllclose(want?.values, { rtol: 1e-4, atol: 1e-4 });
        tf.dispose([a, b, got]);
      }
    }
  });
});

describe('engine audit: batched products and broadcasting', () => {
  it('equal batches of rank 3 and 4, each transpose pair', () => {
    let seed = 300;
    for (const [batch, m, k, n] of [
      [[5], 7, 13, 3],
      [[2, 3], 9, 17, 11],
      [[1], 33, 1, 5],
      [[4], 1, 64, 1],
    ] as [number[], number, number, number][]) {
      for (const [tA, tB] of TRANSPOSES) {
        checkMatMul(
          [...batch, ...(tA ? [k, m] : [m, k])],
          [...batch, ...(tB ? [n, k] : [k, n])],
          tA,
          tB,
          seed++,
        );
      }
    }
  });

  it('numpy batch broadcasting: size-1 batches, missing dims, both sides', () => {
    const cases: [number[], number[]][] = [
      [
        [3, 7, 5],
        [5, 4],
      ], // [P, N, D] @ [D, K]
      [
        [7, 5],
        [3, 5, 4],
      ],
      [
        [1, 7, 5],
        [3, 5, 4],
      ],
      [
        [3, 7, 5],
        [1, 5, 4],
      ],
      [
        [2, 1, 7, 5],
        [3, 5, 4],
      ], // both sides broadcast
      [
        [2, 1, 7, 5],
        [1, 3, 5, 4],
      ],
      [
        [1, 1, 6, 5],
        [4, 5, 3],
      ],
      [
        [2, 3, 1, 6, 5],
        [3, 1, 5, 2],
      ],
    ];
    let seed = 400;
    for (const [as, bs] of cases) {
      for (const [tA, tB] of TRANSPOSES) {
        const ra = as.length;
        const rb = bs.length;
        const a2 = tA ? [...as.slice(0, -2), as[ra - 1] as number, as[ra - 2] as number] : as;
        const b2 = tB ? [...bs.slice(0, -2), bs[rb - 1] as number, bs[rb - 2] as number] : bs;
        checkMatMul(a2, b2, tA, tB, seed++);
      }
    }
  });

  it('zero-size dims give the right empty or zero result', () => {
    expectNoLeak(() =>
      tf.tidy(() => {
        // K = 0: an [M, N] of zeros
        const c = tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4]));
        expect(c.shape).toEqual([3, 4]);
        expect(Array.from(c.dataSync())).toEqual(new Array(12).fill(0));
        // K = 0 with transposes and a batch
        const c2 = tf.matMul(tf.zeros([2, 0, 3]), tf.zeros([2, 4, 0]), true, true);
        expect(c2.shape).toEqual([2, 3, 4]);
        expect(Array.from(c2.dataSync())).toEqual(new Array(24).fill(0));
        // M = 0 and N = 0: empty outputs of the right shape
        expect(tf.matMul(tf.zeros([0, 5]), tf.ones([5, 3])).shape).toEqual([0, 3]);
        expect(tf.matMul(tf.ones([2, 5]), tf.ones([5, 0])).shape).toEqual([2, 0]);
        expect(tf.matMul(tf.ones([0, 2, 5]), tf.ones([0, 5, 3])).shape).toEqual([0, 2, 3]);
        // fused, K = 0: act(0 + bias)
        const f = tf.fused.matMul({
          a: tf.zeros([3, 0]),
          b: tf.zeros([0, 2]),
          bias: tf.tensor1d([-1, 2]),
          activation: 'relu',
        });
        expect(Array.from(f.dataSync())).toEqual([0, 2, 0, 2, 0, 2]);
      }),
    );
  });

  it('gradients of a broadcast product match float64 adjoints', () => {
    // y = A @ B with A [2, 1, 7, 5], B [3, 5, 4]; L = sum(G * y)
    // dA = sum over broadcast batch of G B^T, dB = sum of A^T G
    const as = [2, 1, 7, 5];
    const bs = [3, 5, 4];
    const av = values(501, numel(as));
    const bv = values(502, numel(bs));
    const gv = values(503, 2 * 3 * 7 * 4);
    const dA = new Float64Array(numel(as));
    const dB = new Float64Array(numel(bs));
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        for (let r = 0; r < 7; r++)
          for (let c = 0; c < 4; c++) {
            const g = gv[((i * 3 + j) * 7 + r) * 4 + c] as number;
            for (let p = 0; p < 5; p++) {
              dA[(i * 7 + r) * 5 + p] =
                (dA[(i * 7 + r) * 5 + p] as number) + g * (bv[(j * 5 + p) * 4 + c] as number);
              dB[(j * 5 + p) * 4 + c] =
                (dB[(j * 5 + p) * 4 + c] as number) + g * (av[(i * 7 + r) * 5 + p] as number);
            }
          }
    expectNoLeak(() => {
      const a = tf.tensor(av, as);
      const b = tf.tensor(bv, bs);
      const g = tf.tensor(gv, [2, 3, 7, 4]);
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), g)))(
        [a, b],
      );
      expect(ga?.shape).toEqual(as);
      expect(gb?.shape).toEqual(bs);
      expect(ga).toBeAllclose(dA, { rtol: 1e-5, atol: 1e-5 });
      expect(gb).toBeAllclose(dB, { rtol: 1e-5, atol: 1e-5 });
      tf.dispose([a, b, g, ga as tf.Tensor, gb as tf.Tensor]);
    });
  });
});

const ACTIVATIONS = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const;

describe('engine audit: fused matMul + bias + activation', () => {
  for (const act of ACTIVATIONS) {
    it(`${act}: forward and backward (x, W, bias) match float64`, () => {
      for (const [m, k, n, tA, tB] of [
        [13, 7, 17, false, false],
        [1, 257, 5, true, false],
        [9, 1, 33, false, true],
        [5, 3, 2, true, true],
      ] as [number, number, number, boolean, boolean][]) {
        const seed = 700 + m * 3 + n;
        const av = values(seed, m * k).map((v) => v * 3);
        const bv = values(seed + 1, k * n);
        const biasv = values(seed + 2, n);
        const pv = values(seed + 3, n).map((v) => 0.5 * v);
        const gv = values(seed + 4, m * n);
        const alpha = 0.15;
        const as = tA ? [k, m] : [m, k];
        const bs = tB ? [n, k] : [k, n];
        const ref = matmulRef(av, as, bv, bs, tA, tB);
        const fn = activation(act, alpha, (i) => pv[i % n] as number);
        const z = ref.out.v.map((v, i) => v + (biasv[i % n] as number));
        const y = z.map((v, i) => fn.f(v, i));
        const dz = z.map((v, i) => (gv[i] as number) * fn.df(v, i));
        // adjoints: dA = dz op(B)^T (in A's storage), dB = op(A)^T dz, dbias = column sums
        const dA = new Float64Array(m * k);
        const dB = new Float64Array(k * n);
        const dbias = new Float64Array(n);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            const d = dz[i * n + j] as number;
            dbias[j] = (dbias[j] as number) + d;
            for (let p = 0; p < k; p++) {
              const ai = tA ? p * m + i : i * k + p;
              const bi = tB ? j * k + p : p * n + j;
              dA[ai] = (dA[ai] as number) + d * (bv[bi] as number);
              dB[bi] = (dB[bi] as number) + d * (av[ai] as number);
            }
          }
        expectNoLeak(() => {
          const a = tf.tensor(av, as);
          const b = tf.tensor(bv, bs);
          const bias = tf.tensor(biasv, [n]);
          const prelu = tf.tensor(pv, [n]);
          const g = tf.tensor(gv, [m, n]);
          const run = (x: tf.Tensor, w: tf.Tensor, bb: tf.Tensor): tf.Tensor =>
            tf.fused.matMul({
              a: x as tf.Tensor2D,
              b: w as tf.Tensor2D,
              transposeA: tA,
              transposeB: tB,
              bias: bb,
              activation: act,
              ...(act === 'prelu' ? { preluActivationWeights: prelu } : {}),
              ...(act === 'leakyrelu' ? { leakyreluAlpha: alpha } : {}),
            });
          const out = run(a, b, bias);
          const label = `${act} ${JSON.stringify([m, k, n, tA, tB])}`;
          expect(worstRatio(out.dataSync(), y, undefined, 1e-4, 1e-5), label).toBeLessThanOrEqual(
            1,
          );
          const grads = tf.grads((x: tf.Tensor, w: tf.Tensor, bb: tf.Tensor) =>
            tf.sum(tf.mul(run(x, w, bb), g)),
          )([a, b, bias]);
          expect(
            worstRatio(grads[0]?.dataSync() ?? [], dA, undefined, 1e-4, 1e-5),
            `dA ${label}`,
          ).toBeLessThanOrEqual(1);
          expect(
            worstRatio(grads[1]?.dataSync() ?? [], dB, undefined, 1e-4, 1e-5),
            `dB ${label}`,
          ).toBeLessThanOrEqual(1);
          expect(
            worstRatio(grads[2]?.dataSync() ?? [], dbias, undefined, 1e-4, 1e-5),
            `dbias ${label}`,
          ).toBeLessThanOrEqual(1);
          tf.dispose([a, b, bias, prelu, g, out, ...grads]);
        });
      }
    });
  }

  it('batched fused matMul with a bias of shape [1, N] and [N] (rank 3, batch 3)', () => {
    const [B, m, k, n] = [3, 5, 11, 7];
    const av = values(801, B * m * k);
    const bv = values(802, B * k * n);
    const biasv = values(803, n);
    const ref = matmulRef(av, [B, m, k], bv, [B, k, n], false, false);
    expectNoLeak(() => {
      const a = tf.tensor(av, [B, m, k]);
      const b = tf.tensor(bv, [B, k, n]);
      for (const bshape of [[n], [1, n]]) {
        const bias = tf.tensor(biasv, bshape);
        const out = tf.fused.matMul({
          a: a as tf.Tensor3D,
          b: b as tf.Tensor3D,
          bias,
          activation: 'relu',
        });
        const want = ref.out.v.map((v, i) => Math.max(0, v + (biasv[i % n] as number)));
        expect(out).toBeAllclose(want, { rtol: 1e-5, atol: 1e-5 });
        tf.dispose([bias, out]);
      }
      tf.dispose([a, b]);
    });
  });

  it('a full [M, N] bias (broadcast per element) is added element-wise, not per column', () => {
    const [m, k, n] = [6, 9, 5];
    const av = values(811, m * k);
    const bv = values(812, k * n);
    const biasv = values(813, m * n);
    const ref = matmulRef(av, [m, k], bv, [k, n], false, false);
    expectNoLeak(() => {
      const a = tf.tensor(av, [m, k]);
      const b = tf.tensor(bv, [k, n]);
      const bias = tf.tensor(biasv, [m, n]);
      const out = tf.fused.matMul({
        a: a as tf.Tensor2D,
        b: b as tf.Tensor2D,
        bias,
        activation: 'relu',
      });
      const z = ref.out.v.map((v, i) => v + (biasv[i] as number));
      expect(out).toBeAllclose(
        z.map((v) => Math.max(0, v)),
        { rtol: 1e-5, atol: 1e-5 },
      );
      // gradient of sum(y): d bias = 1[z > 0] element-wise, d a = 1[z > 0] B^T
      const [ga, gbias] = tf.grads((x: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(
          tf.fused.matMul({
            a: x as tf.Tensor2D,
            b: b as tf.Tensor2D,
            bias: bb,
            activation: 'relu',
          }),
        ),
      )([a, bias]);
      expect(gbias?.shape).toEqual([m, n]);
      expect(gbias).toBeAllclose(
        z.map((v) => (v > 0 ? 1 : 0)),
        { rtol: 0, atol: 0 },
      );
      const dA = new Float64Array(m * k);
      for (let i = 0; i < m; i++)
        for (let p = 0; p < k; p++)
          for (let j = 0; j < n; j++)
            if ((z[i * n + j] as number) > 0)
              dA[i * k + p] = (dA[i * k + p] as number) + (bv[p * n + j] as number);
      expect(ga).toBeAllclose(dA, { rtol: 1e-5, atol: 1e-5 });
      tf.dispose([a, b, bias, out, ga as tf.Tensor, gbias as tf.Tensor]);
    });
  });
});
