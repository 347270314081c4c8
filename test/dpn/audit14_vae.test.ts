/**
 * Audit (session 14) of `dpn.VAE`, `dpn.ConditionalVAE`, `infer.ELBO`, `infer.SVI` as a user who
 * read only the docs would probe them: data shapes off the seed path (non-square images, three
 * channels, 1-D data, latent size 1, batch size 1, layer-array networks, two-input encoders), the
 * ELBO against a float64 forward pass of a tiny net, gradients against finite differences,
 * getWeights/setWeights round trips, a VAE-GAN made of public pieces, and bad input.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { dpn, infer, inference, setSeed, clearSeed } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectBadInput, expectNoLeak, type BadInputCase } from '../helpers.js';

afterAll(() => clearSeed());

// `infer` is a keyword in type positions (conditional types): its types are `inference.*`
type ELBOType = inference.ELBO;

const softplus = (v: number): number => (v > 30 ? v : Math.log1p(Math.exp(v)));
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
const relu = (v: number): number => Math.max(0, v);

/** float64 dense layer: rows x [n][in], kernel [in*out] row-major, bias [out]. */
function dense64(x: number[][], k: number[], b: number[], f: (v: number) => number): number[][] {
  const out = b.length;
  return x.map((row) =>
    Array.from({ length: out }, (_, j) => {
      let s = b[j] as number;
      row.forEach((v, i) => (s += v * (k[i * out + j] as number)));
      return f(s);
    }),
  );
}
const flat = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

const denseEnc = (inputs: number, hidden: number): tf.Sequential =>
  tf.sequential({
    layers: [tf.layers.dense({ inputShape: [inputs], units: hidden, activation: 'relu' })],
  });
const denseDec = (hidden: number, outputs: number, act: 'sigmoid' | 'linear'): tf.Sequential =>
  tf.sequential({
    layers: [tf.layers.dense({ inputShape: [hidden], units: outputs, activation: act })],
  });

describe('VAE on shapes off the seed path', () => {
  it('non-square single-channel images [n, 6, 10, 1] with a conv encoder and a dense+reshape decoder', () => {
    setSeed(11);
    const enc = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [6, 10, 1],
          filters: 3,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
        }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 9, activation: 'relu' }),
      ],
    });
    const dec = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [9], units: 60, activation: 'sigmoid' }),
        tf.layers.reshape({ targetShape: [6, 10, 1] }),
      ],
    });
    const vae = new dpn.VAE(enc, dec, 9, 2);
    const x = tf.randomUniform([3, 6, 10, 1]);
    const before = tf.memory().numTensors;
    const o = vae.apply(x);
    expect(o.reconX.shape).toEqual([3, 6, 10, 1]);
    expect(o.mu.shape).toEqual([3, 2]);
    expect(o.std.shape).toEqual([3, 2]);
    tf.dispose([o.reconX, o.mu, o.std]);
    expect(tf.memory().numTensors).toBe(before);
    const r = vae.reconstructSample(x);
    expect(r.shape).toEqual([3, 6, 10, 1]);
    r.dispose();
    const g = vae.generateSample(4, [-1, 6, 10, 1]);
    expect(g.shape).toEqual([4, 6, 10, 1]);
    g.dispose();
    const g2 = vae.generateSample(4);
    expect(g2.shape).toEqual([4, 6, 10, 1]);
    g2.dispose();
    expectNoLeak(() => vae.generateSample(2, [2, 60]));
    x.dispose();
    vae.dispose();
  });

  it('three channels [n, 4, 6, 3], Bernoulli logits: SVI lowers the loss, no tensor left per epoch', () => {
    setSeed(12);
    const enc = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [4, 6, 3],
          filters: 4,
          kernelSize: 2,
          strides: 2,
          activation: 'relu',
        }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, activation: 'relu' }),
      ],
    });
    const dec = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [10], units: 2 * 3 * 4, activation: 'relu' }),
        tf.layers.reshape({ targetShape: [2, 3, 4] }),
        tf.layers.conv2dTranspose({ filters: 3, kernelSize: 2, strides: 2, padding: 'same' }),
      ],
    });
    const vae = new dpn.VAE(enc, dec, 10, 3);
    // two binary patterns (and their mix): data a VAE can compress, unlike random pixels
    const data = tf.tidy(() => {
      const a = tf.round(tf.randomUniform([1, 4, 6, 3]));
      const which = tf.reshape(
        tf.cast(tf.greater(tf.randomUniform([32]), 0.5), 'float32'),
        [32, 1, 1, 1],
      );
      return tf.add(tf.mul(which, a), tf.mul(tf.sub(1, which), tf.sub(1, a)));
    });
    const batches = [0, 1, 2, 3].map((i) => ({ x: data.slice([8 * i], [8]) }));
    const svi = new infer.SVI({
      netWithLoss: new infer.WithLossCell(
        vae,
        new infer.ELBO({ outputPrior: 'Bernoulli', fromLogits: true }),
      ),
      optimizer: tf.train.adam(0.02),
    });
    svi.run(batches, 1);
    const first = svi.getTrainLoss();
    const n0 = tf.memory().numTensors;
    svi.run(batches, 15);
    expect(tf.memory().numTensors).toBe(n0);
    expect(Number.isFinite(first)).toBe(true);
    // 72 Bernoulli pixels per image: the loss starts near 72 log 2 = 49.9 and must fall
    expect(svi.getTrainLoss()).toBeLessThan(first - 2);
    const r = vae.reconstructSample(batches[0]!.x);
    expect(r.shape).toEqual([8, 4, 6, 3]);
    tf.dispose([r, data, ...batches.map((b) => b.x)]);
    vae.dispose();
  });

  it('1-D data, latent size 1, batch size 1', () => {
    setSeed(13);
    const vae = new dpn.VAE(denseEnc(7, 5), denseDec(5, 7, 'linear'), 5, 1);
    const x = tf.tensor2d([[0.1, -0.2, 0.3, 0.5, -1, 2, 0]]);
    const o = vae.apply(x);
    expect(o.reconX.shape).toEqual([1, 7]);
    expect(o.mu.shape).toEqual([1, 1]);
    const loss = new infer.ELBO({ outputPrior: 'Normal', outputScale: 0.5 }).call(o);
    expect(loss.shape).toEqual([]);
    expect(Number.isFinite(loss.dataSync()[0] as number)).toBe(true);
    tf.dispose([o.reconX, o.mu, o.std, loss]);
    const g = vae.generateSample(1);
    expect(g.shape).toEqual([1, 7]);
    g.dispose();
    const g1 = vae.generateSample(1, [-1]);
    expect(g1.shape).toEqual([7]);
    g1.dispose();
    const svi = new infer.SVI({
      netWithLoss: new infer.WithLossCell(vae, new infer.ELBO()),
      optimizer: tf.train.adam(0.01),
    });
    // the first step creates Adam's two moments per variable; later steps make nothing
    expect(Number.isFinite(svi.step(x))).toBe(true);
    const n0 = tf.memory().numTensors;
    const v = svi.step(x);
    expect(Number.isFinite(v)).toBe(true);
    expect(tf.memory().numTensors).toBe(n0);
    x.dispose();
    vae.dispose();
  });

  it('layer-array encoder and decoder (built lazily): the first SVI step moves every variable', () => {
    setSeed(14);
    // seeded initializers: an unseeded relu layer left a unit dead on all 5 rows now and then,
    // and its weights took no step
    const init = (seed: number): ReturnType<typeof tf.initializers.glorotUniform> =>
      tf.initializers.glorotUniform({ seed });
    const vae = new dpn.VAE(
      [
        tf.layers.dense({ units: 6, activation: 'tanh', kernelInitializer: init(141) }),
        tf.layers.dense({ units: 4, activation: 'relu', kernelInitializer: init(142) }),
      ],
      [tf.layers.dense({ units: 5, activation: 'sigmoid', kernelInitializer: init(143) })],
      4,
      2,
    );
    const x = tf.randomUniform([5, 5], 0, 1, 'float32', 14);
    const svi = new infer.SVI({
      netWithLoss: new infer.WithLossCell(vae, new infer.ELBO({ outputPrior: 'Bernoulli' })),
      optimizer: tf.train.sgd(0.05),
    });
    const v = svi.step(x);
    expect(Number.isFinite(v)).toBe(true);
    // 2 encoder layers + 3 heads + 1 decoder layer, kernel and bias each
    expect(vae.trainableVariables().length).toBe(12);
    const before = vae.trainableVariables().map((w) => w.clone());
    svi.step(x);
    vae
      .trainableVariables()
      .forEach((w, i) => expect(maxAbsDiff(w, before[i]!)).toBeGreaterThan(0));
    tf.dispose([...before, x]);
    vae.dispose();
  });
});

describe('ELBO against float64 references', () => {
  it('Normal, Normal with outputScale, Bernoulli probs and logits, sum and mean, on given outputs', () => {
    const xv = [
      [0, 1, 0.25, 0.5, 1, 0],
      [1, 1, 0, 0.75, 0.1, 0.9],
    ];
    const rv = [
      [0.1, 0.8, 0.3, 0.5, 0.9, 0.2],
      [0.7, 0.95, 0.05, 0.6, 0.3, 0.4],
    ];
    const lv = [
      [-2, 3, 0.5, -0.1, 25, -30],
      [1, 0, -1, 2, -3, 0.3],
    ];
    const mv = [
      [0.3, -1.2],
      [2, 0],
    ];
    const sv = [
      [0.5, 1.5],
      [0.1, 1],
    ];
    // x as images [2, 3, 2, 1], the decoder output flat [2, 6]: same values per example
    const x = tf.tensor4d(xv.flat(), [2, 3, 2, 1]);
    const recon = tf.tensor2d(rv);
    const logits = tf.tensor2d(lv);
    const mu = tf.tensor2d(mv);
    const std = tf.tensor2d(sv);
    let kl = 0;
    mv.flat().forEach((m, i) => {
      const s = sv.flat()[i] as number;
      kl += 0.5 * (s * s + m * m - 1) - Math.log(s);
    });
    let se = 0;
    let bce = 0;
    let bceL = 0;
    xv.flat().forEach((xi, i) => {
      const p = rv.flat()[i] as number;
      const l = lv.flat()[i] as number;
      se += (xi - p) ** 2;
      bce -= xi * Math.log(p) + (1 - xi) * Math.log(1 - p);
      // exact -log Bernoulli(x | sigmoid(l)) for fractional x too: softplus(l) - x l
      bceL += softplus(l) - xi * l;
    });
    const s = 0.3;
    const nllN = se / (2 * s * s) + 12 * (Math.log(s) + 0.5 * Math.log(2 * Math.PI));
    const val = (loss: ELBOType, r: tf.Tensor): number =>
      expectNoLeak(() => loss.call({ reconX: r, x, mu, std }))[0] as number;
    expect(val(new infer.ELBO(), recon)).toBeCloseTo(se + kl, 4);
    expect(val(new infer.ELBO({ reduction: 'mean' }), recon)).toBeCloseTo((se + kl) / 2, 4);
    expect(val(new infer.ELBO({ outputScale: s }), recon)).toBeCloseTo(nllN + kl, 3);
    expect(val(new infer.ELBO({ outputPrior: 'Bernoulli' }), recon)).toBeCloseTo(bce + kl, 4);
    expect(val(new infer.ELBO({ outputPrior: 'Bernoulli', fromLogits: true }), logits)).toBeCloseTo(
      bceL + kl,
      3,
    );
    expect(
      val(
        new infer.ELBO({ outputPrior: 'Bernoulli', fromLogits: true, reduction: 'mean' }),
        logits,
      ),
    ).toBeCloseTo((bceL + kl) / 2, 3);
    tf.dispose([x, recon, logits, mu, std]);
  });

  it('a tiny VAE: mu, std, the reconstruction and the whole loss equal a float64 forward pass', () => {
    setSeed(21);
    const vae = new dpn.VAE(denseEnc(4, 3), denseDec(3, 4, 'sigmoid'), 3, 2);
    const w = vae.getWeights();
    // order: encoder (k, b), mu head (k, b), std head (k, b), z->hidden (k, b), decoder (k, b)
    expect(w.map((t) => t.shape)).toEqual([
      [4, 3],
      [3],
      [3, 2],
      [2],
      [3, 2],
      [2],
      [2, 3],
      [3],
      [3, 4],
      [4],
    ]);
    // push the std head far negative: softplus(-40) ~ 4e-18, so z = mu in float32
    // a positive first kernel keeps every hidden unit active (the layers' initializers are not
    // seeded), so dropping one always changes the reconstruction
    const k0 = tf.tensor2d([0.3, 0.5, 0.2, 0.4, 0.1, 0.6, 0.7, 0.2, 0.3, 0.2, 0.4, 0.5], [4, 3]);
    const w2 = w.map((t, i) => (i === 5 ? tf.fill([2], -40) : i === 0 ? k0 : t));
    vae.setWeights(w2);
    const wv = w2.map(flat);
    const xv = [
      [0.2, 0.9, 0.1, 0.6],
      [1, 0, 0.3, 0.7],
      [0.5, 0.5, 0.5, 0.5],
    ];
    const h = dense64(xv, wv[0]!, wv[1]!, relu);
    const mu = dense64(h, wv[2]!, wv[3]!, (v) => v);
    const std = dense64(h, wv[4]!, wv[5]!, softplus);
    const h2 = dense64(mu, wv[6]!, wv[7]!, (v) => v);
    const rec = dense64(h2, wv[8]!, wv[9]!, sigmoid);
    const x = tf.tensor2d(xv);
    const o = vae.apply(x);
    expect(o.mu).toBeAllclose(mu, { rtol: 1e-5, atol: 1e-6 });
    expect(o.std).toBeAllclose(std, { rtol: 1e-3, atol: 1e-20 });
    expect(o.reconX).toBeAllclose(rec, { rtol: 1e-5, atol: 1e-6 });
    let ref = 0;
    xv.flat().forEach((xi, i) => {
      const p = rec.flat()[i] as number;
      ref -= xi * Math.log(p) + (1 - xi) * Math.log(1 - p);
    });
    mu.flat().forEach((m, i) => {
      const s = std.flat()[i] as number;
      ref += 0.5 * (s * s + m * m - 1) - Math.log(s);
    });
    const l = new infer.ELBO({ outputPrior: 'Bernoulli' }).call(o);
    // the KL holds -log(4e-18) = 40 per latent: compare relative
    expect(l).toBeAllclose(ref, { rtol: 1e-5 });
    const r = vae.reconstructSample(x);
    expect(r).toBeAllclose(rec, { rtol: 1e-5, atol: 1e-6 });
    tf.dispose([o.reconX, o.mu, o.std, l, r, x, ...w, w2[5]!]);
    vae.dispose();
  });

  it("stdTransform 'exp' gives std = exp(dense2(h) / 2)", () => {
    setSeed(22);
    const vae = new dpn.VAE(denseEnc(3, 4), denseDec(4, 3, 'linear'), 4, 2, {
      stdTransform: 'exp',
    });
    const w = vae.getWeights().map(flat);
    const xv = [[0.3, -0.4, 1.2]];
    const h = dense64(xv, w[0]!, w[1]!, relu);
    const std = dense64(h, w[4]!, w[5]!, (v) => Math.exp(0.5 * v));
    const x = tf.tensor2d(xv);
    const o = vae.apply(x);
    expect(o.std).toBeAllclose(std, { rtol: 1e-5 });
    tf.dispose([o.reconX, o.mu, o.std, x]);
    vae.dispose();
  });

  it('the gradient of the loss (fixed noise by setSeed) equals central finite differences', () => {
    setSeed(23);
    // a smooth encoder (tanh): a ReLU kink inside the finite-difference step would spoil it
    const enc = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [3],
          units: 4,
          activation: 'tanh',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        }),
      ],
    });
    const vae = new dpn.VAE(enc, denseDec(4, 3, 'sigmoid'), 4, 2);
    const x = tf.tensor2d([
      [0.2, 0.7, 1],
      [0, 0.4, 0.9],
    ]);
    const loss = new infer.ELBO({ outputPrior: 'Bernoulli' });
    const vars = vae.trainableVariables();
    const f = (): tf.Scalar => {
      setSeed(99);
      return loss.call(vae.apply(x));
    };
    const { grads } = tf.variableGrads(f, vars);
    // check a few entries of every variable (mu head, std head, dense3, encoder, decoder)
    for (const v of vars) {
      const g = flat(grads[v.name]!);
      const base = flat(v);
      for (const i of [0, base.length - 1]) {
        const at = (d: number): number => {
          const b = base.slice();
          b[i] = (b[i] as number) + d;
          v.assign(tf.tensor(b, v.shape));
          const r = tf.tidy(() => f().dataSync()[0] as number);
          return r;
        };
        const hStep = 1e-2;
        const fd = (at(hStep) - at(-hStep)) / (2 * hStep);
        v.assign(tf.tensor(base, v.shape));
        expect(Math.abs((g[i] as number) - fd)).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
      }
    }
    tf.dispose(Object.values(grads));
    x.dispose();
    vae.dispose();
  });
});

describe('ConditionalVAE off the seed path', () => {
  it('one-input encoder on non-square images, latent 1, two classes, batch size 1; labels in three forms', () => {
    setSeed(31);
    const enc = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3 * 5 + 2], units: 6, activation: 'relu' })],
    });
    const dec = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [6], units: 15, activation: 'sigmoid' }),
        tf.layers.reshape({ targetShape: [3, 5, 1] }),
      ],
    });
    const cvae = new dpn.ConditionalVAE(enc, dec, 6, 1, 2);
    const x = tf.randomUniform([1, 3, 5, 1]);
    const y = tf.tensor1d([1], 'int32');
    const o = cvae.apply(x, y);
    expect(o.reconX.shape).toEqual([1, 3, 5, 1]);
    expect(o.mu.shape).toEqual([1, 1]);
    tf.dispose([o.reconX, o.mu, o.std]);
    const yHot = tf.tensor2d([[0, 1]]);
    setSeed(5);
    const a = cvae.reconstructSample(x, y);
    setSeed(5);
    const b = cvae.reconstructSample(x, yHot);
    expect(a.shape).toEqual([1, 3, 5, 1]);
    expect(maxAbsDiff(a, b)).toBe(0);
    // generateSample: a number, an array, an int tensor and one-hot rows give the same images
    const gen = (label: number | number[] | tf.Tensor): tf.Tensor => {
      setSeed(6);
      return cvae.generateSample(label, 3, [-1, 3, 5, 1]);
    };
    const g1 = gen(1);
    const g2 = gen([1, 1, 1]);
    const lt = tf.tensor1d([1, 1, 1], 'int32');
    const oh = tf.tensor2d([
      [0, 1],
      [0, 1],
      [0, 1],
    ]);
    const g3 = gen(lt);
    const g4 = gen(oh);
    expect(g1.shape).toEqual([3, 3, 5, 1]);
    for (const g of [g2, g3, g4]) expect(maxAbsDiff(g1, g)).toBe(0);
    const g0 = gen(0);
    expect(maxAbsDiff(g0, g1)).toBeGreaterThan(0);
    expectNoLeak(() => cvae.generateSample([0, 1], 2));
    tf.dispose([x, y, yHot, a, b, g0, g1, g2, g3, g4, lt, oh]);
    cvae.dispose();
  });

  it('a two-input functional encoder [x, c]; training on 1-D data lowers the loss', () => {
    setSeed(32);
    const xin = tf.input({ shape: [5] });
    const cin = tf.input({ shape: [3] });
    const h = tf.layers
      .dense({ units: 6, activation: 'relu' })
      .apply(tf.layers.concatenate().apply([xin, cin])) as tf.SymbolicTensor;
    const enc = tf.model({ inputs: [xin, cin], outputs: h });
    const cvae = new dpn.ConditionalVAE(enc, denseDec(6, 5, 'linear'), 6, 2, 3);
    const xs = tf.randomNormal([24, 5]);
    const ys = tf.tensor1d(
      Array.from({ length: 24 }, (_, i) => i % 3),
      'int32',
    );
    const batches = [0, 1, 2].map((i) => ({
      x: xs.slice([8 * i], [8]),
      y: ys.slice([8 * i], [8]),
    }));
    const svi = new infer.SVI({
      netWithLoss: new infer.WithLossCell(cvae, new infer.ELBO({ reduction: 'mean' })),
      optimizer: tf.train.adam(0.03),
    });
    svi.run(batches, 1);
    const first = svi.getTrainLoss();
    const n0 = tf.memory().numTensors;
    svi.run(batches, 20);
    expect(tf.memory().numTensors).toBe(n0);
    expect(svi.getTrainLoss()).toBeLessThan(first);
    const g = cvae.generateSample(2, 4);
    expect(g.shape).toEqual([4, 5]);
    tf.dispose([g, xs, ys, ...batches.flatMap((b) => [b.x, b.y])]);
    cvae.dispose();
  });
});

describe('a two-input conditional encoder whose label input does not fit numClasses', () => {
  it('is refused at construction naming encoder (was a raw tfjs ValueError at the first batch)', () => {
    const xin = tf.input({ shape: [5] });
    const cin = tf.input({ shape: [4] });
    const h = tf.layers
      .dense({ units: 6 })
      .apply(tf.layers.concatenate().apply([xin, cin])) as tf.SymbolicTensor;
    const enc = tf.model({ inputs: [xin, cin], outputs: h });
    const dec = denseDec(6, 5, 'linear');
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      new dpn.ConditionalVAE(enc, dec, 6, 2, 3).dispose();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).argument).toBe('encoder');
    expect((err as Error).message).toMatch(/\[n, 3\] \(numClasses\)/);
    expect(tf.memory().numTensors).toBe(before);
    // with a layer-array decoder too (checked before the decoder's shapes)
    expect(() => new dpn.ConditionalVAE(enc, [tf.layers.dense({ units: 5 })], 6, 2, 3)).toThrow(
      /numClasses/,
    );
    enc.dispose();
    dec.dispose();
  });

  it('an encoder with more inputs than the VAE feeds is refused at construction naming encoder', () => {
    const a = tf.input({ shape: [5] });
    const b = tf.input({ shape: [3] });
    const c = tf.input({ shape: [1] });
    const h = tf.layers
      .dense({ units: 6 })
      .apply(tf.layers.concatenate().apply([a, b, c])) as tf.SymbolicTensor;
    const enc3 = tf.model({ inputs: [a, b, c], outputs: h });
    const h2 = tf.layers
      .dense({ units: 6 })
      .apply(tf.layers.concatenate().apply([a, b])) as tf.SymbolicTensor;
    const enc2 = tf.model({ inputs: [a, b], outputs: h2 });
    const dec = denseDec(6, 5, 'linear');
    const named = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof ArgumentError ? e.argument : 'not an ArgumentError';
      }
      return undefined;
    };
    expect(named(() => new dpn.ConditionalVAE(enc3, dec, 6, 2, 3))).toBe('encoder');
    expect(named(() => new dpn.VAE(enc2, dec, 6, 2))).toBe('encoder');
    enc3.dispose();
    enc2.dispose();
    dec.dispose();
  });
});

describe('checkpoints: getWeights / setWeights', () => {
  it('a VAE restored into a fresh one of the same architecture gives identical outputs', () => {
    setSeed(41);
    const mk = (): dpn.VAE =>
      new dpn.VAE(
        tf.sequential({
          layers: [
            tf.layers.dense({ inputShape: [6], units: 5, activation: 'relu' }),
            tf.layers.batchNormalization(),
          ],
        }),
        denseDec(5, 6, 'sigmoid'),
        5,
        3,
      );
    const a = mk();
    const x = tf.randomUniform([4, 6]);
    // train a little so BatchNorm statistics and weights differ from a fresh init
    const svi = new infer.SVI({
      netWithLoss: new infer.WithLossCell(a, new infer.ELBO({ outputPrior: 'Bernoulli' })),
      optimizer: tf.train.adam(0.05),
    });
    for (let i = 0; i < 3; i++) svi.step(x);
    const b = mk();
    const w = a.getWeights();
    b.setWeights(w);
    tf.dispose(w);
    setSeed(7);
    const ga = a.generateSample(5);
    setSeed(7);
    const gb = b.generateSample(5);
    expect(maxAbsDiff(ga, gb)).toBe(0);
    setSeed(8);
    const ra = a.reconstructSample(x);
    setSeed(8);
    const rb = b.reconstructSample(x);
    expect(maxAbsDiff(ra, rb)).toBe(0);
    tf.dispose([ga, gb, ra, rb, x]);
    a.dispose();
    b.dispose();
  });

  it('a ConditionalVAE round trip; setWeights of another architecture is refused before any change', () => {
    setSeed(42);
    const mk = (latent: number): dpn.ConditionalVAE =>
      new dpn.ConditionalVAE(denseEnc(4 + 2, 3), denseDec(3, 4, 'sigmoid'), 3, latent, 2);
    const a = mk(2);
    const b = mk(2);
    const c = mk(3);
    const w = a.getWeights();
    b.setWeights(w);
    setSeed(3);
    const ga = a.generateSample(1, 4);
    setSeed(3);
    const gb = b.generateSample(1, 4);
    expect(maxAbsDiff(ga, gb)).toBe(0);
    const cw = c.getWeights();
    expect(() => c.setWeights(w)).toThrow(ArgumentError);
    const cw2 = c.getWeights();
    cw.forEach((t, i) => expect(maxAbsDiff(t, cw2[i]!)).toBe(0));
    tf.dispose([...w, ...cw, ...cw2, ga, gb]);
    for (const v of [a, b, c]) v.dispose();
  });
});

describe('checkpoints of layer-array VAEs', () => {
  it('restoring into a fresh, unbuilt layer-array VAE says to build it first; after build(x) the outputs are identical', () => {
    setSeed(43);
    const mk = (): dpn.VAE =>
      new dpn.VAE(
        [tf.layers.dense({ units: 3, activation: 'relu' })],
        [tf.layers.dense({ units: 4, activation: 'sigmoid' })],
        3,
        2,
      );
    const a = mk();
    const x = tf.randomUniform([2, 4]);
    a.build(x);
    const b = mk();
    const w = a.getWeights();
    const n0 = tf.memory().numTensors;
    let err: unknown;
    try {
      b.setWeights(w);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).argument).toBe('weights');
    expect((err as Error).message).toMatch(/build/);
    expect(tf.memory().numTensors).toBe(n0);
    b.build(x);
    b.setWeights(w);
    setSeed(9);
    const ra = a.reconstructSample(x);
    setSeed(9);
    const rb = b.reconstructSample(x);
    expect(maxAbsDiff(ra, rb)).toBe(0);
    tf.dispose([...w, ra, rb, x]);
    a.dispose();
    b.dispose();
  });
});

describe('a VAE-GAN from public pieces', () => {
  it('a discriminator and a loss extending ELBO train jointly with SVI; every variable moves; no leak', () => {
    setSeed(51);
    const vae = new dpn.VAE(denseEnc(6, 4), denseDec(4, 6, 'sigmoid'), 4, 2);
    const D = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [6], units: 1, activation: 'sigmoid' })],
    });
    interface GanOut extends dpn.VAEOutput {
      dReal: tf.Tensor;
      dFake: tf.Tensor;
    }
    const net: dpn.ProbabilisticNetwork = {
      apply: (x: tf.Tensor): GanOut =>
        tf.tidy(() => {
          const o = vae.apply(x);
          return { ...o, dReal: dpn.applyNetwork(D, x), dFake: dpn.applyNetwork(D, o.reconX) };
        }) as GanOut,
      trainableVariables: () => [...vae.trainableVariables(), ...dpn.networkVariables(D)],
      dispose: () => {
        vae.dispose();
        dpn.disposeNetwork(D);
      },
    };
    class GanLoss extends infer.ELBO {
      override call(out: dpn.VAEOutput): tf.Scalar {
        const o = out as GanOut;
        return tf.tidy(
          () =>
            tf.addN([
              super.call(o),
              tf.sum(tf.square(tf.sub(o.dReal, 1))),
              tf.sum(tf.square(o.dFake)),
            ]) as tf.Scalar,
        );
      }
    }
    const x = tf.randomUniform([8, 6]);
    const svi = new infer.SVI({
      netWithLoss: new infer.WithLossCell(net, new GanLoss({ outputPrior: 'Bernoulli' })),
      optimizer: tf.train.adam(0.01),
    });
    const before = net.trainableVariables().map((v) => v.clone());
    svi.step(x); // creates Adam's moments
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) expect(Number.isFinite(svi.step(x))).toBe(true);
    expect(tf.memory().numTensors).toBe(n0);
    net
      .trainableVariables()
      .forEach((v, i) => expect(maxAbsDiff(v, before[i]!)).toBeGreaterThan(0));
    tf.dispose([...before, x]);
    net.dispose();
  });
});

describe('bad input is refused naming the argument, before any work', () => {
  const vae = new dpn.VAE(denseEnc(4, 3), denseDec(3, 4, 'sigmoid'), 3, 2);
  const cvae = new dpn.ConditionalVAE(denseEnc(4 + 3, 3), denseDec(3, 4, 'sigmoid'), 3, 2, 3);
  const withT = (make: () => tf.Tensor[], f: (...t: tf.Tensor[]) => unknown) => (): unknown => {
    const ts = make();
    try {
      return f(...ts);
    } finally {
      tf.dispose(ts);
    }
  };
  // networks for the constructor cases, made once outside the measured calls
  const E = denseEnc(4, 3);
  const sgd = tf.train.sgd(0.1);
  const Dn = denseDec(3, 4, 'linear');
  const cases: BadInputCase[] = [
    { call: 'latentSize 0', run: () => new dpn.VAE(E, Dn, 3, 0), arg: 'latentSize' },
    { call: 'latentSize 1.5', run: () => new dpn.VAE(E, Dn, 3, 1.5), arg: 'latentSize' },
    { call: 'hiddenSize NaN', run: () => new dpn.VAE(E, Dn, NaN, 2), arg: 'hiddenSize' },
    {
      call: 'numClasses 0',
      run: () => new dpn.ConditionalVAE(E, Dn, 3, 2, 0),
      arg: 'numClasses',
    },
    {
      call: 'unknown VAE option',
      run: () => new dpn.VAE(E, Dn, 3, 2, { stdTransfrom: 'exp' } as never),
      arg: 'stdTransfrom',
    },
    { call: 'generateSample n 0', run: () => vae.generateSample(0), arg: 'n' },
    { call: 'generateSample n 2.5', run: () => vae.generateSample(2.5), arg: 'n' },
    {
      call: 'generateSample shape that cannot hold the output',
      run: () => vae.generateSample(2, [3, 3]),
      arg: 'shape',
    },
    {
      call: 'generateSample shape with two -1',
      run: () => vae.generateSample(2, [-1, -1]),
      arg: 'shape',
    },
    {
      call: 'apply x of the wrong width',
      run: withT(
        () => [tf.zeros([2, 5])],
        (x) => vae.apply(x!),
      ),
      arg: 'x',
    },
    {
      call: 'apply x rank 1',
      run: withT(
        () => [tf.zeros([4])],
        (x) => vae.apply(x!),
      ),
      arg: 'x',
    },
    {
      call: 'apply x with NaN',
      run: withT(
        () => [tf.tensor2d([[0, NaN, 0, 0]])],
        (x) => vae.apply(x!),
      ),
      arg: 'x',
    },
    {
      call: 'reconstructSample x of the wrong width',
      run: withT(
        () => [tf.zeros([2, 3])],
        (x) => vae.reconstructSample(x!),
      ),
      arg: 'x',
    },
    {
      call: 'CVAE label out of range',
      run: withT(
        () => [tf.zeros([2, 4]), tf.tensor1d([0, 3], 'int32')],
        (x, y) => cvae.apply(x!, y!),
      ),
      arg: 'y',
    },
    {
      call: 'CVAE label fractional',
      run: withT(
        () => [tf.zeros([2, 4]), tf.tensor1d([0, 1.5])],
        (x, y) => cvae.apply(x!, y!),
      ),
      arg: 'y',
    },
    {
      call: 'CVAE negative label',
      run: withT(
        () => [tf.zeros([2, 4]), tf.tensor1d([-1, 0], 'int32')],
        (x, y) => cvae.apply(x!, y!),
      ),
      arg: 'y',
    },
    {
      call: 'CVAE generateSample label 3 of 3 classes',
      run: () => cvae.generateSample(3, 2),
      arg: 'label',
    },
    {
      call: 'CVAE generateSample label array of wrong length',
      run: () => cvae.generateSample([0, 1, 2], 2),
      arg: 'label',
    },
    { call: 'CVAE generateSample n 0', run: () => cvae.generateSample(0, 0), arg: 'n' },
    {
      call: 'CVAE reconstructSample one-hot rows with two ones',
      run: withT(
        () => [tf.zeros([1, 4]), tf.tensor2d([[1, 1, 0]])],
        (x, y) => cvae.reconstructSample(x!, y!),
      ),
      arg: 'y',
    },
    {
      call: 'ELBO unknown key',
      run: () => new infer.ELBO({ outputPior: 'Normal' } as never),
      arg: 'outputPior',
    },
    {
      call: 'ELBO outputScale 0',
      run: () => new infer.ELBO({ outputScale: 0 }),
      arg: 'outputScale',
    },
    {
      call: 'ELBO outputScale -1',
      run: () => new infer.ELBO({ outputScale: -1 }),
      arg: 'outputScale',
    },
    {
      call: "ELBO latentPrior 'Laplace'",
      run: () => new infer.ELBO({ latentPrior: 'Laplace' as never }),
      arg: 'latentPrior',
    },
    {
      call: "ELBO outputPrior 'Poisson'",
      run: () => new infer.ELBO({ outputPrior: 'Poisson' as never }),
      arg: 'outputPrior',
    },
    {
      call: "ELBO reduction 'none'",
      run: () => new infer.ELBO({ reduction: 'none' as never }),
      arg: 'reduction',
    },
    {
      call: 'Bernoulli ELBO on data above 1',
      run: withT(
        () => [tf.tensor2d([[0, 2]]), tf.tensor2d([[0.5, 0.5]]), tf.zeros([1, 1]), tf.ones([1, 1])],
        (x, r, m, s) =>
          new infer.ELBO({ outputPrior: 'Bernoulli' }).call({ x: x!, reconX: r!, mu: m!, std: s! }),
      ),
      arg: 'x',
    },
    {
      call: 'ELBO reconstruction of another size',
      run: withT(
        () => [tf.zeros([1, 3]), tf.zeros([1, 4]), tf.zeros([1, 1]), tf.ones([1, 1])],
        (x, r, m, s) => new infer.ELBO().call({ x: x!, reconX: r!, mu: m!, std: s! }),
      ),
      arg: 'reconX',
    },
    {
      call: 'SVI epochs 0',
      run: () =>
        new infer.SVI({
          netWithLoss: new infer.WithLossCell(vae, new infer.ELBO()),
          optimizer: sgd,
        }).run([], 0),
      arg: 'epochs',
    },
    {
      call: 'SVI empty data set',
      run: () =>
        new infer.SVI({
          netWithLoss: new infer.WithLossCell(vae, new infer.ELBO()),
          optimizer: sgd,
        }).run([], 1),
      arg: 'dataset',
    },
    {
      call: 'SVI unknown option key',
      run: () =>
        new infer.SVI({
          netWithLoss: new infer.WithLossCell(vae, new infer.ELBO()),
          optimizer: sgd,
          lr: 0.1,
        } as never),
      arg: 'lr',
    },
    {
      call: 'WithLossCell of something that is not a network',
      run: () => new infer.WithLossCell({} as never, new infer.ELBO()),
      arg: 'network',
    },
    {
      call: 'WithLossCell with a loss without call()',
      run: () => new infer.WithLossCell(vae, { reduction: 'sum' } as never),
      arg: 'loss',
    },
    {
      call: 'SVI optimizer missing',
      run: () =>
        new infer.SVI({ netWithLoss: new infer.WithLossCell(vae, new infer.ELBO()) } as never),
      arg: 'optimizer',
    },
  ];
  for (const c of cases) it(c.call, async () => expectBadInput(c));
  afterAll(() => {
    vae.dispose();
    cvae.dispose();
    E.dispose();
    Dn.dispose();
  });
});

describe('training modes, reductions and asynchronous data', () => {
  it('the infer namespace is also `inference`, usable in type positions', () => {
    expect(inference.ELBO).toBe(infer.ELBO);
    expect(inference.SVI).toBe(infer.SVI);
    const o: inference.ELBOOptions = { outputPrior: 'Bernoulli', fromLogits: true };
    const l: inference.OutputLoss = new inference.ELBO(o);
    expect(l.reduction).toBe('sum');
  });

  it('reconstructSample runs the encoder in inference mode: dropout off, equal to a float64 pass', () => {
    setSeed(61);
    const enc = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 3, activation: 'relu' }),
        tf.layers.dropout({ rate: 0.5 }),
      ],
    });
    const vae = new dpn.VAE(enc, denseDec(3, 4, 'sigmoid'), 3, 2);
    const w = vae.getWeights();
    // a positive first kernel keeps every hidden unit active (the layers' initializers are not
    // seeded), so dropping one always changes the reconstruction
    const k0 = tf.tensor2d([0.3, 0.5, 0.2, 0.4, 0.1, 0.6, 0.7, 0.2, 0.3, 0.2, 0.4, 0.5], [4, 3]);
    const w2 = w.map((t, i) => (i === 5 ? tf.fill([2], -40) : i === 0 ? k0 : t));
    vae.setWeights(w2);
    const wv = w2.map(flat);
    const xv = [
      [0.2, 0.9, 0.1, 0.6],
      [1, 0, 0.3, 0.7],
    ];
    const h = dense64(xv, wv[0]!, wv[1]!, relu);
    const mu = dense64(h, wv[2]!, wv[3]!, (v) => v);
    const rec = dense64(
      dense64(mu, wv[6]!, wv[7]!, (v) => v),
      wv[8]!,
      wv[9]!,
      sigmoid,
    );
    const x = tf.tensor2d(xv);
    const r = vae.reconstructSample(x);
    expect(r).toBeAllclose(rec, { rtol: 1e-5, atol: 1e-6 });
    // apply (SVI's pass) runs dropout: some hidden units are dropped, so it differs
    // (all six kept has probability 1/64 per pass; 20 passes all equal would be 2^-120)
    let differs = false;
    for (let i = 0; i < 20 && !differs; i++) {
      const o = vae.apply(x);
      differs = maxAbsDiff(o.reconX, r) > 0;
      tf.dispose([o.reconX, o.mu, o.std]);
    }
    expect(differs).toBe(true);
    tf.dispose([r, x, ...w, w2[5]!, k0]);
    vae.dispose();
  });

  it('generateSample and reconstructSample leave BatchNorm statistics unchanged; training with batch size 1 stays finite', () => {
    setSeed(62);
    const dec = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 5 }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 4, activation: 'sigmoid' }),
      ],
    });
    const vae = new dpn.VAE(denseEnc(4, 3), dec, 3, 2);
    const before = vae.getWeights();
    const x = tf.tensor2d([[0.1, 0.5, 0.9, 0.3]]);
    tf.dispose([vae.generateSample(6), vae.reconstructSample(x)]);
    const after = vae.getWeights();
    before.forEach((t, i) => expect(maxAbsDiff(t, after[i]!)).toBe(0));
    const svi = new infer.SVI({
      netWithLoss: new infer.WithLossCell(vae, new infer.ELBO({ outputPrior: 'Bernoulli' })),
      optimizer: tf.train.adam(0.01),
    });
    for (let i = 0; i < 3; i++) expect(Number.isFinite(svi.step(x))).toBe(true);
    tf.dispose([...before, ...after, x]);
    vae.dispose();
  });

  it("'sum' and 'mean' reductions report the same per-example epoch loss for the same draws", () => {
    const vae = new dpn.VAE(denseEnc(5, 4), denseDec(4, 5, 'linear'), 4, 2);
    const xs = tf.randomNormal([12, 5]);
    // batches of 5, 5 and 2: the last one smaller
    const batches = [xs.slice([0], [5]), xs.slice([5], [5]), xs.slice([10], [2])];
    const run = (reduction: 'sum' | 'mean'): number => {
      setSeed(63); // the same noise draws in both runs
      const svi = new infer.SVI({
        netWithLoss: new infer.WithLossCell(vae, new infer.ELBO({ reduction })),
        optimizer: sgd0, // no update: the same weights for every batch
      });
      svi.run(batches, 1);
      return svi.getTrainLoss();
    };
    const sgd0 = tf.train.sgd(0);
    const s = run('sum');
    const m = run('mean');
    expect(Number.isFinite(s)).toBe(true);
    expect(m).toBeCloseTo(s, 3);
    tf.dispose([xs, ...batches]);
    sgd0.dispose();
    vae.dispose();
  });

  it('runAsync over a tf.data.Dataset of {xs} for two epochs: two reports, its elements freed', async () => {
    setSeed(64);
    const vae = new dpn.VAE(denseEnc(3, 4), denseDec(4, 3, 'sigmoid'), 4, 1);
    const data = tf.tidy(() => tf.round(tf.randomUniform([10, 3])));
    const rowsOf = data.arraySync() as number[][];
    const ds = tf.data.array(rowsOf.map((r) => ({ xs: r }))).batch(4);
    const svi = new infer.SVI({
      netWithLoss: new infer.WithLossCell(vae, new infer.ELBO({ outputPrior: 'Bernoulli' })),
      optimizer: tf.train.adam(0.01),
    });
    await svi.runAsync(ds, 1); // creates Adam's moments
    const n0 = tf.memory().numTensors;
    const reports: inference.EpochReport[] = [];
    await svi.runAsync(ds, 2, (r) => reports.push(r));
    expect(tf.memory().numTensors).toBe(n0);
    expect(reports.map((r) => [r.epoch, r.examples])).toEqual([
      [1, 10],
      [2, 10],
    ]);
    expect(Number.isFinite(svi.getTrainLoss())).toBe(true);
    data.dispose();
    vae.dispose();
  });
});
