/**
 * Bayesian Conv3D and Conv3DTranspose layers (volumes, videos): in mean mode they are the 3-D
 * (transposed) convolution, checked against float64 loops written here and against tfjs's own
 * layers with the same weights; sampled, each estimator gives per output element
 * `mean = conv3d(x, mu) + mu_b` and `variance = conv3d(x², σ²) + σ_b²` over many calls (tolerance
 * 4.5 standard errors); gradients in the posterior parameters and the input match central finite
 * differences (the noise re-seeded); the KL is the closed form; models with them train, save and
 * load; channels-first layers are the channels-last ones on transposed data; bad arguments are
 * refused naming them. Also the wasm kernels that tfjs 4.22 gets wrong (`Conv3DBackpropInputV2`,
 * `Conv3DBackpropFilterV2` at strides > 1), replaced by the cpu kernel in `ready()`.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replaceWrongKernels } from '../../src/backend/cpu_fallback.js';
import {
  Conv3DFlipout,
  Conv3DLocalReparam,
  Conv3DReparam,
  Conv3DTransposeFlipout,
  Conv3DTransposeLocalReparam,
  Conv3DTransposeReparam,
  Conv3DVariational,
  type Conv3DVariationalArgs,
  MopedConv3DReparam,
  compileBayesian,
  conv3dTransposeWithGrad,
  modelKL,
  setMode,
} from '../../src/layers/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak, finiteDiff, saveAndLoad } from '../helpers.js';

beforeAll(() => setSeed(31));
afterAll(() => clearSeed());

const softplus = (r: number): number => Math.log1p(Math.exp(r));
type Triple = [number, number, number];

/** TF's 'same' padding before one axis. */
function padBefore(n: number, k: number, s: number, d: number): number {
  const eff = (k - 1) * d + 1;
  return Math.floor(Math.max((Math.ceil(n / s) - 1) * s + eff - n, 0) / 2);
}

/**
 * float64 3-D convolution, NDHWC input `x` (flat, shape `xs`) and kernel `k` `[kd, kh, kw, C, O]`:
 * `y[b, i, j, l, o] = sum x[b, i s0 + p d0 - t0, j s1 + q d1 - t1, l s2 + r d2 - t2, c] k[p, q, r, c, o]`.
 */
function refConv3d(
  x: ArrayLike<number>,
  xs: number[],
  k: ArrayLike<number>,
  ks: number[],
  s: Triple,
  d: Triple,
  mode: 'same' | 'valid',
): { data: number[]; shape: number[] } {
  const [B, D, H, W, C] = xs as [number, number, number, number, number];
  const [KD, KH, KW, , O] = ks as [number, number, number, number, number];
  const n = [D, H, W];
  const kk = [KD, KH, KW];
  const out = [0, 1, 2].map((a) =>
    mode === 'same'
      ? Math.ceil(n[a]! / s[a]!)
      : Math.floor((n[a]! - ((kk[a]! - 1) * d[a]! + 1)) / s[a]!) + 1,
  ) as Triple;
  const pad = [0, 1, 2].map((a) =>
    mode === 'same' ? padBefore(n[a]!, kk[a]!, s[a]!, d[a]!) : 0,
  ) as Triple;
  const y = new Array<number>(B * out[0] * out[1] * out[2] * O).fill(0);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < out[0]; i++)
      for (let j = 0; j < out[1]; j++)
        for (let l = 0; l < out[2]; l++)
          for (let o = 0; o < O; o++) {
            let acc = 0;
            for (let p = 0; p < KD; p++)
              for (let q = 0; q < KH; q++)
                for (let r = 0; r < KW; r++) {
                  const zi = i * s[0] + p * d[0] - pad[0];
                  const hi = j * s[1] + q * d[1] - pad[1];
                  const wi = l * s[2] + r * d[2] - pad[2];
                  if (zi < 0 || zi >= D || hi < 0 || hi >= H || wi < 0 || wi >= W) continue;
                  for (let c = 0; c < C; c++) {
                    acc +=
                      Number(x[(((b * D + zi) * H + hi) * W + wi) * C + c]) *
                      Number(k[(((p * KH + q) * KW + r) * C + c) * O + o]);
                  }
                }
            y[(((b * out[0] + i) * out[1] + j) * out[2] + l) * O + o] = acc;
          }
  return { data: y, shape: [B, ...out, O] };
}

/**
 * float64 transposed 3-D convolution (`'valid'`): each input voxel scatters `x[i, j, l, c]
 * W[p, q, r, o, c]` to output `(i s0 + p, j s1 + q, l s2 + r)`, output `L s + max(k - s, 0)`.
 */
function refConv3dT(
  x: ArrayLike<number>,
  xs: number[],
  k: ArrayLike<number>,
  ks: number[],
  s: Triple,
): { data: number[]; shape: number[] } {
  const [B, D, H, W, C] = xs as [number, number, number, number, number];
  const [KD, KH, KW, O] = ks as [number, number, number, number, number];
  const out = [D * s[0] + Math.max(KD - s[0], 0), H * s[1] + Math.max(KH - s[1], 0)];
  out.push(W * s[2] + Math.max(KW - s[2], 0));
  const [OD, OH, OW] = out as Triple;
  const y = new Array<number>(B * OD * OH * OW * O).fill(0);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < D; i++)
      for (let j = 0; j < H; j++)
        for (let l = 0; l < W; l++)
          for (let c = 0; c < C; c++) {
            const v = Number(x[(((b * D + i) * H + j) * W + l) * C + c]);
            for (let p = 0; p < KD; p++)
              for (let q = 0; q < KH; q++)
                for (let r = 0; r < KW; r++)
                  for (let o = 0; o < O; o++) {
                    const at =
                      (((b * OD + i * s[0] + p) * OH + j * s[1] + q) * OW + l * s[2] + r) * O;
                    y[at + o] =
                      y[at + o]! + v * Number(k[(((p * KH + q) * KW + r) * O + o) * C + c]);
                  }
          }
  return { data: y, shape: [B, OD, OH, OW, O] };
}

const volume = (shape: number[], phase: number): number[] =>
  Array.from(
    { length: shape.reduce((a, b) => a * b, 1) },
    (_, i) => Math.round((Math.sin(1.7 * i + phase) + 0.2) * 1024) / 1024,
  );

const triple = (v: number | number[]): Triple => (typeof v === 'number' ? [v, v, v] : v) as Triple;

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(Number(a[i]) - Number(b[i])));
  return m;
};

describe('Bayesian Conv3D', () => {
  it('mean mode is conv3d(x, mu) + mu_b (float64 loop and tfjs conv3d layer), any stride and dilation', () => {
    const configs = [
      { padding: 'same' as const, strides: 1, kernelSize: 3, dilationRate: 1 },
      { padding: 'valid' as const, strides: 1, kernelSize: [2, 3, 2], dilationRate: 1 },
      { padding: 'same' as const, strides: [1, 2, 2], kernelSize: 2, dilationRate: 1 },
      { padding: 'valid' as const, strides: 1, kernelSize: 2, dilationRate: [2, 1, 2] },
      // stride and dilation at once: tfjs's conv3d refuses this, the spread kernel does not
      { padding: 'same' as const, strides: 2, kernelSize: 2, dilationRate: 2 },
    ];
    const xs = [2, 4, 5, 5, 2];
    const xv = volume(xs, 0);
    const x = tf.tensor(xv, xs);
    for (const c of configs) {
      const l = new Conv3DReparam({ filters: 3, ...c });
      l.build([null, 4, 5, 5, 2]);
      setMode(l, 'mean');
      const [k, , b] = l.getWeights() as [tf.Tensor, tf.Tensor, tf.Tensor];
      expect(k.shape).toEqual([...triple(c.kernelSize), 2, 3]);
      const got = l.apply(x) as tf.Tensor;
      const ref = refConv3d(
        xv,
        xs,
        k.dataSync(),
        k.shape,
        triple(c.strides),
        triple(c.dilationRate),
        c.padding,
      );
      const bias = b.dataSync();
      const want = ref.data.map((v, i) => v + Number(bias[i % 3]));
      expect(got.shape, JSON.stringify(c)).toEqual(ref.shape);
      expect(l.computeOutputShape([null, 4, 5, 5, 2])).toEqual([null, ...ref.shape.slice(1)]);
      expect(maxAbsDiff(got.dataSync(), want), JSON.stringify(c)).toBeLessThan(2e-5);
      if (triple(c.strides).every((v) => v === 1) || triple(c.dilationRate).every((v) => v === 1)) {
        // tfjs's own layer with the posterior means
        const tl = tf.layers.conv3d({ filters: 3, ...c } as Parameters<typeof tf.layers.conv3d>[0]);
        tl.build([null, 4, 5, 5, 2]);
        tl.setWeights([k, b]);
        const want2 = tl.apply(x) as tf.Tensor;
        expect(maxAbsDiff(got.dataSync(), want2.dataSync())).toBeLessThan(2e-5);
        want2.dispose();
      }
      got.dispose();
    }
    x.dispose();
  });

  it.each([
    ['Conv3DReparam', Conv3DReparam],
    ['Conv3DLocalReparam', Conv3DLocalReparam],
    ['Conv3DFlipout', Conv3DFlipout],
  ] as const)('%s samples mean conv3d(x, mu) + mu_b, variance conv3d(x², σ²) + σ_b²', (_n, Cls) => {
    const layer = new Cls({
      filters: 2,
      kernelSize: 2,
      padding: 'same',
      posteriorRhoInitial: [-1, 0.5],
    });
    const xs = [1, 2, 3, 3, 2];
    layer.build([null, 2, 3, 3, 2]);
    const xv = volume(xs, 0.4);
    const [kMu, kRho, bMu, bRho] = layer.getWeights() as tf.Tensor[];
    const one: Triple = [1, 1, 1];
    const mean = refConv3d(xv, xs, kMu!.dataSync(), kMu!.shape, one, one, 'same');
    const kVar = Array.from(kRho!.dataSync(), (r) => softplus(r) ** 2);
    const variance = refConv3d(
      xv.map((v) => v * v),
      xs,
      kVar,
      kRho!.shape,
      one,
      one,
      'same',
    );
    const bm = bMu!.dataSync();
    const bv = Array.from(bRho!.dataSync(), (r) => softplus(r) ** 2);
    const S = 400;
    const x = tf.tensor(xv, xs);
    const draws = tf.tidy(() =>
      tf.concat(Array.from({ length: S }, () => layer.apply(x) as tf.Tensor)),
    );
    const m = tf.moments(draws, 0);
    const gotMean = m.mean.dataSync();
    const gotVar = m.variance.dataSync();
    expect(gotMean.length).toBe(2 * 3 * 3 * 2);
    for (let i = 0; i < gotMean.length; i++) {
      const mu = mean.data[i]! + Number(bm[i % 2]);
      const v = variance.data[i]! + bv[i % 2]!;
      expect(Math.abs(gotMean[i]! - mu), `mean ${i}`).toBeLessThan(4.5 * Math.sqrt(v / S));
      expect(Math.abs(gotVar[i]! / v - 1), `variance ${i}`).toBeLessThan(4.5 * Math.sqrt(2 / S));
    }
    tf.dispose([x, draws, m.mean, m.variance]);
    const z = tf.zeros([1, 2, 3, 3, 2]);
    expectNoLeak(() => layer.apply(z) as tf.Tensor);
    expectNoLeak(() => layer.kl());
    z.dispose();
  });

  it('gradients in mu, rho and the input match central finite differences (reparam, strides 2)', () => {
    const layer = new Conv3DReparam({
      filters: 2,
      kernelSize: 2,
      strides: 2,
      padding: 'same',
      posteriorRhoInitial: [-1.5, 0.3],
    });
    layer.build([null, 3, 4, 4, 2]);
    const xs = [1, 3, 4, 4, 2];
    const xv = volume(xs, 1.1);
    const target = tf.tensor(volume([1, 2, 2, 2, 2], 2.3), [1, 2, 2, 2, 2]);
    const loss = (x: tf.Tensor): tf.Scalar => {
      setSeed(77); // the same eps on every evaluation
      return tf.sum(tf.square(tf.sub(layer.apply(x) as tf.Tensor, target)));
    };
    const x0 = tf.tensor(xv, xs);
    // copies: getWeights gives the variables' own tensors, which setWeights overwrites
    const weights = layer.getWeights().map((t) => t.clone());
    const [kMu, kRho] = layer.trainableWeights as [tf.LayerVariable, tf.LayerVariable];
    const { grads } = tf.variableGrads(
      () => loss(x0),
      [kMu.read() as tf.Variable, kRho.read() as tf.Variable],
    );
    const dx = tf.grad((x: tf.Tensor) => loss(x))(x0);
    const fdWeight = (wi: number, idx: number): number => {
      const base = Array.from(weights[wi]!.dataSync());
      const f = ([v]: number[]): number => {
        const w = [...base];
        w[idx] = v!;
        const ws = weights.map((t, i) => (i === wi ? tf.tensor(w, t.shape) : t));
        layer.setWeights(ws);
        const l = tf.tidy(() => loss(x0).dataSync()[0]!);
        if (ws[wi] !== weights[wi]) ws[wi]!.dispose();
        return l;
      };
      const g = finiteDiff(f, [base[idx]!], 1e-2)[0]!;
      layer.setWeights(weights);
      return g;
    };
    const gMu = grads[(kMu.read() as tf.Variable).name]!.dataSync();
    const gRho = grads[(kRho.read() as tf.Variable).name]!.dataSync();
    for (const idx of [0, 13, 31]) {
      expect(gMu[idx]!).toBeCloseTo(fdWeight(0, idx), 2);
      expect(gRho[idx]!).toBeCloseTo(fdWeight(1, idx), 2);
    }
    // the input gradient (Conv3DBackpropInputV2, the kernel replaced on wasm)
    const dxv = dx.dataSync();
    for (const idx of [0, 17, 50, 95]) {
      const f = ([v]: number[]): number => {
        const w = [...xv];
        w[idx] = v!;
        return tf.tidy(() => loss(tf.tensor(w, xs)).dataSync()[0]!);
      };
      expect(dxv[idx]!).toBeCloseTo(finiteDiff(f, [xv[idx]!], 1e-2)[0]!, 2);
    }
    tf.dispose([target, x0, dx, ...weights, ...Object.values(grads)]);
  });

  it('kl() is the closed-form Normal KL (scalar prior and MOPED prior centred on given weights)', () => {
    const layer = new Conv3DFlipout({
      filters: 2,
      kernelSize: [1, 2, 2],
      priorMu: 0.05,
      priorSigma: 0.3,
      posteriorRhoInitial: [-2, 0.4],
    });
    layer.build([null, 2, 3, 3, 3]);
    const closed = (mu: number[], rho: number[], pm: (i: number) => number, ps: number): number =>
      mu.reduce((acc, m, i) => {
        const s = softplus(rho[i]!);
        return acc + Math.log(ps / s) + (s * s + (m - pm(i)) ** 2) / (2 * ps * ps) - 0.5;
      }, 0);
    const w = layer.getWeights().map((t) => Array.from(t.dataSync()));
    const want = closed(w[0]!, w[1]!, () => 0.05, 0.3) + closed(w[2]!, w[3]!, () => 0.05, 0.3);
    const [got] = expectNoLeak(() => layer.kl());
    expect(got!).toBeAllclose(want, { rtol: 1e-5 });

    const moped = new MopedConv3DReparam({ filters: 2, kernelSize: 2, priorSigma: 0.2 });
    moped.build([null, 2, 3, 3, 1]);
    const centre = tf.randomNormal([2, 2, 2, 1, 2], 0, 0.1, 'float32', 3);
    const bias = tf.tensor([0.1, -0.2]);
    moped.setPriorMean(centre, bias);
    const c = [...Array.from(centre.dataSync()), 0.1, -0.2];
    const mw = moped.getWeights().map((t) => Array.from(t.dataSync()));
    const wantMoped = closed([...mw[0]!, ...mw[2]!], [...mw[1]!, ...mw[3]!], (i) => c[i]!, 0.2);
    const [gotMoped] = expectNoLeak(() => moped.kl());
    expect(gotMoped!).toBeAllclose(wantMoped, { rtol: 1e-5 });
    tf.dispose([centre, bias]);
  });

  it('channels-first is the channels-last layer on transposed data (every estimator, same seed)', () => {
    for (const Cls of [Conv3DReparam, Conv3DLocalReparam, Conv3DFlipout]) {
      const args: Conv3DVariationalArgs = {
        filters: 3,
        kernelSize: [2, 2, 1],
        strides: [1, 2, 1],
        padding: 'same',
        activation: 'tanh',
      };
      const last = new Cls(args);
      const first = new Cls({ ...args, dataFormat: 'channelsFirst' });
      last.build([null, 3, 4, 5, 2]);
      first.build([null, 2, 3, 4, 5]);
      first.setWeights(last.getWeights());
      const x = tf.tensor(volume([2, 3, 4, 5, 2], 0.9), [2, 3, 4, 5, 2]);
      const xf = tf.transpose(x, [0, 4, 1, 2, 3]);
      setSeed(5);
      const a = last.apply(x) as tf.Tensor;
      setSeed(5);
      const b = first.apply(xf) as tf.Tensor;
      expect(b.shape).toEqual([2, 3, 3, 2, 5]);
      expect(first.computeOutputShape([null, 2, 3, 4, 5])).toEqual([null, 3, 3, 2, 5]);
      const bt = tf.transpose(b, [0, 2, 3, 4, 1]);
      expect(maxAbsDiff(a.dataSync(), bt.dataSync()), Cls.className).toBe(0);
      expect(first.getConfig().dataFormat).toBe('channelsFirst');
      tf.dispose([x, xf, a, b, bt]);
    }
  });

  it('a video classifier with Conv3D layers trains with model.fit, saves and loads', async () => {
    const model = tf.sequential({
      layers: [
        new Conv3DFlipout({
          filters: 3,
          kernelSize: [2, 3, 3],
          strides: [1, 2, 2],
          padding: 'same',
          activation: 'relu',
          inputShape: [3, 6, 6, 1],
        }),
        new Conv3DLocalReparam({ filters: 2, kernelSize: 2, dilationRate: [1, 2, 2] }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2 }),
      ],
    });
    expect(model.outputs[0]?.shape).toEqual([null, 2]);
    compileBayesian(model, {
      optimizer: tf.train.adam(0.03),
      loss: 'meanSquaredError',
      datasetSize: 16,
    });
    const x = tf.randomNormal([16, 3, 6, 6, 1], 0, 1, 'float32', 2);
    const y = tf.tidy(() => {
      const s = tf.reshape(tf.mean(x, [1, 2, 3, 4]), [16, 1]);
      return tf.concat([tf.sigmoid(tf.mul(s, 8)), tf.sigmoid(tf.mul(s, -8))], 1);
    });
    const h = await model.fit(x, y, { epochs: 12, batchSize: 8, verbose: 0 });
    const losses = h.history.loss as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    const kl = modelKL(model);
    expect(kl.dataSync()[0]).toBeGreaterThan(0);
    kl.dispose();
    const loaded = await saveAndLoad(model);
    setMode(model, 'mean');
    setMode(loaded, 'mean');
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBe(0);
    expect(loaded.layers.map((l) => l.getClassName()).slice(0, 2)).toEqual([
      'Conv3DFlipout',
      'Conv3DLocalReparam',
    ]);
    expect((loaded.layers[1] as Conv3DVariational).dilation).toEqual([1, 2, 2]);
    tf.dispose([x, y, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('bad arguments and inputs are refused naming them, before any work', async () => {
    const bad = (args: object) => () => new Conv3DReparam(args as Conv3DVariationalArgs);
    const cases = [
      { call: 'group', run: bad({ filters: 2, kernelSize: 2, group: 2 }), arg: 'group' },
      {
        call: 'numeric padding',
        run: bad({ filters: 2, kernelSize: 2, padding: 1 }),
        arg: 'padding',
      },
      {
        call: "padMode 'pad'",
        run: bad({ outChannels: 2, kernelSize: 2, padMode: 'pad' }),
        arg: 'padMode',
      },
      { call: 'kernelSize pair', run: bad({ filters: 2, kernelSize: [2, 2] }), arg: 'kernelSize' },
      { call: 'no kernelSize', run: bad({ filters: 2 }), arg: 'kernelSize' },
      { call: 'strides 0', run: bad({ filters: 2, kernelSize: 2, strides: 0 }), arg: 'strides' },
      {
        call: 'dilation 0',
        run: bad({ filters: 2, kernelSize: 2, dilationRate: [1, 0, 1] }),
        arg: 'dilationRate',
      },
      {
        call: 'dataFormat NCDHW',
        run: bad({ filters: 2, kernelSize: 2, dataFormat: 'NCDHW' }),
        arg: 'dataFormat',
      },
      { call: 'typo', run: bad({ filters: 2, kernelSize: 2, stides: 2 }), arg: 'stides' },
      {
        call: 'regularizer',
        run: bad({ filters: 2, kernelSize: 2, kernelRegularizer: 'l2' }),
        arg: 'kernelRegularizer',
      },
      {
        call: 'transposed dilation',
        run: () =>
          new Conv3DTransposeReparam({ filters: 2, kernelSize: 2, dilationRate: 2 } as never),
        arg: 'dilationRate',
      },
    ];
    for (const c of cases) await expectBadInput(c);
    const l = new Conv3DReparam({ filters: 2, kernelSize: 3 });
    l.build([null, 4, 4, 4, 2]);
    const rank4 = tf.zeros([1, 4, 4, 2]);
    const small = tf.zeros([1, 2, 4, 4, 2]);
    const wrongC = tf.zeros([1, 4, 4, 4, 3]);
    await expectBadInput({
      call: 'rank 4',
      run: () => l.apply(rank4),
      arg: 'inputs',
      message: /NDHWC/,
    });
    await expectBadInput({
      call: 'too small',
      run: () => l.apply(small),
      arg: 'inputs',
      message: /too small/,
    });
    await expectBadInput({ call: 'channels', run: () => l.apply(wrongC), arg: 'inputs' });
    tf.dispose([rank4, small, wrongC]);
  });
});

describe('Bayesian Conv3DTranspose', () => {
  it('mean mode is the transposed 3-D convolution (float64 scatter loop and tfjs layer)', () => {
    const xs = [2, 2, 3, 2, 2];
    const xv = volume(xs, 0.3);
    const x = tf.tensor(xv, xs);
    for (const strides of [1, 2, [1, 2, 1]] as const) {
      const l = new Conv3DTransposeReparam({
        filters: 3,
        kernelSize: [2, 3, 2],
        strides: strides as never,
      });
      l.build([null, 2, 3, 2, 2]);
      setMode(l, 'mean');
      const [k, , b] = l.getWeights() as [tf.Tensor, tf.Tensor, tf.Tensor];
      expect(k.shape).toEqual([2, 3, 2, 3, 2]);
      const got = l.apply(x) as tf.Tensor;
      const ref = refConv3dT(xv, xs, k.dataSync(), k.shape, triple(strides as never));
      const bias = b.dataSync();
      expect(got.shape).toEqual(ref.shape);
      expect(l.computeOutputShape([null, 2, 3, 2, 2])).toEqual([null, ...ref.shape.slice(1)]);
      const want = ref.data.map((v, i) => v + Number(bias[i % 3]));
      expect(maxAbsDiff(got.dataSync(), want), String(strides)).toBeLessThan(2e-5);
      const tl = tf.layers.conv3dTranspose({
        filters: 3,
        kernelSize: [2, 3, 2],
        strides: strides as never,
      });
      tl.build([null, 2, 3, 2, 2]);
      tl.setWeights([k, b]);
      const want2 = tl.apply(x) as tf.Tensor;
      expect(maxAbsDiff(got.dataSync(), want2.dataSync())).toBeLessThan(2e-5);
      tf.dispose([got, want2]);
    }
    x.dispose();
  });

  it('its own gradient (tfjs 4.22 has none) matches finite differences in x and W', async () => {
    const xs = [1, 2, 2, 3, 2];
    const xv = volume(xs, 0.7);
    const ws = [2, 2, 2, 3, 2];
    const wv = volume(ws, 1.9);
    const outShape: [number, number, number, number, number] = [1, 4, 4, 6, 3];
    const target = tf.tensor(volume(outShape, 0.2), outShape);
    const f = (x: tf.Tensor, w: tf.Tensor): tf.Scalar =>
      tf.sum(
        tf.square(
          tf.sub(
            conv3dTransposeWithGrad(
              x as tf.Tensor5D,
              w as tf.Tensor5D,
              outShape,
              [2, 2, 2],
              'same',
            ),
            target,
          ),
        ),
      );
    const x = tf.tensor(xv, xs);
    const w = tf.tensor(wv, ws);
    const [gx, gw] = tf.grads(f)([x, w]);
    const scalar = (xa: number[], wa: number[]): number =>
      tf.tidy(() => f(tf.tensor(xa, xs), tf.tensor(wa, ws)).dataSync()[0]!);
    for (const i of [0, 5, 23]) {
      const fd = finiteDiff(
        ([v]) =>
          scalar(
            xv.map((a, j) => (j === i ? v! : a)),
            wv,
          ),
        [xv[i]!],
        1e-2,
      );
      expect(gx!.dataSync()[i]!).toBeCloseTo(fd[0]!, 2);
    }
    for (const i of [0, 11, 47]) {
      const fd = finiteDiff(
        ([v]) =>
          scalar(
            xv,
            wv.map((a, j) => (j === i ? v! : a)),
          ),
        [wv[i]!],
        1e-2,
      );
      expect(gw!.dataSync()[i]!).toBeCloseTo(fd[0]!, 2);
    }
    const z = tf.zeros(xs);
    const zw = tf.zeros(ws);
    expectNoLeak(() => tf.grads(f)([z, zw]));
    const s2: Triple = [2, 2, 2];
    const z4 = tf.zeros([1, 2, 2, 2]);
    const badW = tf.zeros([2, 2, 2, 3, 5]) as tf.Tensor5D;
    await expectBadInput({
      call: 'rank-4 x',
      run: () => conv3dTransposeWithGrad(z4 as never, zw as tf.Tensor5D, outShape, s2, 'same'),
      arg: 'x',
    });
    await expectBadInput({
      call: 'kernel channels',
      run: () => conv3dTransposeWithGrad(z as tf.Tensor5D, badW, outShape, s2, 'same'),
      arg: 'w',
    });
    await expectBadInput({
      call: 'outShape channels',
      run: () =>
        conv3dTransposeWithGrad(z as tf.Tensor5D, zw as tf.Tensor5D, [1, 4, 4, 6, 2], s2, 'same'),
      arg: 'outShape',
    });
    tf.dispose([z4, badW]);
    tf.dispose([x, w, gx!, gw!, target, z, zw]);
  });

  it.each([
    ['Conv3DTransposeLocalReparam', Conv3DTransposeLocalReparam],
    ['Conv3DTransposeFlipout', Conv3DTransposeFlipout],
  ] as const)('%s samples mean convT(x, mu) + mu_b, variance convT(x², σ²) + σ_b²', (_n, Cls) => {
    const layer = new Cls({
      filters: 2,
      kernelSize: 2,
      strides: 2,
      posteriorRhoInitial: [-1, 0.5],
    });
    const xs = [1, 2, 1, 2, 2];
    layer.build([null, 2, 1, 2, 2]);
    const xv = volume(xs, 0.1);
    const [kMu, kRho, bMu, bRho] = layer.getWeights() as tf.Tensor[];
    const mean = refConv3dT(xv, xs, kMu!.dataSync(), kMu!.shape, [2, 2, 2]);
    const kVar = Array.from(kRho!.dataSync(), (r) => softplus(r) ** 2);
    const variance = refConv3dT(
      xv.map((v) => v * v),
      xs,
      kVar,
      kRho!.shape,
      [2, 2, 2],
    );
    const bm = bMu!.dataSync();
    const bv = Array.from(bRho!.dataSync(), (r) => softplus(r) ** 2);
    const S = 400;
    const x = tf.tensor(xv, xs);
    const draws = tf.tidy(() =>
      tf.concat(Array.from({ length: S }, () => layer.apply(x) as tf.Tensor)),
    );
    const m = tf.moments(draws, 0);
    const gotMean = m.mean.dataSync();
    const gotVar = m.variance.dataSync();
    expect(gotMean.length).toBe(4 * 2 * 4 * 2);
    for (let i = 0; i < gotMean.length; i++) {
      const mu = mean.data[i]! + Number(bm[i % 2]);
      const v = variance.data[i]! + bv[i % 2]!;
      expect(Math.abs(gotMean[i]! - mu)).toBeLessThan(4.5 * Math.sqrt(v / S));
      expect(Math.abs(gotVar[i]! / v - 1)).toBeLessThan(4.5 * Math.sqrt(2 / S));
    }
    tf.dispose([x, draws, m.mean, m.variance]);
  });
});

describe('wasm Conv3D gradient kernels', () => {
  it('are the cpu kernel on wasm (tfjs 4.22 computes them wrongly) and replaced once', () => {
    if (tf.getBackend() !== 'wasm') return;
    expect(replaceWrongKernels('wasm')).toEqual([]);
    // the filter gradient at stride 2 against a float64 loop of d/dW sum(conv3d(x, W) * g)
    const xs = [1, 4, 4, 4, 2];
    const xv = volume(xs, 0.5);
    const gs = [1, 2, 2, 2, 3];
    const gv = volume(gs, 1.5);
    const x = tf.tensor5d(xv, xs as [number, number, number, number, number]);
    const g = tf.tensor(gv, gs);
    const w0 = tf.zeros([2, 2, 2, 2, 3]);
    const dw = tf.grad((w: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv3d(x, w as tf.Tensor5D, 2, 'valid'), g)),
    )(w0);
    // d/dW[p,q,r,c,o] = sum_{i,j,l} x[2i+p, 2j+q, 2l+r, c] g[i, j, l, o]
    const want: number[] = [];
    for (let p = 0; p < 2; p++)
      for (let q = 0; q < 2; q++)
        for (let r = 0; r < 2; r++)
          for (let c = 0; c < 2; c++)
            for (let o = 0; o < 3; o++) {
              let acc = 0;
              for (let i = 0; i < 2; i++)
                for (let j = 0; j < 2; j++)
                  for (let l = 0; l < 2; l++) {
                    acc +=
                      xv[(((2 * i + p) * 4 + 2 * j + q) * 4 + 2 * l + r) * 2 + c]! *
                      gv[((i * 2 + j) * 2 + l) * 3 + o]!;
                  }
              want.push(acc);
            }
    expect(maxAbsDiff(dw.dataSync(), want)).toBeLessThan(1e-5);
    tf.dispose([x, g, w0, dw]);
  });
});
