/**
 * Fault injection on checkpoints (`npm run test:faults`): the trainer "dies" at every file-system
 * call of a checkpoint save (the call throws and nothing after it runs, as with `kill -9`), twice in
 * a row, and at seeded random calls; after each crash sequence the run still loads a complete
 * version (never lost, never older than the last finished save). Then every checkpoint file is
 * corrupted in every way (bit flip, truncation, NaN weights, edited trainer state, foreign
 * architecture, path traversal, symlink out) and each gives an error naming the file.
 */
import { mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { DenseReparam } from '../../src/layers/index.js';
import { loadCheckpoint, recoverCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { writeManifest } from '../../src/train/manifest.js';
import { fsOps } from '../../src/utils/file_io.js';
import { makeRng } from '../../src/utils/seed.js';

const real = { ...fsOps };
afterEach(() => Object.assign(fsOps, real));

class Crash extends Error {}

/** Make the `k`-th (1-based) changing file-system call from now throw, and every later one. */
function crashAt(k: number): () => number {
  let n = 0;
  const wrap =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      n += 1;
      if (n >= k) throw new Crash(`crash at call ${n}`);
      return f(...a);
    };
  fsOps.writeFileSync = wrap(real.writeFileSync) as typeof fsOps.writeFileSync;
  fsOps.renameSync = wrap(real.renameSync) as typeof fsOps.renameSync;
  fsOps.rmSync = wrap(real.rmSync) as typeof fsOps.rmSync;
  fsOps.mkdirSync = wrap(real.mkdirSync) as typeof fsOps.mkdirSync;
  fsOps.fsync = wrap(real.fsync);
  return () => n;
}

function tinyModel(): tf.Sequential {
  return tf.sequential({
    layers: [new DenseReparam({ inputShape: [3], outChannels: 2 })],
  });
}

/** Save version `step` (the step count identifies the version). */
async function save(run: string, model: tf.LayersModel, opt: tf.Optimizer, step: number) {
  return saveCheckpoint(run, model, opt, {
    version: 1,
    epoch: step,
    step,
    config: { model: 'tiny' },
    optimizer: { name: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    seed: 1,
    metrics: [],
  });
}

/** Save under a crash at call `k`; true when the save crashed. */
async function saveCrashing(
  run: string,
  m: tf.LayersModel,
  o: tf.Optimizer,
  step: number,
  k: number,
) {
  crashAt(k);
  try {
    await save(run, m, o, step);
    return false;
  } catch (e) {
    if (!(e instanceof Crash)) throw e;
    return true;
  } finally {
    Object.assign(fsOps, real);
  }
}

/** The step of the checkpoint the run loads after recovery. */
async function loadedStep(run: string): Promise<number> {
  recoverCheckpoint(run);
  const ck = await loadCheckpoint<unknown, unknown>(run);
  ck.model.dispose();
  return ck.state?.step ?? -1;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'deepprob-faults-'));
}

/** Number of changing file-system calls of one save. */
async function callsPerSave(m: tf.LayersModel, o: tf.Optimizer): Promise<number> {
  const run = tmp();
  await save(run, m, o, 1);
  const count = crashAt(Number.POSITIVE_INFINITY);
  await save(run, m, o, 2);
  Object.assign(fsOps, real);
  return count();
}

describe('checkpoint crash sequences', () => {
  it('a crash at every file-system call of a save loses nothing', async () => {
    const m = tinyModel();
    const o = tf.train.adam(0.01);
    const calls = await callsPerSave(m, o);
    expect(calls).toBeGreaterThan(10);
    for (let k = 1; k <= calls + 1; k++) {
      const run = tmp();
      await save(run, m, o, 1);
      const crashed = await saveCrashing(run, m, o, 2, k);
      expect(crashed).toBe(k <= calls);
      const step = await loadedStep(run);
      expect([1, 2], `crash at call ${k}`).toContain(step);
      if (!crashed) expect(step).toBe(2);
      // the next save after the crash completes normally
      await save(run, m, o, 3);
      expect(await loadedStep(run)).toBe(3);
      expect(readdirSync(run)).toEqual(['checkpoint']);
    }
    m.dispose();
    o.dispose();
  });

  it('two crashes in a row (pairs of calls across the save) lose nothing, also without recovery between', async () => {
    const m = tinyModel();
    const o = tf.train.adam(0.01);
    const calls = await callsPerSave(m, o);
    for (let k1 = 1; k1 <= calls; k1 += 3) {
      for (let k2 = 1; k2 <= calls + 4; k2 += 4) {
        const run = tmp();
        await save(run, m, o, 1);
        await saveCrashing(run, m, o, 2, k1);
        await saveCrashing(run, m, o, 3, k2);
        const step = await loadedStep(run);
        expect([1, 2, 3], `crashes at ${k1}, ${k2}`).toContain(step);
      }
    }
    m.dispose();
    o.dispose();
  });

  it('seeded random crash sequences lose nothing', async () => {
    const m = tinyModel();
    const o = tf.train.adam(0.01);
    const calls = await callsPerSave(m, o);
    const rng = makeRng(2026);
    for (let trial = 0; trial < 12; trial++) {
      const run = tmp();
      await save(run, m, o, 1);
      let done = 1;
      for (let s = 2; s <= 5; s++) {
        const crashed = await saveCrashing(run, m, o, s, 1 + Math.floor(rng() * (calls + 3)));
        if (!crashed) done = s;
        const step = await loadedStep(run);
        expect(step).toBeGreaterThanOrEqual(done);
        expect(step).toBeLessThanOrEqual(s);
      }
    }
    m.dispose();
    o.dispose();
  });
});

describe('corrupted checkpoint files give an error naming the file', () => {
  async function fresh(): Promise<string> {
    const run = tmp();
    const m = tinyModel();
    const o = tf.train.adam(0.01);
    // one step, so that Adam has moments to save
    o.minimize(() => tf.sum(m.predict(tf.ones([2, 3])) as tf.Tensor) as tf.Scalar);
    await save(run, m, o, 1);
    m.dispose();
    o.dispose();
    return join(run, 'checkpoint');
  }
  const files = ['model.json', 'weights.bin', 'optimizer.bin', 'state.json', 'manifest.json'];

  for (const file of files) {
    it(`bit flip, truncation and emptying of ${file}`, async () => {
      for (const damage of ['flip', 'truncate', 'empty'] as const) {
        const dir = await fresh();
        const path = join(dir, file);
        const data = readFileSync(path);
        const at = Math.floor(data.length / 2);
        if (damage === 'flip') data.writeUInt8(data.readUInt8(at) ^ 0x10, at);
        writeFileSync(
          path,
          damage === 'flip' ? data : data.subarray(0, damage === 'empty' ? 0 : data.length - 3),
        );
        const load = async () => {
          const ck = await loadCheckpoint(dir);
          ck.optimizerWeights();
        };
        await expect(load(), `${damage} ${file}`).rejects.toThrow(file);
      }
    });
  }

  /** Replace a file and rewrite the manifest, as a user editing the checkpoint would. */
  async function edited(file: string, change: (text: Buffer) => Buffer | string): Promise<string> {
    const dir = await fresh();
    writeFileSync(join(dir, file), change(readFileSync(join(dir, file))));
    writeManifest(dir);
    return dir;
  }

  it('NaN weights, NaN optimizer state, edited state fields, foreign architecture', async () => {
    const nanBytes = (b: Buffer) => {
      const f = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      f[0] = NaN;
      return Buffer.from(f.buffer);
    };
    await expect(loadCheckpoint(await edited('weights.bin', nanBytes))).rejects.toThrow(
      /weights\.bin: weight .* NaN or Infinity/,
    );
    const opt = await loadCheckpoint(
      await edited('optimizer.bin', (b) => {
        const out = Buffer.from(b);
        out.writeFloatLE(NaN, 4);
        return out;
      }),
    );
    expect(() => opt.optimizerWeights()).toThrow(/optimizer\.bin: optimizer state .* NaN/);
    opt.model.dispose();
    for (const [field, value] of [
      ['epoch', -2],
      ['step', 1.5],
      ['version', 7],
      ['optimizer', { name: 'sgd' }],
      ['metrics', 'none'],
      ['config', null],
    ] as const) {
      const dir = await edited('state.json', (b) => {
        const st = JSON.parse(b.toString()) as Record<string, unknown>;
        st[field] = value;
        return JSON.stringify(st);
      });
      await expect(loadCheckpoint(dir), field).rejects.toThrow(
        new RegExp(`state\\.json: field '${field}'`),
      );
    }
    const foreign = await edited('state.json', (b) => {
      const st = JSON.parse(b.toString()) as Record<string, unknown>;
      st.modelHash = '0'.repeat(64);
      return JSON.stringify(st);
    });
    await expect(loadCheckpoint(foreign)).rejects.toThrow(
      /state\.json: belongs to another architecture/,
    );
  });

  it('weight paths outside the folder are refused before anything is read', async () => {
    const outside = tmp();
    writeFileSync(join(outside, 'secret.txt'), 'x'.repeat(200));
    for (const p of ['../../secret.txt', '/etc/passwd', `${outside}/secret.txt`, '..']) {
      const dir = await edited('model.json', (b) => {
        const j = JSON.parse(b.toString()) as { weightsManifest: { paths: string[] }[] };
        (j.weightsManifest[0] as { paths: string[] }).paths = [p];
        return JSON.stringify(j);
      });
      const err = await loadCheckpoint(dir).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message, p).toMatch(/model\.json: weight path .* must lie inside/);
      expect(err?.message).not.toMatch(/bytes/);
    }
    const dir = await fresh();
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'link.bin'));
    const j = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
      weightsManifest: { paths: string[] }[];
    };
    (j.weightsManifest[0] as { paths: string[] }).paths = ['link.bin'];
    writeFileSync(join(dir, 'model.json'), JSON.stringify(j));
    writeManifest(dir);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/leads outside the folder/);
  });
});
