/**
 * The log-gamma family on few kernels: `lgamma`/`digamma` with the six recurrence steps folded
 * into one product and custom gradients (lgamma' = digamma, digamma' = trigamma), Stirling's
 * error in one pass with its own derivative, `bd0` with its gradient in `x` and `log m`. Values
 * against @stdlib (gammaln, digamma) and float64 series written here (trigamma, Stirling's error
 * and its derivative, bd0), on a log-spaced sweep over [1e-6, 1e6] plus dense grids around the
 * zeros of lgamma (1, 2) and of digamma (1.4616); kernel counts by `tf.profile` against budgets
 * a little above the measured counts (the old forms took 2-6x as many, bench/RESULTS.md).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import digammaRef from '@stdlib/math-base-special-digamma';
import gammalnRef from '@stdlib/math-base-special-gammaln';
import { Beta, Dirichlet, Gamma } from '../../src/distributions/index.js';
import { bd0, digamma, lgamma, stirlingError, trigamma } from '../../src/distributions/special.js';
import { toolbox } from '../../src/index.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';

/** float64 trigamma: recurrence up to 20, then the asymptotic series (error < 1e-15). */
function trigamma64(x0: number): number {
  let x = x0;
  let r = 0;
  while (x < 20) {
    r += 1 / (x * x);
    x += 1;
  }
  const i = 1 / x;
  const i2 = i * i;
  return (
    r + i + i2 * (0.5 + i * (1 / 6 - i2 * (1 / 30 - i2 * (1 / 42 - i2 * (1 / 30 - (i2 * 5) / 66)))))
  );
}

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** float64 Stirling error: the definition below 15, the series above (no cancellation). */
function stirling64(n: number): number {
  if (n < 15) return gammalnRef(n + 1) - (n + 0.5) * Math.log(n) + n - HALF_LOG_2PI;
  return 1 / (12 * n) - 1 / (360 * n ** 3) + 1 / (1260 * n ** 5) - 1 / (1680 * n ** 7);
}
function stirlingDeriv64(n: number): number {
  if (n < 15) return digammaRef(n + 1) - Math.log(n) - 0.5 / n;
  return -1 / (12 * n * n) + 3 / (360 * n ** 4) - 5 / (1260 * n ** 6) + 7 / (1680 * n ** 8);
}

/** 2,000 log-spaced float32 points over [1e-6, 1e6] and 401 around each zero. */
function sweep(): number[] {
  const n = 2000;
  const xs = Array.from({ length: n }, (_, i) => Math.fround(10 ** (-6 + (12 * i) / (n - 1))));
  for (const c of [1, 2, 1.4616321]) {
    for (let i = -200; i <= 200; i++) xs.push(Math.fround(c + i * 1e-3));
  }
  return xs;
}
const XS = sweep();

/** Worst of |got - want| / max(|want|, floor). */
function worst(got: ArrayLike<number>, want: number[], floor: number): number {
  let w = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs((got[i] as number) - (want[i] as number));
    w = Math.max(w, e / Math.max(Math.abs(want[i] as number), floor));
  }
  return w;
}

async function kernels(f: () => void): Promise<number> {
  // (tf.profile returns the engine's one profile object: read the count at once)
  return (await tf.profile(f)).kernels.length;
}

describe('lgamma, digamma, trigamma: accuracy over [1e-6, 1e6]', () => {
  it('lgamma: 1e-5 relative, 3e-6 absolute near its zeros at 1 and 2', () => {
    const got = expectNoLeak(() => tf.tidy(() => lgamma(tf.tensor1d(XS))));
    const want = XS.map((x) => gammalnRef(x));
    // relative where |lgamma| >= 0.3 (x < 0.7 or x > 2.5 and away from the zeros) ...
    const far = XS.map((x, i) => ({ x, i })).filter(({ i }) => Math.abs(want[i] as number) >= 0.3);
    expect(far.length).toBeGreaterThan(1800);
    expect(
      worst(
        far.map(({ i }) => got[i] as number),
        far.map(({ i }) => want[i] as number),
        0,
      ),
    ).toBeLessThan(1e-5);
    // ... absolute 3e-6 near the zeros (the shifted terms are ~8 there: a few float32 ulps)
    expect(worst(got, want, 0.3)).toBeLessThan(1e-5);
    const near = XS.map((_, i) => i).filter((i) => Math.abs(want[i] as number) < 0.3);
    for (const i of near)
      expect(Math.abs((got[i] as number) - (want[i] as number))).toBeLessThan(3e-6);
  });

  it('digamma: 1e-5 relative, 1e-6 absolute near its zero at 1.4616', () => {
    const got = expectNoLeak(() => tf.tidy(() => digamma(tf.tensor1d(XS))));
    const want = XS.map((x) => digammaRef(x));
    expect(worst(got, want, 0.1)).toBeLessThan(1e-5);
    const near = XS.map((_, i) => i).filter((i) => Math.abs(want[i] as number) < 0.1);
    expect(near.length).toBeGreaterThan(100);
    for (const i of near)
      expect(Math.abs((got[i] as number) - (want[i] as number))).toBeLessThan(1e-6);
  });

  it('trigamma: 1e-5 relative (float64 series, itself checked against differences of @stdlib digamma)', () => {
    for (const x of [0.01, 0.7, 3.3, 40]) {
      const fd = finiteDiff(([u]) => digammaRef(u as number), [x], x * 1e-5)[0] as number;
      expect(Math.abs(fd - trigamma64(x)) / trigamma64(x)).toBeLessThan(1e-7);
    }
    const xs = XS.filter((x) => x < 1e6 && trigamma64(x) < 1e37); // float32 range
    const got = expectNoLeak(() => tf.tidy(() => trigamma(tf.tensor1d(xs))));
    expect(worst(got, xs.map(trigamma64), 0)).toBeLessThan(1e-5);
    expect(expectNoLeak(() => toolbox.trigamma([1]))[0]).toBeCloseTo(Math.PI ** 2 / 6, 6);
  });

  it('limits and the domain: lgamma(0) = +inf, inf at inf, NaN below 0; digamma and trigamma keep the recurrence on (-6, 0)', () => {
    const v = [0, Infinity, -0.5, -2.5];
    const lg = expectNoLeak(() => tf.tidy(() => lgamma(tf.tensor1d(v))));
    expect(lg.slice(0, 2)).toEqual([Infinity, Infinity]);
    expect(lg.slice(2).every(Number.isNaN)).toBe(true);
    const dg = expectNoLeak(() => tf.tidy(() => digamma(tf.tensor1d([Infinity, -0.5, -2.5]))));
    expect(dg[0]).toBe(Infinity);
    expect(dg.slice(1)).toBeAllclose([digammaRef(-0.5), digammaRef(-2.5)], { rtol: 1e-5 });
    const tg = expectNoLeak(() => tf.tidy(() => trigamma(tf.tensor1d([Infinity, -0.5]))));
    expect(tg[0]).toBe(0);
    expect(tg[1]).toBeCloseTo(Math.PI ** 2 / 2 + 4, 3); // psi_1(1/2) + 1/(1/2)^2
  });
});

describe('custom gradients', () => {
  const pts = [1e-4, 0.3, 1, 1.46, 2, 7.5, 300, 1e5];

  it("lgamma' is digamma, digamma' is trigamma, lgamma'' is trigamma (no leaks)", () => {
    const x = tf.tensor1d(pts);
    const g1 = expectNoLeak(() => tf.grad((t: tf.Tensor) => tf.sum(lgamma(t)))(x));
    expect(worst(g1, pts.map(digammaRef), 1)).toBeLessThan(2e-6);
    const g2 = expectNoLeak(() => tf.grad((t: tf.Tensor) => tf.sum(digamma(t)))(x));
    expect(worst(g2, pts.map(trigamma64), 0)).toBeLessThan(1e-5);
    const h = expectNoLeak(() =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.grad((u: tf.Tensor) => tf.sum(lgamma(u)))(t)))(x),
    );
    expect(worst(h, pts.map(trigamma64), 0)).toBeLessThan(1e-5);
    // the upstream gradient scales it (not a constant 1)
    const w = tf.tensor1d(pts.map((_, i) => i - 3));
    const g3 = expectNoLeak(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(w, lgamma(t))))(x));
    expect(
      worst(
        g3,
        pts.map((p, i) => (i - 3) * digammaRef(p)),
        1,
      ),
    ).toBeLessThan(2e-6);
    tf.dispose([x, w]);
  });

  it("trigamma's autodiff gradient is the tetragamma (differences of the float64 trigamma)", () => {
    const x = tf.tensor1d([0.5, 2, 9]);
    const g = expectNoLeak(() => tf.grad((t: tf.Tensor) => tf.sum(trigamma(t)))(x));
    const fd = [0.5, 2, 9].map((v) => finiteDiff(([u]) => trigamma64(u as number), [v], 1e-5)[0]);
    expect(g).toBeAllclose(fd as number[], { rtol: 1e-4 });
    x.dispose();
  });
});

describe("Stirling's error and bd0", () => {
  const ns = Array.from({ length: 400 }, (_, i) => Math.fround(10 ** (-5 + (12 * i) / 399)));

  it('stirlingError matches float64 to 2e-6 absolute; its gradient to 1e-4 relative', () => {
    const got = expectNoLeak(() => tf.tidy(() => stirlingError(tf.tensor1d(ns))));
    ns.forEach((n, i) => {
      const want = stirling64(n);
      expect(Math.abs((got[i] as number) - want)).toBeLessThan(2e-6 + 2e-6 * Math.abs(want));
    });
    const g = expectNoLeak(() =>
      tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(stirlingError(t)))(tf.tensor1d(ns))),
    );
    expect(worst(g, ns.map(stirlingDeriv64), 0)).toBeLessThan(1e-4);
  });

  it('bd0 matches float64 and its gradient is log(x/m) in x and m - x in log m, broadcast back', () => {
    const xs: number[] = [];
    const ms: number[] = [];
    for (const x of [0.5, 3, 30, 3e4, 1e6]) {
      for (const r of [1e-3, 0.3, 0.85, 0.95, 0.999, 1.001, 1.1, 1.5, 3, 100]) {
        xs.push(x);
        ms.push(Math.fround(x * r));
      }
    }
    const ref = xs.map((x, i) => {
      const m = ms[i] as number;
      const v = (x - m) / (x + m);
      if (Math.abs(v) >= 0.1) return x * Math.log(x / m) + m - x;
      let s = (x - m) * v;
      let t = 2 * x * v;
      for (let j = 1; j < 30; j++) {
        t *= v * v;
        s += t / (2 * j + 1);
      }
      return s;
    });
    const x = tf.tensor1d(xs);
    const m = tf.tensor1d(ms);
    const lm = tf.log(m);
    expect(
      worst(
        expectNoLeak(() => bd0(x, m, lm)),
        ref,
        0,
      ),
    ).toBeLessThan(2e-6);
    const [gx, gl] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(bd0(a, m, b)))([x, lm]);
    const before = tf.memory().numTensors;
    expect(
      worst(
        gx!.dataSync(),
        xs.map((v, i) => Math.log(v / (ms[i] as number))),
        1e-3,
      ),
    ).toBeLessThan(1e-5);
    expect(
      worst(
        gl!.dataSync(),
        xs.map((v, i) => (ms[i] as number) - v),
        1e-3,
      ),
    ).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
    // broadcasting: x [3, 1] against m [1, 4]
    const xb = tf.tensor2d([[1], [2], [3]]);
    const mv = [1.5, 2.5, 0.2, 9];
    const lmb = tf.log(tf.tensor2d([mv]));
    const [gxb, glb] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(bd0(a, tf.exp(b), b)))([
      xb,
      lmb,
    ]);
    expect(gxb!.shape).toEqual([3, 1]);
    expect(glb!.shape).toEqual([1, 4]);
    expect(gxb).toBeAllclose(
      [1, 2, 3].map((v) => mv.reduce((s, w) => s + Math.log(v / w), 0)),
      { rtol: 1e-5 },
    );
    expect(glb).toBeAllclose(
      mv.map((w) => 3 * w - 6),
      { rtol: 1e-5 },
    );
    tf.dispose([x, m, lm, gx!, gl!, xb, lmb, gxb!, glb!]);
  });
});

describe('kernels per call (tf.profile; batch 1,000)', () => {
  it('lgamma and digamma take at most 40 kernels forward, 80 with the gradient', async () => {
    const x = tf.randomUniform([1000], 0.01, 30, 'float32', 1);
    const grad = (f: (t: tf.Tensor) => tf.Tensor) => () =>
      tf.dispose(tf.grad((t: tf.Tensor) => tf.sum(f(t)))(x));
    expect(await kernels(() => tf.dispose(lgamma(x)))).toBeLessThanOrEqual(40);
    expect(await kernels(() => tf.dispose(digamma(x)))).toBeLessThanOrEqual(40);
    expect(await kernels(grad(lgamma))).toBeLessThanOrEqual(80);
    expect(await kernels(grad(digamma))).toBeLessThanOrEqual(80);
    expect(await kernels(() => tf.dispose(stirlingError(x)))).toBeLessThanOrEqual(45);
    expect(await kernels(grad(stirlingError))).toBeLessThanOrEqual(100);
    x.dispose();
  });

  it('Beta, Gamma and Dirichlet logProb: forward and with the parameter gradients', async () => {
    const a = tf.randomUniform([1000], 0.5, 20, 'float32', 2);
    const b = tf.randomUniform([1000], 0.5, 20, 'float32', 3);
    const u = tf.randomUniform([1000], 0.01, 0.99, 'float32', 4);
    const al = tf.randomUniform([1000, 3], 0.5, 20, 'float32', 5);
    const simplex = tf.div(al, tf.sum(al, -1, true));
    const vg =
      (f: (...t: tf.Tensor[]) => tf.Tensor, ...xs: tf.Tensor[]) =>
      () =>
        tf.dispose(tf.grads((...t: tf.Tensor[]) => tf.sum(f(...t)))(xs));
    const beta = (p: tf.Tensor, q: tf.Tensor): tf.Tensor => new Beta(p, q).logProb(u);
    const gamma = (p: tf.Tensor, q: tf.Tensor): tf.Tensor => new Gamma(p, q).logProb(u);
    const dir = (p: tf.Tensor): tf.Tensor => new Dirichlet(p).logProb(simplex);
    // before: 605 / 2525, 213 / 844, 364 / 1577; now 200 / 451, 102 / 228, 135 / 351
    expect(await kernels(() => tf.dispose(beta(a, b)))).toBeLessThanOrEqual(250);
    expect(await kernels(vg(beta, a, b))).toBeLessThanOrEqual(550);
    expect(await kernels(() => tf.dispose(gamma(a, b)))).toBeLessThanOrEqual(120);
    expect(await kernels(vg(gamma, a, b))).toBeLessThanOrEqual(280);
    expect(await kernels(() => tf.dispose(dir(al)))).toBeLessThanOrEqual(170);
    expect(await kernels(vg(dir, al))).toBeLessThanOrEqual(420);
    tf.dispose([a, b, u, al, simplex]);
  });
});
