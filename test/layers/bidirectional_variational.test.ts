/**
 * The Bayesian wrappers and recurrent states: `BidirectionalVariational` in mean mode is tfjs's
 * `Bidirectional` with the posterior means (every merge mode, LSTM / GRU / SimpleRNN, returned
 * and initial states); one step of a linear SimpleRNN merged by `'sum'` has the closed-form moments
 * `E = m_f + m_b`, `Var = v_f + v_b` (independent directions), checked by Monte Carlo within 5
 * standard errors; its KL is the float64 Normal KL summed over both directions' weights;
 * `TimeDistributedVariational` is tfjs's `TimeDistributed` in mean mode and draws one weight per
 * call with `'reparam'`; a recurrent layer's `initialState` / `returnState` are tfjs's; models
 * with the wrappers save and load; no tensor leaks; bad input is refused naming the argument.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BidirectionalVariational,
  bayesianLayers,
  ConvFlipout,
  DenseReparam,
  GRUFlipout,
  LSTMLocalReparam,
  LSTMReparam,
  modelKL,
  setMode,
  SimpleRNNReparam,
  TimeDistributedVariational,
  wrappedLayers,
  type BayesianLayer,
  type BidirectionalMergeMode,
  type RecurrentVariational,
  type RecurrentVariationalArgs,
} from '../../src/layers/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak, saveAndLoad } from '../helpers.js';
import { columnMoments, expectMcMoments } from './recurrent_moments.js';

beforeAll(() => setSeed(41));
afterAll(() => clearSeed());

type Ctor = new (args: RecurrentVariationalArgs) => RecurrentVariational;
type DnnArgs = Record<string, unknown>;
const CELLS = {
  LSTM: {
    bnn: LSTMReparam as unknown as Ctor,
    dnn: (a: DnnArgs) => tf.layers.lstm(a as unknown as Parameters<typeof tf.layers.lstm>[0]),
  },
  GRU: {
    bnn: GRUFlipout as unknown as Ctor,
    dnn: (a: DnnArgs) => tf.layers.gru(a as unknown as Parameters<typeof tf.layers.gru>[0]),
  },
  SimpleRNN: {
    bnn: SimpleRNNReparam as unknown as Ctor,
    dnn: (a: DnnArgs) =>
      tf.layers.simpleRNN(a as unknown as Parameters<typeof tf.layers.simpleRNN>[0]),
  },
} as const;
type Cell = keyof typeof CELLS;
const MERGE_MODES: BidirectionalMergeMode[] = ['concat', 'sum', 'mul', 'ave', null];

const list = (y: unknown): tf.Tensor[] => (Array.isArray(y) ? y : [y]) as tf.Tensor[];
const maxAbs = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

/** Random DNN weights (non-zero biases), and the posterior means `[W; U]`, `b` from them. */
function randomize(dnn: tf.layers.Layer, seed: number): void {
  tf.tidy(() =>
    dnn.setWeights(
      dnn.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.6, 'float32', seed + i)),
    ),
  );
}
function copyMeans(bnn: BayesianLayer, dnn: tf.layers.Layer): void {
  tf.tidy(() => {
    const [k, r, b] = dnn.getWeights() as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    bnn.setPosterior({ kernelMu: tf.concat([k, r], 0), ...(b ? { biasMu: b } : {}) });
  });
}

/** A tfjs Bidirectional and its Bayesian twin (mean mode), built, with equal means. */
function twins(
  cell: Cell,
  mergeMode: BidirectionalMergeMode,
  args: DnnArgs,
  inC: number,
): [tf.layers.Layer, BidirectionalVariational] {
  const dnn = tf.layers.bidirectional({
    layer: CELLS[cell].dnn({ units: 3, ...args }) as tf.RNN,
    mergeMode: mergeMode as 'concat',
  });
  const bnn = new BidirectionalVariational({
    layer: new CELLS[cell].bnn({ units: 3, mode: 'mean', ...args }),
    mergeMode,
  });
  const x = tf.input({ shape: [null, inC] });
  dnn.apply(x);
  bnn.apply(x);
  randomize(dnn, 7);
  wrappedLayers(bnn).forEach((l, i) => copyMeans(l as BayesianLayer, wrappedLayers(dnn)[i]!));
  return [dnn, bnn];
}

describe.each(Object.keys(CELLS) as Cell[])('BidirectionalVariational over %s', (cell) => {
  it.each(MERGE_MODES.flatMap((m) => [true, false].map((seq) => ({ m, seq }))))(
    'mean mode is tfjs Bidirectional: mergeMode $m, returnSequences $seq',
    ({ m, seq }) => {
      const before = tf.memory().numTensors;
      const [dnn, bnn] = twins(cell, m, { returnSequences: seq }, 2);
      const x = tf.randomNormal([2, 4, 2], 0, 1, 'float32', 3);
      const want = list(dnn.apply(x));
      const got = list(bnn.apply(x));
      expect(got.map((t) => t.shape)).toEqual(want.map((t) => t.shape));
      const shapes = bnn.computeOutputShape([2, 4, 2]);
      expect(m === null ? shapes : [shapes]).toEqual(got.map((t) => t.shape));
      got.forEach((g, i) => expect(maxAbs(g, want[i]!)).toBeLessThan(1e-5));
      tf.dispose([x, ...want, ...got]);
      dnn.dispose();
      bnn.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('returnState and initialState (forward states, then backward) as tfjs', () => {
    const before = tf.memory().numTensors;
    const [dnn, bnn] = twins(cell, 'concat', { returnSequences: true, returnState: true }, 2);
    const x = tf.randomNormal([2, 4, 2], 0, 1, 'float32', 5);
    const want = list(dnn.apply(x));
    const got = list(bnn.apply(x));
    const nStates = cell === 'LSTM' ? 4 : 2;
    expect(got.length).toBe(1 + nStates);
    got.forEach((g, i) => expect(maxAbs(g, want[i]!)).toBeLessThan(1e-5));
    // the returned states start a second call
    const again = list(bnn.apply(x, { initialState: got.slice(1) }));
    const againDnn = list(dnn.apply(x, { initialState: want.slice(1) }));
    again.forEach((g, i) => expect(maxAbs(g, againDnn[i]!)).toBeLessThan(1e-5));
    expect(maxAbs(again[0]!, got[0]!)).toBeGreaterThan(1e-4);
    tf.dispose([x, ...want, ...got, ...again, ...againDnn]);
    dnn.dispose();
    bnn.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('BidirectionalVariational: sampling and KL', () => {
  it('one step, linear SimpleRNN, sum: E = m_f + m_b, Var = v_f + v_b (MC, 5 SE)', () => {
    const xs = [0.7, -1.2];
    const bnn = new BidirectionalVariational({
      layer: new SimpleRNNReparam({ units: 2, activation: 'linear' }),
      mergeMode: 'sum',
    });
    bnn.apply(tf.input({ shape: [1, 2] }));
    const moments = [bnn.forward, bnn.backward].map((l, d) => {
      const mu = tf.randomNormal([4, 2], 0.3, 0.5, 'float32', 50 + d);
      const sigma = tf.randomUniform([4, 2], 0.2, 0.5, 'float32', 60 + d);
      const bMu = tf.randomNormal([2], 0.5, 0.3, 'float32', 70 + d);
      const bSigma = tf.randomUniform([2], 0.1, 0.3, 'float32', 80 + d);
      l.setPosterior({ kernelMu: mu, kernelSigma: sigma, biasMu: bMu, biasSigma: bSigma });
      const p = {
        M: mu.arraySync() as number[][],
        S: sigma.arraySync() as number[][],
        BM: Array.from(bMu.dataSync()),
        BS: Array.from(bSigma.dataSync()),
      };
      tf.dispose([mu, sigma, bMu, bSigma]);
      return columnMoments(xs, p);
    });
    const x = tf.tensor([[xs]]);
    const draws: number[][] = [];
    for (let i = 0; i < 800; i++) {
      draws.push(tf.tidy(() => Array.from((bnn.apply(x) as tf.Tensor).dataSync())));
    }
    x.dispose();
    for (let u = 0; u < 2; u++) {
      const [f, b] = moments as [(typeof moments)[0], (typeof moments)[0]];
      expectMcMoments(
        draws.map((d) => d[u]!),
        f.m(u) + b.m(u),
        f.v(u) + b.v(u),
        `unit ${u}`,
      );
    }
    bnn.dispose();
  });

  it('kl() is the float64 Normal KL summed over both directions; modelKL and fit see it', () => {
    const bnn = new BidirectionalVariational({
      layer: new LSTMLocalReparam({ units: 2, priorSigma: 0.7 }),
    });
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [3, 2] }), bnn] });
    tf.tidy(() => {
      bnn.forward.setPosterior({ kernelSigma: 0.3, biasSigma: 0.2 });
      bnn.backward.setPosterior({ kernelSigma: 0.4, biasSigma: 0.1 });
    });
    let want = 0;
    for (const l of [bnn.forward, bnn.backward]) {
      const p = l.getPosterior();
      const pairs: [tf.Tensor, tf.Tensor][] = [[p.kernelMu, p.kernelSigma]];
      if (p.biasMu !== null && p.biasSigma !== null) pairs.push([p.biasMu, p.biasSigma]);
      for (const [mu, s] of pairs) {
        const m = Array.from(mu.dataSync());
        const sd = Array.from(s.dataSync());
        m.forEach((mi, i) => {
          const si = sd[i]!;
          want += Math.log(0.7 / si) + (si * si + mi * mi) / (2 * 0.49) - 0.5;
        });
      }
      tf.dispose(Object.values(p).filter((t): t is tf.Tensor => t !== null));
    }
    const [kl, parts, total] = expectNoLeak(() =>
      tf.tidy(() =>
        tf.stack([bnn.kl(), tf.add(bnn.forward.kl(), bnn.backward.kl()), modelKL(model)]),
      ),
    ) as [number, number, number];
    expect(Math.abs(kl - want) / want).toBeLessThan(1e-4);
    expect(parts).toBeCloseTo(kl, 4);
    expect(total).toBeCloseTo(kl, 4);
    expect(bayesianLayers(model)).toEqual([bnn.forward, bnn.backward]);
    // model.fit adds klScale * KL of both directions
    const fitLoss = tf.tidy(() => tf.addN(bnn.calculateLosses()).dataSync()[0]!);
    expect(fitLoss).toBeCloseTo(kl, 3);
    model.dispose();
  });

  it('gradients of an output + KL loss reach mu and rho of both directions', () => {
    const bnn = new BidirectionalVariational({
      layer: new SimpleRNNReparam({ units: 2 }),
      mergeMode: 'ave',
    });
    const x = tf.randomNormal([2, 3, 2], 0, 1, 'float32', 13);
    tf.dispose(bnn.apply(x) as tf.Tensor);
    expect(bnn.trainableWeights.length).toBe(8);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(
      () => tf.add(tf.sum(tf.square(bnn.apply(x) as tf.Tensor)), bnn.kl()) as tf.Scalar,
      bnn.trainableWeights.map((w) => w.read() as tf.Variable),
    );
    const norms = Object.values(grads).map((g) => tf.tidy(() => tf.norm(g).dataSync()[0]!));
    expect(norms.length).toBe(8);
    norms.forEach((n) => expect(n).toBeGreaterThan(0));
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    bnn.dispose();
  });

  it('mode is set on both directions; sampled outputs differ between calls', () => {
    const bnn = new BidirectionalVariational({ layer: new GRUFlipout({ units: 2 }) });
    const x = tf.randomNormal([2, 3, 2], 0, 1, 'float32', 9);
    const a = bnn.apply(x) as tf.Tensor;
    const b = bnn.apply(x) as tf.Tensor;
    expect(maxAbs(a, b)).toBeGreaterThan(1e-4);
    setMode(bnn, 'mean');
    expect([bnn.forward.mode, bnn.backward.mode, bnn.mode]).toEqual(['mean', 'mean', 'mean']);
    bnn.mode = 'sample';
    expect(bnn.backward.mode).toBe('sample');
    tf.dispose([x, a, b]);
    bnn.dispose();
  });
});

describe('TimeDistributedVariational', () => {
  it.each([
    {
      name: 'Dense',
      dnn: () => tf.layers.dense({ units: 3, activation: 'relu' }),
      bnn: () => new DenseReparam({ units: 3, activation: 'relu', mode: 'mean' }),
      shape: [2, 4, 5],
    },
    {
      name: 'Conv2D',
      dnn: () => tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }),
      bnn: () => new ConvFlipout({ filters: 2, kernelSize: 3, padding: 'same', mode: 'mean' }),
      shape: [2, 3, 5, 5, 2],
    },
  ])('$name: mean mode is tfjs TimeDistributed', ({ dnn, bnn, shape }) => {
    const before = tf.memory().numTensors;
    const d = tf.layers.timeDistributed({ layer: dnn() });
    const b = new TimeDistributedVariational({ layer: bnn() });
    const x = tf.randomNormal(shape, 0, 1, 'float32', 2);
    tf.dispose([d.apply(x) as tf.Tensor, b.apply(x) as tf.Tensor]);
    randomize(d, 20);
    const [k, bias] = d.getWeights() as [tf.Tensor, tf.Tensor];
    b.inner.setPosterior({ kernelMu: k, biasMu: bias });
    const want = d.apply(x) as tf.Tensor;
    const got = b.apply(x) as tf.Tensor;
    expect(got.shape).toEqual(want.shape);
    expect(b.computeOutputShape(shape)).toEqual(want.shape);
    expect(maxAbs(got, want)).toBeLessThan(1e-5);
    tf.dispose([x, want, got]);
    d.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("'reparam' draws one weight per call, shared by every time step; KL is the inner one's", () => {
    const td = new TimeDistributedVariational({ layer: new DenseReparam({ units: 2 }) });
    const x = tf.tidy(() => tf.tile(tf.randomNormal([1, 1, 3], 0, 1, 'float32', 4), [2, 5, 1]));
    const y = td.apply(x) as tf.Tensor;
    const spread = tf.tidy(() => tf.max(tf.sub(tf.max(y, 1), tf.min(y, 1))).dataSync()[0]!);
    expect(spread).toBeLessThan(1e-6);
    const y2 = td.apply(x) as tf.Tensor;
    expect(maxAbs(y, y2)).toBeGreaterThan(1e-4);
    const [a, b] = expectNoLeak(() => tf.tidy(() => tf.stack([td.kl(), td.inner.kl()]))) as [
      number,
      number,
    ];
    expect(a).toBe(b);
    expect(td.calculateLosses().length).toBe(1);
    tf.dispose([x, y, y2]);
    td.dispose();
  });
});

describe('recurrent initial states', () => {
  it.each(Object.keys(CELLS) as Cell[])(
    '%s: apply(x, {initialState}) and returnState are tfjs',
    (cell) => {
      const before = tf.memory().numTensors;
      const n = cell === 'LSTM' ? 2 : 1;
      const dnn = CELLS[cell].dnn({ units: 3, returnState: true });
      const bnn = new CELLS[cell].bnn({ units: 3, returnState: true, mode: 'mean' });
      const x = tf.randomNormal([2, 4, 2], 0, 1, 'float32', 6);
      const states = Array.from({ length: n }, (_, i) =>
        tf.randomNormal([2, 3], 0, 1, 'float32', 30 + i),
      );
      tf.dispose(list(dnn.apply(x)));
      tf.dispose(list(bnn.apply(x)));
      randomize(dnn, 11);
      copyMeans(bnn, dnn);
      const want = list(dnn.apply(x, { initialState: states }));
      const got = list(bnn.apply(x, { initialState: states }));
      expect(got.length).toBe(1 + n);
      got.forEach((g, i) => expect(maxAbs(g, want[i]!)).toBeLessThan(1e-5));
      expect(bnn.computeOutputShape([2, 4, 2])).toEqual(got.map((t) => t.shape));
      tf.dispose([x, ...states, ...want, ...got]);
      dnn.dispose();
      bnn.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});

describe('Bayesian wrappers: save and load', () => {
  it('a model with BidirectionalVariational (null merge) and TimeDistributedVariational round-trips', async () => {
    const input = tf.input({ shape: [4, 2] });
    const [f, b] = new BidirectionalVariational({
      layer: new LSTMReparam({ units: 3, returnSequences: true, priorSigma: 0.5 }),
      mergeMode: null,
    }).apply(input) as tf.SymbolicTensor[];
    const td = new TimeDistributedVariational({ layer: new DenseReparam({ units: 2 }) });
    const out = tf.layers.add().apply([td.apply(f!), td.apply(b!)] as tf.SymbolicTensor[]);
    const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
    const loaded = await saveAndLoad(model);
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(
      model.layers.map((l) => l.getClassName()),
    );
    const bi = loaded.layers[1] as BidirectionalVariational;
    expect(bi.getConfig().mergeMode).toBeNull();
    expect(bi.forward.getConfig().prior).toEqual(
      (model.layers[1] as BidirectionalVariational).forward.getConfig().prior,
    );
    expect(bayesianLayers(loaded).length).toBe(3);
    setMode(model, 'mean');
    setMode(loaded, 'mean');
    const x = tf.randomNormal([2, 4, 2], 0, 1, 'float32', 12);
    const [p, q] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(maxAbs(p, q)).toBe(0);
    tf.dispose([x, p, q]);
    model.dispose();
    loaded.dispose();
  });
});

describe('Bayesian wrappers: bad input', () => {
  const x3 = (): tf.Tensor => tf.zeros([1, 3, 2]);
  it.each([
    {
      call: 'Bidirectional over a Dense',
      run: () => new BidirectionalVariational({ layer: new DenseReparam({ units: 2 }) as never }),
      arg: 'layer',
      message: /Bayesian recurrent layer/,
    },
    {
      call: 'Bidirectional over a tfjs LSTM',
      run: () => new BidirectionalVariational({ layer: tf.layers.lstm({ units: 2 }) as never }),
      arg: 'layer',
    },
    {
      call: 'Bidirectional with mergeMode max',
      run: () =>
        new BidirectionalVariational({
          layer: new LSTMReparam({ units: 2 }),
          mergeMode: 'max' as never,
        }),
      arg: 'mergeMode',
    },
    {
      call: 'Bidirectional with an unknown option',
      run: () =>
        new BidirectionalVariational({
          layer: new LSTMReparam({ units: 2 }),
          merge_mode: 'sum',
        } as never),
      arg: 'merge_mode',
    },
    {
      call: 'Bidirectional LSTM with 2 initial states (4 expected)',
      run: () => {
        const bi = new BidirectionalVariational({ layer: new LSTMReparam({ units: 2 }) });
        const x = x3();
        const s = tf.zeros([1, 2]);
        try {
          return bi.apply(x, { initialState: [s, s] });
        } finally {
          tf.dispose([x, s]);
        }
      },
      arg: 'initialState',
    },
    {
      call: 'TimeDistributed over a tfjs Dense',
      run: () => new TimeDistributedVariational({ layer: tf.layers.dense({ units: 2 }) as never }),
      arg: 'layer',
    },
    {
      call: 'TimeDistributed on a rank-2 input',
      run: () => {
        const td = new TimeDistributedVariational({ layer: new DenseReparam({ units: 2 }) });
        const x = tf.zeros([2, 3]);
        try {
          return td.apply(x);
        } finally {
          x.dispose();
        }
      },
      arg: 'inputs',
    },
    {
      call: 'LSTM with one initial state',
      run: () => {
        const l = new LSTMReparam({ units: 2 });
        const x = x3();
        const s = tf.zeros([1, 2]);
        try {
          return l.apply(x, { initialState: [s] });
        } finally {
          tf.dispose([x, s]);
        }
      },
      arg: 'initialState',
    },
    {
      call: 'GRU with an initial state of the wrong width',
      run: () => {
        const l = new GRUFlipout({ units: 2 });
        const x = x3();
        const s = tf.zeros([1, 5]);
        try {
          return l.apply(x, { initialState: [s] });
        } finally {
          tf.dispose([x, s]);
        }
      },
      arg: 'initialState',
      message: /\[1, 5\]/,
    },
    {
      call: 'SimpleRNN stateful',
      run: () => new SimpleRNNReparam({ units: 2, stateful: true }),
      arg: 'stateful',
    },
  ])('$call', (c) => expectBadInput(c));
});
