/**
 * Issue 18 audit: `model.save('file://...')` / `tf.loadLayersModel('file://...')` as a TF.js user
 * writes them after `import 'deepprob/node'`, off the seed paths: a convolutional Bayesian model
 * written with tfjs argument names, folders that do not exist yet with spaces in their names, a
 * directory URL on load, and the mistakes (a file where the folder should be, bad `fileIO`
 * arguments) refused with an error naming what is wrong instead of a raw `EEXIST`.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileIO, layers, ready } from '../../src/node.js';
import { ArgumentError, DeepProbError } from '../../src/utils/errors.js';

function convModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      layers.convFlipout({
        inputShape: [6, 6, 2],
        filters: 3,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
      }),
      tf.layers.flatten(),
      layers.denseReparam({ units: 4, activation: 'softmax' }),
    ],
  });
}

beforeAll(async () => {
  await ready();
});

describe('file:// with deepprob/node, as a TF.js user writes it', () => {
  it('a Bayesian conv net round-trips through new folders with spaces, loaded by directory URL', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deepprob audit14 '));
    const m = convModel();
    expect(m.layers[0]?.outputShape).toEqual([null, 6, 6, 3]); // padding 'same' kept the size
    layers.setMode(m, 'mean');
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 5);
    const dir = join(root, 'not yet', 'here');
    const res = await m.save(`file://${dir}`);
    expect(res.modelArtifactsInfo.weightDataBytes).toBe(m.countParams() * 4);
    const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
      weightsManifest: { paths: string[] }[];
    };
    expect(manifest.weightsManifest[0]?.paths).toEqual(['weights.bin']);
    for (const url of [
      `file://${dir}/model.json`,
      `file://${dir}`, // a directory URL reads its model.json
      pathToFileURL(join(dir, 'model.json')).href, // file:///...%20... percent-encoded
    ]) {
      const back = await tf.loadLayersModel(url);
      layers.setMode(back, 'mean');
      const a = m.predict(x) as tf.Tensor;
      const b = back.predict(x) as tf.Tensor;
      expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
      // the posterior (every weight: means and scales) is restored exactly
      const wa = m.getWeights();
      const wb = back.getWeights();
      expect(wb.map((w) => w.shape)).toEqual(wa.map((w) => w.shape));
      for (let i = 0; i < wa.length; i++) {
        expect(Array.from(wb[i]?.dataSync() ?? [])).toEqual(Array.from(wa[i]?.dataSync() ?? []));
      }
      tf.dispose([a, b]);
      back.dispose();
    }
    x.dispose();
    m.dispose();
  });

  it('saving where a file is in the way is an ArgumentError naming the folder, not a raw EEXIST', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deepprob-audit14-'));
    writeFileSync(join(root, 'afile'), 'x');
    const m = convModel();
    const before = tf.memory().numTensors;
    for (const path of [join(root, 'afile'), join(root, 'afile', 'below')]) {
      const err = await m.save(`file://${path}`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).argument).toBe('dir');
      expect((err as Error).message).toContain(path);
      expect((err as Error).message).toMatch(/a file is in the way/);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(readFileSync(join(root, 'afile'), 'utf8')).toBe('x');
    m.dispose();
  });

  it('fileIO refuses bad arguments before any file is touched', () => {
    const root = mkdtempSync(join(tmpdir(), 'deepprob-audit14-'));
    const bad: [() => unknown, string][] = [
      [() => fileIO(''), 'dir'],
      [() => fileIO(undefined as unknown as string), 'dir'],
      [() => fileIO(root, { weightsFile: '../up.bin' }), 'weightsFile'],
      [() => fileIO(root, { modelFile: '' }), 'modelFile'],
      [() => fileIO(root, { modelFile: 'a/b.json' }), 'modelFile'],
      [() => fileIO(root, { weights: 'w.bin' } as never), 'weights'],
      [() => fileIO(root, 'model.json' as never), 'options'],
    ];
    for (const [call, arg] of bad) {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err, arg).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).argument).toBe(arg);
    }
  });

  it('custom file names round-trip; loading a folder without a model names the file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'deepprob-audit14-'));
    const m = tf.sequential({ layers: [layers.denseFlipout({ inputShape: [3], units: 2 })] });
    await m.save(fileIO(root, { modelFile: 'net.json', weightsFile: 'net.weights' }));
    expect(readFileSync(join(root, 'net.weights')).length).toBe(m.countParams() * 4);
    const back = await tf.loadLayersModel(`file://${root}/net.json`);
    expect(back.countParams()).toBe(m.countParams());
    mkdirSync(join(root, 'empty'));
    await expect(tf.loadLayersModel(`file://${join(root, 'empty')}`)).rejects.toThrow(
      DeepProbError,
    );
    await expect(tf.loadLayersModel(`file://${join(root, 'empty')}`)).rejects.toThrow(
      /empty\/model\.json: cannot read model/,
    );
    m.dispose();
    back.dispose();
  });
});
