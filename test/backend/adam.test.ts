import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { installFusedAdam, uninstallFusedAdam } from '../../src/backend/kernels/adam.js';
import {
  accumulatedBeta,
  installExactAdamRestore,
  uninstallExactAdamRestore,
} from '../../src/backend/adam_restore.js';
import { randTensor, rng } from './reference.js';
import { loadSimd, unloadSimd } from '../../src/backend/simd/loader.js';
import type { WasmBackend } from '../../src/backend/kernels/wasm_util.js';

function run(fused: boolean, steps: number, epsilon = 1e-7, lossScale = 1): { values: number[][] } {
  if (fused) installFusedAdam();
  else uninstallFusedAdam();
  try {
    const r = rng(17);
    const init = [randTensor(r, [7, 5]), randTensor(r, [5]), randTensor(r, [3, 3, 2, 4])];
    const vars = init.map((t) => tf.variable(t));
    tf.dispose(init);
    const opt = tf.train.adam(0.01, 0.9, 0.999, epsilon);
    for (let s = 0; s < steps; s++) {
      // a loss whose gradient changes every step
      const target = randTensor(r, [7, 5]);
      opt.minimize(
        () =>
          tf.mul(
            tf.addN([
              tf.sum(tf.square(tf.sub(vars[0] as tf.Variable, target))),
              tf.sum(tf.mul(tf.sin(vars[1] as tf.Variable), 3)),
              tf.sum(tf.pow(vars[2] as tf.Variable, 4)),
            ]),
            lossScale,
          ) as tf.Scalar,
        false,
        vars,
      );
      target.dispose();
    }
    const values = vars.map((v) => Array.from(v.dataSync()));
    opt.dispose();
    tf.dispose(vars);
    return { values };
  } finally {
    installFusedAdam();
  }
}

/**
 * 60 Adam steps uninterrupted vs 37 steps, the state through getWeights / setWeights into a fresh
 * Adam, 23 more: whether both end bit for bit equal (tensor count checked unchanged).
 */
async function resumeIsExact(): Promise<boolean> {
  const r = rng(3);
  const start = randTensor(r, [40]);
  const targets = Array.from({ length: 60 }, () => randTensor(r, [40]));
  const loss = (v: tf.Variable, s: number) => (): tf.Scalar =>
    tf.sum(tf.square(tf.sub(v, targets[s] as tf.Tensor))) as tf.Scalar;
  const before = tf.memory().numTensors;
  const u = tf.variable(start, true, `adam_resume_u_${tf.getBackend()}`);
  const ou = tf.train.adam(0.01);
  for (let s = 0; s < 60; s++) ou.minimize(loss(u, s), false, [u]);
  const w = tf.variable(start, true, `adam_resume_w_${tf.getBackend()}`);
  const o1 = tf.train.adam(0.01);
  for (let s = 0; s < 37; s++) o1.minimize(loss(w, s), false, [w]);
  const saved = await o1.getWeights();
  const copies = saved.map((e) => ({ name: e.name, tensor: tf.clone(e.tensor) }));
  (saved[0] as { tensor: tf.Tensor }).tensor.dispose();
  o1.dispose();
  const o2 = tf.train.adam(0.01);
  await o2.setWeights(copies);
  tf.dispose(copies.map((c) => c.tensor));
  for (let s = 37; s < 60; s++) o2.minimize(loss(w, s), false, [w]);
  const exact = Array.from(w.dataSync()).every((x, i) => x === u.dataSync()[i]);
  tf.dispose([u, w]);
  ou.dispose();
  o2.dispose();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([start, ...targets]);
  return exact;
}

describe('fused Adam update', () => {
  it('matches the stock tfjs Adam over several steps', () => {
    const before = tf.memory().numTensors;
    const stock = run(false, 6);
    const fused = run(true, 6);
    for (let i = 0; i < stock.values.length; i++) {
      expect(fused.values[i]).toBeAllclose(stock.values[i], { rtol: 1e-5, atol: 1e-6 });
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives the same update with the SIMD module and with the float64 JavaScript loop', async () => {
    const withSimd = run(true, 6);
    unloadSimd();
    try {
      const js = run(true, 6);
      for (let i = 0; i < js.values.length; i++) {
        expect(withSimd.values[i]).toBeAllclose(js.values[i], { rtol: 1e-5, atol: 1e-6 });
      }
    } finally {
      await loadSimd(tf.backend() as unknown as WasmBackend);
    }
  });

  it("honours the optimizer's epsilon (PyTorch/Pyro's 1e-8 vs tfjs's default 1e-7)", () => {
    // gradients ~1e-7, where the step lr * m / (sqrt(v) + eps) depends on eps
    const stock = run(false, 4, 1e-8, 1e-7);
    const fused = run(true, 4, 1e-8, 1e-7);
    const fused7 = run(true, 4, 1e-7, 1e-7);
    for (let i = 0; i < stock.values.length; i++) {
      expect(fused.values[i]).toBeAllclose(stock.values[i], { rtol: 1e-5, atol: 1e-6 });
    }
    const diff = (stock.values[0] as number[]).map((v, j) =>
      Math.abs(v - (fused7.values[0]?.[j] ?? 0)),
    );
    expect(Math.max(...diff)).toBeGreaterThan(1e-3);
  });

  it('is the update that training uses on wasm and leaks nothing over many steps', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const v = tf.variable(tf.ones([100]));
    const opt = tf.train.adam(0.1);
    opt.minimize(() => tf.sum(tf.square(v)), false, [v]); // creates the moment variables
    const before = tf.memory().numTensors;
    for (let s = 0; s < 50; s++) opt.minimize(() => tf.sum(tf.square(v)), false, [v]);
    expect(tf.memory().numTensors).toBe(before);
    const prof = await tf.profile(() => {
      opt.minimize(() => tf.sum(tf.square(v)), false, [v]);
    });
    expect(prof.kernelNames).toContain('DeepprobAdamUpdate');
    expect(prof.kernelNames).not.toContain('Sqrt');
    // Adam moves each coordinate by about lr per step towards 0
    expect(v.dataSync()[0]).toBeLessThan(0.5);
    opt.dispose();
    v.dispose();
  });

  it('a state restored by setWeights continues bit for bit (beta^t as the running product)', async () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(await resumeIsExact()).toBe(true);
    // the recurrence is the float32 running product
    let a = Math.fround(0.9);
    for (let k = 0; k < 37; k++) a = Math.fround(a * 0.9);
    expect(accumulatedBeta(0.9, 37)).toBe(a);
    expect(accumulatedBeta(0.9, 37)).not.toBe(Math.fround(0.9 ** 38));
  });

  it("the exact restore holds off wasm (stock Adam on the cpu backend); tfjs's own restore drifts", async () => {
    await tf.setBackend('cpu');
    try {
      expect(await resumeIsExact()).toBe(true);
      uninstallExactAdamRestore();
      try {
        expect(await resumeIsExact()).toBe(false);
      } finally {
        installExactAdamRestore();
      }
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
