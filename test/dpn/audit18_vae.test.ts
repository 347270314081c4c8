/**
 * Audit (round 18) of `dpn.VAE` / `dpn.ConditionalVAE` / `infer.ELBO` / `infer.SVI` as a user of
 * MindSpore's probability module and of Pyro's VAE tutorial: layer-stack encoders checked against
 * their first layer's declared input (rank, channels) and dtype before any work; SVI trained on a
 * single batch (a tensor or `{x, y}`, Keras's `fit(x, y)`); the MC ELBO of a linear-Gaussian VAE
 * against its closed form within 5 SE; a Pyro-style VAE (pyroModule networks, TraceELBO) whose
 * ELBO rises on a tiny binarized data set.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { distributions as D, dpn, infer, ppl, setSeed, clearSeed } from '../../src/index.js';
import { expectBadInput, expectNoLeak, saveAndLoad } from '../helpers.js';

afterAll(() => clearSeed());

/** Seeded Glorot initializers: the users' layers start the same on every run. */
let initSeed = 1800;
const init = (): ReturnType<typeof tf.initializers.glorotUniform> =>
  tf.initializers.glorotUniform({ seed: initSeed++ });

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

describe('layer-stack encoders: the batch is checked against the first layer before any work', () => {
  setSeed(181);
  // a conv encoder as a plain layer array (no tf.sequential): 8x8x1 images
  const vae = new dpn.VAE(
    [
      tf.layers.conv2d({
        kernelInitializer: init(),
        filters: 2,
        kernelSize: 3,
        inputShape: [8, 8, 1],
      }),
      tf.layers.flatten(),
      tf.layers.dense({ kernelInitializer: init(), units: 4 }),
    ],
    [
      tf.layers.dense({ kernelInitializer: init(), units: 64, activation: 'sigmoid' }),
      tf.layers.reshape({ targetShape: [8, 8, 1] }),
    ],
    4,
    2,
  );
  // a conv stack without inputShape: its Conv2D still declares rank 4 (and, once built, channels)
  const bare = new dpn.VAE(
    [
      tf.layers.conv2d({ kernelInitializer: init(), filters: 2, kernelSize: 3 }),
      tf.layers.flatten(),
      tf.layers.dense({ kernelInitializer: init(), units: 3 }),
    ],
    [
      tf.layers.dense({ kernelInitializer: init(), units: 36 }),
      tf.layers.reshape({ targetShape: [6, 6, 1] }),
    ],
    3,
    1,
  );
  // a one-input conditional encoder whose first layer declares the concatenated width 4 + 3
  const cvae = new dpn.ConditionalVAE(
    [tf.layers.dense({ kernelInitializer: init(), units: 3, inputShape: [7] })],
    [tf.layers.dense({ kernelInitializer: init(), units: 4 })],
    3,
    2,
    3,
  );
  // a nested model as the first element of a layer array
  const nested = new dpn.VAE(
    [
      tf.sequential({
        layers: [
          tf.layers.conv2d({
            kernelInitializer: init(),
            inputShape: [6, 6, 1],
            filters: 2,
            kernelSize: 3,
          }),
          tf.layers.flatten(),
        ],
      }),
      tf.layers.dense({ kernelInitializer: init(), units: 3 }),
    ],
    [
      tf.layers.dense({ kernelInitializer: init(), units: 36 }),
      tf.layers.reshape({ targetShape: [6, 6, 1] }),
    ],
    3,
    1,
  );
  const x = tf.randomUniform([3, 8, 8, 1]);
  const x6 = tf.randomUniform([2, 6, 6, 1]);
  const x4 = tf.randomUniform([2, 4]);
  const y = tf.tensor1d([0, 2], 'int32');
  afterAll(() => {
    tf.dispose([x, x6, x4, y]);
    vae.dispose();
    bare.dispose();
    cvae.dispose();
    nested.dispose();
  });

  it('well-shaped batches run (and build the layers); the outputs are shaped as x', () => {
    const r = vae.reconstructSample(x);
    expect(r.shape).toEqual([3, 8, 8, 1]);
    r.dispose();
    tf.dispose(nested.reconstructSample(x6)); // builds the array's dense layers
    expectNoLeak(() => nested.reconstructSample(x6));
    const b = bare.reconstructSample(x6);
    expect(b.shape).toEqual([2, 6, 6, 1]);
    b.dispose();
    const c = cvae.reconstructSample(x4, y);
    expect(c.shape).toEqual([2, 4]);
    c.dispose();
    // every call after the layers exist leaves no tensor behind
    expectNoLeak(() => vae.reconstructSample(x));
    expectNoLeak(() => vae.generateSample(2, [-1, 8, 8, 1]));
    expectNoLeak(() => cvae.reconstructSample(x4, y));
  });

  const withT = (make: () => tf.Tensor[], f: (...t: tf.Tensor[]) => unknown) => (): unknown => {
    const ts = make();
    try {
      return f(...ts);
    } finally {
      tf.dispose(ts);
    }
  };
  const cases = [
    {
      call: 'flattened images [n, 64] into a Conv2D stack (was a raw tfjs ValueError)',
      run: withT(
        () => [tf.zeros([3, 64])],
        (t) => vae.apply(t!),
      ),
      arg: 'x',
      message: /input shape \[n, 8, 8, 1\], got \[3, 64\]/,
    },
    {
      call: 'flattened images into a Conv2D stack without inputShape: its rank 4 is named',
      run: withT(
        () => [tf.zeros([2, 36])],
        (t) => bare.apply(t!),
      ),
      arg: 'x',
      message: /first layer takes \(rank 4\), got \[2, 36\]/,
    },
    {
      call: 'images without the channel axis [n, 8, 8] into reconstructSample',
      run: withT(
        () => [tf.zeros([3, 8, 8])],
        (t) => vae.reconstructSample(t!),
      ),
      arg: 'x',
      message: /\[n, 8, 8, 1\], got \[3, 8, 8\]/,
    },
    {
      call: 'a Conv2D stack built on one channel given three',
      run: withT(
        () => [tf.zeros([2, 6, 6, 3])],
        (t) => bare.reconstructSample(t!),
      ),
      arg: 'x',
      message: /size 1 on axis 3 \(the last, e.g. channels\)/,
    },
    {
      call: "images of another size than the first layer's inputShape",
      run: withT(
        () => [tf.zeros([2, 10, 10, 1])],
        (t) => vae.apply(t!),
      ),
      arg: 'x',
      message: /\[n, 8, 8, 1\]/,
    },
    {
      call: 'flattened images into a layer array whose first element is a nested tf.sequential',
      run: withT(
        () => [tf.zeros([2, 36])],
        (t) => nested.apply(t!),
      ),
      arg: 'x',
      message: /input shape \[n, 6, 6, 1\], got \[2, 36\]/,
    },
    {
      call: "int32 pixels (was \"Argument 'x' passed to 'conv2d' must be float32\")",
      run: withT(
        () => [tf.zeros([3, 8, 8, 1], 'int32')],
        (t) => vae.reconstructSample(t!),
      ),
      arg: 'x',
      message: /float32.*int32/,
    },
    {
      call: 'a conditional batch whose width plus the labels is not the declared 7',
      run: withT(
        () => [tf.zeros([2, 5]), tf.tensor1d([0, 1], 'int32')],
        (t, l) => cvae.apply(t!, l!),
      ),
      arg: 'x',
      message: /4 values per example/,
    },
  ];
  for (const c of cases) it(c.call, async () => expectBadInput(c));
});

describe('SVI on a single batch (Keras fit(x, y) style)', () => {
  it('run(tensor), run({x}), run({xs}) and runAsync(tensor): one step per epoch, the loss falls, the tensors stay the caller s', async () => {
    setSeed(182);
    const x = tf.tidy(() =>
      tf.cast(tf.greater(tf.randomUniform([8, 6], 0, 1, 'float32', 3), 0.5), 'float32'),
    );
    const vae = new dpn.VAE(
      [tf.layers.dense({ kernelInitializer: init(), units: 5, activation: 'tanh' })],
      [tf.layers.dense({ kernelInitializer: init(), units: 6, activation: 'sigmoid' })],
      5,
      2,
    );
    const svi = new infer.SVI({
      netWithLoss: new infer.WithLossCell(vae, new infer.ELBO({ outputPrior: 'Bernoulli' })),
      optimizer: tf.train.adam(0.05),
    });
    svi.run(x, 1); // builds the layers and Adam's slots
    const n0 = tf.memory().numTensors;
    svi.run(x, 30);
    svi.run({ x }, 10);
    svi.run({ xs: x }, 10);
    await svi.runAsync(x, 10);
    expect(tf.memory().numTensors).toBe(n0);
    expect(x.isDisposed).toBe(false);
    const h = svi.getHistory();
    expect(h).toHaveLength(61);
    expect(h.every((r) => r.examples === 8 && Number.isFinite(r.loss))).toBe(true);
    const mean = (rs: typeof h): number => rs.reduce((a, r) => a + r.loss, 0) / rs.length;
    expect(mean(h.slice(-10))).toBeLessThan(mean(h.slice(0, 10)) - 0.5);
    x.dispose();
    vae.dispose();
  });

  it('a ConditionalVAE on run({x, y}); a bad single batch is still named', () => {
    setSeed(183);
    const x = tf.randomUniform([6, 4]);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
    const cvae = new dpn.ConditionalVAE(
      [tf.layers.dense({ kernelInitializer: init(), units: 3 })],
      [tf.layers.dense({ kernelInitializer: init(), units: 4 })],
      3,
      2,
      3,
    );
    const svi = new infer.SVI({
      netWithLoss: new infer.WithLossCell(cvae, new infer.ELBO()),
      optimizer: tf.train.sgd(0.01),
    });
    svi.run({ x, y }, 2);
    expect(svi.getHistory()).toHaveLength(2);
    expect([x, y].some((t) => t.isDisposed)).toBe(false);
    const err = (() => {
      try {
        svi.run({ inputs: x, labels: y } as never, 1);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/^dataset: .*one batch.*keys \[inputs, labels\]/);
    tf.dispose([x, y]);
    cvae.dispose();
  });
});

describe('the MC ELBO of a linear-Gaussian VAE against its closed form', () => {
  it('E_q[-log N(x; A z + c, s^2)] + KL in float64, the MC mean within 5 SE; mean = sum / n; KL exact', () => {
    setSeed(184);
    const Dx = 3;
    const H = 3;
    const L = 2;
    const s = 0.7;
    // linear encoder and decoder: recon = dec(dense3(z)) is affine in z, so the expectation of
    // the Gaussian NLL has a closed form: ((x - A mu - c)^2 + sum_i A_id^2 std_i^2) / (2 s^2) + ...
    const enc = tf.sequential({
      layers: [tf.layers.dense({ kernelInitializer: init(), inputShape: [Dx], units: H })],
    });
    const dec = tf.sequential({
      layers: [tf.layers.dense({ kernelInitializer: init(), inputShape: [H], units: Dx })],
    });
    const vae = new dpn.VAE(enc, dec, H, L);
    const x = tf.tensor2d([
      [0.3, -1, 2],
      [1, 0.5, -0.2],
    ]);
    const [ek, eb, mk, mb, sk, sb, k3, b3, dk, db] = vae
      .trainableVariables()
      .map((v) => Array.from(v.dataSync())) as number[][];
    const lin = (v: number[], k: number[], b: number[]): number[] =>
      b.map((bj, j) => bj + v.reduce((a, vi, i) => a + vi * k[i * b.length + j]!, 0));
    let exact = 0;
    let klExact = 0;
    for (const xr of x.arraySync()) {
      const h = lin(xr, ek!, eb!);
      const mu = lin(h, mk!, mb!);
      const sd = lin(h, sk!, sb!).map((v) => Math.log1p(Math.exp(v)));
      const kl = mu.reduce((a, m, j) => a + (sd[j]! ** 2 + m * m - 1) / 2 - Math.log(sd[j]!), 0);
      const decode = (z: number[]): number[] => lin(lin(z, k3!, b3!), dk!, db!);
      const c = decode(new Array<number>(L).fill(0));
      const A = Array.from({ length: L }, (_, i) =>
        decode(Array.from({ length: L }, (_, j) => (i === j ? 1 : 0))).map((v, d) => v - c[d]!),
      );
      for (let d = 0; d < Dx; d++) {
        const mean = c[d]! + mu.reduce((a, m, i) => a + m * A[i]![d]!, 0);
        const spread = A.reduce((a, row, i) => a + row[d]! ** 2 * sd[i]! ** 2, 0);
        exact += ((xr[d]! - mean) ** 2 + spread) / (2 * s * s) + Math.log(s);
        exact += 0.5 * Math.log(2 * Math.PI);
      }
      exact += kl;
      klExact += kl;
    }
    const elbo = new infer.ELBO({ outputScale: s });
    const K = 1200;
    const vals: number[] = [];
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < K; i++) {
      vals.push(tf.tidy(() => elbo.call(vae.apply(x)).dataSync()[0] as number));
    }
    expect(tf.memory().numTensors).toBe(n0);
    const m = vals.reduce((a, b) => a + b) / K;
    const se = Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / (K - 1) / K);
    expect(se).toBeGreaterThan(0);
    expect(se).toBeLessThan(0.1 * Math.abs(exact));
    expect(Math.abs(m - exact)).toBeLessThan(5 * se);
    // the same draw under 'mean' is the 'sum' over the batch size; the KL term is exact
    const out = vae.apply(x);
    const sum = elbo.call(out);
    const mean = new infer.ELBO({ outputScale: s, reduction: 'mean' }).call(out);
    expect(mean.dataSync()[0]).toBeCloseTo((sum.dataSync()[0] as number) / 2, 4);
    const kl = infer.klStandardNormalSum(out.mu, out.std);
    expect(kl.dataSync()[0]).toBeCloseTo(klExact, 4);
    tf.dispose([out.reconX, out.mu, out.std, sum, mean, kl, x]);
    vae.dispose();
  });
});

describe('determinism under setSeed', () => {
  it('generateSample, reconstructSample and apply of a ConditionalVAE repeat under the same seed, differ under another', () => {
    setSeed(185);
    const cvae = new dpn.ConditionalVAE(
      [tf.layers.dense({ kernelInitializer: init(), units: 3, inputShape: [4] })],
      [tf.layers.dense({ kernelInitializer: init(), units: 2 })],
      3,
      2,
      2,
    );
    const x = tf.randomUniform([2, 2]);
    const y = tf.oneHot(tf.tensor1d([1, 0], 'int32'), 2);
    const draw = (seed: number): tf.Tensor[] => {
      setSeed(seed);
      const g = cvae.generateSample(1, 3, [-1, 2]);
      const r = cvae.reconstructSample(x, y);
      const o = cvae.apply(x, y);
      tf.dispose([o.mu, o.std]);
      return [g, r, o.reconX];
    };
    const a = draw(7);
    const b = draw(7);
    const c = draw(8);
    a.forEach((t, i) => expect(maxAbsDiff(t, b[i]!)).toBe(0));
    a.forEach((t, i) => expect(maxAbsDiff(t, c[i]!)).toBeGreaterThan(0));
    expect(a[0]!.shape).toEqual([3, 2]);
    tf.dispose([...a, ...b, ...c, x, y]);
    cvae.dispose();
  });
});

describe("Pyro's VAE tutorial with pyroModule networks", () => {
  it('TraceELBO on a tiny binarized data set: the ELBO rises; the networks hold the trained weights', () => {
    setSeed(186);
    ppl.clearParamStore();
    const N = 16;
    const Dx = 6;
    const Z = 2;
    const x = tf.tidy(() =>
      tf.cast(tf.greater(tf.randomUniform([N, Dx], 0, 1, 'float32', 4), 0.5), 'float32'),
    );
    const encNet = tf.sequential({
      layers: [tf.layers.dense({ kernelInitializer: init(), inputShape: [Dx], units: 2 * Z })],
    });
    const decNet = tf.sequential({
      layers: [
        tf.layers.dense({
          kernelInitializer: init(),
          inputShape: [Z],
          units: 8,
          activation: 'relu',
        }),
        tf.layers.dense({ kernelInitializer: init(), units: Dx }),
      ],
    });
    const model = (xb: tf.Tensor): void => {
      const decode = ppl.pyroModule('decoder', decNet);
      const n = xb.shape[0] as number;
      ppl.plate('data', n, () => {
        const z = ppl.sample('z', new D.Normal(tf.zeros([n, Z]), 1).toEvent(1));
        ppl.sample('x', new D.Bernoulli({ logits: decode(z) }).toEvent(1), { obs: xb });
      });
    };
    const guide = (xb: tf.Tensor): void => {
      const encode = ppl.pyroModule('encoder', encNet);
      ppl.plate('data', xb.shape[0] as number, () => {
        const [loc, logScale] = tf.split(encode(xb), 2, 1);
        ppl.sample('z', new D.Normal(loc!, tf.exp(logScale!)).toEvent(1));
      });
    };
    const before = decNet.getWeights().map((w) => w.clone());
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.03), new ppl.TraceELBO());
    const losses: number[] = [];
    for (let i = 0; i < 200; i++) losses.push(svi.step(x) as number);
    expect(losses.every(Number.isFinite)).toBe(true);
    const avg = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    // -ELBO: the average over the last 40 steps is well below that of the first 40
    expect(avg(losses.slice(-40))).toBeLessThan(avg(losses.slice(0, 40)) - 5);
    // the trained values live in the networks themselves (pyro.module)
    decNet.getWeights().forEach((w, i) => expect(maxAbsDiff(w, before[i]!)).toBeGreaterThan(0));
    tf.dispose([...before, x]);
    ppl.clearParamStore();
    encNet.dispose();
    decNet.dispose();
  });
});

describe('lifting a layer array that has not been built', () => {
  it("pyroModule / randomModule name net (was \"Argument 'b' passed to 'matMul' ... got null\"); once applied it lifts", async () => {
    setSeed(187);
    ppl.clearParamStore();
    const layers = [tf.layers.dense({ kernelInitializer: init(), units: 3 })];
    await expectBadInput({
      call: 'pyroModule of an unbuilt layer array',
      run: () => ppl.pyroModule('dec', layers),
      arg: 'net',
      message: /dense.* has not been built.*inputShape/,
    });
    await expectBadInput({
      call: 'randomModule of an unbuilt layer array',
      run: () => ppl.randomModule('dec', layers, () => new D.Normal(0, 1)),
      arg: 'net',
      message: /has not been built/,
    });
    await expectBadInput({
      call: 'pyroModule of an array holding a non-layer',
      run: () => ppl.pyroModule('dec', [{}] as never),
      arg: 'net',
      message: /array of tf.layers/,
    });
    const x = tf.ones([2, 4]);
    tf.tidy(() => {
      layers[0]!.apply(x); // builds the kernel [4, 3] and bias [3]
    });
    const own = tf.tidy(() => layers[0]!.apply(x) as tf.Tensor);
    const lifted = tf.tidy(() => ppl.pyroModule('dec', layers)(x));
    expect(maxAbsDiff(own, lifted)).toBeLessThan(1e-6);
    tf.dispose([own, lifted, x]);
    ppl.clearParamStore();
    layers[0]!.dispose();
  });
});

describe('ELBO.call checks the network output before any work', () => {
  const elbo = new infer.ELBO();
  const out = (std: number[][], mu?: number[][]) => (): unknown => {
    const o = {
      x: tf.tensor2d([[0, 1, 1]]),
      reconX: tf.tensor2d([[0.2, 0.5, 0.7]]),
      mu: tf.tensor2d(mu ?? std.map((r) => r.map(() => 0))),
      std: tf.tensor2d(std),
    };
    try {
      return elbo.call(o);
    } finally {
      tf.dispose([o.x, o.reconX, o.mu, o.std]);
    }
  };
  const cases = [
    {
      call: 'no output (was a TypeError reading x of undefined)',
      run: () => elbo.call(undefined as never),
      arg: 'out',
    },
    {
      call: 'an output without reconX',
      run: () => {
        const x = tf.zeros([1, 2]);
        try {
          return elbo.call({ x, mu: x, std: x } as never);
        } finally {
          x.dispose();
        }
      },
      arg: 'reconX',
    },
    { call: 'a negative std (was a NaN loss)', run: out([[-1, 1]]), arg: 'std', message: /-1/ },
    { call: 'a zero std (was an infinite loss)', run: out([[0.5, 0]]), arg: 'std' },
    {
      call: 'mu and std of different shapes (was named loc/scale)',
      run: out([[1, 1, 1]], [[0, 0]]),
      arg: 'std',
      message: /mu \[1, 2\] and std \[1, 3\]/,
    },
    {
      call: 'mu of another batch size than x',
      run: out(
        [
          [1, 1],
          [1, 1],
        ],
        [
          [0, 0],
          [0, 0],
        ],
      ),
      arg: 'std',
      message: /1 rows/,
    },
  ];
  for (const c of cases) it(c.call, async () => expectBadInput(c));
  it('a valid output still gives SSE + KL (float64 reference)', () => {
    const v = expectNoLeak(() => out([[0.5, 2]], [[0.3, -1]])() as tf.Tensor);
    const sse = 0.2 ** 2 + 0.5 ** 2 + 0.3 ** 2;
    const kl = (0.25 + 0.09 - 1) / 2 - Math.log(0.5) + (4 + 1 - 1) / 2 - Math.log(2);
    expect(v[0]).toBeCloseTo(sse + kl, 5);
  });
});

describe('a trained VAE saved and loaded (regression guard)', () => {
  it('encoder/decoder through tf.io and the heads through getWeights: the same reconstruction under one seed; training repeats under setSeed', async () => {
    const train = (): { vae: dpn.VAE; losses: number[] } => {
      setSeed(188);
      initSeed = 1880;
      const vae = new dpn.VAE(
        tf.sequential({
          layers: [
            tf.layers.dense({
              kernelInitializer: init(),
              inputShape: [4],
              units: 5,
              activation: 'relu',
            }),
          ],
        }),
        tf.sequential({
          layers: [
            tf.layers.dense({
              kernelInitializer: init(),
              inputShape: [5],
              units: 4,
              activation: 'sigmoid',
            }),
          ],
        }),
        5,
        2,
      );
      const svi = new infer.SVI({
        netWithLoss: new infer.WithLossCell(vae, new infer.ELBO({ outputPrior: 'Bernoulli' })),
        optimizer: tf.train.adam(0.05),
      });
      const x = tf.tensor2d([
        [0, 1, 1, 0],
        [1, 1, 0, 0],
      ]);
      svi.run(x, 5);
      x.dispose();
      return { vae, losses: svi.getHistory().map((h) => h.loss) };
    };
    const a = train();
    const b = train();
    expect(b.losses).toEqual(a.losses);
    b.vae.dispose();
    const enc = await saveAndLoad(a.vae.encoder as tf.LayersModel);
    const dec = await saveAndLoad(a.vae.decoder as tf.LayersModel);
    const restored = new dpn.VAE(enc, dec, 5, 2);
    const w = a.vae.getWeights();
    restored.setWeights(w);
    tf.dispose(w);
    const x = tf.tensor2d([[1, 0, 0, 1]]);
    setSeed(5);
    const r1 = a.vae.reconstructSample(x);
    setSeed(5);
    const r2 = restored.reconstructSample(x);
    expect(maxAbsDiff(r1, r2)).toBe(0);
    tf.dispose([r1, r2, x]);
    a.vae.dispose();
    restored.dispose();
  });
});

describe('an Embedding-first encoder takes integer token ids', () => {
  it('int32 ids into a model or a layer array with an Embedding first run; the same ids as float32 give the same output', () => {
    setSeed(189);
    const model = new dpn.VAE(
      tf.sequential({
        layers: [
          tf.layers.embedding({ inputDim: 5, outputDim: 2, inputLength: 3 }),
          tf.layers.flatten(),
          tf.layers.dense({ kernelInitializer: init(), units: 4 }),
        ],
      }),
      tf.sequential({
        layers: [tf.layers.dense({ kernelInitializer: init(), inputShape: [4], units: 3 })],
      }),
      4,
      2,
    );
    const array = new dpn.VAE(
      [
        tf.layers.embedding({ inputDim: 5, outputDim: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ kernelInitializer: init(), units: 4 }),
      ],
      [tf.layers.dense({ kernelInitializer: init(), units: 3 })],
      4,
      2,
    );
    const ids = tf.tensor2d(
      [
        [0, 1, 4],
        [2, 3, 3],
      ],
      [2, 3],
      'int32',
    );
    const fids = ids.toFloat();
    for (const vae of [model, array]) {
      tf.dispose(vae.reconstructSample(ids)); // builds a layer array
      setSeed(1);
      const a = expectNoLeak(() => vae.reconstructSample(ids));
      setSeed(1);
      const b = expectNoLeak(() => vae.reconstructSample(fids));
      expect(a).toHaveLength(6);
      expect(a).toEqual(b);
      vae.dispose();
    }
    tf.dispose([ids, fids]);
  });
});
