/**
 * Audit 18: `TraceEnumELBO`'s surrogate gradient for guide sites drawn without `rsample` (not
 * enumerated: score function) while the model enumerates its own sites, in nested plates and in
 * a plate of another size. Reference: the exact ELBO by brute-force enumeration of every guide
 * configuration in float64 (the model's enumerated sites summed by hand), its gradient by
 * central differences; the surrogate's gradient at each of the 128 guide draws (fixed by
 * `substitute`) averaged under q: exactly the ELBO's gradient (unbiased), and for the local
 * sites with a smaller variance than the whole estimate as cost (Rao-Blackwellized by plates).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const LOG_2PI = Math.log(2 * Math.PI);
const nlp = (x: number, m: number): number => -0.5 * LOG_2PI - 0.5 * (x - m) ** 2;
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const lb = (z: number, p: number): number => Math.log(z === 1 ? p : 1 - p);
const lse = (a: number[]): number => {
  const m = Math.max(...a);
  return m + Math.log(a.reduce((s, v) => s + Math.exp(v - m), 0));
};

// data: y[i][j] in plate outer (2) x inner (3); v[k] in plate other (4)
const Y = [
  [0.3, 1.6, -0.2],
  [2.1, 0.9, 1.4],
];
const V = [0.2, 1.7, -0.5, 1.1];
const A0 = 0.2;
const B0 = [-0.4, 0.6];
const W0 = [0.1, -0.3, 0.5, 0.0];

/**
 * g global, u_i in outer, w_k in other: drawn by the guide (Bernoulli, no rsample);
 * c_i in outer and d_ij in inner, e_k in other: enumerated by the model.
 */
const model = (y: tf.Tensor, v: tf.Tensor): void => {
  const g = ppl.sample('g', new D.Bernoulli(0.4));
  ppl.plate('outer', 2, { dim: -2 }, () => {
    const u = ppl.sample('u', new D.Bernoulli(0.5));
    const c = ppl.sample('c', new D.Bernoulli(tf.add(0.3, tf.mul(0.4, g))), {
      infer: { enumerate: 'parallel' },
    });
    ppl.plate('inner', 3, { dim: -1 }, () => {
      const pd = tf.add(0.2, tf.add(tf.mul(0.5, c), tf.mul(0.2, u)));
      const d = ppl.sample('d', new D.Bernoulli(pd), { infer: { enumerate: 'parallel' } });
      ppl.sample('y', new D.Normal(tf.add(tf.add(d, u), g), 1), { obs: y });
    });
  });
  ppl.plate('other', 4, { dim: -1 }, () => {
    const w = ppl.sample('w', new D.Bernoulli(0.6));
    const e = ppl.sample('e', new D.Bernoulli(tf.sub(0.7, tf.mul(0.4, g))), {
      infer: { enumerate: 'parallel' },
    });
    ppl.sample('v', new D.Normal(tf.add(e, w), 1), { obs: v });
  });
};
const guide = (): void => {
  const a = ppl.param('a', tf.scalar(A0));
  const b = ppl.param('b', tf.tensor2d(B0, [2, 1]));
  const w = ppl.param('w0', tf.tensor1d(W0));
  ppl.sample('g', new D.Bernoulli({ logits: a }));
  ppl.plate('outer', 2, { dim: -2 }, () => ppl.sample('u', new D.Bernoulli({ logits: b })));
  ppl.plate('other', 4, { dim: -1 }, () => ppl.sample('w', new D.Bernoulli({ logits: w })));
};

/** log p(y, v, g, u, w) with c, d, e summed out, float64. */
function logJoint(g: number, u: number[], w: number[]): number {
  let lp = lb(g, 0.4);
  for (let i = 0; i < 2; i++) {
    lp += lb(u[i] as number, 0.5);
    const pc = 0.3 + 0.4 * g;
    const perC = [0, 1].map((c) => {
      let t = lb(c, pc);
      for (let j = 0; j < 3; j++) {
        const pd = 0.2 + 0.5 * c + 0.2 * (u[i] as number);
        t += lse([0, 1].map((d) => lb(d, pd) + nlp(Y[i]![j]!, d + u[i]! + g)));
      }
      return t;
    });
    lp += lse(perC);
  }
  for (let k = 0; k < 4; k++) {
    lp += lb(w[k] as number, 0.6);
    lp += lse([0, 1].map((e) => lb(e, 0.7 - 0.4 * g) + nlp(V[k]!, e + w[k]!)));
  }
  return lp;
}

/** The exact ELBO at params theta = [a, b0, b1, w0..w3], by enumerating the 2^7 guide draws. */
function exactElbo(th: number[]): number {
  let elbo = 0;
  for (let m = 0; m < 128; m++) {
    const bits = [0, 1, 2, 3, 4, 5, 6].map((k) => (m >> k) & 1);
    const g = bits[0] as number;
    const u = bits.slice(1, 3);
    const w = bits.slice(3, 7);
    let lq = lb(g, sigmoid(th[0] as number));
    u.forEach((x, i) => (lq += lb(x, sigmoid(th[1 + i] as number))));
    w.forEach((x, k) => (lq += lb(x, sigmoid(th[3 + k] as number))));
    elbo += Math.exp(lq) * (logJoint(g, u, w) - lq);
  }
  return elbo;
}

/** Per guide configuration (2^7): q(z), and the single-draw gradient of the ELBO at theta. */
function perDraw(th: number[], m: number): { q: number; whole: number[] } {
  const bits = [0, 1, 2, 3, 4, 5, 6].map((k) => (m >> k) & 1);
  const lq = bits.reduce((s, z, k) => s + lb(z, sigmoid(th[k] as number)), 0);
  const L = logJoint(bits[0] as number, bits.slice(1, 3), bits.slice(3, 7)) - lq;
  // d log q / d theta_k = z_k - sigmoid(theta_k); the whole-cost estimator of Pyro's Trace_ELBO
  // without Rao-Blackwellization: dlq * L - dlq
  const whole = bits.map((z, k) => (z - sigmoid(th[k] as number)) * (L - 1));
  return { q: Math.exp(lq), whole };
}

const bitsOf = (m: number): number[] => [0, 1, 2, 3, 4, 5, 6].map((k) => (m >> k) & 1);

describe('TraceEnumELBO: score-function guide sites with model enumeration', () => {
  it('the expected surrogate gradient is the exact ELBO gradient (all 128 guide draws)', () => {
    const y = tf.tensor2d(Y);
    const v = tf.tensor1d(V);
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 2 });
    const theta = [A0, ...B0, ...W0];
    const h = 1e-5;
    const exact = theta.map((_, k) => {
      const p = [...theta];
      const m = [...theta];
      p[k] = (p[k] as number) + h;
      m[k] = (m[k] as number) - h;
      return (exactElbo(p) - exactElbo(m)) / (2 * h);
    });
    // the guide's draws fixed by substitute (still latent: scored by the surrogate)
    let fixed: Record<string, tf.Tensor> = {};
    const fixedGuide = ppl.substitute(guide, (msg) => fixed[msg.name]);
    tf.dispose(elbo.differentiableLoss(model, fixedGuide, [y, v])); // creates the params
    const vars = ppl.getParamStore().variables(['a', 'b', 'w0']);
    const mean = theta.map(() => 0);
    const second = theta.map(() => 0);
    let wholeVar = theta.map(() => 0);
    const wholeMean = theta.map(() => 0);
    let elboMean = 0;
    const before = tf.memory().numTensors;
    for (let m = 0; m < 128; m++) {
      const bits = bitsOf(m);
      fixed = {
        g: tf.scalar(bits[0] as number),
        u: tf.tensor2d(bits.slice(1, 3), [2, 1]),
        w: tf.tensor1d(bits.slice(3, 7)),
      };
      const loss = (): tf.Scalar => elbo.differentiableLoss(model, fixedGuide, [y, v]);
      const { value, grads } = tf.variableGrads(loss, vars);
      const g = vars.flatMap((x) => Array.from((grads[x.name] as tf.Tensor).dataSync()));
      const { q, whole } = perDraw(theta, m);
      elboMean -= q * (value.dataSync()[0] as number);
      g.forEach((gk, k) => {
        mean[k] = (mean[k] as number) - q * gk;
        second[k] = (second[k] as number) + q * gk * gk;
        wholeMean[k] = (wholeMean[k] as number) + q * (whole[k] as number);
        wholeVar[k] = (wholeVar[k] as number) + q * (whole[k] as number) ** 2;
      });
      value.dispose();
      tf.dispose(grads);
      tf.dispose(Object.values(fixed));
    }
    expect(tf.memory().numTensors).toBe(before);
    wholeVar = wholeVar.map((s, k) => s - (wholeMean[k] as number) ** 2);
    expect(elboMean).toBeCloseTo(exactElbo(theta), 3);
    mean.forEach((g, k) => {
      expect(g).toBeCloseTo(exact[k] as number, 3);
      expect(wholeMean[k]).toBeCloseTo(exact[k] as number, 6);
    });
    // Rao-Blackwellized by plates: the local guide sites' gradients vary much less than with the
    // whole estimate as their cost (the global site's cost is the whole estimate either way)
    const variance = second.map((s, k) => s - (mean[k] as number) ** 2);
    expect(variance[0]).toBeCloseTo(wholeVar[0] as number, 2);
    for (let k = 1; k < 7; k++) expect(variance[k]).toBeLessThan(0.7 * (wholeVar[k] as number));
    y.dispose();
    v.dispose();
  });

  it('a global enumerated site fed by the local guide draws: its contracted term reaches their scores', () => {
    // g enumerated (global), u_i drawn by the guide in plate i: the contraction over g is a
    // global term that depends on every u_i (a Dice grouping by ordinal alone would drop it)
    const Yg = [1.4, 0.2];
    const yg = tf.tensor1d(Yg);
    const m = (yy: tf.Tensor): void => {
      const g = ppl.sample('g', new D.Bernoulli(0.4), { infer: { enumerate: 'parallel' } });
      ppl.plate('i', 2, () => {
        const u = ppl.sample('u', new D.Bernoulli(0.5));
        ppl.sample('y', new D.Normal(tf.add(g, u), 1), { obs: yy });
      });
    };
    let fixed: tf.Tensor | null = null;
    const g0 = (): void => {
      const b = ppl.param('bl', tf.tensor1d([0.3, -0.5]));
      ppl.plate('i', 2, () => ppl.sample('u', new D.Bernoulli({ logits: b })));
    };
    const fg = ppl.substitute(g0, (msg) => (msg.name === 'u' ? (fixed ?? undefined) : undefined));
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const exactElboG = (b: number[]): number => {
      let e = 0;
      for (let mm = 0; mm < 4; mm++) {
        const u = [mm & 1, (mm >> 1) & 1];
        const lq = u.reduce((s2, ui, i) => s2 + lb(ui, sigmoid(b[i] as number)), 0);
        const lj =
          u.reduce((s2, ui) => s2 + lb(ui, 0.5), 0) +
          lse(
            [0, 1].map(
              (g) => lb(g, 0.4) + u.reduce((s2, ui, i) => s2 + nlp(Yg[i] as number, g + ui), 0),
            ),
          );
        e += Math.exp(lq) * (lj - lq);
      }
      return e;
    };
    const b0 = [0.3, -0.5];
    const exact = b0.map((_, k) => {
      const p = [...b0];
      const q = [...b0];
      p[k] = (p[k] as number) + 1e-5;
      q[k] = (q[k] as number) - 1e-5;
      return (exactElboG(p) - exactElboG(q)) / 2e-5;
    });
    fixed = tf.tensor1d([0, 0]);
    tf.dispose(elbo.differentiableLoss(m, fg, [yg]));
    fixed.dispose();
    const vars = ppl.getParamStore().variables(['bl']);
    const mean = [0, 0];
    for (let mm = 0; mm < 4; mm++) {
      const u = [mm & 1, (mm >> 1) & 1];
      fixed = tf.tensor1d(u);
      const { value, grads } = tf.variableGrads(() => elbo.differentiableLoss(m, fg, [yg]), vars);
      const q = u.reduce((p, ui, i) => p * Math.exp(lb(ui, sigmoid(b0[i] as number))), 1);
      Array.from((grads[(vars[0] as tf.Variable).name] as tf.Tensor).dataSync()).forEach(
        (gk, k) => (mean[k] = (mean[k] as number) - q * gk),
      );
      value.dispose();
      tf.dispose(grads);
      fixed.dispose();
    }
    mean.forEach((g, k) => expect(g).toBeCloseTo(exact[k] as number, 3));
    yg.dispose();
  });
});
