import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Normal } from '../../src/distributions/normal.js';
import {
  AutoNormal,
  bayesianModule,
  clearParamStore,
  forwardWith,
  getParamStore,
  namedWeights,
  param,
  randomModule,
  sample,
  SVI,
  trace,
  TraceELBO,
  TraceMeanFieldELBO,
} from '../../src/ppl/index.js';

const makeNet = (): tf.Sequential =>
  tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 5, activation: 'relu', name: 'fc1' }),
      tf.layers.dense({ units: 3, name: 'out' }),
    ],
  });

afterEach(() => clearParamStore());

describe('functional forward', () => {
  it('names weights layer.weight and reproduces the network with its own weights', () => {
    const net = makeNet();
    expect(namedWeights(net).map((w) => w.key)).toEqual([
      'fc1.kernel',
      'fc1.bias',
      'out.kernel',
      'out.bias',
    ]);
    const x = tf.randomNormal([6, 4]);
    const ref = net.predict(x) as tf.Tensor;
    const got = forwardWith(net, () => undefined, x);
    expect(got).toBeAllclose(ref, { rtol: 1e-5, atol: 1e-6 });
    // substituted weights: zero kernel of the last layer -> output equals its bias
    const bias = tf.tensor1d([1, 2, 3]);
    const zero = tf.zeros([5, 3]);
    const sub = forwardWith(
      net,
      (k) => (k === 'out.kernel' ? zero : k === 'out.bias' ? bias : undefined),
      x,
    );
    expect(sub).toBeAllclose([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    tf.dispose([x, ref, got, bias, zero, sub]);
    net.dispose();
  });

  it('runs Conv2D stacks with substituted weights', () => {
    const net = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [6, 6, 1],
          filters: 2,
          kernelSize: 3,
          activation: 'relu',
          name: 'c1',
        }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, name: 'd' }),
      ],
    });
    const x = tf.randomNormal([2, 6, 6, 1]);
    const ref = net.predict(x) as tf.Tensor;
    const got = forwardWith(net, () => undefined, x);
    expect(got).toBeAllclose(ref, { rtol: 1e-4, atol: 1e-5 });
    tf.dispose([x, ref, got]);
    net.dispose();
  });
});

describe('randomModule (pyro.random_module)', () => {
  it('samples every weight as a site and trains the guide through the sampled network', () => {
    const net = makeNet();
    const ws = namedWeights(net);
    const x = tf.randomNormal([8, 4]);
    const y = tf.randomNormal([8, 3]);
    const model = (xs: tf.Tensor, ys: tf.Tensor): void => {
      const priors = Object.fromEntries(ws.map((w) => [w.key, new Normal(tf.zeros(w.shape), 1)]));
      const lifted = randomModule('module', net, priors)();
      sample('obs', new Normal(lifted(xs), 1), { obs: ys });
    };
    const guide = (): void => {
      const dists = Object.fromEntries(
        ws.map((w) => [
          w.key,
          new Normal(
            param(`${w.key}.mu`, () => tf.zeros(w.shape)),
            tf.softplus(param(`${w.key}.s`, () => tf.fill(w.shape, -3))),
          ),
        ]),
      );
      randomModule('module', net, dists)();
    };
    const tr = trace(model).getTrace(x, y);
    expect(tr.latentSites().map((s) => s.name)).toEqual(ws.map((w) => `module$$$${w.key}`));
    tr.dispose();
    const svi = new SVI(model, guide, tf.train.adam(0.05), new TraceELBO());
    svi.step(x, y);
    svi.step(x, y);
    const mu0 = getParamStore().value('out.kernel.mu');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) svi.step(x, y);
    const mu1 = getParamStore().value('out.kernel.mu');
    expect(tf.memory().numTensors).toBe(before + 1);
    // gradients reached the guide parameters through the functional forward pass
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(mu0, mu1))).dataSync()[0] as number)).toBeGreaterThan(
      0,
    );
    tf.dispose([mu0, mu1, x, y]);
    net.dispose();
  });

  it('weights without a prior become params; bad keys and shapes are rejected', () => {
    const net = makeNet();
    const x = tf.randomNormal([2, 4]);
    const tr = trace(() =>
      randomModule('m', net, { 'out.bias': new Normal(tf.zeros([3]), 1) })()(x),
    ).getTrace();
    expect(tr.get('m$$$out.bias')?.type).toBe('sample');
    expect(tr.get('m$$$fc1.kernel')?.type).toBe('param');
    tr.dispose();
    expect(() => randomModule('m', net, { 'fc9.kernel': new Normal(0, 1) })).toThrow(/fc9/);
    const bad = new Normal(tf.zeros([2]), 1);
    expect(() => tf.tidy(() => randomModule('m', net, { 'out.bias': bad })()(x))).toThrow(/shape/);
    bad.dispose();
    x.dispose();
    net.dispose();
  });
});

describe('bayesianModule (priors declared in place)', () => {
  it('works with AutoNormal and TraceMeanFieldELBO', () => {
    const net = makeNet();
    const bnn = bayesianModule(net, (_key, shape) => new Normal(tf.zeros(shape), tf.ones(shape)));
    expect(bnn.keys()).toEqual(['fc1.kernel', 'fc1.bias', 'out.kernel', 'out.bias']);
    const x = tf.randomNormal([8, 4], 0, 1, 'float32', 11);
    const y = tf.randomNormal([8, 3], 0, 1, 'float32', 12);
    const model = (xs: tf.Tensor, ys: tf.Tensor): void => {
      sample('obs', new Normal(bnn.forward(xs), 1), { obs: ys });
    };
    const guide = new AutoNormal(model);
    const svi = new SVI(model, guide, tf.train.adam(0.05), new TraceMeanFieldELBO());
    // the loss is a one-sample estimate: compare averages of 20 before and after training
    const meanLoss = (): number => {
      let s = 0;
      for (let i = 0; i < 20; i++) s += svi.evaluateLoss(x, y);
      return s / 20;
    };
    svi.step(x, y); // creates the guide's parameters
    const l0 = meanLoss();
    for (let i = 0; i < 40; i++) svi.step(x, y);
    expect(meanLoss()).toBeLessThan(l0);
    const med = guide.median();
    expect(Object.keys(med)).toEqual(bnn.keys().map((k) => `net.${k}`));
    tf.dispose([...Object.values(med), x, y]);
    net.dispose();
  });
});
