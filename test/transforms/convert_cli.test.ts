/**
 * `deepprob convert` run in-process on a model written by TF.js's `model.save` (artifacts laid
 * out as tfjs-node's `file://` handler / the tensorflowjs converter do: model.json + shards).
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/convert.js';
import { buildProgram } from '../../src/cli/main.js';
import { setMode } from '../../src/layers/index.js';
import { fileIO } from '../../src/utils/file_io.js';
import { vggNet } from './nets.js';

let out: string[] = [];
beforeEach(() => {
  out = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    out.push(a.join(' '));
  });
  vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Save with `model.save` and write model.json + two weight shards, as the converter does. */
async function saveAsFiles(model: tf.LayersModel, dir: string): Promise<string> {
  let art: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      art = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = art as tf.io.ModelArtifacts;
  const bytes = new Uint8Array(a.weightData as ArrayBuffer);
  const half = 4 * Math.floor(bytes.length / 8);
  writeFileSync(join(dir, 'group1-shard1of2.bin'), bytes.subarray(0, half));
  writeFileSync(join(dir, 'group1-shard2of2.bin'), bytes.subarray(half));
  const json = {
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [
      { paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: a.weightSpecs },
    ],
  };
  const path = join(dir, 'model.json');
  writeFileSync(path, JSON.stringify(json));
  return path;
}

function program(): Command {
  const p = new Command('deepprob').exitOverride().configureOutput({ writeErr: () => {} });
  register(p);
  return p;
}

describe('deepprob convert', () => {
  it('is registered on the deepprob program', () => {
    expect(buildProgram().commands.map((c) => c.name())).toContain('convert');
  });

  it('converts a model.json saved by model.save and saves a loadable Bayesian model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-convert-'));
    const dnn = vggNet();
    const modelPath = await saveAsFiles(dnn, dir);
    const outDir = join(dir, 'bnn');
    await program().parseAsync([
      'node',
      'deepprob',
      'convert',
      '--model',
      modelPath,
      '--out',
      outDir,
      '--layers',
      'dense',
      '--estimator',
      'flipout',
      '--posterior-sigma',
      '1e-8',
    ]);
    const text = out.join('\n');
    expect(text).toMatch(/\(fc1\) DenseFlipout {2}\[Bayesian\]/);
    expect(text).toMatch(/\(block1_conv1\) Conv2D/);
    expect(text).toMatch(/converted 2 layer\(s\) \(fc1, predictions\)/);
    // Saved atomically: only the final files, no temporaries.
    expect(readdirSync(outDir).sort()).toEqual(['model.json', 'weights.bin']);
    const meta = JSON.parse(readFileSync(join(outDir, 'model.json'), 'utf8')) as {
      userDefinedMetadata: { dnnToBnn: { estimator: string; converted: unknown[] } };
    };
    expect(meta.userDefinedMetadata.dnnToBnn.estimator).toBe('flipout');
    expect(meta.userDefinedMetadata.dnnToBnn.converted).toHaveLength(2);

    const bnn = await tf.loadLayersModel(fileIO(outDir));
    expect(bnn.layers.map((l) => l.getClassName())).toEqual(
      dnn.layers.map((l) => (l.getClassName() === 'Dense' ? 'DenseFlipout' : l.getClassName())),
    );
    const x = tf.randomNormal([2, 16, 16, 3]);
    setMode(bnn, 'mean');
    const [a, b] = [dnn.predict(x) as tf.Tensor, bnn.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    bnn.dispose();
    dnn.dispose();
  });

  it('rejects bad options and missing files naming the option', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-convert-'));
    const run = (args: string[]) =>
      program().parseAsync(['node', 'deepprob', 'convert', '--out', join(dir, 'o'), ...args]);
    await expect(run(['--model', join(dir, 'nope.json')])).rejects.toThrow(
      /^model: cannot load a TF.js layers model/,
    );
    await expect(run(['--model', 'm.json', '--estimator', 'mc'])).rejects.toThrow(
      /expected one of reparam, local, flipout/,
    );
    await expect(
      run(['--model', 'm.json', '--moped', '0.1', '--posterior-sigma', '0.01']),
    ).rejects.toThrow(/either --moped or --posterior-sigma/);
    expect(existsSync(join(dir, 'o'))).toBe(false);
  });
});
