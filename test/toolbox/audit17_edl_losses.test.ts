/**
 * Audit probes (session 17) as a user of dougbrion's pytorch-classification-uncertainty (Sensoy et
 * al. 2018) and labml's annotated EDL: `edl_mse_loss`, `edl_log_loss`, `edl_digamma_loss` on raw
 * outputs with the annealed KL of the misleading evidence, against float64 references written here
 * (@stdlib digamma / gammaln), finite-difference gradients, other class counts and bad inputs.
 */
import digamma from '@stdlib/math-base-special-digamma';
import gammaln from '@stdlib/math-base-special-gammaln';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { expectBadInput, expectNoLeak, finiteDiff } from '../helpers.js';

const ev = toolbox.evidential;

/** A deterministic pseudo-random stream in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** Raw outputs in [-5, 15), kept away from the ReLU kink at 0 (|o| >= 0.05). */
function randomOutputs(n: number, k: number, seed: number): number[][] {
  const r = lcg(seed);
  return Array.from({ length: n }, () =>
    Array.from({ length: k }, () => {
      const v = -5 + 20 * r();
      return Math.abs(v) < 0.05 ? 0.5 : v;
    }),
  );
}

type Evid = 'relu' | 'softplus' | 'exp';
const EVIDENCE: Record<Evid, (o: number) => number> = {
  relu: (o) => Math.max(0, o),
  softplus: (o) => (o > 30 ? o : Math.log1p(Math.exp(o))),
  exp: (o) => Math.exp(Math.min(10, Math.max(-10, o))),
};

/** KL[Dir(a) || Dir(1)] in float64 (the reference's kl_divergence). */
function klUniform64(a: number[]): number {
  const S = a.reduce((x, y) => x + y, 0);
  return (
    gammaln(S) -
    gammaln(a.length) -
    a.reduce((acc, v) => acc + gammaln(v), 0) +
    a.reduce((acc, v) => acc + (v - 1) * (digamma(v) - digamma(S)), 0)
  );
}

/** The reference's per-input EDL losses (float64), `kind` = mse | log | digamma. */
function edl64(
  kind: 'mse' | 'log' | 'digamma',
  out: number[],
  y: number[],
  epoch: number,
  step: number,
  evidence: Evid = 'relu',
  useKL = true,
): number {
  const alpha = out.map((o) => EVIDENCE[evidence](o) + 1);
  const S = alpha.reduce((a, b) => a + b, 0);
  let risk = 0;
  for (let k = 0; k < alpha.length; k++) {
    const a = alpha[k] as number;
    const yk = y[k] as number;
    if (kind === 'mse') risk += (yk - a / S) ** 2 + (a * (S - a)) / (S * S * (S + 1));
    else if (kind === 'log') risk += yk * (Math.log(S) - Math.log(a));
    else risk += yk * (digamma(S) - digamma(a));
  }
  if (!useKL) return risk;
  const coef = Math.min(1, epoch / step);
  const klAlpha = alpha.map((a, k) => (a - 1) * (1 - (y[k] as number)) + 1);
  return risk + coef * klUniform64(klAlpha);
}

const oneHot = (label: number, k: number): number[] =>
  Array.from({ length: k }, (_, j) => (j === label ? 1 : 0));

const LOSSES = {
  mse: ev.edlMseLoss,
  log: ev.edlLogLoss,
  digamma: ev.edlDigammaLoss,
} as const;

describe('audit17: edl_mse_loss / edl_log_loss / edl_digamma_loss vs float64 (dougbrion)', () => {
  for (const [n, k] of [
    [6, 10],
    [5, 3],
    [3, 2],
    [2, 100],
  ] as const) {
    for (const kind of ['mse', 'log', 'digamma'] as const) {
      it(`${kind}: N=${n}, K=${k}, epochs 0, 3, 10, 25 with annealing_step 10 (batch mean)`, () => {
        const out = randomOutputs(n, k, 7 * n + k);
        const labels = out.map((_, i) => (i * 3 + 1) % k);
        const y = labels.map((l) => oneHot(l, k));
        for (const epoch of [0, 3, 10, 25]) {
          const want = out.reduce((acc, o, i) => acc + edl64(kind, o, y[i]!, epoch, 10), 0) / n;
          const [got] = expectNoLeak(() => LOSSES[kind](out, y, epoch, k, 10));
          expect(got).toBeCloseTo(want, 3);
          expect(Math.abs((got as number) - want) / Math.max(1, Math.abs(want))).toBeLessThan(2e-5);
        }
      });
    }
  }

  it('integer labels [N] (int32 tensor or array) give the one-hot result', () => {
    const out = randomOutputs(4, 5, 3);
    const labels = [0, 4, 2, 2];
    const y = labels.map((l) => oneHot(l, 5));
    const lt = tf.tensor1d(labels, 'int32');
    for (const f of Object.values(LOSSES)) {
      const [a] = expectNoLeak(() => f(out, y, 4, 5, 10));
      const [b] = expectNoLeak(() => f(out, lt, 4, 5, 10));
      const [c] = expectNoLeak(() => f(out, labels, 4, 5, 10));
      expect(b).toBeCloseTo(a as number, 6);
      expect(c).toBeCloseTo(a as number, 6);
    }
    lt.dispose();
  });

  it("reduction 'none' gives each input's loss [N], 'sum' their sum", () => {
    const out = randomOutputs(5, 4, 11);
    const labels = [0, 1, 2, 3, 0];
    const per = expectNoLeak(() => ev.edlDigammaLoss(out, labels, 7, 4, 10, { reduction: 'none' }));
    expect(per).toHaveLength(5);
    per.forEach((v, i) =>
      expect(v).toBeCloseTo(edl64('digamma', out[i]!, oneHot(labels[i]!, 4), 7, 10), 4),
    );
    const [sum] = expectNoLeak(() =>
      ev.edlDigammaLoss(out, labels, 7, 4, 10, { reduction: 'sum' }),
    );
    expect(sum).toBeCloseTo(
      per.reduce((a, b) => a + b, 0),
      4,
    );
  });

  for (const evidence of ['softplus', 'exp'] as const) {
    it(`evidence '${evidence}' (the other evidence functions of the reference) vs float64`, () => {
      const out = randomOutputs(4, 6, 23).map((r) => r.map((v) => v / 2));
      const labels = [5, 0, 3, 1];
      for (const kind of ['mse', 'log', 'digamma'] as const) {
        const want =
          out.reduce(
            (acc, o, i) => acc + edl64(kind, o, oneHot(labels[i]!, 6), 2, 10, evidence),
            0,
          ) / 4;
        const [got] = expectNoLeak(() => LOSSES[kind](out, labels, 2, 6, 10, { evidence }));
        expect(Math.abs((got as number) - want) / Math.max(1, Math.abs(want))).toBeLessThan(2e-5);
      }
    });
  }

  it('a custom evidence function is used as given', () => {
    const out = randomOutputs(3, 4, 5);
    const labels = [1, 2, 3];
    const [a] = expectNoLeak(() =>
      ev.edlLogLoss(out, labels, 5, 4, 10, { evidence: (o) => ev.softplusEvidence(o) }),
    );
    const [b] = expectNoLeak(() => ev.edlLogLoss(out, labels, 5, 4, 10, { evidence: 'softplus' }));
    expect(a).toBeCloseTo(b as number, 6);
  });

  it('useKL: false is the Bayes risk alone; epoch 0 has no KL term either', () => {
    const out = randomOutputs(4, 5, 31);
    const labels = [0, 1, 2, 3];
    const [noKl] = expectNoLeak(() => ev.edlMseLoss(out, labels, 9, 5, 10, { useKL: false }));
    const [risk] = expectNoLeak(() =>
      ev.squaredErrorBayesRisk(
        out.map((r) => r.map((v) => Math.max(0, v))),
        labels,
      ),
    );
    expect(noKl).toBeCloseTo(risk as number, 6);
    const [e0] = expectNoLeak(() => ev.edlMseLoss(out, labels, 0, 5, 10));
    expect(e0).toBeCloseTo(risk as number, 6);
    const [e9] = expectNoLeak(() => ev.edlMseLoss(out, labels, 9, 5, 10));
    expect(e9 as number).toBeGreaterThan((risk as number) + 1e-3);
  });

  it('annealingCoefficient = min(1, epoch / annealing_step), as epochAnnealing', () => {
    expect(ev.annealingCoefficient(0, 10)).toBe(0);
    expect(ev.annealingCoefficient(3, 10)).toBeCloseTo(0.3, 12);
    expect(ev.annealingCoefficient(10, 10)).toBe(1);
    expect(ev.annealingCoefficient(57, 10)).toBe(1);
    expect(ev.annealingCoefficient(1, 3)).toBeCloseTo(1 / 3, 12);
    const sched = ev.epochAnnealing(7);
    for (const e of [0, 2, 6, 7, 30]) {
      expect(sched({ step: 0, totalSteps: 1, epoch: e })).toBeCloseTo(
        ev.annealingCoefficient(e, 7),
        12,
      );
    }
  });

  it('the KL term sees only the misleading evidence: more evidence for the true class leaves it unchanged', () => {
    const base = [[3, 0.5, 2, 7]];
    const more = [[30, 0.5, 2, 7]];
    const [a] = expectNoLeak(() => ev.klUniformLoss(base, [0]));
    const [b] = expectNoLeak(() => ev.klUniformLoss(more, [0]));
    expect(a).toBeCloseTo(b as number, 6);
    expect(a).toBeCloseTo(klUniform64([1, 1.5, 3, 8]), 4);
    // and no misleading evidence: KL = 0
    const [z] = expectNoLeak(() => ev.klUniformLoss([[12, 0, 0, 0]], [0]));
    expect(Math.abs(z as number)).toBeLessThan(1e-5);
  });

  it('dirichletKLUniform (the reference kl_divergence) vs float64, 0 at alpha = 1', () => {
    const r = lcg(9);
    for (const k of [2, 3, 10, 50]) {
      const rows = Array.from({ length: 3 }, () => Array.from({ length: k }, () => 0.2 + 12 * r()));
      const got = expectNoLeak(() => ev.dirichletKLUniform(rows, k));
      rows.forEach((a, i) =>
        expect(Math.abs(got[i]! - klUniform64(a)) / Math.max(1, klUniform64(a))).toBeLessThan(1e-4),
      );
    }
    const [zero] = expectNoLeak(() => ev.dirichletKLUniform([[1, 1, 1, 1]]));
    expect(Math.abs(zero as number)).toBeLessThan(1e-5);
  });
});

describe('audit17: EDL gradients vs finite differences (float64 references)', () => {
  for (const kind of ['mse', 'log', 'digamma'] as const) {
    it(`d ${kind} / d output (ReLU evidence, epoch 4 of 10) matches central differences`, () => {
      const out = randomOutputs(3, 4, 41 + kind.length);
      const labels = [0, 3, 1];
      const flat = out.flat();
      const f64 = (x: number[]): number =>
        labels.reduce(
          (acc, l, i) => acc + edl64(kind, x.slice(i * 4, i * 4 + 4), oneHot(l, 4), 4, 10),
          0,
        ) / 3;
      const want = finiteDiff(f64, flat, 1e-5);
      const before = tf.memory().numTensors;
      const x = tf.tensor2d(out);
      const g = tf.grad((o: tf.Tensor) => LOSSES[kind](o, labels, 4, 4, 10))(x);
      const got = Array.from(g.dataSync());
      g.dispose();
      x.dispose();
      expect(tf.memory().numTensors).toBe(before);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 3));
      // negative outputs get no gradient through the ReLU
      flat.forEach((o, i) => {
        if (o < 0) expect(Math.abs(got[i]!)).toBe(0);
      });
    });
  }

  it('d KL[Dir(alpha~) || Dir(1)] / d evidence: zero on the true class, finite differences elsewhere', () => {
    const e = [2.5, 0.7, 4, 1.2, 9];
    const label = 2;
    const f64 = (x: number[]): number => klUniform64(x.map((v, k) => (k === label ? 1 : v + 1)));
    const want = finiteDiff(f64, e, 1e-5);
    const x = tf.tensor2d([e]);
    const g = tf.grad((t: tf.Tensor) => ev.klUniformLoss(t, [label]))(x);
    const got = Array.from(g.dataSync());
    g.dispose();
    x.dispose();
    expect(Math.abs(got[label]!)).toBe(0);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 3));
  });
});

describe('audit17: Dirichlet outputs (u = K/S, probabilities alpha/S) for K != 10', () => {
  for (const k of [2, 4, 37]) {
    it(`K=${k}: alpha = e + 1, u = K/S, p = alpha/S, u + sum b = 1 (float64)`, () => {
      const r = lcg(k);
      const e = Array.from({ length: 3 }, () => Array.from({ length: k }, () => 10 * r()));
      const before = tf.memory().numTensors;
      const d = ev.dirichletOutputs(e);
      const u = Array.from(d.uncertainty.dataSync());
      const p = d.probs.arraySync();
      const b = d.belief.arraySync();
      Object.values(d).forEach((t) => t.dispose());
      expect(tf.memory().numTensors).toBe(before);
      e.forEach((row, i) => {
        const S = row.reduce((a, v) => a + v + 1, 0);
        expect(u[i]).toBeCloseTo(k / S, 6);
        row.forEach((v, j) => expect(p[i]![j]).toBeCloseTo((v + 1) / S, 6));
        expect(u[i]! + b[i]!.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
      });
    });
  }

  it('relu evidence of raw outputs: u = 1 for an all-negative output, -> 0 with strong evidence', () => {
    const o = tf.tensor2d([
      [-3, -1, -2],
      [1e4, -1, -1],
    ]);
    const e = ev.reluEvidence(o);
    const d = ev.dirichletOutputs(e);
    const u = Array.from(d.uncertainty.dataSync());
    Object.values(d).forEach((t) => t.dispose());
    e.dispose();
    o.dispose();
    expect(u[0]).toBeCloseTo(1, 6);
    expect(u[1]).toBeCloseTo(3 / 10003, 6);
  });

  it('exp evidence keeps a NaN output NaN (torch.clamp), clips finite ones to [-10, 10]', () => {
    const got = expectNoLeak(() => ev.expEvidence([[NaN, 50, -50, 1]]));
    expect(Number.isNaN(got[0])).toBe(true);
    expect(got[1]).toBeCloseTo(Math.exp(10), -1);
    expect(got[2]).toBeCloseTo(Math.exp(-10), 9);
    expect(got[3]).toBeCloseTo(Math.E, 5);
  });
});

describe('audit17: EDL bad inputs are refused naming the argument, before any work', () => {
  const out = [
    [1, -2, 3],
    [0.5, 4, -1],
  ];
  const bad: [string, () => unknown, string][] = [
    ['label out of range', () => ev.edlMseLoss(out, [0, 3], 1, 3, 10), 'target'],
    ['negative label', () => ev.edlDigammaLoss(out, [-1, 0], 1, 3, 10), 'target'],
    [
      'non-one-hot target (2 and -1)',
      () =>
        ev.edlLogLoss(
          out,
          [
            [2, -1, 0],
            [0, 1, 0],
          ],
          1,
          3,
          10,
        ),
      'target',
    ],
    [
      'multi-hot target row (sums to 2)',
      () =>
        ev.edlMseLoss(
          out,
          [
            [1, 1, 0],
            [0, 1, 0],
          ],
          1,
          3,
          10,
        ),
      'target',
    ],
    [
      'soft target rows not summing to 1',
      () => ev.squaredErrorBayesRisk([[1, 2]], [[0.5, 0.7]]),
      'target',
    ],
    ['NaN target', () => ev.crossEntropyBayesRisk([[1, 2]], [[NaN, 1]]), 'target'],
    ['negative evidence', () => ev.klUniformLoss([[1, -0.5]], [0]), 'evidence'],
    ['one class', () => ev.maximumLikelihoodLoss([[3], [1]], [0, 0]), 'evidence'],
    ['numClasses other than the output', () => ev.edlMseLoss(out, [0, 1], 1, 10, 10), 'numClasses'],
    ['annealing_step 0', () => ev.edlLogLoss(out, [0, 1], 1, 3, 0), 'annealingStep'],
    ['negative epoch', () => ev.edlDigammaLoss(out, [0, 1], -1, 3, 10), 'epochNum'],
    ['NaN output', () => ev.edlMseLoss([[NaN, 1, 2], out[1]!], [0, 1], 1, 3, 10), 'output'],
    ['rank-1 output', () => ev.edlMseLoss([1, 2, 3], [0], 1, 3, 10), 'output'],
    ['wrong number of labels', () => ev.edlMseLoss(out, [0, 1, 2], 1, 3, 10), 'target'],
    [
      'unknown option (snake_case)',
      () => ev.edlMseLoss(out, [0, 1], 1, 3, 10, { use_kl: false } as never),
      'use_kl',
    ],
    [
      'unknown evidence function',
      () => ev.edlMseLoss(out, [0, 1], 1, 3, 10, { evidence: 'sigmoid' as never }),
      'evidence',
    ],
    [
      'bad reduction',
      () => ev.edlMseLoss(out, [0, 1], 1, 3, 10, { reduction: 'avg' as never }),
      'reduction',
    ],
    ['alpha <= 0 in the Dirichlet KL', () => ev.dirichletKLUniform([[1, 0]]), 'alpha'],
    ['numClasses against alpha', () => ev.dirichletKLUniform([[1, 2]], 3), 'numClasses'],
  ];
  for (const [call, run, arg] of bad) {
    it(`refuses ${call}`, async () => {
      await expectBadInput({ call, run, arg });
    });
  }
});

describe("audit17: labml's names and TrackStatistics' one-hot targets", () => {
  it("evidentialLossFunction reads dougbrion's --mse / --log / --digamma and labml's names", () => {
    expect(ev.evidentialLossFunction('mse')).toBe(ev.squaredErrorBayesRisk);
    expect(ev.evidentialLossFunction('log')).toBe(ev.maximumLikelihoodLoss);
    expect(ev.evidentialLossFunction('digamma')).toBe(ev.crossEntropyBayesRisk);
    expect(ev.evidentialLossFunction('squared_error_bayes_risk')).toBe(ev.squaredErrorBayesRisk);
    expect(ev.evidentialLossFunction('cross_entropy_bayes_risk')).toBe(ev.crossEntropyBayesRisk);
    expect(ev.evidentialLossFunction('max_likelihood_loss')).toBe(ev.maximumLikelihoodLoss);
  });

  it('evidentialStatistics takes one-hot targets [N, K] (labml) as their argmax labels', () => {
    const e = tf.tensor2d([
      [9, 0, 0, 0],
      [0, 5, 1, 0],
      [1, 1, 1, 1],
      [0, 0, 2, 7],
    ]);
    const labels = [0, 2, 2, 3];
    const rows = labels.map((l) => oneHot(l, 4));
    const rowsT = tf.tensor2d(rows);
    const before = tf.memory().numTensors;
    const a = ev.evidentialStatistics(e, labels);
    const b = ev.evidentialStatistics(e, rows);
    const c = ev.evidentialStatistics(e, rowsT);
    expect(tf.memory().numTensors).toBe(before);
    for (const s of [b, c]) {
      expect(s.accuracy).toBe(a.accuracy);
      expect(s.meanUCorrect).toBe(a.meanUCorrect);
      expect(s.meanUWrong).toBe(a.meanUWrong);
      expect(s.meanProbWrong).toBe(a.meanProbWrong);
    }
    // float64: correct rows 0 and 3 (u = 4/13, 4/13), wrong rows 1 and 2 (u = 4/10, 4/8)
    expect(a.accuracy).toBe(0.5);
    expect(a.meanUCorrect).toBeCloseTo(4 / 13, 6);
    expect(a.meanUWrong).toBeCloseTo((4 / 10 + 4 / 8) / 2, 6);
    expect(a.meanProbCorrect).toBeCloseTo((10 / 13 + 8 / 13) / 2, 6);
    rowsT.dispose();
    e.dispose();
  });

  it('evidentialStatistics refuses non-one-hot rows naming target', async () => {
    const e = tf.tensor2d([
      [1, 2],
      [3, 0],
    ]);
    await expectBadInput({
      call: 'rows [2, -1]',
      run: () =>
        ev.evidentialStatistics(e, [
          [2, -1],
          [0, 1],
        ]),
      arg: 'target',
    });
    await expectBadInput({
      call: 'rows of the wrong width',
      run: () =>
        ev.evidentialStatistics(e, [
          [1, 0, 0],
          [0, 1, 0],
        ]),
      arg: 'target',
    });
    e.dispose();
  });
});

describe('audit17: EvidentialLoss with the reference settings equals edl_*_loss', () => {
  for (const [name, kind] of [
    ['mse', 'mse'],
    ['log', 'log'],
    ['digamma', 'digamma'],
  ] as const) {
    it(`EvidentialLoss({loss: '${name}', evidence: 'relu', klSchedule: 'epoch'}) = edl ${kind} loss (annealing_step 10)`, () => {
      const out = randomOutputs(5, 4, 77);
      const labels = [0, 1, 2, 3, 1];
      const net = (x: tf.Tensor): tf.Tensor => tf.mul(x, 1);
      const obj = new ev.EvidentialLoss(net, { loss: name, evidence: 'relu', klSchedule: 'epoch' });
      const x = tf.tensor2d(out);
      for (const epoch of [0, 4, 12]) {
        const before = tf.memory().numTensors;
        const r = obj.compute(x, labels, { step: 0, totalSteps: 1, epoch });
        const got = r.loss.dataSync()[0] as number;
        tf.dispose([r.loss, r.nll, r.kl, r.output]);
        expect(tf.memory().numTensors).toBe(before);
        const [want] = expectNoLeak(() => LOSSES[kind](out, labels, epoch, 4, 10));
        expect(got).toBeCloseTo(want as number, 5);
      }
      x.dispose();
    });
  }
});

describe('audit17: the KL term in float32 for large misleading evidence (ReLU evidence is unbounded)', () => {
  // before the fix: K = 100, evidence 1e6 gave KL = -640 (float64: 670.0); 1e4 was off by 0.7 %
  for (const big of [1e2, 1e4, 1e6]) {
    for (const k of [3, 10, 100]) {
      it(`evidence ~${big.toExponential(0)} on K - 1 = ${k - 1} wrong classes: KL within 1e-5 of float64, >= 0`, () => {
        const row = Array.from({ length: k }, (_, j) => (j === 0 ? 0 : big * (1 + j / k)));
        const want = klUniform64(row.map((v, j) => (j === 0 ? 1 : v + 1)));
        const [got] = expectNoLeak(() => ev.klUniformLoss([row], [0]));
        expect(got as number).toBeGreaterThan(0);
        expect(Math.abs((got as number) - want) / want).toBeLessThan(1e-5);
        const alpha = [row.map((v, j) => (j === 0 ? 1 : v + 1))];
        const [direct] = expectNoLeak(() => ev.dirichletKLUniform(alpha));
        expect(Math.abs((direct as number) - want) / want).toBeLessThan(1e-5);
      });
    }
  }

  it('d KL / d evidence at evidence ~1e4 matches float64 central differences (rel 1e-3)', () => {
    const e = [3e4, 1.2e4, 0, 5e3];
    const label = 2;
    const f64 = (x: number[]): number => klUniform64(x.map((v, k) => (k === label ? 1 : v + 1)));
    const want = finiteDiff(f64, e, 0.5);
    const x = tf.tensor2d([e]);
    const g = tf.grad((t: tf.Tensor) => ev.klUniformLoss(t, [label]))(x);
    const got = Array.from(g.dataSync());
    tf.dispose([g, x]);
    got.forEach((v, i) => {
      if (i === label) expect(Math.abs(v)).toBe(0);
      else expect(Math.abs(v - want[i]!)).toBeLessThan(1e-3 * Math.abs(want[i]!) + 1e-7);
    });
  });

  it('edl_digamma_loss with outputs ~1e5 (early training, ReLU) vs float64', () => {
    const out = [
      [2e5, -3, 1e5, 4e4],
      [-1, 7e4, 3e5, 2],
    ];
    const labels = [1, 2];
    const want =
      out.reduce((a, o, i) => a + edl64('digamma', o, oneHot(labels[i]!, 4), 20, 10), 0) / 2;
    const [got] = expectNoLeak(() => ev.edlDigammaLoss(out, labels, 20, 4, 10));
    expect(Math.abs((got as number) - want) / want).toBeLessThan(1e-5);
  });
});

describe('audit17: the Bayes risks of a confident correct prediction (alpha_y ~ S) in float32', () => {
  // before the fix: evidence 1e6 on the true class gave the CE / log risks 24 % off (a difference
  // of two digammas / logs near log 1e6), the squared-error risk 0.14 % off
  for (const big of [1e3, 1e5, 1e6]) {
    it(`evidence ${big.toExponential(0)} on the true class: CE, log and SE risks within 1e-5 of float64`, () => {
      const row = [big, 0.5, 0, 2];
      const y = oneHot(0, 4);
      const alpha = row.map((v) => v + 1);
      const S = alpha.reduce((a, b) => a + b, 0);
      const ce64 = digamma(S) - digamma(alpha[0]!);
      const ml64 = Math.log1p((S - alpha[0]!) / alpha[0]!);
      const se64 = alpha.reduce(
        (a, ak, k) => a + (y[k]! - ak / S) ** 2 + (ak * (S - ak)) / (S * S * (S + 1)),
        0,
      );
      const [ce] = expectNoLeak(() => ev.crossEntropyBayesRisk([row], [0]));
      const [ml] = expectNoLeak(() => ev.maximumLikelihoodLoss([row], [0]));
      const [se] = expectNoLeak(() => ev.squaredErrorBayesRisk([row], [0]));
      expect(Math.abs((ce as number) - ce64) / ce64).toBeLessThan(1e-5);
      expect(Math.abs((ml as number) - ml64) / ml64).toBeLessThan(1e-5);
      expect(Math.abs((se as number) - se64) / se64).toBeLessThan(1e-5);
    });
  }

  it('soft (label-smoothed) targets still give the closed forms (float64)', () => {
    const row = [40, 3, 0.5];
    const y = [0.9, 0.05, 0.05];
    const alpha = row.map((v) => v + 1);
    const S = alpha.reduce((a, b) => a + b, 0);
    const ce64 = y.reduce((a, yk, k) => a + yk * (digamma(S) - digamma(alpha[k]!)), 0);
    const ml64 = y.reduce((a, yk, k) => a + yk * Math.log(S / alpha[k]!), 0);
    const se64 = alpha.reduce(
      (a, ak, k) => a + (y[k]! - ak / S) ** 2 + (ak * (S - ak)) / (S * S * (S + 1)),
      0,
    );
    const [ce] = expectNoLeak(() => ev.crossEntropyBayesRisk([row], [y]));
    const [ml] = expectNoLeak(() => ev.maximumLikelihoodLoss([row], [y]));
    const [se] = expectNoLeak(() => ev.squaredErrorBayesRisk([row], [y]));
    expect(ce).toBeCloseTo(ce64, 5);
    expect(ml).toBeCloseTo(ml64, 5);
    expect(se).toBeCloseTo(se64, 5);
  });
});

describe('audit17: training with edl_digamma_loss as the reference train loop does', () => {
  it('a linear classifier on 3 separated blobs: loss falls, u = K/S is lower on the data than far away', () => {
    const r = lcg(123);
    const centres = [
      [3, 0],
      [-3, 3],
      [-3, -3],
    ];
    const xs: number[][] = [];
    const ys: number[] = [];
    for (let i = 0; i < 60; i++) {
      const c = i % 3;
      xs.push([centres[c]![0]! + r() - 0.5, centres[c]![1]! + r() - 0.5]);
      ys.push(c);
    }
    const x = tf.tensor2d(xs);
    const y = tf.oneHot(tf.tensor1d(ys, 'int32'), 3);
    const w = tf.variable(tf.tensor2d([0.1, -0.2, 0.05, 0.2, 0.1, -0.1], [2, 3]));
    const b = tf.variable(tf.zeros([3]));
    const opt = tf.train.adam(0.05);
    const loss = (epoch: number): tf.Scalar =>
      ev.edlDigammaLoss(tf.add(tf.matMul(x, w), b), y, epoch, 3, 10) as tf.Scalar;
    const first = tf.tidy(() => loss(0).dataSync()[0] as number);
    // Adam makes its moment accumulators at the first step: count from the second
    tf.tidy(() => {
      opt.minimize(() => loss(0));
    });
    const before = tf.memory().numTensors;
    for (let epoch = 1; epoch < 40; epoch++) {
      tf.tidy(() => {
        opt.minimize(() => loss(Math.floor(epoch / 4)));
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    const last = tf.tidy(() => loss(0).dataSync()[0] as number);
    expect(last).toBeLessThan(first * 0.5);
    const u = tf.tidy(() => {
      const probe = tf.tensor2d([
        [3, 0],
        [0, 0],
      ]);
      const d = ev.dirichletOutputs(ev.reluEvidence(tf.add(tf.matMul(probe, w), b)));
      return Array.from(d.uncertainty.dataSync());
    });
    expect(u[0]!).toBeLessThan(u[1]!);
    tf.dispose([x, y, w, b]);
    opt.dispose();
  });
});
