import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, data, toolbox } from '../../src/index.js';
import { parseMethodSpec } from '../../src/app/shift/spec.js';
import { klDominanceWarning } from '../../src/train/kl_guard.js';
import { makeRng } from '../../src/utils/seed.js';

const { rotateImages, corruptImages, uniformNoiseImages, CORRUPTIONS } = data;

function randomSet(n: number, h: number, w: number, seed: number): data.ImageSet {
  const rng = makeRng(seed);
  const images = Uint8Array.from({ length: n * h * w }, () => Math.floor(256 * rng()));
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return {
    name: 'toy',
    images,
    labels,
    count: n,
    height: h,
    width: w,
    channels: 1,
    numClasses: 10,
  };
}

describe('corruptions', () => {
  it('rotation by 90 degrees is an exact counter-clockwise quarter turn; 0 is the identity', () => {
    const s = randomSet(2, 6, 6, 1);
    const r = rotateImages(s, 90);
    for (let n = 0; n < 2; n++) {
      for (let i = 0; i < 6; i++) {
        for (let j = 0; j < 6; j++) {
          // output row i is source column 5 - i read top to bottom
          expect(r.images[n * 36 + i * 6 + j]).toBe(s.images[n * 36 + j * 6 + (5 - i)]);
        }
      }
    }
    expect(Array.from(rotateImages(s, 0).images)).toEqual(Array.from(s.images));
    const twice = rotateImages(rotateImages(s, 90), 90);
    expect(Array.from(twice.images)).toEqual(Array.from(rotateImages(s, 180).images));
    expect(Array.from(r.labels)).toEqual(Array.from(s.labels));
  });

  it('corruptions are deterministic per seed, keep labels, and grow with severity', () => {
    const s = randomSet(20, 8, 8, 2);
    for (const c of CORRUPTIONS) {
      const a = corruptImages(s, c, 3, 7);
      const b = corruptImages(s, c, 3, 7);
      expect(Array.from(a.images)).toEqual(Array.from(b.images));
      expect(Array.from(a.labels)).toEqual(Array.from(s.labels));
      const dist = (sev: number): number => {
        const o = corruptImages(s, c, sev, 7).images;
        let d = 0;
        for (let i = 0; i < o.length; i++)
          d += Math.abs((o[i] as number) - (s.images[i] as number));
        return d;
      };
      expect(dist(5)).toBeGreaterThan(dist(1));
    }
    // gaussian noise at severity 1 has the documented standard deviation (0.08 of full scale)
    const flat = { ...s, images: new Uint8Array(s.images.length).fill(128) };
    const g = corruptImages(flat, 'gaussian-noise', 1, 3).images;
    let m2 = 0;
    for (const v of g) m2 += ((v - 128) / 255) ** 2;
    const sd = Math.sqrt(m2 / g.length);
    expect(Math.abs(sd - 0.08)).toBeLessThan(5 * 0.08 * Math.sqrt(1 / (2 * g.length)) + 0.002);
  });

  it('uniform noise and bad input', () => {
    const u = uniformNoiseImages({ height: 4, width: 4, channels: 1, numClasses: 10 }, 3, 1);
    expect(u.count).toBe(3);
    expect(u.images.length).toBe(48);
    const s = randomSet(1, 4, 4, 1);
    expect(() => corruptImages(s, 'fog' as 'contrast', 1)).toThrow(/corruption/);
    expect(() => corruptImages(s, 'contrast', 6)).toThrow(/severity/);
    expect(() => rotateImages(s, Number.NaN)).toThrow(ArgumentError);
    expect(() => uniformNoiseImages(s, 0)).toThrow(/count/);
  });
});

describe('shiftBenchmark', () => {
  it('computes per-level metrics, OOD AUROC and conformal coverage; deterministic methods have MI AUROC 1/2', () => {
    // inputs x: [N, 1] whose value sets the logit of class 1; shift = adding noise to x
    const rng = makeRng(4);
    const mk = (n: number, noise: number) => {
      const labels: number[] = Array.from({ length: n }, () => (rng() < 0.5 ? 0 : 1));
      const xs = labels.map((y) => (y === 1 ? 2 : -2) + noise * (2 * rng() - 1));
      return { x: tf.tensor2d(xs, [n, 1]), labels };
    };
    const clean = mk(400, 1);
    const cal = mk(400, 1);
    const shifted = [mk(400, 4), mk(400, 8)];
    const oodX = tf.tensor2d(
      Array.from({ length: 200 }, () => 0.3 * (2 * rng() - 1)),
      [200, 1],
    );
    const logistic: toolbox.ShiftMethod = {
      name: 'logistic',
      predict: (x) =>
        tf.tidy(() => {
          const z = tf.mul(x, 2);
          return tf.expandDims(tf.softmax(tf.concat([tf.neg(z), z], 1)), 0) as tf.Tensor3D;
        }),
    };
    const before = tf.memory().numTensors;
    const r = toolbox.shiftBenchmark({
      methods: [logistic],
      clean: { family: 'clean', level: 0, ...clean },
      shifted: shifted.map((s, i) => ({ family: 'noise', level: i + 1, ...s })),
      ood: [{ name: 'near-zero', x: oodX }],
      calibration: cal,
      alpha: 0.1,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.rows).toHaveLength(3);
    const [c, s1, s2] = r.rows;
    expect(c!.accuracy).toBeGreaterThan(s1!.accuracy);
    expect(s1!.accuracy).toBeGreaterThan(s2!.accuracy);
    expect(s2!.nll).toBeGreaterThan(c!.nll);
    // direct NLL of the clean set
    const direct =
      clean.labels.reduce((a: number, y, i) => {
        const xv = clean.x.dataSync()[i] as number;
        const p1 = 1 / (1 + Math.exp(-4 * xv));
        return a - Math.log(y === 1 ? p1 : 1 - p1);
      }, 0) / 400;
    expect(c!.nll).toBeCloseTo(direct, 4);
    expect(r.ood[0]!.aurocEntropy).toBeGreaterThan(0.9);
    expect(r.ood[0]!.aurocMI).toBe(0.5);
    expect(c!.coverage!).toBeGreaterThan(0.85);
    expect(r.summary[0]!.families.noise!.nll).toBeCloseTo((s1!.nll + s2!.nll) / 2, 10);
    // the NLL at the best temperature in hindsight: never above the NLL; on the noisy sets the
    // logistic model is over-confident, so a temperature gains there
    for (const row of r.rows) expect(row.nllBestT).toBeLessThanOrEqual(row.nll + 1e-12);
    expect(s2!.nllBestT).toBeLessThan(s2!.nll - 0.05);
    expect(r.summary[0]!.families.noise!.nllBestT).toBeCloseTo(
      (s1!.nllBestT + s2!.nllBestT) / 2,
      10,
    );
    expect(toolbox.formatShiftTable(r)).toMatch(/logistic/);
    expect(() => toolbox.shiftBenchmark({ methods: [], clean: r as never, shifted: [] })).toThrow(
      /methods/,
    );
    expect(() =>
      toolbox.shiftBenchmark({
        methods: [logistic],
        clean: { family: 'clean', level: 0, x: clean.x, labels: [1] },
        shifted: [],
      }),
    ).toThrow(/clean.labels/);
    // checked before any prediction: alpha, the score, the calibration set
    let calls = 0;
    const counting: toolbox.ShiftMethod = {
      name: 'counting',
      predict: (x) => {
        calls++;
        return logistic.predict(x);
      },
    };
    const base = {
      methods: [counting],
      clean: { family: 'clean', level: 0, ...clean },
      shifted: [],
    };
    expect(() => toolbox.shiftBenchmark({ ...base, calibration: cal, alpha: 1.5 })).toThrow(
      /alpha: expected a number in \(0, 1\), got 1.5/,
    );
    expect(() => toolbox.shiftBenchmark({ ...base, conformalScore: 'bogus' as 'aps' })).toThrow(
      /conformalScore: expected one of lac, aps, raps/,
    );
    expect(() =>
      toolbox.shiftBenchmark({ ...base, calibration: { x: cal.x, labels: [0, 1] } }),
    ).toThrow(/calibration.labels: expected 400 labels, got 2/);
    expect(calls).toBe(0);
    // what a method returns and the labels are named by method and set
    const notProbs: toolbox.ShiftMethod = {
      name: 'raw',
      predict: (x) => tf.tidy(() => tf.expandDims(tf.concat([x, x], 1), 0) as tf.Tensor3D),
    };
    expect(() => toolbox.shiftBenchmark({ ...base, methods: [notProbs] })).toThrow(
      /methods\[raw\]\.predict on clean: .*expected probabilities in \[0, 1\]/,
    );
    const badLabels = { family: 'noise', level: 1, x: clean.x, labels: clean.labels.map(() => 2) };
    expect(() => toolbox.shiftBenchmark({ ...base, shifted: [badLabels] })).toThrow(
      /shifted\[0\]\.labels: expected integers in \[0, 2\), got 2/,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([clean.x, cal.x, oodX, ...shifted.map((s) => s.x)]);
  });
});

describe('KL dominance guard', () => {
  it('warns only at chance accuracy with a sizeable KL, naming the fixes', () => {
    const w = klDominanceWarning({ trainNll: 2.3, trainKl: 1.2, trainAccuracy: 0.11 }, 10, 500);
    expect(w).toMatch(/--kl-weight/);
    expect(w).toMatch(/N = 500/);
    expect(
      klDominanceWarning({ trainNll: 0.1, trainKl: 1.2, trainAccuracy: 0.97 }, 10, 500),
    ).toBeUndefined();
    expect(
      klDominanceWarning({ trainNll: 2.3, trainKl: 0.01, trainAccuracy: 0.1 }, 10, 500),
    ).toBeUndefined();
    expect(
      klDominanceWarning({ trainNll: 2.3, trainKl: 0, trainAccuracy: 0.1 }, 10, 500),
    ).toBeUndefined();
  });
});

describe('shift method specs', () => {
  it('parses [name=]kind[@scale]:dir[,dir...] and rejects the rest', () => {
    expect(parseMethodSpec('laplace:runs/p')).toEqual({ kind: 'laplace', checkpoints: ['runs/p'] });
    expect(parseMethodSpec('e=ensemble:a,b')).toEqual({
      name: 'e',
      kind: 'ensemble',
      checkpoints: ['a', 'b'],
    });
    expect(parseMethodSpec('b15=bayes@1.5:runs/bnn')).toEqual({
      name: 'b15',
      kind: 'bayes',
      checkpoints: ['runs/bnn'],
      posteriorScale: 1.5,
    });
    expect(parseMethodSpec('bayes-temperature@1.4:runs/bnn')).toEqual({
      kind: 'bayes-temperature',
      checkpoints: ['runs/bnn'],
      posteriorScale: 1.4,
    });
    expect(() => parseMethodSpec('plain@2:runs/p')).toThrow(/only follows the kinds bayes/);
    expect(() => parseMethodSpec('bayes@-1:runs/p')).toThrow(ArgumentError);
    expect(() => parseMethodSpec('bayes@:runs/p')).toThrow(/scale/);
    expect(() => parseMethodSpec('nope:runs/p')).toThrow(/unknown kind/);
    expect(() => parseMethodSpec('plain:a,b')).toThrow(/one run directory/);
  });
});
