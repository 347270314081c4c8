/**
 * A vectorised, seeded standard-normal generator writing straight into backend memory.
 *
 * Uniform bits: xoshiro128** (period 2^128 - 1), seeded by SplitMix32 from a 32-bit seed.
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

/** The ziggurat tables `kn, wn, fn` (128 float64 each), concatenated, for the SIMD module. */
export function zigguratTables(): Float64Array {
  const t = new Float64Array(3 * LAYERS);
  t.set(kn, 0);
  t.set(wn, LAYERS);
  t.set(fn, 2 * LAYERS);
  return t;
}

/**
 * Fill `out` with mean + stdDev * N(0, 1) draws from the stream of `seed`.
 *
 * @param out destination (any Float32Array, e.g. a view on the wasm heap).
 * @param seed 32-bit seed; equal seeds give equal outputs.
 * @param mean location.
 * @param stdDev scale.
 */
export function fillNormal(out: Float32Array, seed: number, mean = 0, stdDev = 1): void {
  // SplitMix32 seeding of the four xoshiro words
  let sm = seed >>> 0;
  const st = new Int32Array(4);
  for (let k = 0; k < 4; k++) {
    sm = (sm + 0x9e3779b9) >>> 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    st[k] = z ^ (z >>> 16);
  }
  if ((st[0]! | st[1]! | st[2]! | st[3]!) === 0) st[0] = 1;
  let s0 = st[0]!;
  let s1 = st[1]!;
  let s2 = st[2]!;
  let s3 = st[3]!;
  const n = out.length;
  for (let i = 0; i < n; i++) {
    // xoshiro128** step, inlined
    const m5 = Math.imul(s1, 5);
    const u = Math.imul((m5 << 7) | (m5 >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    const iz = u & 127;
    const j = u >> 7;
    if ((j < 0 ? -j : j) < kn[iz]!) {
      out[i] = mean + stdDev * j * wn[iz]!;
    } else {
      st[0] = s0;
      st[1] = s1;
      st[2] = s2;
      st[3] = s3;
      out[i] = mean + stdDev * slowPath(st, j, iz);
      s0 = st[0]!;
      s1 = st[1]!;
      s2 = st[2]!;
      s3 = st[3]!;
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
        xt = -Math.log(uniform(st)) / R;
        yt = -Math.log(uniform(st));
      } while (yt + yt < xt * xt);
      return j > 0 ? R + xt : -R - xt;
    }
    if (fn[iz]! + uniform(st) * (fn[iz - 1]! - fn[iz]!) < Math.exp(-0.5 * x * x)) return x;
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
