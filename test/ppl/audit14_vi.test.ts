/**
 * Audit (session 14) of the Pyro-style VI pieces of issue 5 on models off the seed path:
 * `randomModule` on a user's own MLP and CNN (output against a float64 / tfjs reference with the
 * sampled weights, log-density of the prior sites in closed form, layers without a functional form
 * refused at creation), `TraceMeanFieldELBO` against a hand-computed analytic-KL ELBO, and
 * `TraceELBO` with an explicitly subsampled plate scaled by size / subsample size.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions, ppl, setSeed, clearSeed } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';

const { Normal } = distributions;
afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const flat = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const lnN = (x: number, m: number, s: number): number =>
  -0.5 * Math.log(2 * Math.PI) - Math.log(s) - 0.5 * ((x - m) / s) ** 2;
const klN = (m: number, s: number, pm: number, ps: number): number =>
  Math.log(ps / s) + (s * s + (m - pm) ** 2) / (2 * ps * ps) - 0.5;

describe('randomModule on networks off the seed path', () => {
  it('an MLP 3-4-2 (tanh): the lifted output is the float64 forward pass with the sampled weights; prior log-density in closed form', () => {
    setSeed(1);
    const net = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4, activation: 'tanh', name: 'h' }),
        tf.layers.dense({ units: 2, name: 'out' }),
      ],
    });
    const priors = (key: string, shape: number[]): distributions.Distribution =>
      new Normal(tf.fill(shape, key.endsWith('bias') ? 0.5 : 0), tf.fill(shape, 0.7));
    const x = tf.tensor2d([
      [0.3, -1, 2],
      [1, 0.5, -0.2],
    ]);
    const model = (): tf.Tensor => ppl.randomModule('m', net, priors)()(x);
    const tr = ppl.trace(ppl.seed(model, 4)).getTrace();
    const names = [...tr.nodes.keys()].filter((n) => tr.nodes.get(n)?.type === 'sample');
    expect(names.sort()).toEqual(['m$$$h.bias', 'm$$$h.kernel', 'm$$$out.bias', 'm$$$out.kernel']);
    const w = (k: string): number[] => flat(tr.value(`m$$$${k}`));
    const xv = flat(x);
    const ref: number[] = [];
    for (let r = 0; r < 2; r++) {
      const h = [0, 1, 2, 3].map((j) => {
        let s = w('h.bias')[j] as number;
        for (let i = 0; i < 3; i++)
          s += (xv[r * 3 + i] as number) * (w('h.kernel')[i * 4 + j] as number);
        return Math.tanh(s);
      });
      for (let j = 0; j < 2; j++) {
        let s = w('out.bias')[j] as number;
        for (let i = 0; i < 4; i++) s += (h[i] as number) * (w('out.kernel')[i * 2 + j] as number);
        ref.push(s);
      }
    }
    // replaying the model on its trace reuses the sampled weights (Pyro's positional
    // poutine.replay(model, trace) and the {trace} form agree)
    const out = ppl.replay(model, tr)();
    const out2 = ppl.replay(model, { trace: tr })();
    expect(flat(out2)).toEqual(flat(out));
    out2.dispose();
    expect(out).toBeAllclose(ref, { rtol: 1e-5, atol: 1e-5 });
    out.dispose();
    let lp = 0;
    for (const k of ['h.kernel', 'h.bias', 'out.kernel', 'out.bias']) {
      for (const v of w(k)) lp += lnN(v, k.endsWith('bias') ? 0.5 : 0, 0.7);
    }
    expect(tr.logProbSum()).toBeAllclose(lp, { rtol: 1e-5 });
    tr.dispose();
    x.dispose();
    net.dispose();
  });

  it('a CNN: conditioned on the network’s own weights, the lifted network equals net.predict', () => {
    setSeed(2);
    const net = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [5, 6, 2],
          filters: 3,
          kernelSize: [2, 3],
          strides: [1, 2],
          padding: 'same',
          activation: 'relu',
          name: 'c',
        }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dropout({ rate: 0.3 }),
        tf.layers.dense({ units: 3, name: 'd' }),
      ],
    });
    const x = tf.randomNormal([2, 5, 6, 2]);
    const own: Record<string, tf.Tensor> = {};
    for (const l of net.layers) {
      for (const v of l.weights) own[`m$$$${l.name}.${v.originalName.split('/').pop()}`] = v.read();
    }
    const model = (): tf.Tensor =>
      ppl.randomModule('m', net, (_k, shape) => new Normal(tf.zeros(shape), tf.ones(shape)))()(x);
    const y = ppl.condition(model, own)();
    const want = net.predict(x) as tf.Tensor;
    expect(y).toBeAllclose(want, { rtol: 1e-5, atol: 1e-5 });
    tf.dispose([x, y, want]);
    net.dispose();
  });

  it('a network with a layer the functional pass cannot evaluate is refused when lifted, naming net', () => {
    for (const extra of [
      tf.layers.batchNormalization(),
      tf.layers.conv1d({ filters: 2, kernelSize: 1 }),
    ]) {
      const net = tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [3], units: 4 }),
          ...(extra.getClassName() === 'Conv1D'
            ? [tf.layers.reshape({ targetShape: [4, 1] })]
            : []),
          extra,
        ],
      });
      const before = tf.memory().numTensors;
      let err: unknown;
      try {
        ppl.randomModule('m', net, (_k, s) => new Normal(tf.zeros(s), tf.ones(s)));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).argument).toBe('net');
      expect((err as Error).message).toMatch(extra.getClassName());
      expect(tf.memory().numTensors).toBe(before);
      expect(() => new ppl.BayesianModule(net, () => undefined)).toThrow(ArgumentError);
      net.dispose();
    }
  });
});

describe('ELBOs against hand computations on a model off the seed path', () => {
  const ys = [1.2, -0.4, 0.9, 2.2, 0.1, 1.7];
  const model = (y: tf.Tensor): void => {
    const mu = ppl.sample('mu', new Normal(0.5, 1.5));
    ppl.plate('data', 6, () => ppl.sample('y', new Normal(mu, 0.8), { obs: y }));
  };
  const guide = (): void => {
    const loc = ppl.param('loc', 0.2);
    const scale = ppl.param('scale', 0.4, { constraint: ppl.constraints.positive });
    ppl.sample('mu', new Normal(loc, scale));
  };

  it('TraceMeanFieldELBO = -sum log p(y | z) + KL(q || p) in closed form, z the guide’s draw', () => {
    const y = tf.tensor1d(ys);
    const g = ppl.seed(guide, 7);
    const tr = ppl.trace(g).getTrace();
    const z = tr.value('mu').dataSync()[0] as number;
    tr.dispose();
    const hand = -ys.reduce((a, v) => a + lnN(v, z, 0.8), 0) + klN(0.2, 0.4, 0.5, 1.5);
    expect(new ppl.TraceMeanFieldELBO().loss(model, g, y)).toBeCloseTo(hand, 4);
    // TraceELBO: the same draw, log q - log p at z instead of the analytic KL
    const hand2 = -ys.reduce((a, v) => a + lnN(v, z, 0.8), 0) - lnN(z, 0.5, 1.5) + lnN(z, 0.2, 0.4);
    expect(new ppl.TraceELBO().loss(model, g, y)).toBeCloseTo(hand2, 4);
    y.dispose();
  });

  it('TraceELBO with plate(subsample: idx) scales the subsampled log-likelihood by size / |idx|', () => {
    const y = tf.tensor1d(ys);
    const idx = [4, 1];
    const sub = (yy: tf.Tensor): void => {
      const mu = ppl.sample('mu', new Normal(0.5, 1.5));
      ppl.plate('data', 6, { subsample: idx }, (i: tf.Tensor) =>
        ppl.sample('y', new Normal(mu, 0.8), { obs: tf.gather(yy, i) }),
      );
    };
    const g = ppl.seed(guide, 8);
    const tr = ppl.trace(g).getTrace();
    const z = tr.value('mu').dataSync()[0] as number;
    tr.dispose();
    const lik = idx.reduce((a, i) => a + lnN(ys[i] as number, z, 0.8), 0);
    const hand = -((6 / 2) * lik + lnN(z, 0.5, 1.5) - lnN(z, 0.2, 0.4));
    expect(new ppl.TraceELBO().loss(sub, g, y)).toBeCloseTo(hand, 4);
    y.dispose();
  });
});
