/**
 * NumPyro's continuation (`lastState` / `postWarmupState`, `warmup()` then `run()`): a run
 * continued from the last state draws exactly what one longer run with the same seed draws, for
 * NUTS and HMC, one and several chains, sequential, vectorized and parallel chains, over the
 * recorded (compiled) potential and over tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { HalfNormal, Normal } from '../../../src/distributions/index.js';
import { HMC, MCMC, NUTS, type MCMCOptions } from '../../../src/ppl/mcmc/index.js';
import { RandomWalkMH } from '../../../src/ppl/mcmc/random_walk.js';
import { plate } from '../../../src/ppl/handlers/plate.js';
import { sample } from '../../../src/ppl/runtime.js';
import { ArgumentError } from '../../../src/utils/errors.js';

const x = tf.tensor1d([0.3, -1.2, 2.2, 0.9, 1.4]);

function model(): void {
  const mu = sample('mu', new Normal(0, 10));
  const s = sample('s', new HalfNormal(2));
  plate('data', 5, () => sample('x', new Normal(mu, s), { obs: x }));
}

type Kernel = NUTS | HMC | RandomWalkMH;
type Draws = Record<string, Float32Array>;

/** Draws per chain (groupByChain), as host arrays, the tensors disposed. */
function grouped(m: MCMC): Draws {
  const g = m.getSamples({ groupByChain: true });
  const out: Draws = {};
  for (const [k, t] of Object.entries(g)) out[k] = t.dataSync() as Float32Array;
  tf.dispose(Object.values(g));
  return out;
}

/** Per chain, the first run's draws then the second's (both `[chains, n, ...]`). */
function concatChains(a: Float32Array, b: Float32Array, chains: number): number[] {
  const na = a.length / chains;
  const nb = b.length / chains;
  const out: number[] = [];
  for (let c = 0; c < chains; c++) {
    out.push(...a.subarray(c * na, (c + 1) * na), ...b.subarray(c * nb, (c + 1) * nb));
  }
  return out;
}

function opts(numSamples: number, extra: Partial<MCMCOptions> = {}): MCMCOptions {
  return { numSamples, warmupSteps: 60, seed: 11, progressBar: false, ...extra };
}

async function checkContinuation(make: () => Kernel, extra: Partial<MCMCOptions>): Promise<void> {
  const chains = extra.numChains ?? 1;
  const before = tf.memory().numTensors;
  const whole = new MCMC(make(), opts(80, extra));
  await whole.run();
  const w = grouped(whole);
  const part = new MCMC(make(), opts(40, extra));
  await part.run();
  const a = grouped(part);
  const sa = part.getExtraFields().map((s) => Array.from(s.stepSize));
  part.postWarmupState = part.lastState;
  await part.run();
  const b = grouped(part);
  const sb = part.getExtraFields().map((s) => Array.from(s.stepSize));
  for (const site of ['mu', 's']) {
    expect(concatChains(a[site]!, b[site]!, chains)).toEqual(Array.from(w[site]!));
  }
  const sw = whole.getExtraFields();
  for (let c = 0; c < chains; c++) {
    expect([...sa[c]!, ...sb[c]!]).toEqual(Array.from(sw[c]!.stepSize));
  }
  // the chains differ from each other and move
  expect(new Set(Array.from(w.mu!)).size).toBeGreaterThan(20);
  expect(tf.memory().numTensors).toBe(before);
}

describe('MCMC continuation (lastState / postWarmupState)', () => {
  it('NUTS, one chain, recorded potential: 40 + 40 draws = one run of 80', async () => {
    await checkContinuation(() => new NUTS(model), {});
  }, 60_000);

  it('NUTS, 2 vectorized chains over tfjs (compile: false): 40 + 40 = 80', async () => {
    await checkContinuation(() => new NUTS(model, { compile: false }), {
      numChains: 2,
      chainMethod: 'vectorized',
    });
  }, 120_000);

  it('HMC, 2 sequential chains, dense mass matrix: 40 + 40 = 80', async () => {
    await checkContinuation(() => new HMC(model, { trajectoryLength: 1, fullMass: true }), {
      numChains: 2,
    });
  }, 60_000);

  it('NUTS and HMC, 2 parallel chains (worker threads): 40 + 40 = 80', async () => {
    await checkContinuation(() => new NUTS(model), { numChains: 2, chainMethod: 'parallel' });
    await checkContinuation(() => new HMC(model, { trajectoryLength: 1 }), {
      numChains: 2,
      chainMethod: 'parallel',
    });
  }, 120_000);

  it('RandomWalkMH, 2 sequential chains: 40 + 40 = 80, its state not taken for NUTS', async () => {
    await checkContinuation(() => new RandomWalkMH(model), { numChains: 2 });
    const m = new MCMC(new RandomWalkMH(model), opts(10, { warmupSteps: 10 }));
    m.runSync();
    const nuts = new MCMC(new NUTS(model), opts(10));
    nuts.postWarmupState = m.lastState;
    expect(() => nuts.runSync()).toThrow(/state of a RandomWalkMH kernel, this MCMC runs NUTS/);
  }, 60_000);

  it('warmup() then run() gives the draws of one run()', async () => {
    const before = tf.memory().numTensors;
    const one = new MCMC(new NUTS(model), opts(50, { numChains: 2 }));
    one.runSync();
    const w = grouped(one);
    const two = new MCMC(new NUTS(model), opts(50, { numChains: 2 }));
    two.warmupSync();
    expect(two.postWarmupState?.chains.map((c) => c.iteration)).toEqual([60, 60]);
    expect(() => two.getSamples()).toThrow(/run\(\)/);
    await two.run();
    const d = grouped(two);
    expect(Array.from(d.mu!)).toEqual(Array.from(w.mu!));
    expect(Array.from(d.s!)).toEqual(Array.from(w.s!));
    // the adapted step size and metric are those of the warmup
    expect(two.getExtraFields()[0]!.stepSize[0]).toBe(two.postWarmupState!.chains[0]!.stepSize);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('refuses a state of another chain count, kernel or model, before sampling', () => {
    const before = tf.memory().numTensors;
    const m = new MCMC(new NUTS(model), opts(10, { warmupSteps: 10, numChains: 2 }));
    m.runSync();
    const st = m.lastState!;
    const other = new MCMC(new NUTS(model), opts(10, { numChains: 3 }));
    other.postWarmupState = st;
    expect(() => other.runSync()).toThrow(
      /postWarmupState: holds 2 chains, this MCMC runs numChains 3/,
    );
    const hmc = new MCMC(new HMC(model), opts(10, { numChains: 2 }));
    hmc.postWarmupState = st;
    expect(() => hmc.runSync()).toThrow(/state of a NUTS kernel, this MCMC runs HMC/);
    const model2 = (): void => {
      const mu = sample('mu', new Normal(tf.zeros([2]), 10).toEvent(1));
      sample('x', new Normal(tf.sum(mu), 1), { obs: tf.scalar(0.3) });
    };
    const m2 = new MCMC(new NUTS(model2), opts(10, { numChains: 2 }));
    m2.postWarmupState = st;
    expect(() => m2.runSync()).toThrow(ArgumentError);
    expect(() => m2.runSync()).toThrow(
      /different model: it holds \["mu\[\]","s\[\]"\], the model has \["mu\[2\]"\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
