/**
 * Audit probes (session 17) as a user of kumar-shridhar/PyTorch-BayesianCNN (Shridhar et al.
 * 2019): `metrics.get_beta` with its names ('Blundell', 'Soenderby', 'Standard'), the ELBO
 * `nll * train_size + beta * kl`, BBB and BBB_LRT layers with the repository's `priors` dict
 * (prior_mu, prior_sigma, posterior_mu_initial, posterior_rho_initial), the layer KL
 * `0.5 * sum(2 log(sig_p / sig_q) - 1 + (sig_q / sig_p)^2 + ((mu_p - mu_q) / sig_p)^2)` against a
 * float64 sum, the BBB models on CIFAR-sized inputs, and `uncertainty_estimation.py`'s
 * aleatoric / epistemic split (softmax and normalized) against float64 loops.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { clearSeed, layers, models, setSeed, toolbox } from '../../src/index.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

afterAll(() => clearSeed());

const flat = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** BayesianCNN's `calculate_kl(mu_q, sig_q, mu_p, sig_p)` for one weight, float64. */
const klBcnn = (mq: number, sq: number, mp: number, sp: number): number =>
  0.5 * (2 * Math.log(sp / sq) - 1 + (sq / sp) ** 2 + ((mp - mq) / sp) ** 2);

describe('audit17: get_beta (BayesianCNN metrics.py) with the repository names', () => {
  it("'Blundell': 2^(M - (i+1)) / (2^M - 1) for M = 1..20, summing to 1 over the epoch", () => {
    for (let m = 1; m <= 20; m++) {
      let sum = 0;
      for (let i = 0; i < m; i++) {
        const b = layers.getBeta(i, m, 'Blundell');
        expect(b).toBeCloseTo(2 ** (m - (i + 1)) / (2 ** m - 1), 12);
        sum += b;
      }
      expect(sum).toBeCloseTo(1, 12);
    }
    // large M stays finite (the direct form overflows 2^M in float64 at M > 1023)
    expect(layers.getBeta(0, 2000, 'Blundell')).toBeCloseTo(0.5, 12);
  });

  it("'Standard' = 1/M and 'Soenderby' = min(epoch / (num_epochs // 4), 1)", () => {
    for (const m of [1, 7, 469]) expect(layers.getBeta(0, m, 'Standard')).toBeCloseTo(1 / m, 14);
    for (const numEpochs of [4, 10, 25, 200]) {
      for (const epoch of [0, 1, 3, 6, 49, 120]) {
        expect(layers.getBeta(2, 5, 'Soenderby', epoch, numEpochs)).toBeCloseTo(
          Math.min(epoch / Math.floor(numEpochs / 4), 1),
          12,
        );
      }
    }
  });

  it('a number is returned as given; names in any letter case; our names too', () => {
    expect(layers.getBeta(3, 10, 0.1)).toBe(0.1);
    expect(layers.getBeta(3, 10, 'blundell')).toBeCloseTo(layers.getBeta(3, 10, 'Blundell'), 15);
    expect(layers.getBeta(3, 10, 'STANDARD')).toBeCloseTo(0.1, 15);
    expect(layers.getBeta(3, 10, 'uniform')).toBeCloseTo(0.1, 15);
    expect(layers.getBeta(3, 10, 'constant')).toBe(1);
  });

  it("klSchedule / ELBOLoss take 'Blundell', 'Soenderby', 'Standard' as the repository spells them", () => {
    const ctx = { step: 1, numBatches: 4, epoch: 6, numEpochs: 20 };
    expect(layers.klSchedule('Blundell')(ctx)).toBeCloseTo(4 / 15, 12);
    expect(layers.klSchedule('Standard')(ctx)).toBeCloseTo(0.25, 12);
    expect(layers.klSchedule('Soenderby')(ctx)).toBeCloseTo(6 / 5, 0);
    expect(layers.klSchedule('Soenderby')(ctx)).toBe(1);
    expect(layers.parseKLWeight('Blundell')).toBe('blundell');
    const m = tf.sequential({
      layers: [layers.denseReparam({ units: 2, inputShape: [3] } as never)],
    });
    const cell = new layers.ELBOLoss(m, { datasetSize: 40, klWeight: 'Blundell' as never });
    expect(cell.klWeight(10, { step: 0, numBatches: 4 })).toBeCloseTo(8 / 15, 12);
    layers.disposeModel(m);
  });

  const bad: [string, () => unknown, string][] = [
    ['an unknown name (the reference returns 0)', () => layers.getBeta(0, 3, 'Linear'), 'klWeight'],
    ["'Soenderby' without the epoch", () => layers.getBeta(0, 3, 'Soenderby'), 'epoch'],
    ["'Soenderby' without num_epochs", () => layers.getBeta(0, 3, 'Soenderby', 2), 'numEpochs'],
    ['batch_idx = M', () => layers.getBeta(3, 3, 'Blundell'), 'step'],
    ['M = 0', () => layers.getBeta(0, 0, 'Standard'), 'numBatches'],
    ['a negative epoch', () => layers.getBeta(0, 3, 'Soenderby', -1, 8), 'epoch'],
    ['a negative weight', () => layers.getBeta(0, 3, -0.5), 'klWeight'],
  ];
  for (const [call, run, arg] of bad) {
    it(`get_beta refuses ${call}`, async () => {
      await expectBadInput({ call, run, arg });
    });
  }
});

describe('audit17: BBB / BBB_LRT layers with the repository priors dict', () => {
  const PRIORS = {
    priorMu: 0.05,
    priorSigma: 0.2,
    posteriorMuInitial: [0.1, 0.3],
    posteriorRhoInitial: [-4, 0.5],
  };
  const kinds = {
    'BBB Linear': () => layers.denseReparam({ units: 5, ...PRIORS } as never),
    'BBB_LRT Linear': () => layers.denseLocalReparam({ units: 5, ...PRIORS } as never),
    'BBB Conv2d': () => layers.convReparam({ filters: 4, kernelSize: 3, ...PRIORS } as never),
    'BBB_LRT Conv2d': () =>
      layers.convLocalReparam({ filters: 4, kernelSize: 3, ...PRIORS } as never),
  };
  for (const [name, make] of Object.entries(kinds)) {
    it(`${name}: kl() = BayesianCNN's calculate_kl summed over weight and bias (float64)`, () => {
      setSeed(17);
      const l = make();
      const conv = name.includes('Conv');
      tf.dispose(l.apply(conv ? tf.zeros([1, 6, 6, 2]) : tf.zeros([1, 7])) as tf.Tensor);
      const p = l.getPosterior();
      let ref = 0;
      const acc = (mu: tf.Tensor, sd: tf.Tensor): void => {
        const s = flat(sd);
        flat(mu).forEach((m, i) => (ref += klBcnn(m, s[i] as number, 0.05, 0.2)));
      };
      acc(p.kernelMu, p.kernelSigma);
      expect(p.biasMu).not.toBeNull();
      acc(p.biasMu!, p.biasSigma!);
      const [kl] = expectNoLeak(() => l.kl());
      expect(Math.abs((kl as number) - ref) / ref).toBeLessThan(1e-5);
      tf.dispose([p.kernelMu, p.kernelSigma, p.biasMu!, p.biasSigma!]);
      l.dispose();
    });
  }

  it('posterior_mu_initial (0.1, 0.3) and posterior_rho_initial (-4, 0.5): means and stds within 5 SE', () => {
    setSeed(5);
    const l = layers.denseReparam({ units: 200, ...PRIORS } as never);
    tf.dispose(l.apply(tf.zeros([1, 50])) as tf.Tensor);
    const p = l.getPosterior();
    const mu = flat(p.kernelMu);
    const rho = flat(p.kernelSigma).map((s) => s + Math.log(-Math.expm1(-s)));
    const stats = (a: number[]): [number, number] => {
      const m = a.reduce((x, y) => x + y, 0) / a.length;
      return [m, Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / (a.length - 1))];
    };
    const [mm, ms] = stats(mu);
    const [rm, rs] = stats(rho);
    const n = mu.length;
    expect(Math.abs(mm - 0.1)).toBeLessThan((5 * 0.3) / Math.sqrt(n));
    expect(Math.abs(ms - 0.3)).toBeLessThan(5 * 0.3 * Math.sqrt(1 / (2 * (n - 1))));
    expect(Math.abs(rm + 4)).toBeLessThan((5 * 0.5) / Math.sqrt(n));
    // rho's std read back through sigma = softplus(rho) in float32 (sigma ~ 0.018): 2% slack
    expect(Math.abs(rs - 0.5)).toBeLessThan(5 * 0.5 * Math.sqrt(1 / (2 * (n - 1))) + 0.01);
    tf.dispose([p.kernelMu, p.kernelSigma, p.biasMu!, p.biasSigma!]);
    l.dispose();
  });

  it('BBB_LRT: E[y] = x mu_W + mu_b and Var[y] = x^2 sig_W^2 (+ the bias draw) per example, 5 SE', () => {
    setSeed(23);
    const l = layers.denseLocalReparam({
      units: 1,
      inputShape: [3],
      useBias: false,
      posteriorMuInitial: [0.2, 0.5],
      posteriorRhoInitial: [-1, 0.2],
    } as never);
    const xv = [1.5, -0.5, 2];
    const xb = tf.tile(tf.tensor2d([xv]), [4000, 1]);
    const y = flat(l.apply(xb) as tf.Tensor);
    const p = l.getPosterior();
    const mu = flat(p.kernelMu);
    const sd = flat(p.kernelSigma);
    const mean = xv.reduce((a, x, i) => a + x * mu[i]!, 0);
    const v = xv.reduce((a, x, i) => a + x * x * sd[i]! ** 2, 0);
    const m = y.reduce((a, b) => a + b, 0) / y.length;
    const sv = y.reduce((a, b) => a + (b - m) ** 2, 0) / (y.length - 1);
    expect(Math.abs(m - mean)).toBeLessThan(5 * Math.sqrt(v / y.length));
    expect(Math.abs(sv - v)).toBeLessThan(5 * v * Math.sqrt(2 / (y.length - 1)));
    tf.dispose([xb, p.kernelMu, p.kernelSigma]);
    l.dispose();
  });

  it('d kl / d(mu, rho) = ((mu - mu_p) / sig_p^2, (sig / sig_p^2 - 1 / sig) * sigmoid(rho)) (float64)', () => {
    setSeed(2);
    const l = layers.denseReparam({ units: 3, ...PRIORS } as never);
    tf.dispose(l.apply(tf.zeros([1, 2])) as tf.Tensor);
    const { value, grads } = tf.variableGrads(() => l.kl());
    value.dispose();
    expect(l.trainableWeights).toHaveLength(4);
    expect(l.trainableWeights.filter((w) => w.name.toLowerCase().includes('rho'))).toHaveLength(2);
    for (const w of l.trainableWeights) {
      const isRho = w.name.toLowerCase().includes('rho');
      const variable = w.read() as tf.Variable;
      const v = flat(variable);
      const got = flat(grads[variable.name]!);
      v.forEach((x, i) => {
        let want: number;
        if (isRho) {
          const s = Math.log1p(Math.exp(x));
          want = (s / 0.04 - 1 / s) / (1 + Math.exp(-x));
        } else {
          want = (x - 0.05) / 0.04;
        }
        expect(Math.abs(got[i]! - want)).toBeLessThan(1e-3 * Math.max(1, Math.abs(want)));
      });
    }
    tf.dispose(Object.values(grads));
    l.dispose();
  });

  it('BBB_LRT Conv2d: each output pixel has mean conv(x, mu) and variance conv(x^2, sig^2) (5 SE)', () => {
    setSeed(29);
    const l = layers.convLocalReparam({
      filters: 1,
      kernelSize: 3,
      useBias: false,
      posteriorMuInitial: [0.1, 0.4],
      posteriorRhoInitial: [-1.5, 0.2],
    } as never);
    const xv = Array.from({ length: 9 }, (_, i) => ((i % 4) - 1.5) * 0.8);
    const xb = tf.tile(tf.tensor4d(xv, [1, 3, 3, 1]), [3000, 1, 1, 1]);
    const y = flat(l.apply(xb) as tf.Tensor);
    expect(y).toHaveLength(3000);
    const p = l.getPosterior();
    const mu = flat(p.kernelMu);
    const sd = flat(p.kernelSigma);
    const mean = xv.reduce((a, x, i) => a + x * mu[i]!, 0);
    const v = xv.reduce((a, x, i) => a + x * x * sd[i]! ** 2, 0);
    const m = y.reduce((a, b) => a + b, 0) / y.length;
    const sv = y.reduce((a, b) => a + (b - m) ** 2, 0) / (y.length - 1);
    expect(Math.abs(m - mean)).toBeLessThan(5 * Math.sqrt(v / y.length));
    expect(Math.abs(sv - v)).toBeLessThan(5 * v * Math.sqrt(2 / (y.length - 1)));
    tf.dispose([xb, p.kernelMu, p.kernelSigma]);
    l.dispose();
  });

  it("the repository's snake_case priors keys are refused with the camelCase name", async () => {
    await expectBadInput({
      call: 'lenet5 priors {prior_mu}',
      run: () => models.lenet5({ bayesian: 'reparam', priors: { prior_mu: 0 } as never }),
      arg: 'prior_mu',
      message: /did you mean priorMu/,
    });
    await expectBadInput({
      call: 'posterior_rho_initial of one number',
      run: () => layers.denseReparam({ units: 2, posteriorRhoInitial: [-3] } as never),
      arg: 'posteriorRhoInitial',
    });
    await expectBadInput({
      call: 'prior_sigma 0',
      run: () => layers.denseReparam({ units: 2, priorSigma: 0 } as never),
      arg: 'priorSigma',
    });
  });
});

describe("audit17: the ELBO in BayesianCNN's scale, nll * train_size + beta * kl", () => {
  it('ELBOLoss.compute * N = NLL_mean * N + get_beta(...) * sum of layer KLs, each beta type', () => {
    setSeed(31);
    const m = tf.sequential({
      layers: [
        layers.denseLocalReparam({ units: 4, inputShape: [3], activation: 'softplus' } as never),
        layers.denseReparam({ units: 3 } as never),
      ],
    });
    layers.setMode(m, 'mean');
    const x = tf.randomNormal([5, 3]);
    const y = tf.tensor1d([0, 2, 1, 1, 0], 'int32');
    const N = 60;
    const klSum = m.layers.reduce((acc, l) => {
      const k = (l as layers.BayesianLayer).kl();
      const v = k.dataSync()[0] as number;
      k.dispose();
      return acc + v;
    }, 0);
    for (const [betaType, epoch] of [
      ['Blundell', 0],
      ['Standard', 0],
      ['Soenderby', 3],
      [0.3, 0],
    ] as const) {
      const cell = new layers.ELBOLoss(m, {
        datasetSize: N,
        klWeight: betaType as never,
        numEpochs: 12,
      });
      const ctx = { step: 2, epoch, numBatches: 12 };
      const [loss, nll, kl] = expectNoLeak(() =>
        tf.tidy(() => {
          const t = cell.compute(x, y, ctx);
          return tf.stack([t.loss, t.nll, t.kl]);
        }),
      ) as [number, number, number];
      const beta = layers.getBeta(2, 12, betaType, epoch, 12);
      expect(kl).toBeCloseTo(klSum, 2);
      expect(loss * N).toBeCloseTo(nll * N + beta * klSum, 1);
    }
    tf.dispose([x, y]);
    layers.disposeModel(m);
  });
});

describe('audit17: BBB models of the repository (LeNet, AlexNet, 3Conv3FC) on CIFAR-sized inputs', () => {
  const zoo = {
    lenet: (o: object) => models.lenet5(o as never),
    alexnet: (o: object) => models.alexnet(o as never),
    '3conv3fc': (o: object) => models.threeConvThreeFC(o as never),
  };
  const BAYES_LAYERS = { lenet: 5, alexnet: 6, '3conv3fc': 6 };
  for (const [name, make] of Object.entries(zoo)) {
    for (const [shape, classes] of [
      [[32, 32, 3], 10],
      [[32, 32, 1], 100],
      [[48, 40, 3], 7],
    ] as [[number, number, number], number][]) {
      for (const bayesian of ['reparam', 'local'] as const) {
        it(`${name} ${bayesian === 'local' ? 'BBB_LRT' : 'BBB'} on ${shape.join('x')}: logits [B, ${classes}], a KL per Bayesian layer`, () => {
          setSeed(1);
          const before = tf.memory().numTensors;
          const m = make({ inputShape: shape, numClasses: classes, bayesian });
          const x = tf.zeros([2, ...shape]);
          const out = m.predict(x) as tf.Tensor;
          expect(out.shape).toEqual([2, classes]);
          expect(flat(out).every(Number.isFinite)).toBe(true);
          const bl = m.layers.filter((l) => layers.isBayesianLayer(l));
          expect(bl).toHaveLength(BAYES_LAYERS[name as keyof typeof BAYES_LAYERS]);
          const [kl] = expectNoLeak(() => layers.modelKL(m));
          expect(kl as number).toBeGreaterThan(0);
          tf.dispose([x, out]);
          layers.disposeModel(m);
          expect(tf.memory().numTensors).toBe(before);
        });
      }
    }
  }

  it("BBBLeNet (convBias: true, softplus) has the repository's weights: conv biases, 5x5x16 = 400 into fc1", async () => {
    // PyTorch: conv1 3*6*25 + 6, conv2 6*16*25 + 16, fc 400*120 + 120, 120*84 + 84, 84*10 + 10
    const torchCount =
      3 * 6 * 25 + 6 + 6 * 16 * 25 + 16 + 400 * 120 + 120 + 120 * 84 + 84 + 84 * 10 + 10;
    const plain = models.lenet5({
      inputShape: [32, 32, 3],
      activation: 'softplus',
      convBias: true,
    });
    expect(plain.countParams()).toBe(torchCount);
    layers.disposeModel(plain);
    const m = models.lenet5({
      inputShape: [32, 32, 3],
      activation: 'softplus',
      convBias: true,
      bayesian: 'local',
    });
    // mu and rho for every weight
    expect(m.countParams()).toBe(2 * torchCount);
    const conv1 = m.layers.find((l) => l.name.includes('conv1')) as layers.BayesianLayer;
    const p = conv1.getPosterior();
    expect(p.biasMu).not.toBeNull();
    expect(p.biasMu!.shape).toEqual([6]);
    tf.dispose([p.kernelMu, p.kernelSigma, p.biasMu!, p.biasSigma!]);
    layers.disposeModel(m);
    // the MindSpore default keeps its bias-free convolutions
    const ms = models.lenet5({ inputShape: [32, 32, 3] });
    expect(ms.countParams()).toBe(torchCount - 22);
    layers.disposeModel(ms);
    await expectBadInput({
      call: 'convBias 1',
      run: () => models.lenet5({ convBias: 1 as never }),
      arg: 'convBias',
    });
  });

  it('BBB3Conv3FC at 32x32x3: flatten gives 2x2x128 = 512 features into fc1 (as the repository)', () => {
    const m = models.threeConvThreeFC({ inputShape: [32, 32, 3], bayesian: 'reparam' });
    const fc1 = m.layers.find((l) => l.name.includes('fc1'));
    expect(fc1).toBeDefined();
    const [kernelMu] = fc1!.getWeights();
    expect(kernelMu!.shape).toEqual([512, 1000]);
    layers.disposeModel(m);
  });

  it('AlexNet at 28x28 is refused naming inputShape (the repository needs 32x32)', async () => {
    await expectBadInput({
      call: 'alexnet 28x28',
      run: () => models.alexnet({ inputShape: [28, 28, 1], bayesian: 'local' }),
      arg: 'inputShape',
    });
  });
});

describe('audit17: uncertainty_estimation.py (Kwon et al. 2018) per image, float64', () => {
  /** BayesianCNN's get_uncertainty_per_image on T sampled outputs [T, K] of one image. */
  function perImage(out: number[][], normalized: boolean): [number[], number[]] {
    const T = out.length;
    const K = out[0]!.length;
    const p = out.map((o) => {
      if (normalized) {
        const sp = o.map((v) => Math.log1p(Math.exp(v)));
        const s = sp.reduce((a, b) => a + b, 0);
        return sp.map((v) => v / s);
      }
      const mx = Math.max(...o);
      const e = o.map((v) => Math.exp(v - mx));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    });
    const pbar = Array.from({ length: K }, (_, k) => p.reduce((a, r) => a + r[k]!, 0) / T);
    // epistemic = diag((p - pbar)^T (p - pbar) / T), aleatoric = diag(diag(pbar) - p^T p / T)
    const epi = pbar.map((pb, k) => p.reduce((a, r) => a + (r[k]! - pb) ** 2, 0) / T);
    const ale = pbar.map((pb, k) => pb - p.reduce((a, r) => a + r[k]! ** 2, 0) / T);
    return [ale, epi];
  }

  for (const normalized of [false, true]) {
    it(`${normalized ? 'normalized (softplus)' : 'softmax'} method, T = 15, 3 images, K = 10`, () => {
      const r = (() => {
        let s = 42;
        return () => {
          s = (s * 1103515245 + 12345) % 2147483648;
          return s / 2147483648;
        };
      })();
      const T = 15;
      const N = 3;
      const K = 10;
      const outs = Array.from({ length: T }, () =>
        Array.from({ length: N }, () => Array.from({ length: K }, () => 6 * r() - 3)),
      );
      const before = tf.memory().numTensors;
      const res = normalized
        ? toolbox.normalizedUncertainty(outs)
        : toolbox.softmaxUncertainty(outs);
      const ale = res.aleatoric.arraySync();
      const epi = res.epistemic.arraySync();
      const at = flat(res.aleatoricTotal);
      const et = flat(res.epistemicTotal);
      Object.values(res).forEach((t) => t.dispose());
      expect(tf.memory().numTensors).toBe(before);
      for (let i = 0; i < N; i++) {
        const [a64, e64] = perImage(
          outs.map((o) => o[i]!),
          normalized,
        );
        for (let k = 0; k < K; k++) {
          expect(ale[i]![k]).toBeCloseTo(a64[k]!, 5);
          expect(epi[i]![k]).toBeCloseTo(e64[k]!, 5);
        }
        expect(at[i]).toBeCloseTo(
          a64.reduce((a, b) => a + b, 0),
          5,
        );
        expect(et[i]).toBeCloseTo(
          e64.reduce((a, b) => a + b, 0),
          5,
        );
      }
    });
  }
});
