import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  normalFusable,
  normalLogProb,
  normalLogProbSum,
  normalRsample,
} from '../../src/backend/normal_fused.js';
import {
  NORMAL_LOG_PROB,
  NORMAL_LOG_PROB_GRAD,
  NORMAL_RSAMPLE,
  sumLog,
} from '../../src/backend/kernels/normal.js';
import { randomNormal } from '../../src/backend/random.js';
import { Normal } from '../../src/distributions/normal.js';
import { siteLogProbSum } from '../../src/ppl/trace.js';
import type { Message } from '../../src/ppl/runtime.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';
import { onCpu, randTensor, rng } from './reference.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** The composed ops (stock tfjs kernels) of the log-density. */
function composedLogProb(x: tf.Tensor, loc: tf.Tensor, scale: tf.Tensor): tf.Tensor {
  const z = tf.div(tf.sub(x, loc), scale);
  return tf.sub(tf.mul(-0.5, tf.square(z)), tf.add(HALF_LOG_2PI, tf.log(scale)));
}

/** Value and gradients of `f(x, loc, scale)` weighted by `dy`, as flat arrays. */
function valueAndGrads3(
  f: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor,
  ins: tf.Tensor[],
  dy?: tf.Tensor,
): Float32Array[] {
  return tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      f(a, b, c),
    )(ins, dy);
    return [value, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

/** Positive scales spanning four decades. */
function scales(r: () => number, shape: number[]): tf.Tensor {
  return tf.tidy(() => tf.exp(tf.mul(randTensor(r, shape), 2)));
}

describe('fused Normal kernels', () => {
  const r = rng(11);

  it('apply on wasm and cpu for cyclic parameter shapes only', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(normalFusable(NORMAL_LOG_PROB, [7, 13], [7, 13], [7, 13])).toBe(true);
    expect(normalFusable(NORMAL_LOG_PROB, [7, 13], [], [1])).toBe(true);
    expect(normalFusable(NORMAL_LOG_PROB, [5, 7, 13], [1, 13], [7, 13])).toBe(true);
    // a column parameter is not a suffix of the output: composed ops
    expect(normalFusable(NORMAL_LOG_PROB, [7, 13], [7, 1], [])).toBe(false);
    expect(normalFusable('NoSuchKernel', [7, 13], [], [])).toBe(false);
  });

  // [x shape, loc shape, scale shape]: same shape, scalars, batch suffixes
  const cases: [number[], number[], number[]][] = [
    [
      [7, 13],
      [7, 13],
      [7, 13],
    ],
    [[7, 13], [], []],
    [[4, 7, 13], [7, 13], [13]],
    [[3, 5], [1, 5], [1]],
  ];

  for (const [xs, ls, ss] of cases) {
    it(`logProb and logProbSum equal the composed ops with their gradients, x ${JSON.stringify(xs)}, loc ${JSON.stringify(ls)}, scale ${JSON.stringify(ss)}`, () => {
      const x = tf.tidy(() => tf.mul(randTensor(r, xs), 3));
      const loc = randTensor(r, ls);
      const scale = scales(r, ss);
      const dy = randTensor(r, xs);
      expect(normalFusable(NORMAL_LOG_PROB, xs, ls, ss)).toBe(true);
      const ref = valueAndGrads3(composedLogProb, [x, loc, scale], dy);
      const got = valueAndGrads3(normalLogProb, [x, loc, scale], dy);
      for (let i = 0; i < 4; i++) expect(got[i]).toBeAllclose(ref[i]!, { rtol: 2e-5, atol: 1e-5 });
      const refSum = valueAndGrads3((a, b, c) => tf.sum(composedLogProb(a, b, c)), [x, loc, scale]);
      const gotSum = valueAndGrads3(normalLogProbSum, [x, loc, scale]);
      for (let i = 0; i < 4; i++) {
        expect(gotSum[i]).toBeAllclose(refSum[i]!, { rtol: 2e-5, atol: 1e-4 });
      }
      tf.dispose([x, loc, scale, dy]);
    });
  }

  it('parameters the kernels do not index (a column loc) take the composed ops, same results', () => {
    const x = randTensor(r, [7, 13]);
    const loc = randTensor(r, [7, 1]);
    const scale = scales(r, [1, 13]);
    const dy = randTensor(r, [7, 13]);
    expect(normalFusable(NORMAL_LOG_PROB, [7, 13], [7, 1], [1, 13])).toBe(false);
    const ref = valueAndGrads3(composedLogProb, [x, loc, scale], dy);
    const got = valueAndGrads3(normalLogProb, [x, loc, scale], dy);
    for (let i = 0; i < 4; i++) expect(got[i]).toBeAllclose(ref[i]!, { rtol: 1e-6, atol: 1e-6 });
    const eps = randomNormal([7, 13], 0, 1, 31);
    const want = tf.tidy(() => tf.add(loc, tf.mul(scale, eps)));
    const draw = normalRsample(loc, scale, [7, 13], 31);
    expect(draw).toBeAllclose(want, { rtol: 1e-6, atol: 1e-6 });
    tf.dispose([x, loc, scale, dy, eps, want, draw]);
  });

  it('logProbSum matches a float64 sum and finite differences in x, loc and scale', () => {
    const n = 40;
    const x = Array.from({ length: n }, () => 3 * r() - 1.5);
    const loc = Array.from({ length: n }, () => r() - 0.5);
    const sc = Array.from({ length: n }, () => 0.2 + 2 * r());
    const f64 = (xv: number[], lv: number[], sv: number[]): number =>
      xv.reduce((a, xi, i) => {
        const z = (xi - lv[i]!) / sv[i]!;
        return a - 0.5 * z * z - Math.log(sv[i]!) - HALF_LOG_2PI;
      }, 0);
    // float32 inputs, so that the reference sees the same numbers as the kernel
    const [xf, lf, sf] = [x, loc, sc].map((a) => Array.from(Float32Array.from(a)));
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      normalLogProbSum(a, b, c),
    )([tf.tensor(xf!), tf.tensor(lf!), tf.tensor(sf!)]);
    expect(value).toBeAllclose(f64(xf!, lf!, sf!), { rtol: 1e-6 });
    const fd = [
      finiteDiff((v) => f64(v, lf!, sf!), xf!, 1e-4),
      finiteDiff((v) => f64(xf!, v, sf!), lf!, 1e-4),
      finiteDiff((v) => f64(xf!, lf!, v), sf!, 1e-4),
    ];
    for (let k = 0; k < 3; k++) {
      expect(grads[k]!.dataSync()).toBeAllclose(fd[k]!, { rtol: 1e-3, atol: 1e-4 });
    }
    tf.dispose([value, ...grads]);
  });

  it('sumLog sums logs in groups of four, with -Infinity and NaN as the element-wise sum', () => {
    const v = Float32Array.from([1e-30, 3e30, 0.5, 7, 1e-38, 2e38, 3, 0.25, 9]);
    const exact = Array.from(v).reduce((a, s) => a + Math.log(s), 0);
    expect(sumLog(v)).toBeAllclose(exact, { rtol: 1e-14 });
    expect(sumLog(Float32Array.from([1, 2, 0, 3, 4]))).toBe(-Infinity);
    expect(sumLog(Float32Array.from([-1, -2, 3, 4]))).toBeNaN();
    expect(sumLog(new Float32Array(0))).toBe(0);
  });

  it('normalRsample equals loc + scale * eps with the same seeded eps, and its gradients', () => {
    for (const [shape, ls, ss] of [
      [
        [6, 9],
        [6, 9],
        [6, 9],
      ],
      [[4, 6, 9], [9], [6, 9]],
      [[5], [], []],
    ] as [number[], number[], number[]][]) {
      const loc = randTensor(r, ls);
      const scale = scales(r, ss);
      const dy = randTensor(r, shape);
      expect(normalFusable(NORMAL_RSAMPLE, shape, ls, ss)).toBe(true);
      const ref = tf.tidy(() => {
        const eps = randomNormal(shape, 0, 1, 123);
        const { value, grads } = tf.valueAndGrads((l: tf.Tensor, s: tf.Tensor) =>
          tf.add(l, tf.mul(s, eps)),
        )([loc, scale], dy);
        return [value, ...grads].map((t) => t.dataSync());
      });
      const got = tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((l: tf.Tensor, s: tf.Tensor) =>
          normalRsample(l, s, shape, 123),
        )([loc, scale], dy);
        return [value, ...grads].map((t) => t.dataSync());
      });
      for (let i = 0; i < 3; i++) expect(got[i]).toBeAllclose(ref[i]!, { rtol: 1e-5, atol: 1e-5 });
      tf.dispose([loc, scale, dy]);
    }
  });

  it('normalRsample draws N(loc, scale^2): sample mean and sd within 5 standard errors', () => {
    const n = 20000;
    const [loc, scale] = [tf.scalar(1.5), tf.scalar(0.5)];
    const v = expectNoLeak(() => normalRsample(loc, scale, [n], 4));
    tf.dispose([loc, scale]);
    const mean = v.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean - 1.5)).toBeLessThan((5 * 0.5) / Math.sqrt(n));
    expect(Math.abs(sd - 0.5)).toBeLessThan((5 * 0.5) / Math.sqrt(2 * n));
  });

  it('the cpu backend gives the wasm values, and nothing leaks', async () => {
    const x = tf.tidy(() => tf.mul(randTensor(r, [5, 8]), 2));
    const loc = randTensor(r, [8]);
    const scale = scales(r, [5, 8]);
    const wasm = {
      lp: expectNoLeak(() => normalLogProb(x, loc, scale)),
      sum: expectNoLeak(() => normalLogProbSum(x, loc, scale)),
      rs: expectNoLeak(() => normalRsample(loc, scale, [5, 8], 9)),
      grads: valueAndGrads3(normalLogProbSum, [x, loc, scale]).map((a) => Array.from(a)),
    };
    const [xv, lv, sv] = [x, loc, scale].map((t) => t.dataSync());
    const cpu = await onCpu(() => {
      const xc = tf.tensor(xv!, [5, 8]);
      const lc = tf.tensor(lv!, [8]);
      const sc = tf.tensor(sv!, [5, 8]);
      const out = {
        lp: tf.tidy(() => Array.from(normalLogProb(xc, lc, sc).dataSync())),
        sum: tf.tidy(() => Array.from(normalLogProbSum(xc, lc, sc).dataSync())),
        rs: tf.tidy(() => Array.from(normalRsample(lc, sc, [5, 8], 9).dataSync())),
        grads: valueAndGrads3(normalLogProbSum, [xc, lc, sc]).map((a) => Array.from(a)),
      };
      tf.dispose([xc, lc, sc]);
      return out;
    });
    expect(cpu.lp).toBeAllclose(wasm.lp, { rtol: 1e-6, atol: 1e-6 });
    expect(cpu.sum).toBeAllclose(wasm.sum, { rtol: 1e-6 });
    expect(cpu.rs).toBeAllclose(wasm.rs, { rtol: 1e-6, atol: 1e-7 });
    for (let i = 0; i < 4; i++) expect(cpu.grads[i]).toBeAllclose(wasm.grads[i]!, { rtol: 1e-6 });
    expectNoLeak(() => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.add(normalLogProbSum(a, b, c), tf.sum(normalRsample(b, c, [3, 5, 8]))),
      )([x, loc, scale]);
      tf.dispose(g);
    });
    tf.dispose([x, loc, scale]);
  });

  it('Normal uses them: logProbSum = sum(logProb), rsample = loc + scale * eps, site sums', () => {
    const loc = randTensor(r, [6, 4]);
    const scale = scales(r, [4]);
    const d = new Normal(loc, scale);
    const x = randTensor(r, [6, 4]);
    const lp = tf.tidy(() => tf.sum(composedLogProb(x, loc, scale)));
    expect(d.logProbSum(x)).toBeAllclose(lp, { rtol: 1e-5 });
    expect(tf.tidy(() => tf.sum(d.logProb(x)))).toBeAllclose(lp, { rtol: 1e-5 });
    // a value of a smaller shape broadcasts against the batch shape (composed path)
    const row = randTensor(r, [4]);
    const rowRef = tf.tidy(() => tf.sum(composedLogProb(row, loc, scale)));
    expect(d.logProbSum(row)).toBeAllclose(rowRef, { rtol: 1e-5 });
    const eps = randomNormal([3, 6, 4], 0, 1, 77);
    const ref = tf.tidy(() => tf.add(loc, tf.mul(scale, eps)));
    expect(d.rsample([3], 77)).toBeAllclose(ref, { rtol: 1e-6, atol: 1e-6 });
    expect(d.sample([3], 77)).toBeAllclose(ref, { rtol: 1e-6, atol: 1e-6 });
    // the trace's per-site sum uses logProbSum, scaled by the site scale
    const site = { fn: d, value: x, mask: null, scale: 2.5 } as unknown as Message;
    expect(siteLogProbSum(site)).toBeAllclose(tf.mul(lp, 2.5), { rtol: 1e-5 });
    const masked = tf.tensor([1, 0, 1, 1], [4], 'bool');
    const maskedRef = tf.tidy(() =>
      tf.sum(tf.mul(composedLogProb(x, loc, scale), tf.cast(masked, 'float32'))),
    );
    const siteM = { fn: d, value: x, mask: masked, scale: 1 } as unknown as Message;
    expect(siteLogProbSum(siteM)).toBeAllclose(maskedRef, { rtol: 1e-5 });
    tf.dispose([loc, scale, x, lp, row, rowRef, eps, ref, masked, maskedRef]);
  });

  it('backward runs one gradient kernel per input on the path: one for a constant prior', async () => {
    const w = randTensor(r, [6, 5]);
    const zeros = tf.zeros([6, 5]);
    const ones = tf.ones([6, 5]);
    const count = async (f: () => void): Promise<number> =>
      (await tf.profile(f)).kernels.filter((k) => k.name === NORMAL_LOG_PROB_GRAD).length;
    const prior = await count(() => {
      tf.dispose(tf.grads((x: tf.Tensor) => normalLogProbSum(x, zeros, ones))([w]));
    });
    const guide = await count(() => {
      tf.dispose(
        tf.grads((x: tf.Tensor, l: tf.Tensor, s: tf.Tensor) => normalLogProbSum(x, l, s))([
          w,
          zeros,
          ones,
        ]),
      );
    });
    expect([prior, guide]).toEqual([1, 3]);
    tf.dispose([w, zeros, ones]);
  });

  it('zero, negative and infinite scales give what the composed ops give', () => {
    const x = tf.tensor([1, 1, 0, 1, 2, 0.5, 1]);
    const scale = tf.tensor([0.5, 0, 0, -1, Infinity, 2, 3]);
    const loc = tf.zeros([7]);
    const ref = tf.tidy(() => composedLogProb(x, loc, scale));
    const got = normalLogProb(x, loc, scale);
    const [gv, rv] = [Array.from(got.dataSync()), Array.from(ref.dataSync())];
    // the same non-finite values (NaN, -Infinity) in the same places, the finite ones close
    expect(gv.map((v) => (Number.isFinite(v) ? 'finite' : String(v)))).toEqual(
      rv.map((v) => (Number.isFinite(v) ? 'finite' : String(v))),
    );
    expect(gv.filter(Number.isFinite)).toBeAllclose(rv.filter(Number.isFinite), { rtol: 1e-6 });
    expect(rv.filter(Number.isNaN).length).toBeGreaterThan(0);
    // a NaN term makes the sum NaN on both paths
    expect(normalLogProbSum(x, loc, scale).dataSync()[0]).toBeNaN();
    const pos = tf.tensor([1e-30, 3e30, 0.5, 7, 1e-38, 2, 3]);
    expect(normalLogProbSum(x, loc, pos)).toBeAllclose(tf.sum(composedLogProb(x, loc, pos)), {
      rtol: 1e-5,
    });
    tf.dispose([x, scale, loc, ref, got, pos]);
  });

  it('rejects a sample shape that does not end with the batch shape, naming it', () => {
    const loc = tf.zeros([3, 4]);
    expect(() => normalRsample(loc, tf.scalar(1), [4])).toThrow(/shape/);
    expect(() => normalRsample(loc, tf.scalar(1), [2, 3])).toThrow(/shape/);
    loc.dispose();
  });
});
