/**
 * A vectorised, seeded standard-normal generator writing straight into backend memory.
 *
 * Uniform bits: four interleaved xoshiro128** streams (period 2^128 - 1 each), seeded by
 * SplitMix32 from a 32-bit seed (see {@link fillNormal}).
 * Normals: the ziggurat method of Marsaglia & Tsang (2000) with 128 layers; each 32-bit draw gives
 * the layer index (low 7 bits) and a 25-bit signed abscissa (high bits), so index and value use
 * disjoint bits (avoiding the correlation Doornik 2005 found in the original RNOR). ~99% of draws
 * take the fast path (one integer draw, one compare, one multiply).
 *
 * Output: x_i = mean + stdDev * z_i, z_i ~ N(0, 1) i.i.d.; the same seed gives the same values.
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../simd/loader.js';
import type { WasmBackend } from './wasm_util.js';

/** Name of the kernel registered on the wasm and cpu backends. */
export const RANDOM_NORMAL_KERNEL = 'DeepprobRandomNormal';

const LAYERS = 128;
const M1 = 2 ** 24; // scale of the 25-bit signed abscissa
const R = 3.442619855899; // start of the tail
const kn = new Float64Array(LAYERS);
const wn = new Float64Array(LAYERS);
const fn = new Float64Array(LAYERS);

(function buildTables() {
  const vn = 9.91256303526217e-3;
  let dn = R;
  let tn = dn;
  const q = vn / Math.exp(-0.5 * dn * dn);
  kn[0] = Math.floor((dn / q) * M1);
  kn[1] = 0;
  wn[0] = q / M1;
  wn[LAYERS - 1] = dn / M1;
  fn[0] = 1;
  fn[LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = Math.floor((dn / tn) * M1);
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / M1;
  }
})();

/** `wn` rounded to float32: the fast path computes `j * wn[iz]` in float32. */
const wnf = new Float32Array(wn);

/**
 * The ziggurat tables for the SIMD module: `kn, wn, fn` (128 float64 each), then `kn` as int32
 * and `wn` as float32 (128 each), then 16 bytes of scratch, in one buffer.
 */
export function zigguratTables(): Float64Array {
  // + 2 doubles: scratch for the SIMD slow path's stream state
  const t = new Float64Array(3 * LAYERS + LAYERS + 2);
  t.set(kn, 0);
  t.set(wn, LAYERS);
  t.set(fn, 2 * LAYERS);
  new Int32Array(t.buffer, 3 * LAYERS * 8, LAYERS).set(kn);
  new Float32Array(t.buffer, 3 * LAYERS * 8 + 4 * LAYERS, LAYERS).set(wnf);
  return t;
}

/** SplitMix32 output `k` of `seed` (the seeding of the streams). */
function splitmix(seed: number, k: number): number {
  let z = (seed + Math.imul(k, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return z ^ (z >>> 16);
}

/**
 * Fill `out` with mean + stdDev * N(0, 1) draws from the streams of `seed`.
 *
 * Four interleaved xoshiro128** streams: lane `L` (0..3) draws for outputs `L, L + 4, ...` and is
 * seeded with SplitMix32 outputs `4L + 1 .. 4L + 4` of `seed`; the four are stepped together (as
 * the SIMD module does), one draw per output. A draw rejected by the ziggurat's fast path
 * (~3%) finishes on a fifth stream (SplitMix32 outputs 17..20), used by the slow path only, in
 * output order. Fast-path values are `j * wn[iz]` in float32, then `mean + stdDev * z` in
 * float32; the SIMD module gives the same bits.
 *
 * @param out destination (any Float32Array, e.g. a view on the wasm heap).
 * @param seed 32-bit seed; equal seeds give equal outputs.
 * @param mean location.
 * @param stdDev scale.
 */
export function fillNormal(out: Float32Array, seed: number, mean = 0, stdDev = 1): void {
  // st[4 * w + L] = word w of lane L
  const st = new Int32Array(16);
  for (let L = 0; L < 4; L++) {
    for (let w = 0; w < 4; w++) st[4 * w + L] = splitmix(seed >>> 0, 4 * L + w + 1);
    if ((st[L]! | st[4 + L]! | st[8 + L]! | st[12 + L]!) === 0) st[L] = 1;
  }
  // the slow-path stream
  const slow = new Int32Array(4);
  for (let w = 0; w < 4; w++) slow[w] = splitmix(seed >>> 0, 17 + w);
  if ((slow[0]! | slow[1]! | slow[2]! | slow[3]!) === 0) slow[0] = 1;
  const m = Math.fround(mean);
  const sd = Math.fround(stdDev);
  const n = out.length;
  for (let i = 0; i < n; i += 4) {
    for (let L = 0; L < 4; L++) {
      // xoshiro128** step of lane L
      const s0 = st[L]!;
      const s1 = st[4 + L]!;
      let s2 = st[8 + L]!;
      let s3 = st[12 + L]!;
      const m5 = Math.imul(s1, 5);
      const u = Math.imul((m5 << 7) | (m5 >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      st[4 + L] = s1 ^ s2;
      st[L] = s0 ^ s3;
      st[8 + L] = s2 ^ t;
      st[12 + L] = (s3 << 11) | (s3 >>> 21);
      if (i + L >= n) continue;
      const iz = u & 127;
      const j = u >> 7;
      const z =
        (j < 0 ? -j : j) < kn[iz]! ? Math.fround(j * wnf[iz]!) : Math.fround(slowPath(slow, j, iz));
      out[i + L] = m + Math.fround(sd * z);
    }
  }
}

/** One xoshiro128** draw on the state array (slow path only). */
function drawState(st: Int32Array): number {
  const s1 = st[1]!;
  const m5 = Math.imul(s1, 5);
  const r = Math.imul((m5 << 7) | (m5 >>> 25), 9);
  const t = s1 << 9;
  st[2]! ^= st[0]!;
  st[3]! ^= s1;
  st[1] = s1 ^ st[2]!;
  st[0]! ^= st[3]!;
  st[2]! ^= t;
  st[3] = (st[3]! << 11) | (st[3]! >>> 21);
  return r;
}

// ---- float64 exp and log of the slow path: the same operation sequence as zig_exp / zig_log in
// simd/deepprob_simd.c, so that JavaScript and the SIMD module draw the same bits.
const LN2_HI = 6.9314718036912381649e-1;
const LN2_LO = 1.90821492927058770002e-10;
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer); // little-endian: words[1] is the high word

/** `e^x`: `x = k ln2 + r`, Taylor series of `e^r` to `r^13`, times `2^k` (error < 2e-16). */
export function zigExp(x: number): number {
  const k = Math.floor(x * 1.442695040888963387 + 0.5);
  const r = x - k * LN2_HI - k * LN2_LO;
  // Estrin's scheme, the same products and sums as zig_exp
  const r2 = r * r;
  const r4 = r2 * r2;
  const r8 = r4 * r4;
  const q0 = 1 + r;
  const q1 = 0.5 + r * (1 / 6);
  const q2 = 1 / 24 + r * (1 / 120);
  const q3 = 1 / 720 + r * (1 / 5040);
  const q4 = 1 / 40320 + r * (1 / 362880);
  const q5 = 1 / 3628800 + r * (1 / 39916800);
  const q6 = 1 / 479001600 + r * (1 / 6227020800);
  const t0 = q0 + q1 * r2;
  const t1 = q2 + q3 * r2;
  const t2 = q4 + q5 * r2;
  const u0 = t0 + t1 * r4;
  const u1 = t2 + q6 * r4;
  const p = u0 + u1 * r8;
  words[0] = 0;
  words[1] = (k + 1023) << 20;
  return p * bits[0]!;
}

/** `log x` (x > 0 normal): `x = m 2^e`, `log m = 2 atanh((m-1)/(m+1))` to `s^21`, plus `e ln2`. */
export function zigLog(x: number): number {
  bits[0] = x;
  let e = ((words[1]! >>> 20) & 0x7ff) - 1023;
  words[1] = (words[1]! & 0x000fffff) | 0x3ff00000;
  let m = bits[0]!;
  if (m > Math.SQRT2) {
    m = m * 0.5;
    e = e + 1;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p = 1 / 21;
  p = p * s2 + 1 / 19;
  p = p * s2 + 1 / 17;
  p = p * s2 + 1 / 15;
  p = p * s2 + 1 / 13;
  p = p * s2 + 1 / 11;
  p = p * s2 + 1 / 9;
  p = p * s2 + 1 / 7;
  p = p * s2 + 1 / 5;
  p = p * s2 + 1 / 3;
  p = p * s2 + 1;
  return e * LN2_HI + (2 * s * p + e * LN2_LO);
}

/** Uniform on (0, 1) from 24 bits. */
function uniform(st: Int32Array): number {
  return ((drawState(st) >>> 8) + 0.5) / 16777216;
}

/** The ziggurat's rejection step (Marsaglia & Tsang's `nfix`), ~1% of draws. */
function slowPath(st: Int32Array, j0: number, iz0: number): number {
  let j = j0;
  let iz = iz0;
  for (;;) {
    const x = j * wn[iz]!;
    if (iz === 0) {
      let xt: number;
      let yt: number;
      do {
        xt = -zigLog(uniform(st)) / R;
        yt = -zigLog(uniform(st));
      } while (yt + yt < xt * xt);
      return j > 0 ? R + xt : -R - xt;
    }
    if (fn[iz]! + uniform(st) * (fn[iz - 1]! - fn[iz]!) < zigExp(-0.5 * x * x)) return x;
    const u = drawState(st);
    iz = u & 127;
    j = u >> 7;
    if (Math.abs(j) < kn[iz]!) return j * wn[iz]!;
  }
}

interface RandomNormalAttrs {
  shape: number[];
  mean: number;
  stdDev: number;
  seed: number;
}

/** Kernel function (no inputs) for the wasm backend: allocate on the heap and fill in place. */
export const randomNormalWasm: tf.KernelConfig['kernelFunc'] = ({ attrs, backend }) => {
  const { shape, mean, stdDev, seed } = attrs as unknown as RandomNormalAttrs;
  const be = backend as unknown as WasmBackend;
  const out = be.makeOutput(shape, 'float32');
  const view = be.typedArrayFromHeap(out) as Float32Array;
  const k = simdKernels();
  if (k !== undefined)
    k.fns.normal_fill(view.byteOffset, view.length, seed, mean, stdDev, k.tables);
  else fillNormal(view, seed, mean, stdDev);
  return out;
};

/** Kernel function (no inputs) for the cpu backend. */
export const randomNormalCpu: tf.KernelConfig['kernelFunc'] = ({ attrs, backend }) => {
  const { shape, mean, stdDev, seed } = attrs as unknown as RandomNormalAttrs;
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  fillNormal(values, seed, mean, stdDev);
  const be = backend as unknown as {
    makeTensorInfo(s: number[], d: tf.DataType, v: Float32Array): tf.TensorInfo;
  };
  return be.makeTensorInfo(shape, 'float32', values);
};
