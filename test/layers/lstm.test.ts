/**
 * Bayesian LSTM layers (bayesian-torch's `LSTMReparameterization` / `LSTMFlipout`): in mean mode
 * they are tfjs's own `tf.layers.lstm` with the kernel `[W; U]` (returnSequences, goBackwards,
 * activations, no bias); sampled, one step with linear activations has the closed-form moments
 * `E[h] = m_i m_c m_o`, `E[h²] = Π (m² + v)` (independent gate columns, `m = x mu + mu_b`,
 * `v = x² σ² + σ_b²`), checked by Monte Carlo within 5 standard errors; reparam and flipout share
 * their kernel sample across time steps, local reparameterization does not; gradients reach mu
 * and rho and match finite differences at a fixed seed; a model trains with `model.fit`, saves
 * and loads.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LSTMFlipout,
  LSTMLocalReparam,
  LSTMReparam,
  MopedLSTMReparam,
  type LSTMVariational,
  type LSTMVariationalArgs,
} from '../../src/layers/index.js';
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

beforeAll(() => setSeed(21));
afterAll(() => clearSeed());

const CLASSES = { reparam: LSTMReparam, local: LSTMLocalReparam, flipout: LSTMFlipout } as const;
const ESTIMATORS = Object.keys(CLASSES) as (keyof typeof CLASSES)[];

function make(
  estimator: keyof typeof CLASSES,
  args: LSTMVariationalArgs,
  inC: number,
): LSTMVariational {
  const layer = new CLASSES[estimator](args);
  layer.apply(tf.input({ shape: [null, inC] })); // builds it (and lets layer.dispose() free it)
  return layer;
}

describe('Bayesian LSTM: mean mode is tfjs LSTM', () => {
  const configs: { name: string; args: Partial<LSTMVariationalArgs> }[] = [
    { name: 'last output, defaults (tanh, hardSigmoid)', args: {} },
    { name: 'sequences', args: { returnSequences: true } },
    { name: 'goBackwards sequences', args: { returnSequences: true, goBackwards: true } },
    { name: 'goBackwards last', args: { goBackwards: true } },
    {
      name: 'sigmoid gates, relu activation',
      args: { recurrentActivation: 'sigmoid', activation: 'relu' },
    },
    { name: 'no bias', args: { useBias: false, returnSequences: true } },
  ];
  it.each(configs)('$name', ({ args }) => {
    const before = tf.memory().numTensors;
    const [b, t, inC, units] = [3, 5, 4, 3];
    const dnn = tf.layers.lstm({ units, ...(args as object) } as Parameters<
      typeof tf.layers.lstm
    >[0]);
    const x = tf.randomNormal([b, t, inC], 0, 1, 'float32', 4);
    tf.dispose(dnn.apply(x) as tf.Tensor);
    tf.tidy(() =>
      dnn.setWeights(
        dnn.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.6, 'float32', 10 + i)),
      ),
    );
    const [k, r, bias] = dnn.getWeights();
    const layer = make('flipout', { units, mode: 'mean', ...args }, inC);
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
    const dnn = tf.layers.lstm({ units, ...opts });
    const bnn = new LSTMReparam({ units, mode: 'mean', ...opts });
    expectMaskingAsTfjs(dnn, bnn);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('unitForgetBias starts the forget-gate bias means at 1 (as tfjs)', () => {
    const layer = make('reparam', { units: 3 }, 2);
    const mu = layer.getPosterior();
    const b = Array.from(mu.biasMu?.dataSync() ?? []);
    expect(b.slice(3, 6)).toEqual([1, 1, 1]);
    expect(b.slice(0, 3).every((v) => Math.abs(v) < 1)).toBe(true);
    tf.dispose(Object.values(mu).filter((v): v is tf.Tensor => v !== null));
    const off = make('reparam', { units: 3, unitForgetBias: false, biasInitializer: 'zeros' }, 2);
    expect(Array.from(off.getPosterior().biasMu?.dataSync() ?? [])).toEqual(new Array(12).fill(0));
    expect(off.getWeights()[0]?.shape).toEqual([5, 12]);
    expect(off.numBayesianParams()).toBe(5 * 12 + 12);
    layer.dispose();
    off.dispose();
  });
});

describe('Bayesian LSTM: sampling', () => {
  it('sigma -> 0: every estimator equals mean mode', () => {
    const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 8);
    for (const e of ESTIMATORS) {
      const layer = make(e, { units: 2, returnSequences: true, posteriorMuInitial: [0, 0.5] }, 3);
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
    const xs = [0.8, -1.1, 0.5];
    const n = 1000;
    for (const e of ESTIMATORS) {
      const layer = make(
        e,
        { units, activation: 'linear', recurrentActivation: 'linear', unitForgetBias: false },
        inC,
      );
      const mu = tf.randomNormal([inC + units, 4 * units], 0.3, 0.5, 'float32', 31);
      const sigma = tf.randomUniform([inC + units, 4 * units], 0.2, 0.5, 'float32', 32);
      const bMu = tf.randomNormal([4 * units], 0.5, 0.3, 'float32', 33);
      const bSigma = tf.randomUniform([4 * units], 0.1, 0.3, 'float32', 34);
      layer.setPosterior({ kernelMu: mu, kernelSigma: sigma, biasMu: bMu, biasSigma: bSigma });
      const M = mu.arraySync() as number[][];
      const S = sigma.arraySync() as number[][];
      const BM = Array.from(bMu.dataSync());
      const BS = Array.from(bSigma.dataSync());
      tf.dispose([mu, sigma, bMu, bSigma]);
      // float64 moments of z_j = x mu_:j + b_j (h_0 = 0: only the input rows count)
      const m = (j: number): number => xs.reduce((a, v, k) => a + v * M[k]![j]!, BM[j]!);
      const v = (j: number): number =>
        xs.reduce((a, x, k) => a + x * x * S[k]![j]! ** 2, BS[j]! ** 2);
      const x = tf.tensor([[xs]]);
      const draws: number[][] = [];
      for (let i = 0; i < n; i++) {
        draws.push(tf.tidy(() => Array.from((layer.apply(x) as tf.Tensor).dataSync())));
      }
      x.dispose();
      for (let u = 0; u < units; u++) {
        // gates i, c, o of unit u (c_1 = i g, h_1 = o c_1; f does not enter at t = 1)
        const js = [u, 2 * units + u, 3 * units + u];
        const mean = js.reduce((a, j) => a * m(j), 1);
        const second = js.reduce((a, j) => a * (m(j) ** 2 + v(j)), 1);
        const variance = second - mean * mean;
        const hs = draws.map((d) => d[u]!);
        const avg = hs.reduce((a, b) => a + b, 0) / n;
        const c2 = hs.map((h) => (h - avg) ** 2);
        const sVar = c2.reduce((a, b) => a + b, 0) / (n - 1);
        const m4 = c2.reduce((a, b) => a + b * b, 0) / n;
        expect(Math.abs(avg - mean), `${e} mean of unit ${u}`).toBeLessThan(
          5 * Math.sqrt(variance / n),
        );
        expect(Math.abs(sVar - variance), `${e} variance of unit ${u}`).toBeLessThan(
          5 * Math.sqrt(Math.max(m4 - sVar * sVar, 1e-12) / n),
        );
      }
      layer.dispose();
    }
  });

  it('reparam and flipout share the kernel sample across time steps; local does not', () => {
    // U = 0 and only the output-gate columns of W random: i, f, c are deterministic, so with
    // x_1 = x_2 the output gate o_t = h_t / tanh(c_t) is the same at both steps iff the weight
    // sample is shared over time
    const inC = 2;
    const units = 2;
    const xs = [0.7, -0.4];
    for (const e of ESTIMATORS) {
      const layer = make(
        e,
        { units, returnSequences: true, recurrentActivation: 'sigmoid', useBias: false },
        inC,
      );
      const mu = tf.randomNormal([inC + units, 4 * units], 0, 0.8, 'float32', 41);
      const muArr = mu.arraySync() as number[][];
      for (let k = inC; k < inC + units; k++) muArr[k] = new Array(4 * units).fill(0);
      const sigma = muArr.map((row, k) =>
        row.map((_, j) => (k < inC && j >= 3 * units ? 0.8 : 1e-8)),
      );
      mu.dispose();
      tf.tidy(() =>
        layer.setPosterior({ kernelMu: tf.tensor(muArr), kernelSigma: tf.tensor(sigma) }),
      );
      const sig = (z: number): number => 1 / (1 + Math.exp(-z));
      const z = (j: number): number => xs.reduce((a, v, k) => a + v * muArr[k]![j]!, 0);
      const x = tf.tensor([
        [xs, xs],
        [xs, xs],
        [xs, xs],
      ]);
      const gaps: number[] = [];
      const o1s: number[] = [];
      for (let rep = 0; rep < 5; rep++) {
        const h = (layer.apply(x) as tf.Tensor).arraySync() as number[][][];
        for (const ex of h) {
          for (let u = 0; u < units; u++) {
            const g = Math.tanh(z(2 * units + u)) * sig(z(u));
            const c1 = g;
            const c2 = sig(z(units + u)) * c1 + g;
            const o1 = ex[0]![u]! / Math.tanh(c1);
            const o2 = ex[1]![u]! / Math.tanh(c2);
            gaps.push(Math.abs(o1 - o2));
            o1s.push(o1);
          }
        }
      }
      x.dispose();
      const spread = Math.max(...o1s) - Math.min(...o1s);
      expect(spread, `${e}: the output gate is random`).toBeGreaterThan(0.05);
      if (e === 'local') expect(Math.max(...gaps), e).toBeGreaterThan(0.05);
      else expect(Math.max(...gaps), e).toBeLessThan(1e-4);
      layer.dispose();
    }
  });

  it('reparam shares one kernel across the batch, flipout and local decorrelate examples', () => {
    expectRecurrentBatchSharing((e) => make(e, { units: 3, posteriorRhoInitial: [-1, 0] }, 2));
  });
});

describe('Bayesian LSTM: gradients, training, saving', () => {
  it.each(ESTIMATORS)('%s: gradients reach mu and rho and match finite differences', (e) => {
    const before = tf.memory().numTensors;
    const layer = make(e, { units: 2, returnSequences: true }, 2);
    expectRecurrentGradsMatchFd(layer, e);
    layer.dispose();
    setSeed(21);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('[LSTMFlipout, Dense] learns a sequence sum with model.fit, saves and loads', async () => {
    await expectFitSaveLoad((a) => new LSTMFlipout(a), 'LSTMFlipout', 32);
  });

  it('the MOPED twin centres its prior on given weights of the [W; U] layout', () => {
    const layer = new MopedLSTMReparam({ units: 2, priorSigma: 0.5 });
    layer.apply(tf.input({ shape: [3, 2] }));
    expect(layer.centredPrior).toBe(true);
    tf.tidy(() => {
      const { kernelMu, biasMu } = layer.getPosterior();
      layer.setPriorMean(kernelMu, biasMu);
      layer.setPosterior({ kernelSigma: 0.5, biasSigma: 0.5 });
      expect(layer.kl().dataSync()[0]).toBeCloseTo(0, 3);
    });
    layer.dispose();
  });

  it('calls leak no tensors in any mode', () => {
    expectRecurrentNoLeak((e) => make(e, { units: 2, returnSequences: true }, 2));
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
      [{ units: 2, recurrentActivation: 'nope' }, /^recurrentActivation: /],
      [{ units: 2, returnSequences: 'yes' }, /returnSequences/],
      [{ units: 2, useBias: true, hasBias: false }, /useBias/],
      [{ units: 2, recurrentInitializer: 'orthogonal' }, /recurrentInitializer/],
      [{ units: 2, return_sequences: true }, /returnSequences/],
    ];
    for (const [args, re] of bad) {
      const before = tf.memory().numTensors;
      expect(
        () => new LSTMReparam(args as unknown as LSTMVariationalArgs),
        JSON.stringify(args),
      ).toThrow(ArgumentError);
      expect(() => new LSTMReparam(args as unknown as LSTMVariationalArgs)).toThrow(re);
      expect(tf.memory().numTensors).toBe(before);
    }
    const layer = make('reparam', { units: 2 }, 3);
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
