/**
 * `eval`, `uncertainty`, `shift` and `convert` on a user's own saved models that do not fit the
 * data or the method: an error naming the option and what was expected, before any work (before:
 * `eval` printed figures for a 5-class model on 10-class labels, a flat-input model was read as a
 * 784x784 image, `shift` failed on an unfit method after fitting the methods before it, `convert`
 * "converted 0 layers" and exited 0).
 */
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { convertFile } from '../../src/app/convert.js';
import { runEvaluation } from '../../src/app/evaluate.js';
import { parseMethodSpec, runShiftBenchmark } from '../../src/app/shift/run.js';
import { runUncertaintyReport } from '../../src/app/uncertainty_report.js';
import { mnistDataDir } from '../../src/data/sources.js';
import { fileIO } from '../../src/utils/file_io.js';

const dir = mkdtempSync(join(tmpdir(), 'deepprob-model-checks-'));

/** Save `layers` (after an input of `shape`) as a tf.Sequential model.json folder `name`. */
async function save(name: string, shape: number[], layers: tf.layers.Layer[]): Promise<string> {
  const m = tf.sequential();
  m.add(tf.layers.inputLayer({ inputShape: shape }));
  for (const l of layers) m.add(l);
  const out = join(dir, name);
  await m.save(fileIO(out));
  m.dispose();
  return out;
}

/** A functional model (conv branch + dense head) without dropout. */
async function saveFunctional(name: string): Promise<string> {
  const inp = tf.input({ shape: [28, 28, 1] });
  const a = tf.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(inp) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(inp) as tf.SymbolicTensor;
  const c = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
  const f = tf.layers.flatten().apply(c) as tf.SymbolicTensor;
  const o = tf.layers.dense({ units: 10 }).apply(f) as tf.SymbolicTensor;
  const m = tf.model({ inputs: inp, outputs: o });
  const out = join(dir, name);
  await m.save(fileIO(out));
  m.dispose();
  return out;
}

describe('user models that do not fit', () => {
  it('eval and uncertainty name the checkpoint or dataset before any work', async () => {
    const five = await save(
      'five',
      [28, 28, 1],
      [tf.layers.flatten(), tf.layers.dense({ units: 5 })],
    );
    const flat = await save('flat', [784], [tf.layers.dense({ units: 10 })]);
    const rgb = await save(
      'rgb',
      [28, 28, 3],
      [tf.layers.flatten(), tf.layers.dense({ units: 10 })],
    );
    const quiet = { quiet: true };
    const before = tf.memory().numTensors;
    await expect(runEvaluation({ checkpoint: five, limit: 20 }, quiet)).rejects.toThrow(
      /dataset: .*expected labels in \[0, 5\) for the model's 5 classes, got 10 classes/,
    );
    await expect(runEvaluation({ checkpoint: flat, limit: 20 }, quiet)).rejects.toThrow(
      /checkpoint: the model expects inputs of shape \[784\].*followed by a Flatten layer/,
    );
    await expect(runEvaluation({ checkpoint: rgb, limit: 20 }, quiet)).rejects.toThrow(
      /checkpoint: the model expects inputs of shape \[28, 28, 3\].*1 channel\(s\) instead of 3/,
    );
    await expect(
      runUncertaintyReport({
        checkpoint: five,
        limit: 20,
        ood: 'fashion-mnist',
        out: join(dir, 'u'),
      }),
    ).rejects.toThrow(/dataset: .*for the model's 5 classes/);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('shift checks every method against its model before any method does work', async () => {
    const good = await save(
      'good',
      [28, 28, 1],
      [tf.layers.flatten(), tf.layers.dense({ units: 10 })],
    );
    const functional = await saveFunctional('functional');
    const lines: string[] = [];
    const run = (methods: string[]) =>
      runShiftBenchmark({
        methods: methods.map((m) => parseMethodSpec(m)),
        limit: 20,
        calibrationSize: 20,
        mcSamples: 2,
        families: ['rotation'],
        angles: [45],
        ood: [],
        trainLimit: 100,
        out: join(dir, 'shift'),
        log: (l) => lines.push(l),
      });
    const before = tf.memory().numTensors;
    await expect(run([`laplace:${good}`, `mc-dropout:${functional}`])).rejects.toThrow(
      /methods: 'mc-dropout:.*functional': the model in .* cannot be used: has no Dropout layer, and dropout can only be inserted into a tf.Sequential/,
    );
    // a branched functional model is a layer graph all-layers Laplace takes; a trainable layer it
    // cannot cover is refused by name
    const depthwise = await save(
      'depthwise',
      [28, 28, 1],
      [
        tf.layers.depthwiseConv2d({ kernelSize: 3 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10 }),
      ],
    );
    await expect(run([`plain:${good}`, `laplace-all:${depthwise}`])).rejects.toThrow(
      /methods: 'laplace-all:.*': the model in .* cannot be used: .*\(DepthwiseConv2D\) has trainable weights/,
    );
    await expect(run([`plain:${good}`, `b=bayes:${good}`])).rejects.toThrow(
      /methods: 'b=bayes:.*': the model in .* cannot be used: has no Bayesian layer/,
    );
    // no method was prepared: the Laplace fit listed first never ran
    expect(lines.some((l) => /preparing|Laplace/.test(l))).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('convert refuses a model with nothing to convert', async () => {
    const flat = await save('flat2', [784], [tf.layers.dense({ units: 10 })]);
    await expect(
      convertFile({ model: join(flat, 'model.json'), out: join(dir, 'c'), layers: 'conv' }),
    ).rejects.toThrow(
      /layers: .* has no Conv2D layer to convert; --layers conv selects only Conv2D layers/,
    );
    await convertFile({ model: join(flat, 'model.json'), out: join(dir, 'bnn') });
    await expect(
      convertFile({ model: join(dir, 'bnn', 'model.json'), out: join(dir, 'bnn2') }),
    ).rejects.toThrow(
      /has no Dense or Conv2D layer to convert \(it is already Bayesian: 1 Bayesian layer\(s\)\)/,
    );
  }, 60_000);

  it('uncertainty refuses its own dataset as OOD, and repeats its Monte Carlo figures', async () => {
    const drop = await save(
      'drop',
      [28, 28, 1],
      [
        tf.layers.flatten(),
        tf.layers.dense({ units: 16, activation: 'relu' }),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 10 }),
      ],
    );
    await expect(
      runUncertaintyReport({ checkpoint: drop, limit: 20, ood: 'mnist', out: join(dir, 'u1') }),
    ).rejects.toThrow(/ood: is the checkpoint's own dataset \(mnist, read from /);
    // the bundled MNIST named by its folder is the same source (resolved folders compared)
    await expect(
      runUncertaintyReport({
        checkpoint: drop,
        limit: 20,
        ood: `mnist:${mnistDataDir()}/.`,
        out: join(dir, 'u1b'),
      }),
    ).rejects.toThrow(/ood: is the checkpoint's own dataset/);
    // a run's own MNIST folder (here links to the bundled files): --ood mnist reads the bundled
    // copy, another folder, so it is allowed (it was refused, the names alone being compared);
    // --ood mnist:<that folder> is the same source and refused
    const own = join(dir, 'own-mnist');
    mkdirSync(own);
    for (const f of readdirSync(mnistDataDir())) symlinkSync(join(mnistDataDir(), f), join(own, f));
    await expect(
      runUncertaintyReport({
        checkpoint: drop,
        dataDir: own,
        limit: 20,
        ood: `mnist:${own}`,
        out: join(dir, 'u1c'),
      }),
    ).rejects.toThrow(/ood: is the checkpoint's own dataset \(mnist, read from .*own-mnist\)/);
    const other = await runUncertaintyReport({
      checkpoint: drop,
      dataDir: own,
      limit: 20,
      mcSamples: 3,
      ood: 'mnist',
      out: join(dir, 'u1d'),
      log: () => undefined,
    });
    expect(other.report.metrics).toBeDefined();
    const run = async (out: string): Promise<unknown> =>
      (
        await runUncertaintyReport({
          checkpoint: drop,
          limit: 20,
          mcSamples: 3,
          ood: 'fashion-mnist',
          out: join(dir, out),
          log: () => undefined,
        })
      ).report.metrics;
    expect(await run('u2')).toEqual(await run('u3'));
  }, 60_000);
});
