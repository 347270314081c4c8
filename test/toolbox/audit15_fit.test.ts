/**
 * Audit of issue #13 (one fit loop, one step) on the loops a user calls with in-memory data: the
 * toolbox's `fit` (regression, a functional two-input model) and the layers' loss cells driven by
 * the one epoch loop `layers.epochLoop` (a two-input Bayesian functional model, a Bayesian
 * regression with `WithBNNLoss`), against closed forms (least squares), with bad data refused
 * naming the argument before any work and no tensor left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, setSeed, toolbox } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';

/** y = 2 x0 - x1 + 0.5 + noise, n rows, float64 host copy too. */
function linearData(n: number): { x: number[][]; y: number[] } {
  let s = 12345;
  const u = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = 2 * u();
    const b = 2 * u();
    x.push([a, b]);
    y.push(2 * a - b + 0.5 + 0.05 * u());
  }
  return { x, y };
}

/** Least squares with intercept in float64 (normal equations, 3x3 by Cramer). */
function ols(x: number[][], y: number[]): number[] {
  const rows = x.map((r) => [...r, 1]);
  const A = [0, 1, 2].map((i) =>
    [0, 1, 2].map((j) => rows.reduce((s, r) => s + (r[i] as number) * (r[j] as number), 0)),
  );
  const b = [0, 1, 2].map((i) =>
    rows.reduce((s, r, k) => s + (r[i] as number) * (y[k] as number), 0),
  );
  const det = (m: number[][]): number =>
    m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) -
    m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) +
    m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);
  const d = det(A);
  return [0, 1, 2].map(
    (c) => det(A.map((r, i) => r.map((v, j) => (j === c ? (b[i] as number) : v)))) / d,
  );
}

function linearModel(): tf.LayersModel {
  return tf.sequential({
    layers: [tf.layers.dense({ inputShape: [2], units: 1, kernelInitializer: 'zeros' })],
  });
}

describe('toolbox.fit: the one loop on in-memory data', () => {
  it('a linear regression reaches the least-squares solution; no tensor left', async () => {
    const d = linearData(96);
    const model = linearModel();
    const x = tf.tensor2d(d.x);
    const y = tf.tensor2d(d.y, [d.y.length, 1]);
    const before = tf.memory().numTensors;
    const hist = await toolbox.fit(
      model,
      (xb, yb) => tf.losses.meanSquaredError(yb, model.apply(xb) as tf.Tensor) as tf.Scalar,
      { x, y },
      { epochs: 150, batchSize: 32, learningRate: 0.05, seed: 3 },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(hist).toHaveLength(150);
    expect(hist[149]).toBeLessThan(0.01 * (hist[0] as number));
    const [w, bias] = model.getWeights();
    const got = [...Array.from(w!.dataSync()), ...Array.from(bias!.dataSync())];
    const want = ols(d.x, d.y);
    for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(want[i] as number, 2);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('the same seed gives the same weights; another seed another shuffle', async () => {
    const d = linearData(40);
    const x = tf.tensor2d(d.x);
    const y = tf.tensor2d(d.y, [d.y.length, 1]);
    const run = async (seed: number): Promise<number[]> => {
      const m = linearModel();
      await toolbox.fit(
        m,
        (xb, yb) => tf.losses.meanSquaredError(yb, m.apply(xb) as tf.Tensor) as tf.Scalar,
        { x, y },
        { epochs: 2, batchSize: 8, learningRate: 0.05, seed },
      );
      const w = m.getWeights().flatMap((t) => Array.from(t.dataSync()));
      m.dispose();
      return w;
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    tf.dispose([x, y]);
  });

  it('a functional model with two inputs trains from {x: [a, b], y}', async () => {
    const d = linearData(64);
    const ia = tf.input({ shape: [1] });
    const ib = tf.input({ shape: [1] });
    const merged = tf.layers.concatenate().apply([ia, ib]) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 1, kernelInitializer: 'zeros' })
      .apply(merged) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [ia, ib], outputs: out });
    const a = tf.tensor2d(d.x.map((r) => [r[0] as number]));
    const b = tf.tensor2d(d.x.map((r) => [r[1] as number]));
    const y = tf.tensor2d(d.y, [d.y.length, 1]);
    const before = tf.memory().numTensors;
    const hist = await toolbox.fit(
      model,
      (xb, yb) => tf.losses.meanSquaredError(yb, model.apply(xb) as tf.Tensor) as tf.Scalar,
      { x: [a, b], y },
      { epochs: 100, batchSize: 16, learningRate: 0.05, seed: 1 },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(hist[99]).toBeLessThan(0.02 * (hist[0] as number));
    const w = Array.from(model.getWeights()[0]!.dataSync());
    const want = ols(d.x, d.y);
    expect(w[0]).toBeCloseTo(want[0] as number, 1);
    expect(w[1]).toBeCloseTo(want[1] as number, 1);
    tf.dispose([a, b, y]);
    model.dispose();
  });

  it('a batch larger than the data is one batch of all rows per epoch', async () => {
    const d = linearData(10);
    const x = tf.tensor2d(d.x);
    const y = tf.tensor2d(d.y, [10, 1]);
    const m = linearModel();
    let calls = 0;
    const rows: number[] = [];
    await toolbox.fit(
      m,
      (xb, yb) => {
        calls++;
        rows.push((xb as tf.Tensor).shape[0] as number);
        return tf.losses.meanSquaredError(yb, m.apply(xb) as tf.Tensor) as tf.Scalar;
      },
      { x, y },
      { epochs: 3, batchSize: 64 },
    );
    expect(calls).toBe(3);
    expect(rows).toEqual([10, 10, 10]);
    tf.dispose([x, y]);
    m.dispose();
  });
});

describe('toolbox.fit refuses bad data and options before any work', () => {
  const model = linearModel();
  const loss = (xb: tf.Tensor, yb: tf.Tensor): tf.Scalar =>
    tf.losses.meanSquaredError(yb, model.apply(xb) as tf.Tensor) as tf.Scalar;
  const mk = (): { x: tf.Tensor; y: tf.Tensor } => ({ x: tf.zeros([8, 2]), y: tf.zeros([8, 1]) });
  const cases: {
    call: string;
    run: (d: { x: tf.Tensor; y: tf.Tensor }) => Promise<unknown>;
    arg: string | RegExp;
  }[] = [
    {
      call: 'x and y of different lengths',
      run: (d) => {
        const y = tf.zeros([5, 1]);
        return toolbox.fit(model, loss, { x: d.x, y }, { epochs: 1 }).finally(() => y.dispose());
      },
      arg: /data|y/,
    },
    {
      call: 'an empty data set',
      run: () => {
        const x = tf.zeros([0, 2]);
        const y = tf.zeros([0, 1]);
        return toolbox.fit(model, loss, { x, y }, { epochs: 1 }).finally(() => tf.dispose([x, y]));
      },
      arg: /data|x/,
    },
    {
      call: 'a misspelt option learningrate',
      run: (d) =>
        toolbox.fit(model, loss, d, { epochs: 1, learningrate: 0.1 } as toolbox.FitOptions),
      arg: /learningrate/,
    },
    { call: 'epochs 0', run: (d) => toolbox.fit(model, loss, d, { epochs: 0 }), arg: 'epochs' },
    {
      call: 'batchSize 0',
      run: (d) => toolbox.fit(model, loss, d, { epochs: 1, batchSize: 0 }),
      arg: 'batchSize',
    },
    {
      call: 'learningRate -1',
      run: (d) => toolbox.fit(model, loss, d, { epochs: 1, learningRate: -1 }),
      arg: 'learningRate',
    },
    {
      call: 'seed 1.5',
      run: (d) => toolbox.fit(model, loss, d, { epochs: 1, seed: 1.5 }),
      arg: 'seed',
    },
    {
      call: 'onEpoch not a function',
      run: (d) =>
        toolbox.fit(model, loss, d, { epochs: 1, onEpoch: 3 } as unknown as toolbox.FitOptions),
      arg: 'onEpoch',
    },
    {
      call: 'loss not a function',
      run: (d) => toolbox.fit(model, 'mse' as unknown as typeof loss, d, { epochs: 1 }),
      arg: 'loss',
    },
    {
      call: 'model not a LayersModel',
      run: (d) => toolbox.fit({} as tf.LayersModel, loss, d, { epochs: 1 }),
      arg: 'model',
    },
    {
      call: 'data not data',
      run: () =>
        toolbox.fit(model, loss, [1, 2] as unknown as toolbox.TrainData<tf.Tensor>, { epochs: 1 }),
      arg: 'data',
    },
    {
      call: 'options missing',
      run: (d) => toolbox.fit(model, loss, d, undefined as unknown as toolbox.FitOptions),
      arg: /options|epochs/,
    },
  ];
  for (const c of cases) {
    it(c.call, async () => {
      const d = mk();
      const w0 = model.getWeights().map((t) => Array.from(t.dataSync()));
      await expectBadInput({ call: c.call, run: () => c.run(d), arg: c.arg });
      expect(model.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(w0);
      tf.dispose([d.x, d.y]);
    });
  }
  it('two inputs with different row counts', async () => {
    const ia = tf.input({ shape: [1] });
    const ib = tf.input({ shape: [1] });
    const out = tf.layers
      .dense({ units: 1 })
      .apply(tf.layers.concatenate().apply([ia, ib]) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const m2 = tf.model({ inputs: [ia, ib], outputs: out });
    const a = tf.zeros([8, 1]);
    const b = tf.zeros([6, 1]);
    const y = tf.zeros([8, 1]);
    await expectBadInput({
      call: 'ragged inputs',
      run: () =>
        toolbox.fit(
          m2,
          (xb, yb) => tf.losses.meanSquaredError(yb, m2.apply(xb) as tf.Tensor) as tf.Scalar,
          { x: [a, b], y },
          { epochs: 1 },
        ),
      arg: /data|x/,
    });
    tf.dispose([a, b, y]);
    m2.dispose();
  });
});

describe('the loss cells driven by the one epoch loop', () => {
  it('a two-input Bayesian functional classifier (ELBOLoss, flipout + local) trains; no tensor left', async () => {
    setSeed(5);
    const ia = tf.input({ shape: [3] });
    const ib = tf.input({ shape: [2] });
    const ha = new layers.ESTIMATOR_CLASSES.flipout.dense({
      units: 6,
      activation: 'relu',
      priorSigma: 1,
    }).apply(ia) as tf.SymbolicTensor;
    const hb = new layers.ESTIMATOR_CLASSES.local.dense({
      units: 6,
      activation: 'relu',
      priorSigma: 1,
    }).apply(ib) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([ha, hb]) as tf.SymbolicTensor;
    const out = new layers.ESTIMATOR_CLASSES.reparam.dense({ units: 3, priorSigma: 1 }).apply(
      cat,
    ) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [ia, ib], outputs: out });
    // class = argmax of (a0 + b0, a1 - b1, a2): learnable
    const n = 60;
    const A: number[][] = [];
    const B: number[][] = [];
    const Y: number[] = [];
    let s = 99;
    const u = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    for (let i = 0; i < n; i++) {
      const a = [u(), u(), u()];
      const b = [u(), u()];
      const sc = [a[0]! + b[0]!, a[1]! - b[1]!, a[2]!];
      A.push(a);
      B.push(b);
      Y.push(sc.indexOf(Math.max(...sc)));
    }
    const a = tf.tensor2d(A);
    const b = tf.tensor2d(B);
    const y = tf.tensor1d(Y, 'int32');
    const cell = new layers.ELBOLoss(model, { datasetSize: n, klWeight: 0.1 });
    const before = tf.memory().numTensors;
    const opt = tf.train.adam(0.03);
    const losses: number[] = [];
    const source: layers.BatchSource<layers.LoopBatch<tf.Tensor[]>> = {
      batches: function* () {
        for (let i = 0; i < n; i += 20) {
          const xa = tf.slice(a, [i, 0], [20, 3]);
          const xb = tf.slice(b, [i, 0], [20, 2]);
          const yb = tf.slice(y, [i], [20]);
          yield { x: [xa, xb], y: yb, dispose: () => tf.dispose([xa, xb, yb]) };
        }
      },
    };
    await layers.epochLoop({
      source,
      epochs: 40,
      numBatches: 3,
      step: (batch, ctx) => {
        const r = cell.trainStep(opt, batch.x, batch.y, ctx);
        const l = r.loss.dataSync()[0] as number;
        tf.dispose([r.loss, r.nll, r.kl]);
        return { loss: l, nll: l, kl: 0, correct: 0, size: 20 };
      },
      onEpochEnd: (_e, totals) => {
        losses.push(totals.loss / totals.n);
      },
    });
    const grown = tf.memory().numTensors - before; // Adam's moments only
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(grown).toBeGreaterThan(0);
    expect(losses).toHaveLength(40);
    const head = (losses[0]! + losses[1]!) / 2;
    const tail = (losses[38]! + losses[39]!) / 2;
    expect(tail).toBeLessThan(0.7 * head);
    tf.dispose([a, b, y]);
    model.dispose();
  });

  it('a Bayesian regression with WithBNNLoss(mse): loss falls, the mean weights near least squares', async () => {
    setSeed(3);
    const d = linearData(80);
    const model = tf.sequential({
      layers: [
        new layers.ESTIMATOR_CLASSES.local.dense({
          inputShape: [2],
          units: 1,
          priorSigma: 10, // a flat prior: the posterior mean is the least-squares fit
        }),
      ],
    });
    const x = tf.tensor2d(d.x);
    const y = tf.tensor2d(d.y, [80, 1]);
    // KL scaled to one example of 80 (the ELBO per example)
    const cell = new layers.WithBNNLoss(model, 'meanSquaredError', 1, 1 / 80);
    const opt = tf.train.adam(0.05);
    const hist: number[] = [];
    await layers.epochLoop({
      source: { batches: () => [{ x, y }] },
      epochs: 200,
      step: (batch, ctx) => {
        const r = cell.trainStep(opt, batch.x, batch.y, ctx);
        const nll = r.nll.dataSync()[0] as number;
        tf.dispose([r.loss, r.nll, r.kl]);
        return { loss: nll, nll, kl: 0, correct: 0, size: 80 };
      },
      onEpochEnd: (_e, t) => {
        hist.push(t.loss / t.n);
      },
    });
    opt.dispose();
    expect(hist[199]).toBeLessThan(0.1 * (hist[0] as number));
    const restore = layers.setMode(model, 'mean');
    const pred = tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync()));
    layers.restoreModes(model, restore);
    const w = ols(d.x, d.y);
    const ref = d.x.map((r) => w[0]! * r[0]! + w[1]! * r[1]! + w[2]!);
    const rmse = Math.sqrt(pred.reduce((s, p, i) => s + (p - ref[i]!) ** 2, 0) / 80);
    expect(rmse).toBeLessThan(0.15);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('epochLoop refuses bad counters naming them', async () => {
    const step = (): layers.StepStats => ({ loss: 0, nll: 0, kl: 0, correct: 0, size: 1 });
    await expectBadInput({
      call: 'epochs -1',
      run: () => layers.epochLoop({ source: { batches: () => [] }, epochs: -1, step }),
      arg: 'epochs',
    });
    await expectBadInput({
      call: 'numBatches 0',
      run: () =>
        layers.epochLoop({ source: { batches: () => [] }, epochs: 1, numBatches: 0, step }),
      arg: 'numBatches',
    });
    await expectBadInput({
      call: 'start.batch past the epoch',
      run: () =>
        layers.epochLoop({
          source: { batches: () => [] },
          epochs: 1,
          numBatches: 2,
          start: { batch: 3 },
          step,
        }),
      arg: 'start.batch',
    });
  });
});

describe('layers.epochLoop refuses bad options before the first step', () => {
  const step = (): layers.StepStats => ({ loss: 0, nll: 0, kl: 0, correct: 0, size: 1 });
  const src = { batches: () => [] };
  const cases: [string, () => Promise<unknown>, string][] = [
    [
      'misspelt onEpochEnds',
      () => layers.epochLoop({ source: src, epochs: 1, step, onEpochEnds: () => {} } as never),
      'onEpochEnds',
    ],
    [
      'source without batches',
      () => layers.epochLoop({ source: {} as never, epochs: 1, step }),
      'source',
    ],
    [
      'step not a function',
      () => layers.epochLoop({ source: src, epochs: 1, step: 3 as never }),
      'step',
    ],
    [
      'onStep not a function',
      () => layers.epochLoop({ source: src, epochs: 1, step, onStep: 'x' as never }),
      'onStep',
    ],
    [
      'yieldEvery 0.5',
      () => layers.epochLoop({ source: src, epochs: 1, step, yieldEvery: 0.5 }),
      'yieldEvery',
    ],
    [
      'start.step -1',
      () => layers.epochLoop({ source: src, epochs: 1, step, start: { step: -1 } }),
      'start.step',
    ],
    [
      'start.epoch 1.5',
      () => layers.epochLoop({ source: src, epochs: 2, step, start: { epoch: 1.5 } }),
      'start.epoch',
    ],
    ['options undefined', () => layers.epochLoop(undefined as never), 'options'],
  ];
  for (const [what, run, arg] of cases) {
    it(what, async () => {
      await expectBadInput({ call: what, run, arg });
    });
  }
});

describe('toolbox.fit reports the epoch mean per example', () => {
  it('uneven batches (32, 32, 4): history = sum_b |b| l_b / N, not the mean of batch means', async () => {
    const d = linearData(68);
    const x = tf.tensor2d(d.x);
    const y = tf.tensor2d(d.y, [68, 1]);
    const m = linearModel();
    const seen: { n: number; l: number }[] = [];
    const hist = await toolbox.fit(
      m,
      (xb, yb) => {
        const l = tf.losses.meanSquaredError(yb, m.apply(xb) as tf.Tensor) as tf.Scalar;
        seen.push({ n: xb.shape[0] as number, l: l.dataSync()[0] as number });
        return l;
      },
      { x, y },
      { epochs: 1, batchSize: 32, learningRate: 1e-30, seed: 2 },
    );
    expect(seen.map((s) => s.n)).toEqual([32, 32, 4]);
    const perExample = seen.reduce((s, b) => s + b.n * b.l, 0) / 68;
    expect(hist[0]).toBeCloseTo(perExample, 6);
    tf.dispose([x, y]);
    m.dispose();
  });
});
