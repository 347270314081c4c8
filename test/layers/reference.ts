/**
 * Independent float64 references for the layer tests: a plain-loop NHWC convolution with
 * MindSpore padding modes, stride, dilation and groups; a dense map; sample moments.
 */

/** Flat row-major array with its shape. */
export interface Arr {
  data: number[];
  shape: number[];
}

/** TF/MindSpore 'same' padding of one axis. */
function samePad(n: number, k: number, s: number, d: number): [number, number] {
  const eff = (k - 1) * d + 1;
  const total = Math.max((Math.ceil(n / s) - 1) * s + eff - n, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Options of {@link refConv2d}. */
export interface RefConvOptions {
  stride?: [number, number];
  dilation?: [number, number];
  padMode?: 'same' | 'valid' | 'pad';
  padding?: [number, number, number, number];
  group?: number;
}

/**
 * `y[b, i, j, o] = sum_{p, q, c} xpad[b, i*sh + p*dh, j*sw + q*dw, g*cg + c] * k[p, q, c, o]`,
 * with `g = floor(o / (O / group))`, `cg = C / group`.
 */
export function refConv2d(x: Arr, k: Arr, opts: RefConvOptions = {}): Arr {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const [KH, KW, CG, O] = k.shape as [number, number, number, number];
  const [sh, sw] = opts.stride ?? [1, 1];
  const [dh, dw] = opts.dilation ?? [1, 1];
  const group = opts.group ?? 1;
  const mode = opts.padMode ?? 'same';
  let [t, bt, l, r] = opts.padding ?? [0, 0, 0, 0];
  if (mode === 'same') {
    [t, bt] = samePad(H, KH, sh, dh);
    [l, r] = samePad(W, KW, sw, dw);
  } else if (mode === 'valid') {
    [t, bt, l, r] = [0, 0, 0, 0];
  }
  const Ho = Math.floor((H + t + bt - ((KH - 1) * dh + 1)) / sh) + 1;
  const Wo = Math.floor((W + l + r - ((KW - 1) * dw + 1)) / sw) + 1;
  const opg = O / group;
  if (CG * group !== C) throw new Error('bad group');
  const out = new Array<number>(B * Ho * Wo * O).fill(0);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < Ho; i++)
      for (let j = 0; j < Wo; j++)
        for (let o = 0; o < O; o++) {
          const g = Math.floor(o / opg);
          let acc = 0;
          for (let p = 0; p < KH; p++)
            for (let q = 0; q < KW; q++) {
              const hi = i * sh + p * dh - t;
              const wi = j * sw + q * dw - l;
              if (hi < 0 || hi >= H || wi < 0 || wi >= W) continue;
              for (let c = 0; c < CG; c++) {
                const xv = x.data[((b * H + hi) * W + wi) * C + g * CG + c] as number;
                const kv = k.data[((p * KW + q) * CG + c) * O + o] as number;
                acc += xv * kv;
              }
            }
          out[((b * Ho + i) * Wo + j) * O + o] = acc;
        }
  return { data: out, shape: [B, Ho, Wo, O] };
}

/** `y[b, o] = sum_i x[b, i] k[i, o]`. */
export function refDense(x: Arr, k: Arr): Arr {
  const [B, I] = x.shape as [number, number];
  const O = k.shape[1] as number;
  const out = new Array<number>(B * O).fill(0);
  for (let b = 0; b < B; b++)
    for (let o = 0; o < O; o++) {
      let acc = 0;
      for (let i = 0; i < I; i++)
        acc += (x.data[b * I + i] as number) * (k.data[i * O + o] as number);
      out[b * O + o] = acc;
    }
  return { data: out, shape: [B, O] };
}

/** Elementwise map of an array. */
export function mapArr(a: Arr, f: (v: number) => number): Arr {
  return { data: a.data.map(f), shape: a.shape };
}

/** `log(1 + exp(x))` in float64. */
export function softplus(x: number): number {
  return x > 30 ? x : Math.log1p(Math.exp(x));
}

/**
 * Per-coordinate sample mean and variance of `n` samples stored as rows of length `d`.
 */
export function moments(
  samples: ArrayLike<number>,
  n: number,
  d: number,
): { mean: number[]; variance: number[] } {
  const mean = new Array<number>(d).fill(0);
  const variance = new Array<number>(d).fill(0);
  for (let s = 0; s < n; s++) for (let j = 0; j < d; j++) mean[j]! += samples[s * d + j] as number;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  for (let s = 0; s < n; s++)
    for (let j = 0; j < d; j++) variance[j]! += ((samples[s * d + j] as number) - mean[j]!) ** 2;
  for (let j = 0; j < d; j++) variance[j]! /= n - 1;
  return { mean, variance };
}

/** A deterministic pseudo-random array in [lo, hi) (Mulberry32), for fixed test inputs. */
export function fixedArray(n: number, seed: number, lo = -1, hi = 1): number[] {
  let a = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out.push(lo + (hi - lo) * u);
  }
  return out;
}
