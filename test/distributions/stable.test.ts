/**
 * Stable and StableWithLogProb (Pyro's): the Chambers–Mallows–Stuck draws against the closed
 * forms (alpha = 2 Normal, alpha = 1 beta = 0 Cauchy, alpha = 1/2 beta = 1 Lévy; Kolmogorov–Smirnov
 * against @stdlib CDFs, seeded), the empirical characteristic function at general (alpha, beta) in
 * both coords against the closed form within its Monte Carlo standard error, pathwise gradients,
 * moments, Nolan's integral against the closed forms and its normalisation by quadrature,
 * gradients against finite differences, memory, bad input, and the base's option-key check.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import normalRef from '@stdlib/stats-base-dists-normal';
import cauchyRef from '@stdlib/stats-base-dists-cauchy';
import erfc from '@stdlib/math-base-special-erfc';
import { ArgumentError, distributions as D } from '../../src/index.js';
import { NotDefinedError } from '../../src/utils/errors.js';
import { clearSeed } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

type Fn = (...args: number[]) => number;
const fn = (mod: object, name: string): Fn => (mod as Record<string, Fn>)[name] as Fn;
const normalCdf = fn(normalRef, 'cdf');
const normalLogPdf = fn(normalRef, 'logpdf');
const cauchyCdf = fn(cauchyRef, 'cdf');
const cauchyLogPdf = fn(cauchyRef, 'logpdf');
const erfcFn = erfc as unknown as (x: number) => number;

afterEach(() => clearSeed());

/** The one-sample Kolmogorov–Smirnov statistic of `xs` against the CDF `F`. */
function ksStat(xs: number[], F: (x: number) => number): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  let d = 0;
  s.forEach((x, i) => {
    const f = F(x);
    d = Math.max(d, Math.abs(f - i / n), Math.abs((i + 1) / n - f));
  });
  return d;
}
/** The KS critical value at level 0.001 (asymptotic, 1.95 / sqrt n). */
const ksCrit = (n: number): number => 1.95 / Math.sqrt(n);

function draws(d: D.Distribution, n: number, seed: number): number[] {
  return expectNoLeak(() => d.sample([n], seed));
}

/**
 * The closed-form characteristic function of `Stable(alpha, beta, scale, loc)` (`X = loc + scale Z`,
 * `Z` standard in `coords`) at `t`: `[re, im]`.
 */
function stableCf(
  t: number,
  a: number,
  b: number,
  s: number,
  m: number,
  coords: 'S0' | 'S',
): [number, number] {
  const st = s * t;
  const abs = Math.abs(st);
  let logMod: number;
  let phase: number;
  if (a === 1) {
    logMod = -abs;
    phase = m * t - (b * 2 * st * Math.log(abs)) / Math.PI;
  } else {
    const tan = Math.tan((Math.PI * a) / 2);
    const loc1 = coords === 'S0' ? m - b * s * tan : m;
    logMod = -Math.pow(abs, a);
    phase = loc1 * t + Math.pow(abs, a) * b * Math.sign(t) * tan;
  }
  const r = Math.exp(logMod);
  return [r * Math.cos(phase), r * Math.sin(phase)];
}

describe('Stable draws', () => {
  it('alpha = 2 is Normal(loc, sqrt 2 scale) in both coords (KS against @stdlib)', () => {
    for (const coords of ['S0', 'S'] as const) {
      const d = new D.Stable(2, 0.6, 1.5, 0.7, { coords });
      const xs = draws(d, 4000, 11);
      expect(ksStat(xs, (x) => normalCdf(x, 0.7, Math.SQRT2 * 1.5))).toBeLessThan(ksCrit(4000));
      d.dispose();
    }
  });

  it('alpha = 1, beta = 0 is Cauchy(loc, scale) (KS against @stdlib)', () => {
    for (const coords of ['S0', 'S'] as const) {
      const d = new D.Stable(1, 0, 2, -1, { coords });
      const xs = draws(d, 4000, 12);
      expect(ksStat(xs, (x) => cauchyCdf(x, -1, 2))).toBeLessThan(ksCrit(4000));
      d.dispose();
    }
  });

  it('alpha = 1/2, beta = 1 is Lévy: Levy(loc, scale) in S, Levy(loc - scale, scale) in S0', () => {
    const levyCdf = (x: number, m: number, c: number): number =>
      x <= m ? 0 : erfcFn(Math.sqrt(c / (2 * (x - m))));
    const s = new D.Stable(0.5, 1, 0.8, 0.3, { coords: 'S' });
    expect(ksStat(draws(s, 4000, 13), (x) => levyCdf(x, 0.3, 0.8))).toBeLessThan(ksCrit(4000));
    const s0 = new D.Stable(0.5, 1, 0.8, 0.3);
    expect(ksStat(draws(s0, 4000, 14), (x) => levyCdf(x, 0.3 - 0.8, 0.8))).toBeLessThan(
      ksCrit(4000),
    );
    s.dispose();
    s0.dispose();
  });

  it('the empirical characteristic function matches the closed form within 4.5 MC SE', () => {
    const n = 20000;
    const cases: [number, number, number, number, 'S0' | 'S'][] = [
      [1.5, 0.5, 1.2, 0.4, 'S0'],
      [1.5, 0.5, 1.2, 0.4, 'S'],
      [0.7, -0.6, 0.5, 1, 'S0'],
      [0.7, -0.6, 0.5, 1, 'S'],
      [1.8, -1, 1, 0, 'S'],
      [1, 0.5, 1.3, 0.2, 'S0'], // the exact alpha = 1 branch
      [1, -0.8, 0.7, 0, 'S'],
      [1.004, 0.5, 1, 0, 'S0'], // inside the hole: the interpolated draws
      [0.3, 0.2, 1, 0, 'S0'],
    ];
    let seed = 100;
    for (const [a, b, s, m, coords] of cases) {
      const d = new D.Stable(a, b, s, m, { coords });
      const xs = draws(d, n, seed++);
      for (const t of [-1.3, 0.4, 1]) {
        const c = xs.map((x) => Math.cos(t * x));
        const si = xs.map((x) => Math.sin(t * x));
        const mean = (v: number[]): number => v.reduce((p, q) => p + q, 0) / v.length;
        const se = (v: number[]): number => {
          const mu = mean(v);
          return Math.sqrt(v.reduce((p, q) => p + (q - mu) ** 2, 0) / (v.length - 1) / v.length);
        };
        const [re, im] = stableCf(t, a, b, s, m, coords);
        const tolExtra = Math.abs(a - 1) > 0 && Math.abs(a - 1) < 0.01 ? 3e-3 : 0;
        expect(Math.abs(mean(c) - re)).toBeLessThan(4.5 * se(c) + tolExtra);
        expect(Math.abs(mean(si) - im)).toBeLessThan(4.5 * se(si) + tolExtra);
      }
      d.dispose();
    }
  });

  it('rsample is pathwise differentiable in all four parameters (finite differences, same noise)', () => {
    for (const [a0, b0, coords] of [
      [1.5, 0.4, 'S0'],
      [0.8, -0.5, 'S'],
      [1.005, 0.3, 'S0'],
    ] as const) {
      const f = (a: tf.Tensor, b: tf.Tensor, s: tf.Tensor, m: tf.Tensor): tf.Tensor =>
        tf.mean(new D.Stable(a, b, s, m, { coords }).rsample([64], 7));
      const args = [a0, b0, 1.3, 0.2].map((v) => tf.scalar(v));
      const before = tf.memory().numTensors;
      const grads = tf.grads(f)(args);
      const g = grads.map((t) => t.dataSync()[0] as number);
      grads.forEach((t) => t.dispose());
      expect(tf.memory().numTensors).toBe(before);
      const at = (i: number, v: number): number => {
        const vals = args.map((t, j) => (j === i ? tf.scalar(v) : t));
        const out = tf.tidy(
          () => f(vals[0]!, vals[1]!, vals[2]!, vals[3]!).dataSync()[0] as number,
        );
        if (vals[i] !== args[i]) vals[i]!.dispose();
        return out;
      };
      const base = [a0, b0, 1.3, 0.2];
      base.forEach((v, i) => {
        const h = 1e-2;
        const fd = (at(i, v + h) - at(i, v - h)) / (2 * h);
        expect(Number.isFinite(g[i])).toBe(true);
        expect(g[i]).toBeAllclose(fd, { rtol: 0.05, atol: 0.02 });
      });
      args.forEach((t) => t.dispose());
    }
  });

  it('mean and variance as Pyro: NaN / Infinity where they do not exist', () => {
    const tan = Math.tan((Math.PI * 1.5) / 2);
    const d = new D.Stable([1.5, 0.8, 2], [0.4, 0.4, 0.4], 2, 1);
    expect(expectNoLeak(() => d.mean())).toBeAllclose([1 - 0.4 * 2 * tan, NaN, 1]);
    expect(expectNoLeak(() => d.variance())).toBeAllclose([Infinity, Infinity, 8]);
    const s = new D.Stable(1.5, 0.4, 2, 1, { coords: 'S' });
    expect(expectNoLeak(() => s.mean())).toBeAllclose([1]);
    expect(d.batchShape).toEqual([3]);
    expect(d.eventShape).toEqual([]);
    expect(d.hasRsample).toBe(true);
    expect(() => d.logProb([0, 0, 0])).toThrow(NotDefinedError);
    const e = d.expand([2, 3]);
    expect(expectNoLeak(() => e.sample([5], 1)).length).toBe(30);
    d.dispose();
    s.dispose();
  });

  it('refuses bad parameters and options, naming them, and leaks nothing', async () => {
    const rows: [string, () => unknown, string | RegExp][] = [
      ['stability 0', () => new D.Stable(0, 0), 'stability'],
      ['stability 2.5', () => new D.Stable(2.5, 0), 'stability'],
      ['stability NaN', () => new D.Stable(NaN, 0), 'stability'],
      ['skew 1.5', () => new D.Stable(1.5, [0, 1.5]), 'skew'],
      ['scale 0', () => new D.Stable(1.5, 0, 0), 'scale'],
      ['loc Infinity', () => new D.Stable(1.5, 0, 1, Infinity), 'loc'],
      ['coords S1', () => new D.Stable(1.5, 0, 1, 0, { coords: 'S1' as never }), 'coords'],
      ['unknown option', () => new D.Stable(1.5, 0, 1, 0, { cords: 'S' } as never), 'cords'],
      ['bad shapes', () => new D.Stable([1.5, 1.2], [0, 0.1, 0.2]), /stability.*skew/],
    ];
    for (const [call, run, arg] of rows) await expectBadInput({ call, run, arg });
  });
});

describe('StableWithLogProb', () => {
  it('logProb matches the closed forms: Normal at alpha = 2, Cauchy, Lévy', () => {
    const xs = [-6, -2.5, -0.3, 0, 0.4, 1.7, 5, 12];
    const n = new D.StableWithLogProb(2, 0.3, 1.5, 0.7);
    const lpN = expectNoLeak(() => n.logProb(xs));
    expect(lpN).toBeAllclose(
      xs.map((x) => normalLogPdf(x, 0.7, Math.SQRT2 * 1.5)),
      { rtol: 1e-5 },
    );
    const c = new D.StableWithLogProb(1, 0, 2, -1);
    expect(expectNoLeak(() => c.logProb(xs))).toBeAllclose(
      xs.map((x) => cauchyLogPdf(x, -1, 2)),
      { rtol: 1e-5 },
    );
    const levyLogPdf = (x: number, m: number, s: number): number =>
      0.5 * Math.log(s / (2 * Math.PI)) - 1.5 * Math.log(x - m) - s / (2 * (x - m));
    const lx = [0.31, 0.5, 1, 3, 20, 400];
    const l = new D.StableWithLogProb(0.5, 1, 0.8, 0.3, { coords: 'S' });
    expect(expectNoLeak(() => l.logProb(lx))).toBeAllclose(
      lx.map((x) => levyLogPdf(x, 0.3, 0.8)),
      { rtol: 1e-5 },
    );
    // below the support of the totally skewed alpha < 1 law: -inf
    expect(expectNoLeak(() => l.logProb([0.2]))).toEqual([-Infinity]);
    const l0 = new D.StableWithLogProb(0.5, 1, 0.8, 0.3);
    expect(expectNoLeak(() => l0.logProb(lx))).toBeAllclose(
      lx.map((x) => levyLogPdf(x, 0.3 - 0.8, 0.8)),
      { rtol: 1e-5 },
    );
    for (const d of [n, c, l, l0]) d.dispose();
  });

  it('integrates to 1 at general (alpha, beta) in both coords (quadrature)', () => {
    // x = loc + sinh(y): the heavy tails decay like exp(-alpha |y|)
    const cases: [number, number, 'S0' | 'S'][] = [
      [1.5, 0.5, 'S0'],
      [0.7, -0.3, 'S0'],
      [1.2, 1, 'S'],
      [0.8, 1, 'S0'],
      [1, 0.6, 'S0'],
      [0.995, 0.5, 'S0'],
    ];
    for (const [a, b, coords] of cases) {
      const d = new D.StableWithLogProb(a, b, 1, 0, { coords });
      const Y = 40 / Math.min(a, 1);
      const N = 1200;
      const h = (2 * Y) / N;
      const ys = Array.from({ length: N + 1 }, (_, i) => -Y + i * h);
      const lp = expectNoLeak(() => d.logProb(ys.map((y) => Math.sinh(y))));
      let s = 0;
      ys.forEach((y, i) => {
        const w = i === 0 || i === N ? 1 : i % 2 === 1 ? 4 : 2;
        s += (w * h * Math.exp(lp[i] as number) * Math.cosh(y)) / 3;
      });
      expect(Math.abs(s - 1)).toBeLessThan(Math.abs(a - 1) < 0.01 && a !== 1 ? 1e-4 : 2e-5);
      d.dispose();
    }
  });

  it('far tails match the asymptotic alpha c (1 +- beta) |x|^(-1-alpha) (alpha = 1.5, beta = 0.5)', () => {
    // c_alpha = sin(pi alpha / 2) Gamma(alpha) / pi, Gamma(1.5) = sqrt(pi) / 2; coords S
    const a = 1.5;
    const b = 0.5;
    const c = (Math.sin((Math.PI * a) / 2) * Math.sqrt(Math.PI)) / 2 / Math.PI;
    const xs = [1e4, -1e4, 1e6, -1e6];
    const d = new D.StableWithLogProb(a, b, 1, 0, { coords: 'S' });
    const lp = expectNoLeak(() => d.logProb(xs));
    xs.forEach((x, i) => {
      const ref = Math.log(a * c * (x > 0 ? 1 + b : 1 - b)) - (1 + a) * Math.log(Math.abs(x));
      // the expansion's next term is O(|x|^-alpha) relative: 1e-6 at 1e4
      expect(lp[i]).toBeAllclose(ref, { atol: 2e-5, rtol: 1e-6 });
    });
    d.dispose();
  });

  it('the log-density is continuous through the hole at alpha = 1 (S0)', () => {
    const lp = (a: number): number =>
      D.stableStandardLogPdf(0.7, a, 0.5, 'S0') - D.stableStandardLogPdf(0.7, 1, 0.5, 'S0');
    for (const a of [0.99, 0.995, 0.9999, 1.0001, 1.005, 1.01]) {
      expect(Math.abs(lp(a))).toBeLessThan(Math.abs(a - 1) * 0.6 + 1e-9);
    }
  });

  it('gradients in the value and parameters: closed forms at alpha = 2 and finite differences', () => {
    const f = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor, s: tf.Tensor, m: tf.Tensor): tf.Tensor =>
      tf.sum(new D.StableWithLogProb(a, b, s, m).logProb(x));
    const run = (vals: number[][]): number[][] => {
      const ts = vals.map((v) => tf.tensor1d(v));
      const before = tf.memory().numTensors;
      const gs = tf.grads(f)(ts);
      const out = gs.map((g) => Array.from(g.dataSync()));
      gs.forEach((g) => g.dispose());
      expect(tf.memory().numTensors).toBe(before);
      ts.forEach((t) => t.dispose());
      return out;
    };
    // alpha = 2: d/dx = -(x - m)/(2 s^2), d/dm = -d/dx, d/ds = -1/s + (x - m)^2 / (2 s^3)
    const x = [-1, 0.3, 2.5];
    const [gx, , , gs, gm] = run([x, [2, 2, 2], [0, 0.5, -0.5], [1.2, 1.2, 1.2], [0.4, 0.4, 0.4]]);
    expect(gx).toBeAllclose(
      x.map((v) => -(v - 0.4) / (2 * 1.44)),
      { rtol: 1e-4, atol: 1e-5 },
    );
    expect(gm).toBeAllclose(
      x.map((v) => (v - 0.4) / (2 * 1.44)),
      { rtol: 1e-4, atol: 1e-5 },
    );
    expect(gs).toBeAllclose(
      x.map((v) => -1 / 1.2 + (v - 0.4) ** 2 / (2 * 1.2 ** 3)),
      { rtol: 1e-4, atol: 1e-5 },
    );
    // general (alpha, beta): finite differences of the float64 standard log-density
    const xs = [-2, 0.3, 4];
    const as = [1.5, 0.7, 1.2];
    const bs = [0.5, -0.3, 1];
    const [gx2, ga2, gb2] = run([xs, as, bs, [1, 1, 1], [0, 0, 0]]) as [
      number[],
      number[],
      number[],
    ];
    xs.forEach((v, i) => {
      const a = as[i] as number;
      const b = bs[i] as number;
      const h = 1e-4;
      const lp = (xx: number, aa: number, bb: number): number => D.stableStandardLogPdf(xx, aa, bb);
      expect(gx2[i]).toBeAllclose((lp(v + h, a, b) - lp(v - h, a, b)) / (2 * h), {
        rtol: 1e-3,
        atol: 1e-4,
      });
      expect(ga2[i]).toBeAllclose((lp(v, a + h, b) - lp(v, a - h, b)) / (2 * h), {
        rtol: 1e-3,
        atol: 1e-4,
      });
      const bp = Math.min(1, b + h);
      expect(gb2[i]).toBeAllclose((lp(v, a, bp) - lp(v, a, b - h)) / (bp - b + h), {
        rtol: 1e-3,
        atol: 1e-4,
      });
    });
  });
});

describe('Distribution options', () => {
  it('an unknown option key is an ArgumentError naming it and the known ones', () => {
    expect(() => new D.Normal(0, 1, { validate_args: false } as never)).toThrow(ArgumentError);
    expect(() => new D.Normal(0, 1, { validate_args: false } as never)).toThrow(
      /validate_args.*validateArgs/,
    );
    expect(() => new D.Gamma(1, 1, { nmae: 'g' } as never)).toThrow(/nmae.*name, validateArgs/);
    expect(() => new D.Normal(0, 1, 3 as never)).toThrow(ArgumentError);
    expect(new D.Normal(0, 1, { name: 'n', validateArgs: true }).name).toBe('n');
  });
});
