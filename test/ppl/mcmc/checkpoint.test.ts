/**
 * MCMC checkpoints (`checkpoint: { path, every, resume }`): a run interrupted after any write
 * (here: the IO throws, as a kill would stop it) and resumed, even twice, gives the draws and
 * statistics of the uninterrupted run with the same seed, for sequential, vectorized and parallel
 * chains; an existing checkpoint is never overwritten without `resume`; an unreadable one or one
 * of another run is refused naming the file and the difference. The real kill (SIGKILL of a child
 * process) is in test/faults/mcmc_checkpoint_kill.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { HalfNormal, Normal } from '../../../src/distributions/index.js';
import { plate } from '../../../src/ppl/handlers/plate.js';
import { HMC, MCMC, NUTS, type MCMCOptions } from '../../../src/ppl/mcmc/index.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  type MCMCCheckpointIO,
} from '../../../src/ppl/mcmc/checkpoint.js';
import { fileCheckpointIO } from '../../../src/ppl/mcmc/checkpoint_file.js';
import { sample } from '../../../src/ppl/runtime.js';

const x = tf.tensor1d([0.3, -1.2, 2.2, 0.9, 1.4]);

function model(): void {
  const mu = sample('mu', new Normal(0, 10));
  const s = sample('s', new HalfNormal(2));
  plate('data', 5, () => sample('x', new Normal(mu, s), { obs: x }));
}

class Killed extends Error {}

/** Checkpoints in memory; `killAt`: the write after which the "process" dies. */
function memoryIO(
  files: Map<string, Uint8Array>,
  killAt = Infinity,
): MCMCCheckpointIO & {
  writes: number;
} {
  const io = {
    writes: 0,
    read: (p: string) => files.get(p)?.slice(),
    write: (p: string, d: Uint8Array) => {
      files.set(p, d.slice());
      io.writes += 1;
      if (io.writes >= killAt) throw new Killed(`killed after write ${io.writes}`);
    },
  };
  return io;
}

type Kernel = NUTS | HMC;

function opts(extra: Partial<MCMCOptions> = {}): MCMCOptions {
  return { numSamples: 40, warmupSteps: 40, seed: 5, progressBar: false, ...extra };
}

async function draws(m: MCMC, args: unknown[] = []): Promise<Record<string, number[]>> {
  await m.run(...args);
  const g = m.getSamples({ groupByChain: true });
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(g)) out[k] = Array.from(t.dataSync());
  tf.dispose(Object.values(g));
  out.treeDepth = m.getExtraFields().flatMap((s) => Array.from(s.treeDepth));
  out.stepSize = m.getExtraFields().flatMap((s) => Array.from(s.stepSize));
  out.divergent = m.getExtraFields().flatMap((s) => s.divergent.map(Number));
  return out;
}

/** Uninterrupted, then killed after write `k1`, resumed and killed after `k2`, resumed: equal. */
async function crashTwice(make: () => Kernel, extra: Partial<MCMCOptions>, k1: number, k2: number) {
  const before = tf.memory().numTensors;
  const ref = await draws(new MCMC(make(), opts(extra)));
  const files = new Map<string, Uint8Array>();
  const ck = (io: MCMCCheckpointIO, resume: boolean) => ({
    path: 'run.ckpt',
    every: 9,
    resume,
    io,
  });
  const io1 = memoryIO(files, k1);
  await expect(
    draws(new MCMC(make(), opts({ ...extra, checkpoint: ck(io1, false) }))),
  ).rejects.toThrow(Killed);
  const saved1 = decodeCheckpoint(files.get('run.ckpt')!, 'run.ckpt');
  const kept1 = saved1.chains.map((c) => c.kept.length);
  const io2 = memoryIO(files, k2);
  await expect(
    draws(new MCMC(make(), opts({ ...extra, checkpoint: ck(io2, true) }))),
  ).rejects.toThrow(Killed);
  const kept2 = decodeCheckpoint(files.get('run.ckpt')!, 'run.ckpt').chains.map(
    (c) => c.kept.length,
  );
  // the second run continued the first (more draws, nothing lost)
  expect(kept2.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(kept1.reduce((a, b) => a + b, 0));
  const io3 = memoryIO(files);
  const res = await draws(new MCMC(make(), opts({ ...extra, checkpoint: ck(io3, true) })));
  expect(res).toEqual(ref);
  const done = decodeCheckpoint(files.get('run.ckpt')!, 'run.ckpt');
  expect(done.chains.every((c) => c.done && c.kept.length === 40)).toBe(true);
  expect(tf.memory().numTensors).toBe(before);
  return { saved1, io3 };
}

describe('MCMC checkpoints', () => {
  it('a run with checkpoints gives the same draws; the finished file resumes without sampling', async () => {
    const before = tf.memory().numTensors;
    const ref = await draws(new MCMC(new NUTS(model), opts({ numChains: 2 })));
    const files = new Map<string, Uint8Array>();
    const io = memoryIO(files);
    const m = new MCMC(
      new NUTS(model),
      opts({ numChains: 2, checkpoint: { path: 'a', every: 10, io } }),
    );
    expect(await draws(m)).toEqual(ref);
    // 8 every-10 writes per chain (80 iterations, the last at the chain's end) + the run's end
    expect(io.writes).toBe(2 * 8 + 1);
    const again = new MCMC(new NUTS(model), opts({ numChains: 2, checkpoint: { path: 'a', io } }));
    await expect(again.run()).rejects.toThrow(
      /checkpoint.resume: a already holds a checkpoint with 40\+40 of 2x40 draws: pass checkpoint.resume: true/,
    );
    const resumed = new MCMC(
      new NUTS(model),
      opts({ numChains: 2, checkpoint: { path: 'a', io, resume: true } }),
    );
    expect(await draws(resumed)).toEqual(ref);
    expect(resumed.lastState?.chains.map((c) => c.iteration)).toEqual([80, 80]);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('sequential NUTS chains: killed twice (mid-warmup, then in the second chain), resumed to the same draws', async () => {
    const { saved1 } = await crashTwice(() => new NUTS(model), { numChains: 2 }, 3, 6);
    // the first kill was in chain 0's warmup: its adaptation state was saved
    expect(saved1.chains[0]?.state?.iteration).toBe(27);
    expect(saved1.chains[1]?.state).toBeUndefined();
  }, 60_000);

  it('vectorized chains (recorded potential and tfjs) and HMC: killed twice, resumed to the same draws', async () => {
    await crashTwice(() => new NUTS(model), { numChains: 3, chainMethod: 'vectorized' }, 2, 5);
    await crashTwice(
      () => new NUTS(model, { compile: false }),
      { numChains: 2, chainMethod: 'vectorized' },
      6,
      2,
    );
    await crashTwice(() => new HMC(model, { trajectoryLength: 1 }), { numChains: 2 }, 5, 4);
  }, 120_000);

  it('parallel chains: killed twice, resumed to the same draws', async () => {
    await crashTwice(() => new NUTS(model), { numChains: 2, chainMethod: 'parallel' }, 3, 3);
  }, 120_000);

  it('a run continued from postWarmupState is checkpointed and resumed like any other', async () => {
    const w = new MCMC(new NUTS(model), opts({ numChains: 2 }));
    w.warmupSync();
    const ref = new MCMC(new NUTS(model), opts({ numChains: 2 }));
    ref.postWarmupState = w.postWarmupState;
    const r = await draws(ref);
    const files = new Map<string, Uint8Array>();
    const mk = (io: MCMCCheckpointIO, resume: boolean): MCMC => {
      const m = new MCMC(
        new NUTS(model),
        opts({ numChains: 2, checkpoint: { path: 'c', every: 7, io, resume } }),
      );
      m.postWarmupState = w.postWarmupState;
      return m;
    };
    await expect(draws(mk(memoryIO(files, 4), false))).rejects.toThrow(Killed);
    expect(await draws(mk(memoryIO(files), true))).toEqual(r);
  }, 60_000);

  it('a flat potential: continued and resumed exactly; a finished checkpoint loads without sampling', async () => {
    let calls = 0;
    // U(z) = |z|^2 / 2 + z0 z1 / 2 (a correlated Gaussian), gradient by hand
    const pot = {
      dim: 2,
      valueAndGrad(z: Float64Array) {
        calls += 1;
        const [a, b] = [z[0] as number, z[1] as number];
        return {
          value: 0.5 * (a * a + b * b + a * b),
          grad: Float64Array.from([a + 0.5 * b, b + 0.5 * a]),
        };
      },
    };
    const ref = await draws(new MCMC(new NUTS(pot), opts({ numSamples: 60 })));
    const half = new MCMC(new NUTS(pot), opts({ numSamples: 30 }));
    const a = await draws(half);
    half.postWarmupState = half.lastState;
    const b = await draws(half);
    expect([...a.z!, ...b.z!]).toEqual(ref.z);
    const files = new Map<string, Uint8Array>();
    const ck = (io: MCMCCheckpointIO) => ({ path: 'p', every: 8, resume: true, io });
    await expect(
      draws(new MCMC(new NUTS(pot), opts({ numSamples: 60, checkpoint: ck(memoryIO(files, 6)) }))),
    ).rejects.toThrow(Killed);
    expect(
      await draws(
        new MCMC(new NUTS(pot), opts({ numSamples: 60, checkpoint: ck(memoryIO(files)) })),
      ),
    ).toEqual(ref);
    calls = 0;
    expect(
      await draws(
        new MCMC(new NUTS(pot), opts({ numSamples: 60, checkpoint: ck(memoryIO(files)) })),
      ),
    ).toEqual(ref);
    expect(calls).toBeLessThanOrEqual(1); // the setup's check of the start, no transition
  }, 60_000);

  it('a truncated, corrupted or foreign file is an error naming the file, and nothing is overwritten', async () => {
    const before = tf.memory().numTensors;
    const files = new Map<string, Uint8Array>();
    const io = memoryIO(files, 2);
    await expect(
      new MCMC(new NUTS(model), opts({ checkpoint: { path: 'r.ckpt', every: 5, io } })).run(),
    ).rejects.toThrow(Killed);
    const good = files.get('r.ckpt')!;
    const run = (bytes: Uint8Array) => {
      files.set('r.ckpt', bytes);
      return new MCMC(
        new NUTS(model),
        opts({ checkpoint: { path: 'r.ckpt', io: memoryIO(files), resume: true } }),
      ).run();
    };
    await expect(run(good.slice(0, good.length - 100))).rejects.toThrow(
      /MCMC checkpoint r.ckpt: the file is truncated \(\d+ of \d+ body bytes\); its draws cannot be trusted, so nothing was resumed/,
    );
    const flipped = good.slice();
    flipped[good.length - 50] = (flipped[good.length - 50] as number) ^ 4;
    await expect(run(flipped)).rejects.toThrow(
      /MCMC checkpoint r.ckpt: the file is corrupted \(CRC-32/,
    );
    await expect(run(new Uint8Array(0))).rejects.toThrow(/r.ckpt: the file is empty/);
    await expect(run(new TextEncoder().encode('{"hello": 1}\n'))).rejects.toThrow(
      /r.ckpt: not an MCMC checkpoint/,
    );
    // the bad file is left as it was for the user to inspect
    expect(files.get('r.ckpt')).toEqual(new TextEncoder().encode('{"hello": 1}\n'));
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('a checkpoint of another model, kernel setting or run option is refused naming the mismatch', async () => {
    const before = tf.memory().numTensors;
    const files = new Map<string, Uint8Array>();
    await new MCMC(
      new NUTS(model),
      opts({ numChains: 2, checkpoint: { path: 'm', io: memoryIO(files) } }),
    ).run();
    const resume = (k: Kernel, extra: Partial<MCMCOptions> = {}) =>
      new MCMC(
        k,
        opts({
          numChains: 2,
          ...extra,
          checkpoint: { path: 'm', io: memoryIO(files), resume: true },
        }),
      ).run();
    await expect(resume(new NUTS(model, { maxTreeDepth: 5 }))).rejects.toThrow(
      /checkpoint: m was written by a different run \(kernel option maxTreeDepth: default in the checkpoint, 5 now\)/,
    );
    await expect(resume(new HMC(model))).rejects.toThrow(/kernel: NUTS in the checkpoint, HMC now/);
    await expect(
      resume(new NUTS(model, { fullMass: true, targetAcceptProb: 0.9 })),
    ).rejects.toThrow(
      /fullMass: default in the checkpoint, true now; kernel option targetAcceptProb: default in the checkpoint, 0.9 now/,
    );
    await expect(resume(new NUTS(model), { numSamples: 41 })).rejects.toThrow(
      /numSamples: 40 in the checkpoint, 41 now/,
    );
    await expect(resume(new NUTS(model), { seed: 6 })).rejects.toThrow(
      /seed: 5 in the checkpoint, 6 now/,
    );
    await expect(resume(new NUTS(model), { chainMethod: 'vectorized' })).rejects.toThrow(
      /chainMethod: "sequential" in the checkpoint, "vectorized" now/,
    );
    const other = (): void => {
      const mu = sample('mu', new Normal(tf.zeros([3]), 10).toEvent(1));
      sample('x', new Normal(tf.sum(mu), 1), { obs: tf.scalar(0.3) });
    };
    await expect(resume(new NUTS(other))).rejects.toThrow(
      /checkpoint: m was written by a different model: its latent sites holds \["mu\[\]","s\[\]"\], the model has \["mu\[3\]"\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('bad checkpoint options are named before any work; without Node IO the message says what to import', () => {
    expect(
      () => new MCMC(new NUTS(model), opts({ checkpoint: { path: '', io: memoryIO(new Map()) } })),
    ).toThrow(/checkpoint.path: expected a non-empty string/);
    expect(
      () =>
        new MCMC(
          new NUTS(model),
          opts({ checkpoint: { path: 'a', every: 0, io: memoryIO(new Map()) } }),
        ),
    ).toThrow(/checkpoint.every: expected an integer >= 1, got 0/);
    expect(
      () =>
        new MCMC(
          new NUTS(model),
          opts({ checkpoint: { path: 'a', evry: 3 } as unknown as { path: string } }),
        ),
    ).toThrow(/evry/);
    const m = new MCMC(
      new NUTS(model),
      opts({ checkpoint: { path: 'a', io: memoryIO(new Map()) } }),
    );
    expect(() => m.warmupSync()).toThrow(/checkpoint: warmup\(\) writes no checkpoints/);
  });

  it('writes files atomically through the Node IO (no temporary file left), bit-exact float64', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcmc-ckpt-'));
    const path = join(dir, 'sub', 'run.ckpt');
    const m = new MCMC(
      new NUTS(model),
      opts({ checkpoint: { path, every: 20, io: fileCheckpointIO } }),
    );
    await m.run();
    expect(readdirSync(join(dir, 'sub'))).toEqual(['run.ckpt']);
    const bytes = readFileSync(path);
    expect(new TextDecoder().decode(bytes.subarray(0, 24))).toBe('DEEPPROB-MCMC-CHECKPOINT');
    const ck = decodeCheckpoint(bytes, path);
    expect(ck.chains[0]!.state).toEqual(m.lastState!.chains[0]);
    expect(ck.fingerprint.sites?.map((s) => s.name)).toEqual(['mu', 's']);
    // encode/decode round trip keeps NaN, infinities and -0 and every bit of a float64
    const odd = new Float64Array([NaN, Infinity, -Infinity, -0, 0.1 + 0.2, 5e-324]);
    const rt = decodeCheckpoint(
      encodeCheckpoint({ fingerprint: ck.fingerprint, chains: [{ kept: [odd], done: false }] }),
      'x',
    );
    expect(Object.is(rt.chains[0]!.kept[0]![3], -0)).toBe(true);
    expect(Array.from(rt.chains[0]!.kept[0]!)).toEqual(Array.from(odd));
  }, 60_000);
});
