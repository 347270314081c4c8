import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { denseReparam, setMode } from '../../src/layers/index.js';
import { fileLocation, fileRouter, registerFileScheme } from '../../src/utils/file_scheme.js';
import { ArgumentError } from '../../src/utils/errors.js';

function bayesModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      denseReparam({ inputShape: [3], outChannels: 4, activation: 'relu' }),
      denseReparam({ outChannels: 2 }),
    ],
  });
}

describe('file:// scheme (deepprob/node)', () => {
  it('resolves directories and .json paths like tfjs-node', () => {
    expect(fileLocation('file://runs/m')).toEqual({ dir: 'runs/m', modelFile: 'model.json' });
    expect(fileLocation('file:///tmp/a b/m.json')).toEqual({
      dir: '/tmp/a b',
      modelFile: 'm.json',
    });
    expect(fileLocation('file:///tmp/a%20b/model.json')).toEqual({
      dir: '/tmp/a b',
      modelFile: 'model.json',
    });
    expect(() => fileLocation('file://')).toThrow(ArgumentError);
    expect(() => fileLocation('http://x/model.json')).toThrow(/url: expected a string starting/);
    expect(fileRouter('http://x/model.json')).toBeNull();
    expect(fileRouter(['file://a', 'file://b'])).toBeNull();
  });

  it('model.save("file://dir") and tf.loadLayersModel("file://dir/model.json") round-trip a Bayesian model', async () => {
    registerFileScheme();
    registerFileScheme(); // idempotent: still one handler per URL
    expect(tf.io.getSaveHandlers('file://x')).toHaveLength(1);
    expect(tf.io.getLoadHandlers('file://x/model.json')).toHaveLength(1);
    const root = mkdtempSync(join(tmpdir(), 'deepprob-scheme-'));
    const m = bayesModel();
    setMode(m, 'mean');
    const x = tf.tensor2d([
      [0.1, -0.2, 0.3],
      [1, 2, -1],
    ]);
    const absDir = join(root, 'abs');
    await m.save(pathToFileURL(absDir).href); // file:///...
    expect(readdirSync(absDir).sort()).toEqual(['model.json', 'weights.bin']);
    const relDir = relative(process.cwd(), join(root, 'rel'));
    await m.save(`file://${relDir}`);
    for (const url of [
      `file://${absDir}/model.json`,
      `file://${relDir}/model.json`,
      `file://${relDir}`,
    ]) {
      const back = await tf.loadLayersModel(url);
      setMode(back, 'mean');
      expect(back.layers.map((l) => l.getClassName())).toEqual(['DenseReparam', 'DenseReparam']);
      const a = m.predict(x) as tf.Tensor;
      const b = back.predict(x) as tf.Tensor;
      expect(b).toBeAllclose(a, { rtol: 0, atol: 0 });
      tf.dispose([a, b]);
      back.dispose();
    }
    x.dispose();
    m.dispose();
  });

  it('a missing model names the file', async () => {
    registerFileScheme();
    const dir = join(mkdtempSync(join(tmpdir(), 'deepprob-scheme-')), 'none');
    await expect(tf.loadLayersModel(`file://${dir}/model.json`)).rejects.toThrow(
      /none\/model\.json: cannot read model/,
    );
  });
});
