/**
 * Adam parameter groups (`--rho-lr-scale`): each group is exactly an Adam of its own at its
 * scaled learning rate; state survives getWeights / setWeights (checkpoints), also from a plain
 * Adam's state; nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { GroupedOptimizer } from '../../src/train/grouped_optimizer.js';

const adam = (lr: number): tf.Optimizer => tf.train.adam(lr, 0.9, 0.999, 1e-7);

/** Two variables with a quadratic loss whose gradients differ in scale. */
function problem(tag: string): { a: tf.Variable; b: tf.Variable; loss: () => tf.Scalar } {
  const [a, b] = tf.tidy(() => [
    tf.variable(tf.tensor1d([1, -2, 3]), true, `${tag}/kernel_mu`),
    tf.variable(tf.tensor1d([0.5, -0.5]), true, `${tag}/kernel_rho`),
  ]) as [tf.Variable, tf.Variable];
  const loss = (): tf.Scalar =>
    tf.add(tf.sum(tf.square(tf.sub(a, 0.3))), tf.mul(tf.sum(tf.square(b)), 7)) as tf.Scalar;
  return { a, b, loss };
}

function step(opt: tf.Optimizer, loss: () => tf.Scalar, vars: tf.Variable[]): void {
  tf.dispose(opt.minimize(loss, true, vars) ?? []);
}

describe('GroupedOptimizer', () => {
  it('equals one Adam per group at lr * scale, also after a learning-rate change', () => {
    const g = problem('g');
    const r = problem('r');
    const grouped = new GroupedOptimizer(adam, 0.01, [
      { matches: (n) => n.endsWith('_rho'), lrScale: 10 },
    ]);
    const refA = adam(0.01);
    const refB = adam(0.1);
    for (let i = 0; i < 5; i++) {
      if (i === 3) {
        grouped.learningRate = 0.005; // what the trainer's per-epoch decay does
        (refA as unknown as { learningRate: number }).learningRate = 0.005;
        (refB as unknown as { learningRate: number }).learningRate = 0.05;
      }
      step(grouped, g.loss, [g.a, g.b]);
      step(refA, r.loss, [r.a]);
      step(refB, r.loss, [r.b]);
    }
    const close = (x: tf.Tensor, y: tf.Tensor): void => {
      const [u, v] = [x.dataSync(), y.dataSync()];
      u.forEach((e, i) => expect(e).toBeCloseTo(v[i] as number, 6));
    };
    close(g.a, r.a);
    close(g.b, r.b);
    // the scaled group moved about ten times as far in its first steps
    expect(Math.abs((g.b.dataSync()[0] as number) - 0.5)).toBeGreaterThan(0.2);
    expect(Math.abs((g.a.dataSync()[0] as number) - 1)).toBeLessThan(0.06);
    expect(grouped.iterations).toBe(5);
    tf.dispose([g.a, g.b, r.a, r.b]);
    grouped.dispose();
    refA.dispose();
    refB.dispose();
  });

  it('getWeights / setWeights resume the same trajectory, also from a plain Adam state', async () => {
    const before = tf.memory().numTensors;
    const groups = [{ matches: (n: string) => n.endsWith('_rho'), lrScale: 10 }];
    // uninterrupted: 6 steps
    const u = problem('u');
    const ou = new GroupedOptimizer(adam, 0.01, groups);
    for (let i = 0; i < 6; i++) step(ou, u.loss, [u.a, u.b]);
    // interrupted after 3: the state goes through getWeights into a fresh optimizer
    const s = problem('s');
    const os = new GroupedOptimizer(adam, 0.01, groups);
    for (let i = 0; i < 3; i++) step(os, s.loss, [s.a, s.b]);
    const saved = await os.getWeights();
    expect(saved[0]?.name).toBe('iter');
    expect(saved.map((w) => w.name).filter((n) => n === 'iter')).toHaveLength(1);
    const copies = saved.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
    (saved[0] as { tensor: tf.Tensor }).tensor.dispose(); // getWeights' fresh iter scalar
    os.dispose();
    const resumed = new GroupedOptimizer(adam, 0.01, groups);
    await resumed.setWeights(copies);
    tf.dispose(copies.map((c) => c.tensor));
    expect(resumed.iterations).toBe(3);
    for (let i = 0; i < 3; i++) step(resumed, s.loss, [s.a, s.b]);
    // (stock tfjs's Adam recomputes beta^t as a power on restore, a few 1e-6 off the running
    // product; a lost state, restarted from zero moments, is off by more than 1e-3)
    u.a.dataSync().forEach((e, i) => expect(s.a.dataSync()[i]).toBeCloseTo(e, 5));
    u.b.dataSync().forEach((e, i) => expect(s.b.dataSync()[i]).toBeCloseTo(e, 5));
    // a plain Adam's state (one lr) routes by name into the groups
    const p = problem('p');
    const plain = adam(0.01);
    step(plain, p.loss, [p.a, p.b]);
    const ps = await plain.getWeights();
    const fromPlain = new GroupedOptimizer(adam, 0.01, groups);
    await fromPlain.setWeights(ps);
    (ps[0] as { tensor: tf.Tensor }).tensor.dispose();
    plain.dispose();
    const got = await fromPlain.getWeights();
    expect(got.map((w) => w.name).sort()).toEqual(ps.map((w) => w.name).sort());
    (got[0] as { tensor: tf.Tensor }).tensor.dispose();
    tf.dispose([u.a, u.b, s.a, s.b, p.a, p.b]);
    ou.dispose();
    resumed.dispose();
    fromPlain.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses bad learning rates and scales, naming them', () => {
    expect(() => new GroupedOptimizer(adam, 0, [])).toThrow(/learningRate/);
    expect(() => new GroupedOptimizer(adam, 0.01, [{ matches: () => true, lrScale: -1 }])).toThrow(
      /groups\[0\]\.lrScale/,
    );
  });
});
