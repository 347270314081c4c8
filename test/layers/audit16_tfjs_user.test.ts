/**
 * Audit probes (session 16) of the Bayesian layers as a TF.js Layers user meets them: shared
 * layers, nested models, multi-output heads, `inputDim`, `trainable`, parameter counts,
 * `summary()`, getConfig/fromConfig of every class, `dispose()`, activations in mean mode vs
 * tfjs's own layers, `predict` batching, `evaluate`.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, setSeed } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { saveAndLoad } from '../helpers.js';
import { maxDiff, disposeLayer } from '../fixtures/layers.js';

/** float64 KL(N(mu, s^2) || N(0, sp^2)) summed over a Bayesian layer's weights. */
function klClosedForm(l: layers.BayesianLayer, priorSigma: number): number {
  const ws = l.getWeights();
  let kl = 0;
  for (let k = 0; k + 1 < ws.length; k += 2) {
    const mu = ws[k]!.dataSync();
    const rho = ws[k + 1]!.dataSync();
    for (let i = 0; i < mu.length; i++) {
      const s = Math.log1p(Math.exp(rho[i]!));
      kl += Math.log(priorSigma / s) + (s * s + mu[i]! * mu[i]!) / (2 * priorSigma ** 2) - 0.5;
    }
  }
  return kl;
}

describe('audit16: Bayesian layers in TF.js models', () => {
  it('a Bayesian Dense shared by two inputs: one posterior, KL counted once in fit and modelKL', async () => {
    setSeed(3);
    const shared = layers.denseFlipout({ units: 2, name: 'shared', priorSigma: 1 });
    const a = tf.input({ shape: [3] });
    const b = tf.input({ shape: [3] });
    const out = tf.layers
      .add()
      .apply([shared.apply(a) as tf.SymbolicTensor, shared.apply(b) as tf.SymbolicTensor]);
    const model = tf.model({ inputs: [a, b], outputs: out as tf.SymbolicTensor });
    expect(layers.bayesianLayers(model)).toHaveLength(1);
    const kl = layers.modelKL(model);
    const want = klClosedForm(shared, 1);
    expect(kl.dataSync()[0]).toBeCloseTo(want, 3);
    kl.dispose();
    // fit with lr 0 in mean mode: loss = mse + klScale * KL, KL counted once
    layers.setMode(model, 'mean');
    layers.compileBayesian(model, {
      datasetSize: 10,
      optimizer: tf.train.sgd(0),
      loss: 'meanSquaredError',
    });
    const xa = tf.randomNormal([4, 3], 0, 1, 'float32', 1);
    const xb = tf.randomNormal([4, 3], 0, 1, 'float32', 2);
    const y = tf.zeros([4, 2]);
    const pred = model.predict([xa, xb]) as tf.Tensor;
    const mse = tf.mean(tf.square(pred)).dataSync()[0]!;
    const h = await model.fit([xa, xb], y, { epochs: 1, batchSize: 4, verbose: 0 });
    expect(h.history.loss![0] as number).toBeCloseTo(mse + want / 10, 3);
    tf.dispose([xa, xb, y, pred]);
    layers.disposeModel(model);
  });

  it('a nested model with a Bayesian layer applied to two inputs adds its KL once; a plain shared regularised layer keeps tfjs count', () => {
    const inner = tf.sequential({
      layers: [layers.denseReparam({ inputShape: [3], units: 2, priorSigma: 0.5 })],
    });
    const reg = tf.layers.dense({ units: 2, kernelRegularizer: tf.regularizers.l2({ l2: 0.1 }) });
    const a = tf.input({ shape: [3] });
    const b = tf.input({ shape: [3] });
    const ya = inner.apply(a) as tf.SymbolicTensor;
    const yb = inner.apply(b) as tf.SymbolicTensor;
    const out = tf.layers
      .concatenate()
      .apply([reg.apply(ya) as tf.SymbolicTensor, reg.apply(yb) as tf.SymbolicTensor]);
    const model = tf.model({ inputs: [a, b], outputs: out as tf.SymbolicTensor });
    const losses = model.calculateLosses();
    const total = losses.reduce((acc, t) => acc + t.dataSync()[0]!, 0);
    const kl = klClosedForm(inner.layers[0] as layers.BayesianLayer, 0.5);
    const k = reg.getWeights()[0]!.dataSync();
    const l2 = 0.1 * Array.from(k).reduce((acc, v) => acc + v * v, 0);
    // KL once (one posterior), the L2 penalty once per application as in stock tfjs
    expect(total).toBeCloseTo(kl + 2 * l2, 3);
    tf.dispose(losses);
    layers.disposeModel(model);
  });

  it("tfjs's own timeDistributed / bidirectional over a Bayesian layer: model.fit's loss = mse + KL of what runs", async () => {
    for (const kind of ['timeDistributed', 'bidirectional'] as const) {
      const m = tf.sequential({
        layers: [
          kind === 'timeDistributed'
            ? tf.layers.timeDistributed({
                layer: layers.denseFlipout({ units: 2 }),
                inputShape: [3, 4],
              })
            : tf.layers.bidirectional({
                layer: layers.lstmFlipout({ units: 2 }) as unknown as tf.RNN,
                inputShape: [3, 4],
              }),
        ],
      });
      layers.setMode(m, 'mean');
      m.compile({ optimizer: tf.train.sgd(0), loss: 'meanSquaredError' });
      const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 12);
      const p = m.predict(x) as tf.Tensor;
      const y = tf.zerosLike(p);
      const h = await m.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 });
      const mse = tf.mean(tf.square(p)).dataSync()[0]!;
      // the KL of the layers the wrapper runs (both directions of the bidirectional one)
      const bl = layers.bayesianLayers(m);
      expect(bl).toHaveLength(kind === 'timeDistributed' ? 1 : 2);
      const kl = bl.reduce((acc, l) => acc + klClosedForm(l, 0.1), 0);
      expect((h.history.loss![0] as number) / (mse + kl), kind).toBeCloseTo(1, 4);
      tf.dispose([x, p, y]);
      layers.disposeModel(m);
    }
  });

  it('inputDim / batchInputShape work as in tf.layers.dense', () => {
    const m1 = tf.sequential({ layers: [layers.denseReparam({ inputDim: 4, units: 3 })] });
    expect(m1.inputs[0]!.shape).toEqual([null, 4]);
    const m2 = tf.sequential({
      layers: [layers.convFlipout({ batchInputShape: [2, 5, 5, 1], filters: 2, kernelSize: 3 })],
    });
    expect(m2.outputs[0]!.shape).toEqual([2, 3, 3, 2]);
    layers.disposeModel(m1);
    layers.disposeModel(m2);
  });

  it('countParams is twice the deterministic count; summary() prints the Bayesian class', () => {
    const m = tf.sequential({
      layers: [
        layers.convReparam({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3 }),
        tf.layers.flatten(),
        layers.denseLocalReparam({ units: 4, useBias: false }),
      ],
    });
    const det = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, useBias: false }),
      ],
    });
    expect(m.countParams()).toBe(2 * det.countParams());
    expect(m.layers[0]!.countParams()).toBe(2 * (3 * 3 * 2 * 3 + 3));
    const lines: string[] = [];
    m.summary(200, undefined, (s: string) => lines.push(s));
    const text = lines.join('\n');
    expect(text).toMatch(/\(ConvReparam\)/);
    expect(text).toMatch(/\(DenseLocalReparam\)/);
    expect(text).toMatch(new RegExp(`Total params: ${m.countParams()}`));
    layers.disposeModel(m);
    layers.disposeModel(det);
  });

  it('trainable: false (argument and property): no trainable weights, fit leaves them, KL still reported', async () => {
    for (const how of ['arg', 'prop'] as const) {
      const l = layers.denseFlipout({
        units: 2,
        inputShape: [3],
        ...(how === 'arg' ? { trainable: false } : {}),
      });
      const m = tf.sequential({ layers: [l, tf.layers.dense({ units: 1 })] });
      if (how === 'prop') l.trainable = false;
      expect(l.trainableWeights).toHaveLength(0);
      expect(l.nonTrainableWeights).toHaveLength(4);
      const before = l.getWeights().map((w) => Array.from(w.dataSync()));
      layers.compileBayesian(m, {
        datasetSize: 8,
        optimizer: tf.train.adam(0.1),
        loss: 'meanSquaredError',
      });
      const x = tf.randomNormal([8, 3], 0, 1, 'float32', 4);
      const y = tf.ones([8, 1]);
      await m.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
      const after = l.getWeights().map((w) => Array.from(w.dataSync()));
      expect(after).toEqual(before);
      const regs = m.calculateLosses();
      expect(regs).toHaveLength(1);
      expect(regs[0]!.dataSync()[0]).toBeCloseTo(
        klClosedForm(l as layers.BayesianLayer, 0.1) / 8,
        3,
      );
      tf.dispose(regs);
      tf.dispose([x, y]);
      layers.disposeModel(m);
    }
  });

  const classes: Array<[string, () => tf.layers.Layer, number[]]> = [
    [
      'DenseReparam',
      () => new layers.DenseReparam({ units: 3, activation: 'tanh', priorSigma: 0.3 }),
      [2, 4],
    ],
    ['DenseLocalReparam', () => new layers.DenseLocalReparam({ units: 3, useBias: false }), [2, 4]],
    [
      'DenseFlipout',
      () => new layers.DenseFlipout({ units: 3, prior: layers.scaleMixturePrior(0.4, 1, 0.01) }),
      [2, 4],
    ],
    [
      'ConvReparam',
      () => new layers.ConvReparam({ filters: 2, kernelSize: [3, 2], strides: 2, padding: 'same' }),
      [1, 5, 6, 2],
    ],
    [
      'ConvLocalReparam',
      () => new layers.ConvLocalReparam({ filters: 2, kernelSize: 3, dilationRate: 2 }),
      [1, 7, 7, 1],
    ],
    [
      'ConvFlipout',
      () => new layers.ConvFlipout({ filters: 2, kernelSize: 3, dataFormat: 'channelsFirst' }),
      [1, 2, 5, 5],
    ],
    [
      'Conv1DReparam',
      () => new layers.Conv1DReparam({ filters: 2, kernelSize: 3, padding: 'causal' }),
      [1, 6, 2],
    ],
    [
      'Conv1DFlipout',
      () => new layers.Conv1DFlipout({ filters: 2, kernelSize: 2, strides: 2 }),
      [1, 6, 2],
    ],
    [
      'Conv2DTransposeReparam',
      () => new layers.Conv2DTransposeReparam({ filters: 2, kernelSize: 3, strides: 2 }),
      [1, 3, 3, 2],
    ],
    [
      'Conv3DFlipout',
      () => new layers.Conv3DFlipout({ filters: 2, kernelSize: 2 }),
      [1, 3, 3, 3, 1],
    ],
    ['LSTMReparam', () => new layers.LSTMReparam({ units: 2, returnSequences: true }), [2, 3, 2]],
    ['GRUFlipout', () => new layers.GRUFlipout({ units: 2 }), [2, 3, 2]],
    [
      'SimpleRNNLocalReparam',
      () => new layers.SimpleRNNLocalReparam({ units: 2, goBackwards: true }),
      [2, 3, 2],
    ],
  ];
  for (const [name, make, shape] of classes) {
    it(`${name}: getConfig is JSON, fromConfig rebuilds an equal config and the same mean output`, () => {
      const l = make();
      expect(l.getClassName()).toBe(name);
      const x = tf.randomNormal(shape, 0, 1, 'float32', 5);
      const y1 = (() => {
        (l as unknown as { mode: string }).mode = 'mean';
        return l.apply(x) as tf.Tensor;
      })();
      const cfg = l.getConfig();
      const json = JSON.parse(JSON.stringify(cfg)) as tf.serialization.ConfigDict;
      expect(json).toEqual(cfg);
      const entry = tf.serialization.SerializationMap.getMap().classNameMap[name]!;
      expect(entry).toBeDefined();
      const [cls, fromConfig] = entry;
      const back = fromConfig(cls, json) as tf.layers.Layer;
      expect(back.getConfig()).toEqual(cfg);
      back.build(shape);
      back.setWeights(l.getWeights());
      const y2 = back.apply(x) as tf.Tensor;
      expect(maxDiff(y1, y2)).toBe(0);
      tf.dispose([x, y1, y2]);
      disposeLayer(l);
      disposeLayer(back);
    });
  }

  it('model.dispose() / disposeModel leave no tensor after predict, fit and save/load', async () => {
    const before = tf.memory().numTensors;
    const m = tf.sequential({
      layers: [
        layers.conv1dFlipout({ inputShape: [6, 2], filters: 3, kernelSize: 3 }),
        tf.layers.globalAveragePooling1d(),
        layers.denseReparam({ units: 2, activation: 'softmax' }),
      ],
    });
    layers.compileBayesian(m, {
      datasetSize: 6,
      optimizer: 'adam',
      loss: 'categoricalCrossentropy',
    });
    const x = tf.randomNormal([6, 6, 2], 0, 1, 'float32', 6);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 0, 1, 1, 0], 'int32'), 2));
    await m.fit(x, y, { epochs: 1, batchSize: 3, verbose: 0 });
    const back = await saveAndLoad(m);
    tf.dispose([m.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor, x, y]);
    m.optimizer.dispose();
    m.dispose();
    back.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  const acts = [
    'relu',
    'elu',
    'selu',
    'sigmoid',
    'hardSigmoid',
    'softplus',
    'softsign',
    'tanh',
    'linear',
    'relu6',
    'swish',
    'mish',
    'gelu',
    'softmax',
  ] as const;
  it('mean mode equals tf.layers.dense / conv2d with the same weights, for every tfjs activation', () => {
    const x = tf.randomNormal([3, 4], 0, 1.5, 'float32', 7);
    const xi = tf.randomNormal([2, 5, 5, 2], 0, 1.5, 'float32', 8);
    for (const activation of acts) {
      const det = tf.layers.dense({
        units: 3,
        activation,
        kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
        biasInitializer: 'ones',
      });
      const yd = det.apply(x) as tf.Tensor;
      const b = layers.denseFlipout({ units: 3, activation, mode: 'mean' });
      b.build([3, 4]);
      const w = b.getWeights();
      b.setWeights([det.getWeights()[0]!, w[1]!, det.getWeights()[1]!, w[3]!]);
      const yb = b.apply(x) as tf.Tensor;
      expect(maxDiff(yb, yd), activation).toBeLessThan(1e-5);
      const detc = tf.layers.conv2d({
        filters: 2,
        kernelSize: 2,
        activation,
        kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }),
        biasInitializer: 'ones',
      });
      const ydc = detc.apply(xi) as tf.Tensor;
      const bc = layers.convLocalReparam({ filters: 2, kernelSize: 2, activation, mode: 'mean' });
      bc.build([2, 5, 5, 2]);
      const wc = bc.getWeights();
      bc.setWeights([detc.getWeights()[0]!, wc[1]!, detc.getWeights()[1]!, wc[3]!]);
      const ybc = bc.apply(xi) as tf.Tensor;
      expect(maxDiff(ybc, ydc), `conv ${activation}`).toBeLessThan(1e-5);
      tf.dispose([yd, yb, ydc, ybc]);
      [det, b, detc, bc].forEach(disposeLayer);
    }
    tf.dispose([x, xi]);
  });

  it('predict with batchSize smaller than N agrees in mean mode; evaluate is the data loss (tfjs leaves losses out)', () => {
    const m = tf.sequential({
      layers: [
        layers.denseReparam({ inputShape: [3], units: 4, activation: 'relu' }),
        layers.denseFlipout({ units: 2 }),
      ],
    });
    layers.compileBayesian(m, { datasetSize: 7, optimizer: 'sgd', loss: 'meanSquaredError' });
    layers.setMode(m, 'mean');
    const x = tf.randomNormal([7, 3], 0, 1, 'float32', 9);
    const y = tf.zeros([7, 2]);
    const p1 = m.predict(x) as tf.Tensor;
    const p2 = m.predict(x, { batchSize: 2 }) as tf.Tensor;
    expect(maxDiff(p1, p2)).toBeLessThan(1e-6);
    const ev = m.evaluate(x, y, { batchSize: 7 }) as tf.Scalar;
    const kl = layers.modelKL(m);
    // tfjs 4.22's evaluate reports the data loss only (its test function adds no layer losses)
    expect(ev.dataSync()[0]).toBeCloseTo(tf.mean(tf.square(p1)).dataSync()[0]!, 5);
    expect(kl.dataSync()[0]).toBeGreaterThan(0);
    // sampling: a second predict differs
    layers.setMode(m, 'sample');
    const s1 = m.predict(x) as tf.Tensor;
    const s2 = m.predict(x) as tf.Tensor;
    expect(maxDiff(s1, s2)).toBeGreaterThan(0);
    tf.dispose([x, y, p1, p2, ev, kl, s1, s2]);
    layers.disposeModel(m);
  });

  it('a nested Sequential of Bayesian layers inside a functional model: modelKL, setMode reach it; save/load keeps mean output', async () => {
    const inner = tf.sequential({
      name: 'inner',
      layers: [
        layers.denseFlipout({ inputShape: [4], units: 3, activation: 'relu' }),
        layers.denseReparam({ units: 3 }),
      ],
    });
    const inp = tf.input({ shape: [4] });
    const h = inner.apply(inp) as tf.SymbolicTensor;
    const out = layers.denseLocalReparam({ units: 2 }).apply(h) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: out });
    expect(layers.bayesianLayers(m)).toHaveLength(3);
    layers.setMode(m, 'mean');
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 10);
    const y1 = m.predict(x) as tf.Tensor;
    const y1b = m.predict(x) as tf.Tensor;
    expect(maxDiff(y1, y1b)).toBe(0);
    const back = await saveAndLoad(m);
    expect(layers.bayesianLayers(back)).toHaveLength(3);
    const y2 = back.predict(x) as tf.Tensor;
    expect(maxDiff(y1, y2)).toBe(0);
    const k1 = layers.modelKL(m);
    const k2 = layers.modelKL(back);
    expect(k2.dataSync()[0]).toBeCloseTo(k1.dataSync()[0]!, 3);
    tf.dispose([x, y1, y1b, y2, k1, k2]);
    layers.disposeModel(m);
    layers.disposeModel(back);
  });

  it('a two-output model (classifier + regressor heads) trains with compileBayesian and per-output losses', async () => {
    const inp = tf.input({ shape: [3] });
    const h = layers.denseFlipout({ units: 8, activation: 'relu' }).apply(inp) as tf.SymbolicTensor;
    const cls = layers
      .denseReparam({ units: 2, activation: 'softmax', name: 'cls' })
      .apply(h) as tf.SymbolicTensor;
    const reg = layers.denseLocalReparam({ units: 1, name: 'reg' }).apply(h) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: [cls, reg] });
    layers.compileBayesian(m, {
      datasetSize: 16,
      optimizer: tf.train.adam(0.02),
      loss: ['categoricalCrossentropy', 'meanSquaredError'],
    });
    const x = tf.randomNormal([16, 3], 0, 1, 'float32', 11);
    const yc = tf.oneHot(
      tf.cast(tf.greater(x.slice([0, 0], [16, 1]).reshape([16]), 0), 'int32'),
      2,
    );
    const yr = x.sum(1, true);
    const hist = await m.fit(x, [yc, yr], { epochs: 25, batchSize: 16, verbose: 0 });
    const l = hist.history.loss as number[];
    expect(l[l.length - 1]!).toBeLessThan(l[0]!);
    expect(Object.keys(hist.history)).toEqual(expect.arrayContaining(['cls_loss', 'reg_loss']));
    const p = m.predict(x) as tf.Tensor[];
    expect(p[0]!.shape).toEqual([16, 2]);
    expect(p[1]!.shape).toEqual([16, 1]);
    tf.dispose([x, yc, yr, ...p]);
    layers.disposeModel(m);
  });

  it('seeded sampling is reproducible: setSeed(s) then predict twice gives the same draws', () => {
    const m = tf.sequential({ layers: [layers.denseReparam({ inputShape: [3], units: 2 })] });
    const x = tf.ones([2, 3]);
    setSeed(42);
    const a = m.predict(x) as tf.Tensor;
    setSeed(42);
    const b = m.predict(x) as tf.Tensor;
    expect(maxDiff(a, b)).toBe(0);
    tf.dispose([a, b, x]);
    layers.disposeModel(m);
  });

  it('bad inputs are ArgumentErrors naming the argument, before work', () => {
    const bad: Array<[() => unknown, string | RegExp]> = [
      [() => layers.denseFlipout({ units: 3, unitz: 4 } as unknown as { units: number }), /unitz/],
      [() => layers.denseFlipout({ units: 0 }), /units|outChannels/],
      [() => layers.denseFlipout({ units: 2.5 }), /units|outChannels/],
      [() => layers.convReparam({ filters: 2, kernelSize: 0 }), /kernelSize/],
      [() => layers.convReparam({ filters: 2, kernelSize: 3, strides: 0 }), /strides|stride/],
      [
        () => layers.convReparam({ filters: 2, kernelSize: 3, padding: 'full' as 'same' }),
        /padding|padMode/,
      ],
      [() => layers.denseReparam({ units: 2, activation: 'sigmoidal' as 'relu' }), /activation/],
      [() => layers.denseReparam({ units: 2, priorSigma: 0 }), /priorSigma|prior/],
      [() => layers.denseReparam({ units: 2, priorSigma: Number.NaN }), /priorSigma|prior/],
      [() => layers.denseReparam({ units: 2, inputDim: 0 }), 'inputDim'],
      [() => layers.denseReparam({ units: 2, inputDim: 2.5 }), 'inputDim'],
    ];
    for (const [f, arg] of bad) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err, String(f)).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).argument, String(f)).toMatch(arg);
    }
  });

  it('a conv layer on an input of the wrong rank, and a Dense on a changed width, are ArgumentErrors', () => {
    const c = layers.convFlipout({ filters: 2, kernelSize: 3 });
    const before = tf.memory().numTensors;
    const x = tf.ones([2, 5, 5]);
    expect(() => c.apply(x)).toThrow(ArgumentError);
    x.dispose();
    const d = layers.denseReparam({ units: 2 });
    const x4 = tf.ones([2, 4]);
    const y = d.apply(x4) as tf.Tensor;
    const x5 = tf.ones([2, 5]);
    expect(() => d.apply(x5)).toThrow(ArgumentError);
    tf.dispose([x4, x5, y]);
    disposeLayer(d);
    expect(tf.memory().numTensors).toBe(before);
  });
});
