/**
 * VAE-GAN (seed 003) built only from public pieces: `dpn.VAE` whose decoder doubles as the GAN
 * generator, a discriminator `D`, a dense map from prior draws `z_p ~ N(0, I)` to the decoder's
 * input, and a loss that extends `infer.ELBO` with least-squares GAN terms:
 *
 *   loss = |D(x) - 1|² + |D(x̂) - 1|² + |D(G(z_p))|² + (squared error + KL)
 *
 * trained jointly by `infer.SVI` with Adam(1e-3), as in MindSpore's example.
 *
 *   npx tsx examples/vae_gan.ts [--epochs 1] [--limit 60000]
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/ready.js';
import { VAE, type ProbabilisticNetwork, type VAEOutput } from '../src/dpn/vae.js';
import { applyNetwork, disposeNetwork, networkVariables } from '../src/dpn/network.js';
import { ELBO } from '../src/infer/elbo.js';
import { SVI } from '../src/infer/svi.js';
import { WithLossCell } from '../src/infer/with_loss.js';
import { setSeed, nextSeed } from '../src/utils/seed.js';
import { arg, numArg } from './lib/args.js';
import { batches, loadMnist } from './lib/mnist.js';
import { imageGrid, writePng } from './lib/png.js';
import { IMAGE, IMAGE_SHAPE, decoder, encoder, evaluate } from './lib/vae_common.js';

interface VaeGanOutput extends VAEOutput {
  ldReal: tf.Tensor;
  ldFake: tf.Tensor;
  ldP: tf.Tensor;
}

/** MindSpore's `VaeGan` cell: E, G (the VAE decoder), D, and dense(20 -> 400). */
class VaeGan implements ProbabilisticNetwork {
  readonly G = decoder();
  readonly D = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [IMAGE, IMAGE, 1] }),
      tf.layers.dense({ units: 400, activation: 'relu' }),
      tf.layers.dense({ units: 720, activation: 'relu' }),
      tf.layers.dense({ units: 1024, activation: 'relu' }),
      tf.layers.dense({ units: 1, activation: 'sigmoid' }),
    ],
  });
  readonly dense = tf.sequential({ layers: [tf.layers.dense({ inputShape: [20], units: 400 })] });
  readonly vae = new VAE(encoder([IMAGE, IMAGE, 1]), this.G, 400, 20);

  apply(x: tf.Tensor): VaeGanOutput {
    return tf.tidy(() => {
      const { reconX, mu, std } = this.vae.apply(x);
      const zp = tf.randomNormal(mu.shape, 0, 1, 'float32', nextSeed());
      const xp = applyNetwork(this.G, applyNetwork(this.dense, zp));
      const img = (t: tf.Tensor): tf.Tensor => tf.reshape(t, [-1, IMAGE, IMAGE, 1]);
      return {
        reconX,
        x,
        mu,
        std,
        ldReal: applyNetwork(this.D, x),
        ldFake: applyNetwork(this.D, img(reconX)),
        ldP: applyNetwork(this.D, img(xp)),
      };
    }) as VaeGanOutput;
  }
  trainableVariables(): tf.Variable[] {
    return [
      ...this.vae.trainableVariables(),
      ...networkVariables(this.D),
      ...networkVariables(this.dense),
    ];
  }
  dispose(): void {
    this.vae.dispose();
    disposeNetwork(this.D);
    disposeNetwork(this.dense);
  }
}

/** MindSpore's `VaeGanLoss(ELBO)`: the ELBO plus least-squares GAN terms (MSE, sum). */
class VaeGanLoss extends ELBO {
  override call(out: VAEOutput): tf.Scalar {
    const o = out as VaeGanOutput;
    return tf.tidy(() => {
      const mse = (a: tf.Tensor, target: number): tf.Tensor => tf.sum(tf.square(tf.sub(a, target)));
      const lossD = mse(o.ldReal, 1);
      const lossGD = mse(o.ldP, 0);
      const lossG = mse(o.ldFake, 1);
      return tf.addN([lossD, lossGD, lossG, super.call(o)]) as tf.Scalar;
    });
  }
}

const info = await ready();
setSeed(numArg('seed', 0));
const epochs = numArg('epochs', 1);
const limit = numArg('limit', 60000);
const out = arg('out', 'examples/figures');
console.log(`backend ${info.backend}; ${epochs} epochs on ${limit} images`);
const train = loadMnist('train', IMAGE, limit);
const test = loadMnist('test', IMAGE);

const net = new VaeGan();
const loss = new VaeGanLoss({ outputPrior: 'Normal' });
const vi = new SVI({
  netWithLoss: new WithLossCell(net, loss),
  optimizer: tf.train.adam(1e-3),
});
const t0 = performance.now();
vi.run(batches(train, 128, [IMAGE, IMAGE, 1], { seed: 1 }), epochs, (r) =>
  console.log(
    `epoch ${r.epoch}: loss ${r.loss.toFixed(2)} per image, ${(r.examples / r.seconds).toFixed(0)} images/s`,
  ),
);
const seconds = (performance.now() - t0) / 1000;
console.log(`throughput ${((train.n * epochs) / seconds).toFixed(0)} images/s`);
// Test loss per image: the full VAE-GAN loss, and its ELBO part (squared error + KL) of the VAE
// alone, comparable with examples/vae.ts.
let total = 0;
for (const b of batches(test, 500, [IMAGE, IMAGE, 1], { shuffle: false })()) {
  const l = tf.tidy(() => loss.call(net.apply(b.x)));
  total += l.dataSync()[0] as number;
  tf.dispose([l, b.x, b.y]);
}
const elbo = evaluate(net.vae, test, new ELBO({ outputPrior: 'Normal' }), false);
console.log(
  `test loss ${(total / test.n).toFixed(2)} per image (VAE-GAN loss); ` +
    `ELBO part ${elbo.toFixed(2)} (squared error + KL)`,
);
const gen = net.vae.generateSample(64, IMAGE_SHAPE);
writePng(`${out}/vae_gan_generated.png`, imageGrid(gen.dataSync(), 64, IMAGE, IMAGE, 8, 2));
gen.dispose();
console.log(`wrote ${out}/vae_gan_generated.png`);
net.dispose();
