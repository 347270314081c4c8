import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { models, setSeed } from '../../src/index.js';
import type { ModelEntry } from '../../web/src/manifest.js';
import {
  makeInput,
  predict,
  predictBatch,
  predictFrozen,
  verdict,
  type Prediction,
} from '../../web/src/predict.js';
import { mnistTest } from '../../scripts/web-node.js';

const thresholds = { entropy: 1, epistemic: 0.2, u: 0.5, note: 'test' };
const entry = (id: string, kind: ModelEntry['kind'], size?: number): ModelEntry => ({
  id,
  title: id,
  kind,
  path: `${id}/model.json`,
  transform:
    size === undefined ? { normalize: 'mnist' } : { normalize: 'mnist', size, resize: 'pad' },
  outputs: 'logits',
  thresholds,
  trainedWith: 'test',
  ...(kind === 'evidential' ? { evidence: 'softplus' as const } : {}),
});

describe('web demo predictions (web/src/predict.ts)', () => {
  const { images } = mnistTest(0, 3);
  let bnn: tf.LayersModel;
  let plain: tf.LayersModel;
  let evid: tf.LayersModel;

  beforeAll(() => {
    setSeed(3);
    bnn = models.createModel('bayes-lenet5');
    plain = models.createModel('lenet5');
    evid = models.createModel('evidential-lenet');
  });
  afterAll(() => {
    for (const m of [bnn, plain, evid]) m.dispose();
  });

  it('feeds the training transform: pad 28 -> 32 and (x - 0.1307) / 0.3081', () => {
    const img = images[0] as Float32Array;
    const x = makeInput(entry('m', 'plain', 32), [img]);
    expect(x.shape).toEqual([1, 32, 32, 1]);
    const v = x.dataSync();
    x.dispose();
    expect(v[0]).toBeCloseTo(-0.1307 / 0.3081, 5);
    // Pixel (y, x) = (14, 14) of the digit sits at (16, 16) after padding by 2.
    expect(v[16 * 32 + 16]).toBeCloseTo(((img[14 * 28 + 14] as number) - 0.1307) / 0.3081, 5);
    expect(() => makeInput(entry('m', 'plain'), [new Float32Array(10)])).toThrow(/784/);
  });

  it('Bayesian: S samples, mean of the samples, H = aleatoric + epistemic, no leak', async () => {
    const e = entry('bayes-lenet5', 'bayes', 32);
    await predictBatch(bnn, e, images, 2); // warm up kernels
    const before = tf.memory().numTensors;
    const ps = await predictBatch(bnn, e, images, 8);
    expect(tf.memory().numTensors).toBe(before);
    expect(ps).toHaveLength(3);
    for (const p of ps) {
      expect(p.samples).toHaveLength(8);
      const mean = p.probs.map(
        (_, k) => (p.samples ?? []).reduce((s, r) => s + (r[k] ?? 0), 0) / 8,
      );
      expect(p.probs).toBeAllclose(mean, { atol: 1e-6 });
      expect(p.entropy).toBeCloseTo((p.aleatoric ?? NaN) + (p.epistemic ?? NaN), 5);
      // Weight samples differ, so the samples disagree and the epistemic part is positive.
      expect(p.epistemic ?? 0).toBeGreaterThan(0);
    }
  });

  it('frozen mode is deterministic and matches model.predict in mean mode', async () => {
    const e = entry('bayes-lenet5', 'bayes', 32);
    const a = await predictFrozen(bnn, e, images);
    const b = await predictFrozen(bnn, e, images);
    expect(a).toEqual(b);
    const ref = tf.tidy(() =>
      tf.softmax(bnn.predict(makeInput(e, images)) as tf.Tensor).arraySync(),
    );
    expect(a.flat()).toBeAllclose((ref as number[][]).flat(), { atol: 1e-6 });
  });

  it('plain: one pass, entropy of the softmax', async () => {
    const p = await predict(plain, entry('lenet5', 'plain', 32), images[1] as Float32Array, 20);
    expect(p.samples).toBeUndefined();
    const h = -p.probs.reduce((s, v) => s + (v > 0 ? v * Math.log(v) : 0), 0);
    expect(p.entropy).toBeCloseTo(h, 6);
    expect(p.probs.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
  });

  it('evidential: p = alpha / S and u = K / S with S = K + total evidence', async () => {
    const e = entry('evidential-lenet', 'evidential');
    const [p] = await predictBatch(evid, e, [images[2] as Float32Array], 1);
    const out = tf.tidy(() =>
      tf.softplus(evid.predict(makeInput(e, [images[2] as Float32Array])) as tf.Tensor),
    );
    const ev = Array.from(out.dataSync());
    out.dispose();
    const s = ev.reduce((a, v) => a + v + 1, 0);
    expect(p?.u).toBeCloseTo(10 / s, 5);
    expect(p?.evidence).toBeCloseTo(s - 10, 4);
    expect(p?.probs).toBeAllclose(
      ev.map((v) => (v + 1) / s),
      { atol: 1e-6 },
    );
  });

  it('says "I don\'t know" exactly when a score is above its threshold', () => {
    const base: Prediction = { model: 'm', kind: 'bayes', probs: [0.5, 0.5], entropy: 0.5, top: 0 };
    expect(verdict({ ...base, epistemic: 0.1 }, thresholds).knows).toBe(true);
    expect(verdict({ ...base, epistemic: 0.3 }, thresholds).knows).toBe(false);
    expect(verdict({ ...base, epistemic: 0.1, entropy: 1.5 }, thresholds).knows).toBe(false);
    expect(verdict({ ...base, kind: 'plain', entropy: 1.5 }, thresholds).knows).toBe(false);
    expect(verdict({ ...base, kind: 'plain', entropy: 0.9 }, thresholds).knows).toBe(true);
    expect(verdict({ ...base, kind: 'evidential', u: 0.6 }, thresholds).knows).toBe(false);
    expect(verdict({ ...base, kind: 'evidential', u: 0.4, entropy: 2 }, thresholds).knows).toBe(
      true,
    );
  });
});
