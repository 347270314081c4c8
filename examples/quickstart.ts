// The README's quick start: a Bayesian MLP on synthetic data, trained with the ELBO, then used to
// predict with uncertainty. Run: npx tsx examples/quickstart.ts
import * as tf from '@tensorflow/tfjs';
import { layers, ready, toolbox } from 'deepprob';

await ready(); // wasm in Node (tfjs-node if installed), webgl/webgpu in browsers
const model = tf.sequential({
  layers: [
    layers.denseReparam({ inputShape: [2], outChannels: 32, activation: 'relu', priorSigma: 1 }),
    layers.denseReparam({ outChannels: 2, priorSigma: 1 }),
  ],
});
const x = tf.randomUniform([512, 2], -2, 2);
const y = tf.cast(tf.greater(tf.prod(x, 1), 0), 'int32'); // XOR-like labels
const elbo = new layers.ELBOLoss(model, { datasetSize: 512 }); // NLL + KL / N
const opt = tf.train.adam(0.02);
for (let step = 0; step < 300; step++) {
  const r = elbo.trainStep(opt, x, y, { step });
  if (step % 100 === 0) console.log(`step ${step}: loss ${(await r.loss.data())[0]?.toFixed(3)}`);
  tf.dispose([r.loss, r.nll, r.kl]);
}
const points = tf.tensor2d([
  [1, 1],
  [1.5, -1.5],
  [0.05, 1],
]); // the last one sits on the boundary
const probs = toolbox
  .stochasticPredictor((v) => model.apply(v) as tf.Tensor)
  .predictSamples(points, 50);
const { predictiveEntropy, mutualInformation } = toolbox.decompose(probs);
console.log(
  'entropy',
  await predictiveEntropy.array(),
  'epistemic (MI)',
  await mutualInformation.array(),
);
