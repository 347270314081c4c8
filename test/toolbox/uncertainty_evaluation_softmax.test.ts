import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { toolbox, setSeed, clearSeed, makeRng } from '../../src/index.js';

// Three well-separated classes: x = 6 e_y + noise. The hand-set net Dense(3, relu, I) ->
// Dense(3, 4 I) gives the true class a logit margin of about 24 (cross-entropy ~1e-10); its
// softmax twin has the same weights and ends in a softmax.
const N = 90;
const rng = makeRng(7);
const labels = Array.from({ length: N }, (_, i) => i % 3);
const x = tf.tensor2d(
  labels.map((c) => [0, 1, 2].map((k) => (k === c ? 6 : 0) + 0.3 * (rng() - 0.5))),
);
const y = tf.tensor1d(labels, 'int32');
afterAll(() => tf.dispose([x, y]));

function net(head: 'linear' | 'softmax'): tf.Sequential {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 3, activation: 'relu' }),
      tf.layers.dense({ units: 3, activation: head }),
    ],
  });
  m.setWeights([tf.eye(3), tf.zeros([3]), tf.mul(tf.eye(3), 4), tf.zeros([3])]);
  return m;
}

/** Per-epoch training losses of both auxiliary models, with a fixed seed stream. */
async function losses(
  model: tf.LayersModel,
  numClasses: number,
): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = { epistemic: [], aleatoric: [] };
  setSeed(11);
  const ue = new toolbox.UncertaintyEvaluation({
    model,
    trainDataset: { x, y: numClasses === 2 ? tf.minimum(y, 1) : y },
    taskType: 'classification',
    numClasses,
    epochs: 2,
    batchSize: N, // one step per epoch: epoch 0 reports the loss at the given weights
    dropoutRate: 0.05,
    seed: 3,
    onEpoch: (which, _e, l) => out[which]!.push(l),
  });
  const probe = x.slice(0, 3);
  tf.dispose([await ue.evalEpistemicUncertainty(probe), await ue.evalAleatoricUncertainty(probe)]);
  probe.dispose();
  ue.dispose();
  clearSeed();
  return out;
}

describe('UncertaintyEvaluation reads a softmax head as its log-probabilities', () => {
  it('trains the softmax twin on the same cross-entropy and K&G loss as the logits net', async () => {
    const lin = net('linear');
    const soft = net('softmax');
    const a = await losses(lin, 3);
    const b = await losses(soft, 3);
    // double softmax: CE(softmax(p)) >= log(1 + 2/e) = 0.551 for any p (measured 0.77-0.80);
    // the aleatoric loss at the start was 0.67
    const floor = Math.log(1 + 2 / Math.E);
    expect(Math.max(...b.epistemic!)).toBeLessThan(floor / 2);
    expect(b.epistemic).toBeAllclose(a.epistemic!, { rtol: 1e-3, atol: 1e-6 });
    // K&G loss at s = 0 with margin ~24: -log E softmax(f + eps)_y is tiny
    expect(b.aleatoric![0]!).toBeLessThan(0.01);
    expect(b.aleatoric![0]!).toBeCloseTo(a.aleatoric![0]!, 6);
    lin.dispose();
    soft.dispose();
  });

  it('one output: a sigmoid head trains like its logit twin (binary [0, z] logits)', async () => {
    const one = (act: 'linear' | 'sigmoid'): tf.Sequential => {
      const m = tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [3], units: 3, activation: 'relu' }),
          tf.layers.dense({ units: 1, activation: act }),
        ],
      });
      // class 1 (labels 1 and 2) vs class 0: z = x1 + x2 - 3
      m.setWeights([tf.eye(3), tf.zeros([3]), tf.tensor2d([[0], [1], [1]]), tf.tensor1d([-3])]);
      return m;
    };
    const lin = one('linear');
    const sig = one('sigmoid');
    const a = await losses(lin, 2);
    const b = await losses(sig, 2);
    expect(b.epistemic).toBeAllclose(a.epistemic!, { rtol: 1e-3, atol: 1e-6 });
    expect(b.aleatoric![0]!).toBeCloseTo(a.aleatoric![0]!, 5);
    // margin |z| = 3: CE log(1 + e^-3) = 0.049 without dropout; a dropped feature (5%) costs
    // about 3 nats: well below log 2, the loss of an uninformative classifier
    expect(a.epistemic![0]!).toBeLessThan(Math.log(2) / 2);
    lin.dispose();
    sig.dispose();
  });
});
