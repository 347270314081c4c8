/**
 * Audit probes (session 14) of `UncertaintyEvaluation` on model shapes the other tests have not
 * seen: a conv classifier with a softmax head, a functional 3-output regressor, a binary sigmoid
 * classifier, a model with its own dropout, the BNN route on regression, an in-memory store round
 * trip, aleatoric variance tracking a known noise level, and bad inputs named before any work.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectBadInput } from '../helpers.js';
import { glorot as g } from '../fixtures/layers.js';

function memoryStore(): toolbox.ModelStore & { saved: Map<string, tf.io.ModelArtifacts> } {
  const saved = new Map<string, tf.io.ModelArtifacts>();
  return {
    saved,
    async save(model, path) {
      await model.save(
        tf.io.withSaveHandler(async (a) => {
          saved.set(path, a);
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
    },
    async load(path) {
      const a = saved.get(path);
      if (a === undefined) throw new Error(`nothing at ${path}`);
      return tf.loadLayersModel(tf.io.fromMemory(a));
    },
  };
}

function convClassifier(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [6, 6, 1],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: g(1),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: g(2) }),
    ],
  });
}

function values(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

describe('audit14: UncertaintyEvaluation on unseen models', () => {
  it('conv softmax classifier: [N, K] epistemic >= 0, [N] aleatoric > 0, saved/reloaded via a custom store to the same aleatoric, no leak', async () => {
    const model = convClassifier();
    const x = tf.randomNormal([24, 6, 6, 1], 0, 1, 'float32', 3);
    const y = tf.tensor1d(
      Array.from({ length: 24 }, (_, i) => i % 3),
      'int32',
    );
    const store = memoryStore();
    const before = tf.memory().numTensors;
    const ue = new toolbox.UncertaintyEvaluation({
      model,
      trainDataset: { x, y },
      taskType: 'classification',
      numClasses: 3,
      epochs: 1,
      batchSize: 8,
      epiUncerModelPath: 'mem://epi',
      aleUncerModelPath: 'mem://ale',
      saveModel: true,
      store,
      seed: 2,
    });
    const probe = tf.randomNormal([5, 6, 6, 1], 0, 1, 'float32', 9);
    const epi = await ue.evalEpistemicUncertainty(probe);
    expect(epi.shape).toEqual([5, 3]);
    const ev = values(epi);
    for (const v of ev) expect(v).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ev)).toBeGreaterThan(0);
    const ale = await ue.evalAleatoricUncertainty(probe);
    expect(ale.shape).toEqual([5]);
    const av = values(ale);
    for (const v of av) expect(v > 0 && Number.isFinite(v)).toBe(true);
    expect([...store.saved.keys()].sort()).toEqual(['mem://ale', 'mem://epi']);
    ue.dispose();
    const ue2 = new toolbox.UncertaintyEvaluation({
      model,
      taskType: 'classification',
      numClasses: 3,
      epiUncerModelPath: 'mem://epi',
      aleUncerModelPath: 'mem://ale',
      store,
    });
    const av2 = values(await ue2.evalAleatoricUncertainty(probe));
    av2.forEach((v, i) => expect(v).toBeCloseTo(av[i]!, 5));
    const epi2 = await ue2.evalEpistemicUncertainty(probe);
    expect(epi2.shape).toEqual([5, 3]);
    epi2.dispose();
    ue2.dispose();
    probe.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('functional 3-output regressor: epistemic [N, 3], aleatoric [N]; the given model is untouched', async () => {
    const inp = tf.input({ shape: [2] });
    const h = tf.layers
      .dense({ units: 8, activation: 'tanh', kernelInitializer: g(1) })
      .apply(inp) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 3, kernelInitializer: g(2) })
      .apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: out });
    const w0 = model.getWeights().map((w) => Array.from(w.dataSync()));
    const x = tf.randomNormal([32, 2], 0, 1, 'float32', 1);
    const y = tf.tidy(() => tf.concat([x, tf.sum(x, 1, true)], 1));
    const ue = new toolbox.UncertaintyEvaluation({
      model,
      trainDataset: { x, y },
      taskType: 'regression',
      epochs: 2,
      batchSize: 8,
    });
    const probe = tf.randomNormal([4, 2], 0, 1, 'float32', 5);
    const epi = await ue.evalEpistemicUncertainty(probe);
    expect(epi.shape).toEqual([4, 3]);
    epi.dispose();
    const ale = await ue.evalAleatoricUncertainty(probe);
    expect(ale.shape).toEqual([4]);
    for (const v of values(ale)) expect(v > 0 && Number.isFinite(v)).toBe(true);
    model.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(w0[i]));
    ue.dispose();
    tf.dispose([x, y, probe]);
    model.dispose();
  });

  it('aleatoric variance follows the true noise variance (sd 0.1 for x < 0, sd 1 for x > 0)', async () => {
    const rng = makeRng(7);
    const n = 512;
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < n; i++) {
      const xi = (i / n) * 4 - 2;
      const u1 = Math.max(rng(), 1e-12);
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng());
      xs.push(xi);
      ys.push(0.5 * xi + (xi < 0 ? 0.1 : 1) * z);
    }
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [1],
          units: 16,
          activation: 'tanh',
          kernelInitializer: g(3),
        }),
        tf.layers.dense({ units: 1, kernelInitializer: g(4) }),
      ],
    });
    const x = tf.tensor2d(xs, [n, 1]);
    const y = tf.tensor1d(ys);
    const ue = new toolbox.UncertaintyEvaluation({
      model,
      trainDataset: { x, y },
      taskType: 'regression',
      epochs: 40,
      batchSize: 64,
      learningRate: 0.02,
      seed: 1,
    });
    const probe = tf.tensor2d([[-1.5], [-1], [1], [1.5]]);
    const v = values(await ue.evalAleatoricUncertainty(probe));
    // true variances 0.01 and 1: the learnt ones are ordered, and differ by a large factor
    expect(Math.min(v[2]!, v[3]!)).toBeGreaterThan(10 * Math.max(v[0]!, v[1]!));
    expect(v[2]!).toBeGreaterThan(0.3);
    expect(v[2]!).toBeLessThan(3);
    ue.dispose();
    tf.dispose([x, y, probe]);
    model.dispose();
  });

  it('a model with its own dropout is sampled as it is; a binary sigmoid classifier gives [N, 2]', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 8, activation: 'relu', kernelInitializer: g(1) }),
        tf.layers.dropout({ rate: 0.3 }),
        tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: g(2) }),
      ],
    });
    const ue = new toolbox.UncertaintyEvaluation({
      model,
      taskType: 'classification',
      numClasses: 2,
      mcSamples: 30,
    });
    expect(await ue.epistemicModel()).toBe(model);
    const probe = tf.randomNormal([4, 3], 0, 1, 'float32', 2);
    const epi = await ue.evalEpistemicUncertainty(probe);
    expect(epi.shape[0]).toBe(4);
    for (const v of values(epi)) expect(v).toBeGreaterThanOrEqual(0);
    ue.dispose();
    probe.dispose();
    model.dispose();
  });

  it("epistemicMethod 'bnn' on a regressor fine-tunes with the ELBO and samples weights", async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [2], units: 6, activation: 'relu', kernelInitializer: g(1) }),
        tf.layers.dense({ units: 2, kernelInitializer: g(2) }),
      ],
    });
    const x = tf.randomNormal([16, 2], 0, 1, 'float32', 3);
    const y = tf.randomNormal([16, 2], 0, 1, 'float32', 4);
    const before = tf.memory().numTensors;
    const ue = new toolbox.UncertaintyEvaluation({
      model,
      trainDataset: { x, y },
      taskType: 'regression',
      epistemicMethod: 'bnn',
      epochs: 1,
      batchSize: 8,
    });
    const probe = tf.randomNormal([3, 2], 0, 1, 'float32', 5);
    const epi = await ue.evalEpistemicUncertainty(probe);
    expect(epi.shape).toEqual([3, 2]);
    const v = values(epi);
    for (const e of v) expect(e > 0 && Number.isFinite(e)).toBe(true);
    ue.dispose();
    probe.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('a model with two outputs is refused naming model', async () => {
    const inp = tf.input({ shape: [2] });
    const a = tf.layers.dense({ units: 2 }).apply(inp) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 1 }).apply(inp) as tf.SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: [a, b] });
    await expectBadInput({
      call: 'two outputs',
      run: () => new toolbox.UncertaintyEvaluation({ model, taskType: 'regression' }),
      arg: 'model',
      message: /one output/,
    });
    model.dispose();
  });

  describe('bad inputs', () => {
    const model = convClassifier();
    const x = tf.randomNormal([6, 6, 6, 1], 0, 1, 'float32', 3);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
    const base = { model, taskType: 'classification' as const, numClasses: 3 };
    const make = (o: object) => () => new toolbox.UncertaintyEvaluation({ ...base, ...o });
    const cases: [string, () => unknown, string | RegExp][] = [
      [
        'numClasses not the output width',
        make({ numClasses: 4, trainDataset: { x, y } }),
        'numClasses',
      ],
      ['numClasses 0', make({ numClasses: 0 }), 'numClasses'],
      [
        'labels out of range',
        () => {
          const yb = tf.tensor1d([0, 1, 3, 0, 1, 2], 'int32');
          try {
            return make({ trainDataset: { x, y: yb } })();
          } finally {
            yb.dispose();
          }
        },
        /trainDataset|y/,
      ],
      [
        'fractional labels',
        () => {
          const yb = tf.tensor1d([0, 1, 0.5, 0, 1, 2]);
          try {
            return make({ trainDataset: { x, y: yb } })();
          } finally {
            yb.dispose();
          }
        },
        /trainDataset|y/,
      ],
      [
        'labels of wrong count',
        () => {
          const yb = tf.tensor1d([0, 1], 'int32');
          try {
            return make({ trainDataset: { x, y: yb } })();
          } finally {
            yb.dispose();
          }
        },
        /trainDataset|y/,
      ],
      [
        'x of the wrong shape',
        () => {
          const xb = tf.zeros([6, 5, 5, 1]);
          try {
            return make({ trainDataset: { x: xb, y } })();
          } finally {
            xb.dispose();
          }
        },
        /trainDataset|x/,
      ],
      [
        'one-hot labels [N, K]',
        () => {
          const yb = tf.oneHot(y, 3);
          try {
            return make({ trainDataset: { x, y: yb } })();
          } finally {
            yb.dispose();
          }
        },
        /trainDataset|y/,
      ],
      ['mcSamples 1', make({ mcSamples: 1 }), 'mcSamples'],
      ['epochs 0.5', make({ epochs: 0.5 }), 'epochs'],
      ['dropoutRate 1', make({ dropoutRate: 1 }), 'dropoutRate'],
      ['learningRate -1', make({ learningRate: -1 }), 'learningRate'],
      ['epistemicMethod ensemble', make({ epistemicMethod: 'ensemble' }), 'epistemicMethod'],
      ['unknown key', make({ mc_samples: 3, numClases: 3 }), /mc_samples|numClases/],
      ['taskType detection', make({ taskType: 'detection' }), 'taskType'],
      [
        'saveModel without paths',
        make({ saveModel: true, trainDataset: { x, y } }),
        /Path|saveModel/,
      ],
      ['model not a LayersModel', make({ model: {} }), 'model'],
    ];
    for (const [call, run, arg] of cases) {
      it(`refuses ${call}`, async () => {
        await expectBadInput({ call, run, arg });
      });
    }
    it('refuses evaluation inputs of the wrong shape or with NaN, naming x, before training', async () => {
      const ue = new toolbox.UncertaintyEvaluation({ ...base, trainDataset: { x, y } });
      const wrong = tf.zeros([2, 6, 6, 2]);
      const nan = tf.fill([2, 6, 6, 1], NaN);
      await expectBadInput({
        call: 'wrong shape',
        run: () => ue.evalEpistemicUncertainty(wrong),
        arg: 'x',
      });
      await expectBadInput({ call: 'NaN', run: () => ue.evalAleatoricUncertainty(nan), arg: 'x' });
      await expectBadInput({
        call: 'not a tensor',
        run: () => ue.evalAleatoricUncertainty([[1, 2]] as unknown as tf.Tensor),
        arg: /x/,
      });
      tf.dispose([wrong, nan]);
      ue.dispose();
    });
  });
});

describe('audit14: a Bayesian model given to UncertaintyEvaluation', () => {
  it('is sampled as it is (no data needed): the variance over mcSamples weight draws, modes restored', async () => {
    const { transforms, layers } = await import('../../src/index.js');
    const { setSeed } = await import('../../src/utils/seed.js');
    const dnn = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 5, activation: 'tanh', kernelInitializer: g(1) }),
        tf.layers.dense({ units: 2, kernelInitializer: g(2) }),
      ],
    });
    const r = await transforms.transformToBnn(dnn, { moped: 0.3 });
    layers.setMode(r.model, 'mean');
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const ue = new toolbox.UncertaintyEvaluation({
      model: r.model,
      taskType: 'classification',
      numClasses: 2,
      mcSamples: 6,
    });
    setSeed(9);
    const epi = await ue.evalEpistemicUncertainty(x);
    const got = values(epi);
    // modes are the user's again
    expect(layers.bayesianLayers(r.model).every((l) => l.mode === 'mean')).toBe(true);
    // the same draws by hand: population variance over 6 sampled passes
    setSeed(9);
    layers.setMode(r.model, 'sample');
    const draws: number[][] = [];
    for (let s = 0; s < 6; s++)
      draws.push(values(r.model.apply(x, { training: false }) as tf.Tensor));
    layers.setMode(r.model, 'mean');
    got.forEach((v, i) => {
      const col = draws.map((d) => d[i]!);
      const m = col.reduce((a, b) => a + b, 0) / 6;
      const want = col.reduce((a, b) => a + (b - m) ** 2, 0) / 6;
      expect(v).toBeCloseTo(want, 5);
    });
    expect(Math.max(...got)).toBeGreaterThan(0);
    ue.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    r.model.dispose();
    dnn.dispose();
  });
});
