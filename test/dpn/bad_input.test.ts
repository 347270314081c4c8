/**
 * Bad input on `dpn` (VAE, ConditionalVAE, the network helpers): networks whose widths do not fit
 * `hiddenSize` are refused at construction, inputs of another shape than the encoder's at the call,
 * each as an `ArgumentError` naming the argument (never tfjs's 'Input 0 is incompatible with
 * layer' at the first step), with no tensor left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, it } from 'vitest';
import * as dpn from '../../src/dpn/index.js';
import { expectBadInput, type BadInputCase } from '../helpers.js';

const encoder = (inputs: number, hidden: number): tf.LayersModel =>
  tf.sequential({ layers: [tf.layers.dense({ units: hidden, inputShape: [inputs] })] });
const decoder = (hidden: number, outputs: number): tf.LayersModel =>
  tf.sequential({ layers: [tf.layers.dense({ units: outputs, inputShape: [hidden] })] });
const vae = new dpn.VAE(encoder(6, 8), decoder(8, 6), 8, 3);
const loose = <T>(v: unknown): T => v as T;

/** Build a VAE from networks made here; dispose them whatever happens. */
function makeVae(
  makeEnc: () => tf.LayersModel,
  makeDec: () => tf.LayersModel,
  hidden: number,
  latent: number,
) {
  return (): unknown => {
    const enc = makeEnc();
    const dec = makeDec();
    try {
      new dpn.VAE(enc, dec, hidden, latent).dispose();
    } finally {
      enc.dispose();
      dec.dispose();
    }
    return undefined;
  };
}
const withTensor = (make: () => tf.Tensor, f: (t: tf.Tensor) => unknown) => (): unknown => {
  const t = make();
  try {
    return f(t);
  } finally {
    t.dispose();
  }
};

const cases: BadInputCase[] = [
  {
    call: 'VAE hiddenSize 7 for an encoder of width 8',
    run: makeVae(
      () => encoder(6, 8),
      () => decoder(8, 6),
      7,
      3,
    ),
    arg: 'encoder',
    message: /hiddenSize/,
  },
  {
    call: 'VAE decoder taking the latent size instead of hiddenSize',
    run: makeVae(
      () => encoder(6, 8),
      () => decoder(3, 6),
      8,
      3,
    ),
    arg: 'decoder',
  },
  {
    call: 'vae.apply of x with another width',
    run: withTensor(
      () => tf.ones([2, 5]),
      (x) => vae.apply(x),
    ),
    arg: 'x',
  },
  {
    call: 'vae.reconstructSample of x with another width',
    run: withTensor(
      () => tf.ones([2, 5]),
      (x) => vae.reconstructSample(x),
    ),
    arg: 'x',
  },
  {
    call: 'applyNetwork(null, x)',
    run: withTensor(
      () => tf.ones([2, 6]),
      (x) => dpn.applyNetwork(loose(null), x),
    ),
    arg: 'net',
  },
  { call: 'networkVariables(null)', run: () => dpn.networkVariables(loose(null)), arg: 'net' },
  { call: 'disposeNetwork(null)', run: () => dpn.disposeNetwork(loose(null)), arg: 'net' },
];

describe('dpn: bad input is an ArgumentError naming it, before any work', () => {
  afterAll(() => vae.dispose());
  it.each(cases.map((c) => [c.call, c] as const))('%s', async (_call, c) => {
    await expectBadInput(c);
  });
});
