import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { installFusedAdam, uninstallFusedAdam } from '../../src/backend/kernels/adam.js';
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
});
