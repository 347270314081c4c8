import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { setNativeEnabled } from '../../src/backend/native/kernels.js';
import {
  klSoftplusNormal,
  localReparamSample,
  softplusReparam,
  softplusSquare,
} from '../../src/backend/fused.js';
import { fillNormal } from '../../src/backend/kernels/random_normal.js';
import type { WasmBackend } from '../../src/backend/kernels/wasm_util.js';
import { randomNormal } from '../../src/backend/random.js';
import {
  loadSimd,
  simdKernels,
  unloadSimd,
  type SimdKernels,
} from '../../src/backend/simd/loader.js';
import {
  SIMD_SOURCE_SHA256,
  SIMD_WASM_PLAIN,
  SIMD_WASM_SHARED,
} from '../../src/backend/simd/module.generated.js';
import { randTensor, rng, simdCalls } from './reference.js';

// The wasm kernel pack's own paths (browsers, machines without a compiler): with the native
// addon built, its kernels are switched off in this file (test/backend/native.test.ts covers them).
beforeAll(() => setNativeEnabled(false));
afterAll(() => setNativeEnabled(true));

/** Section ids of a wasm binary (11 = data). */
function sectionIds(b: Uint8Array): number[] {
  const ids: number[] = [];
  let p = 8;
  while (p < b.length) {
    ids.push(b[p++] as number);
    let size = 0;
    let shift = 0;
    let c: number;
    do {
      c = b[p++] as number;
      size |= (c & 127) << shift;
      shift += 7;
    } while (c & 128);
    p += size;
  }
  return ids;
}

/** NHWC shapes for the 2x2 pooling kernels: odd sizes and channel counts around the SIMD width. */
const POOL_SHAPES = [
  [2, 6, 6, 1],
  [3, 7, 5, 3],
  [2, 8, 8, 4],
  [1, 5, 9, 6],
  [2, 4, 6, 9],
] as const;

const backend = (): WasmBackend => tf.backend() as unknown as WasmBackend;

/** Values and gradients of `f` with the SIMD module, then with the JavaScript loops. */
async function simdVsJs(f: () => tf.Tensor[]): Promise<[number[][], number[][]]> {
  const read = (): number[][] => tf.tidy(() => f().map((t) => Array.from(t.dataSync())));
  expect(simdKernels()).toBeDefined();
  const a = read();
  unloadSimd();
  try {
    return [a, read()];
  } finally {
    await loadSimd(backend());
  }
}

describe('SIMD wasm module', () => {
  afterAll(async () => {
    await loadSimd(backend());
  });

  it('is loaded on the wasm backend and built from the current source', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(simdKernels()).toBeDefined();
    // rebuild with `node scripts/build-simd.mjs` after editing any .c file of src/backend/simd
    const dir = 'src/backend/simd';
    const hash = createHash('sha256');
    for (const f of fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.c'))
      .sort()) {
      hash.update(fs.readFileSync(`${dir}/${f}`));
    }
    expect(hash.digest('hex')).toBe(SIMD_SOURCE_SHA256);
    for (const b64 of [SIMD_WASM_PLAIN, SIMD_WASM_SHARED]) {
      const bytes = Buffer.from(b64, 'base64');
      const m = new WebAssembly.Module(bytes);
      // imports only the memory and the host's log/exp; no data segment
      expect(WebAssembly.Module.imports(m).map((i) => i.name)).toEqual(['memory']);
      expect(sectionIds(bytes)).not.toContain(11); // no data segment
    }
  });

  it('normal_fill reproduces the JavaScript ziggurat bit for bit', () => {
    for (const [n, seed, mean, sd] of [
      [1, 0, 0, 1],
      [1001, 42, 0, 1],
      [200003, 0xdeadbeef, -1.5, 0.25],
    ] as const) {
      const js = new Float32Array(n);
      fillNormal(js, seed, mean, sd);
      const t = randomNormal([n], mean, sd, seed);
      const simd = t.dataSync() as Float32Array;
      expect(
        Buffer.from(simd.buffer, simd.byteOffset, simd.byteLength).equals(Buffer.from(js.buffer)),
      ).toBe(true);
      t.dispose();
    }
  });

  const r = rng(11);
  // raw scales over a wide range (softplus' both branches, sigmoid's tails); odd sizes test tails
  const mu = randTensor(r, [1003]);
  const rho = tf.tidy(() => tf.mul(randTensor(r, [1003]), 12));
  const dy = randTensor(r, [1003]);

  it('softplusReparam: SIMD equals the float64 loop to float32 tolerance, values and gradients', async () => {
    const [a, b] = await simdVsJs(() => {
      const { value, grads } = tf.valueAndGrads((m: tf.Tensor, rr: tf.Tensor) =>
        softplusReparam(m, rr, 5),
      )([mu, rho], dy);
      return [value, ...grads];
    });
    for (let i = 0; i < 3; i++) expect(a[i]).toBeAllclose(b[i], { rtol: 2e-6, atol: 1e-7 });
  });

  it('klSoftplusNormal: SIMD equals the float64 loop (scalar and per-weight prior means)', async () => {
    for (const centre of [0.3, tf.tidy(() => tf.mul(randTensor(r, [1003]), 0.1))]) {
      // include very negative rho, where log(softplus(rho)) ~ rho
      const rr = tf.tidy(() => tf.sub(tf.mul(rho, 3), 10));
      const [a, b] = await simdVsJs(() => {
        const { value, grads } = tf.valueAndGrads((m: tf.Tensor, x: tf.Tensor) =>
          klSoftplusNormal(m, x, centre, 0.7),
        )([mu, rr]);
        return [value, ...grads];
      });
      expect(a[0]).toBeAllclose(b[0], { rtol: 1e-6 });
      expect(a[1]).toBeAllclose(b[1], { rtol: 1e-6, atol: 1e-7 });
      expect(a[2]).toBeAllclose(b[2], { rtol: 1e-5, atol: 1e-6 });
      tf.dispose([rr, centre]);
    }
  });

  it('softplusSquare: SIMD equals the float64 loop, values and gradients', async () => {
    const [a, b] = await simdVsJs(() => {
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => softplusSquare(x))([rho], dy);
      return [value, ...grads];
    });
    for (let i = 0; i < 2; i++) expect(a[i]).toBeAllclose(b[i], { rtol: 2e-6, atol: 1e-7 });
  });

  it('localReparamSample: SIMD equals the float64 loop, with the floor mask', async () => {
    const v = tf.tidy(() => tf.relu(randTensor(r, [1003])));
    const [a, b] = await simdVsJs(() => {
      const { value, grads } = tf.valueAndGrads((m: tf.Tensor, x: tf.Tensor) =>
        localReparamSample(m, x, 1e-4, 9),
      )([mu, v], dy);
      return [value, ...grads];
    });
    for (let i = 0; i < 3; i++) expect(a[i]).toBeAllclose(b[i], { rtol: 2e-6, atol: 1e-7 });
    v.dispose();
  });

  it('max_pool_grad_2x2 equals the JavaScript loop, with ties, -Infinity, NaN and odd sizes', async () => {
    for (const [B, H, W, C] of POOL_SHAPES) {
      const n = B * H * W * C;
      const vals = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const u = r();
        vals[i] = u < 0.1 ? 0 : u < 0.13 ? -Infinity : u < 0.15 ? NaN : Math.round(u * 6);
      }
      const x = tf.tensor4d(vals, [B, H, W, C]);
      const [a, b] = await simdVsJs(() => [
        tf.grad((t: tf.Tensor) => tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'), 1.5))(x),
      ]);
      expect(a[0]).toEqual(b[0]);
      x.dispose();
    }
  });
});

describe('ReLU gradient kernel', () => {
  it('equals dy * step(x) (zeros, negatives, NaN) with SIMD, the JS loop and on cpu', async () => {
    const vals = [-2, -0, 0, 1e-30, 3, NaN, -Infinity, Infinity, 0.5, -0.5, 7, -7, 2];
    const x = tf.tensor1d(vals);
    const dy = tf.tensor1d(vals.map((_, i) => i + 1));
    const expected = vals.map((v, i) => (Number.isNaN(v) ? NaN : v > 0 ? i + 1 : 0));
    const [a, b] = await simdVsJs(() => [tf.grad((t: tf.Tensor) => tf.relu(t))(x, dy)]);
    expect(a[0]).toEqual(expected);
    expect(b[0]).toEqual(expected);
    // the gradient runs as the one fused kernel, not dy * cast(step(x))
    const prof = await tf.profile(() => {
      tf.grad((t: tf.Tensor) => tf.relu(t))(x, dy).dispose();
    });
    const names = prof.kernels.map((k) => k.name);
    expect(names).toContain('DeepprobReluGrad');
    expect(names).not.toContain('Step');
    tf.dispose([x, dy]);
  });
});

describe('SIMD forward ReLU and 2x2 max pooling', () => {
  it('equal the stock wasm kernels (odd sizes, channel tails, -Infinity)', async () => {
    const r = rng(3);
    for (const [B, H, W, C] of POOL_SHAPES) {
      const n = B * H * W * C;
      const vals = new Float32Array(n);
      for (let i = 0; i < n; i++) vals[i] = r() < 0.05 ? -Infinity : r() * 4 - 2;
      const x = tf.tensor4d(vals, [B, H, W, C]);
      const [a, b] = await simdVsJs(() => [tf.relu(x), tf.maxPool(x, 2, 2, 'valid')]);
      expect(a[0]).toEqual(b[0]);
      expect(a[1]).toEqual(b[1]);
      x.dispose();
    }
    // and the SIMD kernels really ran
    const used = simdCalls(simdKernels() as SimdKernels, () => {
      const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
      tf.tidy(() => [tf.relu(x), tf.maxPool(x, 2, 2, 'valid')]).forEach((t) => t.dispose());
      x.dispose();
    });
    expect(used).toEqual(['relu', 'max_pool_2x2']);
  });
});

describe('SIMD softplus and sigmoid', () => {
  it('match the float64 definitions to ~3e-7 relative (1.2e-38 absolute below e^-87), and run', async () => {
    const xs = Array.from({ length: 2003 }, (_, i) => -90 + (180 * i) / 2002);
    const x = tf.tensor1d(xs);
    const [sp, sg] = tf
      .tidy(() => [tf.softplus(x), tf.sigmoid(x)])
      .map((t) => {
        const v = Array.from(t.dataSync());
        t.dispose();
        return v;
      });
    xs.forEach((v, i) => {
      const f32 = Math.fround(v);
      const spRef = f32 > 0 ? f32 + Math.log1p(Math.exp(-f32)) : Math.log1p(Math.exp(f32));
      const sgRef = 1 / (1 + Math.exp(-f32));
      expect(Math.abs((sp as number[])[i]! - spRef)).toBeLessThanOrEqual(3e-7 * spRef + 1.2e-38);
      expect(Math.abs((sg as number[])[i]! - sgRef)).toBeLessThanOrEqual(3e-7 * sgRef + 1.2e-38);
    });
    const used = simdCalls(simdKernels() as SimdKernels, () => {
      tf.tidy(() => [tf.softplus(x), tf.sigmoid(x)]).forEach((t) => t.dispose());
    });
    expect(used).toEqual(['softplus', 'sigmoid']);
    x.dispose();
  });
});

describe('softplus gradient kernel', () => {
  it('equals dy * sigmoid(x) with SIMD and the JS loop, and runs as one kernel', async () => {
    const r = rng(4);
    const x = tf.tidy(() => tf.mul(randTensor(r, [1001]), 20));
    const dy = randTensor(r, [1001]);
    const ref = tf.tidy(() => tf.mul(dy, tf.sigmoid(x)));
    const [a, b] = await simdVsJs(() => [tf.grad((t: tf.Tensor) => tf.softplus(t))(x, dy)]);
    expect(a[0]).toBeAllclose(ref, { rtol: 1e-6, atol: 1e-7 });
    expect(b[0]).toBeAllclose(ref, { rtol: 1e-6, atol: 1e-7 });
    const prof = await tf.profile(() => {
      tf.grad((t: tf.Tensor) => tf.softplus(t))(x, dy).dispose();
    });
    expect(prof.kernelNames).toContain('DeepprobSoftplusGrad');
    expect(prof.kernelNames).not.toContain('Sigmoid');
    tf.dispose([x, dy, ref]);
  });
});
