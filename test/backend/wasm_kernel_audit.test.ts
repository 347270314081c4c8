/**
 * tfjs 4.22 kernels found wrong by an op sweep (wasm against the cpu backend and float64 loops):
 * depthwise convolution padding on wasm, 3-D max pooling on wasm, the resize gradients on every
 * backend, and list-input kernels (einsum) through the cpu fallback. Each is checked here
 * against an independent float64 computation on the active backend (wasm in Node).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { makeRng } from '../../src/utils/seed.js';

const normals = (n: number, seed: number): number[] => {
  const rng = makeRng(seed);
  return Array.from({ length: n }, () => 4 * rng() - 2);
};
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
};

/** TensorFlow's SAME padding of one dimension: output length and leading padding. */
function same(n: number, k: number, s: number): [number, number] {
  const out = Math.ceil(n / s);
  return [out, Math.floor(Math.max((out - 1) * s + k - n, 0) / 2)];
}

/**
 * float64 depthwise convolution (NHWC, filter `[kh, kw, C, M]`, unit dilation) with output size
 * `[oh, ow]` and leading paddings `[pt, pl]`, and its gradients for `L = Σ dy ⊙ y`.
 */
function depthwiseRef(
  x: number[],
  xs: number[],
  w: number[],
  ws: number[],
  stride: number,
  [oh, ow]: [number, number],
  [pt, pl]: [number, number],
  dy: number[],
): { y: number[]; dx: number[]; dw: number[] } {
  const [n, h, wd, c] = xs as [number, number, number, number];
  const [kh, kw, , m] = ws as [number, number, number, number];
  const y = new Array<number>(n * oh * ow * c * m).fill(0);
  const dx = new Array<number>(x.length).fill(0);
  const dw = new Array<number>(w.length).fill(0);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let ch = 0; ch < c; ch++)
          for (let q = 0; q < m; q++) {
            const o = (((b * oh + i) * ow + j) * c + ch) * m + q;
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const r = i * stride - pt + u;
                const col = j * stride - pl + v;
                if (r < 0 || r >= h || col < 0 || col >= wd) continue;
                const xi = ((b * h + r) * wd + col) * c + ch;
                const wi = ((u * kw + v) * c + ch) * m + q;
                y[o] = (y[o] as number) + (x[xi] as number) * (w[wi] as number);
                dx[xi] = (dx[xi] as number) + (dy[o] as number) * (w[wi] as number);
                dw[wi] = (dw[wi] as number) + (dy[o] as number) * (x[xi] as number);
              }
          }
  return { y, dx, dw };
}

describe('depthwise convolution padding on wasm', () => {
  // [input, filter, stride, padding, output size, leading pads]: the SAME cases are those whose
  // window never reaches the last input rows in one dimension (wrong before: errors ~4); the
  // numeric and explicit paddings wrote outside the output ("memory access out of bounds")
  const cases: {
    name: string;
    xs: number[];
    ws: number[];
    stride: number;
    pad: 'same' | number | [number, number][];
    round?: 'floor' | 'round' | 'ceil';
  }[] = [
    {
      name: '1x3 kernel, stride 2, SAME, even height',
      xs: [1, 8, 4, 3],
      ws: [1, 3, 3, 2],
      stride: 2,
      pad: 'same',
    },
    {
      name: '3x1 kernel, stride 2, SAME',
      xs: [2, 8, 4, 2],
      ws: [3, 1, 2, 1],
      stride: 2,
      pad: 'same',
    },
    {
      name: '3x3 kernel, stride 2, SAME (was right)',
      xs: [1, 7, 7, 3],
      ws: [3, 3, 3, 1],
      stride: 2,
      pad: 'same',
    },
    // numeric padding with a square kernel: tfjs sizes both output dims with the kernel's height
    { name: 'numeric padding 1, stride 1', xs: [1, 8, 4, 4], ws: [3, 3, 4, 1], stride: 1, pad: 1 },
    {
      name: 'numeric padding 1, stride 2, round',
      xs: [1, 8, 4, 4],
      ws: [3, 3, 4, 1],
      stride: 2,
      pad: 1,
      round: 'round',
    },
    {
      name: 'explicit padding',
      xs: [1, 6, 5, 2],
      ws: [2, 3, 2, 2],
      stride: 2,
      pad: [
        [0, 0],
        [1, 2],
        [0, 1],
        [0, 0],
      ],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: output and both gradients match a float64 loop`, () => {
      const x = normals(size(c.xs), 1);
      const w = normals(size(c.ws), 2);
      const [, h, wd] = c.xs as [number, number, number];
      const [kh, kw] = c.ws as [number, number];
      let outSize: [number, number];
      let lead: [number, number];
      if (c.pad === 'same') {
        const [o1, p1] = same(h, kh, c.stride);
        const [o2, p2] = same(wd, kw, c.stride);
        outSize = [o1, o2];
        lead = [p1, p2];
      } else if (typeof c.pad === 'number') {
        const r = Math[c.round ?? 'floor'];
        outSize = [r((h - kh + 2 * c.pad) / c.stride + 1), r((wd - kw + 2 * c.pad) / c.stride + 1)];
        lead = [c.pad, c.pad];
      } else {
        const [, [t, b], [l, rr]] = c.pad as [number, number][] as [
          [number, number],
          [number, number],
          [number, number],
        ];
        outSize = [
          Math.floor((h + t + b - kh) / c.stride) + 1,
          Math.floor((wd + l + rr - kw) / c.stride) + 1,
        ];
        lead = [t, l];
      }
      const outShape = [c.xs[0] as number, ...outSize, (c.xs[3] as number) * (c.ws[3] as number)];
      const dy = normals(size(outShape), 3);
      const ref = depthwiseRef(x, c.xs, w, c.ws, c.stride, outSize, lead, dy);
      const before = tf.memory().numTensors;
      const [xt, wt, dyt] = [tf.tensor(x, c.xs), tf.tensor(w, c.ws), tf.tensor(dy, outShape)];
      const conv = (a: tf.Tensor, f: tf.Tensor): tf.Tensor =>
        tf.depthwiseConv2d(
          a as tf.Tensor4D,
          f as tf.Tensor4D,
          c.stride,
          c.pad as 'same',
          'NHWC',
          1,
          c.round,
        );
      const y = conv(xt, wt);
      expect(y.shape).toEqual(outShape);
      expect(maxAbs(y.dataSync(), ref.y)).toBeLessThan(1e-4);
      const [gx, gw] = tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(conv(a, f), dyt)))([
        xt,
        wt,
      ]) as [tf.Tensor, tf.Tensor];
      expect(maxAbs(gx.dataSync(), ref.dx)).toBeLessThan(1e-4);
      expect(maxAbs(gw.dataSync(), ref.dw)).toBeLessThan(1e-3);
      // the fused op (bias + relu) runs the same padding
      const bias = tf.tensor1d(normals(outShape[3] as number, 4));
      const fused = tf.fused.depthwiseConv2d({
        x: xt as tf.Tensor4D,
        filter: wt as tf.Tensor4D,
        strides: c.stride,
        pad: c.pad as 'same',
        dimRoundingMode: c.round,
        bias,
        activation: 'relu',
      });
      const bv = bias.dataSync();
      const expected = ref.y.map((v, i) => Math.max(0, v + (bv[i % bv.length] as number)));
      expect(maxAbs(fused.dataSync(), expected)).toBeLessThan(1e-4);
      tf.dispose([xt, wt, dyt, y, gx, gw, bias, fused]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('3-D max pooling on wasm', () => {
  const cases: [number[], [number, number, number], [number, number, number], 'same' | 'valid'][] =
    [
      [[2, 4, 3, 3, 1], [2, 2, 2], [1, 2, 2], 'same'],
      [[1, 2, 4, 5, 2], [1, 2, 1], [1, 1, 1], 'valid'],
      [[1, 5, 2, 2, 2], [1, 1, 1], [1, 1, 1], 'same'],
      [[1, 4, 5, 4, 2], [3, 1, 2], [2, 2, 1], 'same'],
    ];
  for (const [xs, f, st, pad] of cases) {
    it(`window ${f.join('x')}, strides ${st.join(',')}, ${pad}: values and gradient match a float64 loop`, () => {
      const x = normals(size(xs), 5);
      const [n, d, h, w, c] = xs as [number, number, number, number, number];
      const dims = [d, h, w];
      const out: number[] = [];
      const lead: number[] = [];
      for (let a = 0; a < 3; a++) {
        if (pad === 'same') {
          const [o, p] = same(dims[a] as number, f[a] as number, st[a] as number);
          out.push(o);
          lead.push(p);
        } else {
          out.push(Math.ceil(((dims[a] as number) - (f[a] as number) + 1) / (st[a] as number)));
          lead.push(0);
        }
      }
      const outShape = [n, ...out, c];
      const dy = normals(size(outShape), 6);
      const y: number[] = [];
      const dx = new Array<number>(x.length).fill(0);
      let o = 0;
      for (let b = 0; b < n; b++)
        for (let i = 0; i < (out[0] as number); i++)
          for (let j = 0; j < (out[1] as number); j++)
            for (let k = 0; k < (out[2] as number); k++)
              for (let ch = 0; ch < c; ch++, o++) {
                let best = -Infinity;
                let at = -1;
                for (let u = 0; u < f[0]; u++)
                  for (let v = 0; v < f[1]; v++)
                    for (let z = 0; z < f[2]; z++) {
                      const p = [
                        i * st[0] - (lead[0] as number) + u,
                        j * st[1] - (lead[1] as number) + v,
                        k * st[2] - (lead[2] as number) + z,
                      ] as [number, number, number];
                      if (p.some((q, a) => q < 0 || q >= (dims[a] as number))) continue;
                      const idx = (((b * d + p[0]) * h + p[1]) * w + p[2]) * c + ch;
                      if ((x[idx] as number) > best) {
                        best = x[idx] as number;
                        at = idx;
                      }
                    }
                y.push(best);
                dx[at] = (dx[at] as number) + (dy[o] as number);
              }
      const before = tf.memory().numTensors;
      const [xt, dyt] = [tf.tensor(x, xs), tf.tensor(dy, outShape)];
      const pool = (a: tf.Tensor): tf.Tensor => tf.maxPool3d(a as tf.Tensor5D, f, st, pad);
      const yt = pool(xt);
      expect(yt.shape).toEqual(outShape);
      expect(maxAbs(yt.dataSync(), y)).toBeLessThan(1e-6);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool(a), dyt)))(xt);
      expect(maxAbs(g.dataSync(), dx)).toBeLessThan(1e-5);
      tf.dispose([xt, dyt, yt, g]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe('resize gradients (every flag combination)', () => {
  const flags: [boolean, boolean][] = [
    [false, false],
    [true, false],
    [false, true],
  ];
  const shapes: [number[], [number, number]][] = [
    [
      [2, 4, 6, 2],
      [4, 7],
    ],
    [
      [1, 3, 4, 1],
      [8, 8],
    ],
    [
      [1, 4, 1, 2],
      [4, 2],
    ], // a width of 1: the cpu nearest-neighbour gradient never returned
    [
      [1, 6, 5, 1],
      [8, 1],
    ],
    [
      [1, 5, 3, 2],
      [2, 2],
    ], // downsampling
  ];
  for (const op of ['resizeBilinear', 'resizeNearestNeighbor'] as const)
    for (const [ac, hp] of flags)
      it(`${op} (alignCorners ${ac}, halfPixelCenters ${hp}): the gradient is the adjoint of the forward`, () => {
        for (const [xs, sz] of shapes) {
          const [n, h, w, c] = xs as [number, number, number, number];
          const resize = (a: tf.Tensor4D): tf.Tensor4D => tf.image[op](a, sz, ac, hp);
          // the forward as a matrix A[o, p] (float64 on the host), read column by column off the
          // forward of the h*w unit images
          const hw = h * w;
          const cols = tf.tidy(() => resize(tf.reshape(tf.eye(hw), [hw, h, w, 1]) as tf.Tensor4D));
          const a = cols.dataSync(); // [hw (source), sz0, sz1, 1]
          cols.dispose();
          const m = sz[0] * sz[1];
          const dy = normals(n * m * c, 7);
          const expected = new Array<number>(n * hw * c).fill(0);
          for (let b = 0; b < n; b++)
            for (let p = 0; p < hw; p++)
              for (let ch = 0; ch < c; ch++) {
                let s = 0;
                for (let o = 0; o < m; o++)
                  s += (a[p * m + o] as number) * (dy[(b * m + o) * c + ch] as number);
                expected[(b * hw + p) * c + ch] = s;
              }
          const before = tf.memory().numTensors;
          const x = tf.tensor4d(normals(size(xs), 8), xs as [number, number, number, number]);
          const dyt = tf.tensor(dy, [n, ...sz, c]);
          const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(resize(t as tf.Tensor4D), dyt)))(x);
          expect(g.shape).toEqual(xs);
          expect(maxAbs(g.dataSync(), expected)).toBeLessThan(1e-4);
          tf.dispose([x, dyt, g]);
          expect(tf.memory().numTensors).toBe(before);
        }
      });
});

describe('list-input kernels through the cpu fallback', () => {
  it('tf.einsum runs on wasm (it threw "Expected 2 input tensors, received undefined")', () => {
    const a = normals(6, 9);
    const b = normals(8, 10);
    const before = tf.memory().numTensors;
    const [at, bt] = [tf.tensor2d(a, [3, 2]), tf.tensor2d(b, [2, 4])];
    const y = tf.einsum('ij,jk->ik', at, bt);
    const expected: number[] = [];
    for (let i = 0; i < 3; i++)
      for (let k = 0; k < 4; k++)
        expected.push(
          (a[2 * i] as number) * (b[k] as number) + (a[2 * i + 1] as number) * (b[4 + k] as number),
        );
    expect(y.shape).toEqual([3, 4]);
    expect(maxAbs(y.dataSync(), expected)).toBeLessThan(1e-5);
    tf.dispose([at, bt, y]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('broadcasting binary ops beyond rank 6 on wasm', () => {
  /** float64 `op(a, b)` with numpy broadcasting. */
  function broadcastRef(
    a: number[],
    as: number[],
    b: number[],
    bs: number[],
    op: (x: number, y: number) => number,
  ): { y: number[]; shape: number[] } {
    const r = Math.max(as.length, bs.length);
    const pa = [...new Array<number>(r - as.length).fill(1), ...as];
    const pb = [...new Array<number>(r - bs.length).fill(1), ...bs];
    const shape = pa.map((d, i) => Math.max(d, pb[i] as number));
    const y: number[] = [];
    const idx = new Array<number>(r).fill(0);
    for (let n = 0; n < size(shape); n++) {
      let ia = 0;
      let ib = 0;
      for (let k = 0; k < r; k++) {
        ia = ia * (pa[k] as number) + ((pa[k] as number) === 1 ? 0 : (idx[k] as number));
        ib = ib * (pb[k] as number) + ((pb[k] as number) === 1 ? 0 : (idx[k] as number));
      }
      y.push(op(a[ia] as number, b[ib] as number));
      for (let k = r - 1; k >= 0; k--) {
        idx[k] = (idx[k] as number) + 1;
        if ((idx[k] as number) < (shape[k] as number)) break;
        idx[k] = 0;
      }
    }
    return { y, shape };
  }
  const cases: [number[], number[]][] = [
    [
      [1, 2, 3, 1, 1, 1, 2],
      [2, 2, 3, 3, 1, 3, 2],
    ], // XNNPACK left these outputs unwritten
    [
      [2, 2, 2, 2, 1, 1, 1, 2],
      [2, 1, 2],
    ],
    [
      [3, 1, 2, 1, 2, 1, 2],
      [1, 2, 1, 2, 1, 2, 1],
    ], // 7 alternating dims: the cpu kernel
    [[2, 3, 2, 3, 2, 3, 2, 40], [40]], // large enough for the native kernels
  ];
  const ops: [
    string,
    (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
    (x: number, y: number) => number,
  ][] = [
    ['add', tf.add, (x, y) => x + y],
    ['sub', tf.sub, (x, y) => x - y],
    ['mul', tf.mul, (x, y) => x * y],
    ['div', tf.div, (x, y) => x / y],
    ['squaredDifference', tf.squaredDifference, (x, y) => (x - y) ** 2],
    ['pow', (a, b) => tf.tidy(() => tf.pow(tf.abs(a), b)), (x, y) => Math.abs(x) ** y],
  ];
  for (const [name, op, ref] of ops)
    it(`${name} matches float64 at ranks 7 and 8, both operand orders`, () => {
      for (const [as, bs] of cases)
        for (const [s1, s2] of [
          [as, bs],
          [bs, as],
        ] as [number[], number[]][]) {
          const a = normals(size(s1), 11);
          const b = normals(size(s2), 12).map((v) => (name === 'div' ? v + Math.sign(v) : v));
          const expected = broadcastRef(a, s1, b, s2, ref);
          const before = tf.memory().numTensors;
          const [at, bt] = [tf.tensor(a, s1), tf.tensor(b, s2)];
          const y = op(at, bt);
          expect(y.shape).toEqual(expected.shape);
          const got = y.dataSync();
          const tol = expected.y.map((v) => 1e-5 * (1 + Math.abs(v)));
          for (let i = 0; i < got.length; i++)
            expect(Math.abs((got[i] as number) - (expected.y[i] as number))).toBeLessThan(
              tol[i] as number,
            );
          tf.dispose([at, bt, y]);
          expect(tf.memory().numTensors).toBe(before);
        }
    });

  it('logSumExp over a rank-7 tensor (a broadcast subtraction inside) matches float64', () => {
    const shape = [2, 2, 3, 3, 1, 3, 2];
    const x = normals(size(shape), 13);
    const t = tf.tensor(x, shape);
    const y = tf.logSumExp(t, 3);
    // float64: reduce axis 3 of the row-major array
    const outer = 2 * 2 * 3;
    const inner = 1 * 3 * 2;
    const expected: number[] = [];
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const vals = [0, 1, 2].map((k) => x[(o * 3 + k) * inner + i] as number);
        const m = Math.max(...vals);
        expected.push(m + Math.log(vals.reduce((s, v) => s + Math.exp(v - m), 0)));
      }
    expect(maxAbs(y.dataSync(), expected)).toBeLessThan(1e-5);
    tf.dispose([t, y]);
  });
});
