/**
 * Bayesian GRU and SimpleRNN layers (the recurrence shared with the LSTM in
 * `recurrent_variational.ts`): in mean mode they are tfjs's own `tf.layers.gru` /
 * `tf.layers.simpleRNN` with the kernel `[W; U]` (returnSequences, goBackwards, masks,
 * activations, no bias); sampled with σ -> 0 every estimator is mean mode; one step with linear
 * activations has the closed-form moments (GRU: `h_1 = (1 - z) h̃`, `E[h] = (1 - m_z) m_h`,
 * `E[h²] = ((1 - m_z)² + v_z)(m_h² + v_h)`; SimpleRNN: `E[h] = m`, `Var[h] = v`, with
 * `m = x mu + mu_b`, `v = x² σ² + σ_b²`), checked by Monte Carlo within 5 standard errors;
 * gradients reach mu and rho and match finite differences at a fixed seed; a `[GRUFlipout, Dense]`
 * model trains with `model.fit`, saves and loads; bad arguments are named.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GRUFlipout,
  GRULocalReparam,
  GRUReparam,
  MopedGRUReparam,
  MopedSimpleRNNFlipout,
  setMode,
  SimpleRNNFlipout,
  SimpleRNNLocalReparam,
  SimpleRNNReparam,
  type RecurrentVariational,
  type RecurrentVariationalArgs,
} from '../../src/layers/index.js';
import * as layers from '../../src/layers/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import {
  expectMaskingAsTfjs,
  expectRecurrentBatchSharing,
  expectRecurrentGradsMatchFd,
  expectRecurrentNoLeak,
  maxAbs,
} from './recurrent_checks.js';
import { expectFitSaveLoad } from './recurrent_fit.js';
import { columnMoments, expectMcMoments } from './recurrent_moments.js';
import { saveAndLoad } from '../helpers.js';

beforeAll(() => setSeed(23));
afterAll(() => clearSeed());

type Args = RecurrentVariationalArgs & { recurrentActivation?: string; resetAfter?: boolean };
type Ctor = new (args: Args) => RecurrentVariational;
const KINDS = {
  gru: {
    gates: 3,
    classes: { reparam: GRUReparam, local: GRULocalReparam, flipout: GRUFlipout },
    dnn: (a: object): tf.layers.Layer => tf.layers.gru(a as Parameters<typeof tf.layers.gru>[0]),
  },
  simpleRnn: {
    gates: 1,
    classes: {
      reparam: SimpleRNNReparam,
      local: SimpleRNNLocalReparam,
      flipout: SimpleRNNFlipout,
    },
    dnn: (a: object): tf.layers.Layer =>
      tf.layers.simpleRNN(a as Parameters<typeof tf.layers.simpleRNN>[0]),
  },
} as const;
type Kind = keyof typeof KINDS;
const KIND_NAMES = Object.keys(KINDS) as Kind[];
const ESTIMATORS = ['reparam', 'local', 'flipout'] as const;
type Est = (typeof ESTIMATORS)[number];

function make(kind: Kind, estimator: Est, args: Args, inC: number): RecurrentVariational {
  const layer = new (KINDS[kind].classes[estimator] as unknown as Ctor)(args);
  layer.apply(tf.input({ shape: [null, inC] })); // builds it (and lets layer.dispose() free it)
  return layer;
}

describe.each(KIND_NAMES)('Bayesian %s: mean mode is the tfjs layer', (kind) => {
  const configs: { name: string; args: Record<string, unknown> }[] = [
    { name: 'last output, defaults', args: {} },
    { name: 'sequences', args: { returnSequences: true } },
    { name: 'goBackwards sequences', args: { returnSequences: true, goBackwards: true } },
    { name: 'goBackwards last', args: { goBackwards: true } },
    {
      name: 'other activations',
      args:
        kind === 'gru'
          ? { recurrentActivation: 'sigmoid', activation: 'relu' }
          : { activation: 'relu' },
    },
    { name: 'no bias', args: { useBias: false, returnSequences: true } },
  ];
  it.each(configs)('$name', ({ args }) => {
    const before = tf.memory().numTensors;
    const [b, t, inC, units] = [3, 5, 4, 3];
    const dnn = KINDS[kind].dnn({ units, ...args });
    const x = tf.randomNormal([b, t, inC], 0, 1, 'float32', 4);
    tf.dispose(dnn.apply(x) as tf.Tensor);
    tf.tidy(() =>
      dnn.setWeights(
        dnn.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.6, 'float32', 10 + i)),
      ),
    );
    const [k, r, bias] = dnn.getWeights();
    const layer = make(kind, 'flipout', { units, mode: 'mean', ...args }, inC);
    expect(layer.getWeights()[0]?.shape).toEqual([inC + units, KINDS[kind].gates * units]);
    tf.tidy(() =>
      layer.setPosterior({
        kernelMu: tf.concat([k as tf.Tensor, r as tf.Tensor], 0),
        ...(bias !== undefined ? { biasMu: bias } : {}),
      }),
    );
    const want = dnn.apply(x) as tf.Tensor;
    const got = layer.apply(x) as tf.Tensor;
    expect(got.shape).toEqual(want.shape);
    expect(got.shape).toEqual(layer.computeOutputShape([b, t, inC]));
    expect(maxAbs(got, want)).toBeLessThan(1e-5);
    tf.dispose([x, want, got]);
    dnn.dispose();
    layer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    { returnSequences: true, goBackwards: false },
    { returnSequences: false, goBackwards: true },
  ])('masked steps (tf.layers.masking) keep the state as tfjs: %o', (opts) => {
    const before = tf.memory().numTensors;
    const units = 3;
    const dnn = KINDS[kind].dnn({ units, ...opts });
    const bnn = new (KINDS[kind].classes.reparam as unknown as Ctor)({
      units,
      mode: 'mean',
      ...opts,
    });
    expectMaskingAsTfjs(dnn, bnn);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.each(KIND_NAMES)('Bayesian %s: sampling', (kind) => {
  it('sigma -> 0: every estimator equals mean mode', () => {
    const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 8);
    for (const e of ESTIMATORS) {
      const layer = make(
        kind,
        e,
        { units: 2, returnSequences: true, posteriorMuInitial: [0, 0.5] },
        3,
      );
      tf.tidy(() => layer.setPosterior({ kernelSigma: 1e-8, biasSigma: 1e-8 }));
      const sampled = layer.apply(x) as tf.Tensor;
      layer.mode = 'mean';
      const mean = layer.apply(x) as tf.Tensor;
      expect(maxAbs(sampled, mean), e).toBeLessThan(1e-5);
      tf.dispose([sampled, mean]);
      layer.dispose();
    }
    x.dispose();
  });

  it('one step, linear activations: E[h] and Var[h] are the closed forms (MC, 5 SE)', () => {
    const inC = 3;
    const units = 2;
    const g = KINDS[kind].gates;
    const xs = [0.8, -1.1, 0.5];
    const n = 800;
    for (const e of ESTIMATORS) {
      const extra = kind === 'gru' ? { recurrentActivation: 'linear' } : {};
      const layer = make(kind, e, { units, activation: 'linear', ...extra }, inC);
      const mu = tf.randomNormal([inC + units, g * units], 0.3, 0.5, 'float32', 31);
      const sigma = tf.randomUniform([inC + units, g * units], 0.2, 0.5, 'float32', 32);
      const bMu = tf.randomNormal([g * units], 0.5, 0.3, 'float32', 33);
      const bSigma = tf.randomUniform([g * units], 0.1, 0.3, 'float32', 34);
      layer.setPosterior({ kernelMu: mu, kernelSigma: sigma, biasMu: bMu, biasSigma: bSigma });
      const { m, v } = columnMoments(xs, {
        M: mu.arraySync() as number[][],
        S: sigma.arraySync() as number[][],
        BM: Array.from(bMu.dataSync()),
        BS: Array.from(bSigma.dataSync()),
      });
      tf.dispose([mu, sigma, bMu, bSigma]);
      const x = tf.tensor([[xs]]);
      const draws: number[][] = [];
      for (let i = 0; i < n; i++) {
        draws.push(tf.tidy(() => Array.from((layer.apply(x) as tf.Tensor).dataSync())));
      }
      x.dispose();
      for (let u = 0; u < units; u++) {
        let mean: number;
        let second: number;
        if (kind === 'gru') {
          // h_1 = z h_0 + (1 - z) h̃ = (1 - z) h̃, z column u, h̃ column 2 units + u
          const [jz, jh] = [u, 2 * units + u];
          mean = (1 - m(jz)) * m(jh);
          second = ((1 - m(jz)) ** 2 + v(jz)) * (m(jh) ** 2 + v(jh));
        } else {
          mean = m(u);
          second = m(u) ** 2 + v(u);
        }
        expectMcMoments(
          draws.map((d) => d[u]!),
          mean,
          second - mean * mean,
          `${e} unit ${u}`,
        );
      }
      layer.dispose();
    }
  });

  it('reparam shares one kernel across the batch, flipout and local decorrelate examples', () => {
    expectRecurrentBatchSharing((e) =>
      make(kind, e, { units: 3, posteriorRhoInitial: [-1, 0] }, 2),
    );
  });

  it.each(ESTIMATORS)('%s: gradients reach mu and rho and match finite differences', (e) => {
    const before = tf.memory().numTensors;
    const layer = make(kind, e, { units: 2, returnSequences: true }, 2);
    expectRecurrentGradsMatchFd(layer, e);
    layer.dispose();
    setSeed(23);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('calls leak no tensors in any mode', () => {
    expectRecurrentNoLeak((e) => make(kind, e, { units: 2, returnSequences: true }, 2));
  });

  it('bad arguments and inputs are named', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{}, /units/],
      [{ units: 0 }, /units/],
      [{ units: 2.5 }, /units/],
      [{ units: 2, outChannels: 8 }, /outChannels/],
      [{ units: 2, stateful: true }, /stateful/],
      [{ units: 2, returnState: 'yes' }, /returnState/],
      [{ units: 2, dropout: 0.2 }, /dropout/],
      [{ units: 2, recurrentDropout: 0.1 }, /recurrentDropout/],
      [{ units: 2, activation: 'nope' }, /activation/],
      [{ units: 2, returnSequences: 'yes' }, /returnSequences/],
      [{ units: 2, useBias: true, hasBias: false }, /useBias/],
      [{ units: 2, recurrentInitializer: 'orthogonal' }, /recurrentInitializer/],
      [{ units: 2, unitForgetBias: true }, /unitForgetBias/],
      ...(kind === 'gru'
        ? ([
            [{ units: 2, resetAfter: true }, /resetAfter/],
            [{ units: 2, recurrentActivation: 'nope' }, /^recurrentActivation: /],
          ] as [Record<string, unknown>, RegExp][])
        : ([[{ units: 2, recurrentActivation: 'sigmoid' }, /recurrentActivation/]] as [
            Record<string, unknown>,
            RegExp,
          ][])),
    ];
    const cls = KINDS[kind].classes.reparam as unknown as Ctor;
    for (const [args, re] of bad) {
      const before = tf.memory().numTensors;
      expect(() => new cls(args as unknown as Args), JSON.stringify(args)).toThrow(ArgumentError);
      expect(() => new cls(args as unknown as Args), JSON.stringify(args)).toThrow(re);
      expect(tf.memory().numTensors).toBe(before);
    }
    const layer = make(kind, 'reparam', { units: 2 }, 3);
    const inputs = [tf.zeros([2, 3]), tf.zeros([2, 4, 2]), tf.zeros([2, 0, 3])];
    const before = tf.memory().numTensors;
    expect(() => layer.apply(inputs[0]!)).toThrow(/inputs/);
    expect(() => layer.apply(inputs[1]!)).toThrow(/inputs.*3 input channels/);
    expect(() => layer.apply(inputs[2]!)).toThrow(/time step/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(inputs);
    layer.dispose();
  });
});

describe('Bayesian GRU / SimpleRNN: training, saving, MOPED', () => {
  it('SimpleRNN with U = 0: reparam and flipout share the kernel sample across steps; local does not', () => {
    // h_t = x_t W + b (linear, U = 0): with x_1 = x_2 the two outputs agree iff the sample is shared
    const xs = [0.7, -0.4];
    const x = tf.tensor([
      [xs, xs],
      [xs, xs],
    ]);
    for (const e of ESTIMATORS) {
      const layer = make(
        'simpleRnn',
        e,
        { units: 3, activation: 'linear', returnSequences: true },
        2,
      );
      tf.tidy(() => {
        const mu = tf.concat([tf.randomNormal([2, 3], 0, 1, 'float32', 3), tf.zeros([3, 3])], 0);
        const sigma = tf.concat([tf.fill([2, 3], 0.8), tf.fill([3, 3], 1e-8)], 0);
        layer.setPosterior({ kernelMu: mu, kernelSigma: sigma, biasSigma: 1e-8 });
        const h = layer.apply(x) as tf.Tensor;
        const [h1, h2] = tf.unstack(h, 1) as [tf.Tensor, tf.Tensor];
        const gap = maxAbs(h1, h2);
        if (e === 'local') expect(gap, e).toBeGreaterThan(0.05);
        else expect(gap, e).toBeLessThan(1e-5);
        layer.mode = 'mean';
        const m = (layer.apply(x) as tf.Tensor).arraySync() as number[][][];
        // and the draws are random: they differ from the mean
        expect(maxAbs(h1, tf.tensor(m.map((r) => r[0]!))), e).toBeGreaterThan(0.05);
      });
      layer.dispose();
    }
    x.dispose();
  });

  it('the lowercase factories make the registered classes', () => {
    const made = [
      layers.gruReparam({ units: 2 }),
      layers.gruLocalReparam({ units: 2 }),
      layers.gruFlipout({ units: 2 }),
      layers.simpleRnnReparam({ units: 2 }),
      layers.simpleRnnLocalReparam({ units: 2 }),
      layers.simpleRnnFlipout({ units: 2 }),
    ];
    expect(made.map((l) => l.getClassName())).toEqual([
      'GRUReparam',
      'GRULocalReparam',
      'GRUFlipout',
      'SimpleRNNReparam',
      'SimpleRNNLocalReparam',
      'SimpleRNNFlipout',
    ]);
  });

  it('[GRUFlipout, Dense] learns a sequence sum with model.fit, saves and loads', async () => {
    await expectFitSaveLoad((a) => new GRUFlipout(a), 'GRUFlipout', 24);
    setSeed(23);
  });

  it('a SimpleRNNReparam model saves and loads with its arguments', async () => {
    const model = tf.sequential({
      layers: [
        new SimpleRNNReparam({
          units: 3,
          inputShape: [4, 2],
          returnSequences: true,
          goBackwards: true,
          activation: 'relu',
        }),
      ],
    });
    const loaded = await saveAndLoad(model);
    const l0 = loaded.layers[0] as RecurrentVariational;
    expect(l0.getClassName()).toBe('SimpleRNNReparam');
    expect([l0.units, l0.returnSequences, l0.goBackwards, l0.activation, l0.outChannels]).toEqual([
      3,
      true,
      true,
      'relu',
      3,
    ]);
    setMode(model, 'mean');
    setMode(loaded, 'mean');
    const x = tf.randomNormal([2, 4, 2], 0, 1, 'float32', 3);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(maxAbs(a, b)).toBe(0);
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('the MOPED twins centre their prior on given weights of the [W; U] layout', () => {
    for (const Cls of [MopedGRUReparam, MopedSimpleRNNFlipout]) {
      const layer = new Cls({ units: 2, priorSigma: 0.5 });
      layer.apply(tf.input({ shape: [3, 2] }));
      expect(layer.centredPrior).toBe(true);
      tf.tidy(() => {
        const { kernelMu, biasMu } = layer.getPosterior();
        layer.setPriorMean(kernelMu, biasMu);
        layer.setPosterior({ kernelSigma: 0.5, biasSigma: 0.5 });
        expect(layer.kl().dataSync()[0]).toBeCloseTo(0, 3);
      });
      layer.dispose();
    }
  });
});
