// Run by .ci/user-project.sh next to an older tfjs: deepprob must say once that the version is
// untested (kernel pack off) and still train a Bayesian model with model.fit.
import * as tf from '@tensorflow/tfjs';
import { layers, ready } from 'deepprob/node';

const info = await ready();
if (info.kernels !== 'stock') throw new Error(`expected the kernel pack off, got ${info.kernels}`);
const model = tf.sequential({
  layers: [
    layers.denseFlipout({ inputShape: [2], units: 8, activation: 'relu' }),
    layers.denseFlipout({ units: 2, activation: 'softmax' }),
  ],
});
layers.compileBayesian(model, {
  datasetSize: 64,
  optimizer: 'adam',
  loss: 'categoricalCrossentropy',
});
const x = tf.randomUniform([64, 2], -2, 2);
const y = tf.oneHot(tf.cast(tf.greater(tf.prod(x, 1), 0), 'int32'), 2);
const h = await model.fit(x, y, { epochs: 2, verbose: 0 });
console.log(
  `tfjs ${tf.version.tfjs}, backend ${info.backend}, kernels ${info.kernels}, loss ${h.history.loss}`,
);
