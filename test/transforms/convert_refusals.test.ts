/**
 * DNN -> BNN conversion of damaged or loosely specified inputs: a DNN holding NaN/Infinity is
 * refused naming the weight (in memory and from files), and `convertFile` takes the folder that
 * `model.save('file://dir')` wrote and the documented option defaults.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { convertFile } from '../../src/app/convert.js';
import { setMode } from '../../src/layers/index.js';
import { transformToBnn } from '../../src/transforms/index.js';
import { fileIO } from '../../src/utils/file_io.js';

function mlp(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 3, inputShape: [4], activation: 'relu', name: 'h' }),
      tf.layers.dense({ units: 2, name: 'out' }),
    ],
  });
}

describe('conversion of a DNN with non-finite weights', () => {
  it('is refused naming the weight, before any model is built (no leak)', async () => {
    for (const bad of [NaN, Infinity]) {
      const dnn = mlp();
      const [k, b] = dnn.getLayer('out').getWeights() as [tf.Tensor, tf.Tensor];
      const kb = k.bufferSync();
      kb.set(bad, 1, 0);
      const k2 = kb.toTensor();
      dnn.getLayer('out').setWeights([k2, b]);
      k2.dispose(); // k and b are the layer's own variables
      const before = tf.memory().numTensors;
      await expect(transformToBnn(dnn)).rejects.toThrow(/^model: weight 'out\/kernel' holds NaN/);
      expect(tf.memory().numTensors).toBe(before);
      dnn.dispose();
    }
  });
});

describe('convertFile', () => {
  it('takes the folder model.save wrote, with the default options, and keeps the outputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-convert-folder-'));
    const dnn = mlp();
    await dnn.save(fileIO(join(dir, 'dnn')));
    const res = await convertFile({ model: join(dir, 'dnn'), out: join(dir, 'bnn') });
    expect(res.converted).toEqual(['h', 'out']);
    const meta = JSON.parse(readFileSync(join(dir, 'bnn', 'model.json'), 'utf8')) as {
      userDefinedMetadata: { dnnToBnn: { layers: string; estimator: string; init: string } };
    };
    expect(meta.userDefinedMetadata.dnnToBnn).toMatchObject({
      layers: 'all',
      estimator: 'reparam',
      init: 'dnn',
    });
    const bnn = await tf.loadLayersModel(fileIO(join(dir, 'bnn')));
    setMode(bnn, 'mean');
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
    const [a, b] = [dnn.predict(x) as tf.Tensor, bnn.predict(x) as tf.Tensor];
    expect(b).toBeAllclose(a, { atol: 1e-6 });
    tf.dispose([x, a, b]);
    bnn.dispose();
    dnn.dispose();
  });

  it('refuses a folder without model.json and a weights file holding NaN, naming them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-convert-nan-'));
    await expect(convertFile({ model: dir, out: join(dir, 'o') })).rejects.toThrow(
      /^model: .* is a folder without a model\.json/,
    );
    await expect(convertFile({ model: 3 as never, out: join(dir, 'o') })).rejects.toThrow(
      /^model: expected the path of a model\.json/,
    );
    const dnn = mlp();
    await dnn.save(fileIO(join(dir, 'dnn')));
    dnn.dispose();
    const w = join(dir, 'dnn', 'weights.bin');
    const bytes = readFileSync(w);
    bytes.writeFloatLE(NaN, 4 * 5); // the 6th float: h/kernel
    writeFileSync(w, bytes);
    const before = tf.memory().numTensors;
    await expect(
      convertFile({ model: join(dir, 'dnn', 'model.json'), out: join(dir, 'o') }),
    ).rejects.toThrow(/^model: \S*model\.json: weight 'h\/kernel' holds NaN or Infinity/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
