/**
 * Audit probes (session 16) of the loss cells on models a TF.js user converts: a two-output model's
 * cell is refused before any forward pass (it leaked both outputs), targets that are not a tensor
 * are named, and a converted single-output model's cell gives `dnnFactor * NLL + bnnFactor * KL`
 * against a float64 recomputation.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { layers, transforms } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';
import { glorot as g } from '../fixtures/layers.js';

const inp = tf.input({ shape: [3] });
const hid = tf.layers
  .dense({ units: 4, activation: 'relu', kernelInitializer: g(1) })
  .apply(inp) as tf.SymbolicTensor;
const cls = tf.layers
  .dense({ units: 3, activation: 'softmax', name: 'cls', kernelInitializer: g(2) })
  .apply(hid) as tf.SymbolicTensor;
const reg = tf.layers
  .dense({ units: 1, name: 'reg', kernelInitializer: g(3) })
  .apply(hid) as tf.SymbolicTensor;
const twoOut = tf.model({ inputs: inp, outputs: [cls, reg] });
const oneOut = tf.model({ inputs: inp, outputs: cls });

describe('audit16: loss cells of converted models', () => {
  let two: transforms.BnnConversion | undefined;
  let one: transforms.BnnConversion | undefined;
  const x = tf.randomNormal([4, 3], 0, 1, 'float32', 1);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3));
  const ready = async (): Promise<void> => {
    two ??= await transforms.transformToBnn(twoOut, { dnnFactor: 2, bnnFactor: 0.01 });
    one ??= await transforms.transformToBnn(oneOut, {
      dnnFactor: 2,
      bnnFactor: 0.01,
      posteriorSigma: 0.05,
    });
  };
  afterAll(() => {
    tf.dispose([x, y]);
    if (two) layers.disposeModel(two.model);
    if (one) layers.disposeModel(one.model);
  });

  it('a two-output model converts (for model.fit) but its cell refuses compute / trainStep naming backbone, no leak', async () => {
    await ready();
    await expectBadInput({
      call: 'compute',
      run: () => two!.loss.compute(x, y),
      arg: 'backbone',
      message: /2 outputs/,
    });
    const opt = tf.train.sgd(0.1); // holds its learning-rate scalar
    await expectBadInput({
      call: 'trainStep',
      run: () => two!.loss.trainStep(opt, x, y),
      arg: 'backbone',
    });
    opt.dispose();
  });

  it('targets that are not a tensor (an array of tensors, a plain array) are named y', async () => {
    await ready();
    await expectBadInput({
      call: 'compute with [y, y]',
      run: () => one!.loss.compute(x, [y, y] as unknown as tf.Tensor),
      arg: 'y',
    });
    await expectBadInput({
      call: 'compute with numbers',
      run: () => one!.loss.compute(x, [0, 1, 2, 0] as unknown as tf.Tensor),
      arg: 'y',
    });
  });

  it('compute = dnnFactor * mean(-log p_y) + bnnFactor * KL (float64 from the sampled output and the weights)', async () => {
    await ready();
    const r = one!.loss.compute(x, y);
    const p = r.output.arraySync() as number[][];
    const labels = [0, 1, 2, 0];
    let nll = 0;
    for (let i = 0; i < 4; i++) nll -= Math.log(p[i]![labels[i]!]!) / 4;
    let kl = 0;
    for (const l of layers.bayesianLayers(one!.model)) {
      const ws = l.getWeights();
      for (let k = 0; k + 1 < ws.length; k += 2) {
        const mu = ws[k]!.dataSync();
        const rho = ws[k + 1]!.dataSync();
        const sp = (l.getConfig().prior as { sigma: number }).sigma;
        for (let i = 0; i < mu.length; i++) {
          const s = Math.log1p(Math.exp(rho[i]!));
          kl += Math.log(sp / s) + (s * s + mu[i]! ** 2) / (2 * sp * sp) - 0.5;
        }
      }
    }
    expect(r.nll.dataSync()[0]).toBeCloseTo(nll, 4);
    expect(Math.abs(r.kl.dataSync()[0]! - kl) / kl).toBeLessThan(1e-4);
    expect(
      Math.abs(r.loss.dataSync()[0]! - (2 * nll + 0.01 * kl)) / (2 * nll + 0.01 * kl),
    ).toBeLessThan(1e-4);
    tf.dispose([r.loss, r.nll, r.kl, r.output]);
  });
});
