/**
 * Audit probes (session 14): calibration, OOD metrics and prediction baselines against brute-force
 * float64 references on random data with ties, and the converted BNN behind the predictor
 * interface.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, toolbox, transforms } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput } from '../helpers.js';

describe('audit14: metrics vs brute force', () => {
  const rng = makeRng(42);
  const n = 300;
  const k = 4;
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: k }, () => 3 * rng());
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    rows.push(e.map((v) => Math.fround(v / s)));
    labels.push(Math.floor(rng() * k));
  }

  it('ECE/MCE with (b/B, (b+1)/B] bins, accuracy, NLL, Brier vs float64 loops', () => {
    for (const B of [1, 7, 15]) {
      const cnt = new Array<number>(B).fill(0);
      const hit = new Array<number>(B).fill(0);
      const conf = new Array<number>(B).fill(0);
      rows.forEach((r, i) => {
        const c = Math.max(...r);
        const pred = r.indexOf(c);
        let b = 0;
        while (b < B - 1 && c > (b + 1) / B) b++;
        cnt[b]!++;
        conf[b]! += c;
        if (pred === labels[i]) hit[b]!++;
      });
      let ece = 0;
      let mce = 0;
      for (let b = 0; b < B; b++) {
        if (cnt[b] === 0) continue;
        const gap = Math.abs(hit[b]! / cnt[b]! - conf[b]! / cnt[b]!);
        ece += (cnt[b]! / n) * gap;
        mce = Math.max(mce, gap);
      }
      const got = toolbox.calibration(rows, labels, B);
      expect(got.ece).toBeCloseTo(ece, 6);
      expect(got.mce).toBeCloseTo(mce, 6);
      expect(got.bins.reduce((a, b) => a + b.count, 0)).toBe(n);
    }
    const acc = rows.filter((r, i) => r.indexOf(Math.max(...r)) === labels[i]).length / n;
    expect(toolbox.accuracy(rows, labels)).toBeCloseTo(acc, 10);
    const nllRef = -rows.reduce((a, r, i) => a + Math.log(r[labels[i]!]!), 0) / n;
    expect(toolbox.nll(rows, labels)).toBeCloseTo(nllRef, 4);
    const brier =
      rows.reduce(
        (a, r, i) => a + r.reduce((b, p, j) => b + (p - (j === labels[i] ? 1 : 0)) ** 2, 0),
        0,
      ) / n;
    const gotBrier = toolbox.brierScore(rows, labels);
    // the Brier score summed over classes (or its per-class mean)
    expect(Math.min(Math.abs(gotBrier - brier), Math.abs(gotBrier - brier / k))).toBeLessThan(1e-5);
  });

  it('AUROC (ties 1/2), AUPR (average precision), FPR@95 vs pairwise brute force with heavy ties', () => {
    const inS = Array.from({ length: 57 }, () => Math.floor(rng() * 6));
    const outS = Array.from({ length: 43 }, () => Math.floor(rng() * 6) + 1);
    let u = 0;
    for (const a of outS) for (const b of inS) u += a > b ? 1 : a === b ? 0.5 : 0;
    expect(toolbox.auroc(inS, outS)).toBeCloseTo(u / (inS.length * outS.length), 10);
    // average precision over distinct thresholds
    const thr = [...new Set([...inS, ...outS])].sort((a, b) => b - a);
    let ap = 0;
    let prevR = 0;
    for (const t of thr) {
      const tp = outS.filter((s) => s >= t).length;
      const fp = inS.filter((s) => s >= t).length;
      const r = tp / outS.length;
      ap += (r - prevR) * (tp / (tp + fp));
      prevR = r;
    }
    expect(toolbox.aupr(inS, outS)).toBeCloseTo(ap, 10);
    let fpr = 1;
    for (const t of thr) {
      const tpr = outS.filter((s) => s >= t).length / outS.length;
      if (tpr >= 0.95) {
        fpr = Math.min(fpr, inS.filter((s) => s >= t).length / inS.length);
      }
    }
    expect(toolbox.fprAtTpr(inS, outS)).toBeCloseTo(fpr, 10);
    // swapping the roles mirrors the AUROC
    expect(toolbox.auroc(outS, inS)).toBeCloseTo(1 - u / (inS.length * outS.length), 10);
  });

  it('refuses bad metric inputs naming them', async () => {
    await expectBadInput({
      call: 'bins 0',
      run: () => toolbox.calibration(rows, labels, 0),
      arg: 'numBins',
    });
    await expectBadInput({
      call: 'labels out of range',
      run: () => toolbox.accuracy(rows.slice(0, 2), [0, 9]),
      arg: /labels/,
    });
    await expectBadInput({
      call: 'label count',
      run: () => toolbox.nll(rows.slice(0, 2), [0]),
      arg: /labels/,
    });
    await expectBadInput({
      call: 'empty in-scores',
      run: () => toolbox.auroc([], [1, 2]),
      arg: /inScores|scores/,
    });
    await expectBadInput({
      call: 'NaN score',
      run: () => toolbox.auroc([NaN, 1], [1, 2]),
      arg: /inScores|scores/,
    });
    await expectBadInput({ call: 'tpr 0', run: () => toolbox.fprAtTpr([1], [2], 0), arg: 'tpr' });
  });
});

describe('audit14: baselines through one predictor interface', () => {
  function net(seed: number): tf.LayersModel {
    return tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [3],
          units: 5,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed }),
        }),
        tf.layers.dense({
          units: 4,
          kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 100 }),
        }),
      ],
    });
  }

  it('an ensemble of one model repeated has zero MI; of different models, MI = H[mean] - mean H', () => {
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1);
    const a = net(1);
    const b = net(2);
    const same = toolbox.ensemblePredictor([a, a, a]);
    const ps = same.predictSamples(x, 3);
    expect(ps.shape).toEqual([3, 5, 4]);
    const mi = toolbox.mutualInformation(ps);
    for (const v of mi.dataSync()) expect(Math.abs(v)).toBeLessThan(1e-6);
    const diff = toolbox.ensemblePredictor([a, b]);
    const pd = diff.predictSamples(x, 2);
    const pa = tf.softmax(a.predict(x) as tf.Tensor);
    const pb = tf.softmax(b.predict(x) as tf.Tensor);
    const stacked = tf.stack([pa, pb]);
    expect(Math.max(...Array.from(tf.abs(tf.sub(pd, stacked)).dataSync()))).toBeLessThan(1e-6);
    tf.dispose([ps, mi, pd, pa, pb, stacked, x]);
    a.dispose();
    b.dispose();
  });

  it('a converted BNN behind stochasticPredictor: [S, N, K] rows sum to 1, MI > 0, mean near the DNN', async () => {
    const dnn = net(3);
    const r = await transforms.transformToBnn(dnn, { moped: 0.3 });
    layers.setMode(r.model, 'sample');
    const pred = toolbox.stochasticPredictor(r.model);
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 7);
    const before = tf.memory().numTensors;
    const s = toolbox.predictSamplesBatched(pred, x, 64, 3);
    expect(s.shape).toEqual([64, 4, 4]);
    const sums = tf.sum(s, -1);
    for (const v of sums.dataSync()) expect(v).toBeCloseTo(1, 5);
    const mi = toolbox.mutualInformation(s);
    for (const v of mi.dataSync()) expect(v).toBeGreaterThan(0);
    tf.dispose([sums, mi, s]);
    expect(tf.memory().numTensors).toBe(before);
    r.model.dispose();
    dnn.dispose();
    x.dispose();
  });

  it('mcDropoutPredictor refuses a model without dropout; the ensemble refuses more samples than members', async () => {
    const a = net(4);
    await expectBadInput({
      call: 'no dropout',
      run: () => toolbox.mcDropoutPredictor(a),
      arg: 'model',
    });
    const x = tf.zeros([1, 3]);
    await expectBadInput({
      call: 'too many',
      run: () => toolbox.ensemblePredictor([a]).predictSamples(x, 2),
      arg: 'numSamples',
    });
    await expectBadInput({
      call: 'empty',
      run: () => toolbox.ensemblePredictor([]),
      arg: 'members',
    });
    x.dispose();
    a.dispose();
  });
});
