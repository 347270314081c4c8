/**
 * Audit 16: the installed binary (`bin/deepprob.js` on `dist/`: run `npx tsc -p
 * tsconfig.build.json` after changing `src/`). `--help` of the program and of every subcommand
 * exits 0 and lists the flags the docs name; errors name the flag (`--epochs`, `--checkpoint`,
 * `--model`); a command line that cannot be parsed (a bad `--epochs`, an unknown command) exits 2
 * (audit 19), a failure of the command itself 1.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { runCli } from '../faults/cli_runner.js';

const root = resolve(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'deepprob.js');
const built = existsSync(join(root, 'dist', 'cli', 'main.js'));
if (!built) console.log('SKIPPED bin tests: dist/ is not built (npx tsc -p tsconfig.build.json)');

function deepprob(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [bin, ...args], {
      cwd: root,
      env: { ...process.env, DEEPPROB_BACKEND: 'cpu' },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => res({ code, out, err }));
  });
}

/** Each subcommand with flags its help must list (those README/docs use). */
const COMMANDS: [string[], string[]][] = [
  [['info'], []],
  [['train'], ['--model', '--epochs', '--ensemble', '--json', '--resume', '--out']],
  [['eval'], ['--checkpoint', '--limit', '--json']],
  [['demo'], ['--epochs', '--limit']],
  [['convert'], ['--model', '--out', '--layers']],
  [['uncertainty'], ['--checkpoint', '--ood', '--json']],
  [['shift'], ['--methods', '--angles', '--severities', '--json']],
  [['ensemble'], ['--members', '--redis', '--redis-timeout', '--json']],
  [['sweep'], ['--grid', '--redis', '--redis-timeout', '--json']],
  [['score'], ['--checkpoint', '--shards', '--redis-timeout', '--json']],
  [['worker'], ['--redis', '--concurrency', '--lock-ms']],
  [
    ['queue', 'status'],
    ['--redis', '--json'],
  ],
  [
    ['queue', 'failed'],
    ['--redis', '--json'],
  ],
  [
    ['queue', 'retry'],
    ['--all', '--redis'],
  ],
];

describe('audit16 deepprob --help of every subcommand', () => {
  it('exits 0 and lists the documented flags', async () => {
    for (const [cmd, flags] of COMMANDS) {
      let text: string;
      if (cmd.length === 1) {
        const r = await runCli([...cmd, '--help']);
        expect(r.code, cmd.join(' ')).toBe(0);
        text = r.stdout;
      } else {
        // (the in-process runner overrides the exit of first-level commands only: the binary's
        // exit code of `queue status --help` is checked below)
        const sub = buildProgram()
          .commands.find((c) => c.name() === cmd[0])
          ?.commands.find((c) => c.name() === cmd[1]);
        text = sub?.helpInformation() ?? '';
      }
      expect(text, cmd.join(' ')).toContain(`Usage: deepprob ${cmd.join(' ')}`);
      for (const f of flags) expect(text, `${cmd.join(' ')} ${f}`).toContain(f);
    }
  });
});

describe.skipIf(!built)('audit16 bin/deepprob.js exit codes', () => {
  it('--help 0; bad flag value, unknown command 2; bad checkpoint, model 1; each naming what is wrong', async () => {
    const [help, qhelp, epochs, ck, model, unknown] = await Promise.all([
      deepprob(['--help']),
      deepprob(['queue', 'status', '--help']),
      deepprob(['train', '--epochs', '0']),
      deepprob(['eval', '--checkpoint', join(root, 'no-such-run-a16')]),
      deepprob(['train', '--model', 'resnet', '--epochs', '1', '--limit', '8', '--quiet']),
      deepprob(['trian']),
    ]);
    expect(help.code).toBe(0);
    for (const c of ['train', 'eval', 'shift', 'ensemble', 'sweep', 'score', 'worker', 'queue'])
      expect(help.out).toContain(c);
    expect(qhelp.code).toBe(0);
    expect(qhelp.out).toContain('Usage: deepprob queue status');
    expect(epochs.code).toBe(2);
    expect(epochs.err).toMatch(/option '--epochs <n>' argument '0' is invalid/);
    expect(ck.code).toBe(1);
    expect(ck.err).toMatch(/^checkpoint: .*\(--checkpoint\)$/m);
    expect(model.code).toBe(1);
    expect(model.err).toMatch(/^model: expected one of lenet5.*\(--model\)$/m);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command 'trian'/);
    for (const r of [epochs, ck, model, unknown]) expect(r.err).not.toMatch(/\n\s+at .*:\d+:\d+/);
  }, 60_000);
});
