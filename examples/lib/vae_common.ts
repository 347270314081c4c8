/**
 * The MindSpore VAE example's networks (seed 000): encoder 1024-800-400 (ReLU), decoder
 * 400 -> 1024 with a sigmoid, latent 20, on 32×32 MNIST; and the evaluation loop.
 */
import * as tf from '@tensorflow/tfjs';
import { dpn, infer, nextSeed } from 'deepprob';
import type { MnistSet } from './mnist.js';
import { batches } from './mnist.js';

type ELBO = InstanceType<typeof infer.ELBO>; // (`infer` is a keyword in type position)
type VAEBase = dpn.VAEBase;

export const IMAGE = 32;

/**
 * A Glorot-uniform kernel initializer seeded from the global seed (`setSeed`), so that the
 * examples' own layers start the same way on every run (tfjs's default draws an unseeded one).
 */
export function seeded(): { kernelInitializer: ReturnType<typeof tf.initializers.glorotUniform> } {
  return { kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }) };
}
export const IMAGE_SHAPE = [-1, IMAGE, IMAGE, 1];

/** `Flatten -> Dense(800, relu) -> Dense(400, relu)`; `inputs` pixels (+ label width). */
export function encoder(inputs: number[]): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: inputs }),
      tf.layers.dense({ ...seeded(), units: 800, activation: 'relu' }),
      tf.layers.dense({ ...seeded(), units: 400, activation: 'relu' }),
    ],
  });
}

/** `Dense(1024, sigmoid)` from the 400-wide hidden vector. */
export function decoder(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        ...seeded(),
        inputShape: [400],
        units: IMAGE * IMAGE,
        activation: 'sigmoid',
      }),
    ],
  });
}

/**
 * `Dense(400, relu) -> Dense(1024, sigmoid)`: the seed's decoder with one hidden ReLU layer, so
 * that the path from `[z, label]` to the image is no longer affine before the sigmoid.
 */
export function mlpDecoder(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ ...seeded(), inputShape: [400], units: 400, activation: 'relu' }),
      tf.layers.dense({ ...seeded(), units: IMAGE * IMAGE, activation: 'sigmoid' }),
    ],
  });
}

/** Mean loss per image of `vae` on `set` (one latent draw per image, as in training). */
export function evaluate(vae: VAEBase, set: MnistSet, loss: ELBO, conditional: boolean): number {
  let total = 0;
  for (const b of batches(set, 500, [IMAGE, IMAGE, 1], { shuffle: false })()) {
    const l = tf.tidy(() => loss.call(conditional ? vae.apply(b.x, b.y) : vae.apply(b.x)));
    total += l.dataSync()[0] as number;
    l.dispose();
    b.x.dispose();
    b.y.dispose();
  }
  return total / set.n;
}
