/**
 * Audit (#16, fresh eyes): checkpoint and model folders probed off the paths of the fault suite.
 * Weight paths of every shape a hostile or broken `model.json` may hold (a folder inside, a
 * URL-encoded `..`, a symlinked sub-folder leading out, a missing second shard, a manifest that is
 * not an array), byte lengths that do not add up in a bare saved model, a manifest with an entry
 * dropped, non-finite values in every float file, a disk that fills up during a save, a save
 * interrupted between its renames, and the tensors of every failing load. Each must end in an
 * error naming the file, read nothing outside the folder and leak nothing.
 */
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  loadCheckpoint,
  recoverCheckpoint,
  saveCheckpoint,
  resolveCheckpoint,
} from '../../src/train/checkpoint.js';
import { writeManifest } from '../../src/train/manifest.js';
import { saveTinyCheckpoint, tinyCheckpointModel } from '../fixtures/checkpoints.js';
import { DeepProbError } from '../../src/utils/errors.js';
import { fileIO, fsOps } from '../../src/utils/file_io.js';

const real = { ...fsOps };
afterEach(() => Object.assign(fsOps, real));

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-audit14-'));

const tinyModel = tinyCheckpointModel;
const save = saveTinyCheckpoint;

/** A bare saved model (no state, no manifest), as `model.save(fileIO(dir))` writes it. */
async function bare(): Promise<string> {
  const dir = tmp();
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
  await m.save(fileIO(dir));
  m.dispose();
  return dir;
}

type Json = { weightsManifest: { paths: unknown; weights: unknown }[] } & Record<string, unknown>;

function editModelJson(dir: string, change: (j: Json) => void, manifest = false): void {
  const path = join(dir, 'model.json');
  const j = JSON.parse(readFileSync(path, 'utf8')) as Json;
  change(j);
  writeFileSync(path, JSON.stringify(j));
  if (manifest) writeManifest(dir);
}

/** The error of a load, checking on the way that no tensor is left behind. */
async function loadError(dir: string): Promise<Error> {
  const before = tf.memory().numTensors;
  const err = await loadCheckpoint(dir).then(
    (ck) => {
      ck.model.dispose();
      return undefined;
    },
    (e: unknown) => e as Error,
  );
  expect(tf.memory().numTensors).toBe(before);
  if (err === undefined) throw new Error(`loading ${dir} succeeded`);
  return err;
}

/** A clear error: deepprob's own, naming `file`, no raw Node/tfjs/TypeError text. */
function expectClear(err: Error, file: RegExp | string): void {
  expect(err, err.message).toBeInstanceOf(DeepProbError);
  expect(err.message).toMatch(file);
  expect(err.message).not.toMatch(/EISDIR|ENOENT|Cannot read prop|is not a function|undefined/);
}

describe('weight paths of a model.json', () => {
  it('a weight path naming a folder inside the checkpoint is refused naming model.json', async () => {
    const dir = await bare();
    mkdirSync(join(dir, 'sub'));
    editModelJson(dir, (j) => {
      (j.weightsManifest[0] as { paths: unknown }).paths = ['sub'];
    });
    expectClear(await loadError(dir), /model\.json/);
  });

  it('a weight path naming a FIFO inside the folder is refused instead of blocking forever', async () => {
    const dir = await bare();
    execFileSync('mkfifo', [join(dir, 'pipe.bin')]);
    editModelJson(dir, (j) => {
      (j.weightsManifest[0] as { paths: unknown }).paths = ['pipe.bin'];
    });
    expectClear(await loadError(dir), /model\.json: its weight path "pipe\.bin" is not a file/);
  });

  it('a URL-encoded %2e%2e path is a literal name inside the folder: nothing outside is read', async () => {
    const outer = tmp();
    const dir = join(outer, 'model');
    mkdirSync(dir);
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
    await m.save(fileIO(dir));
    m.dispose();
    // the bytes a traversal would read: exactly the size the manifest asks for
    writeFileSync(join(outer, 'secret.bin'), readFileSync(join(dir, 'weights.bin')));
    for (const p of ['%2e%2e/secret.bin', '%2E%2E%2Fsecret.bin', '..%2fsecret.bin']) {
      editModelJson(dir, (j) => {
        (j.weightsManifest[0] as { paths: unknown }).paths = [p];
      });
      const err = await loadError(dir);
      expectClear(err, /model\.json/);
      expect(err.message, p).toMatch(/missing/);
    }
  });

  it('a symlinked sub-folder leading out of the checkpoint is refused', async () => {
    const outside = tmp();
    const dir = await bare();
    writeFileSync(join(outside, 'weights.bin'), readFileSync(join(dir, 'weights.bin')));
    symlinkSync(outside, join(dir, 'shards'));
    editModelJson(dir, (j) => {
      (j.weightsManifest[0] as { paths: unknown }).paths = ['shards/weights.bin'];
    });
    expectClear(await loadError(dir), /leads outside the folder/);
  });

  it('a missing second shard is named', async () => {
    const dir = await bare();
    const w = readFileSync(join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'group1-shard1of2.bin'), w.subarray(0, 16));
    writeFileSync(join(dir, 'weights.bin'), w);
    editModelJson(dir, (j) => {
      (j.weightsManifest[0] as { paths: unknown }).paths = [
        'group1-shard1of2.bin',
        'group1-shard2of2.bin',
      ];
    });
    expectClear(await loadError(dir), /group1-shard2of2\.bin is missing/);
  });

  it('two shards that add up load to the same weights as one file', async () => {
    const dir = await bare();
    const w = readFileSync(join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'a.bin'), w.subarray(0, 20));
    writeFileSync(join(dir, 'b.bin'), w.subarray(20));
    const ref = await tf.loadLayersModel(fileIO(dir));
    editModelJson(dir, (j) => {
      (j.weightsManifest[0] as { paths: unknown }).paths = ['a.bin', 'b.bin'];
    });
    const ck = await loadCheckpoint(dir);
    const a = ck.model.getWeights().map((t) => Array.from(t.dataSync()));
    const b = ref.getWeights().map((t) => Array.from(t.dataSync()));
    expect(a).toEqual(b);
    ck.model.dispose();
    ref.dispose();
  });

  it('weight files of the wrong byte length (short, long) are refused naming the folder and model.json', async () => {
    for (const delta of [-4, 4, -1]) {
      const dir = await bare();
      const w = readFileSync(join(dir, 'weights.bin'));
      const out = Buffer.alloc(w.length + delta);
      w.copy(out, 0, 0, Math.min(w.length, out.length));
      writeFileSync(join(dir, 'weights.bin'), out);
      const err = await loadError(dir);
      expectClear(err, /model\.json/);
      expect(err.message).toContain(dir);
      expect(err.message).toMatch(new RegExp(`hold ${out.length} bytes`));
    }
  });

  it('a weightsManifest or paths that are not arrays are refused naming model.json', async () => {
    const cases: ((j: Json) => void)[] = [
      (j) => {
        (j.weightsManifest[0] as { paths: unknown }).paths = 'weights.bin';
      },
      (j) => {
        (j.weightsManifest[0] as { paths: unknown }).paths = null;
      },
      (j) => {
        (j as Record<string, unknown>).weightsManifest = { paths: ['weights.bin'] };
      },
      (j) => {
        (j.weightsManifest[0] as { weights: unknown }).weights = 'all';
      },
      (j) => {
        (j.weightsManifest[0] as { weights: unknown }).weights = [
          { name: 'dense/kernel', shape: [4, -3], dtype: 'float32' },
        ];
      },
    ];
    for (const [i, change] of cases.entries()) {
      const dir = await bare();
      editModelJson(dir, change);
      const err = await loadError(dir);
      expect(err, `case ${i}: ${err.message}`).toBeInstanceOf(DeepProbError);
      expect(err.message, `case ${i}`).toMatch(/model\.json/);
    }
  });
});

describe('integrity of a deepprob checkpoint', () => {
  it('a manifest with the weights entry dropped does not hide a corrupted weights.bin', async () => {
    const run = tmp();
    const ck = await save(run, 1);
    const w = readFileSync(join(ck, 'weights.bin'));
    w.writeUInt8(w.readUInt8(5) ^ 0x40, 5);
    writeFileSync(join(ck, 'weights.bin'), w);
    const mpath = join(ck, 'manifest.json');
    const m = JSON.parse(readFileSync(mpath, 'utf8')) as { files: Record<string, unknown> };
    delete m.files['weights.bin'];
    writeFileSync(mpath, JSON.stringify(m));
    expectClear(await loadError(run), /weights\.bin/);
  });

  it('Infinity in weights.bin or optimizer.bin (manifest rewritten) is refused naming the file', async () => {
    const run = tmp();
    const ck = await save(run, 1);
    const w = readFileSync(join(ck, 'weights.bin'));
    w.writeFloatLE(Number.NEGATIVE_INFINITY, 8);
    writeFileSync(join(ck, 'weights.bin'), w);
    writeManifest(ck);
    expectClear(await loadError(run), /weights\.bin: weight .* NaN or Infinity/);

    const run2 = tmp();
    const ck2 = await save(run2, 1);
    const o = readFileSync(join(ck2, 'optimizer.bin'));
    o.writeFloatLE(Number.POSITIVE_INFINITY, o.length - 4);
    writeFileSync(join(ck2, 'optimizer.bin'), o);
    writeManifest(ck2);
    const loaded = await loadCheckpoint(run2);
    const before = tf.memory().numTensors;
    expect(() => loaded.optimizerWeights()).toThrow(/optimizer\.bin: optimizer state .* NaN/);
    expect(tf.memory().numTensors).toBe(before);
    loaded.model.dispose();
  });

  it('a save interrupted between its renames (new version only as checkpoint.tmp-*) is recovered as the newest', async () => {
    const run = tmp();
    await save(run, 1);
    // version 2 complete in checkpoint.tmp-<pid>, version 1 moved to checkpoint.old, no checkpoint
    let calls = 0;
    const rename = real.renameSync;
    fsOps.renameSync = ((a: string, b: string) => {
      if (b.endsWith(`${join(run, 'checkpoint')}`) && a.includes('.tmp-')) {
        calls += 1;
        throw new Error('killed');
      }
      return rename(a, b);
    }) as typeof fsOps.renameSync;
    await expect(save(run, 2)).rejects.toThrow('killed');
    Object.assign(fsOps, real);
    expect(calls).toBe(1);
    expect(readdirSync(run).sort()).toEqual(
      expect.arrayContaining(['checkpoint.old', expect.stringMatching(/^checkpoint\.tmp-/)]),
    );
    // read-only resolution (eval) sees version 2 without repairing anything
    expect(resolveCheckpoint(run)).toMatch(/checkpoint\.tmp-/);
    const ck = await loadCheckpoint(run);
    expect(ck.state?.step).toBe(2);
    ck.model.dispose();
    expect(recoverCheckpoint(run)).toBe(join(run, 'checkpoint'));
    expect(readdirSync(run)).toEqual(['checkpoint']);
  });

  it('a disk that fills up during a save: a clear error, the previous version intact, no debris after recovery', async () => {
    const run = tmp();
    await save(run, 1);
    let n = 0;
    fsOps.writeFileSync = ((p: string, d: string | NodeJS.ArrayBufferView) => {
      n += 1;
      if (n === 2) {
        const e = new Error('ENOSPC: no space left on device, write') as NodeJS.ErrnoException;
        e.code = 'ENOSPC';
        throw e;
      }
      return real.writeFileSync(p, d);
    }) as typeof fsOps.writeFileSync;
    const err = await save(run, 2).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    Object.assign(fsOps, real);
    expect(err?.message).toMatch(/ENOSPC|no space/);
    // the error says which run could not be saved
    expect(err?.message).toContain(run);
    const ck = await loadCheckpoint(run);
    expect(ck.state?.step).toBe(1);
    ck.model.dispose();
    recoverCheckpoint(run);
    expect(readdirSync(run)).toEqual(['checkpoint']);
  });

  it('a checkpoint of another architecture copied over model.json + weights.bin (manifest rewritten) is refused', async () => {
    const run = tmp();
    const ck = await save(run, 1, 2);
    const other = tmp();
    const ck2 = await save(other, 1, 5);
    writeFileSync(join(ck, 'model.json'), readFileSync(join(ck2, 'model.json')));
    writeFileSync(join(ck, 'weights.bin'), readFileSync(join(ck2, 'weights.bin')));
    writeManifest(ck);
    expectClear(await loadError(run), /state\.json: belongs to another architecture/);
  });

  it('an empty run folder and a run folder holding only debris are refused naming the folder', async () => {
    const run = tmp();
    expectClear(await loadError(run), /no model\.json/);
    mkdirSync(join(run, 'checkpoint.tmp-99999'));
    writeFileSync(join(run, 'checkpoint.tmp-99999', 'weights.bin'), 'xx');
    expectClear(await loadError(run), /no model\.json/);
    mkdirSync(join(run, 'checkpoint'));
    expectClear(await loadError(run), /checkpoint.*model\.json: missing/);
  });

  it('renaming a complete checkpoint away and back changes nothing (the manifest holds names, not paths)', async () => {
    const run = tmp();
    const ck = await save(run, 4);
    const moved = join(tmp(), 'elsewhere');
    renameSync(ck, moved);
    const loaded = await loadCheckpoint(moved);
    expect(loaded.state?.step).toBe(4);
    loaded.model.dispose();
  });

  it('saving under a pseudo file system (/proc) or below a file fails at once naming the folder (recursive mkdir never returned)', async () => {
    const m = tinyModel();
    const o = tf.train.adam(0.01);
    const state = {
      version: 1 as const,
      epoch: 1,
      step: 1,
      config: {},
      optimizer: {
        name: 'adam' as const,
        learningRate: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-7,
      },
      seed: 1,
      metrics: [],
    };
    const t0 = performance.now();
    await expect(saveCheckpoint('/proc/deepprob-audit14/run', m, o, state)).rejects.toThrow(
      /checkpoint: cannot save in \/proc\/deepprob-audit14\/run/,
    );
    await expect(m.save(fileIO('/proc/deepprob-audit14/model'))).rejects.toThrow(
      /\/proc\/deepprob-audit14/,
    );
    const file = join(tmp(), 'a-file');
    writeFileSync(file, 'x');
    await expect(saveCheckpoint(join(file, 'run'), m, o, state)).rejects.toThrow(/a-file/);
    expect(performance.now() - t0).toBeLessThan(10_000);
    m.dispose();
    o.dispose();
  });
});
