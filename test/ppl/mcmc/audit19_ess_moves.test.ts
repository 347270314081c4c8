/**
 * Audit 19: `ESS`'s moves and `μ` tuning as NumPyro's (and zeus's). The directions were
 * `μ (x_i - x_j)`, `N(0, μ² C)` and `μ n/|n|`; NumPyro's are `2.0 * mu * ...`, so a NumPyro user's
 * `initMu` (`init_mu`) with `tuneMu: false` gave slice intervals half as long, and the tuned `μ`
 * (the `stepSize` extra field) was twice NumPyro's. `μ` was also tuned after each half-update;
 * NumPyro tunes it once per transition on both halves' expansions and contractions.
 *
 * One walker is moved on a flat target (every point in the slice) with `maxSteps: 1` (no stepping
 * out), so its move is `t η` with `t ~ L + U(0, 1)`, `L ~ U(-1, 0)` (a triangular law on (-1, 1):
 * `E t² = 1/6`, `E t⁴ = 1/15`): the differential and random moves in 1-D have `|η| = 2μ`, so every
 * move is below `2μ` and some exceed `μ`; the Gaussian move's `E[(tη)²] = 4μ² C / 6` (C the other
 * half's sample variance) within 5 Monte Carlo standard errors.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ppl } from '../../../src/index.js';
import type { PotentialPoint, PotentialRequests } from '../../../src/ppl/mcmc/integrator.js';
import type { WalkerMove } from '../../../src/ppl/mcmc/ensemble.js';
import type { Potential } from '../../../src/ppl/mcmc/potential.js';
import { ChainRng } from '../../../src/ppl/mcmc/rng.js';

const flat: Potential = {
  dim: 1,
  valueAndGrad: () => ({ value: 0, grad: Float64Array.of(0) }),
};

/** One walker's move from 0 on the flat target: the displacement. */
function moveOnce(kernel: ppl.ESS, others: Float64Array[], rng: ChainRng): number {
  const gen = kernel.moveWalker(
    Float64Array.of(0),
    0,
    others,
    0,
    Float64Array.of(0.5),
    rng,
    [0, 0],
  );
  let r = gen.next();
  while (r.done !== true) {
    r = gen.next({ value: 0, grad: Float64Array.of(0) } as PotentialPoint);
  }
  const q = r.value.q;
  expect(q).toBeDefined();
  return (q as Float64Array)[0] as number;
}

describe('ESS directions are 2 μ times the move vector (NumPyro, zeus)', () => {
  const mu = 0.5;
  for (const [name, move] of [
    ['DifferentialMove', ppl.ESS.DifferentialMove()],
    ['RandomMove', ppl.ESS.RandomMove()],
  ] as const) {
    it(`${name} in 1-D: |η| = 2μ, so moves reach past μ and never past 2μ`, () => {
      const k = new ppl.ESS(flat, { moves: move, maxSteps: 1, tuneMu: false, initMu: mu });
      const rng = new ChainRng(7);
      // the other half: two walkers one apart (the differential move's |x_i - x_j| = 1)
      const others = [Float64Array.of(0), Float64Array.of(1)];
      const d = Array.from({ length: 400 }, () => Math.abs(moveOnce(k, others, rng)));
      expect(Math.max(...d)).toBeLessThanOrEqual(2 * mu);
      // P(|t| > 1/2) = 1/4 per move: over 400 moves some exceed μ (was: none could)
      expect(d.filter((v) => v > mu).length).toBeGreaterThan(50);
    });
  }

  it('GaussianMove: E[(t η)²] = 4 μ² C / 6 within 5 MC SE', () => {
    const k = new ppl.ESS(flat, {
      moves: ppl.ESS.GaussianMove(),
      maxSteps: 1,
      tuneMu: false,
      initMu: mu,
    });
    const rng = new ChainRng(11);
    const others = [Float64Array.of(0), Float64Array.of(1), Float64Array.of(3)];
    const c = 7 / 3; // sample variance (ddof 1) of 0, 1, 3
    const s2 = 4 * mu * mu * c;
    const n = 4000;
    const sq = Array.from({ length: n }, () => moveOnce(k, others, rng) ** 2);
    const m = sq.reduce((a, b) => a + b, 0) / n;
    // Var[(tη)²] = E t⁴ E η⁴ - (E t² E η²)² = (3/15 - 1/36) s2²
    const se = Math.sqrt(((3 / 15 - 1 / 36) * s2 * s2) / n);
    expect(Math.abs(m - s2 / 6)).toBeLessThan(5 * se);
  });
});

/** An ESS recording the counts each warmup adaptation gets and each walker's own tallies. */
class RecordingESS extends ppl.ESS {
  adaptations: { mu: number; counts: number[]; tallies: number[] }[] = [];
  walkerTallies = [0, 0];
  override adaptShared(shared: Float64Array, counts: number[]): void {
    this.adaptations.push({
      mu: shared[0] as number,
      counts: counts.slice(),
      tallies: this.walkerTallies.slice(),
    });
    super.adaptShared(shared, counts);
  }
  override *moveWalker(
    x: Float64Array,
    u: number,
    others: Float64Array[],
    move: number,
    shared: Float64Array,
    rng: ChainRng,
    counts: number[],
  ): PotentialRequests<WalkerMove> {
    const own = [0, 0];
    const r = yield* super.moveWalker(x, u, others, move, shared, rng, own);
    counts[0] = (counts[0] as number) + (own[0] as number);
    counts[1] = (counts[1] as number) + (own[1] as number);
    this.walkerTallies[0] = (this.walkerTallies[0] as number) + (own[0] as number);
    this.walkerTallies[1] = (this.walkerTallies[1] as number) + (own[1] as number);
    return r;
  }
}

describe("ESS tunes μ once per warmup transition on both halves' counts (NumPyro)", () => {
  it('one adaptation per warmup transition; the kept μ follows μ ← 2μ N_e / (N_e + N_c)', () => {
    const before = tf.memory().numTensors;
    const gauss: Potential = {
      dim: 2,
      valueAndGrad: (z) => ({
        value: 0.5 * ((z[0] as number) ** 2 + (z[1] as number) ** 2),
        grad: Float64Array.of(z[0] as number, z[1] as number),
      }),
    };
    const k = new RecordingESS(gauss, { initMu: 3 });
    const warm = 12;
    const m = new ppl.MCMC(k, {
      numSamples: 5,
      warmupSteps: warm,
      numChains: 6,
      chainMethod: 'vectorized',
      seed: 2,
      progressBar: false,
    });
    m.runSync();
    expect(k.adaptations.length).toBe(warm);
    // the counts of each adaptation are all the walkers' tallies since the previous one: both
    // halves of one transition
    let prev = [0, 0];
    for (const r of k.adaptations) {
      expect(r.counts).toEqual([r.tallies[0]! - prev[0]!, r.tallies[1]! - prev[1]!]);
      prev = r.tallies;
    }
    let mu = 3;
    for (const r of k.adaptations) {
      expect(r.mu).toBeCloseTo(mu, 12);
      const ne = Math.max(1, r.counts[0]!);
      mu = (2 * mu * ne) / (ne + r.counts[1]!);
    }
    // every walker reports the tuned μ in every kept transition
    for (const s of m.getExtraFields()) {
      for (const v of s.stepSize) expect(v).toBeCloseTo(mu, 5);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
