/**
 * Audit probes (session 16), third batch: serialisation paths a TF.js user takes besides
 * `model.save` (`toJSON` + `tf.models.modelFromJSON`), MOPED-prior models through save/load,
 * converting a model twice, a Sequential grown with `model.add`, and the output moments of a
 * grouped (depthwise) Bayesian convolution against a float64 loop by Monte Carlo.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, setSeed, transforms } from '../../src/index.js';
import { saveAndLoad } from '../helpers.js';
import { glorot as g, maxDiff } from '../fixtures/layers.js';

function cnn(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [6, 6, 2],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: g(1),
        biasInitializer: 'ones',
      }),
      tf.layers.batchNormalization(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: g(2) }),
    ],
  });
}

describe('audit16: serialisation and repeated conversion', () => {
  it('toJSON + tf.models.modelFromJSON rebuilds a converted model (then setWeights gives equal predictions)', async () => {
    const dnn = cnn();
    const r = await transforms.transformToBnn(dnn, { estimator: 'local' });
    // toJSON(unused, false) gives the topology object (true: its JSON string)
    const json = JSON.parse(
      r.model.toJSON(undefined, true) as string,
    ) as tf.io.ModelJSON['modelTopology'];
    const back = await tf.models.modelFromJSON({
      modelTopology: json,
    } as unknown as tf.io.ModelJSON);
    expect(back.layers.map((l) => l.getClassName())).toEqual([
      'ConvLocalReparam',
      'BatchNormalization',
      'Flatten',
      'DenseLocalReparam',
    ]);
    back.setWeights(r.model.getWeights());
    layers.setMode(r.model, 'mean');
    layers.setMode(back, 'mean');
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 1);
    const y1 = r.model.predict(x) as tf.Tensor;
    const y2 = back.predict(x) as tf.Tensor;
    expect(maxDiff(y1, y2)).toBe(0);
    tf.dispose([x, y1, y2]);
    [dnn, r.model, back].forEach((m) => layers.disposeModel(m));
  });

  it('mopedPrior models save and load with their prior means: same KL, same classes', async () => {
    const dnn = cnn();
    const r = await transforms.transformToBnn(dnn, {
      mopedPrior: true,
      moped: 0.1,
      estimator: 'flipout',
    });
    const cls = r.model.layers.map((l) => l.getClassName());
    expect(cls[0]).toMatch(/^Moped/);
    // move the posterior away from the prior so the KL is not 0
    const l0 = layers.bayesianLayers(r.model)[0]!;
    const w = l0.getWeights();
    const shifted = tf.add(w[0]!, 0.3);
    l0.setWeights([shifted, ...w.slice(1)]);
    const back = await saveAndLoad(r.model);
    expect(back.layers.map((l) => l.getClassName())).toEqual(cls);
    const k1 = layers.modelKL(r.model);
    const k2 = layers.modelKL(back);
    expect(k1.dataSync()[0]).toBeGreaterThan(0.1);
    expect(k2.dataSync()[0]).toBeCloseTo(k1.dataSync()[0]!, 4);
    tf.dispose([shifted, k1, k2]);
    [dnn, r.model, back].forEach((m) => layers.disposeModel(m));
  });

  it('converting an already converted model changes nothing: no new Bayesian layers, same mean predictions', async () => {
    const dnn = cnn();
    const r1 = await transforms.transformToBnn(dnn, { posteriorSigma: 1e-8 });
    const r2 = await transforms.transformToBnn(r1.model);
    expect(r2.converted).toHaveLength(0);
    expect(r2.model.layers.map((l) => l.getClassName())).toEqual(
      r1.model.layers.map((l) => l.getClassName()),
    );
    layers.setMode(r1.model, 'mean');
    layers.setMode(r2.model, 'mean');
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 2);
    const y1 = r1.model.predict(x) as tf.Tensor;
    const y2 = r2.model.predict(x) as tf.Tensor;
    expect(maxDiff(y1, y2)).toBe(0);
    tf.dispose([x, y1, y2]);
    [dnn, r1.model, r2.model].forEach((m) => layers.disposeModel(m));
  });

  it('a Sequential grown with model.add (Bayesian and plain layers) trains and converts its plain Dense', async () => {
    const m = tf.sequential();
    m.add(layers.denseFlipout({ inputShape: [3], units: 5, activation: 'relu' }));
    m.add(tf.layers.dropout({ rate: 0.1 }));
    m.add(tf.layers.dense({ units: 2, kernelInitializer: g(3) }));
    expect(m.outputs[0]!.shape).toEqual([null, 2]);
    const r = await transforms.transformToBnn(m, { posteriorSigma: 1e-8 });
    expect(r.converted.map((c) => c.name)).toEqual([m.layers[2]!.name]);
    expect(layers.bayesianLayers(r.model)).toHaveLength(2);
    layers.setMode(m, 'mean');
    layers.setMode(r.model, 'mean');
    const x = tf.randomNormal([3, 3], 0, 1, 'float32', 3);
    const y1 = m.predict(x) as tf.Tensor;
    const y2 = r.model.predict(x) as tf.Tensor;
    expect(maxDiff(y1, y2)).toBeLessThan(1e-6);
    tf.dispose([x, y1, y2]);
    layers.disposeModel(r.model);
    layers.disposeModel(m);
  });
});

describe('audit16: grouped (depthwise) Bayesian convolution moments', () => {
  // y[o] = sum over the group of o: x * w + b, w ~ N(mu, s^2) independent:
  // E[y] = conv(x, mu) + mu_b, Var[y] = conv(x^2, s^2) + s_b^2 (every estimator)
  for (const estimator of ['reparam', 'local', 'flipout'] as const) {
    it(`${estimator}: group 2, 4 filters, kernel 2, valid: mean and variance within MC error of the float64 loop`, () => {
      setSeed(17);
      const Cls = layers.ESTIMATOR_CLASSES[estimator].conv;
      const l = new Cls({
        filters: 4,
        kernelSize: 2,
        group: 2,
        posteriorRhoInitial: [-1.5, 0.3],
        posteriorMuInitial: [0, 0.5],
      });
      const H = 3;
      const xs = tf.randomNormal([1, H, H, 2], 0, 1, 'float32', 4);
      l.build(xs.shape);
      const [mu, rho, bmu, brho] = l.getWeights().map((t) => Array.from(t.dataSync()));
      const xv = Array.from(xs.dataSync());
      const sp = (r: number): number => Math.log1p(Math.exp(r));
      // kernel [2, 2, in/group = 1, 4]; output o in group floor(o / 2) reads input channel floor(o / 2)
      const O = H - 1;
      const mean: number[] = [];
      const vari: number[] = [];
      for (let i = 0; i < O; i++)
        for (let j = 0; j < O; j++)
          for (let o = 0; o < 4; o++) {
            const c = Math.floor(o / 2);
            let m = bmu![o]!;
            let v = sp(brho![o]!) ** 2;
            for (let a = 0; a < 2; a++)
              for (let b = 0; b < 2; b++) {
                const xi = xv[((i + a) * H + (j + b)) * 2 + c]!;
                const k = (a * 2 + b) * 4 + o;
                m += xi * mu![k]!;
                v += xi * xi * sp(rho![k]!) ** 2;
              }
            mean.push(m);
            vari.push(v);
          }
      const S = 600;
      const sum = new Float64Array(mean.length);
      const sq = new Float64Array(mean.length);
      for (let s = 0; s < S; s++) {
        const y = l.apply(xs) as tf.Tensor;
        const d = y.dataSync();
        for (let k = 0; k < d.length; k++) {
          sum[k] = sum[k]! + d[k]!;
          sq[k] = sq[k]! + d[k]! * d[k]!;
        }
        y.dispose();
      }
      for (let k = 0; k < mean.length; k++) {
        const m = sum[k]! / S;
        const v = sq[k]! / S - m * m;
        expect(Math.abs(m - mean[k]!), `mean ${k}`).toBeLessThan(5 * Math.sqrt(vari[k]! / S));
        expect(Math.abs(v - vari[k]!), `var ${k}`).toBeLessThan(
          6 * vari[k]! * Math.sqrt(2 / S) + 1e-6,
        );
      }
      xs.dispose();
      l.weights.forEach((w) => w.dispose());
    });
  }
});
