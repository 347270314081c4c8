/**
 * Bayesian layers inside tfjs models: save -> load round trip (through JSON, as a file handler
 * would), the mode switch, model helpers, the functional API, and `model.fit` minimising the
 * data loss plus the layers' KL.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BayesianLayer,
  bayesianLayers,
  ConvFlipout,
  ConvLocalReparam,
  convReparam,
  DenseFlipout,
  DenseLocalReparam,
  denseLocalReparam,
  DenseReparam,
  modelKL,
  numBayesianParams,
  restoreModes,
  scaleMixturePrior,
  setKLScale,
  setMode,
} from '../../src/layers/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { fixedArray } from './reference.js';

beforeAll(() => setSeed(7));
afterAll(() => clearSeed());

function buildModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      convReparam({
        inChannels: 1,
        outChannels: 3,
        kernelSize: 3,
        padMode: 'valid',
        inputShape: [8, 8, 1],
        activation: 'relu',
      }),
      new ConvLocalReparam({
        outChannels: 4,
        kernelSize: 3,
        padMode: 'pad',
        padding: [1, 0, 1, 0],
        hasBias: true,
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      new ConvFlipout({ outChannels: 4, kernelSize: 2, group: 2, dilation: 1, stride: 1 }),
      tf.layers.flatten(),
      new DenseFlipout({ outChannels: 6, activation: 'hard_sigmoid', prior: scaleMixturePrior() }),
      tf.layers.dense({ units: 5, activation: 'relu' }),
      denseLocalReparam({ outChannels: 4, priorSigma: 0.3, posteriorRhoInitial: [-4, 0.05] }),
      new DenseReparam({ outChannels: 3, hasBias: false, klScale: 0.01, mode: 'sample' }),
    ],
  });
}

async function roundTrip(model: tf.LayersModel): Promise<tf.LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (artifacts === undefined) throw new Error('nothing saved');
  // through JSON text, as a file-based handler stores the topology
  const json = JSON.parse(
    JSON.stringify({ modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs }),
  ) as tf.io.ModelArtifacts;
  return tf.loadLayersModel(tf.io.fromMemory({ ...json, weightData: artifacts.weightData }));
}

describe('save and load', () => {
  it('restores configs, identical posterior parameters and identical frozen predictions', async () => {
    const model = buildModel();
    const x = tf.tensor(fixedArray(3 * 64, 1, 0, 1), [3, 8, 8, 1]);
    const loaded = await roundTrip(model);
    const a = bayesianLayers(model);
    const b = bayesianLayers(loaded);
    expect(b.map((l) => l.getClassName())).toEqual([
      'ConvReparam',
      'ConvLocalReparam',
      'ConvFlipout',
      'DenseFlipout',
      'DenseLocalReparam',
      'DenseReparam',
    ]);
    a.forEach((la, i) => {
      const lb = b[i] as BayesianLayer;
      expect(lb.getConfig()).toEqual(la.getConfig());
      expect(lb.prior).toEqual(la.prior);
      expect(lb.klScale).toBe(la.klScale);
    });
    expect(b[3]!.prior).toEqual({ type: 'scaleMixture', pi: 0.5, sigma1: 1, sigma2: Math.exp(-6) });
    expect(b[3]!.activation).toBe('hardSigmoid');
    const wa = model.getWeights();
    const wb = loaded.getWeights();
    expect(wb.length).toBe(wa.length);
    wa.forEach((t, i) => expect(Array.from(wb[i]!.dataSync())).toEqual(Array.from(t.dataSync())));

    setMode(model, 'mean');
    setMode(loaded, 'mean');
    const ya = model.predict(x) as tf.Tensor;
    const yb = loaded.predict(x) as tf.Tensor;
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    // the saved mode is part of the config; sampling gives different outputs per call
    setMode(loaded, 'sample');
    const s1 = loaded.predict(x) as tf.Tensor;
    const s2 = loaded.predict(x) as tf.Tensor;
    expect(Array.from(s1.dataSync())).not.toEqual(Array.from(s2.dataSync()));
    const ka = modelKL(model);
    const kb = modelKL(loaded);
    expect(kb).toBeAllclose(ka, { rtol: 0.5 }); // MC part (scale mixture) differs by sampling
    tf.dispose([x, ya, yb, s1, s2, ka, kb]);
    model.dispose();
    loaded.dispose();
  });
});

describe('model helpers', () => {
  it('setMode/restoreModes, bayesianLayers in nested and functional models', () => {
    const inner = tf.sequential({
      layers: [new DenseReparam({ inChannels: 4, outChannels: 3, inputShape: [4] })],
    });
    const input = tf.input({ shape: [4] });
    const h = inner.apply(input) as tf.SymbolicTensor;
    const out = new DenseFlipout({ outChannels: 2 }).apply(
      tf.layers.dense({ units: 3 }).apply(h) as tf.SymbolicTensor,
    ) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const layers = bayesianLayers(model);
    expect(layers.map((l) => l.getClassName())).toEqual(['DenseReparam', 'DenseFlipout']);
    expect(numBayesianParams(model)).toBe(4 * 3 + 3 + 3 * 2 + 2);
    const prev = setMode(model, 'mean');
    expect(prev).toEqual(['sample', 'sample']);
    const x = tf.ones([2, 4]);
    const y1 = model.predict(x) as tf.Tensor;
    const y2 = model.predict(x) as tf.Tensor;
    expect(Array.from(y1.dataSync())).toEqual(Array.from(y2.dataSync()));
    restoreModes(model, prev);
    expect(layers.map((l) => l.mode)).toEqual(['sample', 'sample']);
    expect(() => setMode(model, 'frozen' as 'mean')).toThrow(/mode/);
    const before = tf.memory().numTensors;
    tf.dispose(model.predict(x) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y1, y2]);
    model.dispose();
  });
});

describe('Dense on rank > 2 inputs', () => {
  it('maps the last axis like tf.layers.dense', () => {
    const layer = new DenseLocalReparam({ outChannels: 2, mode: 'mean' });
    const x = tf.tensor3d(fixedArray(2 * 5 * 3, 8), [2, 5, 3]);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 5, 2]);
    expect(layer.computeOutputShape([null, 5, 3])).toEqual([null, 5, 2]);
    const [k, , b] = layer.getWeights();
    const ref = tf.add(tf.matMul(tf.reshape(x, [10, 3]), k!), b!);
    expect(y).toBeAllclose(ref, { rtol: 1e-5, atol: 1e-6 });
    tf.dispose([x, y, ref]);
    layer.dispose();
  });
});

describe('model.fit', () => {
  it('adds klScale * KL to the loss and minimises it with the data loss', async () => {
    // regression y = x w* with a small data set
    const n = 64;
    const xData = fixedArray(n * 3, 5, -1, 1);
    const wStar = [0.5, -1, 2];
    const yData = Array.from({ length: n }, (_, i) =>
      wStar.reduce((a, w, j) => a + w * (xData[i * 3 + j] as number), 0),
    );
    const x = tf.tensor2d(xData, [n, 3]);
    const y = tf.tensor2d(yData, [n, 1]);
    const make = (): tf.Sequential =>
      tf.sequential({
        layers: [
          new DenseFlipout({ inChannels: 3, outChannels: 4, inputShape: [3], priorSigma: 1 }),
          new DenseReparam({ outChannels: 1, priorSigma: 1 }),
        ],
      });
    const model = make();
    setKLScale(model, 1 / n);
    // the layer losses tfjs-layers adds in model.fit are klScale * kl()
    const layer = bayesianLayers(model)[0]!;
    expect(layer.losses).toHaveLength(1);
    const [lossTerm, kl] = tf.tidy(() => [
      layer.losses[0]!().dataSync()[0] as number,
      layer.kl().dataSync()[0] as number,
    ]);
    expect(lossTerm).toBeAllclose(kl / n, { rtol: 1e-5 });

    const meanModeMse = (): number =>
      tf.tidy(() => {
        setMode(model, 'mean');
        const pred = model.predict(x) as tf.Tensor;
        setMode(model, 'sample');
        return tf.losses.meanSquaredError(y, pred).dataSync()[0] as number;
      });
    const mseBefore = meanModeMse();
    model.compile({ optimizer: tf.train.adam(0.1), loss: 'meanSquaredError' });
    const klBefore = tf.tidy(() => modelKL(model).dataSync()[0] as number);
    expect(klBefore).toBeGreaterThan(0);
    const before = tf.memory().numTensors;
    const hist = await model.fit(x, y, { epochs: 20, batchSize: n, verbose: 0 });
    // fit keeps only the optimizer's state: Adam's 2 slots per weight (8 weights) and its 2 powers
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(2 * 8 + 2);
    const losses = hist.history.loss as number[];
    const first = losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const last = losses.slice(-3).reduce((a, b) => a + b) / 3;
    expect(last).toBeLessThan(0.6 * first);
    expect(meanModeMse()).toBeLessThan(0.2 * mseBefore);
    // the reported loss includes the KL term: it is at least KL / n
    const klAfter = tf.tidy(() => modelKL(model).dataSync()[0] as number);
    expect(last).toBeGreaterThan(klAfter / n);

    // the KL term drives training: from the same start, klScale 1 ends with a much smaller KL
    // than klScale 0
    const withKL = make();
    const withoutKL = make();
    withoutKL.setWeights(withKL.getWeights());
    setKLScale(withKL, 1);
    setKLScale(withoutKL, 0);
    const kls: number[] = [];
    for (const m of [withKL, withoutKL]) {
      m.compile({ optimizer: tf.train.adam(0.1), loss: 'meanSquaredError' });
      await m.fit(x, y, { epochs: 8, batchSize: n, verbose: 0 });
      kls.push(tf.tidy(() => modelKL(m).dataSync()[0] as number));
    }
    expect(kls[0]!).toBeLessThan(kls[1]! - 5);
    tf.dispose([x, y]);
    model.dispose();
    withKL.dispose();
    withoutKL.dispose();
  });
});
