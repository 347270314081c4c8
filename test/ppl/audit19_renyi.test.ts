/**
 * `RenyiELBO` against closed forms on `z ~ N(0, 1)`, `y | z ~ N(z, 1)` with the guide
 * `q = N(m, s²)`. With `β = 1 - α` and `w = p(y, z) / q(z)`, the bound's limit in `K` is
 * `L_α = (1/β) log E_q[w^β]`, computed here by float64 quadrature of `p(y, z)^β q(z)^{1-β}`
 * (independent of the library). For `K = 1` every `α` gives `log w`, whose mean is the ELBO
 * (closed form) and whose reparameterized gradient is unbiased for the ELBO's.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  clearSeed();
  ppl.clearParamStore();
});

const y0 = 1.3;
const m0 = 0.2;
const s0 = 1.1;
const lnN = (x: number, m: number, s: number): number =>
  -0.5 * Math.log(2 * Math.PI * s * s) - ((x - m) * (x - m)) / (2 * s * s);

/** `log ∫ p(y, z)^b q(z)^{1-b} dz` by the trapezoid rule on a wide grid (float64). */
function logMoment(b: number, m: number, s: number): number {
  const lo = -15;
  const hi = 15;
  const n = 30000;
  const h = (hi - lo) / n;
  const f = (z: number): number =>
    Math.exp(b * (lnN(z, 0, 1) + lnN(y0, z, 1)) + (1 - b) * lnN(z, m, s));
  let acc = 0.5 * (f(lo) + f(hi));
  for (let i = 1; i < n; i++) acc += f(lo + i * h);
  return Math.log(acc * h);
}

/** The ELBO `E_q[log p(y, z) - log q(z)]` in closed form. */
function elbo(m: number, s: number): number {
  const e2 = m * m + s * s; // E z²
  const ey = y0 * y0 - 2 * y0 * m + e2; // E (y - z)²
  return (
    -Math.log(2 * Math.PI) - 0.5 * e2 - 0.5 * ey + 0.5 * Math.log(2 * Math.PI * Math.E * s * s)
  );
}

const model = (y: tf.Tensor): void => {
  const z = ppl.sample('z', new D.Normal(0, 1));
  ppl.sample('y', new D.Normal(z, 1), { obs: y });
};
const guide = (): void => {
  const m = ppl.param('m', tf.scalar(m0));
  const ls = ppl.param('ls', tf.scalar(Math.log(s0)));
  ppl.sample('z', new D.Normal(m, tf.exp(ls)));
};

describe('RenyiELBO vs closed forms', () => {
  it('the estimate with many particles is L_alpha = (1/(1-alpha)) log E_q[w^(1-alpha)]', () => {
    const y = tf.scalar(y0);
    for (const alpha of [0, 0.5, -0.5]) {
      const b = 1 - alpha;
      const K = 100;
      const est = new ppl.RenyiELBO({ alpha, numParticles: K });
      setSeed(11);
      const R = 6;
      const vals: number[] = [];
      for (let r = 0; r < R; r++) vals.push(-est.loss(model, guide, y));
      const mean = vals.reduce((a, v) => a + v, 0) / R;
      const sd = Math.sqrt(vals.reduce((a, v) => a + (v - mean) ** 2, 0) / (R - 1));
      // the estimator's bias by the delta method: -(E w^{2b} / (E w^b)^2 - 1) / (2 K b)
      const lm = logMoment(b, m0, s0);
      const exact = lm / b;
      const bias = -(Math.exp(logMoment(2 * b, m0, s0) - 2 * lm) - 1) / (2 * K * b);
      expect(Math.abs(mean - exact - bias)).toBeLessThan(
        5 * (sd / Math.sqrt(R)) + 2 * Math.abs(bias) + 1e-3,
      );
    }
    y.dispose();
  });

  it('K = 1: the mean is the ELBO for any alpha, and the gradient is unbiased for its gradient', () => {
    const y = tf.scalar(y0);
    for (const alpha of [0, 0.5]) {
      ppl.clearParamStore();
      setSeed(3);
      const est = new ppl.RenyiELBO({ alpha, numParticles: 1 });
      est.loss(model, guide, y); // create the params
      const vars = ppl.getParamStore().variables(['m', 'ls']);
      const M = 400;
      const gm: number[] = [];
      const gl: number[] = [];
      const vs: number[] = [];
      for (let i = 0; i < M; i++) {
        const { value, grads } = tf.variableGrads(
          () => est.differentiableLoss(model, guide, [y]),
          vars,
        );
        vs.push(-value.dataSync()[0]!);
        gm.push(grads[vars[0]!.name]!.dataSync()[0]!);
        gl.push(grads[vars[1]!.name]!.dataSync()[0]!);
        value.dispose();
        tf.dispose(grads);
      }
      const stat = (a: number[]): [number, number] => {
        const mu = a.reduce((x, v) => x + v, 0) / a.length;
        const v = a.reduce((x, u) => x + (u - mu) ** 2, 0) / (a.length - 1);
        return [mu, Math.sqrt(v / a.length)];
      };
      const [vm, vse] = stat(vs);
      expect(Math.abs(vm - elbo(m0, s0))).toBeLessThan(5 * vse);
      // -d ELBO / d m and -d ELBO / d log s by central differences of the closed form
      const h = 1e-5;
      const dm = -(elbo(m0 + h, s0) - elbo(m0 - h, s0)) / (2 * h);
      const dl = -(elbo(m0, s0 * Math.exp(h)) - elbo(m0, s0 * Math.exp(-h))) / (2 * h);
      const [mm, mse] = stat(gm);
      const [lm, lse] = stat(gl);
      expect(Math.abs(mm - dm)).toBeLessThan(5 * mse + 1e-4);
      expect(Math.abs(lm - dl)).toBeLessThan(5 * lse + 1e-4);
    }
    expectNoLeak(() => {
      new ppl.RenyiELBO({ alpha: 0.3, numParticles: 3 }).loss(model, guide, y);
    });
    y.dispose();
  });

  it("plates around every site are independent (Pyro's): one bound per datum, summed", () => {
    // z_n ~ N(0, 1), y_n ~ N(z_n, 1) in a plate; guide z_n ~ N(m_n, s²). The estimate from K
    // particles is Σ_n (1/β) log (1/K) Σ_k w_kn^β, w_kn the datum's own weight, computed here
    // in float64 from the same draws (the guide rerun from the same seed).
    const yv = [2, -2, 1.5, 0.5];
    const mv = [0.3, -0.2, 0.1, 0];
    const sd = 0.8;
    const N = yv.length;
    const plated = (y: tf.Tensor): void => {
      ppl.plate('data', N, () => {
        const z = ppl.sample('z', new D.Normal(tf.zeros([N]), 1));
        ppl.sample('y', new D.Normal(z, 1), { obs: y });
      });
    };
    const platedGuide = (): void => {
      ppl.plate('data', N, () => ppl.sample('z', new D.Normal(tf.tensor1d(mv), sd)));
    };
    const y = tf.tensor1d(yv);
    for (const [alpha, K] of [
      [0, 3],
      [0.5, 4],
    ] as const) {
      const b = 1 - alpha;
      setSeed(41);
      const zs: number[][] = [];
      for (let k = 0; k < K; k++) {
        const tr = ppl.trace(platedGuide).getTrace();
        zs.push(Array.from(tr.value('z').dataSync()));
        tr.dispose();
      }
      let ref = 0;
      for (let n = 0; n < N; n++) {
        const lw = zs.map(
          (z) => b * (lnN(z[n]!, 0, 1) + lnN(yv[n]!, z[n]!, 1) - lnN(z[n]!, mv[n]!, sd)),
        );
        const mx = Math.max(...lw);
        ref += (mx + Math.log(lw.reduce((a, v) => a + Math.exp(v - mx), 0) / K)) / b;
      }
      setSeed(41);
      const est = -new ppl.RenyiELBO({ alpha, numParticles: K }).loss(plated, platedGuide, y);
      expect(est).toBeCloseTo(ref, 3);
    }
    // a site outside the plate (a global latent) makes the weights joint again
    const global = (yy: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('data', N, () => ppl.sample('y', new D.Normal(mu, 1), { obs: yy }));
    };
    const globalGuide = (): void => {
      ppl.sample('mu', new D.Normal(0.5, 0.4));
    };
    setSeed(42);
    const mus: number[] = [];
    for (let k = 0; k < 3; k++) {
      const tr = ppl.trace(globalGuide).getTrace();
      mus.push(tr.value('mu').dataSync()[0]!);
      tr.dispose();
    }
    const lw = mus.map(
      (mu) => lnN(mu, 0, 1) + yv.reduce((a, yn) => a + lnN(yn, mu, 1), 0) - lnN(mu, 0.5, 0.4),
    );
    const mx = Math.max(...lw);
    const ref = mx + Math.log(lw.reduce((a, v) => a + Math.exp(v - mx), 0) / 3);
    setSeed(42);
    expect(-new ppl.RenyiELBO({ numParticles: 3 }).loss(global, globalGuide, y)).toBeCloseTo(
      ref,
      3,
    );
    expectNoLeak(() => {
      new ppl.RenyiELBO({ numParticles: 3 }).loss(plated, platedGuide, y);
    });
    y.dispose();
  });

  it('a subsampled plate is summed into one weight per particle (each run visits its own members)', () => {
    const yv = [2, -2, 1.5, 0.5];
    const N = yv.length;
    const B = 2;
    const idxs: number[][] = [];
    const zs: number[][] = [];
    const sub = (y: tf.Tensor): void => {
      ppl.plate('data', N, { subsampleSize: B }, (ind) => {
        const z = ppl.sample('z', new D.Normal(tf.zeros([B]), 1));
        ppl.sample('y', new D.Normal(z, 1), { obs: tf.gather(y, tf.cast(ind, 'int32')) });
      });
    };
    const subGuide = (): void => {
      ppl.plate('data', N, { subsampleSize: B }, (ind) => {
        idxs.push(Array.from(ind.dataSync()));
        const z = ppl.sample('z', new D.Normal(tf.zeros([B]), 0.9));
        zs.push(Array.from(z.dataSync()));
      });
    };
    const y = tf.tensor1d(yv);
    setSeed(43);
    const K = 3;
    const l = new ppl.RenyiELBO({ numParticles: K }).loss(sub, subGuide, y);
    expect(idxs.length).toBe(K);
    const lw = idxs.map((idx, k) =>
      idx.reduce((a, n, b) => {
        const z = zs[k]![b]!;
        return a + (N / B) * (lnN(z, 0, 1) + lnN(yv[n]!, z, 1) - lnN(z, 0, 0.9));
      }, 0),
    );
    const mx = Math.max(...lw);
    expect(-l).toBeCloseTo(mx + Math.log(lw.reduce((a, v) => a + Math.exp(v - mx), 0) / K), 3);
    y.dispose();
  });
});
