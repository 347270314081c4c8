/**
 * The MindSpore VAE of seed 000 on MNIST 32×32: `dpn.VAE(encoder, decoder, 400, 20)`,
 * `infer.ELBO({latentPrior: 'Normal', outputPrior})`, `infer.SVI` with Adam(1e-3), batch 128,
 * 10 epochs. Prints the train/test loss per image and the throughput, and writes grids of
 * generated and reconstructed digits. `--decoder mlp` adds a hidden ReLU layer to the decoder (the
 * seed's path from z to the image is affine before the sigmoid); its figures get a `_mlp` tag.
 *
 *   npx tsx examples/vae.ts [--epochs 10] [--output-prior Normal|Bernoulli] [--limit 60000]
 *     [--decoder seed|mlp]
 */
import * as tf from '@tensorflow/tfjs';
import { ready, setSeed, dpn, infer } from 'deepprob';
import { arg, numArg } from './lib/args.js';
import { batches, loadMnist } from './lib/mnist.js';
import { imageGrid, writePng } from './lib/png.js';
import { IMAGE, IMAGE_SHAPE, decoder, encoder, evaluate, mlpDecoder } from './lib/vae_common.js';

const { VAE } = dpn;
const { ELBO, SVI, WithLossCell } = infer;

const info = await ready();
setSeed(numArg('seed', 0));
const epochs = numArg('epochs', 10);
const outputPrior = arg('output-prior', 'Normal') as 'Normal' | 'Bernoulli';
const limit = numArg('limit', 60000);
const out = arg('out', 'examples/figures');
const decoderKind = arg('decoder', 'seed');
if (decoderKind !== 'seed' && decoderKind !== 'mlp') {
  throw new Error(`--decoder must be 'seed' or 'mlp', got '${decoderKind}'`);
}
console.log(
  `backend ${info.backend}; output prior ${outputPrior}; ${epochs} epochs; decoder ${decoderKind}`,
);

const train = loadMnist('train', IMAGE, limit);
const test = loadMnist('test', IMAGE);

const vae = new VAE(
  encoder([IMAGE, IMAGE, 1]),
  decoderKind === 'mlp' ? mlpDecoder() : decoder(),
  400,
  20,
);
const loss = new ELBO({ latentPrior: 'Normal', outputPrior });
const vi = new SVI({ netWithLoss: new WithLossCell(vae, loss), optimizer: tf.train.adam(1e-3) });

const t0 = performance.now();
vi.run(batches(train, 128, [IMAGE, IMAGE, 1], { seed: 1 }), epochs, (r) =>
  console.log(
    `epoch ${r.epoch}: train loss ${r.loss.toFixed(2)} per image, ` +
      `${(r.examples / r.seconds).toFixed(0)} images/s`,
  ),
);
const seconds = (performance.now() - t0) / 1000;
const testLoss = evaluate(vae, test, loss, false);
console.log(`final train loss (getTrainLoss) ${vi.getTrainLoss().toFixed(2)} per image`);
console.log(
  `test loss ${testLoss.toFixed(2)} per image (${outputPrior === 'Normal' ? 'squared error + KL; reference 35.5' : 'Bernoulli -ELBO, nats; reference 164.6'})`,
);
console.log(
  `throughput ${((train.n * epochs) / seconds).toFixed(0)} images/s over ${seconds.toFixed(0)} s`,
);

const tag =
  (outputPrior === 'Normal' ? 'vae' : 'vae_bernoulli') + (decoderKind === 'mlp' ? '_mlp' : '');
const gen = vae.generateSample(64, IMAGE_SHAPE);
writePng(`${out}/${tag}_generated.png`, imageGrid(gen.dataSync(), 64, IMAGE, IMAGE, 8, 2));
gen.dispose();
const first = batches(test, 32, [IMAGE, IMAGE, 1], { shuffle: false })().next().value;
if (first !== undefined) {
  const rec = vae.reconstructSample(first.x);
  const pair = tf.tidy(() =>
    tf.concat([tf.reshape(first.x, [4, 8, -1]), tf.reshape(rec, [4, 8, -1])], 1),
  );
  writePng(`${out}/${tag}_reconstructed.png`, imageGrid(pair.dataSync(), 64, IMAGE, IMAGE, 8, 2));
  tf.dispose([rec, pair, first.x, first.y]);
}
console.log(`wrote ${out}/${tag}_generated.png and ${out}/${tag}_reconstructed.png`);
vae.dispose();
