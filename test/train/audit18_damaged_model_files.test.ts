/**
 * Audit 18 (reliability, round 2): a `model.json` / checkpoint folder damaged in the ways round 1
 * left open. Weight dtypes tfjs cannot decode, unknown quantizations, a weight name listed twice
 * and a missing topology are refused naming `model.json` before a tensor is made; a checkpoint
 * file that is a FIFO, a device (`/dev/zero`) or a symbolic link out of the folder is refused
 * naming it before a byte is read (they hung the load, or hashed a file outside the folder).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenseReparam } from '../../src/layers/index.js';
import { loadCheckpoint, resolveCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { writeManifest } from '../../src/train/manifest.js';
import { DeepProbError } from '../../src/utils/errors.js';
import { fileIO } from '../../src/utils/file_io.js';

const root = mkdtempSync(join(tmpdir(), 'deepprob-a18-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `d${n++}`);

/** A bare model folder (model.save(fileIO)) and a run folder (saveCheckpoint). */
let bare: string;
let run: string;
let manifestJson: {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: Record<string, unknown>[] }[];
};

beforeAll(async () => {
  const m = tf.sequential({
    layers: [new DenseReparam({ inputShape: [3], outChannels: 2 }), tf.layers.dense({ units: 1 })],
  });
  bare = join(root, 'bare');
  await m.save(fileIO(bare));
  manifestJson = JSON.parse(readFileSync(join(bare, 'model.json'), 'utf8')) as typeof manifestJson;
  run = join(root, 'run');
  const o = tf.train.adam(0.01);
  o.minimize(() => tf.sum(m.predict(tf.ones([2, 3])) as tf.Tensor) as tf.Scalar);
  await saveCheckpoint(run, m, o, {
    version: 1,
    epoch: 1,
    step: 1,
    config: { model: 'tiny' },
    optimizer: { name: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    seed: 1,
    metrics: [],
  });
  m.dispose();
  o.dispose();
});

/** A copy of the bare folder whose model.json is `edit`ed. */
function editedBare(edit: (j: typeof manifestJson) => void): string {
  const d = fresh();
  cpSync(bare, d, { recursive: true });
  const j = JSON.parse(JSON.stringify(manifestJson)) as typeof manifestJson;
  edit(j);
  writeFileSync(join(d, 'model.json'), JSON.stringify(j));
  return d;
}

/** Loading `dir` fails with a DeepProbError matching `expected`, and makes no tensor. */
async function refusedLoad(dir: string, expected: RegExp): Promise<string> {
  const before = tf.memory().numTensors;
  const err = await tf.loadLayersModel(fileIO(dir)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, dir).toBeInstanceOf(DeepProbError);
  const msg = (err as Error).message;
  expect(msg).toMatch(expected);
  expect(tf.memory().numTensors).toBe(before);
  return msg;
}

describe('model.json entries tfjs cannot decode are named before any tensor is made', () => {
  it('unknown weight dtypes (was: "Unsupported dtype", "should have 2 values but has 0")', async () => {
    for (const dtype of ['float64', 'string', 'uint8', 'float16', '', 'FLOAT32']) {
      const d = editedBare((j) => {
        (j.weightsManifest[0]?.weights[0] as Record<string, unknown>).dtype = dtype;
      });
      const msg = await refusedLoad(
        d,
        /model\.json: weightsManifest\[0\]\.weights\[0\] \(.*\) has dtype .*: expected one of float32, int32, bool, complex64/,
      );
      expect(msg).toContain(JSON.stringify(dtype));
    }
  });

  it('an unknown quantization dtype', async () => {
    const d = editedBare((j) => {
      (j.weightsManifest[0]?.weights[0] as Record<string, unknown>).quantization = {
        dtype: 'int4',
        scale: 1,
        min: 0,
      };
    });
    await refusedLoad(d, /has quantization dtype "int4": expected one of uint8, uint16, float16/);
  });

  it('a weight name listed twice (was: "1 of 4 weights are not set", and 8 tensors leaked)', async () => {
    const d = editedBare((j) => {
      const w = j.weightsManifest[0]?.weights as Record<string, unknown>[];
      (w[2] as Record<string, unknown>).name = (w[0] as Record<string, unknown>).name;
    });
    await refusedLoad(
      d,
      /model\.json: weight name ".*" appears twice \(weightsManifest\[0\]\.weights\[0\] and weightsManifest\[0\]\.weights\[2\]\)/,
    );
  });

  it('a missing or non-object modelTopology (was: TypeError reading model_config)', async () => {
    for (const t of [undefined, null, 'Sequential', [1]]) {
      const d = editedBare((j) => {
        if (t === undefined) delete (j as { modelTopology?: unknown }).modelTopology;
        else j.modelTopology = t;
      });
      await refusedLoad(
        d,
        /model\.json: modelTopology is .*: expected the model's topology object/,
      );
    }
  });

  it("the folder itself as a weight path ('.') is not said to lead outside", async () => {
    const d = editedBare((j) => {
      (j.weightsManifest[0] as { paths: string[] }).paths = ['.'];
    });
    await refusedLoad(d, /weight path "\." is the folder itself, not a file/);
  });
});

describe('checkpoint files that are not plain files of the folder', () => {
  const files = ['model.json', 'weights.bin', 'state.json', 'optimizer.bin', 'manifest.json'];

  /** A copy of the run whose checkpoint file `name` is replaced by `make(path)`. */
  function replaced(name: string, make: (path: string) => void): string {
    const d = fresh();
    cpSync(run, d, { recursive: true });
    const p = join(d, 'checkpoint', name);
    rmSync(p);
    make(p);
    return d;
  }

  async function refusedCheckpoint(d: string, name: string, expected: RegExp): Promise<void> {
    const before = tf.memory().numTensors;
    const err = await loadCheckpoint(d).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, `${name}`).toBeInstanceOf(DeepProbError);
    const msg = (err as Error).message;
    expect(msg, name).toContain(join(d, 'checkpoint', name));
    expect(msg, name).toMatch(expected);
    expect(tf.memory().numTensors).toBe(before);
  }

  it('a FIFO is refused at once (the load blocked forever on it)', async () => {
    for (const name of files) {
      const d = replaced(name, (p) => execFileSync('mkfifo', [p]));
      await refusedCheckpoint(d, name, /not a regular file/);
    }
  });

  it('a symbolic link to /dev/zero is refused (the load read zeros until memory ran out)', async () => {
    for (const name of files) {
      const d = replaced(name, (p) => symlinkSync('/dev/zero', p));
      await refusedCheckpoint(
        d,
        name,
        /symbolic link that leads outside the folder \(to \/dev\/zero\)/,
      );
    }
  });

  it('a symbolic link to a file outside the folder is refused, not read (the manifest hashed it)', async () => {
    const outside = join(root, 'outside.bin');
    writeFileSync(outside, new Uint8Array(64));
    for (const name of files) {
      const d = replaced(name, (p) => symlinkSync(outside, p));
      await refusedCheckpoint(
        d,
        name,
        /symbolic link that leads outside the folder \(to .*outside\.bin\)/,
      );
    }
  });

  it('a symbolic link inside the folder is a plain file of it', async () => {
    const d = fresh();
    cpSync(run, d, { recursive: true });
    const ck = join(d, 'checkpoint');
    cpSync(join(ck, 'weights.bin'), join(ck, 'weights.dat'));
    rmSync(join(ck, 'weights.bin'));
    symlinkSync(join(ck, 'weights.dat'), join(ck, 'weights.bin'));
    writeManifest(ck);
    const loaded = await loadCheckpoint(d);
    expect(loaded.model.getWeights().length).toBeGreaterThan(0);
    loaded.model.dispose();
  });

  it('a bare model folder whose model.json is a FIFO', async () => {
    const d = fresh();
    cpSync(bare, d, { recursive: true });
    rmSync(join(d, 'model.json'));
    execFileSync('mkfifo', [join(d, 'model.json')]);
    await refusedLoad(d, /model\.json: not a regular file/);
  });

  it("resolveCheckpoint: a checkpoint's model.json names its folder; another file is refused", () => {
    const ck = join(run, 'checkpoint');
    expect(resolveCheckpoint(join(ck, 'model.json'))).toBe(ck);
    expect(() => resolveCheckpoint(join(ck, 'state.json'))).toThrow(
      /state\.json is a file; expected a run folder .* or a checkpoint folder holding model\.json/,
    );
  });
});

describe('weights that do not fit the topology (loadModelFolder)', () => {
  /** loadCheckpoint of an edited bare folder: one error naming model.json, nothing left allocated. */
  async function refusedFit(
    edit: (j: typeof manifestJson) => void,
    reason: RegExp,
    trimBytes = 0,
  ): Promise<void> {
    const d = editedBare(edit);
    const wb = readFileSync(join(d, 'weights.bin'));
    writeFileSync(join(d, 'weights.bin'), wb.subarray(0, wb.length - trimBytes));
    const before = tf.memory().numTensors;
    const variables = Object.keys(tf.engine().registeredVariables).length;
    const err = await loadCheckpoint(d).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeepProbError);
    const msg = (err as Error).message;
    expect(msg).toContain(join(d, 'model.json'));
    expect(msg).toMatch(/does not load as a layers model \(/);
    expect(msg).toMatch(reason);
    expect(msg.split('\n')).toHaveLength(1);
    expect(tf.memory().numTensors, msg).toBe(before);
    expect(Object.keys(tf.engine().registeredVariables)).toHaveLength(variables);
  }

  it('a swapped shape, a foreign dtype, an unknown or a missing weight (tfjs leaked 8 tensors)', async () => {
    const w = (j: typeof manifestJson, i: number): Record<string, unknown> =>
      j.weightsManifest[0]?.weights[i] as Record<string, unknown>;
    // the dense layer's kernel [2, 1] is stored last but one: swap it to [1, 2]
    const k = manifestJson.weightsManifest[0]?.weights.findIndex((e) =>
      String(e.name).endsWith('/kernel'),
    ) as number;
    expect(k).toBeGreaterThanOrEqual(0);
    await refusedFit((j) => {
      w(j, k).shape = [...(w(j, k).shape as number[])].reverse();
    }, /Shape mismatch/);
    await refusedFit((j) => {
      w(j, k).dtype = 'int32';
    }, /dtype/);
    await refusedFit((j) => {
      w(j, k).name = 'nosuch/kernel';
    }, /nosuch\/kernel/);
    // the last weight (the dense bias, 1 value) dropped with its 4 bytes
    const last = manifestJson.weightsManifest[0]?.weights.at(-1) as { shape: number[] };
    expect(last.shape).toEqual([1]);
    await refusedFit(
      (j) => {
        j.weightsManifest[0]?.weights.pop();
      },
      /1 of \d+ weights are not set/,
      4,
    );
  });

  it('an unregistered layer class is named in one line', async () => {
    await refusedFit((j) => {
      const layers = (j.modelTopology as { config: { layers: { class_name: string }[] } }).config
        .layers;
      (layers[0] as { class_name: string }).class_name = 'NoSuchLayer';
    }, /Unknown layer: NoSuchLayer\.\)/);
  });

  it('a good folder loads with the saved weights and leaves only the model', async () => {
    const before = tf.memory().numTensors;
    const loaded = await loadCheckpoint(bare);
    const bytes = readFileSync(join(bare, 'weights.bin'));
    const stored = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    expect(loaded.model.getWeights().flatMap((t) => Array.from(t.dataSync()))).toEqual(stored);
    loaded.model.dispose();
    const again = await loadCheckpoint(run);
    again.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
