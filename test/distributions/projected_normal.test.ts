/**
 * ProjectedNormal (Pyro's) against float64 references: the density integrated along each ray by
 * quadrature, its normalization over the circle and the 2-sphere, Pyro's closed form for d = 4,
 * the far tail, sample moments against quadrature, support and argument errors, and a batch.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, distributions as D } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** log p(x) = log ∫_0^∞ r^{d-1} N(r x; c, I) dr, by the trapezoid rule in float64. */
function rayLogDensity(c: number[], x: number[]): number {
  const d = c.length;
  const t = c.reduce((a, ci, i) => a + ci * (x[i] as number), 0);
  const c2 = c.reduce((a, ci) => a + ci * ci, 0);
  // integrand r^{d-1} exp(-(r - t)^2 / 2), scaled by its log-max to stay in range
  const hi = Math.max(t, 0) + 40;
  const n = 40000;
  const h = hi / n;
  const logf = (r: number): number =>
    r === 0 ? -Infinity : (d - 1) * Math.log(r) - 0.5 * (r - t) ** 2;
  let m = -Infinity;
  for (let i = 0; i <= n; i++) m = Math.max(m, logf(i * h));
  let s = 0;
  for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 0.5 : 1) * Math.exp(logf(i * h) - m);
  return Math.log(s * h) + m - 0.5 * (c2 - t * t) - (d / 2) * LOG_2PI;
}

/** Pyro's registered closed form for d = 4 (written out independently in float64). */
function pyroLogProb4(c: number[], x: number[]): number {
  const t = c.reduce((a, ci, i) => a + ci * (x[i] as number), 0);
  const t2 = t * t;
  const r2 = c.reduce((a, ci) => a + ci * ci, 0) - t2;
  const perp = -0.5 * r2 - 1.5 * LOG_2PI;
  const erf = (z: number): number => {
    // Abramowitz-Stegun 7.1.26 is too coarse; use a series/continued fraction via erfc
    const s = Math.sign(z);
    const a = Math.abs(z);
    // erfc by Numerical Recipes' erfcc (1.2e-7)
    const u = 1 / (1 + 0.5 * a);
    const e =
      u *
      Math.exp(
        -a * a -
          1.26551223 +
          u *
            (1.00002368 +
              u *
                (0.37409196 +
                  u *
                    (0.09678418 +
                      u *
                        (-0.18628806 +
                          u *
                            (0.27886807 +
                              u *
                                (-1.13520398 +
                                  u * (1.48851587 + u * (-0.82215223 + u * 0.17087277)))))))),
      );
    return s * (1 - e);
  };
  const para = Math.log(
    ((2 + t2) * Math.exp(-0.5 * t2)) / Math.sqrt(2 * Math.PI) +
      (t * (3 + t2) * (1 + erf(t * Math.SQRT1_2))) / 2,
  );
  return para + perp;
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((a) => a / n);
}

describe('ProjectedNormal', () => {
  it('d = 2: log-density matches the ray integral and integrates to 1 over the circle', () => {
    for (const c of [
      [0.3, -0.2],
      [2, 1],
      [-4, 3],
    ]) {
      const pn = new D.ProjectedNormal(c);
      const m = 720;
      const thetas = Array.from({ length: m }, (_, i) => -Math.PI + ((i + 0.5) * 2 * Math.PI) / m);
      const xs = thetas.map((a) => [Math.cos(a), Math.sin(a)]);
      const got = expectNoLeak(() => pn.logProb(xs));
      for (const i of [0, 100, 333, 500, 719]) {
        expect(got[i]).toBeCloseTo(rayLogDensity(c, xs[i] as number[]), 4);
      }
      const mass = got.reduce((a, v) => a + Math.exp(v), 0) * ((2 * Math.PI) / m);
      expect(mass).toBeCloseTo(1, 4);
      pn.dispose();
    }
  });

  it('d = 3: log-density matches the ray integral and integrates to 1 over the sphere', () => {
    const c = [1.5, -0.5, 2];
    const pn = new D.ProjectedNormal(c);
    const nt = 180;
    const np = 360;
    const xs: number[][] = [];
    const w: number[] = [];
    for (let i = 0; i < nt; i++) {
      const th = ((i + 0.5) * Math.PI) / nt;
      for (let j = 0; j < np; j++) {
        const ph = ((j + 0.5) * 2 * Math.PI) / np;
        xs.push([Math.sin(th) * Math.cos(ph), Math.sin(th) * Math.sin(ph), Math.cos(th)]);
        w.push(Math.sin(th) * (Math.PI / nt) * ((2 * Math.PI) / np));
      }
    }
    const lp = pn.logProb(xs);
    const got = Array.from(lp.dataSync());
    lp.dispose();
    const mass = got.reduce((a, v, i) => a + Math.exp(v) * (w[i] as number), 0);
    expect(mass).toBeCloseTo(1, 3);
    for (const i of [0, 12345, 30000, 64799]) {
      expect(got[i]).toBeCloseTo(rayLogDensity(c, xs[i] as number[]), 4);
    }
    pn.dispose();
  });

  it("d = 4 matches Pyro's closed form; d = 5 (beyond Pyro's table) matches the ray integral", () => {
    const c4 = [0.5, -1, 2, 0.2];
    const pts = [unit([1, 0, 0, 0]), unit([0.2, -0.4, 1, 0.1]), unit([-1, 1, -1, 1])];
    const pn = new D.ProjectedNormal(c4);
    const lp = pn.logProb(pts);
    expect(lp).toBeAllclose(
      pts.map((x) => pyroLogProb4(c4, x)),
      { atol: 1e-4 },
    );
    expect(lp).toBeAllclose(
      pts.map((x) => rayLogDensity(c4, x)),
      { atol: 1e-4 },
    );
    const c5 = [1, 0, -2, 0.5, 1];
    const pts5 = [unit([1, 1, 1, 1, 1]), unit([0, 0, -1, 0, 0.3])];
    const pn5 = new D.ProjectedNormal(c5);
    const lp5 = pn5.logProb(pts5);
    expect(lp5).toBeAllclose(
      pts5.map((x) => rayLogDensity(c5, x)),
      { atol: 1e-4 },
    );
    tf.dispose([lp, lp5]);
    pn.dispose();
    pn5.dispose();
  });

  it('stays finite and accurate far in the tail (t = c·x ≪ 0), where Φ(t) underflows', () => {
    for (const [c, x] of [
      [
        [0, 0, 12],
        [0, 0, -1],
      ],
      [[0, 30], unit([0.1, -1])],
      [[0, 0, 9], unit([0.3, 0, -1])],
      [[0, 0, 5], unit([0.3, 0, -1])],
    ] as [number[], number[]][]) {
      const pn = new D.ProjectedNormal(c);
      const lp = pn.logProb(x);
      const got = lp.dataSync()[0] as number;
      const want = rayLogDensity(c, x);
      expect(Number.isFinite(got)).toBe(true);
      expect(Math.abs(got - want)).toBeLessThan(2e-3 * Math.max(1, Math.abs(want) / 100));
      lp.dispose();
      pn.dispose();
    }
  });

  it('samples lie on the sphere; their mean matches E[x] by quadrature (d = 2)', () => {
    const c = [1, -0.5];
    const pn = new D.ProjectedNormal(c);
    const n = 10000;
    const s = pn.sample([n], 7);
    expect(s.shape).toEqual([n, 2]);
    const v = s.arraySync() as number[][];
    for (const row of v.slice(0, 200)) expect(Math.hypot(...row)).toBeCloseTo(1, 5);
    const m = 360; // the midpoint rule on a smooth periodic integrand: spectrally accurate
    let e0 = 0;
    let e1 = 0;
    let v0 = 0;
    let v1 = 0;
    for (let i = 0; i < m; i++) {
      const a = -Math.PI + ((i + 0.5) * 2 * Math.PI) / m;
      const p = Math.exp(rayLogDensity(c, [Math.cos(a), Math.sin(a)])) * ((2 * Math.PI) / m);
      e0 += p * Math.cos(a);
      e1 += p * Math.sin(a);
      v0 += p * Math.cos(a) ** 2;
      v1 += p * Math.sin(a) ** 2;
    }
    const mean0 = v.reduce((a, r) => a + (r[0] as number), 0) / n;
    const mean1 = v.reduce((a, r) => a + (r[1] as number), 0) / n;
    const se0 = Math.sqrt((v0 - e0 * e0) / n);
    const se1 = Math.sqrt((v1 - e1 * e1) / n);
    expect(Math.abs(mean0 - e0)).toBeLessThan(4 * se0);
    expect(Math.abs(mean1 - e1)).toBeLessThan(4 * se1);
    // Pyro's mean and mode: the mean direction c / |c|
    const md = pn.mean();
    expect(md).toBeAllclose(unit(c), { atol: 1e-6 });
    tf.dispose([s, md]);
    pn.dispose();
  });

  it('rsample carries gradients to the concentration; logProb gradient matches finite differences', () => {
    const c = tf.tensor1d([0.7, -0.3, 1.1]);
    const x = tf.tensor1d(unit([0.2, 0.5, -0.4]));
    const g = tf.grad((cc: tf.Tensor) => new D.ProjectedNormal(cc).logProb(x))(c);
    const h = 1e-3;
    const base = [0.7, -0.3, 1.1];
    const fd = base.map((_, i) => {
      const up = [...base];
      const dn = [...base];
      up[i] = (up[i] as number) + h;
      dn[i] = (dn[i] as number) - h;
      const xv = unit([0.2, 0.5, -0.4]);
      return (rayLogDensity(up, xv) - rayLogDensity(dn, xv)) / (2 * h);
    });
    expect(g).toBeAllclose(fd, { atol: 2e-3 });
    const gs = tf.grad((cc: tf.Tensor) => tf.sum(new D.ProjectedNormal(cc).rsample([5], 1)))(c);
    expect(Array.from(gs.dataSync()).some((v) => v !== 0)).toBe(true);
    tf.dispose([c, x, g, gs]);
  });

  it('batches: concentration [2, 3] gives batch [2]; expand; the support is the sphere', () => {
    const pn = new D.ProjectedNormal([
      [0, 0, 1],
      [1, 2, 3],
    ]);
    expect(pn.batchShape).toEqual([2]);
    expect(pn.eventShape).toEqual([3]);
    expect(pn.support.name).toBe('sphere');
    expectNoLeak(() => pn.logProb([0, 1, 0]));
    const lp = pn.logProb([0, 1, 0]);
    expect(lp.shape).toEqual([2]);
    expect(lp).toBeAllclose(
      [rayLogDensity([0, 0, 1], [0, 1, 0]), rayLogDensity([1, 2, 3], [0, 1, 0])],
      { atol: 1e-4 },
    );
    const e = pn.expand([4, 2]);
    expect(e.batchShape).toEqual([4, 2]);
    const s = e.sample([3], 2);
    expect(s.shape).toEqual([3, 4, 2, 3]);
    const ok = D.constraints.sphere.check(s);
    expect(Array.from(ok.dataSync()).every(Boolean)).toBe(true);
    tf.dispose([lp, s, ok]);
    e.dispose();
    pn.dispose();
  });

  it('errors name the argument: a value off the sphere, a scalar or 1-D concentration, non-finite entries', () => {
    const pn = new D.ProjectedNormal([1, 2]);
    const before = tf.memory().numTensors;
    expect(() => pn.logProb([1, 1])).toThrow(/sphere/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new D.ProjectedNormal(1)).toThrow(ArgumentError);
    expect(() => new D.ProjectedNormal([1])).toThrow(/concentration.*d >= 2/);
    expect(() => new D.ProjectedNormal([1, NaN])).toThrow(/concentration/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => D.bijectTo(D.constraints.sphere)).toThrow(/ProjectedNormalReparam/);
    pn.dispose();
  });
});
