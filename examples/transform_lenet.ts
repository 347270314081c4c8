/**
 * DNN -> BNN in one line on MNIST (MindSpore's `TransformToBNN` tutorial, end to end):
 *
 * 1. train a plain LeNet-5 (model zoo, classic 28x28 variant) on the full MNIST train set;
 * 2. convert it with `transforms.transformToBnn` (posterior means = DNN weights, MOPED scales
 *    `sigma = delta |w|`) and report its Monte Carlo accuracy (10 samples) before any Bayesian
 *    training;
 * 3. fine-tune one epoch with the Bayesian loss (`WithBNNLoss`, KL weighted by `1 / N`: the
 *    per-example negative ELBO);
 * 4. report the MC accuracy again and the mean predictive entropy
 *    `H[p] = -sum_c pbar_c log pbar_c`, `pbar = (1/S) sum_s softmax(f(x; w_s))`, on the MNIST
 *    test set and on the Fashion-MNIST test set (out of distribution: it should be higher).
 *
 *   npx tsx examples/transform_lenet.ts [--epochs 2] [--finetune-epochs 1] [--samples 10]
 *     [--estimator reparam] [--moped 0.1] [--moped-prior] [--lr 0.001] [--limit 60000] [--test-limit 10000] [--seed 0]
 *     [--out examples/out/transform_lenet.json]
 */
import * as tf from '@tensorflow/tfjs';
import { ready, setSeed, data, layers, models, transforms } from 'deepprob';
import { atomicWriteFile, loadFashionMnist, loadMnist } from 'deepprob/node';
import { arg, numArg } from './lib/args.js';

const { Batcher, limitImageSet } = data;
const { setMode } = layers;
const { lenet5 } = models;
const { transformToBnn } = transforms;
type ImageSet = data.ImageSet;
type Estimator = transforms.Estimator;

const info = await ready();
const seed = numArg('seed', 0);
setSeed(seed);
const epochs = numArg('epochs', 2);
const finetuneEpochs = numArg('finetune-epochs', 1);
const samples = numArg('samples', 10);
const estimator = arg('estimator', 'reparam') as Estimator;
const moped = numArg('moped', 0.1);
const mopedPrior = process.argv.includes('--moped-prior');
const lr = numArg('lr', 1e-3);
const limit = numArg('limit', 60000);
const testLimit = numArg('test-limit', 10000);
const batchSize = numArg('batch-size', 64);
const outFile = arg('out', 'examples/out/transform_lenet.json');
const t0 = Date.now();
const log = (s: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${s}`);
log(
  `backend ${info.backend}; LeNet-5 ${epochs} epoch(s), then ${estimator} BNN, ${samples} samples`,
);

const transform = { normalize: 'mnist' };
const train = limitImageSet(loadMnist({ split: 'train' }), limit);
const test = limitImageSet(loadMnist({ split: 'test' }), testLimit);
const fashion = limitImageSet(loadFashionMnist({ split: 'test' }), testLimit);
const N = train.count;
log(`MNIST train ${N}, test ${test.count}; Fashion-MNIST test ${fashion.count}`);

/** Mean softmax over `s` forward passes, for every image of `set` (host array [n, 10]). */
function predictive(model: tf.LayersModel, set: ImageSet, s: number): Float32Array {
  const b = new Batcher(set, { batchSize: 500, shuffle: false, transform });
  const out = new Float32Array(set.count * set.numClasses);
  let off = 0;
  for (const batch of b.batches(0)) {
    const p = tf.tidy(() => {
      let acc = tf.zeros([batch.size, set.numClasses]);
      for (let i = 0; i < s; i++) {
        acc = tf.add(acc, tf.softmax(model.predict(batch.x) as tf.Tensor));
      }
      return tf.div(acc, s);
    });
    out.set(p.dataSync(), off);
    off += p.size;
    p.dispose();
    batch.dispose();
  }
  return out;
}

/** Accuracy (%) and mean predictive entropy (nats) of predictive probabilities. */
function score(p: Float32Array, set: ImageSet): { accuracy: number; entropy: number } {
  const k = set.numClasses;
  let correct = 0;
  let h = 0;
  for (let i = 0; i < set.count; i++) {
    let best = 0;
    for (let c = 0; c < k; c++) {
      const v = p[i * k + c] as number;
      if (v > (p[i * k + best] as number)) best = c;
      if (v > 0) h -= v * Math.log(v);
    }
    if (best === set.labels[i]) correct++;
  }
  return { accuracy: (100 * correct) / set.count, entropy: h / set.count };
}

function evaluate(
  model: tf.LayersModel,
  s: number,
): { accuracy: number; entropyMnist: number; entropyFashion: number } {
  const m = score(predictive(model, test, s), test);
  const f = score(predictive(model, fashion, s), fashion);
  return { accuracy: m.accuracy, entropyMnist: m.entropy, entropyFashion: f.entropy };
}

// 1. The plain LeNet-5.
const dnn = lenet5({ inputShape: [28, 28, 1] });
const opt = tf.train.adam(lr);
const batcher = new Batcher(train, { batchSize, seed, transform });
for (let e = 0; e < epochs; e++) {
  let sum = 0;
  let n = 0;
  for (const batch of batcher.batches(e)) {
    const loss = opt.minimize(
      () =>
        tf.losses.softmaxCrossEntropy(
          tf.oneHot(batch.y, 10),
          dnn.apply(batch.x, { training: true }) as tf.Tensor,
        ) as tf.Scalar,
      true,
    );
    sum += (loss as tf.Scalar).dataSync()[0] as number;
    n++;
    tf.dispose([loss as tf.Scalar]);
    batch.dispose();
  }
  log(`DNN epoch ${e + 1}: mean train loss ${(sum / n).toFixed(4)}`);
}
opt.dispose();
const dnnEval = evaluate(dnn, 1);
log(
  `DNN: accuracy ${dnnEval.accuracy.toFixed(2)}%, entropy MNIST ${dnnEval.entropyMnist.toFixed(4)}, ` +
    `Fashion ${dnnEval.entropyFashion.toFixed(4)}`,
);

// 2. One line: DNN -> BNN. WithBNNLoss: 1 * NLL_mean + (1 / N) * KL.
const { model, loss, converted, summary } = await transformToBnn(dnn, {
  estimator,
  moped,
  mopedPrior,
  dnnFactor: 1,
  bnnFactor: 1 / N,
});
console.log(summary());
log(
  `converted ${converted.length} layers: ${converted.map((c) => `${c.name}->${c.to}`).join(', ')}`,
);
const before = evaluate(model, samples);
setMode(model, 'mean');
const beforeMean = score(predictive(model, test, 1), test).accuracy;
setMode(model, 'sample');
log(
  `BNN before fine-tuning: MC accuracy (${samples} samples) ${before.accuracy.toFixed(2)}% ` +
    `(posterior mean ${beforeMean.toFixed(2)}%), entropy MNIST ${before.entropyMnist.toFixed(4)}, ` +
    `Fashion ${before.entropyFashion.toFixed(4)}`,
);

// 3. Fine-tune with the Bayesian loss.
const opt2 = tf.train.adam(lr);
for (let e = 0; e < finetuneEpochs; e++) {
  let sums = [0, 0, 0];
  let n = 0;
  for (const batch of batcher.batches(epochs + e)) {
    const r = loss.trainStep(opt2, batch.x, batch.y, { step: n, epoch: e });
    const v = [r.loss, r.nll, r.kl].map((t) => t.dataSync()[0] as number);
    sums = sums.map((s, i) => s + (v[i] as number));
    n++;
    tf.dispose([r.loss, r.nll, r.kl]);
    batch.dispose();
  }
  log(
    `BNN fine-tune epoch ${e + 1}: loss ${(sums[0]! / n).toFixed(4)}, NLL ${(sums[1]! / n).toFixed(4)}, ` +
      `KL ${(sums[2]! / n).toFixed(1)}`,
  );
}
opt2.dispose();
const after = evaluate(model, samples);
log(
  `BNN after ${finetuneEpochs} epoch(s): MC accuracy ${after.accuracy.toFixed(2)}%, entropy MNIST ` +
    `${after.entropyMnist.toFixed(4)}, Fashion ${after.entropyFashion.toFixed(4)}`,
);

const result = {
  backend: info.backend,
  seed,
  trainImages: N,
  dnnEpochs: epochs,
  finetuneEpochs,
  estimator,
  moped,
  mopedPrior,
  mcSamples: samples,
  dnn: dnnEval,
  bnnBefore: { ...before, posteriorMeanAccuracy: beforeMean },
  bnnAfter: after,
  checks: {
    withinHalfPointBefore: Math.abs(before.accuracy - dnnEval.accuracy) <= 0.5,
    withinHalfPointAfter: Math.abs(after.accuracy - dnnEval.accuracy) <= 0.5,
    fashionEntropyHigherAfter: after.entropyFashion > after.entropyMnist,
  },
  seconds: (Date.now() - t0) / 1000,
};
atomicWriteFile(outFile, JSON.stringify(result, null, 2));
console.log(JSON.stringify(result, null, 2));
model.dispose();
dnn.dispose();
