/**
 * Float64 plain-JS references for the engine audit (issue 19): batched matrix products with numpy
 * batch broadcasting, NHWC convolutions (forward, both gradients), depthwise convolutions, pooling
 * and the fused activations. Independent of tfjs: the padding and output sizes are TensorFlow's
 * rules written out here, not read from `computeConv2DInfo`.
 */

/** A flat float64 array with its shape. */
export interface Arr {
  shape: number[];
  v: Float64Array;
}

/** Number of elements of a shape. */
export function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Deterministic values in [-1, 1) from a mulberry32 stream seeded by `seed`. */
export function values(seed: number, n: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/**
 * `C = op(A) op(B)` with numpy broadcasting of the batch dims, in float64; also `|A||B|` (the
 * scale of each entry's rounding error).
 */
export function matmulRef(
  a: ArrayLike<number>,
  as: number[],
  b: ArrayLike<number>,
  bs: number[],
  tA: boolean,
  tB: boolean,
): { out: Arr; abs: Float64Array } {
  const ra = as.length;
  const rb = bs.length;
  const m = as[tA ? ra - 1 : ra - 2] as number;
  const k = as[tA ? ra - 2 : ra - 1] as number;
  const n = bs[tB ? rb - 2 : rb - 1] as number;
  const ba = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const rank = Math.max(ba.length, bb.length);
  const pa = [...Array<number>(rank - ba.length).fill(1), ...ba];
  const pb = [...Array<number>(rank - bb.length).fill(1), ...bb];
  const bo = pa.map((d, i) => {
    const e = pb[i] as number;
    if (d !== e && d !== 1 && e !== 1) throw new Error('batch dims do not broadcast');
    return d === 1 ? e : d;
  });
  const nb = numel(bo);
  const out = new Float64Array(nb * m * n);
  const abs = new Float64Array(nb * m * n);
  const idx = new Array<number>(rank).fill(0);
  for (let t = 0; t < nb; t++) {
    let rem = t;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = rem % (bo[d] as number);
      rem = Math.floor(rem / (bo[d] as number));
    }
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      ia = ia * (pa[d] as number) + ((pa[d] as number) === 1 ? 0 : (idx[d] as number));
      ib = ib * (pb[d] as number) + ((pb[d] as number) === 1 ? 0 : (idx[d] as number));
    }
    const oa = ia * m * k;
    const ob = ib * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let sa = 0;
        for (let p = 0; p < k; p++) {
          const x = a[oa + (tA ? p * m + i : i * k + p)] as number;
          const y = b[ob + (tB ? j * k + p : p * n + j)] as number;
          s += x * y;
          sa += Math.abs(x * y);
        }
        out[t * m * n + i * n + j] = s;
        abs[t * m * n + i * n + j] = sa;
      }
    }
  }
  return { out: { shape: [...bo, m, n], v: out }, abs };
}

/** A convolution's padding as tfjs takes it. */
export type Pad =
  | 'valid'
  | 'same'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

/** Output size and leading pad of one spatial axis under TensorFlow's rules. */
export function axisGeometry(
  inSize: number,
  k: number,
  stride: number,
  dil: number,
  pad: Pad,
  axis: 0 | 1,
): { out: number; before: number } {
  const eff = (k - 1) * dil + 1;
  if (pad === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max(0, (out - 1) * stride + eff - inSize);
    return { out, before: Math.floor(total / 2) };
  }
  if (pad === 'valid')
    return { out: Math.max(0, Math.ceil((inSize - eff + 1) / stride)), before: 0 };
  if (typeof pad === 'number') {
    return { out: Math.trunc((inSize - eff + 2 * pad) / stride + 1), before: pad };
  }
  const [lo, hi] = pad[axis + 1] as [number, number];
  return { out: Math.trunc((inSize + lo + hi - eff) / stride + 1), before: lo };
}

/** Geometry of an NHWC window op. */
export interface Geo {
  B: number;
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
}

/** The window geometry of an NHWC op on `xs` with a `kh x kw` window. */
export function geometry(
  xs: number[],
  kh: number,
  kw: number,
  strides: [number, number],
  dil: [number, number],
  pad: Pad,
): Geo {
  const [B, H, W, C] = xs as [number, number, number, number];
  const gh = axisGeometry(H, kh, strides[0], dil[0], pad, 0);
  const gw = axisGeometry(W, kw, strides[1], dil[1], pad, 1);
  return {
    B,
    H,
    W,
    C,
    OH: gh.out,
    OW: gw.out,
    KH: kh,
    KW: kw,
    sh: strides[0],
    sw: strides[1],
    dh: dil[0],
    dw: dil[1],
    pt: gh.before,
    pl: gw.before,
  };
}

/**
 * Visit every (output pixel, tap) pair of a window op whose input pixel lies inside the image:
 * `f(b, oh, ow, p, q, ih, iw)`.
 */
function eachTap(
  g: Geo,
  f: (b: number, oh: number, ow: number, p: number, q: number, ih: number, iw: number) => void,
): void {
  for (let b = 0; b < g.B; b++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++)
        for (let p = 0; p < g.KH; p++) {
          const ih = oh * g.sh + p * g.dh - g.pt;
          if (ih < 0 || ih >= g.H) continue;
          for (let q = 0; q < g.KW; q++) {
            const iw = ow * g.sw + q * g.dw - g.pl;
            if (iw < 0 || iw >= g.W) continue;
            f(b, oh, ow, p, q, ih, iw);
          }
        }
}

/**
 * NHWC convolution `y[b,i,j,o] = sum_{p,q,c} x[b, i sh + p dh - pt, j sw + q dw - pl, c] w[p,q,c,o]`
 * with its two adjoints for a cotangent `g` of `y`: `dx = dL/dx`, `dw = dL/dw` of `L = sum(g y)`.
 */
export function conv2dRef(
  x: ArrayLike<number>,
  xs: number[],
  w: ArrayLike<number>,
  ws: number[],
  strides: [number, number],
  dil: [number, number],
  pad: Pad,
  gy?: ArrayLike<number>,
): { y: Arr; abs: Float64Array; dx?: Float64Array; dw?: Float64Array } {
  const [KH, KW, C, CO] = ws as [number, number, number, number];
  const g = geometry(xs, KH, KW, strides, dil, pad);
  const ys = [g.B, g.OH, g.OW, CO];
  const y = new Float64Array(numel(ys));
  const abs = new Float64Array(numel(ys));
  const dx = gy === undefined ? undefined : new Float64Array(numel(xs));
  const dw = gy === undefined ? undefined : new Float64Array(numel(ws));
  eachTap(g, (b, oh, ow, p, q, ih, iw) => {
    const xo = ((b * g.H + ih) * g.W + iw) * C;
    const yo = ((b * g.OH + oh) * g.OW + ow) * CO;
    for (let c = 0; c < C; c++) {
      const xv = x[xo + c] as number;
      const wo = ((p * KW + q) * C + c) * CO;
      for (let o = 0; o < CO; o++) {
        const wv = w[wo + o] as number;
        y[yo + o] = (y[yo + o] as number) + xv * wv;
        abs[yo + o] = (abs[yo + o] as number) + Math.abs(xv * wv);
        if (gy !== undefined && dx !== undefined && dw !== undefined) {
          const gv = gy[yo + o] as number;
          dx[xo + c] = (dx[xo + c] as number) + gv * wv;
          dw[wo + o] = (dw[wo + o] as number) + gv * xv;
        }
      }
    }
  });
  return {
    y: { shape: ys, v: y },
    abs,
    ...(dx === undefined ? {} : { dx }),
    ...(dw === undefined ? {} : { dw }),
  };
}

/**
 * Depthwise NHWC convolution with channel multiplier `M` (filter `[KH, KW, C, M]`):
 * `y[b,i,j,c M + m] = sum_{p,q} x[b, ., ., c] w[p,q,c,m]`, with the adjoints for a cotangent `g`.
 */
export function depthwiseRef(
  x: ArrayLike<number>,
  xs: number[],
  w: ArrayLike<number>,
  ws: number[],
  strides: [number, number],
  dil: [number, number],
  pad: Pad,
  gy?: ArrayLike<number>,
): { y: Arr; dx?: Float64Array; dw?: Float64Array } {
  const [KH, KW, C, M] = ws as [number, number, number, number];
  const g = geometry(xs, KH, KW, strides, dil, pad);
  const CO = C * M;
  const ys = [g.B, g.OH, g.OW, CO];
  const y = new Float64Array(numel(ys));
  const dx = gy === undefined ? undefined : new Float64Array(numel(xs));
  const dw = gy === undefined ? undefined : new Float64Array(numel(ws));
  eachTap(g, (b, oh, ow, p, q, ih, iw) => {
    const xo = ((b * g.H + ih) * g.W + iw) * C;
    const yo = ((b * g.OH + oh) * g.OW + ow) * CO;
    for (let c = 0; c < C; c++)
      for (let m = 0; m < M; m++) {
        const wi = ((p * KW + q) * C + c) * M + m;
        y[yo + c * M + m] =
          (y[yo + c * M + m] as number) + (x[xo + c] as number) * (w[wi] as number);
        if (gy !== undefined && dx !== undefined && dw !== undefined) {
          const gv = gy[yo + c * M + m] as number;
          dx[xo + c] = (dx[xo + c] as number) + gv * (w[wi] as number);
          dw[wi] = (dw[wi] as number) + gv * (x[xo + c] as number);
        }
      }
  });
  return {
    y: { shape: ys, v: y },
    ...(dx === undefined ? {} : { dx }),
    ...(dw === undefined ? {} : { dw }),
  };
}

/**
 * NHWC max or average pooling (padding excluded from averages, as TensorFlow) with the gradient
 * for a cotangent `g` (max: to the first maximum of each window in scan order).
 */
export function poolRef(
  x: ArrayLike<number>,
  xs: number[],
  k: [number, number],
  strides: [number, number],
  pad: Pad,
  kind: 'max' | 'avg',
  gy?: ArrayLike<number>,
): { y: Arr; dx?: Float64Array } {
  const g = geometry(xs, k[0], k[1], strides, [1, 1], pad);
  const C = g.C;
  const ys = [g.B, g.OH, g.OW, C];
  const y = new Float64Array(numel(ys)).fill(kind === 'max' ? -Infinity : 0);
  const arg = new Int32Array(numel(ys)).fill(-1);
  const cnt = new Int32Array(g.B * g.OH * g.OW);
  eachTap(g, (b, oh, ow, _p, _q, ih, iw) => {
    const xo = ((b * g.H + ih) * g.W + iw) * C;
    const po = (b * g.OH + oh) * g.OW + ow;
    cnt[po] = (cnt[po] as number) + 1;
    for (let c = 0; c < C; c++) {
      const v = x[xo + c] as number;
      if (kind === 'max') {
        if (v > (y[po * C + c] as number)) {
          y[po * C + c] = v;
          arg[po * C + c] = xo + c;
        }
      } else y[po * C + c] = (y[po * C + c] as number) + v;
    }
  });
  if (kind === 'avg')
    for (let i = 0; i < y.length; i++) y[i] = (y[i] as number) / (cnt[Math.floor(i / C)] as number);
  if (gy === undefined) return { y: { shape: ys, v: y } };
  const dx = new Float64Array(numel(xs));
  if (kind === 'max') {
    for (let i = 0; i < y.length; i++) {
      const j = arg[i] as number;
      if (j >= 0) dx[j] = (dx[j] as number) + (gy[i] as number);
    }
  } else {
    eachTap(g, (b, oh, ow, _p, _q, ih, iw) => {
      const xo = ((b * g.H + ih) * g.W + iw) * C;
      const po = (b * g.OH + oh) * g.OW + ow;
      for (let c = 0; c < C; c++)
        dx[xo + c] = (dx[xo + c] as number) + (gy[po * C + c] as number) / (cnt[po] as number);
    });
  }
  return { y: { shape: ys, v: y }, dx };
}

/** A fused activation and its derivative in terms of the pre-activation `z`. */
export function activation(
  name: string,
  alpha = 0.2,
  prelu?: (i: number) => number,
): { f: (z: number, i: number) => number; df: (z: number, i: number) => number } {
  switch (name) {
    case 'linear':
      return { f: (z) => z, df: () => 1 };
    case 'relu':
      return { f: (z) => Math.max(0, z), df: (z) => (z > 0 ? 1 : 0) };
    case 'relu6':
      return { f: (z) => Math.min(6, Math.max(0, z)), df: (z) => (z > 0 && z < 6 ? 1 : 0) };
    case 'elu':
      return { f: (z) => (z > 0 ? z : Math.expm1(z)), df: (z) => (z > 0 ? 1 : Math.exp(z)) };
    case 'leakyrelu':
      return { f: (z) => (z > 0 ? z : alpha * z), df: (z) => (z > 0 ? 1 : alpha) };
    case 'sigmoid': {
      const s = (z: number): number => 1 / (1 + Math.exp(-z));
      return { f: s, df: (z) => s(z) * (1 - s(z)) };
    }
    case 'prelu': {
      const al = prelu ?? (() => alpha);
      return { f: (z, i) => (z > 0 ? z : al(i) * z), df: (z, i) => (z > 0 ? 1 : al(i)) };
    }
    default:
      throw new Error(`unknown activation ${name}`);
  }
}

/** Largest |got - want| / (atol + rtol |scale|) over the entries; <= 1 passes. */
export function worstRatio(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  scale: ArrayLike<number> | undefined,
  rtol: number,
  atol: number,
): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    if (!Number.isFinite(g)) return Infinity;
    const s = scale === undefined ? Math.abs(w) : (scale[i] as number);
    const r = Math.abs(g - w) / (atol + rtol * s);
    if (r > worst) worst = r;
  }
  return worst;
}
