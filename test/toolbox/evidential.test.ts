import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import digammaRef from '@stdlib/math-base-special-digamma';
import gammalnRef from '@stdlib/math-base-special-gammaln';
import { toolbox, ArgumentError } from '../../src/index.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';

const ev = toolbox.evidential;

type HostLoss = (e: number[], y: number[]) => number;

/** Closed forms on the host in float64, one input at a time. */
const hostMl: HostLoss = (e, y) => {
  const a = e.map((v) => v + 1);
  const S = a.reduce((s, v) => s + v, 0);
  return y.reduce((s, yk, k) => s + yk * (Math.log(S) - Math.log(a[k] as number)), 0);
};
const hostCe: HostLoss = (e, y) => {
  const a = e.map((v) => v + 1);
  const S = a.reduce((s, v) => s + v, 0);
  return y.reduce((s, yk, k) => s + yk * (digammaRef(S) - digammaRef(a[k] as number)), 0);
};
const hostSe: HostLoss = (e, y) => {
  const a = e.map((v) => v + 1);
  const S = a.reduce((s, v) => s + v, 0);
  return a.reduce((s, ak, k) => {
    const p = ak / S;
    return s + ((y[k] as number) - p) ** 2 + (p * (1 - p)) / (S + 1);
  }, 0);
};
const hostKl: HostLoss = (e, y) => {
  const at = e.map((v, k) => (y[k] as number) + (1 - (y[k] as number)) * (v + 1));
  const St = at.reduce((s, v) => s + v, 0);
  const K = e.length;
  let r = gammalnRef(St) - gammalnRef(K) - at.reduce((s, v) => s + gammalnRef(v), 0);
  for (const v of at) r += (v - 1) * (digammaRef(v) - digammaRef(St));
  return r;
};

const E = [
  [0.3, 4.2, 0.0, 1.7],
  [12.5, 0.1, 0.6, 0.05],
  [0.9, 0.9, 0.9, 0.9],
];
const LABELS = [1, 0, 3];
const ONEHOT = LABELS.map((l) => [0, 1, 2, 3].map((k) => (k === l ? 1 : 0)));

const cases: [string, (e: tf.Tensor, y: tf.Tensor | number[]) => tf.Tensor, HostLoss][] = [
  ['max-likelihood', (e, y) => ev.maximumLikelihoodLoss(e, y), hostMl],
  ['cross-entropy-bayes-risk', (e, y) => ev.crossEntropyBayesRisk(e, y), hostCe],
  ['squared-error-bayes-risk', (e, y) => ev.squaredErrorBayesRisk(e, y), hostSe],
  ['kl-uniform', (e, y) => ev.klUniformLoss(e, y), hostKl],
];

describe.each(cases)('evidential loss %s', (_name, loss, host) => {
  const hostMean = (flat: number[]): number =>
    E.reduce((s, _r, i) => s + host(flat.slice(i * 4, i * 4 + 4), ONEHOT[i] as number[]), 0) /
    E.length;

  it('matches the closed form (labels or one-hot targets), without leaks', () => {
    const e = tf.tensor2d(E);
    const want = hostMean(E.flat());
    expect(expectNoLeak(() => loss(e, LABELS))).toBeAllclose(want, { rtol: 2e-5, atol: 1e-6 });
    const y = tf.tensor2d(ONEHOT);
    expect(expectNoLeak(() => loss(e, y))).toBeAllclose(want, { rtol: 2e-5, atol: 1e-6 });
    tf.dispose([e, y]);
  });

  it('gradient matches finite differences of the float64 closed form', () => {
    const e = tf.tensor2d(E);
    const before = tf.memory().numTensors;
    const g = tf.grad((t: tf.Tensor) => loss(t, LABELS))(e);
    const fd = finiteDiff(hostMean, E.flat(), 1e-5);
    expect(g).toBeAllclose(fd, { rtol: 2e-3, atol: 2e-5 });
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    e.dispose();
  });
});

describe('evidential pieces', () => {
  it('KL is zero without misleading evidence and positive with it', () => {
    expect(expectNoLeak(() => ev.klUniformLoss([[5, 0, 0]], [0]))).toBeAllclose(0, { atol: 1e-5 });
    const v = expectNoLeak(() => ev.klUniformLoss([[0, 3, 0]], [0]));
    expect(v[0]).toBeGreaterThan(0.1);
  });

  it('evidence functions', () => {
    const o = [[-1, 0, 2, 30]];
    expect(expectNoLeak(() => ev.reluEvidence(o))).toBeAllclose([0, 0, 2, 30]);
    expect(expectNoLeak(() => ev.softplusEvidence(o))).toBeAllclose(
      [-1, 0, 2, 30].map((v) => Math.log1p(Math.exp(v))),
      { rtol: 1e-5 },
    );
    expect(expectNoLeak(() => ev.expEvidence(o))).toBeAllclose(
      [Math.exp(-1), 1, Math.exp(2), Math.exp(10)],
      { rtol: 1e-5 },
    );
    expect(() => ev.evidenceFunction('tanh')).toThrow(/evidence/);
  });

  it('Dirichlet outputs: probs alpha/S, u = K/S, u + sum b = 1', () => {
    const before = tf.memory().numTensors;
    const d = ev.dirichletOutputs([
      [0, 0, 0],
      [7, 1, 1],
    ]);
    expect(d.probs).toBeAllclose([1 / 3, 1 / 3, 1 / 3, 8 / 12, 2 / 12, 2 / 12], { rtol: 1e-5 });
    expect(d.uncertainty).toBeAllclose([1, 3 / 12], { rtol: 1e-5 });
    expect(d.strength).toBeAllclose([3, 12]);
    const bsum = tf.tidy(() => tf.add(tf.sum(d.belief, -1), d.uncertainty));
    expect(bsum).toBeAllclose([1, 1], { rtol: 1e-6 });
    tf.dispose([bsum, ...Object.values(d)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses labels out of range or fractional, negative or NaN evidence and an empty mean, without leaks', () => {
    const e = [
      [9, 0, 1],
      [0.5, 2, 0],
    ];
    const e0 = tf.zeros([0, 3]);
    const y0 = tf.zeros([0]);
    const before = tf.memory().numTensors;
    for (const loss of [
      ev.maximumLikelihoodLoss,
      ev.crossEntropyBayesRisk,
      ev.squaredErrorBayesRisk,
    ]) {
      expect(() => loss(e, [0, 3])).toThrow(
        /target: expected integer labels in \[0, 3\), got 3 at 1/,
      );
      expect(() => loss(e, [0, -1])).toThrow(/got -1 at 1/);
      expect(() => loss(e, [0, 1.7])).toThrow(/got 1.7\d* at 1/);
      expect(() => loss([[-3, 2, 0]], [0])).toThrow(
        /evidence: expected finite non-negative evidence .*softplusEvidence.*, got -3/,
      );
      expect(() => loss([[NaN, 2, 0]], [0])).toThrow(/evidence: .* got NaN/);
      expect(() => loss(e0, y0)).toThrow(
        /evidence: expected at least one input for reduction 'mean'/,
      );
    }
    expect(() => ev.dirichletOutputs([[-5, 0, 1]])).toThrow(/evidence: .* got -5/);
    const t = tf.tensor2d(e);
    expect(() => ev.evidentialStatistics(t, [7])).toThrow(/labels: expected 2 labels/);
    expect(() => ev.evidentialStatistics(t, [0, 7])).toThrow(
      /labels: expected integers in \[0, 3\), got 7/,
    );
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([e0, y0]);
  });

  it('statistics split u and evidence by correct vs wrong predictions', () => {
    const e = tf.tensor2d([
      [9, 0],
      [0, 2],
      [0, 6],
    ]);
    const s = ev.evidentialStatistics(e, [0, 0, 1]);
    expect(s.accuracy).toBeAllclose(2 / 3);
    expect(s.meanUCorrect).toBeAllclose((2 / 11 + 2 / 8) / 2);
    expect(s.meanUWrong).toBeAllclose(2 / 4);
    expect(s.meanEvidenceCorrect).toBeAllclose(7.5);
    expect(s.meanEvidenceWrong).toBeAllclose(2);
    expect(s.meanProbWrong).toBeAllclose(3 / 4);
    expect(s.uHistogramCorrect.counts.reduce((a, b) => a + b, 0)).toBe(2);
    expect(s.uHistogramWrong.counts[10]).toBe(1);
    e.dispose();
  });

  it('annealing schedules', () => {
    const rel = ev.relativePiecewise();
    const at = (step: number): number => rel({ step, totalSteps: 1000, epoch: 0 });
    expect(at(0)).toBe(0);
    expect(at(100)).toBeAllclose(0.005);
    expect(at(200)).toBeAllclose(0.01);
    expect(at(600)).toBeAllclose(0.505);
    expect(at(1000)).toBeAllclose(1);
    expect(at(2000)).toBe(1);
    const ep = ev.epochAnnealing();
    expect(ep({ step: 0, totalSteps: 1, epoch: 3 })).toBeAllclose(0.3);
    expect(ep({ step: 0, totalSteps: 1, epoch: 25 })).toBe(1);
    expect(() => ev.scheduleByName('cosine')).toThrow(ArgumentError);
  });

  it('EvidentialLoss.compute returns loss = nll + lambda kl and trains a tiny model', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [2],
          units: 8,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.dropout({ rate: 0.1, seed: 2 }),
        tf.layers.dense({
          units: 2,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        }),
      ],
    });
    const objective = new ev.EvidentialLoss(model, {
      loss: 'cross-entropy-bayes-risk',
      evidence: 'softplus',
      klSchedule: 'epoch',
    });
    const x = tf.tensor2d([
      [1, 1],
      [-1, -1],
      [1, 0.5],
      [-0.5, -1],
    ]);
    const y = tf.tensor1d([0, 1, 0, 1], 'int32');
    // warm-up: tfjs caches a few scalars on the first call of some kernels
    const w = objective.compute(x, y, { step: 0, totalSteps: 10, epoch: 4 });
    tf.dispose([w.loss, w.nll, w.kl, w.output]);
    const before = tf.memory().numTensors;
    const r = objective.compute(x, y, { step: 0, totalSteps: 10, epoch: 4 });
    expect(r.klWeight).toBeAllclose(0.4);
    const recomposed = tf.tidy(() => tf.add(r.nll, tf.mul(r.kl, 0.4)));
    expect(r.loss).toBeAllclose(recomposed, { rtol: 1e-6 });
    expect(r.output.shape).toEqual([4, 2]);
    tf.dispose([r.loss, r.nll, r.kl, r.output, recomposed]);
    expect(tf.memory().numTensors).toBe(before);
    const opt = tf.train.adam(0.1);
    let first = 0;
    let last = 0;
    for (let i = 0; i < 25; i++) {
      const l = opt.minimize(
        () => objective.compute(x, y, { step: i, totalSteps: 25, epoch: 0 }).loss,
        true,
      );
      const v = (l as tf.Scalar).dataSync()[0] as number;
      if (i === 0) first = v;
      last = v;
      l?.dispose();
    }
    expect(last).toBeLessThan(first * 0.7);
    opt.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it('evidentialTrainLoss has the trainer shape with the annealed KL as kl', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [2],
          units: 3,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
        }),
      ],
    });
    const f = ev.evidentialTrainLoss({ loss: 'max-likelihood', evidence: 'exp' });
    const x = tf.tensor2d([
      [1, 2],
      [0.5, -1],
    ]);
    const y = tf.tensor1d([2, 0], 'int32');
    const t = tf.tidy(() => {
      const r = f(model, x, y, { step: 50, epoch: 0, numBatches: 100, numEpochs: 1 });
      const direct = tf.add(
        ev.maximumLikelihoodLoss(ev.expEvidence(r.logits), y),
        tf.mul(ev.klUniformLoss(ev.expEvidence(r.logits), y), 0.01 + (0.99 * 0.3) / 0.8),
      );
      return [r.loss, direct, r.nll, r.kl];
    });
    expect(t[0]).toBeAllclose(t[1] as tf.Tensor, { rtol: 1e-5 });
    const sum = tf.tidy(() => tf.add(t[2] as tf.Tensor, t[3] as tf.Tensor));
    expect(t[0]).toBeAllclose(sum, { rtol: 1e-6 });
    expect(() => ev.evidentialTrainLoss({ loss: 'hinge' })).toThrow(/loss/);
    tf.dispose([...t, sum, x, y]);
    model.dispose();
  });
});
