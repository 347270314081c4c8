/**
 * Audit probes (session 14) of the evidential losses, KL regulariser, schedules, Dirichlet outputs
 * and the MC decomposition against float64 references (@stdlib digamma/gammaln, plain JS loops),
 * finite-difference gradients, edge cases (K = 2, huge evidence, soft targets) and bad inputs.
 */
import digamma from '@stdlib/math-base-special-digamma';
import gammaln from '@stdlib/math-base-special-gammaln';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { expectBadInput, finiteDiff } from '../helpers.js';

const ev = toolbox.evidential;

/** Random evidence rows (float64 host copy) with some exact zeros. */
function randomEvidence(n: number, k: number, seed: number): number[][] {
  let s = seed;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  return Array.from({ length: n }, () =>
    Array.from({ length: k }, () => (rnd() < 0.2 ? 0 : rnd() * 20)),
  );
}

function refLosses(e: number[], label: number) {
  const a = e.map((v) => v + 1);
  const S = a.reduce((x, y) => x + y, 0);
  const y: number[] = a.map((_, k) => (k === label ? 1 : 0));
  const ml = y.reduce((acc, yk, k) => acc + yk * (Math.log(S) - Math.log(a[k]!)), 0);
  const ce = y.reduce((acc, yk, k) => acc + yk * (digamma(S) - digamma(a[k]!)), 0);
  const p = a.map((ak) => ak / S);
  const se = p.reduce((acc, pk, k) => acc + (y[k]! - pk) ** 2 + (pk * (1 - pk)) / (S + 1), 0);
  const at = a.map((ak, k) => y[k]! + (1 - y[k]!) * ak);
  const St = at.reduce((x, z) => x + z, 0);
  const K = e.length;
  const kl =
    gammaln(St) -
    gammaln(K) -
    at.reduce((acc, v) => acc + gammaln(v), 0) +
    at.reduce((acc, v) => acc + (v - 1) * (digamma(v) - digamma(St)), 0);
  return { ml, ce, se, kl };
}

describe('audit14: evidential losses vs float64 closed forms', () => {
  for (const [n, k] of [
    [7, 2],
    [5, 6],
    [3, 13],
  ] as const) {
    it(`N=${n}, K=${k}: ML, CE Bayes risk, SE Bayes risk, KL (none/mean/sum)`, () => {
      const e = randomEvidence(n, k, n * 31 + k);
      const labels = e.map((_, i) => (i * 7) % k);
      const before = tf.memory().numTensors;
      const et = tf.tensor2d(e);
      const lt = tf.tensor1d(labels, 'int32');
      const fns = {
        ml: ev.maximumLikelihoodLoss,
        ce: ev.crossEntropyBayesRisk,
        se: ev.squaredErrorBayesRisk,
        kl: ev.klUniformLoss,
      } as const;
      for (const [name, fn] of Object.entries(fns) as [
        keyof typeof fns,
        typeof ev.klUniformLoss,
      ][]) {
        const per = fn(et, lt, 'none');
        const got = Array.from(per.dataSync());
        const want = e.map((row, i) => refLosses(row, labels[i]!)[name]);
        got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 3));
        const mean = fn(et, lt, 'mean');
        const sum = fn(et, lt, 'sum');
        const wsum = want.reduce((a, b) => a + b, 0);
        expect(mean.dataSync()[0]!).toBeCloseTo(wsum / n, 3);
        expect(sum.dataSync()[0]!).toBeCloseTo(wsum, 2);
        // one-hot targets give the same as labels
        const oh = tf.oneHot(lt, k);
        const viaOneHot = fn(et, oh, 'none');
        expect(Array.from(viaOneHot.dataSync())).toEqual(got);
        tf.dispose([per, mean, sum, oh, viaOneHot]);
      }
      tf.dispose([et, lt]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('gradients w.r.t. evidence match float64 finite differences (all four terms)', () => {
    const e0 = [0.7, 3.2, 0.1, 5.5];
    const label = 1;
    for (const name of ['ml', 'ce', 'se', 'kl'] as const) {
      const fn = {
        ml: ev.maximumLikelihoodLoss,
        ce: ev.crossEntropyBayesRisk,
        se: ev.squaredErrorBayesRisk,
        kl: ev.klUniformLoss,
      }[name];
      const g = tf.grad((x: tf.Tensor) => fn(x, [label], 'sum') as tf.Scalar);
      const x = tf.tensor2d([e0]);
      const gt = g(x);
      const got = Array.from(gt.dataSync());
      const want = finiteDiff((v) => refLosses(v, label)[name], e0, 1e-4);
      got.forEach((v, i) =>
        expect(Math.abs(v - want[i]!)).toBeLessThan(2e-3 + 2e-3 * Math.abs(want[i]!)),
      );
      tf.dispose([x, gt]);
    }
  });

  it('huge and zero evidence stay finite; no misleading evidence gives KL 0', () => {
    const e = tf.tensor2d([
      [1e6, 0, 0],
      [0, 0, 0],
      [1e30, 1e30, 0],
    ]);
    const l = [0, 2, 1];
    for (const fn of [
      ev.maximumLikelihoodLoss,
      ev.crossEntropyBayesRisk,
      ev.squaredErrorBayesRisk,
      ev.klUniformLoss,
    ]) {
      const v = fn(e, l, 'none');
      for (const x of v.dataSync()) expect(Number.isFinite(x)).toBe(true);
      v.dispose();
    }
    const kl = ev.klUniformLoss([[5, 0, 0]], [0], 'none');
    expect(Math.abs(kl.dataSync()[0]!)).toBeLessThan(1e-5);
    // uniform Dirichlet everywhere with label evidence only: ML loss of [0,0,0] is log 3
    const ml = ev.maximumLikelihoodLoss([[0, 0, 0]], [2], 'none');
    expect(ml.dataSync()[0]!).toBeCloseTo(Math.log(3), 5);
    tf.dispose([e, kl, ml]);
  });

  it('evidence functions: relu, softplus (stable for large inputs), exp (clipped or finite)', () => {
    const x = tf.tensor2d([[-3, 0, 2.5, 80]]);
    const r = ev.reluEvidence(x);
    const sp = ev.softplusEvidence(x);
    expect(Array.from(r.dataSync())).toEqual([0, 0, 2.5, 80]);
    const spWant = [-3, 0, 2.5, 80].map((v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))));
    Array.from(sp.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(spWant[i]!, 4));
    const ex = ev.expEvidence(tf.tensor2d([[-2, 0, 1]]));
    Array.from(ex.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(Math.exp([-2, 0, 1][i]!), 4));
    for (const name of ev.EVIDENCE_FUNCTIONS)
      expect(typeof ev.evidenceFunction(name)).toBe('function');
    expect(() => ev.evidenceFunction('sigmoid')).toThrow(/relu|softplus|exp/);
    tf.dispose([x, r, sp, ex]);
  });

  it('KL schedules: labml relative piecewise and min(1, epoch/10)', () => {
    const s = ev.relativePiecewise();
    const at = (step: number): number => s({ step, totalSteps: 1000, epoch: 0 });
    expect(at(0)).toBe(0);
    expect(at(100)).toBeCloseTo(0.005, 10);
    expect(at(200)).toBeCloseTo(0.01, 10);
    expect(at(600)).toBeCloseTo(0.01 + (0.99 * 0.4) / 0.8, 10);
    expect(at(1000)).toBeCloseTo(1, 10);
    const e = ev.epochAnnealing(10);
    expect(e({ step: 0, totalSteps: 1, epoch: 3 })).toBeCloseTo(0.3, 10);
    expect(e({ step: 0, totalSteps: 1, epoch: 25 })).toBe(1);
    expect(ev.piecewiseLinear([[0, 1]], 5)).toBe(1);
  });

  it('Dirichlet outputs and statistics: p = alpha/S, u = K/S, split by correctness', () => {
    const e = tf.tensor2d([
      [9, 0, 0],
      [0, 1, 3],
      [2, 2, 2],
    ]);
    const o = ev.dirichletOutputs(e);
    const rec = o as unknown as Record<string, tf.Tensor>;
    const probs = Array.from((rec.probs ?? rec.probabilities)!.dataSync());
    expect(probs.slice(0, 3).map((v) => +v.toFixed(6))).toEqual(
      [10 / 12, 1 / 12, 1 / 12].map((v) => +v.toFixed(6)),
    );
    const u = Array.from((rec.uncertainty ?? rec.u)!.dataSync());
    expect(u[0]).toBeCloseTo(3 / 12, 6);
    expect(u[1]).toBeCloseTo(3 / 7, 6);
    expect(u[2]).toBeCloseTo(3 / 9, 6);
    const st = ev.evidentialStatistics(e, [0, 1, 2]);
    // predictions: 0 (right), 2 (wrong: label 1), tie row -> argmax 0 (wrong: label 2)
    expect(st.count).toBe(3);
    expect(st.accuracy).toBeCloseTo(1 / 3, 10);
    expect(st.meanUCorrect).toBeCloseTo(3 / 12, 6);
    expect(st.meanUWrong).toBeCloseTo((3 / 7 + 3 / 9) / 2, 6);
    expect(st.meanEvidence).toBeCloseTo((9 + 4 + 6) / 3, 6);
    for (const t of Object.values(rec)) if (t instanceof tf.Tensor) t.dispose();
    e.dispose();
  });

  const bad: [string, () => unknown, string][] = [
    ['negative evidence', () => ev.maximumLikelihoodLoss([[1, -0.5]], [0]), 'evidence'],
    ['NaN evidence', () => ev.squaredErrorBayesRisk([[1, NaN]], [0]), 'evidence'],
    ['rank-1 evidence', () => ev.crossEntropyBayesRisk([1, 2], [0]), 'evidence'],
    ['label out of range', () => ev.klUniformLoss([[1, 2]], [2]), 'target'],
    ['fractional label', () => ev.klUniformLoss([[1, 2]], [0.5]), 'target'],
    ['wrong number of labels', () => ev.maximumLikelihoodLoss([[1, 2]], [0, 1]), 'target'],
    ['one-hot of wrong width', () => ev.maximumLikelihoodLoss([[1, 2]], [[1, 0, 0]]), 'target'],
    [
      'unknown evidential loss',
      () => ev.evidentialLossFunction('hinge'),
      /name|loss/ as unknown as string,
    ],
    [
      'statistics labels of wrong length',
      () => {
        const t = tf.tensor2d([[1, 2]]);
        try {
          return ev.evidentialStatistics(t, [0, 1]);
        } finally {
          t.dispose();
        }
      },
      'labels',
    ],
  ];
  for (const [call, run, arg] of bad) {
    it(`refuses ${call}`, async () => {
      await expectBadInput({ call, run, arg });
    });
  }
});

describe('audit14: decomposition from MC samples vs float64 loops', () => {
  function entropy(p: number[]): number {
    return -p.reduce((a, v) => a + (v > 0 ? v * Math.log(v) : 0), 0);
  }
  it('predictive entropy = expected entropy + mutual information on random [S, N, K]', () => {
    const S = 6;
    const N = 4;
    const K = 5;
    const probs = tf.tidy(() => tf.softmax(tf.randomNormal([S, N, K], 0, 2, 'float32', 17)));
    const p = probs.arraySync() as number[][][];
    const before = tf.memory().numTensors;
    const pe = toolbox.predictiveEntropy(probs);
    const ee = toolbox.expectedEntropy(probs);
    const mi = toolbox.mutualInformation(probs);
    const va = toolbox.probabilityVariance(probs);
    const d = toolbox.decompose(probs);
    for (let n = 0; n < N; n++) {
      const mean = Array.from({ length: K }, (_, k) => p.reduce((a, s) => a + s[n]![k]!, 0) / S);
      const wantPe = entropy(mean);
      const wantEe = p.reduce((a, s) => a + entropy(s[n]!), 0) / S;
      expect(pe.dataSync()[n]!).toBeCloseTo(wantPe, 4);
      expect(ee.dataSync()[n]!).toBeCloseTo(wantEe, 4);
      expect(mi.dataSync()[n]!).toBeCloseTo(wantPe - wantEe, 4);
      expect(mi.dataSync()[n]!).toBeGreaterThanOrEqual(0);
      for (let k = 0; k < K; k++) {
        // population variance over samples (1/S)
        const v = p.reduce((a, s) => a + (s[n]![k]! - mean[k]!) ** 2, 0) / S;
        const v1 = p.reduce((a, s) => a + (s[n]![k]! - mean[k]!) ** 2, 0) / (S - 1);
        const got = va.dataSync()[n * K + k]!;
        expect(Math.min(Math.abs(got - v), Math.abs(got - v1))).toBeLessThan(1e-5);
      }
    }
    tf.dispose([pe, ee, mi, va]);
    for (const t of Object.values(d)) if (t instanceof tf.Tensor) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    probs.dispose();
  });

  it('identical samples: zero epistemic; uniform: maximal entropy log K; one-hot: zero entropy', () => {
    const same = tf.tidy(() => tf.tile(tf.tensor3d([[[0.2, 0.3, 0.5]]]), [5, 1, 1]));
    const mi = toolbox.mutualInformation(same);
    expect(Math.abs(mi.dataSync()[0]!)).toBeLessThan(1e-6);
    const uni = tf.fill([3, 2, 4], 0.25);
    const pe = toolbox.predictiveEntropy(uni);
    expect(pe.dataSync()[1]!).toBeCloseTo(Math.log(4), 5);
    const oh = tf.tensor3d([[[1, 0]], [[1, 0]]]);
    const e1 = toolbox.predictiveEntropy(oh);
    expect(e1.dataSync()[0]!).toBeCloseTo(0, 6);
    expect(Number.isFinite(e1.dataSync()[0]!)).toBe(true);
    // disagreeing one-hot samples: MI = log 2 (all epistemic)
    const dis = tf.tensor3d([[[1, 0]], [[0, 1]]]);
    const mi2 = toolbox.mutualInformation(dis);
    expect(mi2.dataSync()[0]!).toBeCloseTo(Math.log(2), 5);
    tf.dispose([same, mi, uni, pe, oh, e1, dis, mi2]);
  });

  it('Kwon (softmax) decomposition: aleatoric + epistemic = total covariance diagonal (float64)', () => {
    const S = 5;
    const probs = tf.tidy(() => tf.softmax(tf.randomNormal([S, 2, 3], 0, 1, 'float32', 4)));
    const p = probs.arraySync() as number[][][];
    const r = toolbox.kwonUncertainty(probs);
    const alea = (r.aleatoric as tf.Tensor).arraySync() as number[] | number[][];
    const epi = (r.epistemic as tf.Tensor).arraySync() as number[] | number[][];
    for (let n = 0; n < 2; n++) {
      const mean = [0, 1, 2].map((k) => p.reduce((a, s) => a + s[n]![k]!, 0) / S);
      // traces (sum over classes) of E[diag(p) - p p^T] and E[(p - pbar)(p - pbar)^T]
      const a = p.reduce((acc, s) => acc + s[n]!.reduce((b, v) => b + v - v * v, 0), 0) / S;
      const e =
        p.reduce((acc, s) => acc + s[n]!.reduce((b, v, k) => b + (v - mean[k]!) ** 2, 0), 0) / S;
      const aGot = Array.isArray(alea[n])
        ? (alea[n] as number[]).reduce((x, y) => x + y, 0)
        : (alea[n] as number);
      const eGot = Array.isArray(epi[n])
        ? (epi[n] as number[]).reduce((x, y) => x + y, 0)
        : (epi[n] as number);
      expect(aGot).toBeCloseTo(a, 4);
      expect(eGot).toBeCloseTo(e, 4);
    }
    tf.dispose([probs, r.aleatoric as tf.Tensor, r.epistemic as tf.Tensor]);
  });

  it('softmax and normalized (softplus) methods: Kwon on softmax / softplus-normalised samples (float64)', () => {
    const S = 4;
    const o = tf.randomNormal([S, 3, 3], 0, 1.5, 'float32', 21);
    const raw = o.arraySync() as number[][][];
    const sp = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    const norms = {
      softmax: (r: number[]) => {
        const m = Math.max(...r);
        const e = r.map((v) => Math.exp(v - m));
        const z = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / z);
      },
      normalized: (r: number[]) => {
        const e = r.map(sp);
        const z = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / z);
      },
    };
    for (const [name, norm] of Object.entries(norms)) {
      const r =
        name === 'softmax' ? toolbox.softmaxUncertainty(o) : toolbox.normalizedUncertainty(o);
      const alea = (r.aleatoric as tf.Tensor).arraySync() as number[] | number[][];
      const epi = (r.epistemic as tf.Tensor).arraySync() as number[] | number[][];
      for (let n = 0; n < 3; n++) {
        const p = raw.map((s) => norm(s[n]!));
        const mean = [0, 1, 2].map((k) => p.reduce((a, q) => a + q[k]!, 0) / S);
        const a = p.reduce((acc, q) => acc + q.reduce((b, v) => b + v - v * v, 0), 0) / S;
        const e =
          p.reduce((acc, q) => acc + q.reduce((b, v, k) => b + (v - mean[k]!) ** 2, 0), 0) / S;
        const tot = (row: number | number[]): number =>
          Array.isArray(row) ? row.reduce((x, y) => x + y, 0) : row;
        expect(tot(alea[n]!), name).toBeCloseTo(a, 4);
        expect(tot(epi[n]!), name).toBeCloseTo(e, 4);
      }
      for (const t of Object.values(r)) if (t instanceof tf.Tensor) t.dispose();
    }
    o.dispose();
  });

  it('refuses probabilities that are not [S, N, K] or not in [0, 1]', async () => {
    const r2 = tf.ones([2, 3]);
    const neg = tf.tensor3d([[[1.5, -0.5]]]);
    await expectBadInput({
      call: 'rank 2',
      run: () => toolbox.mutualInformation(r2),
      arg: /probs/,
    });
    await expectBadInput({
      call: 'negative',
      run: () => toolbox.predictiveEntropy(neg),
      arg: /probs/,
    });
    tf.dispose([r2, neg]);
  });
});

describe('audit14: EvidentialLoss object', () => {
  const net = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [3],
        units: 4,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
    ],
  });
  const x = tf.randomNormal([5, 3], 0, 1, 'float32', 2);
  const y = [0, 1, 2, 3, 0];

  it('loss = risk + lambda KL with lambda from the schedule, as the free functions compute it', () => {
    const obj = new ev.EvidentialLoss(net, {
      loss: 'max-likelihood',
      evidence: 'exp',
      klSchedule: 'epoch',
    });
    const r = obj.compute(x, y, { step: 0, totalSteps: 10, epoch: 4 });
    expect(r.klWeight).toBeCloseTo(0.4, 10);
    const e = ev.expEvidence(net.predict(x) as tf.Tensor);
    const nll = ev.maximumLikelihoodLoss(e, y);
    const kl = ev.klUniformLoss(e, y);
    expect(r.nll.dataSync()[0]!).toBeCloseTo(nll.dataSync()[0]!, 4);
    expect(r.loss.dataSync()[0]!).toBeCloseTo(nll.dataSync()[0]! + 0.4 * kl.dataSync()[0]!, 4);
    tf.dispose([r.loss, r.nll, r.kl, r.output, e, nll, kl]);
  });

  const bad: [string, () => unknown, string | RegExp][] = [
    [
      'an unknown option',
      () => new ev.EvidentialLoss(net, { evidense: 'relu' } as object),
      /evidense/,
    ],
    [
      'training not boolean',
      () => new ev.EvidentialLoss(net, { training: 'yes' as unknown as boolean }),
      'training',
    ],
    [
      'unknown schedule',
      () => new ev.EvidentialLoss(net, { klSchedule: 'linear' as 'epoch' }),
      'klSchedule',
    ],
    ['unknown evidence', () => new ev.EvidentialLoss(net, { evidence: 'sigmoid' }), /evidence/],
    [
      'no epoch under the epoch schedule',
      () =>
        new ev.EvidentialLoss(net, { klSchedule: 'epoch' }).compute(x, y, {
          step: 1,
          totalSteps: 10,
        } as toolbox.evidential.TrainingProgress),
      'progress',
    ],
    [
      'NaN step',
      () => new ev.EvidentialLoss(net).compute(x, y, { step: NaN, totalSteps: 10, epoch: 0 }),
      'progress',
    ],
    [
      'no progress',
      () =>
        new ev.EvidentialLoss(net).compute(
          x,
          y,
          undefined as unknown as toolbox.evidential.TrainingProgress,
        ),
      'progress',
    ],
    [
      'labels out of range',
      () =>
        new ev.EvidentialLoss(net).compute(x, [0, 1, 2, 3, 4], {
          step: 0,
          totalSteps: 1,
          epoch: 0,
        }),
      'target',
    ],
  ];
  for (const [call, run, arg] of bad) {
    it(`refuses ${call}`, async () => {
      await expectBadInput({ call, run, arg });
    });
  }
});
