/**
 * `centredPrior`: per-weight prior means `w0` (non-trainable, after the variational weights), the
 * KL against the float64 closed form `sum KL(N(mu, s^2) || N(w0, priorSigma^2))`, clear errors
 * when the flag is off or the shapes are wrong, and a save/load round trip of the prior means.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bayesianLayers,
  ConvFlipout,
  DenseLocalReparam,
  DenseReparam,
  scaleMixturePrior,
  type BayesianLayer,
} from '../../src/layers/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectArgumentError, expectNoLeak } from '../helpers.js';
import { fixedArray, softplus } from './reference.js';

beforeAll(() => setSeed(7));
afterAll(() => clearSeed());

function klNormal(m: number, s: number, pm: number, ps: number): number {
  return Math.log(ps / s) + (s * s + (m - pm) ** 2) / (2 * ps * ps) - 0.5;
}

/** float64 KL of a centred layer from its saved weights `[km, kr, (bm, br), kp, (bp)]`. */
function centredKlRef(layer: BayesianLayer, priorSigma: number): number {
  const w = layer.getWeights().map((t) => Array.from(t.dataSync()));
  const pairs: [number[], number[], number[]][] = layer.hasBias
    ? [
        [w[0]!, w[1]!, w[4]!],
        [w[2]!, w[3]!, w[5]!],
      ]
    : [[w[0]!, w[1]!, w[2]!]];
  let ref = 0;
  for (const [mu, rho, c] of pairs) {
    expect(c).toHaveLength(mu.length);
    mu.forEach((m, i) => (ref += klNormal(m, softplus(rho[i]!), c[i]!, priorSigma)));
  }
  return ref;
}

describe('centredPrior', () => {
  it('Dense: prior means after the variational weights, KL equals the closed form', () => {
    const layer = new DenseReparam({
      inChannels: 4,
      outChannels: 3,
      priorMu: 0.7, // unused by a centred prior
      priorSigma: 0.3,
      posteriorRhoInitial: [-1, 0.5],
      centredPrior: true,
    });
    tf.dispose(layer.apply(tf.zeros([1, 4])) as tf.Tensor);
    expect(layer.weights.map((v) => v.name.split('/').pop())).toEqual([
      'kernel_mu',
      'kernel_rho',
      'bias_mu',
      'bias_rho',
      'kernel_prior_mu',
      'bias_prior_mu',
    ]);
    expect(layer.trainableWeights).toHaveLength(4);
    // fresh prior means are zeros
    const z = layer.getPriorMean();
    expect(z.kernel).toBeAllclose(tf.zeros([4, 3]), { rtol: 0, atol: 0 });
    tf.dispose([z.kernel, z.bias] as tf.Tensor[]);
    const k0 = tf.tensor(fixedArray(12, 3), [4, 3]);
    const b0 = tf.tensor(fixedArray(3, 4), [3]);
    layer.setPriorMean(k0, b0);
    const c = layer.getPriorMean();
    expect(c.kernel).toBeAllclose(k0, { rtol: 0, atol: 0 });
    expect(c.bias).toBeAllclose(b0, { rtol: 0, atol: 0 });
    tf.dispose([c.kernel, c.bias, k0, b0] as tf.Tensor[]);
    const ref = centredKlRef(layer, 0.3);
    const [kl] = expectNoLeak(() => layer.kl());
    expect(kl).toBeAllclose(ref, { rtol: 1e-5 });
    // the centre matters: the scalar-prior KL (mean 0.7) of the same posterior differs
    const plain = new DenseReparam({
      inChannels: 4,
      outChannels: 3,
      priorMu: 0.7,
      priorSigma: 0.3,
    });
    tf.dispose(plain.apply(tf.zeros([1, 4])) as tf.Tensor);
    plain.setWeights(layer.getWeights().slice(0, 4));
    const other = tf.tidy(() => plain.kl().dataSync()[0] as number);
    expect(Math.abs(other - ref)).toBeGreaterThan(1e-2 * Math.abs(ref));
    // centred on the constant priorMu it is the scalar-prior KL
    layer.setPriorMean(tf.fill([4, 3], 0.7), tf.fill([3], 0.7));
    expect(tf.tidy(() => layer.kl().dataSync()[0] as number)).toBeAllclose(other, { rtol: 1e-5 });
    layer.dispose();
    plain.dispose();
  });

  it('Conv without bias: KL equals the closed form, gradient in mu matches (mu - w0) / sp^2', () => {
    const layer = new ConvFlipout({
      inChannels: 2,
      outChannels: 3,
      kernelSize: 2,
      priorSigma: 0.2,
      centredPrior: true,
    });
    tf.dispose(layer.apply(tf.zeros([1, 4, 4, 2])) as tf.Tensor);
    expect(layer.weights.map((v) => v.name.split('/').pop())).toEqual([
      'kernel_mu',
      'kernel_rho',
      'kernel_prior_mu',
    ]);
    const k0 = tf.tensor(fixedArray(24, 5), [2, 2, 2, 3]);
    layer.setPriorMean(k0, null);
    const [kl] = expectNoLeak(() => layer.kl());
    expect(kl).toBeAllclose(centredKlRef(layer, 0.2), { rtol: 1e-5 });
    // getWeights() returns the variables themselves: do not dispose them
    const [mu, rho] = layer.getWeights() as [tf.Variable, tf.Variable];
    const { value, grads } = tf.variableGrads(() => layer.kl());
    const grad = grads[mu.name]!;
    expect(grads[rho.name]).toBeDefined();
    const want = tf.tidy(() => tf.div(tf.sub(mu, k0), 0.04));
    expect(grad).toBeAllclose(want, { rtol: 1e-4, atol: 1e-5 });
    tf.dispose([k0, value, want, ...Object.values(grads)]);
    layer.dispose();
  });

  it('errors name centredPrior, prior, kernel, bias and layer', () => {
    const off = new DenseReparam({ inChannels: 2, outChannels: 2 });
    tf.dispose(off.apply(tf.zeros([1, 2])) as tf.Tensor);
    expect(off.centredPrior).toBe(false);
    expect(off.getConfig().centredPrior).toBe(false);
    expect(off.weights).toHaveLength(4);
    expectArgumentError(
      () => off.getPriorMean(),
      'centredPrior',
      /scalar prior: construct it with/,
    );
    expectArgumentError(
      () => off.setPriorMean(tf.zeros([2, 2])),
      'centredPrior',
      /centredPrior: true/,
    );
    off.dispose();
    expectArgumentError(
      () => new DenseReparam({ outChannels: 2, centredPrior: 'yes' as unknown as boolean }),
      'centredPrior',
      /expected true or false, got yes/,
    );
    expectArgumentError(
      () => new DenseReparam({ outChannels: 2, prior: scaleMixturePrior(), centredPrior: true }),
      'prior',
      /needs a Normal prior, got 'scaleMixture'/,
    );
    const unbuilt = new DenseReparam({ outChannels: 2, centredPrior: true });
    expectArgumentError(() => unbuilt.getPriorMean(), 'layer', /not built yet/);
    const l = new DenseReparam({ inChannels: 2, outChannels: 2, centredPrior: true });
    tf.dispose(l.apply(tf.zeros([1, 2])) as tf.Tensor);
    const [k23, k22, b3] = [tf.zeros([2, 3]), tf.zeros([2, 2]), tf.zeros([3])];
    const before = tf.memory().numTensors;
    expectArgumentError(() => l.setPriorMean(k23), 'kernel', /shape \[2, 2\], got \[2, 3\]/);
    expectArgumentError(() => l.setPriorMean(k22, b3), 'bias', /shape \[2\]/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([k23, k22, b3]);
    l.dispose();
    const nb = new DenseReparam({
      inChannels: 2,
      outChannels: 2,
      hasBias: false,
      centredPrior: true,
    });
    tf.dispose(nb.apply(tf.zeros([1, 2])) as tf.Tensor);
    expectArgumentError(
      () => nb.setPriorMean(tf.zeros([2, 2]), tf.zeros([2])),
      'bias',
      /has no bias/,
    );
    nb.dispose();
  });

  it('save/load keeps the flag, the prior means and the KL', async () => {
    const model = tf.sequential({
      layers: [
        new ConvFlipout({
          inChannels: 1,
          outChannels: 2,
          kernelSize: 3,
          hasBias: true,
          inputShape: [5, 5, 1],
          centredPrior: true,
          priorSigma: 0.5,
        }),
        tf.layers.flatten(),
        new DenseLocalReparam({ outChannels: 2, centredPrior: true }),
        new DenseReparam({ outChannels: 1 }),
      ],
    });
    const [conv, dense, plain] = bayesianLayers(model) as [
      BayesianLayer,
      BayesianLayer,
      BayesianLayer,
    ];
    tf.tidy(() => {
      conv.setPriorMean(tf.tensor(fixedArray(18, 11), [3, 3, 1, 2]), tf.tensor([0.3, -0.2]));
      dense.setPriorMean(tf.tensor(fixedArray(50 * 2, 12), [50, 2]), tf.tensor([1, -1]));
    });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (artifacts === undefined) throw new Error('nothing saved');
    const json = JSON.parse(
      JSON.stringify({
        modelTopology: artifacts.modelTopology,
        weightSpecs: artifacts.weightSpecs,
      }),
    ) as tf.io.ModelArtifacts;
    const back = await tf.loadLayersModel(
      tf.io.fromMemory({ ...json, weightData: artifacts.weightData }),
    );
    const b = bayesianLayers(back);
    expect(b.map((l) => l.centredPrior)).toEqual([true, true, false]);
    expect(b.map((l) => l.getConfig())).toEqual([conv, dense, plain].map((l) => l.getConfig()));
    [conv, dense].forEach((la, i) => {
      const lb = b[i]!;
      const [ca, cb] = [la.getPriorMean(), lb.getPriorMean()];
      expect(cb.kernel).toBeAllclose(ca.kernel, { rtol: 0, atol: 0 });
      expect(cb.bias).toBeAllclose(ca.bias as tf.Tensor, { rtol: 0, atol: 0 });
      const [ka, kb] = [la.kl(), lb.kl()];
      expect(kb).toBeAllclose(ka, { rtol: 0, atol: 0 });
      expect(kb).toBeAllclose(centredKlRef(lb, lb === b[0] ? 0.5 : 0.1), { rtol: 1e-5 });
      tf.dispose([ca.kernel, ca.bias, cb.kernel, cb.bias, ka, kb] as tf.Tensor[]);
    });
    expect(back.getWeights().length).toBe(model.getWeights().length);
    back.dispose();
    model.dispose();
  });
});
