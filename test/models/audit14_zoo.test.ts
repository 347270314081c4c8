/**
 * Audit (session 14) of the model zoo as a user who read only the docs would probe it: every
 * factory and registry entry built with other input shapes, channel counts and numbers of classes,
 * plain and Bayesian in each estimator; parameter counts against the closed form of the
 * architecture; a training step; save/load; and bad options (a misspelt key was silently ignored).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { layers, models, setSeed, clearSeed } from '../../src/index.js';
import { expectBadInput, saveAndLoad, type BadInputCase } from '../helpers.js';

afterAll(() => clearSeed());

const ESTS = ['reparam', 'local', 'flipout'] as const;

/**
 * LeNet-5 parameters (MindSpore's: convolutions without bias): conv 6 (5x5), conv 16 (5x5),
 * fc 120, 84, K; `fh x fw` the feature map before flattening.
 */
function lenet5Params(c: number, k: number, fh: number, fw: number): number {
  return 6 * 25 * c + 16 * 25 * 6 + (16 * fh * fw * 120 + 120) + (120 * 84 + 84) + (84 * k + k);
}

describe('zoo models on other shapes and class counts', () => {
  it('plain LeNet-5 parameter counts equal the closed form (32x32x1/10, 32x32x3/5, 28x28x1 classic, 32x40x1)', () => {
    const cases: [models.LeNet5Options, number][] = [
      [{}, lenet5Params(1, 10, 5, 5)],
      [{ inputShape: [32, 32, 3], numClasses: 5 }, lenet5Params(3, 5, 5, 5)],
      [{ inputShape: [28, 28, 1] }, lenet5Params(1, 10, 5, 5)],
      // 32x40: conv5 valid -> 28x36, pool -> 14x18, conv5 -> 10x14, pool -> 5x7
      [{ inputShape: [32, 40, 1], numClasses: 4 }, lenet5Params(1, 4, 5, 7)],
    ];
    // the classic 61,706 less the 22 convolution biases MindSpore's LeNet-5 leaves out
    expect(lenet5Params(1, 10, 5, 5)).toBe(61706 - 22);
    for (const [o, n] of cases) {
      const m = models.lenet5(o);
      expect(m.countParams()).toBe(n);
      const y = m.predict(tf.zeros([2, ...(m.inputs[0]!.shape.slice(1) as number[])])) as tf.Tensor;
      expect(y.shape).toEqual([2, o.numClasses ?? 10]);
      y.dispose();
      layers.disposeModel(m);
    }
  });

  for (const e of ESTS) {
    it(`Bayesian LeNet-5 (${e}) on 32x32x3 with 5 classes: one posterior per plain weight, finite logits and KL, a step lowers nothing to NaN`, () => {
      setSeed(1);
      const m = models.lenet5({ inputShape: [32, 32, 3], numClasses: 5, bayesian: e });
      expect(layers.numBayesianParams(m)).toBe(lenet5Params(3, 5, 5, 5));
      const x = tf.randomUniform([3, 32, 32, 3]);
      const y = tf.tensor1d([0, 4, 2], 'int32');
      const out = m.predict(x) as tf.Tensor;
      expect(out.shape).toEqual([3, 5]);
      expect(out.dataSync().every(Number.isFinite)).toBe(true);
      const kl = layers.modelKL(m);
      expect(Number.isFinite(kl.dataSync()[0] as number)).toBe(true);
      const cell = new layers.ELBOLoss(m, { datasetSize: 100 });
      const opt = tf.train.adam(1e-3);
      const r = cell.trainStep(opt, x, y);
      expect(Number.isFinite(r.loss.dataSync()[0] as number)).toBe(true);
      tf.dispose([out, kl, r.loss, r.nll, r.kl, x, y]);
      opt.dispose();
      layers.disposeModel(m);
    });
  }

  it('AlexNet, 3Conv3FC and the conv 20/50 LeNets on RGB inputs with other class counts', () => {
    setSeed(2);
    const builds: [string, () => tf.Sequential, number[], number][] = [
      [
        'alexnet 40x40x3/6',
        () => models.alexnet({ inputShape: [40, 40, 3], numClasses: 6 }),
        [40, 40, 3],
        6,
      ],
      [
        'bayes alexnet 32x32x3/7',
        () => models.alexnet({ inputShape: [32, 32, 3], numClasses: 7, bayesian: 'flipout' }),
        [32, 32, 3],
        7,
      ],
      [
        '3conv3fc 32x32x3/2',
        () => models.threeConvThreeFC({ inputShape: [32, 32, 3], numClasses: 2 }),
        [32, 32, 3],
        2,
      ],
      [
        'bayes 3conv3fc 24x30x1/3',
        () =>
          models.threeConvThreeFC({
            inputShape: [24, 30, 1],
            numClasses: 3,
            bayesian: 'local',
            activation: 'relu',
          }),
        [24, 30, 1],
        3,
      ],
      [
        'lenet 28x28x3/4',
        () => models.lenet({ inputShape: [28, 28, 3], numClasses: 4 }),
        [28, 28, 3],
        4,
      ],
      [
        'evidential lenet 20x24x1/3',
        () => models.evidentialLenet({ inputShape: [20, 24, 1], numClasses: 3 }),
        [20, 24, 1],
        3,
      ],
      [
        'createModel bayes-lenet5 36x36x2/3',
        () => models.createModel('bayes-lenet5', { inputShape: [36, 36, 2], numClasses: 3 }),
        [36, 36, 2],
        3,
      ],
    ];
    for (const [what, build, shape, k] of builds) {
      const m = build();
      const before = tf.memory().numTensors;
      const y = m.predict(tf.ones([2, ...shape])) as tf.Tensor;
      expect(y.shape, what).toEqual([2, k]);
      expect(y.dataSync().every(Number.isFinite), what).toBe(true);
      y.dispose();
      // the input of predict is disposed by tfjs? no: ours was created inline; account for it
      expect(tf.memory().numTensors - before, what).toBeLessThanOrEqual(1);
      layers.disposeModel(m);
    }
  });

  it('the minimum input side of each registry entry builds and smaller is refused naming inputShape', () => {
    for (const name of ['lenet5', 'alexnet', '3conv3fc', 'lenet'] as const) {
      const e = models.getModelEntry(name);
      const s = e.minInputSide;
      const m = models.createModel(name, { inputShape: [s, s, 1], numClasses: 3 });
      const y = m.predict(tf.zeros([1, s, s, 1])) as tf.Tensor;
      expect(y.shape).toEqual([1, 3]);
      y.dispose();
      layers.disposeModel(m);
      expect(() => models.createModel(name, { inputShape: [s - 1, s, 1] })).toThrow(/inputShape/);
    }
  });

  it('a Bayesian zoo model saves and loads with identical mean-mode predictions', async () => {
    setSeed(3);
    const m = models.lenet5({
      inputShape: [28, 28, 2],
      numClasses: 3,
      bayesian: 'flipout',
      priors: { priorSigma: 0.5 },
    });
    const back = await saveAndLoad(m);
    layers.setMode(m, 'mean');
    layers.setMode(back, 'mean');
    const x = tf.randomUniform([2, 28, 28, 2]);
    const a = m.predict(x) as tf.Tensor;
    const b = back.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(layers.bayesianLayers(back)[0]!.prior).toEqual({ type: 'normal', mu: 0, sigma: 0.5 });
    tf.dispose([x, a, b]);
    layers.disposeModel(m);
    layers.disposeModel(back);
  });
});

describe('bad zoo options are refused naming the option, before any layer is made', () => {
  const cases: BadInputCase[] = [
    {
      call: 'lenet5 misspelt numClass',
      run: () => models.lenet5({ numClass: 3 } as never),
      arg: 'numClass',
    },
    {
      call: 'lenet5 misspelt inputshape',
      run: () => models.lenet5({ inputshape: [28, 28, 1] } as never),
      arg: 'inputshape',
    },
    {
      call: "lenet5 variant 'keras'",
      run: () => models.lenet5({ variant: 'keras' as never }),
      arg: 'variant',
    },
    {
      call: 'alexnet misspelt estimator',
      run: () => models.alexnet({ estimator: 'flipout' } as never),
      arg: 'estimator',
    },
    {
      call: 'threeConvThreeFC misspelt classes',
      run: () => models.threeConvThreeFC({ classes: 4 } as never),
      arg: 'classes',
    },
    {
      call: 'lenet misspelt dropOut',
      run: () => models.lenet({ dropOut: 0.3 } as never),
      arg: 'dropOut',
    },
    {
      call: 'evidentialLenet misspelt prior',
      run: () => models.evidentialLenet({ prior: {} } as never),
      arg: 'prior',
    },
    {
      call: 'lenet5 priors with a misspelt key',
      run: () => models.lenet5({ bayesian: 'reparam', priors: { priorSigm: 1 } as never }),
      arg: 'priorSigm',
    },
    {
      call: 'lenet5 priors negative priorSigma',
      run: () => models.lenet5({ bayesian: 'reparam', priors: { priorSigma: -1 } }),
      arg: 'priorSigma',
    },
    { call: 'lenet5 numClasses 1', run: () => models.lenet5({ numClasses: 1 }), arg: 'numClasses' },
    {
      call: 'alexnet numClasses 2.5',
      run: () => models.alexnet({ numClasses: 2.5 }),
      arg: 'numClasses',
    },
    {
      call: 'lenet5 inputShape of rank 2',
      run: () => models.lenet5({ inputShape: [32, 32] as never }),
      arg: 'inputShape',
    },
    {
      call: 'lenet5 inputShape too small',
      run: () => models.lenet5({ inputShape: [12, 12, 1] }),
      arg: 'inputShape',
    },
    {
      call: "lenet5 bayesian 'mcdropout'",
      run: () => models.lenet5({ bayesian: 'mcdropout' as never }),
      arg: 'bayesian',
    },
    { call: 'lenet dropout 1', run: () => models.lenet({ dropout: 1 }), arg: 'dropout' },
    {
      call: 'createModel unknown key',
      run: () => models.createModel('bayes-lenet5', { numClass: 3 } as never),
      arg: 'numClass',
    },
    {
      call: 'createModel bayesian on a plain model',
      run: () => models.createModel('lenet5', { bayesian: 'reparam' }),
      arg: 'bayesian',
    },
    {
      call: 'createModel unknown name',
      run: () => models.createModel('resnet18', {}),
      arg: 'model',
    },
    {
      call: 'createModel activation on a fixed model',
      run: () => models.createModel('lenet', { activation: 'relu' }),
      arg: 'activation',
    },
    { call: 'lenet5 options null', run: () => models.lenet5(null as never), arg: 'options' },
  ];
  for (const c of cases) it(c.call, async () => expectBadInput(c));
});
