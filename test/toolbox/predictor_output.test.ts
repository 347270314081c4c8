import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, layers, toolbox } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

/** A 3 -> 4 network ending in `activation` (and optionally a Dropout before the head). */
function net(
  activation: 'softmax' | 'linear',
  opts: { dropout?: boolean; softmaxLayer?: boolean } = {},
): tf.Sequential {
  const ls: tf.layers.Layer[] = [
    tf.layers.dense({
      inputShape: [3],
      units: 8,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
    }),
  ];
  if (opts.dropout === true) ls.push(tf.layers.dropout({ rate: 0.3 }));
  ls.push(
    tf.layers.dense({
      units: 4,
      activation: opts.softmaxLayer === true ? 'linear' : activation,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
    }),
  );
  if (opts.softmaxLayer === true) ls.push(tf.layers.softmax());
  return tf.sequential({ layers: ls });
}

const x = tf.tensor2d([
  [0.1, 0.2, 0.3],
  [1, -1, 0.5],
  [3, 2, -4],
]);

/** softmax(v) in float64 on the host. */
function softmax64(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

describe('predictors detect softmax outputs', () => {
  it('reads the output kind from the last layer (also a Softmax layer or a nested model)', () => {
    expect(toolbox.outputKindOf(net('softmax'))).toBe('probs');
    expect(toolbox.outputKindOf(net('linear', { softmaxLayer: true }))).toBe('probs');
    expect(toolbox.outputKindOf(net('linear'))).toBe('logits');
    const outer = tf.sequential({ layers: [net('softmax')] });
    expect(toolbox.outputKindOf(outer)).toBe('probs');
    const bnn = tf.sequential({
      layers: [layers.denseReparam({ inputShape: [3], outChannels: 4, activation: 'softmax' })],
    });
    expect(toolbox.outputKindOf(bnn)).toBe('probs');
  });

  it('looksLikeProbs: softmax rows yes, logits no', () => {
    const logits = tf.tensor2d([
      [2, -1, 0.5],
      [0.2, 0.3, 0.1],
    ]);
    const probs = tf.softmax(logits);
    expect(toolbox.looksLikeProbs(probs)).toBe(true);
    expect(toolbox.looksLikeProbs(logits)).toBe(false);
    expect(toolbox.looksLikeProbs(tf.tensor2d([[0.5, 0.6]]))).toBe(false); // sums to 1.1
    expect(toolbox.looksLikeProbs(tf.tensor2d([[1.5, -0.5]]))).toBe(false); // sums to 1, negative
    expect(() => toolbox.looksLikeProbs(tf.tensor1d([0.5, 0.5]))).toThrow(ArgumentError);
    tf.dispose([logits, probs]);
  });

  it('a softmax-ended model is not given a second softmax (model, function and MC dropout forms)', () => {
    const m = net('softmax');
    const direct = m.predict(x) as tf.Tensor;
    const want = direct.arraySync() as number[][];
    const forms = [
      toolbox.stochasticPredictor(m),
      toolbox.stochasticPredictor((v) => m.predict(v) as tf.Tensor),
      toolbox.ensemblePredictor([m, (v: tf.Tensor) => m.predict(v) as tf.Tensor]),
    ];
    for (const p of forms) {
      const s = p.predictSamples(x, 2);
      const got = s.arraySync();
      for (const sample of got) expect(tf.tensor(sample)).toBeAllclose(want, { atol: 1e-6 });
      s.dispose();
    }
    // (a second softmax would pull every row towards uniform: 4 classes, far from `want`)
    const md = toolbox.mcDropoutPredictor(net('softmax', { dropout: true })).predictSamples(x, 3);
    const rowSums = tf.sum(md, -1);
    expect(rowSums).toBeAllclose(tf.onesLike(rowSums), { atol: 1e-5 });
    tf.dispose([direct, md, rowSums]);
  });

  it('logit outputs still get their softmax; explicit kinds override; no leaks', () => {
    const m = net('linear');
    const logits = (m.predict(x) as tf.Tensor).arraySync() as number[][];
    const want = logits.map(softmax64);
    for (const p of [
      toolbox.stochasticPredictor(m),
      toolbox.stochasticPredictor((v) => m.predict(v) as tf.Tensor),
    ]) {
      const s = p.predictSamples(x, 1);
      expect(s.squeeze([0])).toBeAllclose(want, { atol: 1e-6 });
      s.dispose();
    }
    const asProbs = toolbox.stochasticPredictor(m, 'probs').predictSamples(x, 1);
    expect(asProbs.squeeze([0])).toBeAllclose(logits, { atol: 1e-6 });
    asProbs.dispose();
    expect(() => toolbox.stochasticPredictor(m, 'softmax' as 'probs')).toThrow(/output: expected/);
    const sm = net('softmax');
    expectNoLeak(() => {
      toolbox
        .stochasticPredictor((v) => sm.predict(v) as tf.Tensor)
        .predictSamples(x, 3)
        .dispose();
      toolbox.stochasticPredictor(m).predictSamples(x, 3).dispose();
    });
  });

  it('one output is a binary classifier: [1 - p, p] from a sigmoid head or a logit', () => {
    const head = (activation: 'sigmoid' | 'linear'): tf.Sequential =>
      tf.sequential({
        layers: [
          tf.layers.dense({
            inputShape: [3],
            units: 1,
            activation,
            kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
          }),
        ],
      });
    const sig = head('sigmoid');
    const lin = head('linear');
    const z = (lin.predict(x) as tf.Tensor).arraySync() as number[][];
    const p = (sig.predict(x) as tf.Tensor).arraySync() as number[][];
    const fromLogit = z.map(([v]) => [
      1 / (1 + Math.exp(v as number)),
      1 / (1 + Math.exp(-(v as number))),
    ]);
    const fromProb = p.map(([v]) => [1 - (v as number), v as number]);
    expect(toolbox.outputKindOf(sig)).toBe('probs');
    expect(toolbox.outputKindOf(lin)).toBe('logits');
    const preds = [
      [toolbox.ensemblePredictor([sig]), fromProb],
      [toolbox.stochasticPredictor(lin), fromLogit],
      [toolbox.stochasticPredictor((v) => sig.predict(v) as tf.Tensor), fromProb],
    ] as const;
    for (const [pred, want] of preds) {
      const s = pred.predictSamples(x, 1);
      expect(s.shape).toEqual([1, 3, 2]);
      expect(s.squeeze([0])).toBeAllclose(want, { atol: 1e-6 });
      s.dispose();
    }
    expectNoLeak(() => preds.map(([pred]) => pred.predictSamples(x, 1)));
  });

  it('rejects a multi-label sigmoid head and an ensemble whose members disagree on the classes', () => {
    const multi = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 4, activation: 'sigmoid' })],
    });
    expect(() => toolbox.stochasticPredictor(multi)).toThrow(
      /model: ends in a sigmoid over 4 outputs \(a multi-label head\)/,
    );
    const five = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 5 })] });
    const four = net('linear');
    const before = tf.memory().numTensors;
    expect(() => toolbox.ensemblePredictor([four, five]).predictSamples(x, 2)).toThrow(
      /members: member 1 predicts 5 classes, member 0 4/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('classLogits: softmax of the class logits is classProbs for every head; modelLogits does not leak', () => {
    const cases: [number[][], 'logits' | 'probs'][] = [
      [
        [
          [0.1, 2, -1],
          [3, 0, 0],
        ],
        'logits',
      ],
      [
        [
          [0.2, 0.5, 0.3],
          [1, 0, 0],
        ],
        'probs',
      ],
      [[[0.3], [-2]], 'logits'],
      [[[0.25], [1]], 'probs'],
    ];
    for (const [v, kind] of cases) {
      const out = tf.tensor2d(v);
      const a = tf.tidy(() => tf.softmax(toolbox.classLogits(out, kind)));
      const b = toolbox.classProbs(out, kind);
      expect(a).toBeAllclose(b.arraySync() as number[][], { atol: 1e-6 });
      tf.dispose([out, a, b]);
    }
    const sm = net('softmax');
    const logitsOf = toolbox.modelLogits(sm);
    const z = expectNoLeak(() => logitsOf(x, false));
    const p = (sm.predict(x) as tf.Tensor).arraySync() as number[][];
    expect(z).toBeAllclose(p.flat().map(Math.log), { atol: 1e-5 });
  });
});
