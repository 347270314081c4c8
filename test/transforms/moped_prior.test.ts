/**
 * MOPED-style priors centred on the DNN weights: the KL against a float64 closed form, a zero KL
 * gradient at the centre, class mapping, errors, and a save/load round trip of the prior means.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BayesianLayer, bayesianLayers, scaleMixturePrior } from '../../src/layers/index.js';
import {
  isCentredPriorLayer,
  transformToBnn,
  TransformToBNN,
  type CentredPriorLayer,
} from '../../src/transforms/index.js';
import { lenetNet } from './nets.js';

/** float64 `sum KL(N(mu, s^2) || N(m, sp^2))`. */
function klRef(mu: Float32Array, s: Float32Array, m: Float32Array, sp: number): number {
  let kl = 0;
  for (let i = 0; i < mu.length; i++) {
    const si = s[i] as number;
    const d = (mu[i] as number) - (m[i] as number);
    kl += Math.log(sp / si) + (si * si + d * d) / (2 * sp * sp) - 0.5;
  }
  return kl;
}

function layerKlRef(l: BayesianLayer): number {
  if (!isCentredPriorLayer(l) || l.prior.type !== 'normal') throw new Error('not centred');
  const p = l.getPosterior();
  const c = (l as CentredPriorLayer).getPriorMean();
  const f = (t: tf.Tensor | null) =>
    t === null ? new Float32Array(0) : (t.dataSync() as Float32Array);
  const kl =
    klRef(f(p.kernelMu), f(p.kernelSigma), f(c.kernel), l.prior.sigma) +
    klRef(f(p.biasMu), f(p.biasSigma), f(c.bias), l.prior.sigma);
  tf.dispose([p.kernelMu, p.kernelSigma, p.biasMu, p.biasSigma, c.kernel, c.bias] as tf.Tensor[]);
  return kl;
}

describe('MOPED prior centred on the DNN weights', () => {
  it('prior means = DNN weights; KL matches the float64 closed form (also off-centre)', async () => {
    const dnn = lenetNet();
    const { model, loss, summary, converted } = await transformToBnn(dnn, {
      mopedPrior: true,
      moped: 0.1,
      addDenseArgs: { priorSigma: 0.05 },
    });
    expect(converted.map((c) => c.to)).toEqual([
      'MopedConvReparam',
      'MopedConvReparam',
      'MopedDenseReparam',
      'MopedDenseReparam',
      'MopedDenseReparam',
    ]);
    expect(summary()).toMatch(/mean = DNN weights \(MOPED\), standard deviation = 0.05/);
    const layers = bayesianLayers(model);
    for (const l of layers) {
      const c = (l as CentredPriorLayer).getPriorMean();
      const [w, b] = dnn.getLayer(l.name).getWeights();
      expect(c.kernel).toBeAllclose(w as tf.Tensor, { rtol: 0, atol: 0 });
      if (b !== undefined) expect(c.bias).toBeAllclose(b, { rtol: 0, atol: 0 });
      tf.dispose([c.kernel, c.bias] as tf.Tensor[]);
      // Prior weights are not trainable.
      expect(l.trainableWeights.map((v) => v.name).some((n) => n.includes('prior'))).toBe(false);
    }
    const ref0 = layers.reduce((a, l) => a + layerKlRef(l), 0);
    const kl0 = loss.kl();
    expect(kl0).toBeAllclose(ref0, { rtol: 1e-4 });
    kl0.dispose();
    // Move the posterior means off the centre: the (mu - m)^2 term.
    const fc1 = model.getLayer('fc1') as BayesianLayer;
    tf.tidy(() => {
      const w = dnn.getLayer('fc1').getWeights()[0] as tf.Tensor;
      fc1.setPosterior({ kernelMu: tf.add(w, tf.randomNormal(w.shape, 0, 0.03)) });
    });
    const ref1 = layers.reduce((a, l) => a + layerKlRef(l), 0);
    expect(ref1).toBeGreaterThan(ref0 + 1);
    const kl1 = loss.kl();
    expect(kl1).toBeAllclose(ref1, { rtol: 1e-4 });
    kl1.dispose();
    model.dispose();
    dnn.dispose();
  });

  it('the KL gradient in mu vanishes at the DNN weights (and does not for a zero-mean prior)', async () => {
    const dnn = lenetNet();
    const grads = async (mopedPrior: boolean): Promise<number> => {
      const { model } = await transformToBnn(dnn, { mopedPrior, layers: 'dense' });
      const fc2 = model.getLayer('fc2') as BayesianLayer;
      const mu = fc2.trainableWeights[0]?.read() as tf.Variable;
      const { grads: g, value } = tf.variableGrads(() => fc2.kl(), [mu]);
      const m = tf.tidy(() => tf.max(tf.abs(g[mu.name] as tf.Tensor)).dataSync()[0] as number);
      tf.dispose([value, ...Object.values(g)]);
      model.dispose();
      return m;
    };
    expect(await grads(true)).toBeLessThan(1e-6);
    expect(await grads(false)).toBeGreaterThan(1e-3);
    dnn.dispose();
  });

  it('transformToBnnLayer maps to the MOPED twin; fresh init keeps the centre', async () => {
    const dnn = lenetNet();
    const t = new TransformToBNN(dnn, { mopedPrior: true, init: 'fresh', estimator: 'flipout' });
    const { model, converted } = await t.transformToBnnLayer('Dense', 'DenseFlipout');
    expect(converted.map((c) => c.to)).toEqual(Array(3).fill('MopedDenseFlipout'));
    expect(model.getLayer('conv1').getClassName()).toBe('Conv2D');
    const l = model.getLayer('fc3') as CentredPriorLayer;
    const c = l.getPriorMean();
    expect(c.kernel).toBeAllclose(dnn.getLayer('fc3').getWeights()[0] as tf.Tensor, {
      rtol: 0,
      atol: 0,
    });
    tf.dispose([c.kernel, c.bias] as tf.Tensor[]);
    model.dispose();
    const b = await new TransformToBNN(dnn).transformToBnnLayer('Conv2D', 'MopedConvLocalReparam');
    expect(b.model.getLayer('conv2').getClassName()).toBe('MopedConvLocalReparam');
    b.model.dispose();
    dnn.dispose();
  });

  it('a scale-mixture prior cannot be centred (error naming prior)', async () => {
    const dnn = lenetNet();
    await expect(
      transformToBnn(dnn, {
        mopedPrior: true,
        layers: 'dense',
        addDenseArgs: { prior: scaleMixturePrior() },
      }),
    ).rejects.toThrow(
      /^prior: layer 'fc1': a prior centred on the DNN weights \(MOPED\) needs a Normal prior/,
    );
    dnn.dispose();
  });

  it('prior means survive save/load', async () => {
    const dnn = lenetNet();
    const { model, loss } = await transformToBnn(dnn, { mopedPrior: true, estimator: 'local' });
    let art: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        art = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const back = await tf.loadLayersModel(tf.io.fromMemory(art as tf.io.ModelArtifacts));
    expect(back.getLayer('fc1').getClassName()).toBe('MopedDenseLocalReparam');
    const c = (back.getLayer('fc1') as CentredPriorLayer).getPriorMean();
    expect(c.kernel).toBeAllclose(dnn.getLayer('fc1').getWeights()[0] as tf.Tensor, {
      rtol: 0,
      atol: 0,
    });
    const [k1, k2] = [loss.kl(), tf.addN(bayesianLayers(back).map((l) => l.kl()))];
    expect(k2).toBeAllclose(k1, { rtol: 1e-6 });
    tf.dispose([c.kernel, c.bias, k1, k2] as tf.Tensor[]);
    back.dispose();
    model.dispose();
    dnn.dispose();
  });
});
