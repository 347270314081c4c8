/**
 * VAE-GAN (seed 003) built only from public pieces: `dpn.VAE` whose decoder doubles as the GAN
 * generator, a discriminator `D`, a dense map from prior draws `z_p ~ N(0, I)` to the decoder's
 * input, and a loss that extends `infer.ELBO` with least-squares GAN terms:
 *
 *   loss = |D(x) - 1|² + |D(x̂) - 1|² + |D(G(z_p))|² + (squared error + KL)
 *
 * trained jointly by `infer.SVI` with Adam(1e-3), as in MindSpore's example. Minimised jointly, the
 * GAN terms have no adversary (D may call everything real); `--adversarial` trains the same
 * networks as a least-squares VAE-GAN instead, alternating per batch
 *
 *   D:      min  |D(x) - 1|² + |D(x̂)|² + |D(G(z_p))|²                       (D's weights)
 *   E, G:   min  |D(x̂) - 1|² + |D(G(z_p)) - 1|² + (squared error + KL)      (the rest)
 *
 * with Adam(1e-3) for E/G and Adam(`--lr-d`, default 2e-4) for D, and also writes samples of the
 * generator path G(dense(z_p)), which only the adversarial terms train.
 *
 *   npx tsx examples/vae_gan.ts [--epochs 1] [--limit 60000] [--adversarial] [--lr-d 2e-4]
 *     [--decoder seed|mlp]
 */
import * as tf from '@tensorflow/tfjs';
import { nextSeed, ready, setSeed, dpn, infer } from 'deepprob';
import { arg, numArg } from './lib/args.js';
import { batches, loadMnist } from './lib/mnist.js';
import { imageGrid, writePng } from './lib/png.js';
import {
  IMAGE,
  IMAGE_SHAPE,
  decoder,
  encoder,
  evaluate,
  mlpDecoder,
  seeded,
} from './lib/vae_common.js';

const { VAE, applyNetwork, disposeNetwork, networkVariables } = dpn;
const { ELBO, SVI, WithLossCell } = infer;
type ProbabilisticNetwork = dpn.ProbabilisticNetwork;
type VAEOutput = dpn.VAEOutput;

const decoderKind = arg('decoder', 'seed');
if (decoderKind !== 'seed' && decoderKind !== 'mlp') {
  throw new Error(`--decoder must be 'seed' or 'mlp', got '${decoderKind}'`);
}

interface VaeGanOutput extends VAEOutput {
  ldReal: tf.Tensor;
  ldFake: tf.Tensor;
  ldP: tf.Tensor;
}

/** MindSpore's `VaeGan` cell: E, G (the VAE decoder), D, and dense(20 -> 400). */
class VaeGan implements ProbabilisticNetwork {
  readonly G = decoderKind === 'mlp' ? mlpDecoder() : decoder();
  readonly D = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [IMAGE, IMAGE, 1] }),
      tf.layers.dense({ ...seeded(), units: 400, activation: 'relu' }),
      tf.layers.dense({ ...seeded(), units: 720, activation: 'relu' }),
      tf.layers.dense({ ...seeded(), units: 1024, activation: 'relu' }),
      tf.layers.dense({ ...seeded(), units: 1, activation: 'sigmoid' }),
    ],
  });
  readonly dense = tf.sequential({
    layers: [tf.layers.dense({ ...seeded(), inputShape: [20], units: 400 })],
  });
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
    return [...this.generatorVariables(), ...this.discriminatorVariables()];
  }
  /** E, G (the VAE) and the prior map: what the adversarial G step updates. */
  generatorVariables(): tf.Variable[] {
    return [...this.vae.trainableVariables(), ...networkVariables(this.dense)];
  }
  discriminatorVariables(): tf.Variable[] {
    return networkVariables(this.D);
  }
  /** `n` images from the generator path `G(dense(z_p))`, `z_p ~ N(0, I)`. */
  generatorSample(n: number): tf.Tensor {
    return tf.tidy(() => {
      const zp = tf.randomNormal([n, 20], 0, 1, 'float32', nextSeed());
      return tf.reshape(applyNetwork(this.G, applyNetwork(this.dense, zp)), [-1, IMAGE, IMAGE, 1]);
    });
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
const adversarial = process.argv.includes('--adversarial');
console.log(
  `backend ${info.backend}; ${epochs} epochs on ${limit} images; ` +
    `${adversarial ? 'adversarial' : 'joint (seed)'} training; decoder ${decoderKind}`,
);
const train = loadMnist('train', IMAGE, limit);
const test = loadMnist('test', IMAGE);

const net = new VaeGan();
const loss = new VaeGanLoss({ outputPrior: 'Normal' });
const t0 = performance.now();
if (!adversarial) {
  const vi = new SVI({
    netWithLoss: new WithLossCell(net, loss),
    optimizer: tf.train.adam(1e-3),
  });
  vi.run(batches(train, 128, [IMAGE, IMAGE, 1], { seed: 1 }), epochs, (r) =>
    console.log(
      `epoch ${r.epoch}: loss ${r.loss.toFixed(2)} per image, ${(r.examples / r.seconds).toFixed(0)} images/s`,
    ),
  );
} else {
  const optD = tf.train.adam(numArg('lr-d', 2e-4));
  const optG = tf.train.adam(1e-3);
  const elboOnly = new ELBO({ outputPrior: 'Normal' });
  const sq = (a: tf.Tensor, target: number): tf.Tensor => tf.sum(tf.square(tf.sub(a, target)));
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const te = performance.now();
    let sumD = 0;
    let sumG = 0;
    let n = 0;
    for (const b of batches(train, 128, [IMAGE, IMAGE, 1], { seed: epoch })()) {
      const lD = optD.minimize(
        () => {
          const o = net.apply(b.x);
          return tf.addN([sq(o.ldReal, 1), sq(o.ldFake, 0), sq(o.ldP, 0)]) as tf.Scalar;
        },
        true,
        net.discriminatorVariables(),
      );
      const lG = optG.minimize(
        () => {
          const o = net.apply(b.x);
          return tf.addN([sq(o.ldFake, 1), sq(o.ldP, 1), elboOnly.call(o)]) as tf.Scalar;
        },
        true,
        net.generatorVariables(),
      );
      sumD += lD?.dataSync()[0] ?? NaN;
      sumG += lG?.dataSync()[0] ?? NaN;
      n += b.x.shape[0] as number;
      tf.dispose([lD ?? [], lG ?? [], b.x, b.y]);
    }
    const secs = (performance.now() - te) / 1000;
    console.log(
      `epoch ${epoch}: D loss ${(sumD / n).toFixed(3)}, E/G loss ${(sumG / n).toFixed(2)} per image, ` +
        `${(n / secs).toFixed(0)} images/s`,
    );
  }
  optD.dispose();
  optG.dispose();
}
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
const tag =
  (adversarial ? 'vae_gan_adversarial' : 'vae_gan') + (decoderKind === 'mlp' ? '_mlp' : '');
const gen = net.vae.generateSample(64, IMAGE_SHAPE);
writePng(`${out}/${tag}_generated.png`, imageGrid(gen.dataSync(), 64, IMAGE, IMAGE, 8, 2));
gen.dispose();
const gp = net.generatorSample(64);
writePng(`${out}/${tag}_generator_path.png`, imageGrid(gp.dataSync(), 64, IMAGE, IMAGE, 8, 2));
gp.dispose();
console.log(
  `wrote ${out}/${tag}_generated.png (VAE prior samples) and ${out}/${tag}_generator_path.png (G(dense(z_p)))`,
);
net.dispose();
