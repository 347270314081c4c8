/**
 * The pathwise-gradient sweep of audit 19 (used by `audit19_sweep_rsample*.test.ts`). For every family of `sweep_cases.ts`
 * with `rsample` (built from scalar parameters by the row's `grad.build`), the pathwise estimate
 * `∇_θ mean f(rsample)` of `∇_θ E[f(X)]` is compared with the score-function estimate
 * `mean (f(x) - f̄) ∇_θ log p_θ(x)` over independent seeded draws — two unbiased estimators that
 * share nothing but the family, compared within 5 standard errors of their difference (each SE
 * from the spread of 20 chunk estimates). `f(x) = Σ_event tanh(x) + 1 / (1 + x²)` is smooth and
 * bounded, so heavy tails keep a finite variance. `sample()` is a constant to every gradient: the
 * gradient of `Σ sample` in the parameters is 0. No tensor may be left.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { SWEEP, freeMade, type SweepRow } from './sweep_cases.js';

/** The rows with scalar-parameter builders whose family draws reparameterized samples. */
export const RSAMPLE_ROWS = SWEEP.filter((row) => {
  if (row.grad === undefined || row.noSample !== undefined) return false;
  const ps = row.grad.theta.map((t) => tf.scalar(t));
  try {
    const dist = row.grad.build(ps);
    const ok = dist.hasRsample;
    dist.dispose();
    return ok;
  } finally {
    tf.dispose(ps);
    freeMade();
  }
});

const f = (x: tf.Tensor, eventDims: number): tf.Tensor =>
  tf.tidy(() => {
    const v = tf.add(tf.tanh(x), tf.reciprocal(tf.add(1, tf.square(x))));
    const axes = Array.from({ length: eventDims }, (_, i) => x.rank - 1 - i);
    return axes.length === 0 ? v : tf.sum(v, axes);
  });

/** Mean and standard error of chunk estimates (one vector each). */
function meanSe(chunks: number[][]): { mean: number[]; se: number[] } {
  const m = chunks.length;
  const k = (chunks[0] as number[]).length;
  const mean = Array.from(
    { length: k },
    (_, i) => chunks.reduce((s, c) => s + (c[i] as number), 0) / m,
  );
  const se = mean.map((mu, i) =>
    Math.sqrt(chunks.reduce((s, c) => s + ((c[i] as number) - mu) ** 2, 0) / (m - 1) / m),
  );
  return { mean, se };
}

/**
 * The rows whose draws or densities are slow (a numerical-integral density; a truncation whose
 * quantile runs Newton steps through the base's log-CDF, ≈ 1 s per differentiated draw), run by
 * `audit19_sweep_rsample_slow.test.ts` with fewer chunks.
 */
export const SLOW = ['TruncatedDistribution(Normal)', 'StableWithLogProb'];

/**
 * Parameters that move an end of the support (`Uniform`'s ends, `Pareto`'s scale, `LogUniform`'s
 * ends): the score-function estimator misses the boundary term there, so their pathwise gradient
 * is compared with central finite differences of the same seeded objective (the draws are a
 * smooth function of them: inverse-CDF transforms of fixed noise).
 */
const SUPPORT_PARAMS: Record<string, number[]> = {
  Uniform: [0, 1],
  Pareto: [0],
  LogUniform: [0, 1],
};

/** Define the sweep's tests over `rows` with `chunks` chunk estimates of `n` draws each. */
export function rsampleSweep(rows: SweepRow[], chunks: number, n: number): void {
  describe.each(rows)('$name', (row) => {
    it('pathwise gradient of E[f(X)] agrees with the score-function estimate (5 SE)', () => {
      const { theta, build } = row.grad as NonNullable<(typeof row)['grad']>;
      const before = tf.memory().numTensors;
      const params = theta.map((t) => tf.scalar(t));
      try {
        const path: number[][] = [];
        const score: number[][] = [];
        for (let c = 0; c < chunks; c++) {
          const gp = tf.grads((...ps: tf.Tensor[]) => {
            const dist = build(ps);
            try {
              return tf.mean(f(dist.rsample([n], 1000 + c), dist.eventShape.length)) as tf.Scalar;
            } finally {
              dist.dispose();
            }
          })(params);
          path.push(gp.map((g) => g.dataSync()[0] as number));
          tf.dispose(gp);
          // score function: draws off the tape, a baseline from the chunk's own mean
          const [x, centred] = tf.tidy(() => {
            const probe = build(params);
            const xs = probe.sample([n], 5000 + c);
            const fx = f(xs, probe.eventShape.length);
            probe.dispose();
            return [xs, tf.sub(fx, tf.mean(fx))];
          }) as [tf.Tensor, tf.Tensor];
          const gs = tf.grads((...ps: tf.Tensor[]) => {
            const dist = build(ps);
            try {
              return tf.mean(tf.mul(centred, dist.logProb(x))) as tf.Scalar;
            } finally {
              dist.dispose();
            }
          })(params);
          score.push(gs.map((g) => g.dataSync()[0] as number));
          tf.dispose([...gs, x, centred]);
        }
        const a = meanSe(path);
        const b = meanSe(score);
        const moving = SUPPORT_PARAMS[row.name] ?? [];
        const seeded = (th: number[]): number =>
          tf.tidy(() => {
            const dist = build(th.map((t) => tf.scalar(t)));
            const v = tf.mean(f(dist.rsample([n], 1000), dist.eventShape.length)).dataSync()[0];
            dist.dispose();
            return v as number;
          });
        theta.forEach((_, i) => {
          if (moving.includes(i)) {
            const h = 1e-3;
            const up = [...theta];
            const dn = [...theta];
            up[i] = (up[i] as number) + h;
            dn[i] = (dn[i] as number) - h;
            const fd = (seeded(up) - seeded(dn)) / (2 * h);
            expect(
              (path[0] as number[])[i],
              `θ[${i}] (moves the support) vs finite differences`,
            ).toBeAllclose(fd, {
              rtol: 2e-2,
              atol: 1e-3,
            });
            return;
          }
          const diff = Math.abs((a.mean[i] as number) - (b.mean[i] as number));
          const se = Math.hypot(a.se[i] as number, b.se[i] as number);
          expect(
            diff,
            `θ[${i}]: pathwise ${a.mean[i]} ± ${a.se[i]} vs score ${b.mean[i]} ± ${b.se[i]}`,
          ).toBeLessThanOrEqual(5 * se + 1e-4);
        });
      } finally {
        tf.dispose(params);
        freeMade();
      }
      expect(tf.memory().numTensors, 'tensors left').toBe(before);
    });

    it('sample() is a constant to the gradient: d Σ sample / dθ = 0', () => {
      const { theta, build } = row.grad as NonNullable<(typeof row)['grad']>;
      const before = tf.memory().numTensors;
      const params = theta.map((t) => tf.scalar(t));
      const gs = tf.grads((...ps: tf.Tensor[]) => {
        const dist = build(ps);
        try {
          const anchor = ps.reduce((s: tf.Tensor, p) => tf.add(s, tf.mul(0, p)), tf.scalar(0));
          return tf.add(tf.sum(dist.sample([3], 7)), anchor) as tf.Scalar;
        } finally {
          dist.dispose();
        }
      })(params);
      const g = gs.flatMap((t) => Array.from(t.dataSync()));
      tf.dispose([...gs, ...params]);
      freeMade();
      expect(
        g.every((v) => v === 0),
        `gradients ${g.join(',')}`,
      ).toBe(true);
      expect(tf.memory().numTensors, 'tensors left').toBe(before);
    });
  });
}
