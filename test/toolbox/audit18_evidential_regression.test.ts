/**
 * Deep evidential regression (Amini et al., NeurIPS 2020) as a user of the
 * `evidential-deep-learning` package expects it: the `DenseNormalGamma` head (and
 * `normalGammaOutputs`), `NIG_NLL` (against @stdlib's Student-t log-density with the matching
 * location, scale and degrees of freedom, and the reference's formula with @stdlib's gammaln, in
 * float64), `NIG_Reg`, `EvidentialRegression` (gradients by finite differences), the closed-form
 * uncertainties and the Student-t predictive, a model round trip through tfjs's serialization,
 * a trained cubic toy (as the paper's), and bad input.
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import tLogpdf from '@stdlib/stats-base-dists-t-logpdf';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions, toolbox } from '../../src/index.js';
import { expectBadInput, expectNoLeak, expectNoLeakAsync, finiteDiff } from '../helpers.js';

const ev = toolbox.evidential;

/** A deterministic pseudo-random stream in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const softplus64 = (o: number): number => (o > 30 ? o : Math.log1p(Math.exp(o)));

/** The reference's `NIG_NLL`, elementwise, in float64. */
function nll64(y: number, g: number, v: number, a: number, b: number): number {
  const omega = 2 * b * (1 + v);
  return (
    0.5 * Math.log(Math.PI / v) -
    a * Math.log(omega) +
    (a + 0.5) * Math.log(v * (y - g) ** 2 + omega) +
    gammaln(a) -
    gammaln(a + 0.5)
  );
}

/** `-log St(y; gamma, beta (1 + nu) / (nu alpha), 2 alpha)` from @stdlib's standard Student-t. */
function studentNll64(y: number, g: number, v: number, a: number, b: number): number {
  const s = Math.sqrt((b * (1 + v)) / (v * a));
  return -(tLogpdf((y - g) / s, 2 * a) - Math.log(s));
}

interface Nig {
  y: number[];
  gamma: number[];
  nu: number[];
  alpha: number[];
  beta: number[];
}

/** `n` random parameter sets in the head's usual range, with targets around gamma. */
function randomNig(n: number, seed: number): Nig {
  const r = lcg(seed);
  const p: Nig = { y: [], gamma: [], nu: [], alpha: [], beta: [] };
  for (let i = 0; i < n; i++) {
    const g = -3 + 6 * r();
    p.gamma.push(g);
    p.y.push(g - 5 + 10 * r());
    p.nu.push(0.05 + 20 * r());
    p.alpha.push(1.05 + 30 * r());
    p.beta.push(0.05 + 10 * r());
  }
  return p;
}

const closeTo = (got: number, want: number, rtol: number, atol = rtol): void => {
  expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThanOrEqual(
    atol + rtol * Math.abs(want),
  );
};

describe('normalGammaOutputs and DenseNormalGamma: the NIG head', () => {
  it('splits [N, 4D] into four blocks of D: gamma, softplus nu, softplus alpha + 1, softplus beta', () => {
    const raw = [
      [0.5, -2, 0, 3, 1.5, -0.5, 4, -3],
      [-1, 2, -20, 0.1, -0.2, 25, 0.3, -1],
    ];
    const out = ev.normalGammaOutputs(raw);
    expect(out.gamma.shape).toEqual([2, 2]);
    const got = {
      gamma: out.gamma.arraySync() as number[][],
      nu: out.nu.arraySync() as number[][],
      alpha: out.alpha.arraySync() as number[][],
      beta: out.beta.arraySync() as number[][],
    };
    tf.dispose([out.gamma, out.nu, out.alpha, out.beta]);
    for (let i = 0; i < 2; i++) {
      const o = raw[i] as number[];
      for (let d = 0; d < 2; d++) {
        closeTo(got.gamma[i]?.[d] as number, o[d] as number, 1e-7);
        closeTo(got.nu[i]?.[d] as number, softplus64(o[2 + d] as number), 1e-6);
        closeTo(got.alpha[i]?.[d] as number, softplus64(o[4 + d] as number) + 1, 1e-6);
        closeTo(got.beta[i]?.[d] as number, softplus64(o[6 + d] as number), 1e-6);
      }
    }
  });

  it('keeps every value in the NIG domain where softplus underflows (nu, beta > 0, alpha > 1)', () => {
    const out = ev.normalGammaOutputs([[0, -200, -200, -200]]);
    const [nu, alpha, beta] = [out.nu, out.alpha, out.beta].map(
      (t) => t.dataSync()[0] as number,
    ) as [number, number, number];
    tf.dispose([out.gamma, out.nu, out.alpha, out.beta]);
    expect(nu).toBeGreaterThan(0);
    expect(beta).toBeGreaterThan(0);
    expect(alpha).toBeGreaterThan(1);
    expect(alpha - 1).toBeLessThan(2e-7);
    // so the loss and the uncertainties stay finite there
    const o = tf.tensor2d([[0, -200, -200, -200]]);
    const head = tf.tidy(() => {
      const p = ev.normalGammaOutputs(o);
      return tf.concat([p.gamma, p.nu, p.alpha, p.beta], -1);
    });
    const l = expectNoLeak(() => ev.evidentialRegressionLoss([0.5], head));
    expect(Number.isFinite(l[0])).toBe(true);
    tf.dispose([o, head]);
  });

  it('the layer is a Dense of 4D units followed by the constraints; output [N, 4D]', () => {
    const layer = new ev.DenseNormalGamma({
      units: 2,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      biasInitializer: tf.initializers.randomNormal({ seed: 4 }),
    });
    const x = tf.tensor2d([
      [0.3, -1.2, 2],
      [1, 0.5, -0.7],
    ]);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 8]);
    expect(layer.computeOutputShape([null, 3])).toEqual([null, 8]);
    const [w, b] = layer.getWeights() as [tf.Tensor, tf.Tensor];
    expect(w.shape).toEqual([3, 8]);
    // float64: o = x W + b, then [o_0:2, softplus o_2:4, softplus o_4:6 + 1, softplus o_6:8]
    const xv = x.arraySync() as number[][];
    const wv = w.arraySync() as number[][];
    const bv = b.arraySync() as number[];
    const expected = xv.map((row) =>
      bv.map((bj, j) => {
        const o = row.reduce((s, xi, i) => s + xi * (wv[i]?.[j] as number), bj);
        return j < 2 ? o : softplus64(o) + (j >= 4 && j < 6 ? 1 : 0);
      }),
    );
    expect(y).toBeAllclose(expected.flat(), { rtol: 1e-5, atol: 1e-6 });
    expect(layer.normalGammaUnits).toBe(2);
    expect(new ev.DenseNormalGamma(3).normalGammaUnits).toBe(3);
    // as TF.js's Dense, on the last axis of a sequence [batch, T, features]
    const seq = tf.stack([x, x]);
    const ys = layer.apply(seq) as tf.Tensor;
    expect(ys.shape).toEqual([2, 2, 8]);
    expect(ys).toBeAllclose([...expected.flat(), ...expected.flat()], { rtol: 1e-5, atol: 1e-6 });
    tf.dispose([seq, ys]);
    tf.dispose([x, y]);
    layer.dispose();
  });

  it('a model with the head saves and loads (registered class, same outputs, D kept)', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [2],
          units: 5,
          activation: 'tanh',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        ev.denseNormalGamma({
          units: 2,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
          biasInitializer: tf.initializers.randomNormal({ seed: 5 }),
        }),
      ],
    });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    expect(JSON.stringify(artifacts?.modelTopology)).toContain('"class_name":"DenseNormalGamma"');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
    const head = loaded.layers[1] as InstanceType<typeof ev.DenseNormalGamma>;
    expect(head).toBeInstanceOf(ev.DenseNormalGamma);
    expect(head.normalGammaUnits).toBe(2);
    const x = tf.tensor2d([
      [0.2, -0.4],
      [1.5, 0.7],
      [-2, 3],
    ]);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(b.shape).toEqual([3, 8]);
    expect(b).toBeAllclose(a, { rtol: 1e-6, atol: 1e-7 });
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });
});

describe('nigNll, nigRegularizer, evidentialRegressionLoss: against float64 references', () => {
  it('nigNll is -log St(y; gamma, beta(1+nu)/(nu alpha), 2 alpha) (@stdlib) and the reference NIG_NLL', () => {
    const p = randomNig(40, 11);
    const got = expectNoLeak(() => ev.nigNll(p.y, p.gamma, p.nu, p.alpha, p.beta, 'none'));
    expect(got).toHaveLength(40);
    let sum = 0;
    for (let i = 0; i < 40; i++) {
      const args = [p.y[i], p.gamma[i], p.nu[i], p.alpha[i], p.beta[i]] as [
        number,
        number,
        number,
        number,
        number,
      ];
      const st = studentNll64(...args);
      closeTo(got[i] as number, st, 2e-5, 2e-5);
      closeTo(nll64(...args), st, 1e-9);
      sum += st;
    }
    const mean = expectNoLeak(() => ev.nigNll(p.y, p.gamma, p.nu, p.alpha, p.beta));
    closeTo(mean[0] as number, sum / 40, 2e-5);
    const total = expectNoLeak(() => ev.nigNll(p.y, p.gamma, p.nu, p.alpha, p.beta, 'sum'));
    closeTo(total[0] as number, sum, 2e-5);
  });

  it('nigNll keeps its digits at extreme evidence (alpha 1e6, nu 1e-4 or 1e4, alpha near 1)', () => {
    const cases: [number, number, number, number, number][] = [
      [1.3, 1, 1e3, 1e6, 1e6],
      [0.5, 0, 1e-4, 2, 0.3],
      [-2, 1, 1e4, 3, 5],
      [4, -1, 0.5, 1.001, 2],
      [100, 0, 1, 5, 1],
    ];
    for (const c of cases) {
      const got = expectNoLeak(() => ev.nigNll([c[0]], [c[1]], [c[2]], [c[3]], [c[4]]));
      closeTo(got[0] as number, studentNll64(...c), 2e-5, 2e-5);
    }
  });

  it('nigRegularizer is |y - gamma| (2 nu + alpha); beta optional as in NIG_Reg', () => {
    const p = randomNig(25, 12);
    const got = expectNoLeak(() => ev.nigRegularizer(p.y, p.gamma, p.nu, p.alpha, p.beta, 'none'));
    const want = p.y.map(
      (y, i) =>
        Math.abs(y - (p.gamma[i] as number)) * (2 * (p.nu[i] as number) + (p.alpha[i] as number)),
    );
    expect(got).toBeAllclose(want, { rtol: 1e-5, atol: 1e-5 });
    const noBeta = expectNoLeak(() => ev.nigRegularizer(p.y, p.gamma, p.nu, p.alpha, 'sum'));
    closeTo(
      noBeta[0] as number,
      want.reduce((a, b) => a + b, 0),
      1e-5,
    );
    const mean = expectNoLeak(() => ev.nigRegularizer(p.y, p.gamma, p.nu, p.alpha));
    closeTo(mean[0] as number, want.reduce((a, b) => a + b, 0) / 25, 1e-5);
  });

  it('evidentialRegressionLoss = NLL + coeff Reg on the head output [N, 4D] (blocks, D = 2)', () => {
    const p = randomNig(12, 13);
    // [6, 8]: row i holds targets 2i and 2i + 1 as its two units
    const rows = (xs: number[]): number[][] =>
      Array.from({ length: 6 }, (_, i) => [xs[2 * i] as number, xs[2 * i + 1] as number]);
    const outputs = tf.concat(
      [rows(p.gamma), rows(p.nu), rows(p.alpha), rows(p.beta)].map((b) => tf.tensor2d(b)),
      -1,
    );
    const y = tf.tensor2d(rows(p.y));
    const coeff = 0.3;
    const none = expectNoLeak(() =>
      ev.evidentialRegressionLoss(y, outputs, { coeff, reduction: 'none' }),
    );
    const want = p.y.map((yy, i) => {
      const g = p.gamma[i] as number;
      const v = p.nu[i] as number;
      const a = p.alpha[i] as number;
      return (
        studentNll64(yy, g, v, a, p.beta[i] as number) + coeff * Math.abs(yy - g) * (2 * v + a)
      );
    });
    expect(none).toBeAllclose(want, { rtol: 2e-5, atol: 2e-5 });
    const mean = expectNoLeak(() => ev.evidentialRegressionLoss(y, outputs, coeff));
    closeTo(mean[0] as number, want.reduce((a, b) => a + b, 0) / 12, 2e-5);
    // the four parameters given as a record: the same loss; default coeff 1 (the reference's)
    const rec = {
      gamma: rows(p.gamma),
      nu: rows(p.nu),
      alpha: rows(p.alpha),
      beta: rows(p.beta),
    };
    const viaRecord = expectNoLeak(() => ev.evidentialRegressionLoss(y, rec, { coeff }));
    closeTo(viaRecord[0] as number, mean[0] as number, 1e-6);
    const coeff1 = expectNoLeak(() => ev.evidentialRegressionLoss(y, outputs));
    const want1 = p.y.map((yy, i) => {
      const g = p.gamma[i] as number;
      const v = p.nu[i] as number;
      const a = p.alpha[i] as number;
      return studentNll64(yy, g, v, a, p.beta[i] as number) + Math.abs(yy - g) * (2 * v + a);
    });
    closeTo(coeff1[0] as number, want1.reduce((a, b) => a + b, 0) / 12, 2e-5);
    tf.dispose([outputs, y]);
  });

  it('targets [N] against one output unit are per-row (not the [N, N] broadcast)', () => {
    const p = randomNig(7, 14);
    const outputs = tf.tensor2d(
      p.gamma.map((g, i) => [g, p.nu[i], p.alpha[i], p.beta[i]] as number[]),
    );
    const flat = expectNoLeak(() =>
      ev.evidentialRegressionLoss(p.y, outputs, { reduction: 'none', coeff: 0.5 }),
    );
    const col = ev.evidentialRegressionLoss(
      p.y.map((v) => [v]),
      outputs,
      { reduction: 'none', coeff: 0.5 },
    );
    expect(col.shape).toEqual([7, 1]);
    expect(flat).toHaveLength(7);
    expect(flat).toBeAllclose(col, { rtol: 1e-6, atol: 1e-6 });
    col.dispose();
    const shaped = ev.nigNll(
      p.y,
      p.gamma.map((g) => [g]),
      1,
      2,
      1,
      'none',
    );
    expect(shaped.shape).toEqual([7]);
    shaped.dispose();
    outputs.dispose();
  });

  it('gradients in the raw outputs match float64 finite differences (loss through the head)', () => {
    const r = lcg(21);
    const n = 3;
    const d = 2;
    const raw = Array.from({ length: n * 4 * d }, () => -1.5 + 3 * r());
    const ys = Array.from({ length: n * d }, () => -2 + 4 * r());
    const coeff = 0.2;
    const f64 = (o: number[]): number => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < d; j++) {
          const at = (b: number): number => o[i * 4 * d + b * d + j] as number;
          const g = at(0);
          const v = softplus64(at(1));
          const a = softplus64(at(2)) + 1;
          const b = softplus64(at(3));
          const y = ys[i * d + j] as number;
          s += nll64(y, g, v, a, b) + coeff * Math.abs(y - g) * (2 * v + a);
        }
      }
      return s / (n * d);
    };
    const x = tf.tensor2d(raw, [n, 4 * d]);
    const y = tf.tensor2d(ys, [n, d]);
    const grad = tf.grad((o: tf.Tensor) => {
      const p = ev.normalGammaOutputs(o);
      return ev.evidentialRegressionLoss(y, p, { coeff });
    });
    const g = expectNoLeak(() => grad(x));
    const fd = finiteDiff(f64, raw, 1e-5);
    expect(g).toBeAllclose(fd, { rtol: 2e-4, atol: 2e-5 });
    // and the value itself
    const v = expectNoLeak(() =>
      tf.tidy(() => ev.evidentialRegressionLoss(y, ev.normalGammaOutputs(x), { coeff })),
    );
    closeTo(v[0] as number, f64(raw), 2e-5);
    tf.dispose([x, y]);
  });

  it('gradients of nigNll in gamma, nu, alpha, beta match float64 finite differences', () => {
    const p = randomNig(4, 22);
    const theta = [...p.gamma, ...p.nu, ...p.alpha, ...p.beta];
    const f64 = (t: number[]): number =>
      p.y.reduce(
        (s, y, i) =>
          s + nll64(y, t[i] as number, t[4 + i] as number, t[8 + i] as number, t[12 + i] as number),
        0,
      );
    const [g0, g1, g2, g3] = [0, 1, 2, 3].map((k) => tf.tensor1d(theta.slice(4 * k, 4 * k + 4)));
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, e: tf.Tensor) =>
      ev.nigNll(p.y, a, b, c, e, 'sum'),
    );
    const before = tf.memory().numTensors;
    const gs = grads([g0 as tf.Tensor, g1 as tf.Tensor, g2 as tf.Tensor, g3 as tf.Tensor]);
    const got = gs.flatMap((t) => Array.from(t.dataSync()));
    tf.dispose(gs);
    expect(tf.memory().numTensors).toBe(before);
    expect(got).toBeAllclose(finiteDiff(f64, theta, 1e-6), { rtol: 2e-4, atol: 2e-5 });
    tf.dispose([g0, g1, g2, g3] as tf.Tensor[]);
  });
});

describe('nigUncertainty and nigPredictive: the closed forms and the Student-t', () => {
  it('aleatoric beta/(alpha-1), epistemic beta/(nu(alpha-1)) against float64; prediction gamma', () => {
    const p = randomNig(10, 31);
    const outputs = tf.tensor2d(
      p.gamma.map((g, i) => [g, p.nu[i], p.alpha[i], p.beta[i]] as number[]),
    );
    const before = tf.memory().numTensors;
    const u = ev.nigUncertainty(outputs);
    const all = [u.prediction, u.aleatoric, u.epistemic, u.predictiveVariance];
    expect(all.map((t) => t.shape)).toEqual([
      [10, 1],
      [10, 1],
      [10, 1],
      [10, 1],
    ]);
    const ale = p.beta.map((b, i) => b / ((p.alpha[i] as number) - 1));
    const epi = ale.map((a, i) => a / (p.nu[i] as number));
    expect(u.prediction).toBeAllclose(p.gamma, { rtol: 1e-7, atol: 1e-7 });
    expect(u.aleatoric).toBeAllclose(ale, { rtol: 1e-6, atol: 0 });
    expect(u.epistemic).toBeAllclose(epi, { rtol: 1e-6, atol: 0 });
    expect(u.predictiveVariance).toBeAllclose(
      ale.map((a, i) => a + (epi[i] as number)),
      { rtol: 1e-6, atol: 0 },
    );
    tf.dispose(all);
    expect(tf.memory().numTensors).toBe(before);
    // the caller's tensors stay alive and intact
    expect(outputs.isDisposed).toBe(false);
    outputs.dispose();
  });

  it('the predictive is a StudentT(2 alpha, gamma, sqrt(beta(1+nu)/(nu alpha))): moments, logProb = -NLL', () => {
    const p = randomNig(6, 32);
    const rec = { gamma: p.gamma, nu: p.nu, alpha: p.alpha, beta: p.beta };
    const before = tf.memory().numTensors;
    const d = ev.nigPredictive(rec);
    expect(d).toBeInstanceOf(distributions.StudentT);
    expect(d.df).toBeAllclose(
      p.alpha.map((a) => 2 * a),
      { rtol: 1e-7, atol: 0 },
    );
    expect(d.scale).toBeAllclose(
      p.beta.map((b, i) =>
        Math.sqrt((b * (1 + (p.nu[i] as number))) / ((p.nu[i] as number) * (p.alpha[i] as number))),
      ),
      { rtol: 2e-6, atol: 0 },
    );
    const lp = d.logProb(p.y);
    expect(lp).toBeAllclose(
      p.y.map(
        (y, i) =>
          -studentNll64(
            y,
            p.gamma[i] as number,
            p.nu[i] as number,
            p.alpha[i] as number,
            p.beta[i] as number,
          ),
      ),
      { rtol: 2e-5, atol: 2e-5 },
    );
    const mean = d.mean();
    const variance = d.variance();
    expect(mean).toBeAllclose(p.gamma, { rtol: 1e-7, atol: 1e-7 });
    const u = ev.nigUncertainty(rec);
    expect(variance).toBeAllclose(u.predictiveVariance, { rtol: 2e-6, atol: 0 });
    tf.dispose([lp, mean, variance, u.prediction, u.aleatoric, u.epistemic, u.predictiveVariance]);
    d.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("an evidential MLP on the paper's cubic toy (y = x^3 + N(0, 3^2), x in [-4, 4])", () => {
  it('fits the mean in distribution and is more epistemically uncertain for |x| in [5, 6]', async () => {
    const start = tf.memory().numTensors;
    const sigma = 3;
    const scale = 20; // targets trained as y / 20 (read back in the units of y)
    const r = lcg(1);
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const n = 1000;
    const xs = Array.from({ length: n }, () => -4 + 8 * r());
    const x = tf.tensor2d(xs, [n, 1]);
    const y = tf.tensor2d(
      xs.map((v) => (v ** 3 + sigma * gauss()) / scale),
      [n, 1],
    );
    const init = (seed: number): ReturnType<typeof tf.initializers.glorotUniform> =>
      tf.initializers.glorotUniform({ seed });
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [1],
          units: 32,
          activation: 'relu',
          kernelInitializer: init(1),
        }),
        tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: init(2) }),
        new ev.DenseNormalGamma({ units: 1, kernelInitializer: init(3) }),
      ],
    });
    const history = await toolbox.fit(
      model,
      (xb, yb) =>
        ev.evidentialRegressionLoss(yb, model.apply(xb, { training: true }) as tf.Tensor, {
          coeff: 0.01,
        }) as tf.Scalar,
      { x, y },
      { epochs: 30, batchSize: 100, learningRate: 5e-3, seed: 1 },
    );
    expect(history[history.length - 1]).toBeLessThan(history[0] as number);
    const grid = (a: number, b: number, k: number): number[] =>
      Array.from({ length: k }, (_, i) => a + ((b - a) * i) / (k - 1));
    const read = (g: number[]): { mean: number[]; ale: number[]; epi: number[] } => {
      const gx = tf.tensor2d(g, [g.length, 1]);
      const out = model.predict(gx) as tf.Tensor;
      const u = ev.nigUncertainty(out);
      const res = {
        mean: Array.from(u.prediction.dataSync(), (v) => v * scale),
        ale: Array.from(u.aleatoric.dataSync(), (v) => v * scale * scale),
        epi: Array.from(u.epistemic.dataSync(), (v) => v * scale * scale),
      };
      tf.dispose([gx, out, u.prediction, u.aleatoric, u.epistemic, u.predictiveVariance]);
      return res;
    };
    const avg = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    const inside = grid(-4, 4, 81);
    const outside = [...grid(-6, -5, 11), ...grid(5, 6, 11)];
    const i = read(inside);
    const o = read(outside);
    // the mean's squared error to x^3 is below half the noise variance: a straight line (the best
    // linear fit of x^3 on [-4, 4]) is at 93.6, predicting 0 at 585
    const mse = avg(i.mean.map((m, k) => (m - (inside[k] as number) ** 3) ** 2));
    expect(mse).toBeLessThan(sigma ** 2 / 2);
    // the aleatoric E[sigma^2] recovers the noise variance 9 within a factor of 2
    expect(avg(i.ale)).toBeGreaterThan(sigma ** 2 / 2);
    expect(avg(i.ale)).toBeLessThan(2 * sigma ** 2);
    // the epistemic Var[mu] is larger outside the data than inside it
    expect(avg(o.epi)).toBeGreaterThan(1.5 * avg(i.epi));
    tf.dispose([x, y]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('bad input: ArgumentError naming the argument, before any work, no tensor left', () => {
  const p = randomNig(4, 41);
  const head = (): tf.Tensor =>
    tf.tensor2d(p.gamma.map((g, i) => [g, p.nu[i], p.alpha[i], p.beta[i]] as number[]));

  it('targets whose shape does not match the outputs', async () => {
    const out = head();
    await expectBadInput({
      call: 'evidential regression',
      run: () =>
        ev.evidentialRegressionLoss(
          [
            [1, 2],
            [3, 4],
            [5, 6],
            [7, 8],
          ],
          out,
        ),
      arg: 'y',
      message: /\[4,1\] or \[4\]/,
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.evidentialRegressionLoss([1, 2, 3], out),
      arg: 'y',
    });
    const y3 = tf.zeros([4, 1, 1]);
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.evidentialRegressionLoss(y3, out),
      arg: 'y',
    });
    y3.dispose();
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigNll([[1], [2]], [1, 2], 1, 2, 1),
      arg: 'y',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.evidentialRegressionLoss([1, NaN, 0, 0], out),
      arg: 'y',
      message: /finite/,
    });
    out.dispose();
  });

  it('a raw or head output whose last axis is not a positive multiple of 4', async () => {
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.normalGammaOutputs([[1, 2, 3, 4, 5, 6]]),
      arg: 'raw',
      message: /multiple of 4/,
    });
    const empty = tf.zeros([3, 0]);
    const six = tf.ones([1, 6]);
    const three = tf.ones([2, 3]);
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.normalGammaOutputs(empty),
      arg: 'raw',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.normalGammaOutputs([[0, 0, NaN, 0]]),
      arg: 'raw',
      message: /finite/,
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.evidentialRegressionLoss([1], six),
      arg: 'outputs',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigUncertainty(three),
      arg: 'outputs',
    });
    tf.dispose([empty, six, three]);
  });

  it('nu <= 0, beta <= 0, alpha <= 1 or a non-finite gamma given directly, named', async () => {
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigNll([0], [0], [0], [2], [1]),
      arg: 'nu',
      message: /nu > 0/,
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigNll([0], [0], [1], [2], [-1]),
      arg: 'beta',
      message: /beta > 0/,
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigNll([0], [0], [1], [1], [1]),
      arg: 'alpha',
      message: /alpha > 1/,
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigNll([0], [0], [1], [0.5], [1]),
      arg: 'alpha',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigNll([0], [NaN], [1], [2], [1]),
      arg: 'gamma',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigRegularizer([0], [0], [1], [1]),
      arg: 'alpha',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigUncertainty({ gamma: 0, nu: 1, alpha: 1, beta: 1 }),
      arg: 'alpha',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigPredictive({ gamma: 0, nu: -1, alpha: 2, beta: 1 }),
      arg: 'nu',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigUncertainty({ gamma: 0, nu: 1, alpha: 2 } as never),
      arg: 'beta',
      message: /missing/,
    });
    // in the head's packed output: named as the argument, saying which block
    const bad = tf.tensor2d([[0, 0, 2, 1]]);
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.evidentialRegressionLoss([0], bad),
      arg: 'outputs',
      message: /nu > 0.*second quarter/,
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigPredictive(bad),
      arg: 'outputs',
    });
    const bad2 = tf.tensor2d([[0, 1, 1, 1]]);
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigUncertainty(bad2),
      arg: 'outputs',
      message: /alpha > 1/,
    });
    tf.dispose([bad, bad2]);
  });

  it('parameters that do not broadcast, bad options, an empty mean', async () => {
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigNll([0, 0], [0, 0], [1, 1, 1], 2, 1),
      arg: /gamma.*nu/,
    });
    const out = head();
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.evidentialRegressionLoss(p.y, out, { reduction: 'avg' as never }),
      arg: 'reduction',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.nigNll(p.y, p.gamma, p.nu, p.alpha, p.beta, 'total' as never),
      arg: 'reduction',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.evidentialRegressionLoss(p.y, out, { coeff: -1 }),
      arg: 'coeff',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.evidentialRegressionLoss(p.y, out, Number.NaN),
      arg: 'coeff',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.evidentialRegressionLoss(p.y, out, { lambda: 0.1 } as never),
      arg: 'lambda',
    });
    const [y0, o0] = [tf.zeros([0, 1]), tf.zeros([0, 4])];
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.evidentialRegressionLoss(y0, o0),
      arg: 'y',
      message: /at least one/,
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => ev.evidentialRegressionLoss(p.y, 'x' as never),
      arg: 'outputs',
    });
    out.dispose();
    // an empty batch is fine with 'sum' and 'none'
    const e = expectNoLeak(() => ev.evidentialRegressionLoss(y0, o0, { reduction: 'sum' }));
    expect(e).toEqual([0]);
    tf.dispose([y0, o0]);
  });

  it('DenseNormalGamma: units, an activation, an unknown key', async () => {
    await expectBadInput({
      call: 'evidential regression',
      run: () => void new ev.DenseNormalGamma({ units: 0 }),
      arg: 'units',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => void new ev.DenseNormalGamma(1.5),
      arg: 'units',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => void new ev.DenseNormalGamma({ units: 1, activation: 'relu' } as never),
      arg: 'activation',
    });
    await expectBadInput({
      call: 'evidential regression',
      run: () => void new ev.DenseNormalGamma({ units: 1, kernel_initializer: 'zeros' } as never),
      arg: 'kernel_initializer',
      message: /kernelInitializer/,
    });
  });

  it('no tensor leaks on the success paths of every function', async () => {
    const out = head();
    await expectNoLeakAsync(async () => {
      const l = ev.evidentialRegressionLoss(p.y, out, { coeff: 0.1 });
      const g = tf.grad((o: tf.Tensor) => ev.evidentialRegressionLoss(p.y, o))(out);
      tf.dispose([l, g]);
      const q = ev.normalGammaOutputs(out);
      tf.dispose([q.gamma, q.nu, q.alpha, q.beta]);
      const d = ev.nigPredictive(out);
      d.dispose();
      return undefined;
    });
    out.dispose();
  });
});
