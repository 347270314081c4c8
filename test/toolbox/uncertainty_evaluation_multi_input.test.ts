/**
 * UncertaintyEvaluation of functional models with several inputs (an "image" and "metadata"):
 * inputs as an array (`model.inputs` order) or a `{[inputName]: tensor}` map. References in float64
 * plain JS: the Bayesian twin's MC variance from its own posterior (`mu`, `softplus(rho)`) sampled
 * by hand, the closed-form variance of inverted dropout on the head's input, and the untrained
 * heteroscedastic copy (the model's own outputs, `log sigma^2 = 0`).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, toolbox } from '../../src/index.js';
import { bayesianLayers } from '../../src/layers/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectNoLeakAsync } from '../helpers.js';

const { UncertaintyEvaluation } = toolbox;

const init = (s: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.6, seed: s });

/** img [4] -> Dense(5, relu) -> concat with meta [2] -> Dense(k) (logits or means). */
function multiNet(k: number): tf.LayersModel {
  const img = tf.input({ shape: [4], name: 'img' });
  const meta = tf.input({ shape: [2], name: 'meta' });
  const h = tf.layers
    .dense({ units: 5, activation: 'relu', kernelInitializer: init(1), biasInitializer: init(2) })
    .apply(img) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate().apply([h, meta]) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: k, kernelInitializer: init(3), biasInitializer: init(4) })
    .apply(cat) as tf.SymbolicTensor;
  return tf.model({ inputs: [img, meta], outputs: out });
}

function data(n: number, seed: number): { img: number[][]; meta: number[][] } {
  const rng = makeRng(seed);
  const row = (d: number) => Array.from({ length: d }, () => 2 * rng() - 1);
  return {
    img: Array.from({ length: n }, () => row(4)),
    meta: Array.from({ length: n }, () => row(2)),
  };
}

const softplus = (v: number): number => Math.log1p(Math.exp(v));

/** `x W + b` in float64 (`W` row-major `[in, out]`). */
function affine(x: number[], w: ArrayLike<number>, b: ArrayLike<number>, out: number): number[] {
  return Array.from({ length: out }, (_, j) =>
    x.reduce((s, xi, i) => s + xi * w[i * out + j]!, b[j]!),
  );
}

describe('UncertaintyEvaluation of a model with several inputs', () => {
  it('epistemic (bnn): the MC variance of the Bayesian twin, sampled by hand from its posterior', async () => {
    const model = multiNet(3);
    const { img, meta } = data(3, 1);
    const xa = tf.tensor2d(img);
    const xb = tf.tensor2d(meta);
    const draws = 800;
    const ev = new UncertaintyEvaluation({
      model,
      taskType: 'classification',
      numClasses: 3,
      epistemicMethod: 'bnn',
      mcSamples: draws,
    });
    const twin = await ev.epistemicModel();
    expect(twin.inputs.length).toBe(2);
    const layers = bayesianLayers(twin);
    expect(layers.length).toBe(2);
    const post = layers.map((l) => {
      const get = (suffix: string): Float32Array => {
        const w = l.weights.find((v) => v.originalName.endsWith(suffix));
        return w?.read().dataSync() as Float32Array;
      };
      return {
        kMu: get('kernel_mu'),
        kSd: Array.from(get('kernel_rho'), softplus),
        bMu: get('bias_mu'),
        bSd: Array.from(get('bias_rho'), softplus),
      };
    });
    const epi = await expectNoLeakAsync(async () => {
      const v = await ev.evalEpistemicUncertainty({ img: xa, meta: xb });
      expect(v.shape).toEqual([3, 3]);
      const host = Array.from(v.dataSync());
      v.dispose();
      return host;
    });
    // by hand: S draws of every weight, w = mu + sigma eps, the forward pass in float64
    const rng = makeRng(77);
    const normal = (): number =>
      Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const sample = (mu: ArrayLike<number>, sd: number[]): number[] =>
      Array.from(mu, (m, i) => m + sd[i]! * normal());
    const s = 4000;
    const sum = new Float64Array(9);
    const sum2 = new Float64Array(9);
    const sum4 = new Float64Array(9);
    const outs: number[][] = [];
    for (let t = 0; t < s; t++) {
      const [l1, l2] = post as [(typeof post)[0], (typeof post)[0]];
      const w1 = sample(l1.kMu, l1.kSd);
      const b1 = sample(l1.bMu, l1.bSd);
      const w2 = sample(l2.kMu, l2.kSd);
      const b2 = sample(l2.bMu, l2.bSd);
      const row: number[] = [];
      img.forEach((xi, n) => {
        const h = affine(xi, w1, b1, 5).map((v) => Math.max(v, 0));
        row.push(...affine([...h, ...meta[n]!], w2, b2, 3));
      });
      outs.push(row);
      row.forEach((v, i) => {
        sum[i]! += v;
        sum2[i]! += v * v;
      });
    }
    const mean = Array.from(sum, (v) => v / s);
    const ref = Array.from(sum2, (v, i) => v / s - mean[i]! ** 2);
    for (const row of outs) row.forEach((v, i) => (sum4[i]! += (v - mean[i]!) ** 4));
    ref.forEach((r, i) => {
      // standard errors of the two variance estimates: sqrt((mu4 - sigma^4) / n)
      const m4 = sum4[i]! / s;
      const se = Math.sqrt((m4 - r * r) / s + (m4 - r * r) / draws);
      expect(r).toBeGreaterThan(0);
      expect(Math.abs(epi[i]! - r)).toBeLessThan(5 * se);
    });
    // the array form gives the same shape; the map and array forms read the same inputs
    const byArray = await ev.evalEpistemicUncertainty([xa, xb]);
    expect(byArray.shape).toEqual([3, 3]);
    byArray.dispose();
    ev.dispose();
    // fine-tuned on a map of inputs (ELBO, one epoch): the twin trains on both inputs
    const labels = tf.tensor1d([0, 1, 2], 'int32');
    const before = tf.memory().numTensors;
    const tuned = new UncertaintyEvaluation({
      model,
      taskType: 'classification',
      numClasses: 3,
      epistemicMethod: 'bnn',
      trainDataset: { x: { meta: xb, img: xa }, y: labels },
      mcSamples: 5,
      learningRate: 0.01,
    });
    const v = await tuned.evalEpistemicUncertainty([xa, xb]);
    expect(v.shape).toEqual([3, 3]);
    expect(Array.from(v.dataSync()).every((e) => Number.isFinite(e) && e >= 0)).toBe(true);
    v.dispose();
    tuned.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xa, xb, labels]);
    model.dispose();
  });

  it('epistemic (mc-dropout): dropout on the head input, against the closed-form variance', async () => {
    const model = multiNet(2);
    const { img, meta } = data(16, 2);
    const xa = tf.tensor2d(img);
    const xb = tf.tensor2d(meta);
    const y = tf.zeros([16, 2]);
    const rate = 0.3;
    const draws = 1500;
    const before = tf.memory().numTensors;
    const ev = new UncertaintyEvaluation({
      model,
      taskType: 'regression',
      trainDataset: { x: { img: xa, meta: xb }, y },
      dropoutRate: rate,
      learningRate: 1e-9, // the copy keeps the trained weights
      mcSamples: draws,
    });
    const m = await ev.epistemicModel();
    expect(m.layers.some((l) => l.getClassName() === 'Dropout')).toBe(true);
    const xs = [tf.slice(xa, [0], [3]), tf.slice(xb, [0], [3])];
    const epi = await expectNoLeakAsync(async () => {
      const v = await ev.evalEpistemicUncertainty(xs);
      const host = Array.from(v.dataSync());
      v.dispose();
      return host;
    });
    // Var[(h * m) W + b]_j = rate / (1 - rate) sum_i h_i^2 W_ij^2 (inverted dropout m)
    const [w1, b1, w2] = model.getWeights().map((w) => w.dataSync());
    for (let n = 0; n < 3; n++) {
      const h = [...affine(img[n]!, w1!, b1!, 5).map((v) => Math.max(v, 0)), ...meta[n]!];
      for (let j = 0; j < 2; j++) {
        const terms = h.map((hi, i) => (hi * w2![i * 2 + j]!) ** 2);
        const v = (rate / (1 - rate)) * terms.reduce((a, b) => a + b, 0);
        // the variance estimate's relative error ~ sqrt(2 / T) (a sum of few terms: 4x)
        expect(Math.abs(epi[n * 2 + j]! - v)).toBeLessThan(4 * v * Math.sqrt(2 / draws) * 2);
      }
    }
    ev.dispose();
    tf.dispose(xs);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xa, xb, y]);
    model.dispose();
  });

  it('aleatoric: the heteroscedastic copy of a multi-input classifier and regressor', async () => {
    for (const task of ['classification', 'regression'] as const) {
      const k = task === 'classification' ? 3 : 2;
      const model = multiNet(k);
      const { img, meta } = data(24, 3);
      const xa = tf.tensor2d(img);
      const xb = tf.tensor2d(meta);
      const y =
        task === 'classification'
          ? tf.tensor1d(
              img.map((_, i) => i % 3),
              'int32',
            )
          : tf.randomNormal([24, 2], 0, 1, 'float32', 5);
      const before = tf.memory().numTensors;
      // untrained (learning rate ~0): the copy computes the model's outputs and log sigma^2 = 0
      const still = new UncertaintyEvaluation({
        model,
        taskType: task,
        ...(task === 'classification' ? { numClasses: 3 } : {}),
        trainDataset: { x: [xa, xb], y },
        learningRate: 1e-9,
      });
      const ale0 = await still.evalAleatoricUncertainty({ meta: xb, img: xa });
      Array.from(ale0.dataSync()).forEach((v) => expect(v).toBeCloseTo(k, 4));
      const copy = await still.aleatoricModel();
      expect(copy.inputs.length).toBe(2);
      const [mean, logVar0] = copy.apply([xa, xb]) as tf.Tensor[];
      const want = model.predict([xa, xb]) as tf.Tensor;
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(mean as tf.Tensor, want))));
      expect(diff.dataSync()[0]).toBeLessThan(1e-4);
      tf.dispose([ale0, mean as tf.Tensor, logVar0 as tf.Tensor, want, diff]);
      still.dispose();
      // trained: the evaluation is the copy's sum_k exp(log sigma_k^2), from a batch source of maps
      const ev = new UncertaintyEvaluation({
        model,
        taskType: task,
        ...(task === 'classification' ? { numClasses: 3 } : {}),
        trainDataset: {
          *batches() {
            yield { x: { img: xa, meta: xb }, y };
          },
        },
        learningRate: 0.05,
        epochs: 3,
      });
      const m = await ev.aleatoricModel();
      const ale = await expectNoLeakAsync(async () => {
        const v = await ev.evalAleatoricUncertainty([xa, xb]);
        const host = Array.from(v.dataSync());
        v.dispose();
        return host;
      });
      const both = m.apply([xa, xb]) as tf.Tensor[];
      const lv = (both[1] as tf.Tensor).arraySync() as number[][];
      tf.dispose(both);
      lv.forEach((r, n) =>
        expect(ale[n]!).toBeCloseTo(
          r.reduce((a, v) => a + Math.exp(v), 0),
          4,
        ),
      );
      expect(Math.max(...ale.map((v) => Math.abs(v - k)))).toBeGreaterThan(1e-3); // it trained
      ev.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([xa, xb, y]);
      model.dispose();
    }
  });

  it('saves and reloads the auxiliary models of a multi-input model; a misfit is named', async () => {
    const model = multiNet(3);
    const { img, meta } = data(12, 4);
    const xa = tf.tensor2d(img);
    const xb = tf.tensor2d(meta);
    const y = tf.tensor1d(
      img.map((_, i) => i % 3),
      'int32',
    );
    const saved = new Map<string, tf.LayersModel>();
    const store = {
      save: async (m: tf.LayersModel, path: string): Promise<void> => {
        saved.set(path, await toolbox.cloneModel(m));
      },
      load: async (path: string): Promise<tf.LayersModel> =>
        toolbox.cloneModel(saved.get(path) as tf.LayersModel),
    };
    const paths = { epiUncerModelPath: 'mem://epi', aleUncerModelPath: 'mem://ale', store };
    const base = { model, taskType: 'classification' as const, numClasses: 3, ...paths };
    const writer = new UncertaintyEvaluation({
      ...base,
      trainDataset: { x: [xa, xb], y },
      saveModel: true,
      mcSamples: 4,
    });
    const ale1 = await writer.evalAleatoricUncertainty([xa, xb]);
    await writer.epistemicModel();
    writer.dispose();
    const reader = new UncertaintyEvaluation({ ...base, mcSamples: 4 });
    const ale2 = await reader.evalAleatoricUncertainty({ img: xa, meta: xb });
    Array.from(ale2.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(ale1.dataSync()[i]!, 5));
    const epi = await reader.evalEpistemicUncertainty([xa, xb]);
    expect(epi.shape).toEqual([12, 3]);
    tf.dispose([ale1, ale2, epi]);
    reader.dispose();
    // a loaded model with other inputs is refused, naming the path
    const other = multiNet(3);
    const otherImg = other.inputs[0] as tf.SymbolicTensor;
    const wrongInputs = tf.model({
      inputs: otherImg,
      outputs: tf.layers.dense({ units: 3 }).apply(otherImg) as tf.SymbolicTensor,
    });
    saved.set('mem://bad', wrongInputs);
    const bad = new UncertaintyEvaluation({ ...base, aleUncerModelPath: 'mem://bad' });
    await expect(bad.evalAleatoricUncertainty([xa, xb])).rejects.toThrow(
      /^aleUncerModelPath: the loaded model does not fit the given model: expected inputs \[N, 4\], \[N, 2\]/,
    );
    bad.dispose();
    for (const m of saved.values()) m.dispose();
    other.dispose();
    tf.dispose([xa, xb, y]);
    model.dispose();
  });

  it('refuses inputs that do not fit, naming the input, before any work', async () => {
    const model = multiNet(3);
    const xa = tf.zeros([3, 4]);
    const xb = tf.zeros([3, 2]);
    const wide = tf.zeros([3, 5]);
    const short = tf.zeros([2, 2]);
    const bad = tf.tensor2d([
      [0, NaN],
      [0, 0],
      [0, 0],
    ]);
    const labels = tf.tensor1d([0, 1, 2], 'int32');
    const twoLabels = tf.tensor1d([0, 1], 'int32');
    const ev = new UncertaintyEvaluation({
      model,
      taskType: 'classification',
      numClasses: 3,
      epistemicMethod: 'bnn',
    });
    const before = tf.memory().numTensors;
    const cases: [unknown, RegExp][] = [
      [xa, /^x: the model has 2 inputs: expected an array .*\('img' \[N, 4\], 'meta' \[N, 2\]\)/],
      [[xa], /^x: expected 2 input tensors, one per model input/],
      [[xa, wide], /^x\[1\] \(input 'meta'\): expected shape \[N, 2\] .*got \[3, 5\]/],
      [{ img: xa }, /^x\['meta'\]: missing: expected a tf.Tensor \[N, 2\]/],
      [{ img: xa, meta: xb, extra: xb }, /^x\['extra'\]: is not an input of the model/],
      [[xa, short], /^x\[1\] \(input 'meta'\): expected 3 rows/],
      [{ img: xa, meta: bad }, /^x\['meta'\]/],
      [[xa, 'meta'], /^x\[1\] \(input 'meta'\): expected a tf.Tensor/],
    ];
    for (const [x, msg] of cases) {
      const call = ev.evalEpistemicUncertainty(x as tf.Tensor);
      await expect(call).rejects.toThrow(msg);
      await expect(ev.evalAleatoricUncertainty(x as tf.Tensor)).rejects.toThrow(ArgumentError);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(
      () =>
        new UncertaintyEvaluation({
          model,
          taskType: 'classification',
          numClasses: 3,
          trainDataset: { x: { img: xa, meta: wide }, y: labels },
        }),
    ).toThrow(/^trainDataset\.x\['meta'\]: expected shape \[N, 2\]/);
    expect(
      () =>
        new UncertaintyEvaluation({
          model,
          taskType: 'classification',
          numClasses: 3,
          trainDataset: { x: [xa, xb], y: twoLabels },
        }),
    ).toThrow(/^trainDataset\.y: expected 3 labels/);
    const img = tf.input({ shape: [4] });
    const two = tf.model({
      inputs: img,
      outputs: [
        tf.layers.dense({ units: 3 }).apply(img) as tf.SymbolicTensor,
        tf.layers.dense({ units: 3 }).apply(img) as tf.SymbolicTensor,
      ],
    });
    expect(
      () => new UncertaintyEvaluation({ model: two, taskType: 'classification', numClasses: 3 }),
    ).toThrow(/^model: expected a model with one output .*got 2 outputs/);
    expect(
      () =>
        new UncertaintyEvaluation({
          model,
          taskType: 'classification',
          numClasses: 3,
          inputs: 2,
        } as unknown as ConstructorParameters<typeof UncertaintyEvaluation>[0]),
    ).toThrow(/inputs/);
    ev.dispose();
    two.dispose();
    model.dispose();
    tf.dispose([xa, xb, wide, short, bad, labels, twoLabels]);
  });
});
