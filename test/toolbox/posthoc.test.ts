import * as tf from '@tensorflow/tfjs';
import binomialQuantile from '@stdlib/stats-base-dists-binomial-quantile';
import { describe, expect, it, vi } from 'vitest';
import { ArgumentError, toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

const { fitTemperature, temperatureScale, calibrateConformal, conformalSets, nll } = toolbox;

function gauss(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Synthetic K-class data: true logits z*, labels drawn from softmax(z*), model reports c * z*. */
function toy(n: number, k: number, overconfidence: number, seed: number) {
  const rng = makeRng(seed);
  const logits: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: k }, () => 1.5 * gauss(rng));
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const s = e.reduce((a, b) => a + b, 0);
    let u = rng() * s;
    let y = 0;
    while (y < k - 1 && u > e[y]!) u -= e[y++]!;
    labels.push(y);
    logits.push(z.map((v) => v * overconfidence));
  }
  return { logits, labels };
}

function softmaxRows(z: number[][], t = 1): number[][] {
  return z.map((r) => {
    const mx = Math.max(...r);
    const e = r.map((v) => Math.exp((v - mx) / t));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

describe('temperature scaling', () => {
  it('refuses probabilities where logits are expected (both fits), naming the way out', () => {
    const { logits, labels } = toy(300, 4, 2, 8);
    const probs = softmaxRows(logits);
    expect(() => fitTemperature(probs, labels)).toThrow(
      /logits: expected logits, got probabilities .* log\(p\) for a model that ends in a softmax/,
    );
    // log-probabilities are logits up to a per-row constant: same fit as the logits
    const logp = probs.map((r) => r.map(Math.log));
    expect(fitTemperature(logp, labels).temperature).toBeCloseTo(
      fitTemperature(logits, labels).temperature,
      4,
    );
    const samples = tf.tensor3d([probs, probs]);
    expect(() => toolbox.fitMixtureTemperature(samples, labels)).toThrow(
      /logitSamples: expected logits, got probabilities/,
    );
    samples.dispose();
  });

  it('recovers the temperature of an over-confident toy and reduces the held-out NLL', () => {
    const { logits, labels } = toy(4000, 5, 3, 1);
    const fit = fitTemperature(logits, labels);
    expect(fit.temperature).toBeGreaterThan(2.6);
    expect(fit.temperature).toBeLessThan(3.4);
    expect(fit.nllAfter).toBeLessThan(fit.nllBefore - 0.2);
    // fresh test data from the same toy: the fitted T lowers the NLL there too
    const test = toy(4000, 5, 3, 2);
    expect(nll(softmaxRows(test.logits, fit.temperature), test.labels)).toBeLessThan(
      nll(softmaxRows(test.logits), test.labels),
    );
    // the minimum: the NLL is higher at T (1 +- 2%)
    const at = (t: number): number => nll(softmaxRows(logits, t), labels);
    expect(at(fit.temperature * 1.02)).toBeGreaterThan(fit.nllAfter);
    expect(at(fit.temperature * 0.98)).toBeGreaterThan(fit.nllAfter);
    expect(at(fit.temperature)).toBeCloseTo(fit.nllAfter, 6);
  });

  it('under-confident logits get T < 1; a tensor input works and does not leak', () => {
    const { logits, labels } = toy(2000, 4, 0.4, 3);
    const x = tf.tensor2d(logits);
    const before = tf.memory().numTensors;
    const fit = fitTemperature(x, labels);
    expect(tf.memory().numTensors).toBe(before);
    expect(fit.temperature).toBeLessThan(0.5);
    const scaled = expectNoLeak(() => temperatureScale(x, 2));
    expect(scaled[0]).toBeCloseTo(logits[0]![0]! / 2, 5);
    x.dispose();
  });

  it('warns when the fit hits its lower bound T = 1/maxBeta (separable calibration data, e.g. the training set)', () => {
    // every row's largest logit is its label: the NLL falls monotonically as T -> 0
    const rng = makeRng(4);
    const labels = Array.from({ length: 50 }, (_, i) => i % 3);
    const logits = labels.map((y) => [0, 1, 2].map((k) => (k === y ? 2 : 0) + 0.5 * rng()));
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const fit = fitTemperature(logits, labels);
      expect(fit.temperature).toBeCloseTo(0.01, 12);
      expect(fit.warning).toMatch(
        /deepprob: warning: fitTemperature hit its lower bound T = 0\.01 .*separate the 50 calibration examples perfectly.*held-out data/,
      );
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy).toHaveBeenCalledWith(fit.warning);
      // the bound follows maxBeta
      expect(fitTemperature(logits, labels, { maxBeta: 20 }).warning).toMatch(/T = 0\.05/);
      // data that are not separable: an interior temperature, no warning
      const { logits: z, labels: y } = toy(500, 4, 2, 9);
      spy.mockClear();
      const ok = fitTemperature(z, y);
      expect(ok.temperature).toBeGreaterThan(0.01);
      expect(ok.warning).toBeUndefined();
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('bestTemperatureNll: the minimum over T of the NLL of softmax(log p / T), found by a grid', () => {
    // an over-confident toy (true T = 3) given as probabilities; the reference is a brute-force
    // search over T of the NLL of the tempered logits (softmax(log softmax(z) / T) = softmax(z / T))
    const { logits, labels } = toy(3000, 5, 3, 5);
    const probs = softmaxRows(logits);
    const before = tf.memory().numTensors;
    const best = toolbox.bestTemperatureNll(probs, labels);
    expect(tf.memory().numTensors).toBe(before);
    let grid = Infinity;
    let gridT = NaN;
    for (let t = 2; t <= 4.5; t += 0.002) {
      const v = nll(softmaxRows(logits, t), labels);
      if (v < grid) [grid, gridT] = [v, t];
    }
    expect(best.nll).toBeCloseTo(grid, 6);
    expect(best.temperature).toBeCloseTo(gridT, 2);
    expect(best.nll).toBeLessThan(nll(probs, labels) - 0.2);
    // a calibrated predictive (T = 1 generated the labels) cannot gain much; never more than 0
    const cal = toy(3000, 5, 1, 6);
    const pc = softmaxRows(cal.logits);
    const b1 = toolbox.bestTemperatureNll(tf.tensor2d(pc), cal.labels);
    expect(b1.nll).toBeLessThanOrEqual(nll(pc, cal.labels) + 1e-12);
    expect(nll(pc, cal.labels) - b1.nll).toBeLessThan(0.005);
    expect(Math.abs(b1.temperature - 1)).toBeLessThan(0.1);
    expect(() => toolbox.bestTemperatureNll([[0.5, 0.6]], [0])).toThrow(/probs/);
  });

  it('rejects bad input', () => {
    expect(() => fitTemperature([[0, Number.NaN]], [0])).toThrow(/logits: expected finite/);
    expect(() => fitTemperature([[0, 1]], [2])).toThrow(ArgumentError);
    expect(() => fitTemperature([[0], [1]], [0, 0])).toThrow(/K >= 2/);
    expect(() => temperatureScale(tf.zeros([1, 2]), 0)).toThrow(/temperature/);
  });
});

describe('split conformal prediction', () => {
  // A calibrated toy: probabilities are the true class probabilities, so all scores are exchangeable.
  const alpha = 0.1;
  const nCal = 1000;
  const nTest = 5000;
  const cal = toy(nCal, 10, 1, 7);
  const test = toy(nTest, 10, 1, 8);
  // Conditional on calibration, coverage >= 1 - alpha; marginally its distribution over test
  // points is within the binomial band of nTest draws at the nominal level.
  const lowBand = binomialQuantile(1e-4, nTest, 1 - alpha) / nTest;
  const upBand = binomialQuantile(1 - 1e-4, nTest, 1 - alpha + 1 / (nCal + 1)) / nTest;

  for (const score of ['lac', 'aps', 'raps'] as const) {
    it(`${score}: coverage within the binomial band of 1 - alpha`, () => {
      const c = calibrateConformal(softmaxRows(cal.logits), cal.labels, { alpha, score, seed: 1 });
      const r = conformalSets(softmaxRows(test.logits), c, test.labels, 2);
      // the conformal quantile's own randomness (Beta(n+1-l, l) coverage) widens the band
      const betaSd = Math.sqrt((alpha * (1 - alpha)) / (nCal + 2));
      expect(r.coverage!).toBeGreaterThan(lowBand - 4 * betaSd);
      expect(r.coverage!).toBeLessThan(upBand + 4 * betaSd);
      expect(r.meanSize).toBeGreaterThan(1);
      expect(r.meanSize).toBeLessThan(10);
      expect(r.sets).toHaveLength(nTest);
    });
  }

  it('averaged over 20 calibration splits, APS coverage is 1 - alpha within its binomial band', () => {
    const rng = makeRng(3);
    const all = toy(6000, 6, 1, 9);
    const probs = softmaxRows(all.logits);
    let covered = 0;
    let total = 0;
    for (let rep = 0; rep < 20; rep++) {
      const idx = Array.from({ length: 6000 }, (_, i) => i);
      for (let i = idx.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [idx[i], idx[j]] = [idx[j]!, idx[i]!];
      }
      const ci = idx.slice(0, 300);
      const ti = idx.slice(300, 600);
      const c = calibrateConformal(
        ci.map((i) => probs[i]!),
        ci.map((i) => all.labels[i]!),
        { alpha: 0.2, seed: rep },
      );
      const r = conformalSets(
        ti.map((i) => probs[i]!),
        c,
        ti.map((i) => all.labels[i]!),
        100 + rep,
      );
      covered += r.coverage! * 300;
      total += 300;
    }
    // exact coverage of randomised APS is in [1 - alpha, 1 - alpha + 1/(n+1)]; the average over
    // 6,000 test points has SD <= sqrt(0.16/6000) plus the split-to-split spread sqrt(0.16/302/20)
    const sd = Math.sqrt(0.16 / total + 0.16 / 302 / 20);
    expect(covered / total).toBeGreaterThan(0.8 - 4 * sd);
    expect(covered / total).toBeLessThan(0.8 + 1 / 301 + 4 * sd);
  });

  it('RAPS penalises large sets; non-randomised sets are never empty; lac sets match the threshold', () => {
    const probs = softmaxRows(toy(500, 10, 0.3, 4).logits); // flat, uncertain probabilities
    const labels = toy(500, 10, 0.3, 4).labels;
    const aps = calibrateConformal(probs, labels, { score: 'aps', randomized: false });
    const raps = calibrateConformal(probs, labels, {
      score: 'raps',
      lambda: 0.2,
      kReg: 1,
      randomized: false,
    });
    const sa = conformalSets(probs, aps);
    const sr = conformalSets(probs, raps);
    expect(sr.meanSize).toBeLessThan(sa.meanSize);
    expect(sa.sets.every((s) => s.length > 0)).toBe(true);
    const lac = calibrateConformal(probs, labels, { score: 'lac' });
    const sl = conformalSets(probs, lac);
    sl.sets.forEach((s, i) => {
      const want = probs[i]!.map((p, k) => (1 - p <= lac.qhat ? k : -1)).filter((k) => k >= 0);
      expect([...s].sort((a, b) => a - b)).toEqual(want);
    });
  });

  it('non-randomised APS/RAPS keep the class where the ranked mass crosses qhat (never empty, coverage kept)', () => {
    // calibration: the label is the top class 4 times in 5 (cumulative mass 0.7) and second
    // otherwise (0.9): at alpha 0.1 qhat = 0.9
    const calProbs = Array.from({ length: 100 }, () => [0.7, 0.2, 0.1]);
    const calLabels = calProbs.map((_, i) => (i % 5 === 0 ? 1 : 0));
    for (const score of ['aps', 'raps'] as const) {
      const c = calibrateConformal(calProbs, calLabels, { alpha: 0.1, score, randomized: false });
      const { sets } = conformalSets(
        [
          [0.95, 0.04, 0.01],
          [0.7, 0.2, 0.1],
          [0.4, 0.35, 0.25],
        ],
        c,
      );
      // the confident input: mass 0.95 > qhat at its first class, which stays (was the empty set)
      expect(sets[0]).toEqual([0]);
      expect(sets[1]).toEqual([0, 1]);
      expect(sets[2]).toEqual([0, 1, 2]); // 0.4, 0.75 below qhat; 1.0 crosses it
    }
    // on exchangeable synthetic data the sets still cover at >= 1 - alpha (binomial band)
    const { logits, labels } = toy(4000, 6, 1, 12);
    const probs = softmaxRows(logits);
    const c = calibrateConformal(probs.slice(0, 2000), labels.slice(0, 2000), {
      alpha: 0.1,
      randomized: false,
    });
    const r = conformalSets(probs.slice(2000), c, labels.slice(2000));
    expect(r.sets.every((set) => set.length > 0)).toBe(true);
    expect(r.coverage!).toBeGreaterThanOrEqual(binomialQuantile(0.001, 2000, 0.9) / 2000);
  });

  it('a calibration survives JSON (qhat = Infinity is written as null); rows must be probabilities', () => {
    const c = calibrateConformal([[0.6, 0.4]], [0], { alpha: 0.1 });
    const back = JSON.parse(JSON.stringify(c)) as toolbox.ConformalCalibration;
    expect(back.qhat).toBeNull();
    expect(conformalSets([[0.9, 0.1]], back).sets[0]).toHaveLength(2);
    const finite = calibrateConformal(
      softmaxRows(toy(50, 3, 1, 2).logits),
      toy(50, 3, 1, 2).labels,
    );
    expect(JSON.parse(JSON.stringify(finite))).toEqual(finite);
    const sixes = Array.from({ length: 20 }, () => [0.9, 0.9, 0.9, 0.9, 0.9, 0.9]);
    expect(() =>
      calibrateConformal(
        sixes,
        sixes.map(() => 0),
      ),
    ).toThrow(/probs: expected each row to sum to 1, row 0 sums to 5.4/);
    expect(() => conformalSets(sixes, finite)).toThrow(/probs: expected each row to sum to 1/);
  });

  it('too few calibration points give the full label set (qhat = infinity)', () => {
    const c = calibrateConformal([[0.6, 0.4]], [0], { alpha: 0.1 });
    expect(c.qhat).toBe(Infinity);
    expect(conformalSets([[0.9, 0.1]], c).sets[0]).toHaveLength(2);
  });

  it('rejects bad input', () => {
    expect(() => calibrateConformal([[0.5, 0.5]], [0], { alpha: 1 })).toThrow(/alpha/);
    expect(() => calibrateConformal([[0.5, 1.5]], [0])).toThrow(/probs: expected probabilities/);
    expect(() => calibrateConformal([[0.5, 0.5]], [0], { score: 'x' as 'aps' })).toThrow(
      ArgumentError,
    );
    expect(() => calibrateConformal([[0.5, 0.5]], [0], { kReg: -1 })).toThrow(/kReg/);
    expect(() => conformalSets([[0.5, 0.5]], {} as never)).toThrow(/calibration/);
  });
});
