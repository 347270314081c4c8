/**
 * Audit probes (session 16), second batch: Bayesian layers against tfjs's own layers on geometry the
 * seeds do not use (channels-first strided, even dilated kernels, transposed with k < s, masked
 * recurrences), the `weights` argument, what save/load keeps (mode, KL factor, a shared layer),
 * training after loading, and the model-level helpers' refusals.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, setSeed, transforms } from '../../src/index.js';
import { expectBadInput, saveAndLoad } from '../helpers.js';
import { maxDiff, disposeLayer } from '../fixtures/layers.js';

/**
 * A Bayesian layer in mean mode given the weights of a built tfjs layer (kernel, bias) equals it.
 */
function expectMeanEqualsTfjs(
  det: tf.layers.Layer,
  bayes: tf.layers.Layer,
  x: tf.Tensor,
  tol = 1e-5,
): void {
  const yd = det.apply(x) as tf.Tensor;
  (bayes as unknown as { mode: string }).mode = 'mean';
  bayes.build(x.shape);
  const w = bayes.getWeights();
  const dw = det.getWeights();
  bayes.setWeights(dw.length === 2 ? [dw[0]!, w[1]!, dw[1]!, w[3]!] : [dw[0]!, w[1]!]);
  const yb = bayes.apply(x) as tf.Tensor;
  expect(maxDiff(yb, yd)).toBeLessThan(tol);
  tf.dispose([yd, yb]);
  disposeLayer(det);
  disposeLayer(bayes);
}

describe('audit16: Bayesian layers vs tfjs layers on unseen geometry', () => {
  const init = tf.initializers.glorotNormal({ seed: 3 });
  it('channels-first Conv2D, strides 2, same padding, odd input [2, 3, 7, 9]', () => {
    const x = tf.randomNormal([2, 3, 7, 9], 0, 1, 'float32', 1);
    const opts = {
      filters: 4,
      kernelSize: 3,
      strides: 2,
      padding: 'same' as const,
      dataFormat: 'channelsFirst' as const,
    };
    expectMeanEqualsTfjs(
      tf.layers.conv2d({ ...opts, kernelInitializer: init, biasInitializer: 'ones' }),
      layers.convFlipout(opts),
      x,
    );
    x.dispose();
  });

  it('Conv2D with an even kernel [2, 4], dilation [2, 1], same padding', () => {
    const x = tf.randomNormal([1, 8, 7, 2], 0, 1, 'float32', 2);
    const opts = {
      filters: 3,
      kernelSize: [2, 4] as [number, number],
      dilationRate: [2, 1] as [number, number],
      padding: 'same' as const,
    };
    expectMeanEqualsTfjs(
      tf.layers.conv2d({ ...opts, kernelInitializer: init, biasInitializer: 'ones' }),
      layers.convReparam(opts),
      x,
    );
    x.dispose();
  });

  it('Conv2DTranspose with kernel 2 < stride 3, same and valid', () => {
    for (const padding of ['same', 'valid'] as const) {
      const x = tf.randomNormal([2, 3, 4, 2], 0, 1, 'float32', 3);
      const opts = { filters: 2, kernelSize: 2, strides: 3, padding };
      expectMeanEqualsTfjs(
        tf.layers.conv2dTranspose({ ...opts, kernelInitializer: init, biasInitializer: 'ones' }),
        layers.conv2dTransposeLocalReparam(opts),
        x,
      );
      x.dispose();
    }
  });

  it('Conv1D strides 2, same padding, no bias; Dense on a rank-4 input', () => {
    const x = tf.randomNormal([2, 9, 3], 0, 1, 'float32', 4);
    const opts = {
      filters: 2,
      kernelSize: 3,
      strides: 2,
      padding: 'same' as const,
      useBias: false,
    };
    expectMeanEqualsTfjs(
      tf.layers.conv1d({ ...opts, kernelInitializer: init }),
      layers.conv1dReparam(opts),
      x,
    );
    const x4 = tf.randomNormal([2, 3, 2, 5], 0, 1, 'float32', 5);
    expectMeanEqualsTfjs(
      tf.layers.dense({ units: 3, kernelInitializer: init, biasInitializer: 'ones' }),
      layers.denseLocalReparam({ units: 3 }),
      x4,
    );
    tf.dispose([x, x4]);
  });

  it("the tfjs 'weights' argument sets the initial posterior (mu, rho) as in tf.layers.dense", () => {
    const w = [
      tf.tensor2d([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      tf.fill([3, 2], -5),
      tf.tensor1d([0.5, -0.5]),
      tf.fill([2], -6),
    ];
    const l = layers.denseReparam({ units: 2, inputShape: [3], weights: w });
    const m = tf.sequential({ layers: [l] });
    const got = l.getWeights();
    got.forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(w[i]!.dataSync())));
    tf.dispose(w);
    layers.disposeModel(m);
  });

  it('Embedding(maskZero) -> Bayesian GRU / LSTM: masked steps are skipped, mean mode = tfjs with the same weights', () => {
    const tokens = tf.tensor2d([
      [3, 1, 0, 0],
      [2, 2, 4, 1],
    ]);
    for (const kind of ['gru', 'lstm'] as const) {
      const emb = tf.layers.embedding({
        inputDim: 5,
        outputDim: 3,
        maskZero: true,
        embeddingsInitializer: init,
      });
      const inp = tf.input({ shape: [4] });
      const e = emb.apply(inp) as tf.SymbolicTensor;
      const det =
        kind === 'gru'
          ? tf.layers.gru({ units: 2, kernelInitializer: init })
          : tf.layers.lstm({ units: 2, kernelInitializer: init });
      const dnn = tf.model({ inputs: inp, outputs: det.apply(e) as tf.SymbolicTensor });
      const bay =
        kind === 'gru'
          ? layers.gruFlipout({ units: 2, mode: 'mean' })
          : layers.lstmReparam({ units: 2, mode: 'mean' });
      const bnn = tf.model({ inputs: inp, outputs: bay.apply(e) as tf.SymbolicTensor });
      // Bayesian K = [W; U] (the tfjs kernel over its recurrent kernel), bias as is
      const [k, u, b] = det.getWeights();
      const ws = bay.getWeights();
      const kk = tf.concat([k!, u!], 0);
      bay.setWeights([kk, ws[1]!, b!, ws[3]!]);
      const y1 = dnn.predict(tokens) as tf.Tensor;
      const y2 = bnn.predict(tokens) as tf.Tensor;
      expect(maxDiff(y1, y2)).toBeLessThan(1e-5);
      // masked steps carry the state: zero-padding the second row's tail changes nothing
      const padded = tf.tensor2d([[3, 1, 0, 0]]);
      const y3 = bnn.predict(padded) as tf.Tensor;
      expect(maxDiff(y3, y2.slice([0, 0], [1, 2]))).toBe(0);
      tf.dispose([kk, y1, y2, y3, padded]);
      layers.disposeModel(bnn); // also frees the shared embedding
      disposeLayer(det);
    }
    tokens.dispose();
  });
});

describe('audit16: what save/load keeps', () => {
  it('mode, klScale and the prior come back; a loaded model keeps training with compileBayesian', async () => {
    setSeed(2);
    const m = tf.sequential({
      layers: [
        layers.denseFlipout({
          inputShape: [2],
          units: 6,
          activation: 'tanh',
          prior: layers.scaleMixturePrior(0.5, 1, 0.05),
        }),
        layers.denseReparam({ units: 1, priorSigma: 0.7 }),
      ],
    });
    layers.setMode(m, 'mean');
    layers.setKLScale(m, 1 / 32);
    const back = await saveAndLoad(m);
    const bl = layers.bayesianLayers(back);
    expect(bl.map((l) => l.mode)).toEqual(['mean', 'mean']);
    expect(bl.map((l) => l.klScale)).toEqual([1 / 32, 1 / 32]);
    expect(bl[0]!.getConfig().prior).toEqual({
      type: 'scaleMixture',
      pi: 0.5,
      sigma1: 1,
      sigma2: 0.05,
    });
    expect(bl[1]!.getConfig().prior).toEqual({ type: 'normal', mu: 0, sigma: 0.7 });
    layers.setMode(back, 'sample');
    layers.compileBayesian(back, {
      datasetSize: 32,
      optimizer: tf.train.adam(0.05),
      loss: 'meanSquaredError',
    });
    const x = tf.randomUniform([32, 2], -1, 1, 'float32', 3);
    const y = tf.tidy(() => x.sum(1, true));
    const before = bl.map((l) => Array.from(l.getWeights()[0]!.dataSync()));
    const h = await back.fit(x, y, { epochs: 15, batchSize: 16, verbose: 0 });
    const loss = h.history.loss as number[];
    expect(loss[loss.length - 1]!).toBeLessThan(loss[0]!);
    const after = bl.map((l) => Array.from(l.getWeights()[0]!.dataSync()));
    expect(after).not.toEqual(before);
    tf.dispose([x, y]);
    layers.disposeModel(m);
    layers.disposeModel(back);
  });

  it("a Bidirectional (tfjs's and BidirectionalVariational) over a Bayesian GRU keeps mode and klScale through save/load", async () => {
    for (const which of ['tfjs', 'deepprob'] as const) {
      const rnn = layers.gruFlipout({ units: 2, returnSequences: true });
      const bi =
        which === 'tfjs'
          ? tf.layers.bidirectional({ layer: rnn as unknown as tf.RNN, inputShape: [3, 4] })
          : new layers.BidirectionalVariational({ layer: rnn, inputShape: [3, 4] });
      const m = tf.sequential({
        layers: [bi, tf.layers.timeDistributed({ layer: layers.denseReparam({ units: 2 }) })],
      });
      layers.compileBayesian(m, { datasetSize: 50, optimizer: 'sgd', loss: 'meanSquaredError' });
      layers.setMode(m, 'mean');
      const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 7);
      const y1 = m.predict(x) as tf.Tensor;
      const back = await saveAndLoad(m);
      const bl = layers.bayesianLayers(back);
      expect(
        bl.map((l) => l.mode),
        which,
      ).toEqual(['mean', 'mean', 'mean']);
      expect(
        bl.map((l) => l.klScale),
        which,
      ).toEqual([1 / 50, 1 / 50, 1 / 50]);
      const y2 = back.predict(x) as tf.Tensor;
      expect(maxDiff(y1, y2), which).toBe(0);
      tf.dispose([x, y1, y2]);
      layers.disposeModel(m);
      layers.disposeModel(back);
    }
  });

  it('a shared Bayesian layer stays one layer after load: same weights object for both branches, KL once', async () => {
    const shared = layers.denseLocalReparam({ units: 2, name: 'tied' });
    const a = tf.input({ shape: [3] });
    const b = tf.input({ shape: [3] });
    const out = tf.layers
      .concatenate()
      .apply([shared.apply(a) as tf.SymbolicTensor, shared.apply(b) as tf.SymbolicTensor]);
    const m = tf.model({ inputs: [a, b], outputs: out as tf.SymbolicTensor });
    const back = await saveAndLoad(m);
    expect(layers.bayesianLayers(back)).toHaveLength(1);
    layers.setMode(back, 'mean');
    const x = tf.randomNormal([2, 3], 0, 1, 'float32', 6);
    const y = back.predict([x, x]) as tf.Tensor;
    const v = y.dataSync();
    // one posterior: both halves of the concatenation are the same function of the same x
    for (let r = 0; r < 2; r++)
      for (let c = 0; c < 2; c++) expect(v[r * 4 + c]).toBe(v[r * 4 + 2 + c]);
    const losses = back.calculateLosses();
    expect(losses).toHaveLength(1);
    const kl = layers.modelKL(back);
    expect(losses[0]!.dataSync()[0]).toBeCloseTo(kl.dataSync()[0]!, 4);
    tf.dispose([x, y, kl, ...losses]);
    layers.disposeModel(m);
    layers.disposeModel(back);
  });
});

describe('audit16: model-level helper and conversion refusals', () => {
  const small = (): tf.Sequential =>
    tf.sequential({ layers: [layers.denseReparam({ inputShape: [2], units: 1 })] });
  const m = small();
  const dnn = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [5, 5, 1], filters: 2, kernelSize: 3 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2 }),
    ],
  });
  const cases = [
    { call: 'setKLScale NaN', run: () => layers.setKLScale(m, Number.NaN), arg: 'scale' },
    { call: "setMode 'frozen'", run: () => layers.setMode(m, 'frozen' as 'mean'), arg: 'mode' },
    {
      call: 'modelKL of a number',
      run: () => layers.modelKL(3 as unknown as tf.LayersModel),
      arg: 'model',
    },
    {
      call: 'compileBayesian datasetSize 0',
      run: () =>
        layers.compileBayesian(m, { datasetSize: 0, optimizer: 'sgd', loss: 'meanSquaredError' }),
      arg: 'datasetSize',
    },
    {
      call: 'compileBayesian klWeight -1',
      run: () =>
        layers.compileBayesian(m, {
          datasetSize: 10,
          klWeight: -1,
          optimizer: 'sgd',
          loss: 'meanSquaredError',
        }),
      arg: 'klWeight',
    },
    {
      call: "compileBayesian optimizer 'sgdd' (tfjs: raw ValueError)",
      run: () =>
        layers.compileBayesian(m, { datasetSize: 10, optimizer: 'sgdd', loss: 'meanSquaredError' }),
      arg: 'optimizer',
    },
    {
      call: 'compileBayesian without an optimizer',
      run: () =>
        layers.compileBayesian(m, {
          datasetSize: 10,
          loss: 'meanSquaredError',
        } as unknown as layers.CompileBayesianArgs),
      arg: 'optimizer',
    },
    {
      call: "transformToBnnLayer('Conv2D', 'DenseReparam')",
      run: () =>
        new transforms.TransformToBNN(dnn).transformToBnnLayer(
          'Conv2D',
          'DenseReparam' as 'ConvReparam',
        ),
      arg: /bnnLayerType|dnnLayerType/,
    },
    {
      call: "transformToBnnLayer('Dense2', 'DenseReparam')",
      run: () =>
        new transforms.TransformToBNN(dnn).transformToBnnLayer('Dense2' as 'Dense', 'DenseReparam'),
      arg: 'dnnLayerType',
    },
    {
      call: 'addDenseArgs repeating units of the getter',
      run: () =>
        new transforms.TransformToBNN(dnn).transformToBnnModel({
          addDenseArgs: { outChannels: 2 },
        }),
      arg: /addDenseArgs/,
    },
    {
      call: 'getDenseArgs returning a number',
      run: () =>
        new transforms.TransformToBNN(dnn).transformToBnnModel({
          getDenseArgs: (() => 3) as unknown as transforms.GetArgs<transforms.DenseView>,
        }),
      arg: /getDenseArgs/,
    },
  ];
  for (const c of cases) it(c.call, async () => expectBadInput(c));

  it('a convolution on an input smaller than its kernel is refused before any weight is made', async () => {
    for (const make of [
      () => layers.convReparam({ filters: 2, kernelSize: 3 }),
      () => layers.conv1dFlipout({ filters: 2, kernelSize: 4 }),
      () => layers.conv3dLocalReparam({ filters: 1, kernelSize: 3 }),
    ]) {
      const l = make();
      const rank = l.getClassName().startsWith('Conv1D')
        ? 1
        : l.getClassName().startsWith('Conv3D')
          ? 3
          : 2;
      const inp = tf.input({ shape: [...Array<number>(rank).fill(2), 1] });
      await expectBadInput({
        call: l.getClassName(),
        run: () => l.apply(inp),
        arg: 'inputs',
        message: /too small/,
      });
      expect(l.weights).toHaveLength(0);
      expect(l.built).toBe(false);
    }
  });

  it("transformToBnnLayer('Dense', 'DenseFlipout') converts only the Dense; the Conv2D stays", async () => {
    const r = await new transforms.TransformToBNN(dnn).transformToBnnLayer('Dense', 'DenseFlipout');
    expect(r.model.layers.map((l) => l.getClassName())).toEqual([
      'Conv2D',
      'Flatten',
      'DenseFlipout',
    ]);
    layers.disposeModel(r.model);
  });
});
