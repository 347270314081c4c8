/**
 * Audit 17b: `deepprob convert --quiet`. A DNN with an L2 kernel regularizer makes
 * `transformToBnn` warn that the Bayesian layers drop it; `convert` prints that warning to stderr
 * unless `--quiet` is given (which passes `quiet: true`). Both the in-process program and the
 * installed binary (`bin/deepprob.js` on `dist/`) are checked, with and without the flag, and the
 * converted model is written in both cases.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { convertFile, CONVERT_OPTION_KEYS } from '../../src/app/convert.js';
import { fileIO } from '../../src/utils/file_io.js';
import { runCli } from '../faults/cli_runner.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-audit17b-cli-'));
const root = resolve(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'deepprob.js');
const built = existsSync(join(root, 'dist', 'cli', 'main.js'));
const WARNING = /deepprob: warning: transformToBnn dropped the regularizers/;

let dnn: string;

beforeAll(async () => {
  const d = tmp();
  const m = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [4],
        units: 3,
        name: 'reg',
        kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }),
      }),
    ],
  });
  await m.save(fileIO(d));
  m.dispose();
  dnn = join(d, 'model.json');
});

/** Run the in-process program, capturing `console.warn` too (the conversion's warning). */
async function convertInProcess(extra: string[]): Promise<{ code: number; warned: string }> {
  const warned: string[] = [];
  const spy = vi
    .spyOn(console, 'warn')
    .mockImplementation((...a: unknown[]) => void warned.push(a.join(' ')));
  try {
    const out = tmp();
    const r = await runCli(['convert', '--model', dnn, '--out', out, ...extra]);
    expect(existsSync(join(out, 'model.json')), r.stderr).toBe(true);
    return { code: r.code, warned: warned.join('\n') + r.stderr };
  } finally {
    spy.mockRestore();
  }
}

describe('audit17b convert --quiet', () => {
  it('without --quiet the dropped-regularizer warning is printed; with it, nothing', async () => {
    const loud = await convertInProcess([]);
    expect(loud.code).toBe(0);
    expect(loud.warned).toMatch(WARNING);
    expect(loud.warned).toMatch(/'reg'.*kernelRegularizer/);
    const quiet = await convertInProcess(['--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.warned).not.toMatch(WARNING);
  }, 30_000);

  it('convertFile takes quiet (a known option key) and refuses a typo', async () => {
    expect(CONVERT_OPTION_KEYS).toContain('quiet');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const r = await convertFile({ model: dnn, out: tmp(), quiet: true });
      expect(r.converted).toEqual(['reg']);
      expect(warn).not.toHaveBeenCalled();
      await convertFile({ model: dnn, out: tmp(), quiet: false });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(WARNING);
      await expect(
        convertFile({ model: dnn, out: tmp(), quite: true } as unknown as {
          model: string;
          out: string;
        }),
      ).rejects.toThrow(/quite/);
    } finally {
      warn.mockRestore();
    }
  }, 30_000);

  it('--help lists --quiet', async () => {
    const r = await runCli(['convert', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--quiet/);
  });

  it.skipIf(!built)(
    'the binary: stderr has the warning without --quiet, not with it',
    async () => {
      const run = (extra: string[]): Promise<{ code: number | null; err: string }> =>
        new Promise((res) => {
          const p = spawn(
            process.execPath,
            [bin, 'convert', '--model', dnn, '--out', tmp(), ...extra],
            {
              cwd: root,
              env: { ...process.env, DEEPPROB_BACKEND: 'cpu' },
            },
          );
          let err = '';
          p.stderr.on('data', (d: Buffer) => (err += d.toString()));
          p.on('exit', (code) => res({ code, err }));
        });
      const [loud, quiet] = await Promise.all([run([]), run(['--quiet'])]);
      expect(loud.code, loud.err).toBe(0);
      expect(loud.err).toMatch(WARNING);
      expect(quiet.code, quiet.err).toBe(0);
      expect(quiet.err).not.toMatch(WARNING);
    },
    60_000,
  );
});
