/**
 * Audit probes (session 18) of `deepprob convert` (`convertFile`) on models with recurrent
 * layers: `--prior-sigma` reaches every Bayesian layer the conversion makes (LSTM inside a
 * Bidirectional, SimpleRNN, Dense), checked by the KL of the saved model against the closed form
 * in float64; `--exclude` with an unknown name is refused naming `exclude`.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layers } from '../../src/index.js';
import { convertFile } from '../../src/app/convert.js';
import { fileIO } from '../../src/node.js';
import { expectBadInput } from '../helpers.js';
import { glorot as g } from '../fixtures/layers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Embedding -> Bidirectional(LSTM, returnSequences) -> SimpleRNN -> Dense softmax, saved. */
async function savedTextModel(): Promise<{ dir: string; model: string }> {
  const m = tf.sequential({
    layers: [
      tf.layers.embedding({
        inputDim: 10,
        outputDim: 3,
        inputLength: 5,
        embeddingsInitializer: g(1),
      }),
      tf.layers.bidirectional({
        layer: tf.layers.lstm({
          units: 2,
          returnSequences: true,
          kernelInitializer: g(2),
          recurrentInitializer: g(3),
        }) as tf.RNN,
      }),
      tf.layers.simpleRNN({ units: 2, kernelInitializer: g(4), recurrentInitializer: g(5) }),
      tf.layers.dense({ units: 2, activation: 'softmax', name: 'head', kernelInitializer: g(6) }),
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'deepprob-audit18-convert-'));
  dirs.push(dir);
  await m.save(fileIO(join(dir, 'dnn')));
  m.dispose();
  return { dir, model: join(dir, 'dnn', 'model.json') };
}

/** softplus in float64. */
const softplus = (r: number): number => (r > 20 ? r : Math.log1p(Math.exp(r)));

describe('audit18: deepprob convert on a recurrent text model', () => {
  it('--prior-sigma sets the prior of every converted layer (recurrent ones too): saved configs and KL = closed form', async () => {
    const { dir, model } = await savedTextModel();
    const out = join(dir, 'bnn');
    const r = await convertFile({ model, out, priorSigma: 0.5, quiet: true });
    expect(r.converted).toHaveLength(3);
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as {
      modelTopology: {
        config: { layers: { class_name: string; config: Record<string, unknown> }[] };
      };
    };
    const priors = json.modelTopology.config.layers
      .filter((l) => l.class_name !== 'Embedding')
      .map((l) => {
        const c = l.config as { prior?: unknown; layer?: { config: { prior?: unknown } } };
        return c.prior ?? c.layer?.config.prior;
      });
    expect(priors).toHaveLength(3);
    for (const p of priors) expect(p).toEqual({ type: 'normal', mu: 0, sigma: 0.5 });

    const bnn = await tf.loadLayersModel(fileIO(out));
    // KL(N(mu, s^2) || N(0, 0.5^2)) summed over every (mu, rho) pair, float64
    const weights = bnn.weights.map((w) => ({ name: w.originalName, v: w.read().dataSync() }));
    let want = 0;
    let pairs = 0;
    for (const w of weights) {
      if (!w.name.endsWith('_mu')) continue;
      const rho = weights.find((o) => o.name === `${w.name.slice(0, -3)}_rho`);
      expect(rho).toBeDefined();
      pairs++;
      w.v.forEach((mu, i) => {
        const s = softplus(rho!.v[i]!);
        want += Math.log(0.5 / s) + (s * s + mu * mu) / (2 * 0.25) - 0.5;
      });
    }
    // Bidirectional: 2 directions x (kernel, bias); SimpleRNN and Dense: kernel, bias
    expect(pairs).toBe(8);
    const before = tf.memory().numTensors;
    const kl = layers.modelKL(bnn);
    const got = kl.dataSync()[0]!;
    kl.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(got - want)).toBeLessThan(1e-4 * Math.abs(want));
    bnn.dispose();
  });

  it('--exclude naming no layer is an ArgumentError naming exclude (the CLI option), nothing written', async () => {
    const { dir, model } = await savedTextModel();
    await expectBadInput({
      call: 'convertFile',
      run: () => convertFile({ model, out: join(dir, 'bnn'), exclude: ['heads'] }),
      arg: 'exclude',
      message: /no layer named 'heads'/,
    });
    expect(existsSync(join(dir, 'bnn', 'model.json'))).toBe(false);
  });
});
